"""The tensor filter's smooth activations and products (audit/tsmooth.py, audit/tgates.py):
enclosures checked against python-flint's Arb balls (the exact function at the float
inputs and at the interval ends, 200 bits) and products against Fractions; the radii are
also checked to be tight (halved, they miss; relative, below 1e-12 on normal ranges)."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
import torch
from adcorrect.audit import tsmooth as ts
from adcorrect.audit.certified import NOQ, quantum
from adcorrect.audit.tgates import product, scaled, smooth, smooth_values
from adcorrect.audit.tkernels import CT
from flint import arb, ctx

F64 = torch.float64
KAPPA = Fraction("0.044715")


def _a(v: float | Fraction) -> arb:
    q = Fraction(v)
    return arb(q.numerator) / arb(q.denominator)


def _sig(x: Fraction | arb, neg: bool | None = None) -> tuple[arb, arb]:
    """(1 / (1 + e^-x), 1 - that), as (e^x, 1) / (1 + e^x) for x < 0 (Arb's e^|x|
    overflows for |x| ~ 1e300); ``neg``: the sign of an Arb x."""
    a = x if isinstance(x, arb) else _a(x)
    if not (x < 0 if neg is None else neg):
        e = (-a).exp()
        return 1 / (1 + e), e / (1 + e)
    e = a.exp()
    return e / (1 + e), 1 / (1 + e)


def _gate(x: Fraction) -> tuple[arb, arb, arb]:
    """GELU's tanh form: (1 + tanh u) / 2 = sigmoid(2u) and 1 - tanh^2 u = 4 sigmoid(2u)
    (1 - sigmoid(2u)), u = sqrt(2/pi) (x + kappa x^3) (u has the sign of x), and du/dx."""
    a = _a(x)
    c = (2 / arb.pi()).sqrt()
    g, h = _sig(2 * c * (a + _a(KAPPA) * a ** 3), x < 0)
    return g, 4 * g * h, c * (1 + 3 * _a(KAPPA) * a * a)


def _normal(x: Fraction) -> tuple[arb, arb]:
    """(Phi(x), phi(x)) in Arb: Phi(x) = erfc(-x / sqrt 2) / 2 (no cancellation for x < 0),
    phi(x) = e^(-x^2 / 2) / sqrt(2 pi)."""
    a = _a(x)
    return (-a / arb(2).sqrt()).erfc() / 2, (-a * a / 2).exp() / (2 * arb.pi()).sqrt()


#: the smooth functions under test: softplus with beta 1, 2 and 1/2 besides the others
FNS = [*ts.SMOOTH_FNS, "softplus", "softplus_2", "softplus_0.5"]


def _beta(fn: str) -> float:
    return float(fn.split("_")[1]) if fn.startswith("softplus_") else 1.0


def enc(fn: str, V: torch.Tensor, R: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return ts.softplus(V, R, _beta(fn)) if fn.startswith("softplus") else ts.enclose(fn, V, R)


def der(fn: str, V: torch.Tensor, R: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if fn.startswith("softplus"):
        return ts.softplus_derivative(V, R, _beta(fn))
    return ts.derivative(fn, V, R)


def exact(fn: str, x: Fraction) -> arb:
    """f(x) in Arb, from the definitions (not from the code under test)."""
    with ctx.workprec(200):
        a = _a(x)
        if fn == "exp":
            return a.exp()
        if fn.startswith("softplus"):  # log(1 + e^y) / b = (max(y, 0) + log1p(e^-|y|)) / b
            b = Fraction(_beta(fn))
            y = b * x
            return (_a(max(y, Fraction(0))) + (-abs(_a(y))).exp().log1p()) / _a(b)
        if fn == "sigmoid":
            return _sig(x)[0]
        if fn == "tanh":
            return a.tanh()
        if fn == "silu":
            return a * _sig(x)[0]
        if fn == "gelu_tanh":
            return a * _gate(x)[0]
        if fn == "gelu":
            return a * _normal(x)[0]
    raise ValueError(fn)


def exact_deriv(fn: str, x: Fraction) -> arb:
    with ctx.workprec(200):
        if fn.startswith("softplus"):
            return _sig(Fraction(_beta(fn)) * x)[0]
        a = _a(x)
        s, sc = _sig(x)
        if fn == "sigmoid":
            return s * sc
        if fn == "tanh":
            return 4 * _sig(2 * x)[0] * _sig(2 * x)[1]  # 1 - tanh^2 = sech^2
        if fn == "silu":
            return s + a * s * sc
        if fn == "gelu":
            p, d = _normal(x)
            return p + a * d
        g, d, du = _gate(x)
        return g + a / 2 * d * du
    raise ValueError(fn)


#: the ranges of the bounded functions (Arb's balls of sigmoid(x) for huge |x| poke out)
RANGES = {"sigmoid": (Fraction(0), Fraction(1)), "tanh": (Fraction(-1), Fraction(1))}


def inside(ex: arb, v: float, r: float, fn: str = "") -> bool:
    """The exact value, in the Arb ball ex (and in f's range), certainly lies in
    [v - r, v + r] (an infinite r holds all; the ends are dyadic: exact at 2200 bits)."""
    if math.isinf(r):
        return True
    lo, hi = Fraction(v) - Fraction(r), Fraction(v) + Fraction(r)
    rlo, rhi = RANGES.get(fn, (None, None))
    with ctx.workprec(2200):
        return (bool(ex >= _a(lo)) or rlo is not None and rlo >= lo) and \
            (bool(ex <= _a(hi)) or rhi is not None and rhi <= hi)


EXTREMES = [0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, 2.0 ** -1022, -2.0 ** -1030,
            1e-20, -1e-8, 0.5, -0.5, 0.3465, -0.3467, 1.0, -1.0, 2.0, -2.5, 10.0, -10.0,
            18.5, -19.0, 30.0, -32.0, 40.0, -45.0, 100.0, -300.0, 700.0, -700.0, 708.5,
            -708.5, 709.7, 710.0, -744.0, -744.5, 745.0, -745.0, -745.2, 746.0, -746.0,
            1e300, -1e300, 1.7e308, -1.7e308]


def _inputs(seed: int) -> list[float]:
    rng = random.Random(seed)
    xs = list(EXTREMES)
    xs += [rng.uniform(-8, 8) for _ in range(60)]
    xs += [rng.choice([-1, 1]) * 2.0 ** rng.uniform(-1070, 9.5) for _ in range(60)]
    return xs


@pytest.mark.parametrize("fn", ["exp", *FNS])
def test_point_enclosures_contain_the_exact_values(fn: str) -> None:
    xs = _inputs(1)
    x = torch.tensor(xs, dtype=F64)
    if fn == "exp":
        v, r = ts.exp_point(x)
    else:
        v, r = enc(fn, x, torch.zeros_like(x))
    for i, xi in enumerate(xs):
        vi, ri = float(v[i]), float(r[i])
        if fn == "exp" and xi > 709.78 or abs(xi * _beta(fn)) > 1.79e308:  # overflow
            assert math.isinf(ri)
            continue
        ex = exact(fn, Fraction(xi))
        assert inside(ex, vi, ri, fn), (fn, xi, vi, ri, ex)
        if abs(vi) > 2.0 ** -900 and math.isfinite(vi):  # normal range: a tight radius
            # (GELU's gate argument ~ x^3 has rounding errors relative to itself, which
            # its sigmoid turns into errors relative to gelu(x) for x < 0)
            cond = 1 + min(abs(xi), 40.0) ** 3 if fn == "gelu_tanh" else 1
            # (GELU's 1 - Phi(x) = 1/2 - phi S for x < 0 is tight relative to |x|)
            floor = abs(xi) if fn == "gelu" and xi < 0 else 0.0
            assert ri <= 1e-13 * (abs(vi) * cond + floor), (fn, xi, vi, ri)


def test_exact_points_are_exact() -> None:
    x = torch.tensor([0.0, -0.0, 1.0], dtype=F64)
    for fn, at0 in (("sigmoid", 0.5), ("tanh", 0.0), ("silu", 0.0), ("gelu_tanh", 0.0),
                    ("gelu", 0.0)):
        v, r = ts.enclose(fn, x, torch.zeros_like(x))
        assert float(v[0]) == at0 and float(v[1]) == at0
        assert float(r[0]) == 0 and float(r[1]) == 0 and float(r[2]) > 0
    E, RE = ts.exp_point(torch.tensor([0.0], dtype=F64))
    assert (float(E[0]), float(RE[0])) == (1.0, 0.0)


def _intervals(seed: int) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    V, R = [], []
    for _ in range(150):
        V.append(rng.choice([rng.uniform(-6, 6), rng.uniform(-40, 40), 0.0,
                             rng.choice([-1, 1]) * 2.0 ** rng.uniform(-60, 9)]))
        R.append(rng.choice([2.0 ** rng.uniform(-50, -3), 2.0 ** rng.uniform(-3, 3),
                             2.0 ** rng.uniform(-1070, -1000)]))
    V += [0.0, 0.0, 700.0, -700.0, -745.0, 1e300, 3.0, -3.0]
    R += [1e-300, 1e-6, 1.0, 1.0, 0.5, 1e299, 100.0, 1e-3]
    return V, R


@pytest.mark.parametrize("fn", FNS)
def test_interval_enclosures_contain_the_ends_and_are_tight(fn: str) -> None:
    """f at both interval ends (and an inner point) lies in the enclosure; with the radius
    halved, some interval end falls outside (the radius is not padding)."""
    V, R = _intervals(2)
    v, r = enc(fn, torch.tensor(V, dtype=F64), torch.tensor(R, dtype=F64))
    missed = 0
    for i, (vi, ri) in enumerate(zip(V, R)):
        c, rad = float(v[i]), float(r[i])
        ends = [Fraction(vi) - Fraction(ri), Fraction(vi) + Fraction(ri),
                Fraction(vi) + Fraction(ri) / 3]
        for e in ends:
            assert inside(exact(fn, e), c, rad, fn), (fn, vi, ri, c, rad)
        if math.isfinite(rad) and any(not inside(exact(fn, e), c, rad / 2, fn) for e in ends):
            missed += 1
    assert missed >= len(V) // 4, missed


@pytest.mark.parametrize("fn", FNS)
def test_derivative_enclosures_contain_the_exact_derivative(fn: str) -> None:
    V, R = _intervals(3)
    V, R = V + EXTREMES, R + [0.0] * len(EXTREMES)
    d, rd = der(fn, torch.tensor(V, dtype=F64), torch.tensor(R, dtype=F64))
    for i, (vi, ri) in enumerate(zip(V, R)):
        for e in (Fraction(vi) - Fraction(ri), Fraction(vi) + Fraction(ri), Fraction(vi)):
            rng = "sigmoid" if fn.startswith("softplus") else ""  # softplus' = sigmoid
            assert inside(exact_deriv(fn, e), float(d[i]), float(rd[i]), rng), (fn, vi, ri)


#: sup |f'''| (1/8, 2, 0.31, 0.78), rounded up: the margin between grid points for f''
THIRD = {"sigmoid": Fraction(1, 8), "tanh": Fraction(2), "silu": Fraction(32, 100),
         "gelu_tanh": Fraction(79, 100), "gelu": Fraction(76, 100)}


@pytest.mark.parametrize("fn", ts.SMOOTH_FNS)
def test_global_bounds_hold(fn: str) -> None:
    """sup |f'| <= LIP (sigmoid's 1/4 and tanh's 1 are exact: s (1 - s) <= 1/4 and
    1 - t^2 <= 1) and sup |f''| <= CURV over [-40, 40], on a grid of step h in Arb: f'' is a
    difference quotient of f' (its value at a point within 2^-60), and between grid
    points |f'| <= |f'(t)| + |f''(t)| h/2 + sup|f'''| h^2/8, |f''| <= |f''(t)| + sup|f'''|
    h/2.  Beyond 40 every f' is within e^-30 of 0 or 1, every f'' within e^-30 of 0."""
    h, eps = Fraction(1, 64), Fraction(1, 2 ** 60)
    top1, top2 = arb(0), arb(0)
    with ctx.workprec(200):
        for k in range(-40 * 64, 40 * 64 + 1):
            t = k * h
            d1 = exact_deriv(fn, t)
            d2 = abs((exact_deriv(fn, t + eps) - d1) / _a(eps)) + _a(eps * THIRD[fn])
            top1 = top1.max((abs(d1) + d2 * _a(h / 2) + _a(THIRD[fn] * h * h / 8)).upper())
            top2 = top2.max((d2 + _a(THIRD[fn] * h / 2)).upper())
    if fn in ("silu", "gelu_tanh", "gelu"):
        assert top1 <= _a(Fraction(ts.LIP[fn])), top1
    assert top2 <= _a(Fraction(ts.CURV[fn])), top2


def _ct(V: torch.Tensor, R: torch.Tensor) -> CT:
    return CT(V, R, torch.where(R == 0, quantum(V), torch.full(V.shape, -NOQ, dtype=torch.int64)),
              torch.zeros(V.shape, dtype=torch.bool))


def test_products_contain_the_exact_product() -> None:
    """(B, C, 1, 1) * (B, C, H, W): at the box corners and random points, in Fractions."""
    gen = torch.Generator().manual_seed(4)
    a = _ct(torch.randn(2, 3, 1, 1, generator=gen, dtype=F64),
            torch.rand(2, 3, 1, 1, generator=gen, dtype=F64) * 1e-6)
    bV = torch.randn(2, 3, 4, 4, generator=gen, dtype=F64) * 2.0 ** 40
    bR = torch.rand(2, 3, 4, 4, generator=gen, dtype=F64) * 1e-3
    bR[0, 0] = 0.0
    a.R[0, 0] = 0.0
    b = _ct(bV, bR)
    out = product(a, b, False)
    rng = random.Random(5)
    for idx in [(i, c, h, w) for i in range(2) for c in range(3) for h in range(4)
                for w in range(4)]:
        ai = (idx[0], idx[1], 0, 0)
        av, ar = Fraction(float(a.V[ai])), Fraction(float(a.R[ai]))
        bv, br = Fraction(float(b.V[idx])), Fraction(float(b.R[idx]))
        v, r = Fraction(float(out.V[idx])), Fraction(float(out.R[idx]))
        pts = [(av + s * ar, bv + t * br) for s in (-1, 1) for t in (-1, 1)]
        pts += [(av + Fraction(rng.uniform(-1, 1)) * ar, bv + Fraction(rng.uniform(-1, 1)) * br)
                for _ in range(3)]
        for p, q in pts:
            assert abs(p * q - v) <= r, idx
        if ar == 0 and br == 0:  # exact factors whose product is a float: exact
            assert (v == av * bv) == (r == 0)


def test_exact_products_and_zeros() -> None:
    a = _ct(torch.tensor([[0.0, 0.5, 3.0]], dtype=F64), torch.tensor([[0.0, 0.0, 0.0]], dtype=F64))
    b = _ct(torch.tensor([[7.25, -0.75, 1e-300]], dtype=F64),
            torch.tensor([[1e-3, 0.0, 0.0]], dtype=F64))
    a.C[:] = True
    out = product(a, b, False)
    assert out.V.tolist() == [[0.0, -0.375, 3e-300]]
    assert out.R[0, 0] == 0 and out.R[0, 1] == 0 and out.R[0, 2] > 0
    assert out.C.tolist() == [[True, False, False]]  # a locally constant exact 0 factor


def test_scaled_by_a_parameter() -> None:
    p = torch.nn.Parameter(torch.tensor([[[0.5]], [[-3.0]]]))
    x = _ct(torch.tensor([[[[1.0, 0.0]], [[2.0, 1e-3]]]], dtype=F64),
            torch.tensor([[[[0.0, 0.0]], [[0.0, 1e-9]]]], dtype=F64))
    x.C[:] = True
    out = scaled(x, p, None, False)
    assert out.V.tolist() == [[[[0.5, 0.0]], [[-6.0, -3e-3]]]]
    assert out.R[0, 0].eq(0).all() and out.R[0, 1, 0, 0] == 0
    assert abs(Fraction(float(out.V[0, 1, 0, 1])) - Fraction(-3) * Fraction(1e-3)) <= \
        Fraction(float(out.R[0, 1, 0, 1]))
    assert out.C.tolist() == [[[[False, True]], [[False, False]]]]  # p x with x = 0: constant


def test_tangents_of_products_and_activations() -> None:
    """The tangent of f(x) y at w + t d, by central differences in Arb: along an input
    tangent x' = 1 and y' = 2, the exact (f(x) y)' = f'(x) x' y + f(x) y'."""
    V = torch.tensor([[0.3, -1.7, 0.0, 4.0]], dtype=F64)
    R = torch.tensor([[0.0, 1e-9, 0.0, 1e-4]], dtype=F64)
    one = torch.ones_like(V)
    for fn in FNS:
        x = _ct(V, R)
        x.T = (one, torch.zeros_like(V))
        fa = ("softplus", (_beta(fn),)) if fn.startswith("softplus") else (fn, ())
        fx = smooth(fa, x, smooth_values(fa, x), True)
        y = _ct(torch.full_like(V, 1.5), torch.zeros_like(V))
        y.T = (2 * one, torch.zeros_like(V))
        out = product(fx, y, True)
        assert out.T is not None
        for j in range(4):
            for e in (Fraction(float(V[0, j])) - Fraction(float(R[0, j])),
                      Fraction(float(V[0, j])) + Fraction(float(R[0, j]))):
                ex = exact_deriv(fn, e) * _a(Fraction(3, 2)) + 2 * exact(fn, e)
                assert inside(ex, float(out.T[0][0, j]), float(out.T[1][0, j])), (fn, j)
