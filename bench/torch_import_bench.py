"""Time of adcorrect.torch.from_module on one example, against a float32 forward +
backward of the same model in PyTorch (a ratio, so the figure does not depend on the
machine's speed), for an MLP 64-256-256-10 and a small CNN (two 3x3 convolutions,
BatchNorm, a residual add, MaxPool, Linear).  Also the exact forward + backward pass
of the imported network.  Run: ``.venv/bin/python bench/torch_import_bench.py``."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from adcorrect.exact.engine import backward, forward
from adcorrect.torch import from_module
from torch import nn


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)) + h)
        return self.fc(torch.flatten(self.pool(h), 1))


def best(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)  # a stable reference step
    mlp = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                        nn.Linear(256, 10)).eval()
    cases = [("MLP 64-256-256-10", mlp, torch.randn(1, 64)),
             ("CNN 3x16x16 (2 conv, BN, residual, maxpool)", SmallCNN().eval(),
              torch.randn(1, 3, 16, 16))]
    print(f"{'model':46} {'W':>7} {'neurons':>8} {'import s':>9} {'exact AD s':>11} "
          f"{'import / torch step':>20}")
    for name, model, x in cases:
        def step(model: nn.Module = model, x: torch.Tensor = x) -> None:
            model.zero_grad()
            model(x).sum().backward()

        t_torch = best(step, 20)
        t_import = best(lambda model=model, x=x: from_module(model, x))
        net = from_module(model, x)
        w = net.values
        assert w is not None
        t_exact = best(lambda net=net, w=w: backward(net, w, forward(net, w)), 1)
        print(f"{name:46} {net.W:>7} {len(net.neurons):>8} {t_import:>9.3f} {t_exact:>11.3f} "
              f"{t_import / t_torch:>20.0f}")


if __name__ == "__main__":
    main()
