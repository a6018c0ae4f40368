"""Exact rational linear algebra of the oracle (:mod:`.oracle`): strict feasibility of
homogeneous inequalities ``a . v > 0`` by Fourier-Motzkin elimination
(:func:`strict_point`), sparse rows reduced against an echelon basis, and the sign
cones of the search (:class:`Cones`: which signs of a new row meet the current cone).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from ..core.deadline import tick

Form = tuple[Fraction, ...]
Sparse = dict[int, Fraction]
Vector = tuple[Fraction, ...]



def _normalise(row: Form) -> Form:
    lead = next((abs(c) for c in row if c != 0), None)
    return row if lead is None else tuple(c / lead for c in row)


def strict_point(rows: Sequence[Form], dim: int) -> Vector | None:
    """A rational v with a . v > 0 for every row a, or None if there is none."""
    return _solve([_normalise(r) for r in rows], dim)


def _solve(rows: list[Form], dim: int) -> Vector | None:
    """Fourier-Motzkin: eliminate the coordinates in turn, then choose them back from the
    last (a loop: a system in thousands of coordinates would exhaust Python's recursion
    limit one coordinate per frame; the active deadline is checked at every coordinate)."""
    eliminated: list[tuple[list[Form], list[Form]]] = []
    for k in range(dim + 1):
        tick("the oracle's Fourier-Motzkin elimination")
        rows = list(dict.fromkeys(rows))
        if any(all(c == 0 for c in r) for r in rows):
            return None
        if k == dim:
            break
        pos = [r for r in rows if r[k] > 0]
        neg = [r for r in rows if r[k] < 0]
        rest = [r for r in rows if r[k] == 0]
        eliminated.append((pos, neg))
        rows = rest + [_normalise(tuple(x / p[k] - y / q[k] for x, y in zip(p, q)))
                       for p in pos for q in neg]
    sub: Vector = ()  # the coordinates after k, chosen
    for k in range(dim - 1, -1, -1):
        pos, neg = eliminated[k]
        lo = max((_bound(r, k, sub) for r in pos), default=None)
        hi = min((_bound(r, k, sub) for r in neg), default=None)
        if lo is None and hi is None:
            vi = Fraction(0)
        elif hi is None:
            vi = lo + 1
        elif lo is None:
            vi = hi - 1
        else:
            vi = (lo + hi) / 2
        sub = (vi, *sub)
    return sub


def _bound(r: Form, k: int, sub: Vector) -> Fraction:
    """The value of coordinate k where r . v = 0, the later coordinates being ``sub``."""
    return -sum((c * v for c, v in zip(r[k + 1:], sub)), Fraction(0)) / r[k]


def dense_row(row: Sparse, W: int) -> Form:
    return tuple(row.get(p, Fraction(0)) for p in range(W))


def dot(row: Sparse, v: Sequence[Fraction]) -> Fraction:
    return sum((c * v[p] for p, c in row.items()), Fraction(0))


def _reduce(row: Sparse, basis: list[tuple[int, Sparse]]) -> Sparse:
    """row minus its projection on the echelon basis (pivot, row with pivot coefficient 1)."""
    r = dict(row)
    for piv, b in basis:
        c = r.get(piv)
        if c:
            for p, x in b.items():
                y = r.get(p, Fraction(0)) - c * x
                if y:
                    r[p] = y
                else:
                    r.pop(p, None)
    return r


def _ratio(a: Sparse, b: Sparse) -> Fraction | None:
    """t with a = t b, if a and b are parallel (both non-zero)."""
    if a.keys() != b.keys():
        return None
    p0 = next(iter(a))
    t = a[p0] / b[p0]
    return t if all(a[p] == t * b[p] for p in a) else None


class Cones:
    """Rows of the current cone: sign-adjusted tangent forms, with an echelon basis."""

    def __init__(self, W: int) -> None:
        self.W = W
        self.rows: list[Sparse] = []
        self.basis: list[tuple[int, Sparse]] = []

    def options(self, row: Sparse) -> list[int]:
        """The signs s in (1, -1) for which {s * row > 0} meets the current cone."""
        for r in self.rows:
            t = _ratio(row, r)
            if t is not None:
                return [1 if t > 0 else -1]
        if _reduce(row, self.basis):
            return [1, -1]
        dense = [dense_row(r, self.W) for r in self.rows]
        return [s for s in (1, -1) if strict_point(
            dense + [dense_row({p: s * c for p, c in row.items()}, self.W)], self.W) is not None]

    def push(self, row: Sparse) -> tuple[list[Sparse], list[tuple[int, Sparse]]]:
        saved = (self.rows, self.basis)
        red = _reduce(row, self.basis)
        basis = self.basis
        if red:
            piv = min(red)
            inv = 1 / red[piv]
            norm = {p: c * inv for p, c in red.items()}
            basis = basis + [(piv, norm)]
        self.rows, self.basis = self.rows + [row], basis
        return saved

    def pop(self, saved: tuple[list[Sparse], list[tuple[int, Sparse]]]) -> None:
        self.rows, self.basis = saved

    def point(self) -> Vector:
        v = strict_point([dense_row(r, self.W) for r in self.rows], self.W)
        assert v is not None, "a cone reached by the search is non-empty"
        return v
