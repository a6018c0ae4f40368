"""The certified engine's quick pass: the forward pass in Arb balls only (parameters,
inputs and constants converted once; no exact rationals, no value numbering).  When every
enclosure of a kinked activation's pre-activation excludes its kink points, no neuron is
on a kink and f is C1 near w: certified, without the exact machinery of
:mod:`adcorrect.exact.certval`, which runs only where an enclosure meets a kink."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from flint import arb, fmpq

from ..core.errors import Undecided
from ..nets.ir import Network
from ..numbers.smoothfns import SMOOTH
from .certval import CForward, Side, kinks_of, per_network


class _Balls:
    """Rationals as balls, each distinct value converted once."""

    def __init__(self) -> None:
        self.cache: dict[tuple[int, int], arb] = {}

    def __call__(self, q: Fraction) -> arb:
        key = (q.numerator, q.denominator)
        b = self.cache.get(key)
        if b is None:
            b = self.cache[key] = arb(fmpq(*key))
        return b


def _poly(p: Sequence[arb], x: arb) -> arb:
    acc = arb(0)
    for c in reversed(p):
        acc = acc * x + c
    return acc


Step = tuple[str, tuple[int, ...], tuple[object, ...], object, object]
_PLANS: dict[int, tuple[Network, list[Step]]] = {}


def _plan(net: Network) -> list[Step]:
    """The network's plan, built once (:func:`~.certval.per_network`)."""
    return per_network(_PLANS, net, _build_plan)


def _build_plan(net: Network) -> list[Step]:
    """Per neuron: op, sources, coefficients (a parameter index, or a ball), bias (the
    same), and the activation's piece balls (exact activations) or None."""
    B = _Balls()

    def coef(v: object) -> object:
        if v is None:
            return None
        kind, x = v  # type: ignore[misc]
        return int(x) if kind == "param" else B(x)

    steps: list[Step] = []
    for n in net.neurons:
        act = n.activation
        pieces = (tuple(B(c) for c in act.breakpoints),
                  tuple(tuple(B(c) for c in p) for p in act.pieces)) if act.exact else None
        steps.append((n.op, n.sources, tuple(coef(c) for c in n.weights), coef(n.bias),
                      pieces))
    return steps


def balls(w: Sequence[Fraction]) -> list[arb]:
    """Parameter values as balls (exact for dyadic values at the working precision)."""
    B = _Balls()
    return [B(v) for v in w]


def quick_forward(net: Network, w: Sequence[Fraction] | list[arb],
                  x: Sequence[Fraction] | None = None) -> CForward | None:
    """The forward pass in balls (on input x, default the network's; w as Fractions or
    already as :func:`balls`) when no enclosure meets a kink or a breakpoint (every side
    known, no neuron on a kink); None otherwise (the exact engine decides)."""
    B = _Balls()
    wb = w if w and isinstance(w[0], arb) else [B(v) for v in w]  # type: ignore[arg-type]
    xb = [B(v) for v in (net.input if x is None else x)]
    zs: list[arb] = []
    ys: list[arb] = []
    sides: list[Side] = []
    zero = arb(0)
    for n, (op, sources, coefs, bias, pieces) in zip(net.neurons, _plan(net)):
        srcs = [xb[-s - 1] if s < 0 else zs[s] for s in sources]
        if op == "mul":
            y = srcs[0] * srcs[1]
        elif op == "div":
            if srcs[1].contains(0):
                return None
            y = srcs[0] / srcs[1]
        else:
            y = zero if bias is None else (wb[bias] if type(bias) is int else bias)
            for s, c in zip(srcs, coefs):
                y = y + (wb[c] if type(c) is int else c) * s  # type: ignore[operator]
        if pieces is not None:
            piece = 0
            for i, c in enumerate(pieces[0]):
                d = y - c
                if d > 0:
                    piece = i + 1
                elif not d < 0:
                    return None
            z = _poly(pieces[1][piece], y)
        else:
            act = n.activation
            for k in kinks_of(act):
                if (y - B(k.at)).contains(0):
                    return None
            try:
                v = SMOOTH[act.fn].value(y, act.args)
            except Undecided:
                return None
            z = v if isinstance(v, arb) else B(v)
            piece = 0
        ys.append(y)
        zs.append(z)
        sides.append(Side(None, piece))
    return CForward(tuple(ys), tuple(zs), tuple(sides), (None,) * len(ys))
