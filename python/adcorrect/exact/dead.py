"""Dead kinks: copies whose pre-activation is locally constant in w (THEORY.md 8.1,
issue 16 item 4).

A pre-activation ``y_k`` is *locally constant* (LC) when it takes the same value on a
neighbourhood of w.  Structural sufficient rule, by induction in topological order:

- ``y_k`` is LC if its bias is not a parameter and every term ``c_j s_j`` is, where a
  term with a parameter coefficient is LC when ``s_j = 0`` and ``s_j`` is LC (then
  ``c s`` is 0 near w), and a term with a constant coefficient when ``c_j = 0`` or
  ``s_j`` is LC;
- a source ``s_j`` is LC if it is an input, or ``z_j = sigma_j(y_j)`` with ``y_j`` LC, or
  with ``sigma_j`` constant on both pieces touching ``y_j`` (relu of a negative value,
  hardtanh beyond its bounds);
- a max node ``m_k = m_(k-1) +- relu(+-(s_k - m_(k-1)))`` whose comparison is strict
  (the relu's input certainly non-zero) equals, near w, the larger (smaller) of the two
  (``s_k`` where the relu is active, else ``m_(k-1)``), so it is LC if that one is: the
  running maximum of a window whose strict maximum is locally constant (a tie of zeros
  after a live entry below them is dead).  Its AD tangent is that entry's (slope 1 or 0
  on a certain side), so the induction below holds.

A kink copy with an LC input is no kink for differentiability (the network equals, near
w, the one with that copy's output frozen) and no choice point for AD: the same
induction shows that AD's tangent of an LC pre-activation is 0 for every choice of
slopes (zero values, zero tangents and zero slopes only), so the chosen slope multiplies
0, and the adjoints it changes are those of LC nodes, whose parameter terms carry a zero
source value.  Max-pool ties of values that are all locally constant (e.g. relu outputs
of negative inputs) are the common case.

The rule reads values through two callbacks, so it runs on exact values (the oracle)
and on certified float64 values with exact fallbacks (the audit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from ..nets.activations import Activation
from ..nets.ir import Network, is_param

#: (source index, example) -> whether that source's value is exactly 0.
ZeroTest = Callable[[int, int], bool]
#: (neuron index, example) -> whether sigma is constant on both pieces at y.
FlatTest = Callable[[int, int], bool]
#: (neuron index, example) -> the sign of its pre-activation (None: not known).
SignTest = Callable[[int, int], "int | None"]


def _constant_poly(p: Sequence[Fraction]) -> bool:
    return all(c == 0 for c in p[1:])


def flat_around(act: Activation, y: Fraction) -> bool:
    """Whether sigma is constant on a neighbourhood of y (both pieces at y constant)."""
    if not act.exact:
        return False
    return (_constant_poly(act.pieces[act._left_index(y)])
            and _constant_poly(act.pieces[act._right_index(y)]))


def flat_between(act: Activation, lo: Fraction, hi: Fraction) -> bool | None:
    """Whether sigma is constant around every point of [lo, hi] (None: [lo, hi] meets a
    breakpoint, so the interval alone does not say)."""
    if not act.exact:
        return False
    i = act._right_index(lo)
    if i != act._left_index(hi):
        return None
    return _constant_poly(act.pieces[i])


_PIECES: dict[int, tuple[Activation, Any]] = {}


def _float_pieces(act: Activation) -> tuple[tuple[float, ...], tuple[bool, ...]] | None:
    """(breakpoints as floats, whether each piece is constant), or None when a breakpoint
    is not a float (then only exact comparisons are sound); cached by identity."""
    hit = _PIECES.get(id(act))
    if hit is not None and hit[0] is act:
        return hit[1]
    out = None
    if act.exact and all(Fraction(float(c)) == c for c in act.breakpoints):
        out = (tuple(float(c) for c in act.breakpoints),
               tuple(_constant_poly(p) for p in act.pieces))
    if len(_PIECES) > 4096:
        _PIECES.clear()
    _PIECES[id(act)] = (act, out)
    return out


def flat_near(act: Activation, y: float, r: float) -> bool | None:
    """:func:`flat_between` on [y - r, y + r] for float y and r, in floats: for a float
    breakpoint c, fl(y - c) > r implies y - c > r (rounding is monotone and r is a
    float), so the piece is decided soundly; None when the interval may meet a
    breakpoint."""
    fp = _float_pieces(act)
    if fp is None:
        return flat_between(act, Fraction(y) - Fraction(r), Fraction(y) + Fraction(r))
    below = 0
    for c in fp[0]:
        if y - c > r:
            below += 1
        elif not c - y > r:
            return None
    return fp[1][below]


class LocalConstancy:
    """Which pre-activations ``y_{k,i}`` (neuron k of a single-example network, example i)
    are locally constant, by the rule of this module; memoised per (k, i)."""

    def __init__(self, net: Network, zero: ZeroTest, flat: FlatTest,
                 sign: SignTest | None = None) -> None:
        self.net, self.zero, self.flat, self.sign = net, zero, flat, sign
        self._y: dict[tuple[int, int], bool] = {}

    def _strict_max(self, n: Any, i: int) -> list[int] | None:
        """For a max node with a strict comparison: the one source it equals near w (as
        a list of neuron sources to be LC; [] for an input), else None."""
        if self.sign is None or n.op != "max" or len(n.sources) != 2 or n.sources[1] < 0:
            return None
        m, r = n.sources
        tie = self.net.neurons[r]
        if tie.op != "max" or len(tie.sources) != 2 or m not in tie.sources:
            return None
        sg = self.sign(r, i)
        if not sg:
            return None
        keep = m if sg < 0 else next(s for s in tie.sources if s != m)
        return [keep] if keep >= 0 else []

    def _needs(self, k: int, i: int) -> list[int] | None:
        """The neuron sources whose z must be LC for y_k to be (None: y_k is not LC)."""
        n = self.net.neurons[k]
        if is_param(n.bias):
            return None
        if n.activation.is_identity:
            strict = self._strict_max(n, i)
            if strict is not None:
                return strict
        need: list[int] = []
        for src, wt in zip(n.sources, n.weights):
            if is_param(wt):
                if not self.zero(src, i):
                    return None
            elif wt is None or wt[1] == 0:
                continue
            if src >= 0:
                need.append(src)
        return need

    def y_constant(self, k: int, i: int) -> bool:
        """Whether y of neuron k in example i is locally constant."""
        memo = self._y
        if (k, i) in memo:
            return memo[(k, i)]
        # iterative depth-first evaluation (max chains of large pools are deep); a frame
        # waits for its source on top of it, so a source that is not LC fails them all
        stack: list[list] = [[k, self._needs(k, i), 0]]
        while stack:
            frame = stack[-1]
            node, needs, pos = frame
            failed = needs is None
            descended = False
            while not failed and pos < len(needs):
                j = needs[pos]
                if memo.get((j, i)) is True or self.flat(j, i):
                    pos += 1
                elif (j, i) in memo:
                    failed = True
                else:
                    frame[2] = pos
                    stack.append([j, self._needs(j, i), 0])
                    descended = True
                    break
            if descended:
                continue
            if failed:
                for f in stack:
                    memo[(f[0], i)] = False
                stack.clear()
                break
            memo[(node, i)] = True
            stack.pop()
            if stack:
                stack[-1][2] += 1
        return memo[(k, i)]


def exact_constancy(net: Network, w: Sequence[Fraction], y: Sequence[Fraction],
                    z: Sequence[Fraction]) -> LocalConstancy:
    """The rule on exact values of a network (batched or not: example index unused)."""
    del w

    def zero(src: int, _i: int) -> bool:
        return (net.input[-src - 1] if src < 0 else z[src]) == 0

    def flat(j: int, _i: int) -> bool:
        return flat_around(net.neurons[j].activation, y[j])

    def sign(j: int, _i: int) -> int:
        return (y[j] > 0) - (y[j] < 0)

    return LocalConstancy(net, zero, flat, sign)


def dead_kinks(net: Network, w: Sequence[Fraction], y: Sequence[Fraction],
               z: Sequence[Fraction], kinks: Sequence[int]) -> set[int]:
    """The kink neurons (of an exact forward pass) whose pre-activation is locally
    constant."""
    lc = exact_constancy(net, w, y, z)
    return {k for k in kinks if lc.y_constant(k, 0)}
