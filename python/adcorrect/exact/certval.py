"""Forward values, derivatives and reverse-mode adjoints of an IR network over certified
values (:mod:`adcorrect.numbers.cvalue`): exact rationals where they can be, balls that
contain the true values elsewhere.  Works for every network of the IR, smooth activations
and product/quotient neurons included (THEORY.md section 8, smooth pre-activations).

A neuron's pre-activation is *on a kink* when it is exactly a kink point of its
activation, *off* when its enclosure excludes every kink point, and *ambiguous* when the
enclosure contains one at this precision (:class:`Ambiguous`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from ..core.errors import InputError, Undecided
from ..nets.activations import Activation, Choice, poly_deriv
from ..nets.ir import Head, Network, Neuron, is_param
from ..numbers.cvalue import ONE, ZERO, Num, add, ball, compare, div, is_exact, mul, sub
from ..numbers.smoothfns import SMOOTH, Kink, exp


class Ambiguous(Undecided):
    """An enclosure contains a kink or a breakpoint at the current precision."""


@dataclass(frozen=True)
class Side:
    """Where a pre-activation lies for its activation: the kink it sits on, if any."""

    kink: Kink | None
    piece: int  # the polynomial piece (exact activations) for the value off breakpoints


@lru_cache(maxsize=512)
def kinks_of(act: Activation) -> tuple[Kink, ...]:
    """The kinks of an activation (exact or smooth) with slopes and PyTorch's choice."""
    return tuple(Kink(*row) for row in act.kink_table())


def _poly(p: Sequence[Fraction], x: Num) -> Num:
    acc: Num = ZERO
    for c in reversed(p):
        acc = add(mul(acc, x), c)
    return acc


def locate(act: Activation, y: Num, label: str) -> Side:
    """Which kink y sits on (exactly) and which piece it is in; Ambiguous if unknown."""
    points = act.breakpoints if act.exact else tuple(k.at for k in kinks_of(act))
    piece = 0
    for i, c in enumerate(points):
        s = compare(y, c)
        if s is None:
            raise Ambiguous(f"the enclosure of neuron {label}'s pre-activation contains "
                            f"the {'kink' if act.exact and act.is_kink(c) or not act.exact else 'breakpoint'}"
                            f" {c}")
        if s == 0:
            ks = [k for k in kinks_of(act) if k.at == c]  # none: a smooth breakpoint
            return Side(ks[0] if ks else None, i)
        if s > 0:
            piece = i + 1
    return Side(None, piece)


def act_value(act: Activation, y: Num, side: Side) -> Num:
    if act.exact:
        return _poly(act.pieces[side.piece], y)
    return SMOOTH[act.fn].value(y, act.args)


def act_slope(act: Activation, y: Num, side: Side, choice: Choice) -> Num:
    """sigma'(y) off a kink; the chosen derivative D sigma(y) on one."""
    k = side.kink
    if k is not None:
        return act.chosen(k.left, k.right, k.torch, choice)
    if act.exact:
        return _poly(poly_deriv(act.pieces[side.piece]), y)
    return SMOOTH[act.fn].deriv(y, act.args)


def slot(v: tuple[str, object] | None, w: Sequence[Num]) -> Num:
    if v is None:
        return ZERO
    return w[v[1]] if v[0] == "param" else v[1]  # type: ignore[index,return-value]


def _src(src: int, x: Sequence[Num], z: Sequence[Num]) -> Num:
    return x[-src - 1] if src < 0 else z[src]


def preact(n: Neuron, w: Sequence[Num], x: Sequence[Num], z: Sequence[Num]) -> Num:
    """y_k: the linear form, or the product / quotient of the two sources."""
    if n.op == "mul":
        return mul(_src(n.sources[0], x, z), _src(n.sources[1], x, z))
    if n.op == "div":
        q = div(_src(n.sources[0], x, z), _src(n.sources[1], x, z))
        if q is None:
            raise Ambiguous(f"neuron {n.label} divides by an enclosure that contains 0")
        return q
    acc = slot(n.bias, w)
    for s, c in zip(n.sources, n.weights):
        acc = add(acc, mul(slot(c, w), _src(s, x, z)))
    return acc


@dataclass(frozen=True)
class CForward:
    """Certified pre-activations, outputs and sides of every neuron."""

    y: tuple[Num, ...]
    z: tuple[Num, ...]
    sides: tuple[Side, ...]

    @property
    def kinked(self) -> tuple[int, ...]:
        """K(w): the neurons exactly on a kink."""
        return tuple(k for k, s in enumerate(self.sides) if s.kink is not None)


def forward(net: Network, w: Sequence[Num]) -> CForward:
    """The forward pass; Ambiguous when an enclosure contains a kink or a breakpoint."""
    x = net.input
    ys: list[Num] = []
    zs: list[Num] = []
    sides: list[Side] = []
    for n in net.neurons:
        y = preact(n, w, x, zs)
        side = locate(n.activation, y, n.label)
        try:
            z = act_value(n.activation, y, side)
        except InputError as e:
            raise InputError(f"neuron {n.label}: {e}") from None
        ys.append(y)
        zs.append(z)
        sides.append(side)
    return CForward(tuple(ys), tuple(zs), tuple(sides))


def head_grad(head: Head, z: Sequence[Num]) -> dict[int, Num]:
    """dL/dz_o for every output o, certified (softmax as balls unless the logits of a
    group are exactly equal)."""
    out: dict[int, Num] = {}

    def put(o: int, g: Num) -> None:
        out[o] = add(out.get(o, ZERO), g)

    if head.kind == "linear":
        for o, c in zip(head.outputs, head.coefs):
            put(o, c)
    elif head.kind == "mse":
        for o, t in zip(head.outputs, head.targets):
            put(o, mul(2 * head.scale, sub(z[o], t)))
    else:
        for g, c in zip(head.groups, head.classes):
            ls = [z[o] for o in g]
            if all(is_exact(v) and v == ls[0] for v in ls):
                ps: list[Num] = [Fraction(1, len(ls))] * len(ls)
            else:
                es = [exp(sub(v, ls[0])) for v in ls]
                total = ball(es[0])
                for e in es[1:]:
                    total = total + ball(e)
                ps = [ball(e) / total for e in es]
            for j, (o, p) in enumerate(zip(g, ps)):
                put(o, mul(head.scale, sub(p, ONE) if j == c else p))
    return out


def head_value(head: Head, z: Sequence[Num]) -> Num:
    """f from the outputs, certified."""
    if head.kind == "linear":
        acc: Num = ZERO
        for o, c in zip(head.outputs, head.coefs):
            acc = add(acc, mul(c, z[o]))
        return acc
    if head.kind == "mse":
        acc = ZERO
        for o, t in zip(head.outputs, head.targets):
            d = sub(z[o], t)
            acc = add(acc, mul(d, d))
        return mul(head.scale, acc)
    acc = ZERO
    for g, c in zip(head.groups, head.classes):
        top = ball(z[g[0]])
        total: Num = ONE
        for o in g[1:]:
            total = add(total, exp(sub(z[o], z[g[0]])))
        acc = add(acc, sub(add(top, ball(total).log()), z[g[c]]))
    return mul(head.scale, acc)


@dataclass(frozen=True)
class CBackward:
    """Adjoints zbar_k and the gradient over the parameters (AD_D)."""

    zbar: tuple[Num, ...]
    grad: tuple[Num, ...]


def backward(net: Network, w: Sequence[Num], fw: CForward, choice: Choice,
             seeds: dict[int, Num], stop: int | None = None) -> CBackward:
    """Reverse mode from the seeds (adjoints of z at output neurons; with ``stop``, the
    adjoint of neuron stop's pre-activation instead, giving its tangent form)."""
    x = net.input
    zbar: list[Num] = [ZERO] * len(net.neurons)
    grad: list[Num] = [ZERO] * net.W
    for o, g in seeds.items():
        zbar[o] = add(zbar[o], g)
    last = len(net.neurons) - 1 if stop is None else stop
    for k in range(last, -1, -1):
        n = net.neurons[k]
        if k == stop:
            yb: Num = ONE
        else:
            if is_exact(zbar[k]) and zbar[k] == 0:
                continue
            yb = mul(zbar[k], act_slope(n.activation, fw.y[k], fw.sides[k], choice))
        if is_exact(yb) and yb == 0:
            continue
        a = [_src(s, x, fw.z) for s in n.sources]
        if n.op == "mul":
            partials = [a[1], a[0]]
        elif n.op == "div":
            inv = div(ONE, a[1])
            partials = [inv, -mul(mul(a[0], inv), inv)]  # type: ignore[arg-type]
        else:
            partials = [slot(c, w) for c in n.weights]
            if is_param(n.bias):
                grad[n.bias[1]] = add(grad[n.bias[1]], yb)  # type: ignore[index]
            for c, s in zip(n.weights, a):
                if is_param(c):
                    grad[c[1]] = add(grad[c[1]], mul(yb, s))  # type: ignore[index]
        for s, p in zip(n.sources, partials):
            if s >= 0:
                zbar[s] = add(zbar[s], mul(yb, p))
    return CBackward(tuple(zbar), tuple(grad))
