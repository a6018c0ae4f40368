"""Test helpers: random network specs (hypothesis) and an independent reference.

Nothing here imports the engine.  The reference evaluator re-implements the
activations from their closed forms (THEORY.md section 2) and the dense layer
semantics (y = W z + b, parameter order: per layer, parameter weights row-major,
then parameter biases), so it can serve as an oracle for the engine.

``ref_phi`` computes the one-sided directional derivative
phi_w(v) = lim_{t -> 0+} (f(w + t v) - f(w)) / t exactly: along a ray, f is a
polynomial in t on some interval (0, t0] (every pre-activation is a polynomial in
t, and for small t each has a constant sign relative to each breakpoint), so
phi_w(v) = P'(0) is recovered exactly from d + 1 samples at t = 0, h, .., d h
by the forward-difference formula, where d bounds the degree of P and h = 2^-200
is far below the smallest positive root of any of those polynomials for the
small dyadic networks used here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from itertools import pairwise
from typing import Any

from hypothesis import strategies as st

Q = Fraction
Act = Callable[[Fraction], Fraction]


def _clip(x: Fraction, lo: Fraction, hi: Fraction) -> Fraction:
    return min(max(x, lo), hi)


def _softshrink(lam: Fraction) -> Act:
    def f(x: Fraction) -> Fraction:
        if x > lam:
            return x - lam
        if x < -lam:
            return x + lam
        return Q(0)
    return f


def ref_activation(name: str) -> tuple[Act, tuple[Fraction, ...], int]:
    """Closed form, kinks (from THEORY.md's table) and polynomial degree of a spec name."""
    if name == "relu":
        return (lambda x: max(x, Q(0))), (Q(0),), 1
    if name.startswith("leaky_relu("):
        a = Q(name[len("leaky_relu("):-1])
        return (lambda x: x if x >= 0 else a * x), (Q(0),), 1
    if name == "hardtanh":
        return (lambda x: _clip(x, Q(-1), Q(1))), (Q(-1), Q(1)), 1
    if name.startswith("hardtanh("):
        lo, hi = (Q(s) for s in name[len("hardtanh("):-1].split(","))
        return (lambda x: _clip(x, lo, hi)), (lo, hi), 1
    if name == "relu6":
        return (lambda x: _clip(x, Q(0), Q(6))), (Q(0), Q(6)), 1
    if name == "hardsigmoid":
        return (lambda x: _clip(x + 3, Q(0), Q(6)) / 6), (Q(-3), Q(3)), 1
    if name == "hardswish":
        return (lambda x: x * _clip(x + 3, Q(0), Q(6)) / 6), (Q(-3), Q(3)), 2
    if name == "abs":
        return abs, (Q(0),), 1
    if name.startswith("softshrink("):
        lam = Q(name[len("softshrink("):-1])
        return _softshrink(lam), (-lam, lam), 1
    if name == "identity":
        return (lambda x: x), (), 1
    raise ValueError(name)


# Activations whose float64 evaluation (values and torch derivatives) is exact on
# small dyadic inputs; hardsigmoid/hardswish involve 1/6 and are not.
EXACT_FLOAT_ACTS = (
    "relu", "leaky_relu(1/8)", "leaky_relu(1/2)", "hardtanh", "hardtanh(-2,3)", "relu6",
    "abs", "softshrink(1/2)", "softshrink(1)", "identity",
)
ALL_ACTS = EXACT_FLOAT_ACTS + ("hardsigmoid", "hardswish")


def ref_layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Layers with explicit parameter slots: ('p', index) or ('c', Fraction) or None."""
    p = 0
    fan_in = len(spec["input"])
    out = []
    for layer in spec["layers"]:
        units = layer["units"]
        if "weights" in layer:
            wslots = [[("c", Q(v)) for v in row] for row in layer["weights"]]
        else:
            wslots = [[("p", p + i * fan_in + j) for j in range(fan_in)] for i in range(units)]
            p += units * fan_in
        if not layer.get("bias", True):
            bslots: list[Any] = [None] * units
        elif "biases" in layer:
            bslots = [("c", Q(v)) for v in layer["biases"]]
        else:
            bslots = [("p", p + i) for i in range(units)]
            p += units
        out.append({"act": layer["activation"], "w": wslots, "b": bslots})
        fan_in = units
    return out


def n_params(spec: dict[str, Any]) -> int:
    n = 0
    for layer in ref_layers(spec):
        n += sum(1 for row in layer["w"] for s in row if s[0] == "p")
        n += sum(1 for s in layer["b"] if s is not None and s[0] == "p")
    return n


def _val(slot: Any, w: Sequence[Fraction]) -> Fraction:
    if slot is None:
        return Q(0)
    return w[slot[1]] if slot[0] == "p" else slot[1]


def ref_forward(spec: dict[str, Any], w: Sequence[Fraction]) -> list[list[tuple[Fraction, Fraction]]]:
    """Per layer, per unit: (y, z)."""
    z = [Q(v) for v in spec["input"]]
    out = []
    for layer in ref_layers(spec):
        act = ref_activation(layer["act"])[0]
        ys = [sum((_val(ws, w) * zj for ws, zj in zip(row, z)), _val(b, w))
              for row, b in zip(layer["w"], layer["b"])]
        z = [act(y) for y in ys]
        out.append(list(zip(ys, z)))
    return out


def ref_f(spec: dict[str, Any], w: Sequence[Fraction]) -> Fraction:
    return ref_forward(spec, w)[-1][0][1]


def degree_bound(spec: dict[str, Any]) -> int:
    """A bound on the degree in t of f(w + t v)."""
    deg = 0
    for layer in ref_layers(spec):
        dw = 1 if any(s[0] == "p" for row in layer["w"] for s in row) else 0
        deg = max(deg + dw, 1) * ref_activation(layer["act"])[2]
    return deg


H = Q(1, 2**200)


def ref_phi(spec: dict[str, Any], w: Sequence[Fraction], v: Sequence[Fraction]) -> Fraction:
    """Exact one-sided directional derivative (see the module docstring)."""
    d = degree_bound(spec)
    samples = [ref_f(spec, [a + k * H * b for a, b in zip(w, v)]) for k in range(d + 1)]
    # forward differences: P'(0) = (1/h) sum_{k=1..d} (-1)^(k+1) / k * Delta^k P(0)
    diffs = samples
    total = Q(0)
    for k in range(1, d + 1):
        diffs = [b - a for a, b in pairwise(diffs)]
        total += Q((-1) ** (k + 1), k) * diffs[0]
    return total / H


# ---------------------------------------------------------------- strategies

DYADIC = st.integers(-32, 32).map(lambda n: Q(n, 8))  # k/8 in [-4, 4]


@st.composite
def networks(draw: st.DrawFn, acts: Sequence[str] = EXACT_FLOAT_ACTS,
             out_acts: Sequence[str] | None = None, bias_network: bool = False,
             max_hidden: int = 3, max_units: int = 3,
             snap: bool = True) -> tuple[dict[str, Any], list[Fraction]]:
    """A JSON spec (1..max_hidden hidden layers of 1..max_units units, one output unit)
    and a parameter vector.  With snap, some biases are chosen so that the
    pre-activation lands exactly on a kink of the neuron's activation."""
    x = draw(st.lists(DYADIC, min_size=1, max_size=2))
    n_hidden = draw(st.integers(1, max_hidden))
    units = [draw(st.integers(1, max_units)) for _ in range(n_hidden)] + [1]
    layers: list[dict[str, Any]] = []
    params: list[Fraction] = []
    z = list(x)
    for li, u in enumerate(units):
        last = li == len(units) - 1
        act = draw(st.sampled_from(list(out_acts if last and out_acts else acts)))
        fn, kinks, _ = ref_activation(act)
        layer: dict[str, Any] = {"units": u, "activation": act}
        wparam = draw(st.booleans())
        wmat = [[draw(DYADIC) for _ in z] for _ in range(u)]
        if wparam:
            params += [c for row in wmat for c in row]
        else:
            layer["weights"] = [[str(c) for c in row] for row in wmat]
        bkind = "param" if bias_network else draw(st.sampled_from(["param", "const", "none"]))
        ys = [sum((a * b for a, b in zip(row, z)), Q(0)) for row in wmat]
        if bkind == "none":
            layer["bias"] = False
        else:
            bs = []
            for i in range(u):
                target = None
                if snap and kinks and draw(st.booleans()):
                    target = draw(st.sampled_from(list(kinks)))
                b = target - ys[i] if target is not None else draw(DYADIC)
                ys[i] += b
                bs.append(b)
            if bkind == "param":
                params += bs
            else:
                layer["biases"] = [str(b) for b in bs]
        layers.append(layer)
        z = [fn(y) for y in ys]
    spec = {"name": "random", "input": [str(c) for c in x], "layers": layers}
    return spec, params
