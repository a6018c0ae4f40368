"""BatchNorm with the batch's statistics on certified tensors (audit/tnorm.py): the exact
output at any point of the input box, computed in Arb balls (python-flint) from the exact
rationals, lies within the radius of the float value; exact outputs are exact."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch
from adcorrect.audit.certified import NOQ
from adcorrect.audit.tdd import DD
from adcorrect.audit.tnorm import batch_norm_train, dd_batch_norm_train, tree_sum
from flint import arb, ctx

ctx.prec = 300


def _arb(q: Fraction) -> arb:
    return arb(q.numerator) / arb(q.denominator)


def exact_bn_point(s: list[list[arb]], g: list[arb], b: list[arb], eps: float
                   ) -> list[list[arb]]:
    """BatchNorm per channel (rows of s) on Arb balls (exact rationals at 300 bits, or
    the points of difference quotients)."""
    out = []
    for c, row in enumerate(s):
        N = len(row)
        mu = sum(row, arb(0)) / N
        var = sum(((x - mu) ** 2 for x in row), arb(0)) / N
        sig = (var + _arb(Fraction(eps))).sqrt()
        out.append([g[c] * (x - mu) / sig + b[c] for x in row])
    return out


def exact_bn(s: list[list[Fraction]], g: list[float], b: list[float], eps: float
             ) -> list[list[arb]]:
    """Per channel (rows of s): gamma (s - mean) / sqrt(var + eps) + beta in Arb balls."""
    return exact_bn_point([[_arb(x) for x in row] for row in s],
                          [_arb(Fraction(v)) for v in g], [_arb(Fraction(v)) for v in b], eps)


def points(V: torch.Tensor, R: torch.Tensor, gen: torch.Generator) -> list[torch.Tensor]:
    """Corners and interior points of the box |s - V| <= R, as multipliers t in [-1, 1]:
    the corners that move every entry away from (towards) its channel's mean change the
    variance most."""
    dims = [0, *range(2, V.dim())]
    out = torch.sign(V - V.mean(dims, keepdim=True))
    return [torch.ones_like(V), -torch.ones_like(V), out, -out,
            torch.randint(0, 2, V.shape, generator=gen).to(torch.float64) * 2 - 1,
            torch.rand(V.shape, generator=gen, dtype=torch.float64) * 2 - 1]


def check_box(V: torch.Tensor, R: torch.Tensor, g: list[float], b: list[float], eps: float,
              gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Every point's exact output within the kernel's radius; returns (Y, radius)."""
    w, bi = torch.tensor(g, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    Y, RY, _ = batch_norm_train(V, R, w, bi, eps)
    C = V.shape[1]
    perm = (1, 0, *range(2, V.dim()))
    for t in points(V, R, gen):
        rows = []
        for c in range(C):
            vs = V.permute(perm)[c].reshape(-1).tolist()
            rs = R.permute(perm)[c].reshape(-1).tolist()
            tt = t.permute(perm)[c].reshape(-1).tolist()
            rows.append([Fraction(v) + Fraction(r) * Fraction(x) for v, r, x in zip(vs, rs, tt)])
        ex = exact_bn(rows, g, b, eps)
        for c in range(C):
            ys = Y.permute(perm)[c].reshape(-1).tolist()
            rad = RY.permute(perm)[c].reshape(-1).tolist()
            for yv, rv, e in zip(ys, rad, ex[c]):
                dev = abs(e - _arb(Fraction(yv)))
                assert dev.upper() <= arb(rv), (c, yv, rv, dev)
    return Y, RY


@pytest.mark.parametrize("seed", range(6))
def test_exact_outputs_lie_within_the_radii(seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    B, C, H = 3, 2, 3 + seed % 2  # N = 27 or 48 entries per channel (not powers of 2)
    V = torch.randn(B, C, H, H, generator=gen, dtype=torch.float64) * 2 ** (seed - 3)
    if seed % 3 == 1:
        V = V + 1000.0  # a mean far above the spread
    V[0, 1, 0, 0] = V[0, 1].mean() + 10 * V[:, 1].std()  # an outlier: |n| near sqrt(N)
    R = torch.rand(V.shape, generator=gen, dtype=torch.float64) * 1e-6 * (seed % 2)
    g = [1.5, -0.25]
    b = [0.125, -3.0]
    Y, RY = check_box(V, R, g, b, 1e-5, gen)
    # the radii are small: near u without input radii, within 10x of them with
    scale = float(RY.max() / Y.abs().max())
    assert scale < (1e-12 if seed % 2 == 0 else 1e-4)


def test_two_entries_and_tiny_variance() -> None:
    gen = torch.Generator().manual_seed(9)
    V = torch.tensor([[[1.0, 1.0 + 2 ** -40]], [[1.0 - 2 ** -41, 1.0]]], dtype=torch.float64)
    V = V.reshape(2, 2, 1)  # B = 2, C = 2, one position: N = 2
    R = torch.zeros_like(V)
    check_box(V, R, [1.0, 2.0], [0.0, 0.5], 1e-5, gen)
    check_box(V, torch.full_like(V, 2.0 ** -45), [1.0, 2.0], [0.0, 0.5], 1e-5, gen)


def test_constant_channel_and_zero_weight_are_exact() -> None:
    """A channel of equal exact inputs is beta exactly (its deviation is 0), and so is a
    channel with gamma = 0; others are inexact (quantum -NOQ)."""
    V = torch.tensor([[[3.0, 3.0], [1.0, 2.0], [5.0, 7.0]],
                      [[3.0, 3.0], [4.0, 0.5], [6.0, 1.0]]], dtype=torch.float64)
    R = torch.zeros_like(V)
    R[0, 2, 0] = 1e-3
    Y, RY, Q = batch_norm_train(V, R, torch.tensor([2.0, 0.0, 1.0], dtype=torch.float64),
                                torch.tensor([0.375, -1.5, 0.0], dtype=torch.float64), 1e-5)
    assert Y[:, 0].tolist() == [[0.375, 0.375]] * 2 and RY[:, 0].eq(0).all()
    assert Y[:, 1].tolist() == [[-1.5, -1.5]] * 2 and RY[:, 1].eq(0).all()
    assert Q[0, 0, 0] == -3 and Q[0, 1, 0] == -1  # 0.375 = 3 * 2^-3, -1.5 = -3 * 2^-1
    assert bool((RY[:, 2] > 0).all()) and bool((Q[:, 2] == -NOQ).all())


def test_zero_eps_on_a_constant_channel_has_no_bound() -> None:
    """eps = 0 and a variance that may vanish: 0 / 0, an infinite radius, not a value."""
    V = torch.tensor([[[2.0]], [[2.0]]], dtype=torch.float64)
    _, RY, _ = batch_norm_train(V, torch.zeros_like(V), None, None, 0.0)
    assert bool(torch.isinf(RY).all())


def test_tree_sum_is_within_its_bound() -> None:
    gen = torch.Generator().manual_seed(3)
    v = torch.randn(4, 1000, generator=gen, dtype=torch.float64) * 1e8
    v[1] = v[1] * torch.logspace(-30, 30, 1000, dtype=torch.float64)  # wild magnitudes
    v[2, :500] = 1.0
    v[2, 500:] = -1.0  # cancels exactly
    s, err = tree_sum(v)
    for c in range(4):
        exact = sum((Fraction(x) for x in v[c].tolist()), Fraction(0))
        assert abs(Fraction(float(s[c])) - exact) <= Fraction(float(err[c]))
        # the bound is near u |sum|, far below gamma_N sum |v|
        naive = 1000 * 2.0 ** -53 * float(v[c].abs().sum())
        assert float(err[c]) <= max(1e-3 * naive, 1e-300)
    assert float(s[2]) == 0.0 and math.isfinite(float(err[2]))


@pytest.mark.parametrize("seed", range(4))
def test_double_double_outputs_enclose_the_exact_ones(seed: int) -> None:
    """The precise pass's kernel: inputs H + L (L about u of H) with radii R; the exact
    output at corners and interior points of the box lies within the output radius of
    the output's H + L, and without input radii that radius is near u^2 of the values."""
    gen = torch.Generator().manual_seed(seed)
    shape = (3, 2, 4, 5)  # N = 60 per channel
    H = torch.randn(shape, generator=gen, dtype=torch.float64) * 2 ** (2 * seed - 3)
    if seed == 1:
        H = H + 300.0  # a mean far above the spread
    H[0, 1, 0, 0] = H[:, 1].mean() + 9 * H[:, 1].std()  # an outlier
    L = H * torch.randn(shape, generator=gen, dtype=torch.float64) * 2.0 ** -54
    R = torch.rand(shape, generator=gen, dtype=torch.float64) * 2.0 ** -80 * (seed % 2)
    g, b = [0.75, -2.5], [0.5, 1.25]
    out = dd_batch_norm_train(DD(H, L, R), torch.tensor(g, dtype=torch.float64),
                              torch.tensor(b, dtype=torch.float64), 1e-5)
    perm = (1, 0, 2, 3)
    V = [[Fraction(h) + Fraction(lo) for h, lo in zip(H.permute(perm)[c].reshape(-1).tolist(),
                                                      L.permute(perm)[c].reshape(-1).tolist())]
         for c in range(2)]
    rs = [[Fraction(r) for r in R.permute(perm)[c].reshape(-1).tolist()] for c in range(2)]
    oh, ol, orad = (t.permute(perm) for t in (out.H, out.L, out.R))
    for t in points(H, R, gen):
        ts = t.permute(perm)
        rows = [[v + r * Fraction(x) for v, r, x in zip(V[c], rs[c],
                                                         ts[c].reshape(-1).tolist())]
                for c in range(2)]
        ex = exact_bn(rows, g, b, 1e-5)
        for c in range(2):
            for k, e in enumerate(ex[c]):
                i = (k // 20, (k // 5) % 4, k % 5)
                got = Fraction(float(oh[c][i])) + Fraction(float(ol[c][i]))
                assert abs(e - _arb(got)).upper() <= arb(float(orad[c][i])), (c, k)
    if seed % 2 == 0:
        assert float((out.R / out.H.abs()).max()) < 1e-25



@pytest.mark.parametrize("seed", range(3))
def test_tangent_encloses_the_exact_directional_derivative(seed: int) -> None:
    """The tangent pass's rule against a central difference quotient in Arb with step
    2^-150 (its error, about the step squared, is far below the enclosures' radii): at
    points of the input box, along input tangents within theirs, with weight and bias
    directions."""
    from adcorrect.audit.tkernels import CT
    from adcorrect.audit.tnorm import tangent

    gen = torch.Generator().manual_seed(seed)
    shape = (3, 2, 2, 2)
    V = torch.randn(shape, generator=gen, dtype=torch.float64)
    R = torch.rand(shape, generator=gen, dtype=torch.float64) * 1e-9 * seed
    tv = torch.randn(shape, generator=gen, dtype=torch.float64)
    tr = torch.rand(shape, generator=gen, dtype=torch.float64) * 1e-9 * (seed % 2)
    g, dg, db = (torch.randn(2, generator=gen, dtype=torch.float64) for _ in range(3))
    x = CT(V, R, torch.zeros(shape, dtype=torch.int64), torch.zeros(shape, dtype=torch.bool),
           T=(tv, tr))
    ov, orad = tangent(x, 1e-5, g, dg, db)
    perm = (1, 0, 2, 3)

    def rows(t: torch.Tensor) -> list[list[Fraction]]:
        return [[Fraction(v) for v in t.permute(perm)[c].reshape(-1).tolist()]
                for c in range(2)]

    h = arb(2) ** -150
    for ts in points(V, R, gen)[:3]:
        for us in points(tv, tr, gen)[:3]:
            sv = [[_arb(v + r * t) for v, r, t in zip(a, b_, c)]
                  for a, b_, c in zip(rows(V), rows(R), rows(ts))]
            dv = [[_arb(v + r * t) for v, r, t in zip(a, b_, c)]
                  for a, b_, c in zip(rows(tv), rows(tr), rows(us))]
            ga = [_arb(Fraction(v)) for v in g.tolist()]
            da = [_arb(Fraction(v)) for v in dg.tolist()]
            ba = [_arb(Fraction(v)) for v in db.tolist()]
            up = exact_bn_point([[x + h * d for x, d in zip(a, b_)] for a, b_ in zip(sv, dv)],
                                [a + h * d for a, d in zip(ga, da)], [h * d for d in ba], 1e-5)
            dn = exact_bn_point([[x - h * d for x, d in zip(a, b_)] for a, b_ in zip(sv, dv)],
                                [a - h * d for a, d in zip(ga, da)], [-h * d for d in ba], 1e-5)
            for c in range(2):
                for k in range(12):
                    i = (k // 4, (k // 2) % 2, k % 2)
                    quotient = (up[c][k] - dn[c][k]) / (2 * h)
                    dev = abs(quotient - _arb(Fraction(float(ov.permute(perm)[c][i]))))
                    assert dev.upper() <= arb(float(orad.permute(perm)[c][i])) + arb(2) ** -200
