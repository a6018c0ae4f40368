"""Benchmark of the oracle (`make bench`): `count --oracle` throughput in both modes, and
`check` on batched networks with W <= 100 and up to 20 kinked copies.

Rows, each run in this process:

- *count*: relu-1-2-1 over int(3,1) (2,097,152 points) with the fast oracle and with
  the independent one; points/s over all of M^W (targets 10^5 and 10^4).  The
  baseline in the same run is the oracle called on every kinked point without the
  local-data memo, timed on the first points and extrapolated (the ratio).
- *check*: relu MLPs with two inputs, batch B, parameters and inputs dyadic and
  pseudo-random (fixed seed), inputs solved so that every example has one first-layer
  neuron exactly on its kink; the wall time of the whole `check` computation (forward,
  AD, NS, oracle) per mode (target: under 1 s in the fast mode for W <= 100 and
  20 kinked copies).
Results also go to bench/results/oracle_bench.json.
"""

from __future__ import annotations

import json
import random
import sys
import time
from fractions import Fraction as Q
from pathlib import Path
from typing import Any

from adcorrect.core.tables import render
from adcorrect.exact.counter import count
from adcorrect.exact.engine import backward, forward, kink_neurons, ns
from adcorrect.exact.oracle import decide
from adcorrect.nets.batch import Batch, batched
from adcorrect.nets.families import mlp_spec, network
from adcorrect.nets.ir import Network
from adcorrect.nets.spec import load_network
from adcorrect.numbers.formats import parse_format

ROOT = Path(__file__).resolve().parent.parent
NAIVE_SECONDS = 3.0


def count_rows() -> list[dict[str, Any]]:
    net = load_network(ROOT / "examples/relu-1-2-1.json")
    fmt = parse_format("int(3,1)")
    rows = []
    for mode, target in (("fast", 1e5), ("independent", 1e4)):
        t0 = time.perf_counter()
        res = count(net, fmt, oracle=mode)
        dt = time.perf_counter() - t0
        # baseline: the oracle at every kinked point (no memo), on the first points
        values = fmt.values()
        t1, done, kinked = time.perf_counter(), 0, 0
        import itertools

        for w in itertools.product(values, repeat=net.W):
            done += 1
            fw = forward(net, w)
            if kink_neurons(net, fw):
                kinked += 1
                decide(net, w, mode=mode, budget=None)
            if time.perf_counter() - t1 > NAIVE_SECONDS:
                break
        naive_rate = done / (time.perf_counter() - t1)
        rate = res["total"] / dt
        rows.append({"row": f"count --oracle {mode}", "network": net.name,
                     "format": fmt.name, "points": res["total"], "seconds": round(dt, 2),
                     "points_per_s": round(rate), "target": target, "ok": rate >= target,
                     "baseline_points_per_s": round(naive_rate),
                     "ratio": round(rate / naive_rate, 1), "oracle_calls": res["oracle_calls"],
                     "ndf": res["ndf_oracle"], "inc": res["inc_oracle"],
                     "undecided": res["undecided"]})
    return rows


def kinked_batch_problem(hidden: tuple[int, ...], B: int, seed: int, pairs: bool = False
                         ) -> tuple[Network, tuple[Q, ...]]:
    """A relu MLP 2-hidden-1 over a batch of B examples, each with one first-layer neuron
    exactly on its kink (inputs solved for it), MSE loss; dyadic values.  With ``pairs``
    every input appears twice, with targets f(x) + d and f(x) - d: the kinks of a pair
    cancel (L = 2 (f - f(x))^2 + const near w), so L is differentiable there."""
    rng = random.Random(seed)
    net = network(mlp_spec([2, *hidden, 1], "relu", name=f"relu-2-{'-'.join(map(str, hidden))}-1"))

    def dy() -> Q:
        return Q(rng.choice([v for v in range(-8, 9) if v]), 4)

    w = [dy() for _ in range(net.W)]
    first = [n for n in net.neurons if n.layer == 0]
    xs, ys = [], []
    for i in range(B // 2 if pairs else B):
        n = first[i % len(first)]
        a0, a1 = (w[s[1]] for s in n.weights)
        b = w[n.bias[1]]  # type: ignore[index]
        x0 = Q(rng.randint(-8, 8), 8)
        x = (x0, -(b + a0 * x0) / a1)
        if pairs:
            from dataclasses import replace

            from adcorrect.exact.engine import forward as fwd

            f = fwd(replace(net, input=x), w).out
            d = Q(rng.randint(1, 4), 4)
            xs += [x, x]
            ys += [(f + d,), (f - d,)]
        else:
            xs.append(x)
            ys.append((Q(rng.randint(-4, 4), 4),))
    return batched(net, Batch(tuple(xs), tuple(ys)), "mse"), tuple(w)


def check_rows() -> list[dict[str, Any]]:
    rows = []
    for hidden, B, pairs in (((8, 6), 20, False), ((8, 6), 10, False), ((6, 6), 20, False),
                             ((16,), 20, False), ((8, 6), 20, True), ((16,), 20, True)):
        bn, w = kinked_batch_problem(hidden, B, seed=B + sum(hidden), pairs=pairs)
        for mode in ("fast", "independent"):
            t0 = time.perf_counter()
            fw = forward(bn, w)
            bw = backward(bn, w, fw)
            is_ns = ns(bn, fw, bw)
            v = decide(bn, w, mode=mode)
            dt = time.perf_counter() - t0
            rows.append({"row": f"check --oracle {mode}",
                         "network": bn.name + (" (pairs)" if pairs else ""), "W": bn.W,
                         "kinked": len(kink_neurons(bn, fw)), "ns": is_ns,
                         "differentiable": v.differentiable, "certificate": v.explained,
                         "seconds": round(dt, 3),
                         "ok": dt < 1.0 if mode == "fast" else None})
    return rows


def main() -> int:
    rows = count_rows()
    print(render(["row", "points", "s", "points/s", "target", "baseline pts/s", "ratio",
                  "oracle calls", "ok"],
                 [(r["row"], r["points"], r["seconds"], r["points_per_s"], int(r["target"]),
                   r["baseline_points_per_s"], r["ratio"], r["oracle_calls"], r["ok"])
                  for r in rows]))
    print()
    crow = check_rows()
    print(render(["row", "network", "W", "kinked copies", "NS", "verdict", "s", "ok"],
                 [(r["row"], r["network"], r["W"], r["kinked"], r["ns"], r["certificate"],
                   r["seconds"], "" if r["ok"] is None else r["ok"]) for r in crow]))
    out = ROOT / "bench/results/oracle_bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"count": rows, "check": crow}, indent=1) + "\n")
    return 0 if all(r["ok"] is not False for r in rows + crow) else 1


if __name__ == "__main__":
    sys.exit(main())
