"""Quantum bounds (THEORY.md 8.3, fact 4): for a float x = odd * 2^q, ``quantum`` gives q;
the tensor version and the one-float version used when a network is compiled agree with
q read off the exact rational (numerator and denominator of Fraction(x))."""

from __future__ import annotations

import math
from fractions import Fraction

import torch
from adcorrect.audit.certified import NOQ, quantum
from adcorrect.audit.floatact import float_const, quantum_of
from hypothesis import given
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
