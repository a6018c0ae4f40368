"""What the certified-engine tests share: torch's float64 autograd against the certified
enclosures of the gradient."""

from __future__ import annotations

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
