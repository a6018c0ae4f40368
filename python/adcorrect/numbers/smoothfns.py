"""Certified values and derivatives of the smooth functions of real models (THEORY.md
section 2: activations C1 between kinks; section 8: smooth pre-activations).

Each function maps a certified value (:mod:`adcorrect.numbers.cvalue`) to one: exact
where the value is rational (``tanh(0) = 0``, ``sigmoid(0) = 1/2``, ``sqrt(9/4) = 3/2``,
``mish'(0) = tanh(log 2) = 3/5``, ...), else a ball that contains it.  A point outside
the domain (log or 1/sqrt of a number that is not certainly positive) raises
:class:`~adcorrect.core.errors.Undecided` when the enclosure straddles the boundary and
:class:`~adcorrect.core.errors.InputError` when it certainly lies outside.

``elu(alpha)`` with ``alpha != 1`` is the one function here with a kink (at 0, one-sided
slopes ``alpha`` and 1; PyTorch's derivative there is ``alpha``).  ``softplus(beta)`` is
the mathematical ``log(1 + exp(beta x)) / beta``; PyTorch's float kernel returns ``x``
above its ``threshold``, a float shortcut, not a different function.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from flint import arb

from ..core.errors import InputError, Undecided
from .cvalue import ONE, ZERO, Num, add, ball, is_exact, mul, sign, sub

GELU_KAPPA = Fraction("0.044715")


def _exact_sqrt(x: Fraction) -> Fraction | None:
    if x < 0:
        return None
    p, q = math.isqrt(x.numerator), math.isqrt(x.denominator)
    return Fraction(p, q) if p * p == x.numerator and q * q == x.denominator else None


def _positive(x: Num, what: str) -> None:
    s = sign(x)
    if s is None:
        raise Undecided(f"{what} of an enclosure that contains 0 (raise --precision)")
    if s <= 0:
        raise InputError(f"{what} of a number that is not positive ({x})")


def exp(x: Num) -> Num:
    if is_exact(x) and x == 0:
        return ONE
    return ball(x).exp()


def log(x: Num) -> Num:
    _positive(x, "log")
    if is_exact(x) and x == 1:
        return ZERO
    return ball(x).log()


def sqrt(x: Num) -> Num:
    if is_exact(x):
        r = _exact_sqrt(x)  # type: ignore[arg-type]
        if r is not None:
            return r
    _positive(x, "sqrt")
    return ball(x).sqrt()


def rsqrt(x: Num) -> Num:
    _positive(x, "1/sqrt")
    if is_exact(x):
        r = _exact_sqrt(x)  # type: ignore[arg-type]
        if r is not None:
            return 1 / r
    return ball(x).rsqrt()


def reciprocal(x: Num) -> Num:
    s = sign(x)
    if s is None:
        raise Undecided("1/x of an enclosure that contains 0 (raise --precision)")
    if s == 0:
        raise InputError("division by an exact zero")
    return 1 / x if is_exact(x) else 1 / ball(x)


def tanh(x: Num) -> Num:
    return ZERO if is_exact(x) and x == 0 else ball(x).tanh()


def sigmoid(x: Num) -> Num:
    if is_exact(x) and x == 0:
        return Fraction(1, 2)
    return 1 / (1 + (-ball(x)).exp())


def _phi_cdf(x: Num) -> Num:
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2."""
    if is_exact(x) and x == 0:
        return Fraction(1, 2)
    return (1 + (ball(x) / arb(2).sqrt()).erf()) / 2


def _tanh_arg(x: Num) -> Num:
    """sqrt(2/pi) (x + kappa x^3), GELU's tanh approximation's argument."""
    inner = add(x, mul(GELU_KAPPA, mul(x, mul(x, x))))
    if is_exact(inner) and inner == 0:
        return ZERO
    return ball(inner) * (2 / arb.pi()).sqrt()


def _half_one_plus(t: Num) -> Num:
    return mul(Fraction(1, 2), add(ONE, t))


def _softplus_inner(x: Num) -> Num:
    """log(1 + e^x)."""
    return (1 + ball(x).exp()).log()


@dataclass(frozen=True)
class Kink:
    """A kink of a smooth-between-kinks function: the point, the one-sided slopes and
    PyTorch's derivative there."""

    at: Fraction
    left: Fraction
    right: Fraction
    torch: Fraction


@dataclass(frozen=True)
class SmoothFn:
    """value(x, args), derivative(x, args) off the kinks, and the kinks for args."""

    value: Callable[[Num, tuple[Fraction, ...]], Num]
    deriv: Callable[[Num, tuple[Fraction, ...]], Num]
    kinks: Callable[[tuple[Fraction, ...]], tuple[Kink, ...]] = lambda a: ()
    nargs: int = 0


def _gelu_deriv(x: Num) -> Num:
    if is_exact(x) and x == 0:
        return Fraction(1, 2)
    b = ball(x)
    return _phi_cdf(x) + b * (-(b * b) / 2).exp() / (2 * arb.pi()).sqrt()


def _gelu_tanh(x: Num) -> Num:
    return mul(x, _half_one_plus(tanh(_tanh_arg(x))))


def _gelu_tanh_deriv(x: Num) -> Num:
    if is_exact(x) and x == 0:
        return Fraction(1, 2)
    t = tanh(_tanh_arg(x))
    du = mul(add(ONE, mul(3 * GELU_KAPPA, mul(x, x))), (2 / arb.pi()).sqrt())
    return add(_half_one_plus(t), mul(mul(Fraction(1, 2), x), mul(sub(ONE, mul(t, t)), du)))


def _silu_deriv(x: Num) -> Num:
    s = sigmoid(x)
    return mul(s, add(ONE, mul(x, sub(ONE, s))))


def _arg(a: tuple[Fraction, ...]) -> Fraction:
    """A one-parameter function's parameter (1 when left at its default)."""
    return a[0] if a else ONE


def _softplus(x: Num, beta: Fraction) -> Num:
    return mul(1 / beta, _softplus_inner(mul(beta, x)))


def _elu(x: Num, alpha: Fraction) -> Num:
    s = sign(x)
    if s is not None and s >= 0:
        return x
    neg = mul(alpha, sub(exp(x), ONE))
    if s is not None:
        return neg
    return ball(x).union(ball(neg))  # either branch's formula at the true x


def _elu_deriv(x: Num, alpha: Fraction) -> Num:
    s = sign(x)
    if s is not None and s > 0:
        return ONE
    neg = mul(alpha, exp(x))
    if s is not None and s < 0:
        return neg
    if alpha == 1:  # C1 at 0: 1 on both sides
        return ONE if s == 0 else arb(1).union(ball(neg))
    raise Undecided("elu' at its kink")


def _elu_kinks(a: tuple[Fraction, ...]) -> tuple[Kink, ...]:
    alpha = _arg(a)
    return () if alpha == 1 else (Kink(ZERO, alpha, ONE, alpha),)


def _mish(x: Num) -> Num:
    return mul(x, tanh(_softplus_inner(x)) if not (is_exact(x) and x == 0)
               else Fraction(3, 5))


def _mish_deriv(x: Num) -> Num:
    if is_exact(x) and x == 0:
        return Fraction(3, 5)  # tanh(log 2)
    t = tanh(_softplus_inner(x))
    return add(t, mul(x, mul(sub(ONE, mul(t, t)), sigmoid(x))))


SMOOTH: dict[str, SmoothFn] = {
    "tanh": SmoothFn(lambda x, a: tanh(x), lambda x, a: sub(ONE, mul(tanh(x), tanh(x)))),
    "sigmoid": SmoothFn(lambda x, a: sigmoid(x),
                        lambda x, a: mul(sigmoid(x), sub(ONE, sigmoid(x)))),
    "gelu": SmoothFn(lambda x, a: mul(x, _phi_cdf(x)), lambda x, a: _gelu_deriv(x)),
    "gelu_tanh": SmoothFn(lambda x, a: _gelu_tanh(x), lambda x, a: _gelu_tanh_deriv(x)),
    "silu": SmoothFn(lambda x, a: mul(x, sigmoid(x)), lambda x, a: _silu_deriv(x)),
    "softplus": SmoothFn(lambda x, a: _softplus(x, _arg(a)),
                         lambda x, a: sigmoid(mul(_arg(a), x)), nargs=1),
    "elu": SmoothFn(lambda x, a: _elu(x, _arg(a)), lambda x, a: _elu_deriv(x, _arg(a)),
                    _elu_kinks, nargs=1),
    "mish": SmoothFn(lambda x, a: _mish(x), lambda x, a: _mish_deriv(x)),
    "exp": SmoothFn(lambda x, a: exp(x), lambda x, a: exp(x)),
    "log": SmoothFn(lambda x, a: log(x), lambda x, a: reciprocal(x)),
    "sqrt": SmoothFn(lambda x, a: sqrt(x), lambda x, a: mul(Fraction(1, 2), rsqrt(x))),
    "rsqrt": SmoothFn(lambda x, a: rsqrt(x),
                      lambda x, a: mul(Fraction(-1, 2), mul(rsqrt(x), reciprocal(x)))),
    "reciprocal": SmoothFn(lambda x, a: reciprocal(x),
                           lambda x, a: -mul(reciprocal(x), reciprocal(x))),
}
