"""The per-example IR is imported on first need (issue 16, item 2): a model the tensor
filter runs waits with its IR until a batch needs exact work, and every answer is the one
the auditor gives when the IR is imported at construction."""

from __future__ import annotations

import random
from typing import Any

import pytest
import torch
from adcorrect.audit.dtypes import parse_dtype
from adcorrect.audit.run import Auditor, prepared
from torch import nn

F = nn.functional

pytestmark = pytest.mark.usefixtures("float32_default")


class PoolNet(nn.Module):
    """conv, BatchNorm (eval), relu, max pool, conv with a residual sum, max pool, linear."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.c2 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 2 * 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.max_pool2d(F.relu(self.bn(self.c1(x))), 2)
        h = F.max_pool2d(F.relu(self.c2(h) + h), 2)
        return self.fc(h.flatten(1))


def _pool_net(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    m = PoolNet()
    with torch.no_grad():
        m.bn.running_mean.uniform_(-0.5, 0.5)
        m.bn.running_var.uniform_(0.5, 2.0)
    return m.eval()


def _answer(res: dict[str, Any]) -> dict[str, Any]:
    """An audit's answer without its timings."""
    return {k: v for k, v in res.items() if k != "seconds"}


@pytest.mark.parametrize("dtype", ["fp32", "e4m3fn", "int8:1/8"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_waiting_import_gives_the_eager_answer(seed: int, dtype: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    dt = parse_dtype(dtype)
    m, _ = prepared(_pool_net(seed), dt)
    rng = random.Random(seed)
    x = torch.tensor([[rng.randint(-4, 4) / 4 for _ in range(64)] for _ in range(4)]
                     ).reshape(4, 1, 8, 8)
    y = torch.tensor([rng.randrange(3) for _ in range(4)])
    lazy = Auditor(m, x, "ce", dtype=dt)
    assert lazy.net is None and lazy.pending is not None
    got = lazy.audit(x, y)
    monkeypatch.setattr(Auditor, "_can_wait", lambda self, example: False)
    eager = Auditor(m, x, "ce", dtype=dt)
    assert eager.net is not None and eager.pending is None
    assert _answer(got) == _answer(eager.audit(x, y))


class FrozenHardtanh(nn.Module):
    """A 1x1 convolution with a frozen weight 1 and a trainable bias b, hardtanh, and a
    max pool of width 1 (no ties: it only keeps the IR's filter from going first)."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv1d(1, 1, 1)
        with torch.no_grad():
            self.c.weight.fill_(1.0)
            self.c.bias.fill_(0.0)
        self.c.weight.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool1d(F.hardtanh(self.c(x)), 1).flatten(1)


def test_a_batch_the_filter_leaves_open_imports_the_ir_then() -> None:
    """Batch x = -1, 1 with sum loss: L(b) = hardtanh(b - 1) + hardtanh(b + 1) = b near
    b = 0 (by hand): differentiable with gradient 1, while PyTorch's hardtanh has slope 0
    at both kinks, so AD gives 0: an inc point.  Both copies sit on live kinks whose
    one-sided derivatives cancel, so the tensor filter has no certificate and the IR,
    imported at this audit, decides it."""
    m = FrozenHardtanh()
    x = torch.tensor([[[-1.0]], [[1.0]]])
    aud = Auditor(m, x, "sum")
    assert aud.net is None and aud.pending is not None
    e = aud.audit(x, torch.ones(2))["exact"]
    assert aud.net is not None and aud.pending is None
    assert "filter" not in e
    assert (e["kinked"], e["differentiable"], e["inc"]) == (2, True, True)
    assert (e["grad"], e["ad"]) == (["1"], ["0"])
