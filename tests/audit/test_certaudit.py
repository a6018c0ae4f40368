"""Audits of models with smooth operations (the certified engine): known truths decided,
float-only kinks told apart from exact ones, and AD against torch's float64 autograd on
random models drawn from the new ops."""

from __future__ import annotations

import random
from fractions import Fraction as Q

import pytest
import torch
from adcorrect.audit.run import Auditor
from adcorrect.exact.certified import certified_oracle
from adcorrect.nets.batch import Batch, batched
from adcorrect.numbers.cvalue import bounds
from adcorrect.torchfx.importer import from_module
from torch import nn

pytestmark = pytest.mark.usefixtures("float32_default")


def _tanh_then_relu(c: float) -> nn.Module:
    m = nn.Sequential(nn.Linear(1, 1), nn.Tanh(), nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2))
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.fill_(0.0)
        m[2].weight.fill_(1.0)
        m[2].bias.fill_(c)
        m[4].weight.copy_(torch.tensor([[1.0], [-1.0]]))
        m[4].bias.zero_()
    return m


def test_tanh_zero_only_in_float32() -> None:
    """relu(tanh(1/2) + c) with c = -float32(tanh(1/2)): 0 in float32 (a float kink), but
    tanh(1/2) is transcendental, so the exact pre-activation is certified non-zero."""
    c = -float(torch.tanh(torch.tensor(0.5)))
    m = _tanh_then_relu(c)
    x, y = torch.tensor([[0.5]]), torch.tensor([0])
    res = Auditor(m, x, "ce").audit(x, y)
    assert res["exact"]["kinked"] == 0 and res["exact"]["differentiable"] is True
    assert res["exact"]["inc"] is False
    assert res["execution"]["float_kinks"] == 1
    assert (res["differ"]["exact_only"], res["differ"]["float_only"]) == (0, 1)


def test_tanh_zero_exactly() -> None:
    """x = 0: tanh(0) = 0 exactly and the bias is 0, so relu sits on its kink in real
    arithmetic too; its own bias and non-zero adjoint make the loss non-differentiable."""
    m = _tanh_then_relu(0.0)
    x, y = torch.tensor([[0.0]]), torch.tensor([0])
    res = Auditor(m, x, "ce").audit(x, y)
    ex = res["exact"]
    assert (ex["kinked"], ex["differentiable"], ex["ns"]) == (1, False, True)
    assert res["execution"]["float_kinks"] == 1
    assert (res["differ"]["exact_only"], res["differ"]["float_only"]) == (0, 0)


def test_gelu_network_no_kink_certified() -> None:
    torch.manual_seed(3)
    m = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 3))
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 1, 0])
    res = Auditor(m, x, "ce").audit(x, y)
    ex = res["exact"]
    assert (ex["kinked"], ex["differentiable"], ex["inc"], ex["undecided"]) == (0, True, False,
                                                                               None)
    assert "T6_batch_ad_correct_smooth_tau_built" in res["theorem"]["applies"]


class Gate(nn.Module):
    """x * sigmoid(x): a product of two values computed from the input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


class Attend(nn.Module):
    """softmax over the features, times the features (a gating product)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=-1) * x


_ACTS = [nn.Tanh, nn.Sigmoid, nn.GELU, lambda: nn.GELU("tanh"), nn.SiLU,
         lambda: nn.Softplus(2.0), lambda: nn.ELU(0.5), nn.Mish, nn.ReLU, Gate]


def _random_model(rng: random.Random) -> tuple[nn.Module, int]:
    d_in, h = rng.randint(2, 4), rng.randint(2, 5)
    layers: list[nn.Module] = [nn.Linear(d_in, h)]
    for _ in range(rng.randint(1, 2)):
        kind = rng.random()
        if kind < 0.25:
            layers.append(nn.LayerNorm(h))
        elif kind < 0.4:
            layers.append(nn.RMSNorm(h, eps=1e-5))
        elif kind < 0.5:
            layers.append(Attend())
        layers.append(rng.choice(_ACTS)())
        layers.append(nn.Linear(h, h))
    layers.append(nn.Linear(h, 3))
    return nn.Sequential(*layers), d_in


def test_ad_equals_torch_float64_on_200_random_models() -> None:
    """Where the certified oracle says differentiable, torch's float64 autograd lies in the
    certified enclosure of the gradient (widened by float64's own rounding, 1e-11
    relative); every model is decided."""
    rng = random.Random(17)
    decided = 0
    for t in range(200):
        torch.manual_seed(t)
        model, d_in = _random_model(rng)
        x = torch.randn(2, d_in)
        y = torch.tensor([rng.randrange(3), rng.randrange(3)])
        m64 = model.double()  # the same parameters; eps and slopes as float64 kernels use them
        net = from_module(m64, x[:1].double())
        rows = tuple(tuple(Q(v) for v in r) for r in x.to(torch.float64).tolist())
        sub = batched(net, Batch(rows, tuple((Q(int(v)),) for v in y), (d_in,)), "ce")
        r = certified_oracle(sub, net.values)
        assert r.differentiable is True, (t, r.how)
        decided += 1
        loss = nn.functional.cross_entropy(m64(x.double()), y)
        grads = torch.autograd.grad(loss, list(m64.parameters()))
        flat = torch.cat([g.reshape(-1) for g in grads]).tolist()
        assert len(flat) == len(r.ad)
        for g, a in zip(flat, r.ad):
            lo, hi = bounds(a)
            tol = Q(1, 10**11) * (1 + abs(Q(g)))
            assert lo - tol <= Q(g) <= hi + tol, (t, g, a)
    assert decided == 200
