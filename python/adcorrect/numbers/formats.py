"""Finite sets M of machine-representable numbers (THEORY.md section 1), exactly.

A :class:`Format` is one such set: the finite values of a binary floating-point
format (IEEE-style ``fp(eb,sb)`` or an OCP format without infinities), a scaled
integer grid ``int(bits,scale)``, or an explicit ``list(...)`` of rationals.
Values are :class:`fractions.Fraction`; +0 and -0 are one value; NaN and
infinities are not values. Membership, indexing and sizes are computed in closed
form, so they work for formats far too large to enumerate (binary32).
"""

from __future__ import annotations

import bisect
import functools
import numbers
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from ..core.errors import InputError
from ..core.limits import elide
from .rationals import parse_rational

__all__ = [
    "ALIASES",
    "ENUMERATION_LIMIT",
    "Format",
    "fp_format",
    "int_format",
    "list_format",
    "listed_formats",
    "ocp_format",
    "parse_format",
]

#: Largest |M| for which :meth:`Format.values` enumerates the set.
ENUMERATION_LIMIT = 2_000_000

#: Bounds on parameters, so that every value stays a reasonably sized Fraction
#: (binary256 is fp(19,237)).
MAX_EXPONENT_BITS = 20
MAX_SIGNIFICAND_BITS = 1024
MAX_INT_BITS = 1024

#: Alternative names accepted by :func:`parse_format`, mapped to canonical names.
ALIASES: dict[str, str] = {
    "binary16": "fp(5,11)",
    "fp16": "fp(5,11)",
    "bfloat16": "fp(8,8)",
    "bf16": "fp(8,8)",
    "binary32": "fp(8,24)",
    "fp32": "fp(8,24)",
    "e5m2": "fp(5,3)",
    "int8": "int(8,1)",
}

#: OCP formats without infinities: name -> (exponent bits, mantissa bits, has NaN
#: pattern S.1...1.1...1).
_OCP: dict[str, tuple[int, int, bool]] = {
    "e4m3fn": (4, 3, True),
    "e3m2": (3, 2, False),
    "e2m3": (2, 3, False),
    "e2m1": (2, 1, False),
}

_KNOWN = "fp(eb,sb), fp16, bf16, fp32, e5m2, e4m3fn, e3m2, e2m3, e2m1, int(bits,scale), list(...)"

_LISTED = (
    "fp16", "bf16", "fp32", "e5m2", "e4m3fn", "e3m2", "e2m3", "e2m1",
    "fp(2,2)", "fp(3,3)", "int(8,1)", "int(4,1)",
)  # fmt: skip


@dataclass(frozen=True)
class _FloatLayout:
    """Non-negative values of a binary float format, by bit pattern.

    Pattern ``j = E * 2**mbits + M`` (``0 <= j <= top``) has magnitude
    ``M * 2**(emin - mbits)`` if ``E == 0`` and
    ``(2**mbits + M) * 2**(E - 1 + emin - mbits)`` otherwise; magnitudes
    increase strictly with ``j``.
    """

    mbits: int
    emin: int
    top: int  # number of positive finite values

    def magnitude(self, j: int) -> Fraction:
        """Magnitude of non-negative pattern ``j``."""
        e, m = divmod(j, 1 << self.mbits)
        n = m if e == 0 else ((1 << self.mbits) + m) << (e - 1)
        return _times_pow2(n, self.emin - self.mbits)

    def pattern(self, x: Fraction) -> int | None:
        """Pattern of the non-negative value ``x``, or None if ``x`` is not a value."""
        scaled = x * _pow2(self.mbits - self.emin)  # integer iff on the finest grid
        if scaled.denominator != 1:
            return None
        n = scaled.numerator
        if n < (1 << self.mbits):
            return n  # zero or subnormal
        e = n.bit_length() - self.mbits  # biased exponent field, >= 1
        shift = e - 1
        if n & ((1 << shift) - 1):
            return None  # more significant bits than the format has
        j = (e << self.mbits) + ((n >> shift) - (1 << self.mbits))
        return j if j <= self.top else None


def _pow2(k: int) -> Fraction:
    """Exact 2**k for any integer k."""
    return Fraction(1 << k) if k >= 0 else Fraction(1, 1 << -k)


def _times_pow2(n: int, k: int) -> Fraction:
    """Exact n * 2**k."""
    return Fraction(n << k) if k >= 0 else Fraction(n, 1 << -k)


def _is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


@dataclass(frozen=True)
class Format:
    """A finite set M of machine-representable reals.

    ``kind`` and ``params``:

    - ``"ieee"``: ``(eb, sb)``, the finite values of SMT-LIB ``(_ FloatingPoint eb sb)``
      (significand bits include the hidden bit; subnormals included);
    - ``"ocp"``: ``(ebits, mbits)`` of an OCP name without infinities
      (``e4m3fn``, ``e3m2``, ``e2m3``, ``e2m1``);
    - ``"int"``: ``(bits, scale)``, the values ``scale * k`` for
      ``-2**(bits-1) <= k < 2**(bits-1)``;
    - ``"list"``: the sorted distinct values.

    Build instances with :func:`parse_format` or the ``*_format`` constructors.
    Values are ordered increasingly; ``index``/``value`` refer to that order.
    """

    name: str
    kind: str
    params: tuple

    def __str__(self) -> str:
        return self.name

    # -- float layout -----------------------------------------------------------------

    @property
    def _layout(self) -> _FloatLayout:
        return _float_layout(self)

    # -- size and enumeration -----------------------------------------------------------

    @property
    def size(self) -> int:
        """|M|, the number of distinct values."""
        if self.kind in ("ieee", "ocp"):
            return 2 * self._layout.top + 1
        if self.kind == "int":
            return 1 << self.params[0]
        return len(self.params)

    def values(self) -> tuple[Fraction, ...]:
        """All values, sorted increasingly (cached).

        Raises :class:`InputError` if there are more than ``ENUMERATION_LIMIT``.
        """
        return _values(self)

    # -- membership and indexing -----------------------------------------------------

    def contains(self, x: Fraction | int) -> bool:
        """Whether ``x`` is a value of the format (exact; no enumeration)."""
        return self._position(_exact(x)) is not None

    def __contains__(self, x: object) -> bool:
        return self.contains(_exact(x))

    def index(self, x: Fraction | int) -> int:
        """Position of ``x`` in :meth:`values`; :class:`InputError` if not a value."""
        x = _exact(x)
        i = self._position(x)
        if i is None:
            raise InputError(f"{x} is not a value of format {self.name}")
        return i

    def value(self, i: int) -> Fraction:
        """The ``i``-th smallest value, ``0 <= i < size`` (else IndexError)."""
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"index must be an integer, got {i!r}")
        i = int(i)
        if not 0 <= i < self.size:
            raise IndexError(f"index {i} out of range for format {self.name} of size {self.size}")
        if self.kind in ("ieee", "ocp"):
            top = self._layout.top
            if i < top:
                return -self._layout.magnitude(top - i)
            return self._layout.magnitude(i - top)
        if self.kind == "int":
            bits, scale = self.params
            return scale * (i - (1 << (bits - 1)))
        return self.params[i]

    def _position(self, x: Fraction) -> int | None:
        if self.kind in ("ieee", "ocp"):
            layout = self._layout
            j = layout.pattern(abs(x))
            if j is None:
                return None
            return layout.top - j if x < 0 else layout.top + j
        if self.kind == "int":
            bits, scale = self.params
            k = x / scale
            half = 1 << (bits - 1)
            if k.denominator != 1 or not -half <= k.numerator < half:
                return None
            return k.numerator + half
        return _list_position(self.params, x)

    # -- arithmetic shape ---------------------------------------------------------------

    @property
    def is_dyadic(self) -> bool:
        """Whether every value is an integer times a power of two."""
        if self.kind in ("ieee", "ocp"):
            return True
        if self.kind == "int":
            return _is_pow2(self.params[1].denominator)
        return all(_is_pow2(v.denominator) for v in self.params)

    @property
    def min_exponent(self) -> int:
        """Smallest ``k >= 0`` such that every value times ``2**k`` is an integer.

        For float formats this is the exponent of the subnormal spacing
        (``2**-min_exponent``). :class:`InputError` if the format is not dyadic.
        """
        if not self.is_dyadic:
            raise InputError(
                f"format {self.name} is not dyadic: its values are not all integers "
                "times powers of two"
            )
        if self.kind in ("ieee", "ocp"):
            return self._layout.mbits - self._layout.emin
        if self.kind == "int":
            return self.params[1].denominator.bit_length() - 1
        return max((v.denominator.bit_length() - 1 for v in self.params), default=0)

    @property
    def max_abs(self) -> Fraction:
        """Largest absolute value."""
        if self.kind in ("ieee", "ocp"):
            return self._layout.magnitude(self._layout.top)
        if self.kind == "int":
            bits, scale = self.params
            return scale * (1 << (bits - 1))
        return max(abs(v) for v in self.params)


def _exact(x: object) -> Fraction:
    """``x`` as a Fraction, for exact rationals only."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, numbers.Rational) and not isinstance(x, bool):
        return Fraction(x.numerator, x.denominator)
    raise TypeError(f"expected an exact rational (int or Fraction), got {x!r}")


def _list_position(values: tuple[Fraction, ...], x: Fraction) -> int | None:
    i = bisect.bisect_left(values, x)
    return i if i < len(values) and values[i] == x else None


@functools.cache
def _float_layout(fmt: Format) -> _FloatLayout:
    if fmt.kind == "ieee":
        eb, sb = fmt.params
        bias = (1 << (eb - 1)) - 1
        return _FloatLayout(mbits=sb - 1, emin=1 - bias, top=(((1 << eb) - 1) << (sb - 1)) - 1)
    if fmt.kind == "ocp":
        ebits, mbits = fmt.params
        has_nan = _OCP[fmt.name][2]
        bias = (1 << (ebits - 1)) - 1
        top = (1 << (ebits + mbits)) - 1 - (1 if has_nan else 0)
        return _FloatLayout(mbits=mbits, emin=1 - bias, top=top)
    raise ValueError(f"format {fmt.name} is not a float format")


@functools.cache
def _values(fmt: Format) -> tuple[Fraction, ...]:
    size = fmt.size
    if size > ENUMERATION_LIMIT:
        raise InputError(f"format {fmt.name} has {size} values; too many to enumerate")
    if fmt.kind in ("ieee", "ocp"):
        layout = fmt._layout
        pos = [layout.magnitude(j) for j in range(1, layout.top + 1)]
        return tuple([-v for v in reversed(pos)] + [Fraction(0)] + pos)
    if fmt.kind == "int":
        bits, scale = fmt.params
        half = 1 << (bits - 1)
        return tuple(scale * k for k in range(-half, half))
    return fmt.params


# -- constructors -------------------------------------------------------------------------


def fp_format(eb: int, sb: int) -> Format:
    """IEEE-style ``fp(eb,sb)``: finite values of ``(_ FloatingPoint eb sb)``."""
    for what, v, lo, hi in (
        ("eb", eb, 2, MAX_EXPONENT_BITS),
        ("sb", sb, 2, MAX_SIGNIFICAND_BITS),
    ):
        if isinstance(v, bool) or not isinstance(v, int):
            raise InputError(f"format fp(eb,sb): {what} must be an integer, got {v!r}")
        if not lo <= v <= hi:
            raise InputError(f"format fp({eb},{sb}): {what} must be in {lo}..{hi}, got {v}")
    return Format(f"fp({eb},{sb})", "ieee", (eb, sb))


def ocp_format(name: str) -> Format:
    """OCP format without infinities: ``e4m3fn``, ``e3m2``, ``e2m3`` or ``e2m1``."""
    key = name.lower()
    if key not in _OCP:
        raise InputError(f"unknown OCP format {name!r} (known: {', '.join(_OCP)})")
    ebits, mbits, _ = _OCP[key]
    return Format(key, "ocp", (ebits, mbits))


def int_format(bits: int, scale: object = 1) -> Format:
    """Integer grid ``scale * {-2**(bits-1) .. 2**(bits-1)-1}``, ``scale > 0`` rational."""
    if isinstance(bits, bool) or not isinstance(bits, int):
        raise InputError(f"format int(bits,scale): bits must be an integer, got {bits!r}")
    if not 1 <= bits <= MAX_INT_BITS:
        raise InputError(f"format int({bits},...): bits must be in 1..{MAX_INT_BITS}, got {bits}")
    s = parse_rational(scale)
    if s <= 0:
        raise InputError(f"format int({bits},{s}): scale must be positive, got {s}")
    return Format(f"int({bits},{s})", "int", (bits, s))


def list_format(values: Iterable[object]) -> Format:
    """Explicit finite set of rationals (duplicates merged; must be non-empty)."""
    vals = tuple(sorted({parse_rational(v) for v in values}))
    if not vals:
        raise InputError("format list(): needs at least one value")
    return Format("list(" + ",".join(str(v) for v in vals) + ")", "list", vals)


# -- parsing ------------------------------------------------------------------------------

_CALL = re.compile(r"([a-z]+)\((.*)\)")
_INT = re.compile(r"[+-]?\d+")
_BIT_DIGITS = 9  # bit counts are checked against far smaller bounds once they are ints


def parse_format(text: str) -> Format:
    """The format named by ``text`` (case-insensitive, whitespace ignored).

    Accepted: ``fp(eb,sb)``, ``binary16``/``fp16``, ``bfloat16``/``bf16``,
    ``binary32``/``fp32``, ``e5m2``, ``e4m3fn``, ``e3m2``, ``e2m3``, ``e2m1``,
    ``int(bits,scale)``, ``int8``, ``list(v1,v2,...)``. Raises :class:`InputError`
    with a one-line message otherwise.
    """
    if not isinstance(text, str):
        raise InputError(f"format name must be a string, got {text!r}")
    shown = elide(" ".join(text.split()))
    key = "".join(text.split()).lower()
    key = ALIASES.get(key, key)
    if key in _OCP:
        return ocp_format(key)
    call = _CALL.fullmatch(key)
    if call is None or call.group(1) not in ("fp", "int", "list"):
        raise InputError(f"unknown format {shown!r} (known: {_KNOWN})")
    head, body = call.group(1), call.group(2)
    args = body.split(",") if body else []
    if head == "list":
        if not args:
            raise InputError(f"format {shown!r}: list needs at least one value")
        try:
            return list_format(args)
        except InputError as e:
            raise InputError(f"format {shown!r}: {e}") from None
    usage = "fp(eb,sb)" if head == "fp" else "int(bits,scale)"
    if len(args) != 2:
        raise InputError(f"format {shown!r}: expected {usage} with two parameters")
    if _INT.fullmatch(args[0]) is None or (head == "fp" and _INT.fullmatch(args[1]) is None):
        raise InputError(f"format {shown!r}: expected {usage} with integer bit counts")
    if any(len(a.lstrip("+-")) > _BIT_DIGITS for a in args[:1 if head == "int" else 2]):
        raise InputError(f"format {shown!r}: a bit count of more than {_BIT_DIGITS} digits")
    if head == "fp":
        return fp_format(int(args[0]), int(args[1]))
    try:
        scale = parse_rational(args[1])
    except InputError as e:
        raise InputError(f"format {shown!r}: scale is {e}") from None
    return int_format(int(args[0]), scale)


def listed_formats() -> list[Format]:
    """The formats shown by ``python -m adcorrect formats``."""
    return [parse_format(n) for n in _LISTED]
