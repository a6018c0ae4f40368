"""Choose the default SMT corpus by measurement (writes python/adcorrect/smt/default_corpus.txt).

    python bench/select_default.py [--limit 2] [--fraction 0.25] [--runs 3] [--work DIR]

Run 1 solves the whole suite with every solver at the default time limit.  Runs 2..n
solve again only the (item, solver) pairs that verified the item within
fraction * limit in every earlier run.  An item is in the default corpus when some
solver verified it (its expected status, model re-checked, nothing flagged) within
fraction * limit in every run; the rest is the challenge corpus.  An item whose
expected status is unknown is never verified, so never default.

``--reuse`` takes the results files of earlier runs (results JSON of smt solve-suite or
of this script) instead of measuring; they must have solved the files under --work/all.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections import defaultdict
from pathlib import Path

from adcorrect.smt import suite
from adcorrect.smt.runners import SOLVERS
from adcorrect.smt.solving import solve


def _verified(r: dict) -> bool:
    return r["verdict"] in ("sat", "unsat") and r["verdict"] == r["expected"] and not r["flag"]


def qualifying(results: list[dict], budget: float) -> set[tuple[str, str]]:
    """(file, solver) pairs verified within budget seconds."""
    return {(r["file"], r["solver"]) for r in results if _verified(r) and r["seconds"] <= budget}


def measure(files: list[str], limit: float, budget: float, runs: int,
            jobs: int) -> list[list[dict]]:
    out = []
    pairs: set[tuple[str, str]] | None = None
    for i in range(runs):
        if pairs is None:
            results = [r.to_json() for r in solve(files, SOLVERS, limit, jobs).results]
        else:
            results = []
            by_solver: dict[str, list[str]] = defaultdict(list)
            for f, s in sorted(pairs):
                by_solver[s].append(f)
            for s, fs in sorted(by_solver.items()):
                results += [r.to_json() for r in solve(fs, [s], limit, jobs).results]
        q = qualifying(results, budget)
        pairs = q if pairs is None else pairs & q
        print(f"run {i + 1}: {len(results)} jobs, {len({f for f, _ in pairs})} items still "
              "qualify", flush=True)
        out.append(results)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=float, default=2.0, help="the default solver time limit")
    ap.add_argument("--fraction", type=float, default=0.25)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--work", default="bench/results/select-default")
    ap.add_argument("--reuse", nargs="*", help="results files of earlier runs")
    ap.add_argument("--out", default=str(suite.DEFAULT_LIST))
    args = ap.parse_args(argv)
    root = Path(args.work) / "all"
    if not args.reuse:
        suite.write(root)
    files = sorted(str(p) for p in root.rglob("*.smt2"))
    budget = args.limit * args.fraction
    if args.reuse:
        runs = [json.loads(Path(p).read_text())["results"] for p in args.reuse]
    else:
        runs = measure(files, args.limit, budget, args.runs, args.jobs)
        for i, results in enumerate(runs):
            (Path(args.work) / f"run{i + 1}.json").write_text(
                json.dumps({"results": results}, indent=1))
    pairs = qualifying(runs[0], budget)
    for results in runs[1:]:
        pairs &= qualifying(results, budget)
    chosen = {Path(f).resolve().relative_to(root.resolve()).with_suffix("").as_posix()
              for f, _ in pairs}
    every = {suite.key(i) for i in suite.items()}
    if not chosen <= every:
        print(f"the runs solved files that are not suite items, e.g. {min(chosen - every)}",
              file=sys.stderr)
        return 2
    header = [
        "# The default SMT corpus (make solve); every other suite item is in make challenge.",
        (f"# Rule: one solver verified the item within {args.fraction:g} x {args.limit:g} s in "
        f"each of {len(runs)} runs (run 1: the whole suite, every solver; later runs: the "
        "pairs that qualified so far)."),
        (f"# {len(chosen)} of {len(every)} items; measured on {platform.node()} "
        f"({platform.machine()}, 2 cores shared with other jobs) by bench/select_default.py."),
    ]
    Path(args.out).write_text("\n".join(header + sorted(chosen)) + "\n", encoding="utf-8")
    print(f"{len(chosen)} of {len(every)} items in the default corpus; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
