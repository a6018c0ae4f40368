"""The tensor filter's float64 convolution as one matrix product over the batch
(:func:`~adcorrect.audit.tconv.conv2d_gemm`, used where a convolution has few output
positions per example): the same values as ``F.conv2d`` where every sum is exact (small
dyadic operands: any order gives the exact sum), the output positions it is chosen by,
and the filter's answers on a network whose late convolutions take this route."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from adcorrect.audit.run import Auditor
from adcorrect.audit.tconv import FEW_POSITIONS, _positions, conv2d_gemm
from torch import nn


@pytest.mark.parametrize(("size", "k", "stride", "pad", "dil", "bias"), [
    ((2, 2), (3, 3), (1, 1), (1, 1), (1, 1), True),
    ((1, 1), (3, 3), (1, 1), (1, 1), (1, 1), False),
    ((4, 4), (3, 3), (2, 2), (1, 1), (1, 1), True),
    ((5, 3), (2, 3), (2, 1), (0, 1), (1, 1), True),
    ((6, 6), (3, 3), (2, 2), (2, 0), (2, 1), False),
    ((4, 4), (1, 1), (2, 2), (0, 0), (1, 1), True),
])
def test_gemm_convolution_is_conv2d(size: tuple[int, int], k: tuple[int, int],
                                    stride: tuple[int, int], pad: tuple[int, int],
                                    dil: tuple[int, int], bias: bool) -> None:
    g = torch.Generator().manual_seed(sum(size) + sum(k))
    x = torch.randint(-8, 9, (3, 4, *size), generator=g).double() / 4
    w = torch.randint(-8, 9, (5, 4, *k), generator=g).double() / 8
    b = torch.randint(-8, 9, (5,), generator=g).double() / 2 if bias else None
    want = F.conv2d(x, w, b, stride, pad, dil)
    got = conv2d_gemm(x, w, b, stride, pad, dil)
    assert got.shape == want.shape and got.is_contiguous()
    assert torch.equal(got, want)  # exact sums: the order does not matter
    m = nn.Conv2d(4, 5, k, stride, pad, dil)
    assert _positions(size, m, pad) == want.shape[2] * want.shape[3]


class _Late(nn.Module):
    """Two convolutions at 4x4, then two at 2x2 (4 output positions: the matrix-product
    route) and a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(2, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 6, 3, stride=2, padding=1)
        self.c = nn.Conv2d(6, 6, 3, padding=1)
        self.fc = nn.Linear(24, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.a(x))
        h = torch.relu(self.b(h))
        h = torch.relu(self.c(h) + h)
        return self.fc(h.flatten(1))


@pytest.mark.parametrize(("seed", "coarse"), itertools.product(range(3), (False, True)))
def test_the_audit_answers_the_same_with_either_convolution(
        seed: int, coarse: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from adcorrect.audit import tconv

    torch.manual_seed(seed)
    m = _Late()
    g = torch.Generator().manual_seed(seed)
    if coarse:  # exact kinks
        grid = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0])
        with torch.no_grad():
            for p in m.parameters():
                p.copy_(grid[torch.randint(0, 5, p.shape, generator=g)])
    x = torch.randint(0, 5, (6, 2, 4, 4), generator=g).float() / 4
    y = torch.randint(0, 3, (6,), generator=g)
    used = []
    gemm = tconv.conv2d_gemm

    def spy(*a: object) -> torch.Tensor:
        used.append(1)
        return gemm(*a)  # type: ignore[arg-type]

    monkeypatch.setattr(tconv, "conv2d_gemm", spy)
    with_gemm = Auditor(m, x, "ce").audit(x, y)
    assert used and FEW_POSITIONS >= 4
    monkeypatch.setattr(tconv, "FEW_POSITIONS", 0)
    used.clear()
    without = Auditor(m, x, "ce").audit(x, y)
    assert not used
    drop = ("seconds", "zbar_approx")

    def clean(o: object) -> object:
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items() if k not in drop}
        if isinstance(o, list):
            return [clean(v) for v in o]
        return o

    assert clean(with_gemm) == clean(without)
