"""Benchmark of `adcorrect audit` (`make bench`): audit time / torch forward+backward time on
the same batch, measured in one run.

Models (fixed seed): the MLP 64-256-256-10 and a small CNN (two 3x3 conv layers with 8
channels, BatchNorm in eval mode, a residual add, a linear head) on 8x8 one-channel
images; batch 256; cross-entropy.  Inputs are k/16 for k in 0..16 (the scale of
scikit-learn's digits).  Rows: fp32 (the target: ratio <= 5) and e4m3fn (parameters
rounded to the format, float32 computation; reported separately).

Both sides run in this process with one torch thread each and are timed in CPU time of
the process (``time.process_time``: on a shared machine, time spent waiting for a core
does not count for either side); the two timings alternate, ``REPEAT`` times, and the
ratio is that of the medians.  The audit is the per-step cost
of the training monitor: both audits (exact and execution) with the model's plan built
once; the one-time import is reported separately.
Results also go to bench/results/audit_bench.json.
"""

from __future__ import annotations

import sys
from typing import Any

import torch
from adcorrect.audit.dtypes import parse_dtype
from adcorrect.audit.run import Auditor, prepared
from adcorrect.core.tables import render
from timing import alternate, save
from torch import nn

REPEAT = 25
B = 256


class SmallCNN(nn.Module):
    """conv(1->8) + BatchNorm + relu, conv(8->8) + residual + relu, linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn(self.c1(x)))
        h = torch.relu(self.c2(h) + h)
        return self.fc(h.flatten(1))


def models() -> list[tuple[str, nn.Module, torch.Tensor]]:
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                        nn.Linear(256, 10))
    cnn = SmallCNN()
    with torch.no_grad():  # non-trivial running statistics, then eval mode
        cnn.bn.running_mean.uniform_(-0.5, 0.5)
        cnn.bn.running_var.uniform_(0.5, 2.0)
    cnn.eval()
    x_mlp = torch.randint(0, 17, (B, 64)).float() / 16
    x_cnn = torch.randint(0, 17, (B, 1, 8, 8)).float() / 16
    return [("MLP 64-256-256-10", mlp, x_mlp), ("CNN conv-bn-conv+res-fc", cnn, x_cnn)]


def measure(name: str, model: nn.Module, x: torch.Tensor, dtype_name: str) -> dict[str, Any]:
    dtype = parse_dtype(dtype_name)
    m, _ = prepared(model, dtype)
    y = torch.randint(0, 10, (x.shape[0],), generator=torch.Generator().manual_seed(1))
    aud = Auditor(m, x, "ce", dtype=dtype, name=name)

    def torch_step() -> None:
        m.zero_grad()
        nn.functional.cross_entropy(m(x), y).backward()

    aud.audit(x, y)  # warm-up
    torch_step()
    mt, ma, res = alternate(torch_step, lambda: aud.audit(x, y), REPEAT)
    e = res["exact"]
    return {"model": name, "dtype": dtype_name, "batch": int(x.shape[0]), "W": aud.net.W,
            "torch_ms": 1e3 * mt, "audit_ms": 1e3 * ma, "ratio": ma / mt,
            "import_s": aud.import_seconds, "kinked": e["kinked"],
            "certificate": e["certificate"], "float_kinks": res["execution"]["float_kinks"]}


def main() -> int:
    torch.set_num_threads(1)
    rows = []
    for name, model, x in models():
        for dt in ("fp32", "e4m3fn"):
            rows.append(measure(name, model, x, dt))
    table = [(r["model"], r["dtype"], r["batch"], r["W"], f"{r['torch_ms']:.2f}",
              f"{r['audit_ms']:.2f}", f"{r['ratio']:.2f}", f"{r['import_s']:.2f}", r["kinked"],
              r["float_kinks"]) for r in rows]
    print("audit time / torch forward+backward time (CPU time, medians of "
          f"{REPEAT} alternating runs, one torch thread; target <= 5 for fp32)")
    print(render(["model", "dtype", "B", "W", "torch ms", "audit ms", "ratio", "import s",
                  "kinked", "float kinks"], table))
    save("audit_bench", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
