"""Exact engine: forward pass, kink neurons, reverse-mode AD, NS (THEORY.md section 4),
and one-sided directional derivatives by side-aware forward mode (section 7).

All arithmetic is exact (fractions.Fraction).  Neurons are addressed by their
flat index (see spec.Network.neurons); the output f is z of the last neuron.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from .activations import Choice
from .spec import Network, Neuron, Value

Vector = tuple[Fraction, ...]


def value_of(v: Value | None, w: Sequence[Fraction]) -> Fraction:
    """The number a weight/bias slot stands for at parameters w (0 for no bias)."""
    if v is None:
        return Fraction(0)
    kind, x = v
    return w[x] if kind == "param" else x


def source_value(src: int, x: Sequence[Fraction], z: Sequence[Fraction]) -> Fraction:
    """Value of a neuron's input: input i for src = -(i+1), else z of neuron src."""
    return x[-src - 1] if src < 0 else z[src]


@dataclass(frozen=True)
class Forward:
    """Pre-activations y_k, outputs z_k and f = z_last, at one parameter vector."""

    y: Vector
    z: Vector

    @property
    def out(self) -> Fraction:
        return self.z[-1]


def preactivation(n: Neuron, w: Sequence[Fraction], x: Sequence[Fraction],
                  z: Sequence[Fraction]) -> Fraction:
    """y_k = sum_j weight_j * source_j + bias."""
    acc = value_of(n.bias, w)
    for src, wt in zip(n.sources, n.weights):
        acc += value_of(wt, w) * source_value(src, x, z)
    return acc


def forward(net: Network, w: Sequence[Fraction]) -> Forward:
    """Exact forward pass."""
    net.require_exact()
    y: list[Fraction] = []
    z: list[Fraction] = []
    for n in net.neurons:
        yk = preactivation(n, w, net.input, z)
        y.append(yk)
        z.append(n.activation.value(yk))
    return Forward(tuple(y), tuple(z))


def kink_neurons(net: Network, fw: Forward) -> tuple[int, ...]:
    """K(w): neurons whose pre-activation is a kink of their activation."""
    return tuple(n.index for n in net.neurons if n.activation.is_kink(fw.y[n.index]))


@dataclass(frozen=True)
class Backward:
    """Reverse-mode AD: adjoints zbar_k, ybar_k and AD_D f(w)."""

    zbar: Vector
    ybar: Vector
    grad: Vector


def backward(net: Network, w: Sequence[Fraction], fw: Forward,
             choice: Choice = "pytorch") -> Backward:
    """Adjoints and AD_D f(w) with derivative choice D at kinks."""
    neurons = net.neurons
    zbar = [Fraction(0)] * len(neurons)
    ybar = [Fraction(0)] * len(neurons)
    grad = [Fraction(0)] * net.W
    zbar[-1] = Fraction(1)
    for n in reversed(neurons):
        k = n.index
        ybar[k] = zbar[k] * n.activation.derivative(fw.y[k], choice)
        if ybar[k] == 0:
            continue
        if n.bias is not None and n.bias[0] == "param":
            grad[n.bias[1]] += ybar[k]
        for src, wt in zip(n.sources, n.weights):
            if wt[0] == "param":
                grad[wt[1]] += ybar[k] * source_value(src, net.input, fw.z)
            if src >= 0:
                zbar[src] += ybar[k] * value_of(wt, w)
    return Backward(tuple(zbar), tuple(ybar), tuple(grad))


def ns(net: Network, fw: Forward, bw: Backward) -> bool:
    """NS(w): some kink neuron has a non-zero adjoint zbar_k."""
    return any(bw.zbar[k] != 0 for k in kink_neurons(net, fw))


def directional(net: Network, w: Sequence[Fraction], v: Sequence[Fraction],
                fw: Forward | None = None) -> Fraction:
    """phi_w(v): the one-sided directional derivative of f at w along v, exactly."""
    fw = fw or forward(net, w)
    dz: list[Fraction] = []
    for n in net.neurons:
        dy = Fraction(0)
        if n.bias is not None and n.bias[0] == "param":
            dy += v[n.bias[1]]
        for src, wt in zip(n.sources, n.weights):
            s = source_value(src, net.input, fw.z)
            ds = Fraction(0) if src < 0 else dz[src]
            dy += value_of(wt, w) * ds
            if wt[0] == "param":
                dy += v[wt[1]] * s
        yk = fw.y[n.index]
        if dy > 0:
            dz.append(n.activation.slope_right(yk) * dy)
        elif dy < 0:
            dz.append(n.activation.slope_left(yk) * dy)
        else:
            dz.append(Fraction(0))
    return dz[-1]


def unit(W: int, i: int, sign: int = 1) -> Vector:
    """The vector sign * e_i in R^W."""
    return tuple(Fraction(sign) if j == i else Fraction(0) for j in range(W))
