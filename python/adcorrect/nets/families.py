"""Network families for the counting experiments (THEORY.md section 5, T2) and
their closed forms.

- :func:`tight_spec`: the T2 tightness family, N neurons ``y_k = b_k`` (a hidden
  layer with constant zero weights and parameter biases, input 1) and output
  ``f = sum_k z_k`` (constant weights 1, no bias), or with output weights ``v_k``
  and an output bias as parameters.
- :func:`mlp_spec`: dense bias networks (every neuron has a parameter bias).

Closed forms are stated for the enumeration to be compared against; they are
derived by hand (see the docstrings), not from the counter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from .spec import Network, parse_network


def tight_spec(activation: str, N: int, output_params: bool = False,
               name: str | None = None) -> dict[str, Any]:
    """The T2 tightness family with N hidden neurons y_k = b_k (W = N), or with
    output weights v_k and an output bias as parameters (W = 2N + 1)."""
    out: dict[str, Any] = {"units": 1, "activation": "identity"}
    if output_params:
        out["bias"] = True
    else:
        out.update(bias=False, weights=[["1"] * N])
    default = f"tight-{activation}-{N}" + ("-v" if output_params else "")
    return {
        "name": name or default,
        "description": "THEORY.md T2 tightness family: y_k = b_k, f = sum_k "
                       + ("v_k z_k + c (v_k, c parameters)" if output_params else "z_k"),
        "input": ["1"],
        "layers": [
            {"units": N, "activation": activation, "weights": [["0"]] * N},
            out,
        ],
    }


def mlp_spec(sizes: Sequence[int], activation: str, name: str | None = None,
             inputs: Sequence[str] | None = None,
             output_activation: str = "identity") -> dict[str, Any]:
    """A dense bias network with layer widths sizes = [inputs, hidden..., 1]; all
    weights and biases are parameters; hidden layers use ``activation``."""
    if sizes[-1] != 1:
        raise ValueError("the last layer must have one unit")
    inp = list(inputs) if inputs is not None else ["1"] * sizes[0]
    layers: list[dict[str, Any]] = [
        {"units": u, "activation": activation} for u in sizes[1:-1]
    ]
    layers.append({"units": 1, "activation": output_activation})
    default = f"{activation}-" + "-".join(str(s) for s in sizes)
    return {"name": name or default, "input": inp, "layers": layers}


def network(spec: dict[str, Any]) -> Network:
    """Parse a spec dict built here."""
    return parse_network(spec, default_name=spec.get("name", "net"))


def example_specs() -> dict[str, dict[str, Any]]:
    """The example networks written to examples/ (file stem -> spec)."""
    specs = {
        "tight-relu-1": tight_spec("relu", 1),
        "tight-relu-2": tight_spec("relu", 2),
        "tight-relu-3": tight_spec("relu", 3),
        "tight-hardtanh-2": tight_spec("hardtanh", 2),
        "tight-hardtanh-3": tight_spec("hardtanh", 3),
        "tight-relu-2-v": tight_spec("relu", 2, output_params=True),
        "relu-1-1": mlp_spec([1, 1], "relu", output_activation="relu"),
        "relu-1-2-2-1": mlp_spec([1, 2, 2, 1], "relu"),
        "leaky-1-2-1": mlp_spec([1, 2, 1], "leaky_relu(1/8)", name="leaky-1-2-1"),
        "hardtanh-2-2-1": mlp_spec([2, 2, 1], "hardtanh", inputs=["1", "-1/2"]),
    }
    return specs


def dump_spec(spec: dict[str, Any]) -> str:
    """A spec as compact, readable JSON (one layer per line)."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in spec.items() if k != "layers"]
    layers = ",\n".join(f"    {json.dumps(layer)}" for layer in spec["layers"])
    lines.append(f'  "layers": [\n{layers}\n  ]')
    return "{\n" + ",\n".join(lines) + "\n}\n"


# -- closed forms ------------------------------------------------------------------------


def tight_closed_form(M: int, m: int, N: int, output_params: bool = False) -> int:
    """|ndf_M| = #NS = #kink points of the tightness family (THEORY.md T2).

    Constant output weights (W = N): w is bad iff some b_k is one of the m kinks,
    so the good points are (|M| - m)^N: |M|^N - (|M| - m)^N.
    Output weights v_k and bias c (W = 2N + 1, needs 0 in M): neuron k witnesses
    NS iff b_k is a kink and v_k != 0, so a pair (b_k, v_k) is good in
    |M|^2 - m(|M| - 1) ways: |M|^W - (|M|^2 - m(|M|-1))^N |M|^(W-2N).
    (For the kink count, replace m(|M|-1) by m |M|.)"""
    if not output_params:
        return M**N - (M - m) ** N
    W = 2 * N + 1
    return M**W - (M * M - m * (M - 1)) ** N * M ** (W - 2 * N)


def tight_kink_closed_form(M: int, m: int, N: int, output_params: bool = False) -> int:
    """#{w : K(w) non-empty} for the tightness family: some b_k is a kink."""
    W = 2 * N + 1 if output_params else N
    return M**W - (M - m) ** N * M ** (W - N)


def one_hidden_closed_form(values: Sequence[Fraction], x: Fraction,
                           kinks: Sequence[Fraction], H: int) -> tuple[int, int]:
    """(kink, ns) for the bias network 1-H-1 with input x, hidden activation with
    kink set ``kinks`` and an identity output with bias (W = 3H + 1).

    Hidden unit k has y_k = w_k x + b_k and zbar_k = v_k (identity output), so it
    is a kink neuron iff (w_k, b_k) is one of the P pairs with w_k x + b_k a kink,
    and an NS witness iff moreover v_k != 0.  Units use disjoint parameters, so
    kink = |M|^W - (|M|^2 - P)^H |M|^(H+1) and
    ns = |M|^W - (|M|^3 - P (|M| - [0 in M]))^H |M|."""
    M = len(values)
    ks = set(kinks)
    P = sum(1 for w in values for b in values if w * x + b in ks)
    nonzero = M - (1 if Fraction(0) in set(values) else 0)
    W = 3 * H + 1
    kink = M**W - (M * M - P) ** H * M ** (H + 1)
    ns = M**W - (M**3 - P * nonzero) ** H * M
    return kink, ns
