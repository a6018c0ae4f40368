"""Decode solver models to exact values and re-check them without the solver.

A model is a dict ``symbol -> value`` where a value is ``{"fp": [sign, exp, sig]}``
(bit fields of a ``FloatingPoint`` constant), ``{"real": "p/q"}``, or
``{"approx": "..."}`` for an irrational real.  :func:`recheck` rebuilds the
network from the file's ``adcorrect-meta`` record and verifies that the decoded
point really satisfies the query, using the exact engine, the independent
oracle, and for the execution-semantics families the format's arithmetic
(exact rounding, plus numpy/ml_dtypes where the format exists there).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..exact.engine import Vector, backward, directional, forward, ns, unit
from ..exact.oracle import decide
from ..nets.activations import Choice, parse_choice
from ..nets.spec import Network, parse_network
from ..numbers.formats import Format, parse_format
from . import fpexec
from .fparith import FPFormat, FPValue
from .fprange import BASE, violation

Model = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Check:
    """Outcome of a model re-check."""

    ok: bool
    message: str
    point: tuple[str, ...] = ()


class DecodeError(Exception):
    """The model lacks a symbol or has a value outside the format."""


def fp_value(entry: dict[str, Any], fmt: Format) -> FPValue:
    """The value of an FP model entry (bit fields) in an IEEE format."""
    sign, exp, sig = entry["fp"]
    return FPFormat(*fmt.params).from_bits(int(sign), int(exp), int(sig))


def real_value(entry: dict[str, Any]) -> Fraction | None:
    if "real" in entry:
        return Fraction(entry["real"])
    if "fp" in entry:
        raise DecodeError("expected a real, got a float")
    return None  # irrational


def param_values(meta: dict[str, Any], model: Model, key: str = "params") -> tuple[Fraction, ...]:
    """The decoded machine-number parameters named by meta['decode'][key]."""
    fmt = parse_format(meta["format"])
    out = []
    for sym in meta["decode"][key]:
        if sym not in model:
            raise DecodeError(f"model has no value for {sym}")
        entry = model[sym]
        x = fp_value(entry, fmt) if "fp" in entry else real_value(entry)
        if not isinstance(x, Fraction) or not fmt.contains(x):
            raise DecodeError(f"{sym} = {x} is not a finite value of {fmt.name}")
        out.append(x)
    return tuple(out)


def _axis(net: Network, w: Sequence[Fraction], sign: int = 1) -> Vector:
    fw = forward(net, w)
    return tuple(directional(net, w, unit(net.W, i, sign), fw) for i in range(net.W))


def _ad(net: Network, w: Sequence[Fraction], choice: Choice) -> tuple[bool, Vector]:
    fw = forward(net, w)
    bw = backward(net, w, fw, choice)
    return ns(net, fw, bw), bw.grad


def clarke_combination(net: Network, w: Sequence[Fraction],
                       choice: Choice) -> tuple[bool, Vector]:
    """(convex, combination of the vertex gradients) as the clarke-combination file defines it."""
    fw = forward(net, w)
    kinky = [n for n in net.neurons if n.activation.kinks]
    t: dict[int, Fraction] = {}
    for n in kinky:
        act, y = n.activation, fw.y[n.index]
        t[n.index] = ((act.derivative(y, choice) - act.slope_left(y))
                      / (act.slope_right(y) - act.slope_left(y))) if act.is_kink(y) else Fraction(0)
    comb = [Fraction(0)] * net.W
    for bits in range(1 << len(kinky)):
        right = {n.index for b, n in enumerate(kinky) if bits >> b & 1}
        weight = Fraction(1)
        for n in kinky:
            weight *= t[n.index] if n.index in right else 1 - t[n.index]
        if weight == 0:
            continue
        slopes = {n.index: (n.activation.slope_right(fw.y[n.index]) if n.index in right
                            else n.activation.slope_left(fw.y[n.index])) for n in net.neurons}
        grad = _backward_with(net, w, fw, slopes)
        comb = [c + weight * g for c, g in zip(comb, grad)]
    convex = all(0 <= x <= 1 for x in t.values())
    return convex, tuple(comb)


def _backward_with(net: Network, w: Sequence[Fraction], fw: Any,
                   slopes: dict[int, Fraction]) -> Vector:
    """Reverse mode with the given derivative at every neuron."""
    from ..exact.engine import source_value, value_of

    zbar = [Fraction(0)] * len(net.neurons)
    grad = [Fraction(0)] * net.W
    zbar[-1] = Fraction(1)
    for n in reversed(net.neurons):
        yb = zbar[n.index] * slopes[n.index]
        if n.bias is not None and n.bias[0] == "param":
            grad[n.bias[1]] += yb
        for src, wt in zip(n.sources, n.weights):
            if wt[0] == "param":
                grad[wt[1]] += yb * source_value(src, net.input, fw.z)
            if src >= 0:
                zbar[src] += yb * value_of(wt, w)
    return tuple(grad)


def _float_check(net: Network, fmt: Format, family: str, w: Sequence[Fraction]) -> Check:
    fp = FPFormat(*fmt.params)
    results = {}
    arithmetics: list[tuple[str, Any]] = [("exact rounding", fpexec.ExactArith(fp))]
    np_ar = fpexec.numpy_arith(fp)
    if np_ar is not None:
        arithmetics.append((f"numpy {np_ar.dtype.__name__}", np_ar))
    for name, ar in arithmetics:
        wv = [ar.const(x) for x in w]
        if family == "float-kink":
            run = fpexec.forward(net, fp, ar, wv)
            results[name] = any(run.kink)
        else:
            results[name] = fpexec.bifurcates(net, fp, ar, wv)
    ok = all(results.values())
    msg = "; ".join(f"{k}: {'reproduced' if v else 'NOT reproduced'}" for k, v in results.items())
    return Check(ok, msg)


def check_point(net: Network, fmt: Format, choice: Choice, family: str,
                w: Sequence[Fraction]) -> Check:
    """Whether the point w satisfies the query (every family except bias-unique)."""
    point = tuple(str(x) for x in w)
    if family in BASE:
        c = _float_check(net, fmt, BASE[family], w)
        bad = violation(w)
        return Check(c.ok and bad is None, (bad + "; " if bad else "") + c.message, point)
    if family in ("float-kink", "float-bifurcation", "float-bifurcation-nz"):
        c = _float_check(net, fmt, family, w)
        if family == "float-bifurcation-nz" and any(x == 0 for x in w):
            return Check(False, "a parameter is 0; " + c.message, point)
        return Check(c.ok, c.message, point)
    is_ns, ad = _ad(net, w, choice)
    if family == "count":
        return Check(is_ns, f"NS(w) = {is_ns}", point)
    axis = _axis(net, w)
    if family == "ad-correct":
        ok = not is_ns and ad != axis
        return Check(ok, f"NS = {is_ns}, AD = {list(map(str, ad))}, "
                         f"phi(e_i) = {list(map(str, axis))}", point)
    if family == "ns-implies-ndf":
        sym = all(a + b == 0 for a, b in zip(axis, _axis(net, w, -1)))
        return Check(is_ns and sym, f"NS = {is_ns}, axis-symmetric = {sym}", point)
    if family in ("ndf-implies-ns", "ndf-implies-ns-sides"):
        verdict = decide(net, w)
        return Check(not is_ns and not verdict.differentiable,
                     f"NS = {is_ns}, oracle differentiable = {verdict.differentiable}", point)
    if family in ("inc-witness", "inc-witness-qf"):
        sym = all(a + b == 0 for a, b in zip(axis, _axis(net, w, -1)))
        if ad == axis or not sym:
            return Check(False, f"AD = phi(e_i): {ad == axis}, axis-symmetric = {sym}", point)
        verdict = decide(net, w)
        ok = verdict.differentiable and verdict.grad != ad
        return Check(ok, f"oracle differentiable = {verdict.differentiable}, grad = "
                         f"{None if verdict.grad is None else list(map(str, verdict.grad))}, "
                         f"AD = {list(map(str, ad))}, axis-symmetric = {sym}", point)
    if family in ("count-ndf", "count-ndf-sides"):
        verdict = decide(net, w)
        return Check(not verdict.differentiable,
                     f"oracle differentiable = {verdict.differentiable}", point)
    if family == "count-inc":
        sym = all(a + b == 0 for a, b in zip(axis, _axis(net, w, -1)))
        return Check(ad != axis and sym, f"AD = {list(map(str, ad))}, "
                     f"phi(e_i) = {list(map(str, axis))}, axis-symmetric = {sym}", point)
    if family == "clarke-combination":
        convex, comb = clarke_combination(net, w, choice)
        return Check(not convex or comb != ad,
                     f"convex = {convex}, AD = {list(map(str, ad))}, "
                     f"combination = {list(map(str, comb))}", point)
    return Check(False, f"no point check for query {family}", point)


def recheck(meta: dict[str, Any], model: Model) -> Check:
    """Whether the model's point satisfies the query, checked independently of the solver."""
    net = parse_network(meta["network"])
    fmt = parse_format(meta["format"])
    choice = parse_choice(meta["choice"])
    family = meta["query"]
    try:
        w = param_values(meta, model)
    except DecodeError as e:
        return Check(False, str(e))
    if family != "bias-unique":
        return check_point(net, fmt, choice, family, w)
    point = tuple(str(x) for x in w)
    try:
        copies = param_values(meta, model, "bias_copies")
    except DecodeError as e:
        return Check(False, str(e), point)
    bias_params = [n.bias[1] for n in net.neurons if n.bias is not None and n.bias[0] == "param"]
    y = forward(net, w).y
    for n in net.neurons:
        if n.bias is None or n.bias[0] != "param" or not n.activation.is_kink(y[n.index]):
            continue
        b = n.bias[1]
        w2 = list(w)
        w2[b] = copies[bias_params.index(b)]
        if w2[b] != w[b] and forward(net, w2).y[n.index] == y[n.index]:
            return Check(True, f"neuron {n.index}: two biases give the same kink", point)
    return Check(False, "no neuron has two biases at the same kink", point)
