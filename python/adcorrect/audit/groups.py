"""The topmost group test of the exact audit (step 5 of :mod:`adcorrect.audit.exact`,
THEORY.md section 6): the kinked copies of neuron ``k*`` grouped by the direction of
their tangents in the span of ``k*``'s exclusive parameters, and a witness of
non-differentiability for a group that does not cancel.

Directions are compared as primitive integer vectors (lead entry positive): two tangents
are parallel iff these are equal, and every dot product of the witness is an integer one.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..exact.engine import is_zero
from ..nets.ir import Network

#: A direction: (parameter, integer coefficient) pairs, sorted, the first coefficient > 0.
Direction = tuple[tuple[int, int], ...]


@dataclass
class Copy:
    """A kinked copy: neuron index, example, the kink, and what is known of its adjoint."""

    neuron: int
    example: int
    kink: Fraction
    zbar: str | None = None  # "non-zero", "zero" or None (not needed)
    zbar_approx: float | None = None


def direction(t: dict[int, Fraction]) -> tuple[Direction, Fraction]:
    """The primitive integer vector parallel to t (non-empty, no zero entry), its first
    entry positive, and t's first entry."""
    ps = sorted(t)
    den = math.lcm(*(t[p].denominator for p in ps))
    ints = [t[p].numerator * (den // t[p].denominator) for p in ps]
    g = math.gcd(*ints)
    if ints[0] < 0:
        g = -g
    return tuple(zip(ps, (v // g for v in ints))), t[ps[0]]


def group_test(net: Network, slots: dict[int, list[int | None]], copies: list[Copy],
               source_values: Callable[[Copy], list[Fraction]],
               adjoint: Callable[[Copy], tuple[float, float]], exact_adjoint: Callable[[Copy], Any],
               resolve: Callable[[Copy], str | None]) -> tuple[int, dict[str, Any] | None]:
    """(number of groups, a witness if some group does not cancel) at neuron k*: ``slots``
    maps each parameter exclusive to k* to its sources (None: the bias), in the order of
    ``source_values(c)``, the values of every slot's source in copy c's example;
    ``adjoint(c)``: c's float64 adjoint and its radius; ``exact_adjoint(c)``: its exact
    value; ``resolve(c)``: its status ("non-zero", "zero"), computed exactly if need be."""
    if not slots or not copies:
        return 0, None
    act = net.neurons[copies[0].neuron].activation
    params = sorted(slots)
    classes: dict[Direction, list[tuple[Copy, Fraction]]] = {}
    for c in copies:
        vals = iter(source_values(c))
        t: dict[int, Fraction] = {}
        for p in params:
            v = sum((next(vals) for _ in slots[p]), Fraction(0))
            if v:
                t[p] = v
        if not t:
            continue
        key, lead = direction(t)
        jump = act.slope_right(c.kink) - act.slope_left(c.kink)
        classes.setdefault(key, []).append((c, jump * abs(lead)))
    bad = _first_bad(classes, adjoint, exact_adjoint, resolve)
    if bad is None:
        return len(classes), None
    return len(classes), witness(net, params, list(classes), bad)


def _first_bad(classes: dict[Direction, list[tuple[Copy, Fraction]]],
               adjoint: Callable[[Copy], tuple[float, float]],
               exact_adjoint: Callable[[Copy], Any],
               resolve: Callable[[Copy], str | None]) -> Direction | None:
    """A group whose C_H is not 0: certified by floats first, exact arithmetic last."""
    singles = {k: m[0] for k, m in classes.items() if len(m) == 1 and m[0][1] != 0}
    multi = {k: m for k, m in classes.items() if len(m) > 1}
    for key, (c, _) in singles.items():
        if c.zbar == "non-zero":
            return key
    for key, members in multi.items():
        total = Fraction(0)
        rad = Fraction(0)
        for c, f in members:
            v, r = adjoint(c)
            total += Fraction(v) * f
            rad += Fraction(r) * abs(f)
        if abs(total) > rad:
            return key
    for key, (c, _) in singles.items():
        if c.zbar is None and resolve(c) == "non-zero":
            return key
    for key, members in multi.items():
        exact: Any = Fraction(0)
        for c, f in members:
            exact = exact + exact_adjoint(c) * f
        if not is_zero(exact):
            return key
    return None


def witness(net: Network, params: list[int], rows: list[Direction], h: Direction
            ) -> dict[str, Any]:
    """v0 on h's crease only, d across it, s small: phi(v0 + s d) + phi(v0 - s d) differs
    from 2 phi(v0) by 2 |s| C_H (t_H . d) != 0 (the other creases keep their sides).
    ``d`` is h scaled to lead entry 1; v0 is a random integer point projected onto the
    crease, generic for the other creases."""
    rng = random.Random(20240901)
    hd = dict(h)
    lead = h[0][1]
    others = [dict(r) for r in rows if r != h]
    hh = sum(c * c for c in hd.values())

    def dot(r: dict[int, int], v: dict[int, int]) -> int:
        return sum(c * v.get(p, 0) for p, c in r.items())

    for _ in range(1000):
        r = {p: rng.randint(-9, 9) for p in params}
        hr = dot(hd, r)
        v = {p: r[p] * hh - hr * hd.get(p, 0) for p in params}  # v0 = v / hh
        if all(dot(o, v) != 0 for o in others):
            break
    else:  # pragma: no cover - a generic point exists
        raise AssertionError("no generic point on the crease")
    # o . (v0 + s d) keeps its sign for |s| < |o . v0| / |o . d|; half of the least bound
    limits = [Fraction(abs(dot(o, v)) * lead, 2 * hh * abs(dot(o, hd)))
              for o in others if dot(o, hd) != 0]
    s = min(limits) if limits else Fraction(1)
    name = net.param_names
    return {"kind": "phi(v0 + s d) + phi(v0 - s d) != 2 phi(v0)",
            "v0": {name[p]: str(Fraction(c, hh)) for p, c in v.items() if c != 0},
            "d": {name[p]: str(Fraction(c, lead)) for p, c in h if c != 0}, "s": str(s)}
