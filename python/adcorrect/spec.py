"""Network specs (JSON): dense feed-forward networks with a fixed input.

The network is a function of its parameters (THEORY.md section 3).  Parameter
order: layer by layer, that layer's parameter weights row-major, then its
parameter biases.  Neurons are numbered 0.. layer by layer (flat index); the
last layer has one unit whose output is f.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any

from .activations import Activation, parse_activation
from .errors import InputError
from .rationals import parse_rational

Value = tuple[str, Any]  # ("param", index) or ("const", Fraction)

_TOP_KEYS = {"name", "input", "layers", "description"}
_LAYER_KEYS = {"units", "activation", "bias", "weights", "biases"}


@dataclass(frozen=True)
class Layer:
    """One dense layer: units neurons y = W z_prev + b, z = sigma(y)."""

    units: int
    activation: Activation
    bias: bool = True
    weights: tuple[tuple[Fraction, ...], ...] | None = None  # None: parameters
    biases: tuple[Fraction, ...] | None = None  # None (and bias): parameters


@dataclass(frozen=True)
class Neuron:
    """A neuron in flat form: y = sum_j weight_j * source_j + bias."""

    index: int
    layer: int
    unit: int
    activation: Activation
    sources: tuple[int, ...]  # flat neuron indices, or -(i+1) for input i
    weights: tuple[Value, ...]
    bias: Value | None


@dataclass(frozen=True)
class Network:
    """A dense network with fixed input; f is a function of the W parameters."""

    name: str
    input: tuple[Fraction, ...]
    layers: tuple[Layer, ...]

    @cached_property
    def neurons(self) -> tuple[Neuron, ...]:
        """All neurons in topological (flat) order, with their parameter slots."""
        return _flatten(self)

    @property
    def W(self) -> int:
        """Number of parameters."""
        return len(self.param_names)

    @cached_property
    def param_names(self) -> tuple[str, ...]:
        """Human names of the parameters, in parameter order (w1[i][j], b1[i], ...)."""
        names: list[str] = []
        for li, layer in enumerate(self.layers, start=1):
            fan_in = len(self.input) if li == 1 else self.layers[li - 2].units
            if layer.weights is None:
                names += [f"w{li}[{i}][{j}]" for i in range(layer.units) for j in range(fan_in)]
            if layer.bias and layer.biases is None:
                names += [f"b{li}[{i}]" for i in range(layer.units)]
        return tuple(names)

    @property
    def is_bias_network(self) -> bool:
        """Every neuron has its own bias parameter (THEORY.md section 3)."""
        return all(n.bias is not None and n.bias[0] == "param" for n in self.neurons)

    @property
    def n_kinks(self) -> int:
        """n = sum over neurons of |ndf(sigma_k)| (T2)."""
        return sum(len(n.activation.kinks) for n in self.neurons)

    def require_exact(self) -> None:
        """Raise InputError unless every activation is piecewise polynomial."""
        for layer in self.layers:
            layer.activation.require_exact()


def _flatten(net: Network) -> tuple[Neuron, ...]:
    out: list[Neuron] = []
    p = 0
    prev: tuple[int, ...] = tuple(-(i + 1) for i in range(len(net.input)))
    for li, layer in enumerate(net.layers):
        base = len(out)
        fan_in = len(prev)
        if layer.weights is None:
            wvals = [[("param", p + i * fan_in + j) for j in range(fan_in)]
                     for i in range(layer.units)]
            p += layer.units * fan_in
        else:
            wvals = [[("const", c) for c in row] for row in layer.weights]
        if not layer.bias:
            bvals: list[Value | None] = [None] * layer.units
        elif layer.biases is None:
            bvals = [("param", p + i) for i in range(layer.units)]
            p += layer.units
        else:
            bvals = [("const", c) for c in layer.biases]
        for i in range(layer.units):
            out.append(Neuron(base + i, li, i, layer.activation, prev, tuple(wvals[i]), bvals[i]))
        prev = tuple(range(base, base + layer.units))
    return tuple(out)


def _rational(value: Any, where: str) -> Fraction:
    try:
        return parse_rational(value)
    except InputError as e:
        raise InputError(f"{where}: {e}") from None


def _layer(obj: Any, li: int, fan_in: int, last: bool) -> Layer:
    where = f"layers[{li}]"
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected an object")
    extra = set(obj) - _LAYER_KEYS
    if extra:
        raise InputError(f"{where}: unknown field {min(extra)!r}")
    units = obj.get("units")
    if not isinstance(units, int) or isinstance(units, bool) or units < 1:
        raise InputError(f"{where}.units: expected an integer >= 1, got {units!r}")
    if last and units != 1:
        raise InputError(f"{where}.units: the last layer must have 1 unit (scalar f), got {units}")
    if "activation" not in obj:
        raise InputError(f"{where}.activation: missing")
    try:
        act = parse_activation(obj["activation"])
    except InputError as e:
        raise InputError(f"{where}.activation: {e}") from None
    bias = obj.get("bias", True)
    if not isinstance(bias, bool):
        raise InputError(f"{where}.bias: expected true or false, got {bias!r}")
    weights = None
    if "weights" in obj:
        rows = obj["weights"]
        if not isinstance(rows, list) or len(rows) != units:
            raise InputError(f"{where}.weights: expected a {units} x {fan_in} matrix")
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != fan_in:
                raise InputError(f"{where}.weights[{i}]: expected a row of {fan_in} numbers")
        weights = tuple(
            tuple(_rational(v, f"{where}.weights[{i}][{j}]") for j, v in enumerate(row))
            for i, row in enumerate(rows)
        )
    biases = None
    if "biases" in obj:
        if not bias:
            raise InputError(f"{where}.biases: given but bias is false")
        vec = obj["biases"]
        if not isinstance(vec, list) or len(vec) != units:
            raise InputError(f"{where}.biases: expected a list of {units} numbers")
        biases = tuple(_rational(v, f"{where}.biases[{i}]") for i, v in enumerate(vec))
    return Layer(units, act, bias, weights, biases)


def parse_network(obj: Any, default_name: str = "net") -> Network:
    """Validate a decoded JSON spec; InputError names the offending field."""
    if not isinstance(obj, dict):
        raise InputError("spec: expected a JSON object")
    extra = set(obj) - _TOP_KEYS
    if extra:
        raise InputError(f"spec: unknown field {min(extra)!r}")
    name = obj.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise InputError("name: expected a non-empty string")
    x = obj.get("input")
    if not isinstance(x, list) or not x:
        raise InputError("input: expected a non-empty list of rationals")
    inp = tuple(_rational(v, f"input[{i}]") for i, v in enumerate(x))
    layers_obj = obj.get("layers")
    if not isinstance(layers_obj, list) or not layers_obj:
        raise InputError("layers: expected a non-empty list")
    layers: list[Layer] = []
    fan_in = len(inp)
    for li, lobj in enumerate(layers_obj):
        layer = _layer(lobj, li, fan_in, li == len(layers_obj) - 1)
        layers.append(layer)
        fan_in = layer.units
    return Network(name, inp, tuple(layers))


def load_network(path: str | Path) -> Network:
    """Read and validate a JSON network spec file."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: malformed JSON ({e.msg} at line {e.lineno})") from None
    return parse_network(obj, default_name=p.stem)


def parse_params(net: Network, text: str | list[Any]) -> tuple[Fraction, ...]:
    """Parameter vector from 'p1,p2,...' (or a list); exactly W rationals."""
    items = text.split(",") if isinstance(text, str) else list(text)
    if isinstance(text, str) and not text.strip():
        items = []
    if len(items) != net.W:
        raise InputError(f"--params: network {net.name} has W = {net.W} parameters, "
                         f"got {len(items)}")
    return tuple(_rational(v, f"--params[{i}]") for i, v in enumerate(items))
