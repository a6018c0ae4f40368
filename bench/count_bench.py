"""Benchmark of the exhaustive counter (`make bench`): vectorised vs the naive loop.

For every row, in one run on one core:

- *plain*: `count(..., factor=False)`, the vectorised exact enumeration visiting
  every point of M^W;
- *factored*: `count(...)` as the CLI runs it (parameters the masks do not depend
  on, and broadcast axes, are counted by multiplication);
- *naive*: a plain Python loop over `itertools.product` with Fractions through
  engine.forward/backward/ns, timed on the first points and extrapolated per point.

The ratio is plain / naive (the conservative one).  Targets: ratio >= 1000, and
>= 10^7 points/s for the NS count of the 1-2-1 relu bias network over fp(2,2).
Results also go to bench/results/count_bench.json.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from adcorrect.core.tables import render
from adcorrect.exact.counter import count, count_naive
from adcorrect.exact.vectorised import choose_dtype
from adcorrect.nets.families import example_specs, mlp_spec, network, tight_spec
from adcorrect.nets.spec import load_network
from adcorrect.numbers.formats import parse_format

ROOT = Path(__file__).resolve().parent.parent

NAIVE_SECONDS = 1.0  # time budget of the naive loop per row (it stops after a batch)
NAIVE_BATCH = 500

ROWS = [  # (network, format)
    ("relu-1-2-1", "fp(2,2)"),
    ("relu-1-2-1", "int(3,1)"),
    ("relu-1-2-1", "e2m1"),
    ("leaky-1-2-1", "fp(2,2)"),
    ("hardtanh-2-2-1", "list(-1,0,1/2,1)"),
    ("relu-1-2-2-1", "list(-1,0,1)"),
    ("tight-hardtanh-3", "fp(3,3)"),
    ("relu-1-2-1", "list(-1,-1/3,0,1/3,1)"),  # not dyadic: general integer denominators
    ("tight-relu-1-v", "e5m2"),
    # wide range: products overflow int64, so Python ints in object arrays
    ("relu-1-1-1-1", "list(-65536,-1,-1/65536,0,1/65536,1,65536)"),
]


def load(name: str):
    path = ROOT / "examples" / f"{name}.json"
    if path.exists():
        return load_network(path)
    specs = {**example_specs(), "relu-1-1-1-1": mlp_spec([1, 1, 1, 1], "relu"),
             "tight-relu-1-v": tight_spec("relu", 1, output_params=True)}
    return network(specs[name])


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def naive_rate(net, fmt) -> tuple[float, int, dict]:
    """Points per second of the naive loop, measured on the first points."""
    done, spent, last = 0, 0.0, {}
    total = fmt.size**net.W
    while spent < NAIVE_SECONDS and done < total:
        n = min(total, done + NAIVE_BATCH)
        last, dt = timed(lambda n=n: count_naive(net, fmt, limit=n))
        done, spent = n, dt
    return done / spent, done, last


def main() -> int:
    results = []
    for name, fmt_name in ROWS:
        net, fmt = load(name), parse_format(fmt_name)
        plain, t_plain = timed(lambda net=net, fmt=fmt: count(net, fmt, factor=False))
        fact, t_fact = timed(lambda net=net, fmt=fmt: count(net, fmt))
        assert (plain["kink"], plain["ns"]) == (fact["kink"], fact["ns"]), (name, fmt_name)
        rate, sampled, naive = naive_rate(net, fmt)
        if sampled == plain["total"]:
            assert (naive["kink"], naive["ns"]) == (plain["kink"], plain["ns"]), (name, fmt_name)
        total = plain["total"]
        dtype = np.dtype(choose_dtype(net, fmt.values(), "pytorch")).name
        results.append({
            "network": name, "dtype": dtype, "format": fmt_name, "points": total, "ns": plain["ns"],
            "plain_seconds": t_plain, "plain_pts_per_s": total / t_plain,
            "factored_pts_per_s": total / t_fact, "naive_pts_per_s": rate,
            "naive_points_timed": sampled, "ratio": total / t_plain / rate,
        })
    rows = [(r["network"], r["format"], r["dtype"], r["points"], f"{r['plain_pts_per_s']:.3g}",
             f"{r['factored_pts_per_s']:.3g}", f"{r['naive_pts_per_s']:.3g}",
             f"{r['ratio']:,.0f}x") for r in results]
    machine = (f"{platform.platform()} / {platform.machine()} / "
               f"{platform.processor() or 'cpu?'} / os.cpu_count() = {os.cpu_count()} / "
               f"Python {platform.python_version()} / numpy {np.__version__}")
    print(f"machine: {machine}")
    print("one process, one core; ratio = vectorised plain enumeration / naive loop, same run\n")
    print(render(["network", "format", "dtype", "points", "pts/s vectorised", "pts/s factored",
                  "pts/s naive", "ratio"], rows))
    target = results[0]
    worst = min(r["ratio"] for r in results)
    ok_rate = target["plain_pts_per_s"] >= 1e7
    ok_ratio = worst >= 1000
    print(f"\ntarget: NS count of relu-1-2-1 over fp(2,2) ({target['points']} points): "
          f"{target['plain_pts_per_s']:.3g} points/s plain enumeration "
          f"({target['plain_seconds']:.3f} s), {target['factored_pts_per_s']:.3g} factored; "
          f"needs >= 1e7: {'PASS' if ok_rate else 'FAIL'}")
    print(f"target: ratio vectorised/naive >= 1000 on every row: worst {worst:,.0f}x: "
          f"{'PASS' if ok_ratio else 'FAIL'}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "count_bench.json").write_text(json.dumps(
        {"machine": machine, "rows": results, "rate_ok": ok_rate, "ratio_ok": ok_ratio},
        indent=1) + "\n")
    return 0 if ok_rate and ok_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
