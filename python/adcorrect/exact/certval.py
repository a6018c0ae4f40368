"""Forward values, derivatives and reverse-mode adjoints of an IR network over certified
values (:mod:`adcorrect.numbers.cvalue`): exact rationals where they can be, balls that
contain the true values elsewhere.  Works for every network of the IR, smooth activations
and product/quotient neurons included (THEORY.md section 8, smooth pre-activations).

A neuron's pre-activation is *on a kink* when it is exactly a kink point of its
activation, *off* when its enclosure excludes every kink point, and *ambiguous* when the
enclosure contains one at this precision (:class:`Ambiguous`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, TypeVar

from ..core.deadline import NO_DEADLINE, Deadline
from ..core.errors import InputError, Undecided
from ..nets.activations import Activation, Choice, poly_deriv
from ..nets.ir import Head, Network, Neuron
from ..numbers.cvalue import ONE, ZERO, Num, add, ball, compare, div, is_exact, mul, sub
from ..numbers.smoothfns import SMOOTH, Kink, exp

_Plan = TypeVar("_Plan")


def per_network(cache: dict[int, tuple[Network, Any]], net: Network,
                build: Callable[[Network], _Plan]) -> _Plan:
    """``build(net)``, computed once per network and kept for the last few networks (a
    quick pass's plan: reused by every audit of the same model)."""
    hit = cache.get(id(net))
    if hit is not None and hit[0] is net:
        return hit[1]  # type: ignore[no-any-return]
    plan = build(net)
    if len(cache) > 8:
        cache.clear()
    cache[id(net)] = (net, plan)
    return plan


class Ambiguous(Undecided):
    """An enclosure contains a kink or a breakpoint at the current precision."""


@dataclass(frozen=True)
class Side:
    """Where a pre-activation lies for its activation: the kink it sits on, if any."""

    kink: Kink | None
    piece: int  # the polynomial piece (exact activations) for the value off breakpoints
    at: bool = False  # exactly on a breakpoint (a kink or a smooth join)


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
            return Side(ks[0] if ks else None, i, True)
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


#: the most atoms a folded linear form keeps (beyond: the neuron is an atom itself)
MAX_FORM = 256

#: an atom of a linear form: (source neuron or input, or None for a parameter bias;
#: parameter index or None): ``z_s``, ``w_p * z_s`` or ``w_p``
Atom = tuple[int | None, int | None]


class Keys:
    """Value numbering: equal keys mean the same function of the parameters near w (inputs
    and constants by value, parameters by index), so equal terms cancel exactly."""

    def __init__(self) -> None:
        self._ids: dict[object, int] = {}

    def __call__(self, item: object) -> int:
        return self._ids.setdefault(item, len(self._ids))


@dataclass(frozen=True)
class Form:
    """A linear form ``const + sum_a coef_a * atom_a`` over atoms keyed by value number."""

    terms: dict[int, tuple[Atom, Fraction]]
    const: Fraction = ZERO


def _src(src: int, x: Sequence[Num], z: Sequence[Num]) -> Num:
    return x[-src - 1] if src < 0 else z[src]


def atom_value(a: Atom, w: Sequence[Num], x: Sequence[Num], z: Sequence[Num]) -> Num:
    src, p = a
    if src is None:
        return w[p]  # type: ignore[index]
    s = _src(src, x, z)
    return s if p is None else mul(w[p], s)


@dataclass(frozen=True)
class CForward:
    """Certified pre-activations, outputs and sides of every neuron, and the folded linear
    form of each linear neuron's pre-activation (equal atoms merged, exactly)."""

    y: tuple[Num, ...]
    z: tuple[Num, ...]
    sides: tuple[Side, ...]
    forms: tuple[Form | None, ...]
    ykeys: tuple[int, ...] = ()  # value numbers of the pre-activations (equal: same function)

    @property
    def kinked(self) -> tuple[int, ...]:
        """K(w): the neurons exactly on a kink."""
        return tuple(k for k, s in enumerate(self.sides) if s.kink is not None)


class _Forward:
    """One forward pass with value numbering and linear forms."""

    def __init__(self, net: Network, w: Sequence[Num]) -> None:
        self.net, self.w, self.x = net, w, net.input
        self.keys = Keys()
        self.kin = [self.keys(("in", v)) for v in self.x]
        self.kz: list[int] = []
        self.zforms: list[Form | None] = []  # z_k as a form (None: z_k is an atom)
        self.ys: list[Num] = []
        self.zs: list[Num] = []
        self.sides: list[Side] = []
        self.forms: list[Form | None] = []
        self.ykeys: list[int] = []

    def key(self, src: int) -> int:
        return self.kin[-src - 1] if src < 0 else self.kz[src]

    def zform(self, src: int) -> Form | None:
        return None if src < 0 else self.zforms[src]

    def linear(self, n: Neuron) -> tuple[Form, int]:
        terms: dict[int, list[Any]] = {}
        const = ZERO

        def put(k: int, atom: Atom, c: Fraction) -> None:
            e = terms.setdefault(k, [atom, ZERO])
            e[1] += c

        for src, c in zip(n.sources, n.weights):
            if c[0] == "param":
                put(self.keys(("pt", c[1], self.key(src))), (src, c[1]), ONE)  # type: ignore[arg-type]
                continue
            cf = c[1]
            f = self.zform(src)
            if f is not None and len(f.terms) + len(terms) <= MAX_FORM:
                for k, (atom, a) in f.terms.items():
                    put(k, atom, cf * a)  # type: ignore[operator]
                const += cf * f.const  # type: ignore[operator]
            else:
                put(self.key(src), (src, None), cf)  # type: ignore[arg-type]
        if n.bias is not None:
            if n.bias[0] == "param":
                put(self.keys(("pb", n.bias[1])), (None, n.bias[1]), ONE)  # type: ignore[arg-type]
            else:
                const += n.bias[1]  # type: ignore[operator]
        form = Form({k: (a, c) for k, (a, c) in terms.items() if c != 0}, const)
        sig = (tuple(sorted((k, c) for k, (_, c) in form.terms.items())), form.const)
        return form, self.keys(("lin", sig))

    def value(self, form: Form) -> Num:
        y: Num = form.const
        for atom, c in form.terms.values():
            y = add(y, mul(c, atom_value(atom, self.w, self.x, self.zs)))
        return y

    def smooth_op(self, n: Neuron) -> tuple[Num, int]:
        a, b = (_src(s, self.x, self.zs) for s in n.sources)
        ka, kb = (self.key(s) for s in n.sources)
        if n.op == "mul":
            return mul(a, b), self.keys(("mul", min(ka, kb), max(ka, kb)))
        q = div(a, b)
        if q is None:
            raise Ambiguous(f"neuron {n.label} divides by an enclosure that contains 0")
        return q, self.keys(("div", ka, kb))

    def step(self, n: Neuron) -> None:
        form: Form | None = None
        if n.op in ("mul", "div"):
            y, ky = self.smooth_op(n)
        else:
            form, ky = self.linear(n)
            y = self.value(form)
        act = n.activation
        side = locate(act, y, n.label)
        try:
            z = act_value(act, y, side)
        except InputError as e:
            raise InputError(f"neuron {n.label}: {e}") from None
        zform: Form | None = None
        kz = ky
        if not act.is_identity:
            piece = act.pieces[side.piece] if act.exact and not side.at else None
            if piece is not None and tuple(piece) in ((ZERO, ONE), (ZERO, ONE, ZERO)):
                pass  # on the identity piece: z = y near w
            elif piece is not None and all(c == 0 for c in piece[1:]):
                zform, kz = Form({}, piece[0]), self.keys(("lin", ((), piece[0])))
            else:
                kz = self.keys(("act", act, ky, side.piece))
        if kz == ky and form is not None:
            zform = form
        if zform is not None and zform.terms == {} and is_exact(z) is False:
            z = zform.const  # a constant function: exactly its constant
        self.ys.append(y)
        self.zs.append(z)
        self.sides.append(side)
        self.forms.append(form)
        self.ykeys.append(ky)
        self.kz.append(kz)
        self.zforms.append(zform)


CHECK_EVERY = 256  # neurons between two looks at the deadline


def forward(net: Network, w: Sequence[Num], deadline: Deadline = NO_DEADLINE) -> CForward:
    """The forward pass; Ambiguous when an enclosure contains a kink or a breakpoint;
    Undecided past the deadline."""
    f = _Forward(net, w)
    for n in net.neurons:
        if n.index % CHECK_EVERY == 0:
            deadline.check(f"the certified forward pass, neuron {n.index} of "
                           f"{len(net.neurons)}")
        f.step(n)
    return CForward(tuple(f.ys), tuple(f.zs), tuple(f.sides), tuple(f.forms), tuple(f.ykeys))


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
             seeds: dict[int, Num], stop: int | None = None,
             deadline: Deadline = NO_DEADLINE) -> CBackward:
    """Reverse mode from the seeds (adjoints of z at output neurons; with ``stop``, the
    adjoint of neuron stop's pre-activation instead, giving its tangent form), through the
    folded linear forms: equal atoms are merged, so their adjoints cancel exactly where
    their coefficients do, and the total derivative is the same.  Neurons folded into
    their consumers' forms get no adjoint of their own (0)."""
    x = net.input
    zbar: list[Num] = [ZERO] * len(net.neurons)
    grad: list[Num] = [ZERO] * net.W
    for o, g in seeds.items():
        zbar[o] = add(zbar[o], g)
    last = len(net.neurons) - 1 if stop is None else stop
    for k in range(last, -1, -1):
        if k % CHECK_EVERY == 0:
            deadline.check("the certified backward pass")
        n = net.neurons[k]
        if k == stop:
            yb: Num = ONE
        else:
            if is_exact(zbar[k]) and zbar[k] == 0:
                continue
            yb = mul(zbar[k], act_slope(n.activation, fw.y[k], fw.sides[k], choice))
        if is_exact(yb) and yb == 0:
            continue
        form = fw.forms[k]
        if form is None:
            a = [_src(s, x, fw.z) for s in n.sources]
            if n.op == "mul":
                partials = [a[1], a[0]]
            else:
                inv = div(ONE, a[1])
                partials = [inv, -mul(mul(a[0], inv), inv)]  # type: ignore[arg-type]
            for s, p in zip(n.sources, partials):
                if s >= 0:
                    zbar[s] = add(zbar[s], mul(yb, p))
            continue
        for (src, p), c in form.terms.values():
            yc = mul(yb, c)
            if p is None:
                if src is not None and src >= 0:
                    zbar[src] = add(zbar[src], yc)
            elif src is None:
                grad[p] = add(grad[p], yc)
            else:
                grad[p] = add(grad[p], mul(yc, _src(src, x, fw.z)))
                if src >= 0:
                    zbar[src] = add(zbar[src], mul(yc, w[p]))
    return CBackward(tuple(zbar), tuple(grad))
