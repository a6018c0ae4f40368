"""The differentiability oracle (THEORY.md sections 7 and 8.1).

f is locally Lipschitz, so it is differentiable at w iff v -> phi_w(v) is linear;
then its gradient is that linear form.  phi_w is piecewise linear: splitting R^W
by the signs of the tangents of the kink neurons (in topological order; a
tangent that is the zero form does not split) gives open polyhedral cones whose
union is dense, and on each cone phi_w is the linear form computed by forward
mode with that cone's one-sided slopes.  phi_w is linear iff every non-empty
cone carries the same form.  Emptiness of a cone {v : a_j . v > 0} is decided
exactly: a row independent of the rows so far always splits a non-empty open
cone (move along a direction orthogonal to the old rows), a row parallel to an
old one has its sign forced, and otherwise Fourier-Motzkin elimination over the
rationals decides (and yields a point).

Examples (copies of a batched network) without kink neurons contribute a linear
term, their AD gradient, so only the examples with kink neurons are split: the
cost grows with the kinked copies, not with the batch.

Two modes:

- ``independent``: the cone search only (never uses NS or adjoints); for
  cross-checks of NS, T1-T6 and the fast mode.
- ``fast`` (the default of the CLI): cheap certificates first, then the cone
  search with a budget.  (1) No kink neuron: differentiable, gradient = AD.  (1') Every kink neuron's input
  locally constant (:mod:`adcorrect.exact.dead`): the same, for every choice; such dead
  kinks are dropped from the later steps.
  (2) No kink neuron with a non-zero adjoint: differentiable with gradient AD,
  for every network (T5(b), proved in Coq).  (3) A non-linearity witness from
  exact evaluation: phi(e_p) + phi(-e_p) <> 0 on an axis (bias axes first), or
  phi(v) <> sum_i v_i phi(e_i) for a few fixed pseudo-random v.  (3') With one level of kinks (no live kink neuron's tangent depends on the side
  of another), the exact crease test of :func:`_single_level` decides both ways.
  (4) The cone search, skipping kink neurons whose adjoint is zero for every
  choice of slopes above them (structurally dead: every path to the output
  crosses a zero weight or a neuron with zero slope; their side cannot change phi).
  More than ``budget`` cones gives ``undecided`` with the reason.

Every verdict names the certificate that decided it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import Any

from ..core.deadline import NO_DEADLINE, Deadline
from ..core.errors import Undecided
from ..nets.activations import Choice
from ..nets.ir import Network, is_param
from .dead import dead_kinks
from .engine import (
    Backward,
    Forward,
    Number,
    backward,
    forward,
    head_grad,
    is_zero,
    kink_neurons,
    source_value,
    value_of,
)
from .linalg import Cones, Sparse, Vector, dot

#: Default largest number of cones the search explores before giving up.
DEFAULT_BUDGET = 20_000
MODES = ("fast", "independent")


@dataclass(frozen=True)
class Verdict:
    """The oracle's answer at one w: the gradient, or a direction witnessing non-linearity,
    or undecided (differentiable is None) with the reason."""

    differentiable: bool | None
    grad: tuple[Number, ...] | None
    witness: Vector | None  # v with phi_w(v) != sum_i v_i phi_w(e_i)
    cones: int  # number of non-empty sign cones explored (0 if a certificate decided)
    certificate: str = "cone search"  # what decided (a fixed phrase, for tallies)
    reason: str | None = None  # why undecided
    detail: str = ""  # sizes, for people (e.g. "4 cones")

    @property
    def explained(self) -> str:
        """The certificate with its detail, e.g. 'cone search (4 cones)'."""
        return f"{self.certificate} ({self.detail})" if self.detail else self.certificate


# -- the local problem: kinked examples ---------------------------------------------------------


class _Local:
    """phi_w restricted to the examples with kink neurons (the rest is linear)."""

    def __init__(self, net: Network, w: Sequence[Fraction], fw: Forward,
                 deadline: Deadline = NO_DEADLINE) -> None:
        self.net, self.w, self.fw = net, w, fw
        self.deadline = deadline
        self.kinks = set(kink_neurons(net, fw))
        kinked_examples = sorted({net.neurons[k].example for k in self.kinks})
        self.order = [k for e in kinked_examples for k in net.examples[e]]
        self.pos = {k: i for i, k in enumerate(self.order)}
        inside = set(kinked_examples)
        grads = head_grad(net.head, fw.z)
        self.out_grads = {o: g for o, g in grads.items()
                          if net.neurons[o].example in inside and not is_zero(g)}
        self.rest_seeds = {o: g for o, g in grads.items()
                           if net.neurons[o].example not in inside}
        self.params = sorted({v[1] for k in self.order  # type: ignore[index]
                              for v in (*net.neurons[k].weights, net.neurons[k].bias)
                              if is_param(v)})

    def base(self) -> tuple[Number, ...]:
        """The gradient of the examples without kink neurons (C1 there: AD, any choice)."""
        if not self.rest_seeds:
            return (Fraction(0),) * self.net.W
        return backward(self.net, self.w, self.fw, "left", seeds=self.rest_seeds).grad

    def dy_form(self, k: int, dz: list[Sparse]) -> Sparse:
        """The tangent of y_k as a sparse linear form in v."""
        n = self.net.neurons[k]
        form: Sparse = {}
        if is_param(n.bias):
            p = n.bias[1]  # type: ignore[index]
            form[p] = form.get(p, Fraction(0)) + 1
        for src, wt in zip(n.sources, n.weights):
            if src >= 0:
                c = value_of(wt, self.w)
                if c:
                    for p, x in dz[self.pos[src]].items():
                        form[p] = form.get(p, Fraction(0)) + c * x
            if is_param(wt):
                s = source_value(src, self.net.input, self.fw.z)
                if s:
                    form[wt[1]] = form.get(wt[1], Fraction(0)) + s  # type: ignore[index]
        return {p: c for p, c in form.items() if c}

    def output_form(self, dz: list[Sparse]) -> dict[int, Number]:
        out: dict[int, Number] = {}
        for o, g in self.out_grads.items():
            for p, x in dz[self.pos[o]].items():
                out[p] = out[p] + g * x if p in out else g * x
        return out

    def phi(self, v: Sequence[Fraction]) -> Number:
        """The kinked examples' part of phi_w(v) (side-aware forward mode)."""
        self.deadline.check("the oracle's witness search")
        dz: dict[int, Fraction] = {}
        zero = Fraction(0)
        for k in self.order:
            n = self.net.neurons[k]
            dy = v[n.bias[1]] if is_param(n.bias) else zero  # type: ignore[index]
            for src, wt in zip(n.sources, n.weights):
                if src >= 0:
                    ds = dz[src]
                    if ds:
                        dy += value_of(wt, self.w) * ds
                if is_param(wt):
                    dy += v[wt[1]] * source_value(src, self.net.input, self.fw.z)  # type: ignore[index]
            yk = self.fw.y[k]
            act = n.activation
            dz[k] = act.slope_right(yk) * dy if dy > 0 else \
                act.slope_left(yk) * dy if dy < 0 else zero
        total: Number = Fraction(0)
        for o, g in self.out_grads.items():
            if dz[o]:
                total = total + g * dz[o]
        return total

    def live(self) -> set[int]:
        """Neurons whose adjoint can be non-zero for some choice of slopes at kinks above."""
        live = {o for o in self.out_grads}
        for k in reversed(self.order):
            if k not in live:
                continue
            n = self.net.neurons[k]
            y = self.fw.y[k]
            act = n.activation
            if act.slope_left(y) == 0 and act.slope_right(y) == 0:
                continue
            for src, wt in zip(n.sources, n.weights):
                if src >= 0 and value_of(wt, self.w) != 0:
                    live.add(src)
        return live


# -- search ---------------------------------------------------------------------------------------


def _cone_search(loc: _Local, skip: set[int], budget: int | None
                 ) -> tuple[list[tuple[list[Sparse], dict[int, Number]]], bool]:
    """Leaves (cone rows, phi's form on the cone) until two forms differ; and whether all
    leaves were reached.  Raises Undecided beyond the budget."""
    net = loc.net
    cones = Cones(net.W)
    dz: list[Sparse] = []
    leaves: list[tuple[list[Sparse], dict[int, Number]]] = []
    first: list[dict[int, Number]] = []

    def explore(i: int) -> bool:  # False: stop (a differing form was found)
        # neurons without a choice are walked in a loop (a recursion per neuron overflowed
        # Python's stack on networks of a thousand neurons); only kinks recurse
        pushed = 0
        try:
            while i < len(loc.order):
                k = loc.order[i]
                n = net.neurons[k]
                dy = loc.dy_form(k, dz)
                y = loc.fw.y[k]
                act = n.activation
                if k not in loc.kinks or k in skip or not dy:
                    slope = act.slope_left(y)
                    dz.append({p: slope * c for p, c in dy.items() if slope * c} if dy else {})
                    pushed += 1
                    i += 1
                    continue
                for s in cones.options(dy):
                    slope = act.slope_right(y) if s > 0 else act.slope_left(y)
                    saved = cones.push({p: s * c for p, c in dy.items()})
                    dz.append({p: slope * c for p, c in dy.items() if slope * c})
                    ok = explore(i + 1)
                    dz.pop()
                    cones.pop(saved)
                    if not ok:
                        return False
                return True
            loc.deadline.check(f"the oracle's cone search, {len(leaves)} cones")
            form = loc.output_form(dz)
            leaves.append((list(cones.rows), form))
            if budget is not None and len(leaves) > budget:
                raise Undecided(f"the cone search exceeded its budget of {budget} cones")
            if not first:
                first.append(form)
                return True
            return _forms_equal(form, first[0])
        finally:
            del dz[len(dz) - pushed:]

    complete = explore(0)
    return leaves, complete


def _forms_equal(a: dict[int, Number], b: dict[int, Number]) -> bool:
    for p in a.keys() | b.keys():
        x, y = a.get(p, Fraction(0)), b.get(p, Fraction(0))
        if not is_zero(x - y):
            return False
    return True


def _axis(loc: _Local) -> dict[int, Number]:
    """phi(e_p) on the kinked examples, for every parameter they use."""
    W = loc.net.W
    out: dict[int, Number] = {}
    for p in loc.params:
        e = [Fraction(0)] * W
        e[p] = Fraction(1)
        out[p] = loc.phi(e)
    return out


def _axis_value(axis: dict[int, Number], v: Sequence[Fraction]) -> Number:
    total: Number = Fraction(0)
    for p, a in axis.items():
        if v[p]:
            total = total + a * v[p]
    return total


def _integral(v: Vector) -> Vector:
    m = lcm(*(x.denominator for x in v)) if v else 1
    return tuple(x * m for x in v)


def _is_witness(loc: _Local, axis: dict[int, Number], v: Sequence[Fraction]) -> bool:
    return not is_zero(loc.phi(v) - _axis_value(axis, v))


def _witness_in_cone(loc: _Local, rows: list[Sparse], form: dict[int, Number],
                     axis: dict[int, Number]) -> Vector:
    """A point v of the open cone with form . v != axis . v (form differs from axis)."""
    W = loc.net.W
    cones = Cones(W)
    cones.rows = rows
    v0 = cones.point()
    diff = {p: form.get(p, Fraction(0)) - axis.get(p, Fraction(0))
            for p in form.keys() | axis.keys()}
    candidates = [list(v0)]
    for p, d in diff.items():
        if is_zero(d):
            continue
        # move along e_p, staying strictly inside the cone
        limits = [dot(r, v0) / -r[p] for r in rows if r.get(p, 0) < 0]
        t = min(limits) / 2 if limits else Fraction(1)
        u = list(v0)
        u[p] += t
        candidates.append(u)
        break
    for v in candidates:
        if _is_witness(loc, axis, v):
            return _integral(tuple(v))
    raise AssertionError("a cone whose form differs from the axis form has a witness")


def _find_witness(loc: _Local, axis: dict[int, Number], live: set[int]) -> tuple[Vector, str] | None:
    """Cheap non-differentiability witnesses: axes (bias axes of live kink neurons first),
    then a few fixed pseudo-random integer directions."""
    W = loc.net.W
    biases = [loc.net.neurons[k].bias[1] for k in sorted(loc.kinks, reverse=True)  # type: ignore[index]
              if k in live and is_param(loc.net.neurons[k].bias)]
    for p in list(dict.fromkeys(biases)) + loc.params:
        e = [Fraction(0)] * W
        e[p] = Fraction(-1)
        if not is_zero(loc.phi(e) + axis[p]):
            return tuple(e), "witness on an axis"
    rng = random.Random(20230713)
    for _ in range(4):
        v = [Fraction(0)] * W
        for p in loc.params:
            v[p] = Fraction(rng.randint(-7, 7))
        for sign in (1, -1):
            sv = [sign * x for x in v]
            if _is_witness(loc, axis, sv):
                return tuple(sv), "witness along a pseudo-random direction"
    return None


def decide(net: Network, w: Sequence[Fraction], choice: Choice = "pytorch",
           mode: str = "independent", budget: int | None = DEFAULT_BUDGET,
           deadline: Deadline = NO_DEADLINE) -> Verdict:
    """Whether f is differentiable at w, with the gradient or a witness direction.

    ``mode`` is ``independent`` (cone search only: never uses NS) or ``fast``
    (certificates first; ``choice`` is the AD choice whose adjoints certificate (2)
    uses).  Undecided (differentiable None) only beyond ``budget`` cones, past the
    ``deadline``, or when an exact comparison of cross-entropy numbers exceeds its
    budget."""
    if mode not in MODES:
        raise ValueError(f"unknown oracle mode {mode!r}")
    fw = forward(net, w)
    try:
        return _decide(net, w, fw, choice, mode, budget, deadline)
    except Undecided as e:
        return Verdict(None, None, None, 0, "undecided", str(e))


def _forms_with_sides(loc: _Local, sides: dict[int, int]) -> tuple[dict[int, Sparse],
                                                                    dict[int, Number]]:
    """Tangent forms of y_k (for the kinked neurons) and phi's form, with the one-sided slope
    at kink neuron k given by sides[k] (+1 right, -1 left; absent: left)."""
    net = loc.net
    dz: list[Sparse] = []
    tangents: dict[int, Sparse] = {}
    for k in loc.order:
        dy = loc.dy_form(k, dz)
        y = loc.fw.y[k]
        act = net.neurons[k].activation
        if k in loc.kinks:
            tangents[k] = dy
            slope = act.slope_right(y) if sides.get(k, -1) > 0 else act.slope_left(y)
        else:
            slope = act.slope_left(y)
        dz.append({p: slope * c for p, c in dy.items() if slope * c})
    return tangents, loc.output_form(dz)


def _single_level(loc: _Local, live: set[int], zbar: Sequence[Number], base: Sequence[Number]
                  ) -> Verdict | None:
    """The exact test when no live kink neuron's tangent depends on another live kink
    neuron's side (one level of kinks), for every network.

    Then phi(v) = a.v + sum_k zbar_k (sr_k - sl_k) relu(t_k . v) over the live kink neurons k
    with tangents t_k (their adjoints do not depend on any choice).  Writing t_k = lam_k t_H
    for the direction H of t_k (normalised: leading coefficient 1) and using
    relu(-x) = relu(x) - x, phi is linear iff, for every direction H,
    C_H = sum_{k in H} zbar_k (sr_k - sl_k) |lam_k| = 0: the functions relu(t_H . v) of
    distinct directions are linearly independent modulo linear functions (each is not
    differentiable exactly on its own hyperplane).  None if there are several levels."""
    net = loc.net
    kinked = [k for k in loc.kinks if k in live]
    depends: set[int] = set()
    for k in loc.order:
        n = net.neurons[k]
        for src, wt in zip(n.sources, n.weights):
            if src >= 0 and (src in depends or src in kinked) and value_of(wt, loc.w) != 0:
                depends.add(k)
                break
    if any(k in depends for k in kinked):
        return None
    tangents, _ = _forms_with_sides(loc, {})
    classes: dict[tuple[tuple[int, Fraction], ...], list[tuple[int, Fraction]]] = {}
    for k in kinked:
        t = tangents[k]
        if not t:
            continue
        lead = t[min(t)]
        key = tuple(sorted((p, c / lead) for p, c in t.items()))
        classes.setdefault(key, []).append((k, lead))
    y = loc.fw.y
    bad = None
    for key, members in classes.items():
        c: Number = Fraction(0)
        for k, lam in members:
            act = net.neurons[k].activation
            c = c + zbar[k] * ((act.slope_right(y[k]) - act.slope_left(y[k])) * abs(lam))
        if not is_zero(c):
            bad = key
            break
    rng = random.Random(20230713)
    rows_all = [dict(key) for key in classes]
    if bad is None:
        v = _generic(rng, loc, rows_all, avoid=None)
        sides = {k: 1 if dot(tangents[k], v) > 0 else -1 for k in kinked if tangents[k]}
        _, form = _forms_with_sides(loc, sides)
        grad = tuple(base[p] + form[p] if p in form else base[p] for p in range(net.W))
        return Verdict(True, grad, None, 0, "one level of kinks: every crease's jumps cancel",
                       detail=f"{len(classes)} crease direction(s)")
    h = dict(bad)
    v0 = _generic(rng, loc, [r for r in rows_all if r != h], avoid=h)
    axis = _axis(loc)
    for s in (1, -1):
        sides = {}
        rows = []
        for k in kinked:
            t = tangents[k]
            if not t:
                continue
            x = dot(t, v0)
            sk = (1 if x > 0 else -1) if x != 0 else (s if t[min(t)] > 0 else -s)
            sides[k] = sk
            rows.append({p: sk * c for p, c in t.items()})
        _, form = _forms_with_sides(loc, sides)
        if not _forms_equal(form, axis):
            wv = _witness_in_cone(loc, rows, form, axis)
            return Verdict(False, None, wv, 0, "one level of kinks: a crease whose jumps do "
                                               "not cancel", detail=f"{len(classes)} crease "
                                                                    "direction(s)")
    raise AssertionError("the two sides of a crease with a jump carry different forms")


def _generic(rng: random.Random, loc: _Local, rows: list[Sparse], avoid: Sparse | None
             ) -> list[Fraction]:
    """A pseudo-random integer direction off every row's hyperplane (on avoid's, if given)."""
    W = loc.net.W
    for _ in range(1000):
        r = [Fraction(rng.randint(-9, 9)) for _ in range(W)]
        if avoid is not None:
            nn = sum((c * c for c in avoid.values()), Fraction(0))
            t = dot(avoid, r) / nn
            r = [x - t * avoid.get(p, Fraction(0)) for p, x in enumerate(r)]
        if all(dot(row, r) != 0 for row in rows):
            return r
    raise AssertionError("no generic direction found")


def _decide(net: Network, w: Sequence[Fraction], fw: Forward, choice: Choice, mode: str,
            budget: int | None, deadline: Deadline = NO_DEADLINE) -> Verdict:
    loc = _Local(net, w, fw, deadline)
    fast = mode == "fast"
    bw: Backward | None = None
    if fast:
        if not loc.kinks:
            return Verdict(True, backward(net, w, fw, choice).grad, None, 0, "no kink neuron")
        bw = backward(net, w, fw, choice)
        dead = dead_kinks(net, w, fw.y, fw.z, sorted(loc.kinks))
        if dead == loc.kinks:
            return Verdict(True, bw.grad, None, 0,
                           "every kink neuron's input is locally constant (dead kinks)")
        loc.kinks -= dead
        if all(is_zero(bw.zbar[k]) for k in loc.kinks):
            return Verdict(True, bw.grad, None, 0,
                           "no kink neuron with a non-zero adjoint (T5b)")
    base = loc.base()
    live = loc.live() if fast else set(loc.order)
    axis: dict[int, Number] | None = None
    if fast:
        assert bw is not None
        single = _single_level(loc, live, bw.zbar, base)
        if single is not None:
            return single
        axis = _axis(loc)
        found = _find_witness(loc, axis, live)
        if found is not None:
            return Verdict(False, None, found[0], 0, found[1])
    skip = {k for k in loc.kinks if k not in live} if fast else set()
    leaves, complete = _cone_search(loc, skip, budget)
    if complete:
        form = leaves[0][1]
        grad = tuple(base[p] + form[p] if p in form else base[p] for p in range(net.W))
        return Verdict(True, grad, None, len(leaves), "cone search",
                       detail=f"{len(leaves)} cones")
    axis = axis if axis is not None else _axis(loc)
    for rows, form in (leaves[0], leaves[-1]):
        if not _forms_equal(form, axis):
            v = _witness_in_cone(loc, rows, form, axis)
            return Verdict(False, None, v, len(leaves), "cone search",
                           detail=f"{len(leaves)} cones")
    raise AssertionError("two cones carry different forms, so one differs from the axis form")


def ad_gradient(net: Network, w: Sequence[Fraction], choice: Choice = "pytorch") -> tuple[Number, ...]:
    """AD_D f(w) (a convenience for callers that only need the vector)."""
    return backward(net, w, forward(net, w), choice).grad


def same_vector(a: Sequence[Any], b: Sequence[Any]) -> bool:
    """Exact equality of two vectors of Fractions/ExpNums."""
    return len(a) == len(b) and all(is_zero(x - y) for x, y in zip(a, b))
