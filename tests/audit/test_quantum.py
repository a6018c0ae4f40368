"""Quantum bounds (THEORY.md 8.3, fact 4): for a float x = odd * 2^q, ``quantum`` gives q;
the tensor version and the one-float version used when a network is compiled agree with
q read off the exact rational (numerator and denominator of Fraction(x))."""

from __future__ import annotations

import math
from fractions import Fraction

import torch
from adcorrect.audit.certified import NOQ, quantum, quantum_of, some_at_most
from adcorrect.audit.floatact import float_const
from hypothesis import given, settings
from hypothesis import strategies as st


def _q(x: float) -> int:
    """q with x = odd * 2^q, from the exact rational."""
    if x == 0:
        return NOQ
    f = Fraction(x)
    if f.denominator > 1:
        return -(f.denominator.bit_length() - 1)  # odd numerator over 2^k
    n = abs(f.numerator)
    return (n & -n).bit_length() - 1


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_quantum_of_one_float_is_the_exact_one(x: float) -> None:
    assert quantum_of(x) == _q(x)
    assert int(quantum(torch.tensor([x], dtype=torch.float64))[0]) == _q(x)


def test_quantum_at_the_ends_of_the_format() -> None:
    for x, q in ((5e-324, -1074), (-3 * 5e-324, -1074), (2.0 ** -1022, -1022),
                 (1.0, 0), (6.0, 1), (0.75, -2), (math.ulp(1.0) + 1.0, -52),
                 (1.7976931348623157e308, 971), (0.0, NOQ)):
        assert quantum_of(x) == q, x
    assert float_const(Fraction(3, 4)) == (0.75, 0.0, -2)
    v, e, q = float_const(Fraction(1, 3))
    assert (v, q) == (1 / 3, -NOQ) and e > abs(Fraction(v) - Fraction(1, 3))


def _enclosures(data: st.DataObject, n: int) -> tuple[list[Fraction], torch.Tensor,
                                                     torch.Tensor, torch.Tensor]:
    """n exact values (k/8 * 2^e, some 0) with float64 enclosures: exact ones (radius 0,
    their quantum) or widened by a radius; returns (exact values, V, R, Q)."""
    ex, V, R, Q = [], [], [], []
    for _ in range(n):
        k = data.draw(st.integers(-8, 8))
        e = data.draw(st.integers(-3, 3))
        x = Fraction(k, 8) * Fraction(2) ** e
        r = data.draw(st.sampled_from([0.0, 0.0, 2.0 ** -30, 1e-9]))
        ex.append(x)
        V.append(float(x) + (r / 2 if data.draw(st.booleans()) else 0.0))
        R.append(r)
        Q.append(quantum_of(float(x)) if r == 0 else -NOQ)
    return ex, torch.tensor(V, dtype=torch.float64), torch.tensor(R, dtype=torch.float64), \
        torch.tensor(Q, dtype=torch.int64)


def _check(exact: list[Fraction], out: tuple[torch.Tensor, ...]) -> None:
    """Every exact value lies in [V - R, V + R]; R = 0 means V is it and a multiple of
    2^Q (Q = NOQ only for 0)."""
    V, R, Q = out
    for x, v, r, q in zip(exact, V.tolist(), R.tolist(), Q.tolist(), strict=True):
        assert abs(Fraction(v) - x) <= Fraction(r), (x, v, r)
        if r == 0:
            assert Fraction(v) == x
            assert x == 0 if q == NOQ else (x / Fraction(2) ** q).denominator == 1


@given(st.data())
def test_certified_products_and_sums_enclose_the_exact_values(data: st.DataObject) -> None:
    """Elementwise certified products and sums (BatchNorm's scale and shift, residual
    sums, with exact and inexact entries mixed, per-channel factors broadcast) against
    Fractions."""
    from adcorrect.audit.kernels import certified_add, certified_scale

    a, b = _enclosures(data, 6), _enclosures(data, 6)
    _check([x * y for x, y in zip(a[0], b[0], strict=True)], certified_scale(*a[1:], *b[1:]))
    _check([x + y for x, y in zip(a[0], b[0], strict=True)], certified_add(*a[1:], *b[1:]))
    c = _enclosures(data, 1)  # one factor for every entry (a channel's constant)
    _check([x * c[0][0] for x in a[0]], certified_scale(*a[1:], *c[1:]))
    _check([x + c[0][0] for x in a[0]], certified_add(*a[1:], *c[1:]))


def test_radii_are_never_subnormal() -> None:
    """The error floors are normal floats: every radius the kernels compute is 0 or at
    least 2^-1022, so later arithmetic on it runs at full speed (x86 takes 10-15x longer
    on a subnormal operand), and each floor is at least the multiple of 2^-1074 it
    replaces."""
    import math

    from adcorrect.audit.certified import ETA, FLOOR, normal_up
    from adcorrect.audit.kernels import certified_add, certified_scale
    from adcorrect.audit.tkernels import CT, affine, avg, max_pool

    assert FLOOR >= 2.0 ** -1022 and FLOOR >= 16 * ETA
    assert normal_up((2 ** 40 + 8) * 2.0 ** -1070) == FLOOR and normal_up(1.0) == 1.0
    g = torch.Generator().manual_seed(0)
    V = torch.randint(-2, 3, (4, 3, 6, 6), generator=g).to(torch.float64) / 4  # zeros
    R = torch.where(torch.rand(V.shape, generator=g) < 0.5, 0.0, 2.0 ** -40).to(torch.float64)
    Q = torch.where(R == 0, -2, -NOQ).to(torch.int64)
    x = CT(V, R, Q, torch.zeros(V.shape, dtype=torch.bool))

    def normal(r: torch.Tensor) -> bool:
        return not bool(((r > 0) & (r < 2.0 ** -1022)).any())

    Vz = V.clone()
    Vz[:, :, :3, :3] = 0.0  # zero receptive fields in examples that are not exact
    Rz = torch.where(Vz == 0, 0.0, R)
    w = torch.randint(-3, 4, (2, 3, 3, 3), generator=g).to(torch.float32) / 8
    conv = affine(CT(Vz, Rz, Q, x.C), w, None, False, True,
                  lambda t, k, b: torch.nn.functional.conv2d(t, k, b), 28)
    assert normal(conv.R)
    # receptive fields of exact zeros give exact zeros (fact 8); no other output is exact
    assert bool((conv.R[:, :, 0, 0] == 0).all()) and bool((conv.V[:, :, 0, 0] == 0).all())
    assert bool((conv.R.flatten(2)[:, :, 1:] > 0).all())
    out, _ = max_pool(x, 2, [2, 2], [2, 2], [0, 0], [1, 1], False)
    assert normal(out.R)
    assert normal(avg(x, lambda t: torch.nn.functional.avg_pool2d(t, 2), 4).R)
    flat = [t.reshape(-1) for t in (V, R, Q)]
    assert normal(certified_scale(*flat, *flat)[1]) and normal(certified_add(*flat, *flat)[1])
    assert math.isfinite(FLOOR)


def test_all_finite_sees_every_nan_and_infinity_and_survives_an_overflowing_sum() -> None:
    from adcorrect.audit.certified import all_finite

    big = torch.full((4,), 1.5e308, dtype=torch.float64)  # finite entries, the sum overflows
    assert all_finite(big) and all_finite(torch.tensor([1, 2, 3]))
    assert all_finite(torch.zeros(0)) and all_finite(torch.tensor([3.0e38, 3.0e38]))
    for bad in (math.inf, -math.inf, math.nan):
        for t in (torch.tensor([0.0, bad, 1.0]), torch.tensor([1.5e308, bad, -1.5e308],
                                                             dtype=torch.float64)):
            assert not all_finite(t)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                    st.sampled_from([0.0, -0.0, 5e-324, -5e-324])),
                          st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                    st.sampled_from([0.0, -0.0, 5e-324]))),
                max_size=12))
def test_some_at_most_is_the_comparison(pairs: list[tuple[float, float]]) -> None:
    """min(a - b) <= 0 read as 'some a_i <= b_i': the same answer as the entrywise
    comparison for any floats (NaNs, infinities, signed zeros, subnormals), tensor or
    scalar b."""
    a = torch.tensor([p[0] for p in pairs], dtype=torch.float64)
    b = torch.tensor([p[1] for p in pairs], dtype=torch.float64)
    assert some_at_most(a, b) == bool((a <= b).any())
    assert some_at_most(a, 0.0) == bool((a <= 0.0).any())
    assert some_at_most(a.reshape(-1, 1), b) == bool((a.reshape(-1, 1) <= b).any())
