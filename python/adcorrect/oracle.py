"""The independent differentiability oracle (THEORY.md section 7).

Decides exactly whether f is differentiable at w WITHOUT using NS.  f is locally
Lipschitz, so it is differentiable at w iff v -> phi_w(v) is linear.  phi_w is
piecewise linear: splitting R^W by the signs of the tangents of the kink
neurons (in topological order; a tangent that is the zero form does not split)
gives open polyhedral cones whose union is dense, and on each cone phi_w is a
linear form computed by forward mode with that cone's one-sided slopes.  phi_w
is linear iff every non-empty cone carries the same form, which is then the
gradient.  Emptiness of a cone {v : a_j . v > 0} is decided exactly by
Fourier-Motzkin elimination over the rationals, which also yields a point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import lcm

from .engine import Forward, Vector, directional, forward, source_value, unit, value_of
from .spec import Network

Form = tuple[Fraction, ...]


@dataclass(frozen=True)
class Verdict:
    """The oracle's answer at one w: the gradient, or a direction witnessing non-linearity."""

    differentiable: bool
    grad: Vector | None
    witness: Vector | None  # v with phi_w(v) != sum_i v_i phi_w(e_i)
    cones: int  # number of non-empty sign cones explored


def _normalise(row: Form) -> Form:
    lead = next((abs(c) for c in row if c != 0), None)
    return row if lead is None else tuple(c / lead for c in row)


def strict_point(rows: Sequence[Form], dim: int) -> Vector | None:
    """A rational v with a . v > 0 for every row a, or None if there is none."""
    return _solve([_normalise(r) for r in rows], 0, dim)


def _solve(rows: list[Form], i: int, dim: int) -> Vector | None:
    rows = list(dict.fromkeys(rows))
    if any(all(c == 0 for c in r) for r in rows):
        return None
    if i == dim:
        return ()
    pos = [r for r in rows if r[i] > 0]
    neg = [r for r in rows if r[i] < 0]
    rest = [r for r in rows if r[i] == 0]
    combined = [
        _normalise(tuple(x / p[i] - y / q[i] for x, y in zip(p, q)))
        for p in pos for q in neg
    ]
    sub = _solve(rest + combined, i + 1, dim)
    if sub is None:
        return None

    def bound(r: Form) -> Fraction:
        return -sum((r[j] * sub[j - i - 1] for j in range(i + 1, dim)), Fraction(0)) / r[i]

    lo = max((bound(r) for r in pos), default=None)
    hi = min((bound(r) for r in neg), default=None)
    if lo is None and hi is None:
        vi = Fraction(0)
    elif hi is None:
        vi = lo + 1
    elif lo is None:
        vi = hi - 1
    else:
        vi = (lo + hi) / 2
    return (vi, *sub)


def _scale(f: Form, c: Fraction) -> Form:
    return tuple(c * a for a in f)


def _add(f: Form, g: Form) -> Form:
    return tuple(a + b for a, b in zip(f, g))


def cone_forms(net: Network, w: Sequence[Fraction],
               fw: Forward) -> list[tuple[list[Form], Form]]:
    """The non-empty sign cones (their defining rows) and phi_w's linear form on each."""
    W = net.W
    zero: Form = (Fraction(0),) * W
    neurons = net.neurons
    out: list[tuple[list[Form], Form]] = []

    def explore(k: int, dz: list[Form], rows: list[Form]) -> None:
        if k == len(neurons):
            out.append((rows, dz[-1]))
            return
        n = neurons[k]
        dy = zero
        if n.bias is not None and n.bias[0] == "param":
            dy = _add(dy, unit(W, n.bias[1]))
        for src, wt in zip(n.sources, n.weights):
            if src >= 0:
                dy = _add(dy, _scale(dz[src], value_of(wt, w)))
            if wt[0] == "param":
                dy = _add(dy, _scale(unit(W, wt[1]), source_value(src, net.input, fw.z)))
        yk = fw.y[k]
        act = n.activation
        if not act.is_kink(yk) or dy == zero:
            slope = Fraction(0) if dy == zero else act.slope_left(yk)
            explore(k + 1, dz + [_scale(dy, slope)], rows)
            return
        for sign, slope in ((1, act.slope_right(yk)), (-1, act.slope_left(yk))):
            new_rows = rows + [_scale(dy, Fraction(sign))]
            if strict_point(new_rows, W) is not None:
                explore(k + 1, dz + [_scale(dy, slope)], new_rows)

    explore(0, [], [])
    return out


def _integral(v: Vector) -> Vector:
    m = lcm(*(x.denominator for x in v)) if v else 1
    return tuple(x * m for x in v)


def decide(net: Network, w: Sequence[Fraction]) -> Verdict:
    """Whether f is differentiable at w, with the gradient or a witness direction."""
    fw = forward(net, w)
    cones = cone_forms(net, w, fw)
    forms = {form for _, form in cones}
    if len(forms) == 1:
        return Verdict(True, next(iter(forms)), None, len(cones))
    axis = tuple(directional(net, w, unit(net.W, i), fw) for i in range(net.W))
    for rows, form in cones:
        diff = tuple(a - b for a, b in zip(form, axis))
        if all(d == 0 for d in diff):
            continue
        for sign in (1, -1):
            v = strict_point(rows + [_scale(diff, Fraction(sign))], net.W)
            if v is not None:
                v = _integral(v)
                assert directional(net, w, v, fw) != sum(a * b for a, b in zip(v, axis))
                return Verdict(False, None, v, len(cones))
    raise AssertionError("phi_w is not linear but no cone differs from the axis form")
