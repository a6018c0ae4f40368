"""Benchmark of the exact audit's float64 filter through BatchNorm and pools (`make bench`):
audit time / torch forward+backward time of a CIFAR-style CNN with and without BatchNorm.

Model (fixed seed): Conv2d(3,16,3,p=1)-[BN]-ReLU-MaxPool2d(2), Conv2d(16,32,3,p=1)-[BN]-
ReLU-MaxPool2d(2), Conv2d(32,64,3,p=1)-[BN]-ReLU-AdaptiveAvgPool2d(1)-Flatten-Linear(64,10),
cross-entropy, inputs uniform in [0, 1) of shape 3x32x32, eval mode; BatchNorm's running
mean uniform in [-0.5, 0.5], running variance in [0.5, 2], weight in [0.5, 1.5], bias in
[2, 3]; the conv weights (and, without BatchNorm, biases) are torch's random init in
absolute value.  So every ReLU input is positive (away from kinks): with negative ReLU
inputs a 2x2 max-pool window of zeros is a tie, a genuine kink of the imported max node
(m + relu(s - m)), and the audit then decides differentiability at those kinks
(adjoints, topmost group test, oracle), which is not what this benchmark measures.  Reported: uncertain copies (the filter's undecided ones, evaluated
in exact rationals), kinked copies, audit and torch times (CPU time of the process, one
torch thread, medians of ``REPEAT`` alternating runs) and their ratio; the one-time
import separately.  Results also go to bench/results/bn_audit_bench.json.
"""

from __future__ import annotations

import sys
from typing import Any

import torch
from adcorrect.audit.run import Auditor
from adcorrect.core.tables import render
from timing import alternate, save
from torch import nn

REPEAT = 5
BATCHES = (2, 4)


def cnn(bn: bool) -> nn.Module:
    """The CNN above (seed 0), with or without BatchNorm, in eval mode."""
    torch.manual_seed(0)

    def norm(c: int) -> nn.Module:
        return nn.BatchNorm2d(c) if bn else nn.Identity()

    m = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), norm(16), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(16, 32, 3, padding=1), norm(32), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(32, 64, 3, padding=1), norm(64), nn.ReLU(),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(2.0, 3.0)
            elif isinstance(mod, nn.Conv2d):
                mod.weight.abs_()
                if not bn:
                    mod.bias.abs_()
    return m.eval()


def measure(bn: bool) -> list[dict[str, Any]]:
    m = cnn(bn)
    gen = torch.Generator().manual_seed(1)
    x_all = torch.rand(max(BATCHES), 3, 32, 32, generator=gen)
    y_all = torch.randint(0, 10, (max(BATCHES),), generator=gen)
    aud = Auditor(m, x_all, "ce", name="cnn-bn" if bn else "cnn")
    rows = []
    for B in BATCHES:
        x, y = x_all[:B], y_all[:B]

        def torch_step(x: torch.Tensor = x, y: torch.Tensor = y) -> None:
            m.zero_grad()
            nn.functional.cross_entropy(m(x), y).backward()

        aud.audit(x, y)  # warm-up
        torch_step()
        mt, ma, res = alternate(torch_step, lambda x=x, y=y: aud.audit(x, y), REPEAT)
        e = res["exact"]
        net = aud.load_net()  # the IR (imported at construction or on first need)
        assert net is not None
        rows.append({"model": "CNN + BatchNorm" if bn else "CNN", "batch": B, "W": net.W,
                     "neurons": len(net.neurons), "uncertain": e["uncertain"],
                     "kinked": e["kinked"], "undecided": e["undecided"],
                     "torch_ms": 1e3 * mt, "audit_ms": 1e3 * ma, "ratio": ma / mt,
                     "import_s": aud.import_seconds})
    return rows


def main() -> int:
    torch.set_num_threads(1)
    rows = measure(False) + measure(True)
    table = [(r["model"], r["batch"], r["W"], r["neurons"], r["uncertain"], r["kinked"],
              f"{r['torch_ms']:.2f}", f"{r['audit_ms']:.1f}", f"{r['ratio']:.1f}",
              f"{r['import_s']:.1f}") for r in rows]
    print("audit time / torch forward+backward time, CIFAR-style CNN (CPU time, medians of "
          f"{REPEAT} alternating runs, one torch thread)")
    print(render(["model", "B", "W", "neurons", "uncertain", "kinked", "torch ms", "audit ms",
                  "ratio", "import s"], table))
    save("bn_audit_bench", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
