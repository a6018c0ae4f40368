"""Exact rational numbers from user input (strings, JSON numbers)."""

from __future__ import annotations

import math
import numbers
from decimal import Decimal
from fractions import Fraction

from adcorrect.errors import InputError

__all__ = ["parse_rational"]


def parse_rational(value: object) -> Fraction:
    """Return ``value`` as an exact :class:`~fractions.Fraction`.

    Accepted: strings such as ``"1/2"``, ``"-3"``, ``"0.125"``, ``"1e-3"``
    (surrounding whitespace ignored); ints and other exact rationals; finite
    floats and Decimals, converted exactly (a JSON ``0.1`` becomes the binary64
    value ``3602879701896397/36028797018963968``).

    Rejected with :class:`InputError` ``"not a rational number: ..."``: NaN,
    infinities, booleans, zero denominators and anything else.
    """
    if isinstance(value, bool):
        raise InputError(f"not a rational number: {value!r}")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise InputError(f"not a rational number: {value!r}") from None
    if isinstance(value, numbers.Rational):
        return Fraction(value.numerator, value.denominator)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InputError(f"not a rational number: {value!r}")
        return Fraction(value)
    if isinstance(value, numbers.Real) and hasattr(value, "as_integer_ratio"):
        # float and numpy floating scalars: exact binary value
        if not math.isfinite(float(value)):
            raise InputError(f"not a rational number: {value!r}")
        num, den = value.as_integer_ratio()
        return Fraction(num, den)
    raise InputError(f"not a rational number: {value!r}")
