"""What the audit benchmarks share: alternating CPU-time measurements of torch's step
and the audit (``time.process_time``: on a shared machine, waiting for a core counts for
neither side), and writing results to bench/results/.  Importing it limits numpy's BLAS
to one thread, as torch is limited to one: both sides then run on one core, and no idle
BLAS thread spins on the CPU time of the other side."""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

threadpool_limits(1)

ROOT = Path(__file__).resolve().parent.parent


def alternate(torch_step: Callable[[], Any], audit: Callable[[], Any], repeat: int,
              slow: float = math.inf) -> tuple[float, float, Any]:
    """Median CPU seconds of ``torch_step`` and of ``audit`` over ``repeat`` alternating
    runs (stopping after an audit slower than ``slow``), and the last audit's result."""
    t_torch, t_audit, res = [], [], None
    for _ in range(repeat):
        t0 = time.process_time()
        torch_step()
        t1 = time.process_time()
        res = audit()
        t2 = time.process_time()
        t_torch.append(t1 - t0)
        t_audit.append(t2 - t1)
        if t2 - t1 > slow:
            break
    return statistics.median(t_torch), statistics.median(t_audit), res


def save(name: str, rows: list[dict[str, Any]]) -> None:
    """The rows as bench/results/NAME.json."""
    out = ROOT / "bench/results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1) + "\n")
