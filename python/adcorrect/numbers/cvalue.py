"""Certified values (THEORY.md section 8, smooth operations): a number is exact when it can
be (a :class:`~fractions.Fraction`) and otherwise a rigorous enclosure, a ball of
``flint.arb`` (python-flint's Arb: every operation, exp, log, sqrt, tanh, erf included,
returns a ball that contains the true value).

What is known exactly survives the arithmetic: a product with an exact zero is an exact
zero, a sum of exact numbers is exact, and so on, so a *structural* zero (a centred entry
of a symmetric input, relu of a certified negative number times anything) is exact even
where the numbers around it are transcendental.  Decisions are then three-valued:
:func:`sign` is the exact sign, the sign certified by an enclosure that excludes 0, or
None (the enclosure contains 0 at the current precision: undecided there; callers raise
the precision with :func:`precision` and try again).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction

from flint import arb, ctx, fmpq

Num = Fraction | arb

ZERO = Fraction(0)
ONE = Fraction(1)

#: Working precision (bits) a certified evaluation starts with, and its default ceiling.
START_PRECISION = 64
MAX_PRECISION = 1024


@contextmanager
def precision(bits: int) -> Iterator[None]:
    """Run the block with balls of ``bits`` bits of working precision."""
    old = ctx.prec
    ctx.prec = int(bits)
    try:
        yield
    finally:
        ctx.prec = old


def is_exact(x: Num) -> bool:
    """Whether x is an exact rational."""
    return type(x) is Fraction


def ball(x: Num) -> arb:
    """x as a ball (a rational becomes a ball containing it at the current precision)."""
    if type(x) is Fraction:
        return arb(fmpq(x.numerator, x.denominator))
    return x


def exact_of(b: arb) -> Fraction | None:
    """The rational an exact ball stands for (None for a ball of positive radius)."""
    if not b.is_exact():
        return None
    m, e = b.man_exp()
    m, e = int(m), int(e)
    return Fraction(m * 2 ** e) if e >= 0 else Fraction(m, 2 ** -e)


def bounds(x: Num) -> tuple[Fraction, Fraction]:
    """Exact rational lower and upper bounds of x."""
    if type(x) is Fraction:
        return x, x
    mid, rad = exact_of(x.mid()), exact_of(arb(x.rad()))
    if mid is None or rad is None:  # pragma: no cover  (arb's midpoints and radii are exact)
        raise ValueError("non-finite enclosure")
    return mid - rad, mid + rad


def add(a: Num, b: Num) -> Num:
    """a + b (exact when both are)."""
    if type(a) is Fraction:
        if type(b) is Fraction:
            return a + b
        return b if a == 0 else ball(a) + b
    if type(b) is Fraction:
        return a if b == 0 else a + ball(b)
    return a + b


def neg(a: Num) -> Num:
    return -a


def sub(a: Num, b: Num) -> Num:
    """a - b (exact when both are)."""
    return add(a, -b)


def mul(a: Num, b: Num) -> Num:
    """a * b: an exact zero times anything is an exact zero."""
    if type(a) is Fraction:
        if type(b) is Fraction:
            return a * b
        if a == 0:
            return ZERO
        return b if a == 1 else ball(a) * b
    if type(b) is Fraction:
        if b == 0:
            return ZERO
        return a if b == 1 else a * ball(b)
    return a * b


def sign(x: Num) -> int | None:
    """-1, 0 or 1 when known (exactly, or certified by the enclosure); None otherwise."""
    if type(x) is Fraction:
        return (x > 0) - (x < 0)
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0 if x.is_zero() else None


def compare(x: Num, c: Fraction) -> int | None:
    """The sign of x - c when known, else None."""
    return sign(sub(x, c))


def is_zero(x: Num) -> bool:
    """Whether x is an exact (structural or rational) zero."""
    return type(x) is Fraction and x == 0


def nonzero(x: Num) -> bool:
    """Whether x is certainly not zero."""
    s = sign(x)
    return s is not None and s != 0


def div(a: Num, b: Num) -> Num | None:
    """a / b; None when b's enclosure contains 0 (ValueError for an exact zero b)."""
    s = sign(b)
    if s == 0:
        raise ZeroDivisionError("division by an exact zero")
    if s is None:
        return None
    if type(a) is Fraction and (a == 0 or type(b) is Fraction):
        return a / b if a != 0 else ZERO
    return ball(a) / ball(b)


def to_float(x: Num) -> float:
    """The nearest double to x's midpoint (for display and float comparisons only)."""
    if type(x) is Fraction:
        return float(x)
    return float(x.mid())


def radius(x: Num) -> float:
    """An upper bound of the enclosure's radius (0 for an exact number)."""
    if type(x) is Fraction:
        return 0.0
    return float(x.rad())


def text(x: Num, digits: int = 6) -> str:
    """x for people: the rational, or the ball as ``[mid +/- rad]``."""
    if type(x) is Fraction:
        return str(x)
    return x.str(digits, radius=True)
