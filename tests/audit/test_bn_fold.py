"""Eval-mode BatchNorm folded into one product and one shift per channel
(:func:`adcorrect.audit.tdd.bn_fold`), in the float64 pass and in the double-double limb:
the folded map is the same real map ``g (r x - r mean) + beta`` (checked in Fractions),
and both enclosures contain its exact value at the ends of every input interval (the
map is affine per channel, so the ends decide)."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
from adcorrect.audit import tdd
from adcorrect.audit.certified import NOQ
from adcorrect.audit.tbatchnorm import batch_norm, bn_constants
from adcorrect.audit.tkernels import CT
from adcorrect.torchfx.values import inv_sqrt
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

F64 = torch.float64
f32 = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, width=32)


def _bn(C: int, seed: int, dtype: torch.dtype = torch.float32) -> nn.BatchNorm2d:
    g = torch.Generator().manual_seed(seed)
    m = nn.BatchNorm2d(C).to(dtype).eval()
    with torch.no_grad():
        m.running_mean.copy_(torch.randn(C, generator=g, dtype=F64) * 3)
        m.running_var.copy_(torch.rand(C, generator=g, dtype=F64) * 4 + 0.01)
        m.weight.copy_(torch.randn(C, generator=g, dtype=F64))
        m.bias.copy_(torch.randn(C, generator=g, dtype=F64))
    return m


def _exact(m: nn.BatchNorm2d, c: int, x: Fraction) -> Fraction:
    """g (r x - r mean) + beta in Fractions, r as PyTorch computes it."""
    r = inv_sqrt(Fraction(float(m.running_var[c])), m.eps, m.running_var.dtype)
    mean = Fraction(float(m.running_mean[c]))
    w, beta = m.weight.detach(), m.bias.detach()
    return Fraction(float(w[c])) * (r * x - r * mean) + Fraction(float(beta[c]))


@settings(max_examples=300, deadline=None)
@given(f32, f32, f32, f32)
def test_the_fold_is_the_same_affine_map(r: float, mean: float, g: float, beta: float) -> None:
    t = [torch.tensor([v], dtype=F64) for v in (r, mean, g, beta)]
    fold = tdd.bn_fold(*t)
    if g == 0 or r == 0:
        assert fold is None  # A = 0: a constant channel, the general path
        return
    assert fold is not None  # two float32 factors: their product is a float64
    A, bh, bl, rb = (Fraction(float(v)) for v in fold)
    assert A == Fraction(g) * Fraction(r)
    b = Fraction(beta) - A * Fraction(mean)
    assert abs(bh + bl - b) <= rb


def test_no_fold_where_the_factor_is_not_a_float() -> None:
    r = torch.tensor([1 / 3], dtype=F64)
    g = torch.tensor([1 / 7], dtype=F64)  # 53-bit factors: g r needs more bits
    assert tdd.bn_fold(r, torch.zeros(1, dtype=F64), g, torch.zeros(1, dtype=F64)) is None


@pytest.mark.parametrize("seed", range(3))
def test_the_float64_kernel_encloses_every_input_interval(seed: int) -> None:
    m = _bn(4, seed)
    g = torch.Generator().manual_seed(100 + seed)
    V = torch.randn(2, 4, 3, 3, generator=g, dtype=F64) * 5
    V[0, 0, 0, 0] = 0.0
    R = torch.rand(V.shape, generator=g, dtype=F64) * 1e-6 + 1e-300
    R[1] = 1e-300  # the roundings dominate: the radius must cover them
    x = CT(V, R, torch.full(V.shape, -NOQ, dtype=torch.int64),
           torch.zeros(V.shape, dtype=torch.bool))
    assert tdd.bn_fold(*bn_constants(m)) is not None
    out = batch_norm(x, m)
    assert bool((out.R > 0).all()) and bool((out.Q == -NOQ).all())
    for idx in torch.cartesian_prod(*(torch.arange(n) for n in V.shape)).tolist():
        b, c, i, j = idx
        v, r = Fraction(V[b, c, i, j].item()), Fraction(R[b, c, i, j].item())
        y, ry = Fraction(out.V[b, c, i, j].item()), Fraction(out.R[b, c, i, j].item())
        for end in (v - r, v + r):
            assert abs(_exact(m, c, end) - y) <= ry


def test_an_exact_input_keeps_the_general_path() -> None:
    """Exact inputs keep the sequence that finds exact outputs (a BatchNorm output
    exactly 0 is a relu kink)."""
    m = _bn(2, 7)
    with torch.no_grad():
        m.running_mean.copy_(torch.tensor([0.5, -0.25]))
        m.bias.zero_()
    V = torch.tensor([[0.5, -0.25]], dtype=F64).reshape(1, 2, 1, 1)
    x = CT(V, torch.zeros_like(V), torch.full(V.shape, -2, dtype=torch.int64),
           torch.ones(V.shape, dtype=torch.bool))
    out = batch_norm(x, m)
    assert out.V.reshape(-1).tolist() == [0.0, 0.0] and bool((out.R == 0).all())


@pytest.mark.parametrize("seed", range(3))
def test_the_double_double_limb_encloses_every_input_interval(seed: int) -> None:
    m = _bn(3, seed)
    g = torch.Generator().manual_seed(200 + seed)
    H, L = tdd.two_sum(torch.randn(2, 3, 2, 2, generator=g, dtype=F64) * 5,
                       torch.randn(2, 3, 2, 2, generator=g, dtype=F64) * 2.0 ** -60)
    R = torch.rand(H.shape, generator=g, dtype=F64) * 2.0 ** -90
    R[1] = 0.0
    out = tdd.batch_norm(tdd.DD(H, L, R), *bn_constants(m))
    for idx in torch.cartesian_prod(*(torch.arange(n) for n in H.shape)).tolist():
        b, c, i, j = idx
        v = Fraction(H[b, c, i, j].item()) + Fraction(L[b, c, i, j].item())
        r = Fraction(R[b, c, i, j].item())
        y = Fraction(out.H[b, c, i, j].item()) + Fraction(out.L[b, c, i, j].item())
        ry = Fraction(out.R[b, c, i, j].item())
        assert ry <= 2.0 ** -80 * (1 + abs(float(y)))
        for end in (v - r, v + r):
            assert abs(_exact(m, c, end) - y) <= ry


@pytest.mark.parametrize("seed", range(6))
def test_exact_outputs_are_those_of_the_step_by_step_sequence(seed: int) -> None:
    """Exact inputs (zeros among them, and inputs equal to the running mean): the folded
    kernel's exact outputs, values and quanta are those of ``g (r x - r mean) + beta``
    computed step by step with fact 4 on every entry."""
    from adcorrect.audit.certified import quantum
    from adcorrect.audit.tbatchnorm import _bn_steps

    m = _bn(4, seed)
    g = torch.Generator().manual_seed(300 + seed)
    with torch.no_grad():
        m.running_mean.copy_(torch.randint(-8, 8, (4,), generator=g) / 8)
        m.running_var.fill_(1.0 - m.eps)  # r = 1: products by r exact
        m.weight.copy_(torch.randint(1, 5, (4,), generator=g) / 2)
        m.bias.copy_(torch.randint(-4, 4, (4,), generator=g) / 4)
    V = torch.randint(-64, 64, (3, 4, 3, 3), generator=g).to(F64) / 16
    V[0, :, 0, 0] = m.running_mean.to(F64)  # outputs beta
    V[1, :, 1] = 0.0
    V[2, 1] += 2.0 ** -40  # (many bits: inexact after the products)
    R = torch.where(torch.rand(V.shape, generator=g) < 0.2, 1e-12, 0.0)
    Q = torch.where(R == 0, quantum(V.reshape(-1)).reshape(V.shape), -NOQ)
    x = CT(V, R, Q, torch.zeros(V.shape, dtype=torch.bool))
    out = batch_norm(x, m)
    shp = (1, -1, 1, 1)
    Y, RR, QQ = _bn_steps(V, R, Q, *(t.reshape(shp) for t in bn_constants(m)))
    exact = RR == 0
    assert int(exact.sum()) > 20
    assert torch.equal(out.R == 0, exact)
    assert torch.equal(out.V[exact], Y[exact]) and torch.equal(out.Q[exact], QQ[exact])
