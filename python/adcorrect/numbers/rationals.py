"""Exact rational numbers from user input (strings, JSON numbers)."""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal
from fractions import Fraction

from ..core.errors import InputError
from ..core.limits import check

__all__ = ["parse_rational"]


def parse_rational(value: object) -> Fraction:
    """Return ``value`` as an exact :class:`~fractions.Fraction`.

    Accepted: strings such as ``"1/2"``, ``"-3"``, ``"0.125"``, ``"1e-3"``
    (surrounding whitespace ignored); ints and other exact rationals; finite
    floats and Decimals, converted exactly (a JSON ``0.1`` becomes the binary64
    value ``3602879701896397/36028797018963968``).

    Rejected with :class:`InputError` ``"not a rational number: ..."``: NaN,
    infinities, booleans, zero denominators and anything else; and, before any
    arithmetic, numerals beyond the ``digits`` and ``exponent`` limits
    (:mod:`adcorrect.core.limits`), so ``1e1000000000`` is refused at once.
    """
    if isinstance(value, bool):
        raise InputError(f"not a rational number: {_short(value)}")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, str):
        text = value.strip()
        _check_size(text, value)
        try:
            return Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise InputError(f"not a rational number: {_short(value)}") from None
    if isinstance(value, numbers.Rational):
        check("digits", _digits(value.numerator), f"number {_short(value)}")
        check("digits", _digits(value.denominator), f"number {_short(value)}")
        return Fraction(value.numerator, value.denominator)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InputError(f"not a rational number: {_short(value)}")
        _check_size(str(value), value)
        return Fraction(value)
    if isinstance(value, numbers.Real) and hasattr(value, "as_integer_ratio"):
        # float and numpy floating scalars: exact binary value
        if not math.isfinite(float(value)):
            raise InputError(f"not a rational number: {_short(value)}")
        num, den = value.as_integer_ratio()
        return Fraction(num, den)
    raise InputError(f"not a rational number: {_short(value)}")


_EXPONENT = re.compile(r"[eE]\s*[+-]?0*(\d*)")
_DIGIT_RUN = re.compile(r"\d+")


def _short(value: object) -> str:
    """repr of value, cut to 60 characters for a message."""
    r = repr(value)
    return r if len(r) <= 60 else r[:57] + "..."


def _digits(n: int) -> int:
    """Decimal digits of |n| (an upper bound, without converting n to text)."""
    return max(1, int(abs(int(n)).bit_length() * 0.30103) + 1)


def _check_size(text: str, shown: object) -> None:
    """Reject numerals with too many digits or a huge exponent before any arithmetic
    (1e1000000000 would otherwise be expanded into a billion-digit integer)."""
    m = _EXPONENT.search(text)
    if m is not None:
        exp = m.group(1)
        size = int(exp) if 0 < len(exp) <= 18 else 10**18 if exp else 0
        check("exponent", size, f"number {_short(shown)}")
        text = text[:m.start()]
    longest = max((len(r) for r in _DIGIT_RUN.findall(text.replace("_", ""))), default=0)
    check("digits", longest, f"number {_short(shown)}")
