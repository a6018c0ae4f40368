"""Symbolic entries of the tensors a PyTorch model computes, and the neurons they become.

Every entry of an intermediate tensor is an :class:`Affine`: a pending pre-activation
``sum_j c_j * s_j + b`` over IR sources (inputs and neurons) whose coefficients and
constant term are parameters or exact rationals.  Linear maps with constant
coefficients (sums, averages, reshapes, scaling by a constant) stay pending; a neuron
is created only where the IR needs one:

- an activation turns a pending pre-activation into one neuron (so the bias of a
  ``Linear`` or ``Conv`` stays that neuron's bias: bias networks are recognised);
- a parameter coefficient (``Linear``, ``Conv``, BatchNorm's gamma) needs its source
  to be a neuron or an input: a pending entry becomes an identity neuron (identity
  neurons do not count against bias networks, :attr:`adcorrect.nets.ir.Network.is_bias_network`);
- a max node is PyTorch's max written as ``m_1 = s_1, m_i = m_{i-1} + relu(s_i - m_{i-1})``
  (at a tie ``relu'(0) = 0`` keeps the earlier source: the first maximal element in
  scan order, PyTorch's choice).

Each entry becomes at most one neuron (the neuron is remembered on the entry), so an
entry used by several consumers is computed once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

from ..core.errors import InputError
from ..core.limits import check
from ..nets.activations import Activation, identity, relu, relu_split
from ..nets.ir import Neuron, Value, is_param

ONE: Value = ("const", Fraction(1))
MINUS_ONE: Value = ("const", Fraction(-1))
_IDENTITY = identity()
_RELU = relu()
_RELU_HALF = relu_split()

Term = tuple[int, Value]  # (source, coefficient); source -(i+1) is input i


class Affine:
    """A pending pre-activation ``sum_j c_j * s_j + bias`` named after where it is built.

    ``ref`` is the source (input or neuron) that holds its value once one exists;
    ``fused`` says that an activation neuron was built on it."""

    __slots__ = ("bias", "fused", "name", "ref", "terms")

    def __init__(self, terms: tuple[Term, ...], bias: Value | None, name: str,
                 ref: int | None = None) -> None:
        self.terms = terms
        self.bias = bias
        self.name = name
        self.ref = ref
        self.fused = False

    @property
    def source(self) -> int | None:
        """The source this entry equals (one term with coefficient 1, no bias), if any."""
        if self.ref is not None:
            return self.ref
        if len(self.terms) == 1 and self.bias is None and self.terms[0][1] == ONE:
            return self.terms[0][0]
        return None

    @property
    def is_coef(self) -> bool:
        """Whether the entry is a parameter or a constant (no sources)."""
        return not self.terms and self.ref is None

    def coef(self) -> Value:
        """The parameter or constant of a source-free entry."""
        if not self.is_coef:
            raise ValueError("entry depends on the network's input")
        return self.bias if self.bias is not None else ("const", Fraction(0))

    @property
    def has_param(self) -> bool:
        """Whether a parameter occurs in the entry (so it cannot be scaled in place)."""
        return is_param(self.bias) or any(is_param(c) for _, c in self.terms)

    def __repr__(self) -> str:
        return f"Affine({self.name}: {self.terms} + {self.bias}, ref={self.ref})"


def source_entry(src: int, name: str) -> Affine:
    """The entry holding the value of an input or neuron."""
    return Affine(((src, ONE),), None, name, ref=src)


def const_entry(c: Fraction) -> Affine:
    """A constant entry."""
    return Affine((), ("const", c) if c else None, str(c))


def param_entry(p: int, name: str) -> Affine:
    """An entry equal to parameter p."""
    return Affine((), ("param", p), name)


class Builder:
    """The neurons of the network under construction, in topological order."""

    def __init__(self) -> None:
        self.neurons: list[Neuron] = []
        self._names: dict[str, int] = {}

    def add(self, act: Activation, terms: Sequence[Term], bias: Value | None, name: str,
            op: str = "") -> int:
        """Append a neuron; returns its index.  A name already taken gets a ``/dupN`` suffix."""
        if name in self._names:
            self._names[name] += 1
            name = f"{name}/dup{self._names[name]}"
        self._names[name] = 1
        k = len(self.neurons)
        if not k & 0xFFFF:  # a network above the neuron limit can never be batched: stop
            check("neurons", k + 1, "the network")
        srcs, coefs = tuple(zip(*terms)) if terms else ((), ())
        self.neurons.append(Neuron(index=k, activation=act, sources=srcs, weights=coefs,
                                   bias=bias, name=name, base=k, op=op))
        return k

    def source(self, a: Affine) -> int:
        """A source (input or neuron) holding the entry's value: an identity neuron if needed."""
        s = a.source
        if s is None:
            s = a.ref = self.add(_IDENTITY, a.terms, a.bias, a.name)
        return s

    def neuron(self, a: Affine, name: str) -> int:
        """A neuron holding the entry's value (an input is copied by an identity neuron)."""
        s = self.source(a)
        return s if s >= 0 else self.add(_IDENTITY, ((s, ONE),), None, name)

    def activate(self, a: Affine, act: Activation, name: str, op: str = "") -> Affine:
        """act applied to the entry: the entry's own neuron when it is pending (its name is
        the entry's), else a neuron ``name`` reading the entry's source."""
        if act.is_identity:
            return a
        if a.source is not None or a.fused:
            k = self.add(act, ((self.source(a), ONE),), None, name, op=op)
        else:
            k = self.add(act, a.terms, a.bias, a.name, op=op)
            a.fused = True
        return source_entry(k, self.neurons[k].name)

    def lincomb(self, items: Iterable[tuple[Fraction, Affine]], name: str,
                const: Fraction = Fraction(0)) -> Affine:
        """The entry ``sum_i c_i * a_i + const`` (constant c_i).

        Entries scaled by c != 1 that contain a parameter, and all but the first entry
        with a parameter bias, are read through their neurons (a slot holds one value).
        A constant next to a parameter bias becomes an identity neuron of that constant."""
        items = [(Fraction(c), a) for c, a in items if c != 0]
        keep_bias = None
        plan: list[tuple[Fraction, Affine, bool]] = []  # (c, a, expand in place)
        for c, a in items:
            expand = a.source is None and not (c != 1 and a.has_param)
            if expand and is_param(a.bias):
                if keep_bias is None:
                    keep_bias = a
                else:
                    expand = False
            plan.append((c, a, expand))
        coefs: dict[int, Fraction] = {}
        order: list[tuple[int, Value | None]] = []  # (source, param coefficient or None)
        bias_param: Value | None = None
        total = Fraction(const)

        def put(src: int, v: Value) -> None:
            if is_param(v):
                order.append((src, v))
            else:
                if src not in coefs:
                    order.append((src, None))
                    coefs[src] = Fraction(0)
                coefs[src] += v[1]

        for c, a, expand in plan:
            if not expand:
                put(self.source(a), ("const", c))
                continue
            for s, v in a.terms:
                put(s, v if c == 1 else ("const", c * v[1]))
            if is_param(a.bias):
                bias_param = a.bias
            elif a.bias is not None:
                total += c * a.bias[1]
        terms: list[Term] = []
        for s, v in order:
            if v is not None:
                terms.append((s, v))
            elif coefs[s] != 0:
                terms.append((s, ("const", coefs[s])))
        if bias_param is not None:
            if total != 0:
                k = self.add(_IDENTITY, (), ("const", total), f"{name}/const")
                terms.append((k, ONE))
            return Affine(tuple(terms), bias_param, name)
        return Affine(tuple(terms), ("const", total) if total else None, name)

    def scale_by_param(self, p: Value, a: Affine, name: str) -> Affine:
        """The entry p * a for a parameter p."""
        if a.is_coef and not a.has_param:
            c = a.coef()[1]
            if c == 1:
                return Affine((), p, name)
            if c == 0:
                return const_entry(Fraction(0))
            return Affine(((self.source(Affine((), p, f"{name}/param")), ("const", c)),),
                          None, name)
        return Affine(((self.source(a), p),), None, name)

    def maximum(self, entries: Sequence[Affine], name: str, lowest: bool = False,
                half: bool = False) -> Affine:
        """PyTorch's max (``lowest``: min) of the entries as a max node,
        ``m_i = m_{i-1} +- relu(+-(s_i - m_{i-1}))``: at a tie the first extreme entry gets
        the gradient (relu'(0) = 0), or with ``half`` each of two tied entries half of it
        (relu'(0) = 1/2: ``torch.maximum``, ``amax``)."""
        if not entries:
            raise InputError(f"{name}: max over an empty window")
        act = _RELU_HALF if half else _RELU
        srcs = [self.source(e) for e in entries]
        m = srcs[0]
        for i, s in enumerate(srcs[1:], start=2):
            diff = ((m, ONE), (s, MINUS_ONE)) if lowest else ((s, ONE), (m, MINUS_ONE))
            r = self.add(act, diff, None, f"{name}/tie{i}", op="max")
            m = self.add(_IDENTITY, ((m, ONE), (r, MINUS_ONE if lowest else ONE)), None,
                         f"{name}/{i}" if i < len(entries) else name, op="max")
        return source_entry(m, name)
