"""Tests for adcorrect.numbers.rationals.parse_rational."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from adcorrect.core.errors import InputError
from adcorrect.numbers.rationals import parse_rational


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1/2", Fraction(1, 2)),
        ("-3", Fraction(-3)),
        ("0.125", Fraction(1, 8)),
        ("1e-3", Fraction(1, 1000)),
        (" 7 ", Fraction(7)),
        ("+2/4", Fraction(1, 2)),
        (5, Fraction(5)),
        (Fraction(2, 3), Fraction(2, 3)),
        (0.1, Fraction(3602879701896397, 2**55)),
        (-0.0, Fraction(0)),
        (np.int64(4), Fraction(4)),
        (np.float32(0.5), Fraction(1, 2)),
        (Decimal("0.1"), Fraction(1, 10)),
    ],
)
def test_accepts(value: object, expected: Fraction) -> None:
    result = parse_rational(value)
    assert result == expected
    assert type(result) is Fraction


@pytest.mark.parametrize(
    "value",
    ["x", "", "nan", "inf", "-Infinity", "1/0", "1 / 2", float("nan"), float("inf"),
     True, False, None, [1], 1 + 2j, Decimal("NaN"), np.float64("-inf")],
)  # fmt: skip
def test_rejects_with_one_line(value: object) -> None:
    with pytest.raises(InputError) as err:
        parse_rational(value)
    message = str(err.value)
    assert message.startswith("not a rational number: ")
    assert "\n" not in message


def test_message_quotes_strings() -> None:
    with pytest.raises(InputError, match=r"^not a rational number: 'x'$"):
        parse_rational("x")
