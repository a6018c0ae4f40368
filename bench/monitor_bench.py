"""Benchmark of the training Monitor (`make bench`): the training loop's time with a
Monitor auditing every step / without one, on the same run.

Model: the digits MLP 64-64-10 (scikit-learn's bundled digits, pixel/16), batch 32, SGD,
cross-entropy, STEPS steps, one torch thread.  Three loops in this process: no monitor
(the baseline), ``Monitor(executor="local")`` (audits in the training process) and
``Monitor(executor="dask")`` (a LocalCluster worker process audits while training goes
on; the loop only snapshots and queues).  Reported: the training process's CPU time
(``time.process_time``) and wall time of the loop, as ratios to the baseline, and for
Dask the wall time until every audit is in.  The monitor's import and the worker's start
are outside the timed loop.  The machine's 1-minute load average (``os.getloadavg``) is
recorded before each loop next to the ratios: the cores are shared, and a ratio measured
at a load above the core count says less.  Results also go to
bench/results/monitor_bench.json.
"""

from __future__ import annotations

import os
import time
from typing import Any

import torch
from adcorrect.audit.monitor import Monitor
from adcorrect.core.tables import render
from sklearn.datasets import load_digits
from timing import save
from torch import nn

STEPS = 300
B = 32


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    X, Y = load_digits(return_X_y=True)
    return torch.tensor(X / 16.0, dtype=torch.float32), torch.tensor(Y)


def _loop(mode: str | None, X: torch.Tensor, Y: torch.Tensor) -> dict[str, float]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    mon = Monitor(model, nn.CrossEntropyLoss(), progress=False, executor=mode) \
        if mode else None
    if mon is not None:  # import (and start the worker) before timing
        mon.step(X[:B], Y[:B])
        mon.flush().clear()  # the warm-up step is not part of the run
        mon.steps = 0
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    for s in range(STEPS):
        i = (s * B) % (len(X) - B)
        x, y = X[i:i + B], Y[i:i + B]
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        if mon is not None:
            mon.step(x, y)
        opt.step()
    out = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "load": load}
    if mon is not None:
        mon.close()
        out["until_audited"] = time.perf_counter() - t0
        out["audited"] = len(mon.records)
        out["errors"] = mon.stats()["error_steps"]
    return out


def main() -> int:
    torch.set_num_threads(1)
    X, Y = _data()
    base = _loop(None, X, Y)
    rows: list[dict[str, Any]] = []
    for mode in ("local", "dask"):
        r = _loop(mode, X, Y)
        rows.append({"executor": mode, "steps": STEPS, "batch": B, **r,
                     "cpu_ratio": r["cpu"] / base["cpu"], "wall_ratio": r["wall"] / base["wall"],
                     "base_cpu": base["cpu"], "base_wall": base["wall"],
                     "base_load": base["load"]})
    print(f"Monitor overhead, digits MLP 64-64-10, batch {B}, {STEPS} steps, every step "
          f"(baseline loop: {base['cpu']:.3f} s CPU, {base['wall']:.3f} s wall, load "
          f"{base['load']:.2f} on {os.cpu_count()} cores)")
    print(render(["executor", "loop CPU s", "CPU ratio", "loop wall s", "wall ratio",
                  "until audited s", "audited", "errors", "load"],
                 [(r["executor"], f"{r['cpu']:.3f}", f"{r['cpu_ratio']:.2f}",
                   f"{r['wall']:.3f}", f"{r['wall_ratio']:.2f}",
                   f"{r['until_audited']:.2f}", r["audited"], r["errors"], f"{r['load']:.2f}")
                  for r in rows]))
    save("monitor_bench", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
