"""Attention in the tensor filter (audit/tattn.py): the matrix product of two computed
tensors, softmax over the last axis and the division by a float whose reciprocal is no
float enclose the exact results at points of the input boxes (Fractions, Arb); and on
small transformer encoders (patch embedding, LayerNorm, single-head attention, a relu or
GELU feed-forward, a mean over tokens) the tensor filter's kinked copies and verdicts are
the certified route's on the imported IR."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

import pytest
import torch
from adcorrect.audit.certified import NOQ
from adcorrect.audit.run import Auditor
from adcorrect.audit.tattn import divided, matmul, softmax
from adcorrect.audit.tkernels import CT, Unsupported
from flint import arb, ctx
from test_tnorm import _arb
from torch import nn

F = nn.functional
F64 = torch.float64

pytestmark = pytest.mark.usefixtures("float32_default")


def _ct(V: torch.Tensor, R: torch.Tensor) -> CT:
    return CT(V, R, torch.full(V.shape, -NOQ, dtype=torch.int64),
              torch.zeros(V.shape, dtype=torch.bool))


def _box(gen: torch.Generator, shape: tuple[int, ...], scale: float, rad: float
         ) -> tuple[torch.Tensor, torch.Tensor]:
    V = torch.randn(shape, generator=gen, dtype=F64) * scale
    R = torch.rand(shape, generator=gen, dtype=F64) * rad
    return V, R


def _corners(V: torch.Tensor, R: torch.Tensor, gen: torch.Generator) -> list[torch.Tensor]:
    """Points of the box |s - V| <= R as multipliers in [-1, 1]: both corners, random
    corners and an interior point."""
    sign = (torch.randint(0, 2, V.shape, generator=gen) * 2 - 1).to(F64)
    return [torch.ones_like(V), -torch.ones_like(V), sign, -sign,
            torch.rand(V.shape, generator=gen, dtype=F64) * 2 - 1]


class _Found:
    """What softmax records (its smooth function, its IR terms)."""

    def __init__(self) -> None:
        self.smooth: set[str] = set()
        self.terms = 0


def _q(t: torch.Tensor) -> list[Fraction]:
    return [Fraction(float(v)) for v in t.reshape(-1)]


@pytest.mark.parametrize("seed", range(4))
def test_products_enclose_the_exact_products(seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    A, RA = _box(gen, (2, 3, 5), 2.0 ** (4 * seed - 6), 1e-9 * (seed % 2))
    B, RB = _box(gen, (2, 5, 4), 1.0, 1e-7 * (seed % 3 > 0))
    A[0, 1] = 0.0  # a zero row: exact zeros in the product where RA is 0 there
    RA[0, 1] = 0.0
    out = matmul(_ct(A, RA), _ct(B, RB))
    for ta, tb in zip(_corners(A, RA, gen), _corners(B, RB, gen)):
        a, b = A + RA * ta, B + RB * tb  # float points: the exact sums below are exact
        qa, qb = _q(A), _q(B)
        ra, rb, sa, sb = _q(RA), _q(RB), _q(ta), _q(tb)
        for e in range(2):
            for i in range(3):
                for j in range(4):
                    ex = sum((qa[(e * 3 + i) * 5 + k] + ra[(e * 3 + i) * 5 + k]
                              * sa[(e * 3 + i) * 5 + k])
                             * (qb[(e * 5 + k) * 4 + j] + rb[(e * 5 + k) * 4 + j]
                                * sb[(e * 5 + k) * 4 + j]) for k in range(5))
                    v, r = Fraction(float(out.V[e, i, j])), Fraction(float(out.R[e, i, j]))
                    assert abs(ex - v) <= r, (seed, e, i, j)
        del a, b
    assert out.R[0, 1].eq(0).all() and out.V[0, 1].eq(0).all() and out.Q[0, 1].eq(NOQ).all()


def _exact_softmax(row: list[Fraction]) -> list[arb]:
    with ctx.workprec(200):
        es = [_arb(v).exp() for v in row]
        s = sum(es, arb(0))
        return [e / s for e in es]


@pytest.mark.parametrize("seed", range(4))
def test_softmax_encloses_the_exact_values_and_is_tight(seed: int) -> None:
    gen = torch.Generator().manual_seed(seed + 10)
    V, R = _box(gen, (2, 3, 6), 3.0 * (seed + 1), [0.0, 1e-12, 1e-6, 0.1][seed])
    V[1, 2, :] = -800.0  # e^-800 underflows: weights e^-100 / (1 + 5 e^-100)
    V[1, 2, 0] = -700.0
    out = softmax(_ct(V, R), -1, _Found())
    rows = V.reshape(-1, 6)
    for t in _corners(V, R, gen):
        pts = (V + R * t).reshape(-1, 6)
        for i in range(rows.shape[0]):
            ex = _exact_softmax([Fraction(float(v)) for v in pts[i]])
            for j in range(6):
                v, r = float(out.V.reshape(-1, 6)[i, j]), float(out.R.reshape(-1, 6)[i, j])
                assert bool(abs(ex[j] - _arb(Fraction(v))) <= _arb(Fraction(r))), (i, j)
    if seed < 2:  # radii near the roundings (a few ulps of 1) plus the input radii
        assert float(out.R.max()) < 1e-14 + float(R.max())
    with pytest.raises(Unsupported):
        softmax(_ct(V, R), 1, _Found())


def test_division_by_a_float_encloses_the_exact_quotient() -> None:
    gen = torch.Generator().manual_seed(5)
    V, R = _box(gen, (3, 7), 1.0, 1e-10)
    V[0, 0], R[0, 0] = 0.0, 0.0
    c = float(torch.tensor(32.0).sqrt().float())  # a float32 float, 1/c no float
    out = divided(_ct(V, R), c)
    for t in _corners(V, R, gen):
        for (e, j) in [(i, k) for i in range(3) for k in range(7)]:
            ex = (Fraction(float(V[e, j])) + Fraction(float(R[e, j])) * Fraction(float(t[e, j]))
                  ) / Fraction(c)
            assert abs(ex - Fraction(float(out.V[e, j]))) <= Fraction(float(out.R[e, j]))
    assert float(out.R[0, 0]) == 0.0 and float(out.V[0, 0]) == 0.0


class Encoder(nn.Module):
    """Patch embedding to 4 tokens of width 4, LayerNorm, single-head attention (the
    scores divided by sqrt 4 = 2 or by sqrt 3), a residual, a feed-forward with relu or
    GELU then relu, a mean over tokens, a head."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.patch = nn.Conv2d(1, 4, 2, 2)
        self.ln = nn.LayerNorm(4)
        self.qkv, self.proj = nn.Linear(4, 12), nn.Linear(4, 4)
        self.fc1, self.fc2 = nn.Linear(4, 6), nn.Linear(6, 4)
        self.act = rng.choice([nn.ReLU(), nn.GELU()])
        self.scale = rng.choice([2.0, 3.0 ** 0.5])
        self.soft = rng.choice(["F", "method", "module"])
        self.sm = nn.Softmax(-1)
        self.head = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.patch(x).flatten(2).transpose(1, 2)  # (B, 4, 4)
        q, k, v = self.qkv(self.ln(t)).chunk(3, -1)
        s = q @ k.transpose(-2, -1) / self.scale
        a = F.softmax(s, -1) if self.soft == "F" else s.softmax(-1) if self.soft == "method" \
            else self.sm(s)
        t = t + self.proj(torch.matmul(a, v))
        t = t + self.fc2(F.relu(self.fc1(self.act(t))))
        return self.head(F.relu(t.mean(1)))


def _case(seed: int) -> tuple[Auditor, torch.Tensor, torch.Tensor]:
    rng = random.Random(seed)
    torch.manual_seed(seed)
    m = Encoder(rng).eval()
    x = torch.tensor([[rng.randint(-4, 4) / 4 for _ in range(16)] for _ in range(2)]
                     ).reshape(2, 1, 4, 4)
    y = torch.tensor([rng.randrange(3) for _ in range(2)])
    return Auditor(m, x, "ce"), x, y


def _both(seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    aud, x, y = _case(seed)
    assert aud.tfilter is not None
    aud.tfilter.run(x)  # no Unsupported
    aud.tensor_first = True
    got = aud.audit(x, y)
    aud.tfilter = None
    return got, aud.audit(x, y)


def test_encoders_agree_with_the_certified_route() -> None:
    """Every seed is decided by the tensor filter, with the certified route's verdicts,
    activations and theorem keys."""
    for seed in range(6):
        got, ref = _both(seed)
        g, r = got["exact"], ref["exact"]
        assert g.get("filter") == "tensor" and g["undecided"] is None, (seed, g["undecided"])
        assert r.get("filter") is None and r["engine"] == "certified"
        assert got["activations"] == ref["activations"]
        assert g["kinked"] + g["dead"] == r["kinked"] + r["dead"]
        assert r["undecided"] is None
        assert (g["differentiable"], g["inc"]) == (r["differentiable"], r["inc"]) == (True, False)
