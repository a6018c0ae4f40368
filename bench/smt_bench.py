"""Solver scaling table: solve time of the exact queries against network size and format.

Usage: python bench/smt_bench.py [--widths 1,2,...,8] [--depths 1,2,3]
       [--formats fp(3,3),fp16,bf16]
       [--queries ns-implies-ndf,ndf-implies-ns,ndf-implies-ns-sides,ad-correct]
       [--solvers z3,cvc5] [--timeout 60] [--jobs 2] [--out bench/results/smt_bench.json]

Networks are relu bias networks 1-n-...-n-1 with `depth` hidden layers of width n
(the activation on every layer, the output included, as in the suite).  A cell is
the solver's own time in seconds with its verdict; "t.o." after the timeout; ">"
when a smaller width of the same series (query, format, depth, solver) already
timed out, so the larger one is not run.  Verdicts are checked like `adcorrect smt
solve` (expected status, model re-check); a flagged cell is marked "!" and makes
the exit status 1.  bitwuzla decides pure FP/BV only, so it does not apply to
these real-arithmetic families.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from adcorrect.core.progress import Progress
from adcorrect.core.tables import render
from adcorrect.numbers.formats import parse_format
from adcorrect.smt import suite
from adcorrect.smt.generator import Query, generate
from adcorrect.smt.runners import run_file

DECIDED = ("sat", "unsat")


def arch(width: int, depth: int) -> str:
    return "-".join(["1"] + [str(width)] * depth + ["1"])


def run_series(tmp: Path, query: str, fmt: str, depth: int, solver: str, widths: list[int],
               timeout: float, activation: str, tick) -> list[dict]:
    """One (query, format, depth, solver) series, by increasing width, stopping at the first
    width the solver does not decide."""
    out = []
    stopped = False
    for width in widths:
        net = suite.dense(arch(width, depth), activation)
        rec = {"query": query, "format": fmt, "depth": depth, "width": width, "net": net.name,
               "W": net.W, "solver": solver}
        if stopped:
            rec.update(verdict="not run", expected="", seconds=None, flag="")
        else:
            path = tmp / f"{query}-{suite.path_label(fmt)}-{net.name}-{solver}.smt2"
            path.write_text(generate(Query(net, parse_format(fmt), query)), encoding="utf-8")
            r = run_file(path, solver, timeout)
            rec.update(verdict=r.verdict, expected=r.expected, seconds=round(r.seconds, 3),
                       flag=r.flag)
            stopped = r.verdict not in DECIDED
        out.append(rec)
        tick()
    return out


def cell(rec: dict) -> str:
    v = rec["verdict"]
    if v == "not run":
        return ">"
    if v in ("timeout", "unknown", "error", "skipped"):
        return {"timeout": "t.o.", "skipped": "-"}.get(v, v)
    return f"{rec['seconds']:.2f} {v}" + (" !" if rec["flag"] else "")


def summaries(records: list[dict], solvers: list[str], queries: list[str]) -> list[str]:
    """The largest network z3 decides over fp16 per query, and the fastest solver per
    query (most instances decided, then least total time on the instances all decide)."""
    lines = []
    for q in queries:
        z3_fp16 = [r for r in records if r["query"] == q and r["solver"] == "z3"
                   and r["format"] == "fp16" and r["verdict"] in DECIDED]
        if z3_fp16:
            best = max(z3_fp16, key=lambda r: (r["W"], r["depth"]))
            lines.append(f"{q}: largest network z3 decides over fp16: {best['net']} "
                         f"(W = {best['W']}, {best['seconds']:.2f} s)")
        else:
            lines.append(f"{q}: z3 decides no fp16 instance")
        keys = {(r["format"], r["net"]) for r in records if r["query"] == q}
        common = [k for k in keys if all(
            any(r["query"] == q and (r["format"], r["net"]) == k and r["solver"] == s
                and r["verdict"] in DECIDED for r in records) for s in solvers)]
        stats = []
        for s in solvers:
            mine = [r for r in records if r["query"] == q and r["solver"] == s
                    and r["verdict"] in DECIDED]
            shared = [r["seconds"] for r in mine if (r["format"], r["net"]) in common]
            stats.append((len(mine), -sum(shared), s, statistics.median(shared)
                          if shared else None))
        stats.sort(reverse=True)
        n, _, s, med = stats[0]
        others = ", ".join(f"{t[2]} {t[0]}" for t in stats[1:])
        lines.append(f"{q}: fastest solver {s}: decides {n} ({others}); median "
                     f"{'-' if med is None else f'{med:.2f} s'} on the {len(common)} "
                     "instances every solver decides")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--widths", default="1,2,3,4,5,6,7,8")
    p.add_argument("--depths", default="1,2,3")
    p.add_argument("--formats", default="fp(3,3),fp16,bf16")
    p.add_argument("--queries",
                   default="ns-implies-ndf,ndf-implies-ns,ndf-implies-ns-sides,ad-correct")
    p.add_argument("--solvers", default="z3,cvc5")
    p.add_argument("--activation", default="relu")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", default="bench/results/smt_bench.json")
    args = p.parse_args(argv)
    widths = sorted(int(w) for w in args.widths.split(","))
    depths = [int(d) for d in args.depths.split(",")]
    fmts = re.split(r",(?![^(]*\))", args.formats)  # commas outside parentheses
    queries = args.queries.split(",")
    solvers = args.solvers.split(",")
    series = [(q, f, d, s) for q in queries for f in fmts for d in depths for s in solvers]
    bar = Progress(len(series) * len(widths), "smt bench", unit="cells", force=True)
    done = [0]

    def tick() -> None:
        done[0] += 1
        bar.update(done[0])

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_series, Path(tmp), q, f, d, s, widths, args.timeout,
                               args.activation, tick) for q, f, d, s in series]
        records = [r for fut in futures for r in fut.result()]
    bar.close()
    wall = time.perf_counter() - t0
    rows = []
    for q in queries:
        for f in fmts:
            for d in depths:
                for width in widths:
                    cells = {r["solver"]: r for r in records if (r["query"], r["format"],
                             r["depth"], r["width"]) == (q, f, d, width)}
                    if all(c["verdict"] == "not run" for c in cells.values()):
                        continue
                    first = next(iter(cells.values()))
                    rows.append((q, f, arch(width, d), first["W"],
                                 *(cell(cells[s]) for s in solvers)))
    print(render(["query", "format", "net", "W", *solvers], rows))
    print()
    for line in summaries(records, solvers, queries):
        print(line)
    flagged = sum(bool(r["flag"]) for r in records)
    ran = sum(r["verdict"] != "not run" for r in records)
    print(f"\n{ran} runs in {wall:.0f} s wall ({args.jobs} jobs, timeout {args.timeout:g} s); "
          f"{flagged} flagged")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"timeout": args.timeout, "jobs": args.jobs, "wall": wall,
                               "results": records}, indent=1) + "\n")
    print(f"results in {out}")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
