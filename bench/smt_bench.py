"""Scaling table for the SMT queries: solve time against network width and format.

Usage: python bench/smt_bench.py [--widths 1,2,3,4] [--formats fp(3,3),fp16,bf16,fp32]
       [--queries ad-correct,ns-implies-ndf,float-kink,float-bifurcation]
       [--solvers z3,cvc5,bitwuzla] [--timeout 30] [--out bench/results/smt_bench.json]

Networks are relu bias networks 1-n-1 (activation on every layer, as in the
suite).  Each cell is the solver's own time (seconds) with its verdict; a cell
is "t.o." after the timeout and "-" when the solver does not apply.  The
verdicts are checked like `adcorrect smt solve` (expected status, model
re-check); a flagged cell is marked with "!".
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

from adcorrect.formats import parse_format
from adcorrect.smt import suite
from adcorrect.smt.generator import Query, family_semantics, generate
from adcorrect.smt.runners import run_file
from adcorrect.tables import render


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--widths", default="1,2,3,4")
    p.add_argument("--formats", default="fp(3,3),fp16,bf16,fp32")
    p.add_argument("--queries", default="ad-correct,ns-implies-ndf,float-kink,float-bifurcation")
    p.add_argument("--solvers", default="z3,cvc5,bitwuzla")
    p.add_argument("--activation", default="relu")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--out", default="bench/results/smt_bench.json")
    args = p.parse_args(argv)
    widths = [int(w) for w in args.widths.split(",")]
    fmts = re.split(r",(?![^(]*\))", args.formats)  # commas outside parentheses
    queries = args.queries.split(",")
    solvers = args.solvers.split(",")
    rows, records = [], []
    flagged = 0
    with tempfile.TemporaryDirectory() as tmp:
        for q in queries:
            for f in fmts:
                fmt = parse_format(f)
                if family_semantics(q) == "ieee" and fmt.kind != "ieee":
                    continue
                for width in widths:
                    net = suite.dense(f"1-{width}-1", args.activation)
                    path = Path(tmp) / f"{q}-{suite.path_label(f)}-{width}.smt2"
                    path.write_text(generate(Query(net, fmt, q)), encoding="utf-8")
                    cells = []
                    for s in solvers:
                        r = run_file(path, s, args.timeout)
                        records.append({"query": q, "format": f, "width": width, "W": net.W,
                                        "solver": s, "verdict": r.verdict,
                                        "expected": r.expected, "seconds": r.seconds,
                                        "flag": r.flag})
                        flagged += bool(r.flag)
                        if r.verdict == "skipped":
                            cells.append("-")
                        elif r.verdict in ("timeout", "unknown"):
                            cells.append("t.o." if r.verdict == "timeout" else "unknown")
                        else:
                            cells.append(f"{r.seconds:.2f} {r.verdict}" + (" !" if r.flag
                                                                           else ""))
                    rows.append((q, f, f"1-{width}-1", net.W, *cells))
                    print(render(["query", "format", "net", "W", *solvers], rows[-1:])
                          .splitlines()[-1], file=sys.stderr, flush=True)
    print(render(["query", "format", "net", "W", *solvers], rows))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"timeout": args.timeout, "results": records}, indent=1) + "\n")
    print(f"\nresults in {out}; {flagged} flagged")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
