"""Benchmark of the AllSAT ndf count (`make bench`): count-ndf-sides vs count-ndf.

For bias networks `smt count --quantity ndf` enumerates the models of
count-ndf-sides (some choice of one-sided slopes changes a bias derivative; no
direction v) instead of count-ndf (phi_w(v) <> sum_i v_i phi_w(e_i) with a free real
v).  Both count the same points; this prints the time of each and the ratio
count-ndf / count-ndf-sides.  Results also go to bench/results/allsat_bench.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from adcorrect.core.tables import render
from adcorrect.nets.spec import load_network
from adcorrect.numbers.formats import parse_format
from adcorrect.smt import allsat

ROOT = Path(__file__).resolve().parent.parent
ROWS = [("relu-1-2-1", "list(-1,0,1)"), ("relu-1-1", "e2m1"), ("tight-relu-2-v", "list(-1,0,1)")]


def timed_count(net, fmt, family: str) -> tuple[int, float]:
    """The number of models of the family's file, and the seconds z3 took."""
    t0 = time.perf_counter()
    solver, meta, consts = allsat._load(net, fmt, family, "pytorch", 600.0)
    n = sum(1 for _ in allsat.models(solver, consts, meta, fmt, 10**6))
    return n, time.perf_counter() - t0


def main() -> None:
    rows, out = [], []
    for name, f in ROWS:
        net, fmt = load_network(ROOT / "examples" / f"{name}.json"), parse_format(f)
        n_phi, t_phi = timed_count(net, fmt, "count-ndf")
        n_sides, t_sides = timed_count(net, fmt, "count-ndf-sides")
        assert n_phi == n_sides, (name, f, n_phi, n_sides)
        ratio = t_phi / t_sides if t_sides else float("inf")
        rows.append((name, f, n_phi, f"{t_phi:.2f}", f"{t_sides:.2f}", f"{ratio:.1f}"))
        out.append({"network": name, "format": f, "ndf": n_phi, "count_ndf_s": t_phi,
                    "count_ndf_sides_s": t_sides, "ratio": ratio})
    print(render(["network", "format", "ndf", "count-ndf s", "count-ndf-sides s", "ratio"], rows))
    res = ROOT / "bench/results"
    res.mkdir(parents=True, exist_ok=True)
    (res / "allsat_bench.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
