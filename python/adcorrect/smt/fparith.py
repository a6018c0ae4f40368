"""Exact IEEE-754 binary arithmetic for ``(_ FloatingPoint eb sb)``, in Python.

Used to write FP literals into SMT files and to re-check models of the
execution-semantics queries: every operation is the exact rational result
rounded to nearest, ties to even (RNE), with overflow to infinity and NaN
propagation.  A value is a :class:`fractions.Fraction` (finite; the sign of
zero is not tracked because no query depends on it) or one of the floats
``inf``, ``-inf``, ``nan``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

FPValue = Fraction | float  # float only for +-inf and nan

INF = math.inf
NAN = math.nan


def _floor_log2(a: Fraction) -> int:
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if a < Fraction(2) ** e:
        e -= 1
    return e


def _round_half_even(x: Fraction) -> int:
    n, r = divmod(x.numerator, x.denominator)
    twice = 2 * r
    if twice > x.denominator or (twice == x.denominator and n % 2 == 1):
        n += 1
    return n


@dataclass(frozen=True)
class FPFormat:
    """A binary format with eb exponent bits and sb significand bits (hidden bit included)."""

    eb: int
    sb: int

    @property
    def bias(self) -> int:
        return (1 << (self.eb - 1)) - 1

    @property
    def emin(self) -> int:
        return 1 - self.bias

    @property
    def max_finite(self) -> Fraction:
        return (2 - Fraction(1, 1 << (self.sb - 1))) * Fraction(2) ** self.bias

    def sort(self) -> str:
        """The SMT-LIB sort."""
        return f"(_ FloatingPoint {self.eb} {self.sb})"

    def round(self, x: FPValue) -> FPValue:
        """x rounded to the format, RNE (overflow gives an infinity)."""
        if isinstance(x, float):
            return x
        if x == 0:
            return Fraction(0)
        a = abs(x)
        e = max(_floor_log2(a), self.emin)
        q = e - (self.sb - 1)
        n = _round_half_even(a / Fraction(2) ** q)
        r = n * Fraction(2) ** q
        if r > self.max_finite:
            return INF if x > 0 else -INF
        return r if x > 0 else -r

    def representable(self, x: Fraction) -> bool:
        return self.round(x) == x

    def add(self, a: FPValue, b: FPValue) -> FPValue:
        if isinstance(a, float) or isinstance(b, float):
            return float(a) + float(b)  # inf/nan rules of IEEE, exactly as Python floats
        return self.round(a + b)

    def mul(self, a: FPValue, b: FPValue) -> FPValue:
        if isinstance(a, float) or isinstance(b, float):
            fa, fb = float(a), float(b)
            if math.isnan(fa) or math.isnan(fb) or fa == 0 or fb == 0:
                return NAN  # inf * 0 is NaN; NaN propagates
            return fa * fb
        return self.round(a * b)

    def bits(self, x: Fraction) -> tuple[int, int, int]:
        """(sign, biased exponent, trailing significand) of a representable finite x."""
        if self.round(x) != x:
            raise ValueError(f"{x} is not representable in fp({self.eb},{self.sb})")
        sign = 1 if x < 0 else 0
        a = abs(x)
        if a == 0:
            return 0, 0, 0
        e = _floor_log2(a)
        m = self.sb - 1
        if e < self.emin:  # subnormal
            return sign, 0, int(a / Fraction(2) ** (self.emin - m))
        return sign, e + self.bias, int(a / Fraction(2) ** (e - m)) - (1 << m)

    def literal(self, x: Fraction) -> str:
        """The SMT-LIB literal (fp #b.. #b.. #b..) of a representable finite x."""
        s, e, t = self.bits(x)
        return f"(fp #b{s} #b{e:0{self.eb}b} #b{t:0{self.sb - 1}b})"

    def from_bits(self, sign: int, exp: int, sig: int) -> FPValue:
        """The value of a bit pattern (sign bit, biased exponent field, trailing significand)."""
        m = self.sb - 1
        if exp == (1 << self.eb) - 1:
            return NAN if sig else (-INF if sign else INF)
        if exp == 0:
            mag = sig * Fraction(2) ** (self.emin - m)
        else:
            mag = ((1 << m) + sig) * Fraction(2) ** (exp - self.bias - m)
        return -mag if sign else mag


def is_finite(x: FPValue) -> bool:
    return isinstance(x, Fraction)


def fp_eq(a: FPValue, b: FPValue) -> bool:
    """fp.eq: IEEE equality (NaN is unequal to everything)."""
    return a == b  # float nan != anything; Fraction vs inf compares correctly


def fp_leq(a: FPValue, b: FPValue) -> bool:
    return a <= b


def fp_lt(a: FPValue, b: FPValue) -> bool:
    return a < b
