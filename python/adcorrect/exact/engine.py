"""Exact engine: forward pass, kink neurons, reverse-mode AD, NS (THEORY.md section 4),
and one-sided directional derivatives by side-aware forward mode (section 7), for
any network of the IR (:mod:`adcorrect.nets.ir`).

Pre-activations and outputs are exact rationals (fractions.Fraction).  Adjoints
are rational for linear and MSE losses; with a cross-entropy loss they are
exact elements of Q(e^q : q rational) (:class:`adcorrect.numbers.expnum.ExpNum`,
THEORY.md section 8.2).  Neurons are addressed by their index in the IR.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..nets.activations import Choice
from ..nets.ir import Head, Network, Neuron, Value, is_param, slot_value

Vector = tuple[Fraction, ...]
Number = Any  # Fraction, or ExpNum where a cross-entropy loss is involved


def value_of(v: Value | None, w: Sequence[Fraction]) -> Fraction:
    """The number a weight/bias slot stands for at parameters w (0 for no bias)."""
    return slot_value(v, w)


def source_value(src: int, x: Sequence[Fraction], z: Sequence[Fraction]) -> Fraction:
    """Value of a neuron's input: input i for src = -(i+1), else z of neuron src."""
    return x[-src - 1] if src < 0 else z[src]


def is_zero(x: Number) -> bool:
    """Exact zero test for a Fraction or an ExpNum."""
    return x == 0 if isinstance(x, (int, Fraction)) else x.is_zero()


@dataclass(frozen=True)
class Forward:
    """Pre-activations y_k and outputs z_k at one parameter vector."""

    y: Vector
    z: Vector

    @property
    def out(self) -> Fraction:
        """z of the last neuron (f for a layered network)."""
        return self.z[-1]


def preactivation(n: Neuron, w: Sequence[Fraction], x: Sequence[Fraction],
                  z: Sequence[Fraction]) -> Fraction:
    """y_k = sum_j weight_j * source_j + bias."""
    acc = value_of(n.bias, w)
    for src, wt in zip(n.sources, n.weights):
        acc += value_of(wt, w) * source_value(src, x, z)
    return acc


#: Neurons between two calls of a pass's ``tick`` (a deadline's check).
TICK = 256


def forward(net: Network, w: Sequence[Fraction],
            tick: Callable[[], None] | None = None) -> Forward:
    """Exact forward pass; ``tick()`` is called every :data:`TICK` neurons (it may raise,
    e.g. :class:`adcorrect.core.errors.Undecided` past a deadline)."""
    net.require_exact()
    y: list[Fraction] = []
    z: list[Fraction] = []
    for n in net.neurons:
        if tick is not None and n.index % TICK == 0:
            tick()
        yk = preactivation(n, w, net.input, z)
        y.append(yk)
        z.append(n.activation.value(yk))
    return Forward(tuple(y), tuple(z))


def head_value(head: Head, z: Sequence[Fraction]) -> Fraction | float:
    """f from the outputs: exact for linear and MSE; a float for cross-entropy (whose value
    is transcendental; no verdict depends on it)."""
    if head.kind == "linear":
        return sum((c * z[o] for o, c in zip(head.outputs, head.coefs)), Fraction(0))
    if head.kind == "mse":
        return head.scale * sum(((z[o] - t) ** 2 for o, t in zip(head.outputs, head.targets)),
                                Fraction(0))
    import math

    total = []
    for g, c in zip(head.groups, head.classes):
        logits = [z[o] for o in g]
        top = max(range(len(logits)), key=lambda j: logits[j])
        rest = math.fsum(math.exp(float(v - logits[top])) for j, v in enumerate(logits)
                         if j != top)
        total.append(float(logits[top] - logits[c]) + math.log1p(rest))
    return float(head.scale) * math.fsum(total)


def head_grad(head: Head, z: Sequence[Fraction]) -> dict[int, Number]:
    """dL/dz_o for every output o (exact; ExpNum for cross-entropy)."""
    out: dict[int, Number] = {}
    if head.kind == "linear":
        for o, c in zip(head.outputs, head.coefs):
            out[o] = out.get(o, Fraction(0)) + c
    elif head.kind == "mse":
        for o, t in zip(head.outputs, head.targets):
            out[o] = out.get(o, Fraction(0)) + 2 * head.scale * (z[o] - t)
    else:
        from ..numbers.expnum import ExpNum

        for g, c in zip(head.groups, head.classes):
            for o, d in zip(g, ExpNum.ce_grad([z[o] for o in g], c, head.scale)):
                out[o] = out[o] + d if o in out else d
    return out


def kink_neurons(net: Network, fw: Forward) -> tuple[int, ...]:
    """K(w): neurons whose pre-activation is a kink of their activation."""
    return tuple(n.index for n in net.neurons if n.activation.is_kink(fw.y[n.index]))


@dataclass(frozen=True)
class Backward:
    """Reverse-mode AD: adjoints zbar_k, ybar_k and AD_D f(w)."""

    zbar: tuple[Number, ...]
    ybar: tuple[Number, ...]
    grad: tuple[Number, ...]


def backward(net: Network, w: Sequence[Fraction], fw: Forward,
             choice: Choice = "pytorch",
             seeds: dict[int, Number] | None = None,
             tick: Callable[[], None] | None = None) -> Backward:
    """Adjoints and AD_D f(w) with derivative choice D at kinks.

    ``seeds`` (default: dL/dz of the head) are the adjoints injected at output neurons;
    ``tick`` as in :func:`forward`."""
    neurons = net.neurons
    zero = Fraction(0)
    zbar: list[Number] = [zero] * len(neurons)
    ybar: list[Number] = [zero] * len(neurons)
    grad: list[Number] = [zero] * net.W
    for o, g in (head_grad(net.head, fw.z) if seeds is None else seeds).items():
        zbar[o] = zbar[o] + g
    for n in reversed(neurons):
        k = n.index
        if tick is not None and k % TICK == 0:
            tick()
        if is_zero(zbar[k]):
            continue
        d = n.activation.derivative(fw.y[k], choice)
        if d == 0:
            continue
        ybar[k] = yb = zbar[k] * d
        if is_param(n.bias):
            grad[n.bias[1]] = grad[n.bias[1]] + yb  # type: ignore[index]
        for src, wt in zip(n.sources, n.weights):
            if is_param(wt):
                s = source_value(src, net.input, fw.z)
                if s != 0:
                    grad[wt[1]] = grad[wt[1]] + yb * s
            if src >= 0:
                c = value_of(wt, w)
                if c != 0:
                    zbar[src] = zbar[src] + yb * c
    return Backward(tuple(zbar), tuple(ybar), tuple(grad))


def ns(net: Network, fw: Forward, bw: Backward) -> bool:
    """NS(w): some kink neuron has a non-zero adjoint zbar_k."""
    return any(not is_zero(bw.zbar[k]) for k in kink_neurons(net, fw))


def tangents(net: Network, w: Sequence[Fraction], v: Sequence[Fraction], fw: Forward,
             neurons: Sequence[int] | None = None) -> dict[int, Fraction]:
    """dz_k along v by side-aware forward mode, for the given neurons (all by default,
    in topological order; sources outside the list count as 0 tangent)."""
    dz: dict[int, Fraction] = {}
    zero = Fraction(0)
    for k in range(len(net.neurons)) if neurons is None else neurons:
        n = net.neurons[k]
        dy = v[n.bias[1]] if is_param(n.bias) else zero  # type: ignore[index]
        for src, wt in zip(n.sources, n.weights):
            if src >= 0:
                ds = dz.get(src, zero)
                if ds:
                    dy += value_of(wt, w) * ds
            if is_param(wt):
                dy += v[wt[1]] * source_value(src, net.input, fw.z)
        yk = fw.y[k]
        if dy > 0:
            dz[k] = n.activation.slope_right(yk) * dy
        elif dy < 0:
            dz[k] = n.activation.slope_left(yk) * dy
        else:
            dz[k] = zero
    return dz


def directional(net: Network, w: Sequence[Fraction], v: Sequence[Fraction],
                fw: Forward | None = None) -> Number:
    """phi_w(v): the one-sided directional derivative of f at w along v, exactly."""
    fw = fw or forward(net, w)
    dz = tangents(net, w, v, fw)
    total: Number = Fraction(0)
    for o, g in head_grad(net.head, fw.z).items():
        if dz[o]:
            total = total + g * dz[o]
    return total


def unit(W: int, i: int, sign: int = 1) -> Vector:
    """The vector sign * e_i in R^W."""
    return tuple(Fraction(sign) if j == i else Fraction(0) for j in range(W))
