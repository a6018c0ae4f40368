"""Tests for adcorrect.numbers.smoothfns and adcorrect.numbers.cvalue.

Every expected value is derived independently of the modules under test: reference values
come from mpmath at 110 significant digits evaluated on the mathematical definitions written
out below (not on the module's formulas), and special values are hand-derived closed forms.
Enclosure checks are exact: a ball's bounds are exact rationals (``cvalue.bounds``) and the
comparison against the reference is done in mpmath with a margin far above mpmath's own
error (10^-95 relative) and far below any enclosure radius at 256 bits.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from fractions import Fraction

import mpmath
import pytest
from adcorrect.core.errors import InputError, Undecided
from adcorrect.numbers import cvalue
from adcorrect.numbers.cvalue import Num
from adcorrect.numbers.smoothfns import SMOOTH, Kink
from flint import arb, ctx
from mpmath import mpf

DPS = 110
MARGIN = mpf(10) ** -95
PRECISIONS = (53, 64, 128, 256)
ALPHAS = (Fraction(1, 2), Fraction(1), Fraction(2), Fraction(-1, 4))
BETAS = (Fraction(1, 2), Fraction(1), Fraction(3))
POSITIVE_ONLY = frozenset({"log", "sqrt", "rsqrt", "reciprocal"})
N_EVALUATIONS = 1000

Ref = Callable[[mpf, tuple[mpf, ...]], mpf]


# ---------------------------------------------------------------------------------------
# Reference definitions (mpmath, from the mathematical definitions)
# ---------------------------------------------------------------------------------------


def _sigmoid(x: mpf) -> mpf:
    return 1 / (1 + mpmath.exp(-x))


def _sech2(x: mpf) -> mpf:
    return mpmath.sech(x) ** 2


def _phi_pdf(x: mpf) -> mpf:
    return mpmath.exp(-(x**2) / 2) / mpmath.sqrt(2 * mpmath.pi)


def _phi_cdf(x: mpf) -> mpf:
    return (1 + mpmath.erf(x / mpmath.sqrt(2))) / 2


def _kappa() -> mpf:
    return mpf(44715) / 10**6  # 0.044715 exactly


def _gelu_tanh_u(x: mpf) -> mpf:
    return mpmath.sqrt(2 / mpmath.pi) * (x + _kappa() * x**3)


def _gelu_tanh(x: mpf) -> mpf:
    return x / 2 * (1 + mpmath.tanh(_gelu_tanh_u(x)))


def _gelu_tanh_d(x: mpf) -> mpf:
    # d/dx [x/2 (1 + tanh u)] = (1 + tanh u)/2 + x/2 sech^2(u) u',
    # u' = sqrt(2/pi) (1 + 3 kappa x^2)
    u = _gelu_tanh_u(x)
    du = mpmath.sqrt(2 / mpmath.pi) * (1 + 3 * _kappa() * x**2)
    return (1 + mpmath.tanh(u)) / 2 + x / 2 * _sech2(u) * du


def _softplus1(x: mpf) -> mpf:
    return mpmath.log1p(mpmath.exp(x))


def _elu(x: mpf, alpha: mpf) -> mpf:
    return x if x > 0 else alpha * (mpmath.exp(x) - 1)


def _elu_d(x: mpf, alpha: mpf) -> mpf:
    if x > 0:
        return mpf(1)
    if x < 0:
        return alpha * mpmath.exp(x)
    assert alpha == 1  # no kink at 0 when alpha == 1: both one-sided slopes are 1
    return mpf(1)


def _mish_d(x: mpf) -> mpf:
    sp = _softplus1(x)
    return mpmath.tanh(sp) + x * _sech2(sp) * _sigmoid(x)


def _silu_d(x: mpf) -> mpf:
    s = _sigmoid(x)
    return s * (1 + x * (1 - s))


REFERENCE: dict[str, tuple[Ref, Ref]] = {
    "tanh": (lambda x, a: mpmath.tanh(x), lambda x, a: _sech2(x)),
    "sigmoid": (lambda x, a: _sigmoid(x), lambda x, a: _sigmoid(x) * (1 - _sigmoid(x))),
    "gelu": (lambda x, a: x / 2 * (1 + mpmath.erf(x / mpmath.sqrt(2))),
             lambda x, a: _phi_cdf(x) + x * _phi_pdf(x)),
    "gelu_tanh": (lambda x, a: _gelu_tanh(x), lambda x, a: _gelu_tanh_d(x)),
    "silu": (lambda x, a: x * _sigmoid(x), lambda x, a: _silu_d(x)),
    "softplus": (lambda x, a: _softplus1(a[0] * x) / a[0], lambda x, a: _sigmoid(a[0] * x)),
    "elu": (lambda x, a: _elu(x, a[0]), lambda x, a: _elu_d(x, a[0])),
    "mish": (lambda x, a: x * mpmath.tanh(_softplus1(x)), lambda x, a: _mish_d(x)),
    "exp": (lambda x, a: mpmath.exp(x), lambda x, a: mpmath.exp(x)),
    "log": (lambda x, a: mpmath.log(x), lambda x, a: 1 / x),
    "sqrt": (lambda x, a: mpmath.sqrt(x), lambda x, a: 1 / (2 * mpmath.sqrt(x))),
    "rsqrt": (lambda x, a: 1 / mpmath.sqrt(x), lambda x, a: -x ** mpf(-1.5) / 2),
    "reciprocal": (lambda x, a: 1 / x, lambda x, a: -1 / x**2),
}

#: Names whose SmoothFn takes one parameter, and the parameter values drawn for it.
PARAMS: dict[str, tuple[Fraction, ...]] = {"elu": ALPHAS, "softplus": BETAS}


def _mp(q: Fraction) -> mpf:
    return mpf(q.numerator) / q.denominator


def _random_x(rng: random.Random) -> Fraction:
    if rng.random() < 0.5:
        return Fraction(rng.randint(-40, 40), rng.randint(1, 12))
    k = rng.randint(0, 10)
    return Fraction(rng.randint(-(2 ** (k + 4)), 2 ** (k + 4)), 2**k)  # |x| <= 16


def _check_enclosure(got: Num, ref: mpf, prec: int, what: str) -> None:
    # bounds() rounds outward at the ambient precision (see test_bounds_*_precision below):
    # read them at the precision the ball was computed with.
    with cvalue.precision(prec):
        lo, hi = cvalue.bounds(got)
    assert type(lo) is Fraction and type(hi) is Fraction, what
    assert lo <= hi, what
    mlo, mhi = _mp(lo), _mp(hi)
    margin = MARGIN * max(mpf(1), abs(ref))
    assert mlo - margin <= ref <= mhi + margin, (
        f"{what}: reference {mpmath.nstr(ref, 40)} outside "
        f"[{mpmath.nstr(mlo, 40)}, {mpmath.nstr(mhi, 40)}]"
    )
    width = hi - lo
    assert _mp(width) < mpf(2) ** -(prec - 20) * max(mpf(1), abs(ref)), (
        f"{what}: enclosure too wide ({mpmath.nstr(_mp(width), 5)})"
    )


# ---------------------------------------------------------------------------------------
# 0. The reference definitions themselves: closed-form derivatives vs numerical ones
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_derivatives_match_numerical_differentiation(name: str) -> None:
    """Guard the hand-derived derivative formulas above against typos."""
    value, deriv = REFERENCE[name]
    args_list = PARAMS.get(name, (Fraction(1),))
    with mpmath.workdps(60):
        for q in (Fraction(-7, 3), Fraction(-1, 2), Fraction(1, 3), Fraction(5, 4)):
            if name in POSITIVE_ONLY and q <= 0:
                continue
            for arg in args_list:
                a = (_mp(arg),)
                x = _mp(q)
                numeric = mpmath.diff(lambda t, a=a: value(t, a), x)
                assert abs(numeric - deriv(x, a)) < mpf(10) ** -40, (name, q, arg)


def test_reference_table_covers_smooth() -> None:
    assert set(REFERENCE) == set(SMOOTH)
    for name, fn in SMOOTH.items():
        assert fn.nargs == (1 if name in PARAMS else 0), name


# ---------------------------------------------------------------------------------------
# 1. Enclosures contain the 100-digit values, and are tight
# ---------------------------------------------------------------------------------------


def test_random_enclosures_contain_reference() -> None:
    rng = random.Random(20240611)
    names = sorted(SMOOTH)
    checked = 0
    old_prec = ctx.prec
    with mpmath.workdps(DPS):
        while checked < N_EVALUATIONS:
            name = rng.choice(names)
            want_deriv = rng.random() < 0.5
            x = _random_x(rng)
            prec = rng.choice(PRECISIONS)
            params = PARAMS.get(name)
            args: tuple[Fraction, ...] = (rng.choice(params),) if params else ()
            if name in POSITIVE_ONLY and x <= 0:
                continue
            if want_deriv and any(k.at == x for k in SMOOTH[name].kinks(args)):
                continue
            fn = SMOOTH[name]
            ref_value, ref_deriv = REFERENCE[name]
            ref_args = tuple(_mp(a) for a in args)
            ref = (ref_deriv if want_deriv else ref_value)(_mp(x), ref_args)
            prime = "'" if want_deriv else ""
            what = f"{name}{prime}(x={x}, args={args}, prec={prec})"
            with cvalue.precision(prec):
                got = (fn.deriv if want_deriv else fn.value)(x, args)
                # the same point handed over as a ball instead of an exact rational
                got_ball = (fn.deriv if want_deriv else fn.value)(cvalue.ball(x), args)
            _check_enclosure(got, ref, prec, what)
            _check_enclosure(got_ball, ref, prec, what + " [ball input]")
            checked += 1
    assert ctx.prec == old_prec


def test_default_parameter_is_one() -> None:
    x = Fraction(-3, 2)
    for name in PARAMS:
        fn = SMOOTH[name]
        with cvalue.precision(128):
            for f in (fn.value, fn.deriv):
                d_lo, d_hi = cvalue.bounds(f(x, ()))
                o_lo, o_hi = cvalue.bounds(f(x, (Fraction(1),)))
                assert max(d_lo, o_lo) <= min(d_hi, o_hi), name


# ---------------------------------------------------------------------------------------
# 2. Exact special values
# ---------------------------------------------------------------------------------------

Z = Fraction(0)


@pytest.mark.parametrize(
    ("name", "deriv", "x", "args", "expected"),
    [
        ("tanh", False, Z, (), Fraction(0)),
        ("sigmoid", False, Z, (), Fraction(1, 2)),
        ("gelu", False, Z, (), Fraction(0)),
        ("gelu", True, Z, (), Fraction(1, 2)),
        ("gelu_tanh", False, Z, (), Fraction(0)),
        ("gelu_tanh", True, Z, (), Fraction(1, 2)),
        ("silu", False, Z, (), Fraction(0)),
        ("silu", True, Z, (), Fraction(1, 2)),
        ("mish", False, Z, (), Fraction(0)),
        ("mish", True, Z, (), Fraction(3, 5)),  # tanh(log 2) = (4-1)/(4+1)
        ("exp", False, Z, (), Fraction(1)),
        ("exp", True, Z, (), Fraction(1)),
        ("log", False, Fraction(1), (), Fraction(0)),
        ("log", True, Fraction(1, 4), (), Fraction(4)),
        ("sqrt", False, Fraction(9, 4), (), Fraction(3, 2)),
        ("sqrt", False, Z, (), Fraction(0)),
        ("sqrt", True, Fraction(9, 4), (), Fraction(1, 3)),
        ("rsqrt", False, Fraction(4), (), Fraction(1, 2)),
        ("rsqrt", False, Fraction(25, 9), (), Fraction(3, 5)),
        ("rsqrt", True, Fraction(4), (), Fraction(-1, 16)),
        ("reciprocal", False, Fraction(-2, 3), (), Fraction(-3, 2)),
        ("reciprocal", True, Fraction(2), (), Fraction(-1, 4)),
        ("softplus", True, Z, (Fraction(3),), Fraction(1, 2)),
        ("elu", False, Z, (Fraction(2),), Fraction(0)),
        ("elu", True, Fraction(1, 3), (Fraction(2),), Fraction(1)),
        ("elu", True, Z, (Fraction(1),), Fraction(1)),
    ],
)
def test_exact_special_values(
    name: str, deriv: bool, x: Fraction, args: tuple[Fraction, ...], expected: Fraction
) -> None:
    fn = SMOOTH[name]
    for prec in (53, 256):
        with cvalue.precision(prec):
            got = (fn.deriv if deriv else fn.value)(x, args)
        assert type(got) is Fraction, (name, deriv, x, got)
        assert got == expected


@pytest.mark.parametrize("alpha", [*ALPHAS, Fraction(7, 3)])
@pytest.mark.parametrize("x", [Fraction(1, 3), Fraction(5), Fraction(1, 2**40), Fraction(22, 7)])
def test_elu_is_identity_on_exact_positive(alpha: Fraction, x: Fraction) -> None:
    got = SMOOTH["elu"].value(x, (alpha,))
    assert type(got) is Fraction
    assert got == x


def test_elu_kinks() -> None:
    for alpha in ALPHAS:
        kinks = SMOOTH["elu"].kinks((alpha,))
        if alpha == 1:
            assert kinks == ()
        else:
            assert kinks == (Kink(at=Fraction(0), left=alpha, right=Fraction(1), torch=alpha),)
    assert SMOOTH["elu"].kinks(()) == ()
    for name, fn in SMOOTH.items():
        if name != "elu":
            assert fn.kinks(()) == (), name
            assert fn.kinks((Fraction(2),)) == (), name


def test_elu_derivative_at_its_kink_is_undecided() -> None:
    with pytest.raises(Undecided):
        SMOOTH["elu"].deriv(Fraction(0), (Fraction(1, 2),))


def test_elu_straddling_ball_encloses_both_branches() -> None:
    # x in [-1e-3, 1e-3]: the value lies in [alpha (e^-1e-3 - 1), 1e-3] for alpha = 2
    x = arb("0 +/- 0.001")
    lo, hi = cvalue.bounds(SMOOTH["elu"].value(x, (Fraction(2),)))
    with mpmath.workdps(DPS):
        assert _mp(lo) <= 2 * (mpmath.exp(mpf(-1) / 1000) - 1)
        assert _mp(hi) >= mpf(1) / 1000


# ---------------------------------------------------------------------------------------
# 3. Domain errors
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["log", "sqrt", "rsqrt"])
@pytest.mark.parametrize("x", [Fraction(-1), Fraction(-9, 4), Fraction(-1, 10**30)])
def test_negative_exact_is_input_error(name: str, x: Fraction) -> None:
    with pytest.raises(InputError):
        SMOOTH[name].value(x, ())


@pytest.mark.parametrize("name", ["log", "rsqrt", "reciprocal"])
def test_exact_zero_is_input_error(name: str) -> None:
    with pytest.raises(InputError):
        SMOOTH[name].value(Fraction(0), ())


@pytest.mark.parametrize("name", ["log", "sqrt", "rsqrt"])
def test_certainly_negative_ball_is_input_error(name: str) -> None:
    with pytest.raises(InputError):
        SMOOTH[name].value(arb(-1) / 3, ())


@pytest.mark.parametrize("name", ["log", "sqrt", "rsqrt", "reciprocal"])
@pytest.mark.parametrize("make", ["string", "cancellation"])
def test_ball_containing_zero_is_undecided(name: str, make: str) -> None:
    x = arb("0 +/- 0.001") if make == "string" else arb(1) / 3 - arb(1) / 3
    assert cvalue.sign(x) is None
    with pytest.raises(Undecided):
        SMOOTH[name].value(x, ())


# ---------------------------------------------------------------------------------------
# 4. cvalue
# ---------------------------------------------------------------------------------------


def test_mul_by_exact_zero_is_exact_zero() -> None:
    b = arb(1) / 3
    for got in (cvalue.mul(Fraction(0), b), cvalue.mul(b, Fraction(0))):
        assert type(got) is Fraction and got == 0
    assert cvalue.is_zero(cvalue.mul(Fraction(0), arb("0 +/- 1e10")))


def test_mul_by_exact_one_and_exact_products() -> None:
    b = arb(1) / 3
    assert cvalue.mul(Fraction(1), b) is b
    assert cvalue.mul(b, Fraction(1)) is b
    p = cvalue.mul(Fraction(2, 3), Fraction(9, 4))
    assert type(p) is Fraction and p == Fraction(3, 2)
    lo, hi = cvalue.bounds(cvalue.mul(Fraction(3), b))
    assert lo <= 1 <= hi


def test_add_sub_exact() -> None:
    s = cvalue.add(Fraction(1, 3), Fraction(1, 6))
    assert type(s) is Fraction and s == Fraction(1, 2)
    d = cvalue.sub(Fraction(1, 3), Fraction(1, 2))
    assert type(d) is Fraction and d == Fraction(-1, 6)
    b = arb(1) / 7
    assert cvalue.add(Fraction(0), b) is b
    assert cvalue.add(b, Fraction(0)) is b
    lo, hi = cvalue.bounds(cvalue.add(b, Fraction(6, 7)))
    assert lo <= 1 <= hi
    assert not cvalue.is_exact(cvalue.add(b, b))


def test_sign() -> None:
    assert cvalue.sign(Fraction(-5, 3)) == -1
    assert cvalue.sign(Fraction(0)) == 0
    assert cvalue.sign(Fraction(1, 10**40)) == 1
    assert cvalue.sign(arb(1) / 3) == 1
    assert cvalue.sign(-arb(1) / 3) == -1
    assert cvalue.sign(arb("0 +/- 0.001")) is None
    assert cvalue.sign(arb(1) / 3 - arb(1) / 3) is None
    assert cvalue.sign(arb("0.5 +/- 0.25")) == 1
    assert cvalue.nonzero(arb("-0.5 +/- 0.25"))
    assert not cvalue.nonzero(arb("0.5 +/- 0.75"))
    assert not cvalue.nonzero(Fraction(0))


def test_compare() -> None:
    third = arb(1) / 3
    assert cvalue.compare(third, Fraction(1, 4)) == 1
    assert cvalue.compare(third, Fraction(1, 2)) == -1
    assert cvalue.compare(third, Fraction(1, 3)) is None  # 1/3 is not a dyadic ball
    assert cvalue.compare(Fraction(1, 3), Fraction(1, 3)) == 0
    assert cvalue.compare(Fraction(1, 3), Fraction(1, 4)) == 1
    assert cvalue.compare(arb(3) / 4, Fraction(1, 2)) == 1  # exact ball


def test_sign_of_exact_zero_ball_is_zero() -> None:
    assert cvalue.sign(arb(0)) == 0
    assert cvalue.compare(arb(3) / 4, Fraction(3, 4)) == 0  # exact ball, exact difference


def test_bounds() -> None:
    assert cvalue.bounds(Fraction(-2, 7)) == (Fraction(-2, 7), Fraction(-2, 7))
    exact = arb(3) / 4
    assert exact.is_exact()
    assert cvalue.bounds(exact) == (Fraction(3, 4), Fraction(3, 4))
    assert cvalue.bounds(arb(-5) * 2**-70) == (Fraction(-5, 2**70),) * 2
    assert cvalue.bounds(arb(3) * 2**100) == (Fraction(3 * 2**100),) * 2
    with cvalue.precision(64):
        lo, hi = cvalue.bounds(arb(1) / 3)
    assert lo < Fraction(1, 3) < hi
    assert hi - lo < Fraction(1, 2**60)
    lo, hi = cvalue.bounds(arb("0 +/- 0.001"))
    assert lo <= Fraction(-1, 1000) and hi >= Fraction(1, 1000)
    assert lo < 0 < hi


def test_exact_of_and_ball() -> None:
    assert cvalue.exact_of(arb(5) / 8) == Fraction(5, 8)
    assert cvalue.exact_of(arb(1) / 3) is None
    b = cvalue.ball(Fraction(1, 3))
    assert isinstance(b, arb)
    lo, hi = cvalue.bounds(b)
    assert lo <= Fraction(1, 3) <= hi
    assert cvalue.exact_of(cvalue.ball(Fraction(-3, 16))) == Fraction(-3, 16)
    same = arb(2)
    assert cvalue.ball(same) is same


def test_div() -> None:
    q = cvalue.div(Fraction(1), Fraction(3))
    assert type(q) is Fraction and q == Fraction(1, 3)
    z = cvalue.div(Fraction(0), arb(1) / 3)
    assert type(z) is Fraction and z == 0
    assert cvalue.div(Fraction(1), arb("0 +/- 0.001")) is None
    with pytest.raises(ZeroDivisionError):
        cvalue.div(Fraction(1), Fraction(0))
    r = cvalue.div(arb(1), Fraction(3))
    assert r is not None
    lo, hi = cvalue.bounds(r)
    assert lo <= Fraction(1, 3) <= hi


def test_precision_restores_previous() -> None:
    old = ctx.prec
    with cvalue.precision(200):
        assert ctx.prec == 200
        with cvalue.precision(80):
            assert ctx.prec == 80
        assert ctx.prec == 200
        wide = (arb(1) / 3).rad()
    assert ctx.prec == old
    with pytest.raises(RuntimeError), cvalue.precision(300):
        assert ctx.prec == 300
        raise RuntimeError("boom")
    assert ctx.prec == old
    assert wide < arb(2) ** -190


def test_bounds_are_sound_at_any_ambient_precision() -> None:
    with cvalue.precision(256):
        b = arb(1) / 3
    for prec in (16, 53, 256):
        with cvalue.precision(prec):
            lo, hi = cvalue.bounds(b)
        assert lo <= Fraction(1, 3) <= hi


def test_bounds_do_not_depend_on_ambient_precision() -> None:
    with cvalue.precision(256):
        b = arb(1) / 3
        tight = cvalue.bounds(b)
    assert ctx.prec != 256
    assert cvalue.bounds(b) == tight
