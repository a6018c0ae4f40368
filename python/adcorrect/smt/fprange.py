"""The parameter range of the ``float-kink-range`` and ``float-bifurcation-range`` queries.

Every parameter is finite with ``LOW <= |p| <= HIGH`` and no two parameters have the
same magnitude.  This excludes the trivial witnesses of ``float-kink`` and
``float-bifurcation``: the zero and nearly-zero points (underflow), and the symmetric
points such as ``b = -w`` that put a first-layer neuron at its kink without rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import combinations
from typing import Protocol

from ..core.errors import InputError

LOW = Fraction(1, 16)
HIGH = Fraction(16)
#: The query each range family restricts.
BASE = {"float-kink-range": "float-kink", "float-bifurcation-range": "float-bifurcation"}
TEXT = (f"every parameter p satisfies {LOW} <= abs(p) <= {HIGH} and no two parameters have the "
        "same magnitude (no zero, underflowing or symmetric witness)")


class _Consts(Protocol):
    W: int

    def const(self, x: Fraction) -> str: ...


def range_lines(enc: _Consts) -> list[str]:
    """The assertions of the range (names constants through enc.const; no upper bound in
    a format whose finite values are all below HIGH)."""
    lo = enc.const(LOW)
    try:
        hi: str | None = enc.const(HIGH)
    except InputError:  # HIGH overflows: every finite value is below it
        hi = None
    lines = [f"(assert (and (fp.leq {lo} (fp.abs p{i})) (fp.leq (fp.abs p{i}) {hi})))"
             if hi else f"(assert (fp.leq {lo} (fp.abs p{i})))" for i in range(enc.W)]
    lines += [f"(assert (not (fp.eq (fp.abs p{i}) (fp.abs p{j}))))"
              for i, j in combinations(range(enc.W), 2)]
    return lines


def violation(w: Sequence[Fraction]) -> str | None:
    """Why the point w is outside the range, or None."""
    for i, x in enumerate(w):
        if not LOW <= abs(x) <= HIGH:
            return f"|w{i}| = {abs(x)} is outside [{LOW}, {HIGH}]"
    for i, j in combinations(range(len(w)), 2):
        if abs(w[i]) == abs(w[j]):
            return f"|w{i}| = |w{j}|"
    return None
