"""What the certified-engine tests share: torch's float64 autograd against the certified
enclosures of the gradient."""

from __future__ import annotations

import random
from collections.abc import Sequence
from fractions import Fraction as Q
from typing import Any

import torch
from adcorrect.exact.certified import certified_oracle
from adcorrect.nets.batch import Batch, batched, whole_batched
from adcorrect.numbers.cvalue import bounds
from adcorrect.torchfx.importer import from_module
from adcorrect.torchfx.values import CouplesExamples
from torch import nn


def assert_in_enclosures(ad: Sequence[Any], loss: torch.Tensor, params: list[torch.Tensor],
                         rel: Q = Q(1, 10**11)) -> None:
    """torch's gradient of ``loss`` lies in the enclosures ``ad``, within ``rel`` relative
    (float64's own rounding)."""
    flat = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params)])
    assert len(ad) == flat.numel()
    for g, a in zip(flat.tolist(), ad):
        lo, hi = bounds(a)
        tol = rel * (1 + abs(Q(g)))
        assert lo - tol <= Q(g) <= hi + tol, (g, a)


def assert_ad_in_enclosures(m64: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    """The certified oracle decides the float64 model's batch (cross-entropy)
    differentiable with AD correct, and torch's float64 autograd lies in its enclosures
    of the gradient (within 1e-11 relative).  Models that couple the examples (batch
    statistics, token indices) are imported over the whole batch."""
    x = x.double() if x.is_floating_point() else x
    rows = tuple(tuple(Q(v) for v in r) for r in x.reshape(x.shape[0], -1).double().tolist())
    b = Batch(rows, tuple((Q(int(v)),) for v in y), tuple(x.shape[1:]))
    try:
        net = from_module(m64, x[:1])
        sub = batched(net, b, "ce")
    except CouplesExamples:
        net = from_module(m64, x, whole_batch=True)
        sub = whole_batched(net, b, "ce")
    r = certified_oracle(sub, net.values)
    assert (r.differentiable, r.ad_correct) == (True, True), r.how
    assert_in_enclosures(r.ad, nn.functional.cross_entropy(m64(x), y), list(m64.parameters()))


class Gate(nn.Module):
    """x * sigmoid(x): a product of two values computed from the input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


class Attend(nn.Module):
    """softmax over the features, times the features (a gating product)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=-1) * x


class Applied(nn.Module):
    """fn of a Linear(d_in, d_out): a model around one operation under test."""

    def __init__(self, fn: Any, d_in: int = 2, d_out: int = 4) -> None:
        super().__init__()
        self.a = nn.Linear(d_in, d_out)
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.a(x))


class Select(nn.Module):
    """torch.where as a leaky relu, plus the row's max (a max reduction) and divided by
    1 + its variance: the selections and var."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.where(x > 0, x, 0.125 * x) + x.max(-1, keepdim=True).values
        return y / (1 + x.var(-1, keepdim=True))


SMOOTH_ACTS = [nn.Tanh, nn.Sigmoid, nn.GELU, lambda: nn.GELU("tanh"), nn.SiLU,
               lambda: nn.Softplus(2.0), lambda: nn.ELU(0.5), nn.Mish, nn.ReLU, nn.Hardswish,
               Gate, Select]


def random_smooth_model(rng: random.Random, max_blocks: int = 2, max_width: int = 5
                        ) -> tuple[nn.Module, int]:
    """A random model of the new ops (and its input width): Linear, then 1..max_blocks
    blocks of an optional LayerNorm, RMSNorm, softmax gate or softmax, a random
    activation of SMOOTH_ACTS and a Linear, then a Linear to 3 outputs."""
    d_in, h = rng.randint(2, 4), rng.randint(2, max_width)
    layers: list[nn.Module] = [nn.Linear(d_in, h)]
    for _ in range(rng.randint(1, max_blocks)):
        kind = rng.random()
        if kind < 0.25:
            layers.append(nn.LayerNorm(h))
        elif kind < 0.4:
            layers.append(nn.RMSNorm(h, eps=1e-5))
        elif kind < 0.5:
            layers.append(Attend())
        elif kind < 0.6:
            layers.append(nn.Softmax(dim=-1))
        layers.append(rng.choice(SMOOTH_ACTS)())
        layers.append(nn.Linear(h, h))
    layers.append(nn.Linear(h, 3))
    return nn.Sequential(*layers), d_in
