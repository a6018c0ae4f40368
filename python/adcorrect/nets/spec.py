"""Network specs (JSON version 1): dense feed-forward networks with a fixed input,
one front end of the IR (:mod:`adcorrect.nets.ir`).

The network is a function of its parameters (THEORY.md section 3).  Parameter
order: layer by layer, that layer's parameter weights row-major, then its
parameter biases.  Neurons are numbered 0.. layer by layer (flat index); the
last layer has one unit whose output is f.  :func:`load_network` also reads
version 2 specs (:mod:`adcorrect.nets.specv2`) and saved PyTorch models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from ..core.limits import check
from .activations import Activation, parse_activation
from .fields import check_fields, rational_at, read_json
from .ir import Network, Neuron, Value, single_output

__all__ = ["Layer", "Network", "Neuron", "Value", "load_network", "parse_network",
           "parse_params"]

_TOP_KEYS = {"version", "name", "input", "layers", "description"}
_LAYER_KEYS = {"units", "activation", "bias", "weights", "biases"}


@dataclass(frozen=True)
class Layer:
    """One dense layer: units neurons y = W z_prev + b, z = sigma(y)."""

    units: int
    activation: Activation
    bias: bool = True
    weights: tuple[tuple[Fraction, ...], ...] | None = None  # None: parameters
    biases: tuple[Fraction, ...] | None = None  # None (and bias): parameters


def layer_param_names(n_input: int, layers: Sequence[Layer]) -> tuple[str, ...]:
    """Human names of the parameters, in parameter order (w1[i][j], b1[i], ...)."""
    names: list[str] = []
    for li, layer in enumerate(layers, start=1):
        fan_in = n_input if li == 1 else layers[li - 2].units
        if layer.weights is None:
            names += [f"w{li}[{i}][{j}]" for i in range(layer.units) for j in range(fan_in)]
        if layer.bias and layer.biases is None:
            names += [f"b{li}[{i}]" for i in range(layer.units)]
    return tuple(names)


def layer_neurons(n_input: int, layers: Sequence[Layer]) -> tuple[Neuron, ...]:
    """All neurons of a layered network in flat order, with their parameter slots."""
    out: list[Neuron] = []
    p = 0
    prev: tuple[int, ...] = tuple(-(i + 1) for i in range(n_input))
    for li, layer in enumerate(layers):
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
            out.append(Neuron(index=base + i, activation=layer.activation, sources=prev,
                              weights=tuple(wvals[i]), bias=bvals[i],
                              name=f"n{li + 1}[{i}]", layer=li, unit=i, base=base + i))
        prev = tuple(range(base, base + layer.units))
    return tuple(out)


def layers_to_obj(name: str, inp: Sequence[Fraction], layers: Sequence[Layer]) -> dict[str, Any]:
    """The canonical v1 JSON spec of a layered network (inverse of parse_network)."""
    objs = []
    for layer in layers:
        obj: dict[str, Any] = {"units": layer.units, "activation": layer.activation.name}
        if not layer.bias:
            obj["bias"] = False
        if layer.weights is not None:
            obj["weights"] = [[str(c) for c in row] for row in layer.weights]
        if layer.biases is not None:
            obj["biases"] = [str(c) for c in layer.biases]
        objs.append(obj)
    return {"name": name, "input": [str(x) for x in inp], "layers": objs}


def layered_network(name: str, inp: Sequence[Fraction], layers: Sequence[Layer]) -> Network:
    """The IR of a layered network: f is z of the single unit of the last layer."""
    neurons = layer_neurons(len(inp), layers)
    return Network(name=name, input=tuple(inp), neurons=neurons,
                   param_names=layer_param_names(len(inp), layers),
                   head=single_output(len(neurons) - 1), layers=tuple(layers),
                   spec=layers_to_obj(name, inp, layers))


def _layer(obj: Any, li: int, fan_in: int, last: bool) -> Layer:
    where = f"layers[{li}]"
    check_fields(obj, _LAYER_KEYS, where)
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
            tuple(rational_at(v, f"{where}.weights[{i}][{j}]") for j, v in enumerate(row))
            for i, row in enumerate(rows)
        )
    biases = None
    if "biases" in obj:
        if not bias:
            raise InputError(f"{where}.biases: given but bias is false")
        vec = obj["biases"]
        if not isinstance(vec, list) or len(vec) != units:
            raise InputError(f"{where}.biases: expected a list of {units} numbers")
        biases = tuple(rational_at(v, f"{where}.biases[{i}]") for i, v in enumerate(vec))
    return Layer(units, act, bias, weights, biases)


def parse_network(obj: Any, default_name: str = "net") -> Network:
    """Validate a decoded JSON spec (version 1, or version 2 by its "version" field);
    InputError names the offending field."""
    if not isinstance(obj, dict):
        raise InputError("spec: expected a JSON object")
    version = obj.get("version", 1)
    if version == 2 and not isinstance(version, bool):
        from .specv2 import parse_network_v2

        return parse_network_v2(obj, default_name)
    if version != 1 or isinstance(version, bool):
        raise InputError(f"version: expected 1 or 2, got {version!r}")
    extra = set(obj) - _TOP_KEYS
    if extra:
        raise InputError(f"spec: unknown field {min(extra)!r}")
    name = obj.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise InputError("name: expected a non-empty string")
    x = obj.get("input")
    if not isinstance(x, list) or not x:
        raise InputError("input: expected a non-empty list of rationals")
    inp = tuple(rational_at(v, f"input[{i}]") for i, v in enumerate(x))
    layers_obj = obj.get("layers")
    if not isinstance(layers_obj, list) or not layers_obj:
        raise InputError("layers: expected a non-empty list")
    _check_layer_sizes(layers_obj, len(inp))
    layers: list[Layer] = []
    fan_in = len(inp)
    for li, lobj in enumerate(layers_obj):
        layer = _layer(lobj, li, fan_in, li == len(layers_obj) - 1)
        layers.append(layer)
        fan_in = layer.units
    return layered_network(name, inp, layers)


def _check_layer_sizes(layers_obj: list[Any], n_input: int) -> None:
    """Neurons, parameters and weights a layered spec asks for, before anything is built."""
    neurons = params = terms = 0
    fan_in = n_input
    for lobj in layers_obj:
        units = lobj.get("units") if isinstance(lobj, dict) else None
        if not isinstance(units, int) or isinstance(units, bool) or units < 1:
            return  # _layer reports it
        neurons += units
        terms += units * fan_in
        if "weights" not in lobj:
            params += units * fan_in
        if lobj.get("bias", True) and "biases" not in lobj:
            params += units
        fan_in = units
    check("neurons", neurons, "layers")
    check("params", params, "layers")
    check("terms", terms, "layers")


def load_network(path: str | Path) -> Network:
    """Read and validate a JSON network spec file (version 1 or 2)."""
    obj = read_json(path)
    return parse_network(obj, default_name=Path(path).stem)


def parse_params(net: Network, text: str | list[Any]) -> tuple[Fraction, ...]:
    """Parameter vector from 'p1,p2,...' (or a list); exactly W rationals."""
    items = text.split(",") if isinstance(text, str) else list(text)
    if isinstance(text, str) and not text.strip():
        items = []
    if len(items) != net.W:
        raise InputError(f"--params: network {net.name} has W = {net.W} parameters, "
                         f"got {len(items)}")
    return tuple(rational_at(v, f"--params[{i}]") for i, v in enumerate(items))
