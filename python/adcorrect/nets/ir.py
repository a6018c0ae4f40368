"""The network IR that every tool reads (THEORY.md sections 3 and 8.1).

A network with a fixed input is a function of its parameters w in R^W.  Neurons
are listed in topological order; neuron k has the pre-activation

    y_k = sum_j c_j * s_j + b        z_k = sigma_k(y_k)

where each source s_j is an input or an earlier neuron, each coefficient c_j and
the optional constant term b is a parameter w_p or a rational constant.
Parameters are referenced by index and may be shared by any number of neurons
(a batched network shares every parameter across its copies).

Smooth pre-activations (THEORY.md section 8: C1 tau_k) enter as neurons whose ``op`` is
a product or a quotient of their two sources, ``y_k = s_0 * s_1`` (``op="mul"``) or
``y_k = s_0 / s_1`` (``op="div"``), both weights the constant 1 and no bias, and as smooth
activations (tanh, GELU, exp, 1/sqrt, ...: ``Activation.exact`` False).  Such networks
are decided by the certified engine (:mod:`adcorrect.exact.certified`); every exact
consumer calls :meth:`Network.require_exact` and refuses them with one line.  The scalar f is
formed from the output neurons by a :class:`Head`: a linear combination (one
output neuron, or the `sum` loss of a batch), a mean squared error, or a
cross-entropy over groups of logits.

Front ends only build this: the layered JSON (:mod:`adcorrect.nets.spec`), JSON
version 2 (:mod:`adcorrect.nets.specv2`), mini-batches (:mod:`adcorrect.nets.batch`) and
PyTorch import (:mod:`adcorrect.torchfx`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

from ..core.errors import InputError
from .activations import Activation

Value = tuple[str, Any]  # ("param", index) or ("const", Fraction)

HEAD_KINDS = ("linear", "mse", "ce")

#: neuron ops whose pre-activation is not linear in the sources
SMOOTH_OPS = ("mul", "div")
#: neuron ops of selections (max nodes, torch.where): kinked neurons that are no
#: activation call of the model (the execution audit does not record them)
SELECTION_OPS = ("max", "select")


def is_param(v: Value | None) -> bool:
    """Whether a coefficient slot is a parameter."""
    return v is not None and v[0] == "param"


@dataclass(frozen=True)
class Neuron:
    """One neuron: y = sum_j weights[j] * sources[j] + bias, z = activation(y).

    ``sources[j]`` is a neuron index (>= 0, earlier in the list) or ``-(i+1)``
    for input i.  ``example`` is the batch copy the neuron belongs to and
    ``base`` its index in the single-example network (its own index when the
    network is not batched).  ``layer``/``unit`` locate it in a layered network
    (0-based layer); ``op`` says what it implements when it is not a plain
    neuron (``"max"`` for a neuron of a max node written as
    ``m + relu(s - m)``)."""

    index: int
    activation: Activation
    sources: tuple[int, ...]
    weights: tuple[Value, ...]
    bias: Value | None
    name: str = ""
    layer: int = 0
    unit: int = 0
    example: int = 0
    base: int = -1
    op: str = ""

    @property
    def label(self) -> str:
        """The neuron's name, or its index."""
        return self.name or str(self.index)


@dataclass(frozen=True)
class Head:
    """How the scalar f is formed from the output neurons.

    - ``linear``: f = sum_o coefs[o] * z_{outputs[o]};
    - ``mse``: f = scale * sum_o (z_{outputs[o]} - targets[o])^2;
    - ``ce``: f = scale * sum_g (log sum_{o in groups[g]} exp z_o - z_{groups[g][classes[g]]}),
      the outputs being partitioned into groups of logits (one per example).
    """

    kind: str
    outputs: tuple[int, ...]
    coefs: tuple[Fraction, ...] = ()
    targets: tuple[Fraction, ...] = ()
    groups: tuple[tuple[int, ...], ...] = ()
    classes: tuple[int, ...] = ()
    scale: Fraction = Fraction(1)

    def __post_init__(self) -> None:
        if self.kind not in HEAD_KINDS:
            raise InputError(f"unknown loss {self.kind!r} (use {', '.join(HEAD_KINDS)})")
        if self.kind == "linear" and len(self.coefs) != len(self.outputs):
            raise InputError("linear loss: one weight per output is needed")
        if self.kind == "mse" and len(self.targets) != len(self.outputs):
            raise InputError("mse loss: one target per output is needed")
        if self.kind == "ce":
            if len(self.groups) != len(self.classes):
                raise InputError("cross-entropy: one target class per group of logits")
            for g, c in zip(self.groups, self.classes):
                if not 0 <= c < len(g):
                    raise InputError(f"cross-entropy: class {c} outside 0..{len(g) - 1}")

    @property
    def is_linear(self) -> bool:
        return self.kind == "linear"

    @property
    def is_rational(self) -> bool:
        """Whether dL/dz is rational at rational outputs (not so for cross-entropy)."""
        return self.kind != "ce"


def single_output(index: int) -> Head:
    """f = z of one neuron."""
    return Head("linear", (index,), coefs=(Fraction(1),))


@dataclass(frozen=True)
class Network:
    """A network with fixed input as a function of its W parameters (the IR).

    ``values`` are stored parameter values (a model's, or a v2 spec's), if any;
    ``layers`` is the layered description a v1 spec was parsed from (None for
    other front ends); ``spec`` is a JSON-able description that rebuilds the
    network (written into SMT files' metadata); ``batch`` is the number of
    copies (examples) of a batched network."""

    name: str
    input: tuple[Fraction, ...]
    neurons: tuple[Neuron, ...]
    param_names: tuple[str, ...]
    head: Head
    values: tuple[Fraction, ...] | None = None
    layers: tuple[Any, ...] | None = None
    spec: Any = field(default=None, compare=False)
    batch: int = 1

    def __post_init__(self) -> None:
        validate(self)

    @property
    def W(self) -> int:
        """Number of parameters."""
        return len(self.param_names)

    @property
    def outputs(self) -> tuple[int, ...]:
        """Indices of the output neurons."""
        return self.head.outputs

    @property
    def n_kinks(self) -> int:
        """n = sum over neurons of |ndf(sigma_k)| (T2)."""
        return sum(len(n.activation.kinks) for n in self.neurons)

    @property
    def last_only(self) -> bool:
        """Whether f is z of the last neuron (the layered networks of THEORY.md section 3)."""
        h = self.head
        return h.kind == "linear" and h.outputs == (len(self.neurons) - 1,) \
            and h.coefs == (Fraction(1),)

    def require_exact(self) -> None:
        """Raise InputError unless every activation is piecewise polynomial and every
        pre-activation linear in the sources."""
        for n in self.neurons:
            n.activation.require_exact()
            if n.op in SMOOTH_OPS:
                raise InputError(f"neuron {n.label}: a {'product' if n.op == 'mul' else 'quotient'}"
                                 " of values; exact analysis (check, count, smt) needs linear "
                                 "pre-activations (the certified engine decides such networks)")

    @cached_property
    def is_smooth(self) -> bool:
        """Whether some neuron has a smooth activation or a smooth op (certified engine)."""
        return any(not n.activation.exact or n.op in SMOOTH_OPS for n in self.neurons)

    def require_linear_head(self, what: str) -> None:
        """Raise InputError unless f is a linear combination of output neurons."""
        if not self.head.is_linear:
            raise InputError(f"{what} supports networks whose f is a linear combination of "
                             f"outputs only; {self.name} has a {self.head.kind} loss")

    @cached_property
    def consumers(self) -> tuple[tuple[tuple[int, Value], ...], ...]:
        """For each neuron k, the (consumer j, weight slot) pairs with k among j's sources."""
        out: list[list[tuple[int, Value]]] = [[] for _ in self.neurons]
        for n in self.neurons:
            for src, wt in zip(n.sources, n.weights):
                if src >= 0:
                    out[src].append((n.index, wt))
        return tuple(tuple(c) for c in out)

    @cached_property
    def param_uses(self) -> tuple[int, ...]:
        """How many slots (weights and biases of all neurons) each parameter fills."""
        uses = [0] * self.W
        for n in self.neurons:
            for v in (*n.weights, n.bias):
                if is_param(v):
                    uses[v[1]] += 1  # type: ignore[index]
        return tuple(uses)

    def exclusive_bias(self, k: int) -> bool:
        """Whether neuron k has a bias parameter that occurs nowhere else
        (THEORY.md section 3: an exclusive affine parameter with coefficient 1)."""
        b = self.neurons[k].bias
        return is_param(b) and self.param_uses[b[1]] == 1  # type: ignore[index]

    @cached_property
    def no_exclusive_bias(self) -> tuple[int, ...]:
        """Neurons that are not identity (or everywhere smooth) neurons and have no bias
        parameter of their own (why the network is not a bias network)."""
        return tuple(n.index for n in self.neurons
                     if not _kinkless(n.activation) and not self.exclusive_bias(n.index))

    @property
    def is_bias_network(self) -> bool:
        """Every neuron has its own bias parameter (THEORY.md section 3).

        Identity neurons are exempt: substituting y_k for z_k in their consumers (and in
        f) gives the same function and the same AD, with polynomial pre-activations as
        section 3 allows, and leaves every other neuron's bias exclusive; so the bias
        condition is checked on that network, as Coq's `bias_network` sees it (there the
        output layer of a layered network is the output expression g, not a neuron)."""
        return not self.no_exclusive_bias

    @cached_property
    def examples(self) -> tuple[tuple[int, ...], ...]:
        """The neurons of each example (copy), in topological order."""
        out: list[list[int]] = [[] for _ in range(self.batch)]
        for n in self.neurons:
            out[n.example].append(n.index)
        return tuple(tuple(e) for e in out)


def _kinkless(act: Activation) -> bool:
    """Identity, or smooth everywhere (tanh, GELU, 1/sqrt, ...): such neurons are part of
    their consumers' C1 pre-activations and need no bias of their own."""
    return act.is_identity or (not act.exact and not act.kink_table())


def validate(net: Network) -> None:
    """Structural checks: topological sources, parameter indices, outputs, copies."""
    W = len(net.param_names)
    n_in = len(net.input)
    if not net.neurons:
        raise InputError(f"network {net.name}: no neurons")
    for k, n in enumerate(net.neurons):
        if n.index != k:
            raise InputError(f"network {net.name}: neuron {k} has index {n.index}")
        if len(n.sources) != len(n.weights):
            raise InputError(f"neuron {n.label}: {len(n.sources)} sources, "
                             f"{len(n.weights)} weights")
        for s in n.sources:
            if s >= k or s < -n_in:
                raise InputError(f"neuron {n.label}: source {s} is not an input or an "
                                 "earlier neuron")
            if s >= 0 and net.neurons[s].example != n.example:
                raise InputError(f"neuron {n.label}: reads a neuron of another example")
        for v in (*n.weights, n.bias):
            if is_param(v) and not 0 <= v[1] < W:  # type: ignore[index]
                raise InputError(f"neuron {n.label}: parameter index {v[1]} "  # type: ignore[index]
                                 f"outside 0..{W - 1}")
        if n.op in SMOOTH_OPS and (len(n.sources) != 2 or n.bias is not None
                                   or any(w != ("const", 1) for w in n.weights)):
            raise InputError(f"neuron {n.label}: a {n.op} neuron reads two sources with "
                             "weight 1 and no bias")
        if not 0 <= n.example < net.batch:
            raise InputError(f"neuron {n.label}: example {n.example} outside the batch")
    for o in net.head.outputs:
        if not 0 <= o < len(net.neurons):
            raise InputError(f"network {net.name}: output {o} is not a neuron")
    if net.values is not None and len(net.values) != W:
        raise InputError(f"network {net.name}: {len(net.values)} stored values for "
                         f"{W} parameters")


def slot_value(v: Value | None, w: Sequence[Any]) -> Any:
    """The number a weight/bias slot stands for at parameters w (0 for no bias)."""
    if v is None:
        return Fraction(0)
    kind, x = v
    return w[x] if kind == "param" else x
