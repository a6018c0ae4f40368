"""Network specs, JSON version 2: named nodes with explicit sources (skip
connections, shared parameters), a parameter table, several outputs, max nodes
and a loss.  A front end of the IR (:mod:`adcorrect.nets.ir`).

    {"version": 2, "name": "skip",
     "inputs": ["x"], "input": ["1"],
     "params": [{"name": "a", "value": "1/2"}, "b", "c"],
     "nodes": [
       {"name": "h", "activation": "relu", "terms": [["a", "x"]], "bias": "b"},
       {"name": "m", "max": ["h", "x"]},
       {"name": "o", "terms": [["c", "m"], ["1", "x"]]}],
     "outputs": ["o"],
     "loss": {"kind": "linear", "weights": ["1"]}}

- ``inputs``: input names; ``input`` (optional): their values, the fixed input
  of ``check`` without ``--batch``.
- ``params``: the parameter table in parameter order (the order of w, AD and
  the gradient); an entry is a name or ``{"name", "value"}``.  A parameter
  used in several places is shared.
- ``nodes`` in topological order.  A neuron has ``terms`` (pairs
  ``[coefficient, source]``: a coefficient is a parameter name or a rational,
  a source an input or an earlier node), an optional ``bias`` (a parameter or
  a rational) and an ``activation`` (default ``identity``).  A max node
  ``{"name", "max": [sources]}`` is PyTorch's max (at a tie the first maximal
  source in the list) written as the neurons m_1 = s_1,
  m_i = m_{i-1} + relu(s_i - m_{i-1}) (``relu'(0) = 0`` keeps the earlier one):
  a kink where two sources tie, without a bias of its own.
- ``outputs``: output node names.  ``loss`` (optional with one output: f is
  that output): ``{"kind": "linear", "weights": [...]}``,
  ``{"kind": "mse", "targets": [...]}`` (f = mean of the squared errors) or
  ``{"kind": "ce", "target": class index}`` (cross-entropy of the outputs as
  logits).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from ..core.errors import InputError
from ..core.limits import check, elide, magnitude
from .activations import parse_activation, relu
from .fields import check_fields, rational_at
from .ir import Head, Network, Neuron, Value, is_param, single_output

#: What Fraction() would read as a number (matched, never converted: 1e1000000000 is cheap).
NUMBER = re.compile(r"^\s*[+-]?(?:(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?"
                    r"|\d[\d_]*\s*/\s*[+-]?\d[\d_]*)\s*$")
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.,\[\]:/@]*$")
_TOP = {"version", "name", "description", "inputs", "input", "params", "nodes", "outputs",
        "loss", "batch"}
_NODE = {"name", "activation", "terms", "bias", "max", "example"}


def is_name(x: Any) -> bool:
    """Letters, digits and ``_ . , [ ] : / @``, and not a number (``0.weight[1,2]`` is a
    name, ``1/2`` and ``1e3`` are numbers)."""
    if not isinstance(x, str) or not NAME.match(x):
        return False
    return not NUMBER.match(x)


def _name(x: Any, where: str) -> str:
    if not is_name(x):
        raise InputError(f"{where}: expected a name (letters, digits and _ . , [ ] : / @, "
                         f"not a number), got {x!r}")
    return x


def _list(x: Any, where: str) -> list[Any]:
    if not isinstance(x, list):
        raise InputError(f"{where}: expected a list")
    return x




class _Builder:
    """Names to indices while the neurons are laid out."""

    def __init__(self, name: str, inputs: list[str], params: list[str], batch: int) -> None:
        self.name = name
        self.batch = batch
        self.inputs = {x: i for i, x in enumerate(inputs)}
        self.params = {p: i for i, p in enumerate(params)}
        self.nodes: dict[str, int] = {}  # node name -> neuron index of its output
        self.neurons: list[Neuron] = []

    def coef(self, x: Any, where: str) -> Value:
        if isinstance(x, str) and x in self.params:
            return ("param", self.params[x])
        if is_name(x):
            raise InputError(f"{where}: unknown parameter {x!r}")
        return ("const", rational_at(x, where))

    def source(self, x: Any, where: str) -> int:
        name = _name(x, where)
        if name in self.inputs:
            return -(self.inputs[name] + 1)
        if name in self.nodes:
            return self.nodes[name]
        raise InputError(f"{where}: {name!r} is not an input or an earlier node")

    def add(self, **kw: Any) -> int:
        k = len(self.neurons)
        self.neurons.append(Neuron(index=k, base=k, **kw))
        return k

    def node(self, obj: Any, i: int) -> None:
        where = f"nodes[{i}]"
        check_fields(obj, _NODE, where)
        name = _name(obj.get("name"), f"{where}.name")
        if name in self.nodes or name in self.inputs or name in self.params:
            raise InputError(f"{where}.name: {name!r} is already used")
        where = f"node {name}"
        example = obj.get("example", 0)
        if not isinstance(example, int) or isinstance(example, bool) or \
                not 0 <= example < self.batch:
            raise InputError(f"{where}.example: expected an integer in 0..{self.batch - 1}")
        if "max" in obj:
            if set(obj) - {"name", "max", "example"}:
                raise InputError(f"{where}: a max node has only 'name', 'max' and 'example'")
            srcs = [self.source(s, f"{where}.max") for s in _list(obj["max"], f"{where}.max")]
            if len(srcs) < 2:
                raise InputError(f"{where}.max: needs at least two sources")
            self.nodes[name] = self.max_node(name, srcs, example)
            return
        act = parse_activation(obj.get("activation", "identity"))
        terms = _list(obj.get("terms", []), f"{where}.terms")
        sources, weights = [], []
        for j, t in enumerate(terms):
            if not isinstance(t, list) or len(t) != 2:
                raise InputError(f"{where}.terms[{j}]: expected [coefficient, source]")
            weights.append(self.coef(t[0], f"{where}.terms[{j}]"))
            sources.append(self.source(t[1], f"{where}.terms[{j}]"))
        bias = self.coef(obj["bias"], f"{where}.bias") if "bias" in obj else None
        self.nodes[name] = self.add(activation=act, sources=tuple(sources),
                                    weights=tuple(weights), bias=bias, name=name,
                                    example=example)

    def max_node(self, name: str, srcs: list[int], example: int = 0) -> int:
        """m_1 = s_1, m_i = m_{i-1} + relu(s_i - m_{i-1}) (a relu and an identity neuron)."""
        one, minus = ("const", Fraction(1)), ("const", Fraction(-1))
        ident = parse_activation("identity")
        m = srcs[0]
        for i, s in enumerate(srcs[1:], start=2):
            r = self.add(activation=relu(), sources=(s, m), weights=(one, minus), bias=None,
                         name=f"{name}/tie{i}", op="max", example=example)
            m = self.add(activation=ident, sources=(m, r), weights=(one, one), bias=None,
                         name=f"{name}/{i}" if i < len(srcs) else name, op="max",
                         example=example)
        return m


def _head(obj: Any, outputs: list[int], nodes: dict[str, int]) -> Head:
    if obj is None:
        if len(outputs) != 1:
            raise InputError("loss: required with several outputs")
        return single_output(outputs[0])
    if not isinstance(obj, dict) or "kind" not in obj:
        raise InputError("loss: expected an object with a 'kind'")
    kind = obj["kind"]
    allowed = {"linear": {"kind", "weights", "scale"}, "mse": {"kind", "targets", "scale"},
               "ce": {"kind", "target", "groups", "classes", "scale"}}
    if kind not in allowed:
        raise InputError(f"loss.kind: unknown loss {kind!r} (use linear, mse or ce)")
    extra = set(obj) - allowed[kind]
    if extra:
        raise InputError(f"loss: unknown field {min(extra)!r} for kind {kind}")
    n = len(outputs)
    scale = rational_at(obj["scale"], "loss.scale") if "scale" in obj else None
    if kind == "linear":
        ws = _list(obj.get("weights", ["1"] * n), "loss.weights")
        if len(ws) != n:
            raise InputError(f"loss.weights: expected {n} numbers (one per output)")
        coefs = tuple((scale or 1) * rational_at(x, f"loss.weights[{i}]") for i, x in enumerate(ws))
        return Head("linear", tuple(outputs), coefs=coefs)
    if kind == "mse":
        ts = _list(obj.get("targets"), "loss.targets")
        if len(ts) != n:
            raise InputError(f"loss.targets: expected {n} numbers (one per output)")
        return Head("mse", tuple(outputs), scale=Fraction(1, n) if scale is None else scale,
                    targets=tuple(rational_at(x, f"loss.targets[{i}]") for i, x in enumerate(ts)))
    if "groups" in obj:
        groups = []
        for i, g in enumerate(_list(obj["groups"], "loss.groups")):
            names = _list(g, f"loss.groups[{i}]")
            if any(x not in nodes for x in names):
                raise InputError(f"loss.groups[{i}]: expected node names")
            groups.append(tuple(nodes[x] for x in names))
        classes = _list(obj.get("classes"), "loss.classes")
        if len(classes) != len(groups) or not all(
                isinstance(c, int) and not isinstance(c, bool) for c in classes):
            raise InputError("loss.classes: expected one class index per group")
        return Head("ce", tuple(outputs), groups=tuple(groups), classes=tuple(classes),
                    scale=Fraction(1, len(groups)) if scale is None else scale)
    t = obj.get("target")
    if not isinstance(t, int) or isinstance(t, bool) or not 0 <= t < n:
        raise InputError(f"loss.target: expected a class index in 0..{n - 1}, got {t!r}")
    if n < 2:
        raise InputError("loss: cross-entropy needs at least two outputs (logits)")
    return Head("ce", tuple(outputs), groups=(tuple(outputs),), classes=(t,),
                scale=Fraction(1) if scale is None else scale)


def parse_network_v2(obj: dict[str, Any], default_name: str = "net") -> Network:
    """Validate a decoded version-2 spec; InputError names the offending field."""
    extra = set(obj) - _TOP
    if extra:
        raise InputError(f"spec: unknown field {min(extra)!r}")
    name = obj.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise InputError("name: expected a non-empty string")
    inputs = [_name(x, f"inputs[{i}]") for i, x in enumerate(_list(obj.get("inputs"), "inputs"))]
    if len(set(inputs)) != len(inputs):
        raise InputError("inputs: duplicate name")
    if "input" in obj:
        vals = _list(obj["input"], "input")
        if len(vals) != len(inputs):
            raise InputError(f"input: expected {len(inputs)} values (one per input)")
        x = tuple(rational_at(v, f"input[{i}]") for i, v in enumerate(vals))
    else:
        x = (Fraction(0),) * len(inputs)
    pnames: list[str] = []
    pvalues: list[Fraction | None] = []
    for i, p in enumerate(_list(obj.get("params", []), "params")):
        if isinstance(p, dict):
            extra = set(p) - {"name", "value"}
            if extra:
                raise InputError(f"params[{i}]: unknown field {min(extra)!r}")
            pnames.append(_name(p.get("name"), f"params[{i}].name"))
            pvalues.append(rational_at(p["value"], f"params[{i}].value") if "value" in p else None)
        else:
            pnames.append(_name(p, f"params[{i}]"))
            pvalues.append(None)
    if len(set(pnames)) != len(pnames):
        raise InputError("params: duplicate name")
    if set(pnames) & set(inputs):
        raise InputError(f"params: {min(set(pnames) & set(inputs))!r} is also an input")
    batch = obj.get("batch", 1)
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        shown = magnitude(batch) if isinstance(batch, int) and not isinstance(batch, bool) \
            else elide(repr(batch))
        raise InputError(f"batch: expected an integer >= 1, got {shown}")
    check("batch", batch, "batch")
    b = _Builder(name, inputs, pnames, batch)
    nodes = _list(obj.get("nodes"), "nodes")
    if not nodes:
        raise InputError("nodes: expected a non-empty list")
    check("neurons", sum(2 * len(n["max"]) if isinstance(n, dict) and isinstance(
        n.get("max"), list) else 1 for n in nodes), "nodes")
    check("params", len(pnames), "params")
    for i, node in enumerate(nodes):
        b.node(node, i)
    out_names = [_name(o, f"outputs[{i}]") for i, o in enumerate(_list(obj.get("outputs"), "outputs"))]
    if not out_names:
        raise InputError("outputs: expected at least one node name")
    for o in out_names:
        if o not in b.nodes:
            raise InputError(f"outputs: {o!r} is not a node")
    outputs = [b.nodes[o] for o in out_names]
    head = _head(obj.get("loss"), outputs, b.nodes)
    values = tuple(pvalues) if all(v is not None for v in pvalues) and pvalues else None
    net = Network(name=name, input=x, neurons=tuple(b.neurons), param_names=tuple(pnames),
                  head=head, values=values, batch=batch)  # type: ignore[arg-type]
    return _with_spec(net, inputs, known_input="input" in obj)


def _with_spec(net: Network, inputs: Sequence[str], known_input: bool = True) -> Network:
    from dataclasses import replace

    return replace(net, spec=network_to_v2(net, inputs, known_input))


def network_to_v2(net: Network, inputs: Sequence[str] | None = None,
                  known_input: bool = True) -> dict[str, Any]:
    """A version-2 spec that rebuilds any IR network exactly (every neuron one node;
    max nodes appear as the neurons they are made of)."""
    in_names = list(inputs) if inputs is not None else [f"x{i}" for i in range(len(net.input))]
    node_names = [_node_name(n, i) for i, n in enumerate(net.neurons)]
    taken = set(in_names) | set(net.param_names)
    for i, nm in enumerate(node_names):
        if nm in taken or not is_name(nm):
            node_names[i] = f"n{i}"
        taken.add(node_names[i])

    def coef(v: Value) -> str:
        return net.param_names[v[1]] if is_param(v) else str(v[1])

    def src(s: int) -> str:
        return in_names[-s - 1] if s < 0 else node_names[s]

    nodes = []
    for i, n in enumerate(net.neurons):
        node: dict[str, Any] = {"name": node_names[i]}
        if not n.activation.is_identity:
            node["activation"] = n.activation.name
        node["terms"] = [[coef(w), src(s)] for s, w in zip(n.sources, n.weights)]
        if n.bias is not None:
            node["bias"] = coef(n.bias)
        if net.batch > 1:
            node["example"] = n.example
        nodes.append(node)
    params: list[Any] = list(net.param_names) if net.values is None else \
        [{"name": p, "value": str(v)} for p, v in zip(net.param_names, net.values)]
    obj: dict[str, Any] = {"version": 2, "name": net.name, "inputs": in_names}
    if net.batch > 1:
        obj["batch"] = net.batch
    if known_input:
        obj["input"] = [str(v) for v in net.input]
    obj.update(params=params, nodes=nodes, outputs=[node_names[o] for o in net.head.outputs])
    h = net.head
    if h.kind == "linear":
        obj["loss"] = {"kind": "linear", "weights": [str(c) for c in h.coefs]}
    elif h.kind == "mse" and h.scale == Fraction(1, len(h.outputs)):
        obj["loss"] = {"kind": "mse", "targets": [str(t) for t in h.targets]}
    elif h.kind == "ce" and len(h.groups) == 1 and h.groups[0] == h.outputs and h.scale == 1:
        obj["loss"] = {"kind": "ce", "target": h.classes[0]}
    else:
        obj["loss"] = head_to_obj(h, node_names)
    return obj


def head_to_obj(h: Head, node_names: Sequence[str]) -> dict[str, Any]:
    """The general form of a head (batched losses): kind, scale and per-output data."""
    obj: dict[str, Any] = {"kind": h.kind, "scale": str(h.scale)}
    if h.kind == "linear":
        obj["weights"] = [str(c) for c in h.coefs]
    elif h.kind == "mse":
        obj["targets"] = [str(t) for t in h.targets]
    else:
        obj["groups"] = [[node_names[o] for o in g] for g in h.groups]
        obj["classes"] = list(h.classes)
    return obj


def _node_name(n: Neuron, i: int) -> str:
    base = n.name or f"n{i}"
    return base if n.example == 0 or base.endswith(f"@{n.example}") else f"{base}@{n.example}"
