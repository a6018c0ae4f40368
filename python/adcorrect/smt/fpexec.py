"""Execution semantics: the network's forward and backward passes in a float format.

This mirrors :class:`adcorrect.smt.encode.FloatEncoder` operation by operation,
so a model of a ``float-kink`` or ``float-bifurcation`` query can be replayed
independently of the solver, either with exact rounding (:class:`FPFormat`) or
with numpy/ml_dtypes scalars (:class:`NumpyArith`) for the formats they have.

Operation order (documented in the SMT header too): a pre-activation is
``((w_0*s_0 + w_1*s_1) + ...) + b`` with each product and sum rounded (no FMA);
an activation piece is a polynomial evaluated by Horner's rule (multiplying by
1 and adding 0 are skipped); the adjoint of a neuron sums ``ybar_j * w_jk`` over
its consumers ``j`` in increasing order; a weight's gradient is ``ybar * s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

from ..nets.activations import Activation, Poly, poly_deriv
from ..nets.spec import Network, Value
from .fparith import FPFormat, FPValue
from .traverse import consumers, horner_plan, output_seeds


class Arith(Protocol):
    """Rounded arithmetic of one format."""

    def const(self, x: Fraction) -> Any: ...
    def add(self, a: Any, b: Any) -> Any: ...
    def mul(self, a: Any, b: Any) -> Any: ...


class ExactArith:
    """Exact rational arithmetic rounded RNE to fp(eb,sb) after every operation."""

    def __init__(self, fp: FPFormat) -> None:
        self.fp = fp

    def const(self, x: Fraction) -> FPValue:
        return self.fp.round(x)

    def add(self, a: FPValue, b: FPValue) -> FPValue:
        return self.fp.add(a, b)

    def mul(self, a: FPValue, b: FPValue) -> FPValue:
        return self.fp.mul(a, b)


class NumpyArith:
    """Scalars of a numpy/ml_dtypes type (float16, bfloat16, float32, float64)."""

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def const(self, x: Fraction) -> Any:
        return self.dtype(float(x))

    def add(self, a: Any, b: Any) -> Any:
        import numpy as np

        with np.errstate(all="ignore"):  # overflow to inf is the IEEE result
            return self.dtype(a + b)

    def mul(self, a: Any, b: Any) -> Any:
        import numpy as np

        with np.errstate(all="ignore"):
            return self.dtype(a * b)


def numpy_arith(fp: FPFormat) -> NumpyArith | None:
    """numpy/ml_dtypes arithmetic for the format, if one exists."""
    import ml_dtypes
    import numpy as np

    table = {(5, 11): np.float16, (8, 8): ml_dtypes.bfloat16, (8, 24): np.float32,
             (11, 53): np.float64}
    dtype = table.get((fp.eb, fp.sb))
    return NumpyArith(dtype) if dtype is not None else None


def poly(ar: Arith, fp: FPFormat, p: Poly, y: Any) -> Any:
    acc: Any = None
    for op, c in horner_plan(p, fp):
        if op == "const":
            acc = ar.const(c)  # type: ignore[arg-type]
        elif op == "y":
            acc = y
        elif op == "mul_y":
            acc = ar.mul(y, acc)
        else:
            acc = ar.add(ar.const(c), acc)  # type: ignore[arg-type]
    return acc


def _piece(act: Activation, ar: Arith, y: Any) -> int:
    for i, c in enumerate(act.breakpoints):
        if y <= ar.const(c):
            return i
    return len(act.breakpoints)


def sigma(ar: Arith, fp: FPFormat, act: Activation, y: Any) -> Any:
    return poly(ar, fp, act.pieces[_piece(act, ar, y)], y)


def at_kink(fp: FPFormat, ar: Arith, act: Activation, y: Any) -> Fraction | None:
    """The representable kink that the computed y equals, if any."""
    for c in act.kinks:
        if fp.representable(c) and y == ar.const(c):
            return c
    return None


@dataclass
class FloatRun:
    """Computed pre-activations, outputs and kink flags of one forward pass."""

    y: list[Any]
    z: list[Any]
    kink: list[bool]


def _slot(ar: Arith, v: Value | None, w: Sequence[Any]) -> Any:
    if v is None:
        return None
    kind, x = v
    return w[x] if kind == "param" else ar.const(x)


def _source(ar: Arith, net: Network, src: int, z: Sequence[Any]) -> Any:
    return ar.const(net.input[-src - 1]) if src < 0 else z[src]


def forward(net: Network, fp: FPFormat, ar: Arith, w: Sequence[Any]) -> FloatRun:
    """The forward pass as FloatEncoder.forward computes it."""
    ys: list[Any] = []
    zs: list[Any] = []
    kinks: list[bool] = []
    for n in net.neurons:
        acc: Any = None
        for src, wt in zip(n.sources, n.weights):
            prod = ar.mul(_slot(ar, wt, w), _source(ar, net, src, zs))
            acc = prod if acc is None else ar.add(acc, prod)
        b = _slot(ar, n.bias, w)
        if b is not None:
            acc = b if acc is None else ar.add(acc, b)
        if acc is None:
            acc = ar.const(Fraction(0))
        ys.append(acc)
        zs.append(sigma(ar, fp, n.activation, acc))
        kinks.append(at_kink(fp, ar, n.activation, acc) is not None)
    return FloatRun(ys, zs, kinks)


def backward(net: Network, fp: FPFormat, ar: Arith, w: Sequence[Any], run: FloatRun,
             side: str) -> list[Any]:
    """The gradient as FloatEncoder.backward computes it (side 'left' or 'right' at kinks)."""
    cons = consumers(net)
    seeds = output_seeds(net)
    ybar: dict[int, Any] = {}
    for n in reversed(net.neurons):
        k = n.index
        acc: Any = ar.const(seeds[k]) if k in seeds else None
        for j, wt in cons[k]:
            prod = ar.mul(ybar[j], _slot(ar, wt, w))
            acc = prod if acc is None else ar.add(acc, prod)
        zb = acc if acc is not None else ar.const(Fraction(0))
        act, y = n.activation, run.y[k]
        c = at_kink(fp, ar, act, y)
        if c is not None:
            d = ar.const(act.slope_left(c) if side == "left" else act.slope_right(c))
        else:
            d = poly(ar, fp, poly_deriv(act.pieces[_piece(act, ar, y)]), y)
        ybar[k] = ar.mul(zb, d)
    grads: list[list[Any]] = [[] for _ in range(net.W)]
    for n in net.neurons:
        yb = ybar[n.index]
        if n.bias is not None and n.bias[0] == "param":
            grads[n.bias[1]].append(yb)
        for src, wt in zip(n.sources, n.weights):
            if wt[0] == "param":
                grads[wt[1]].append(ar.mul(yb, _source(ar, net, src, run.z)))
    out = []
    for g in grads:
        acc2: Any = None
        for t in g:
            acc2 = t if acc2 is None else ar.add(acc2, t)
        out.append(acc2 if acc2 is not None else ar.const(Fraction(0)))
    return out


def differs(a: Any, b: Any) -> bool:
    """Both not NaN and not IEEE-equal (the float-bifurcation condition)."""
    return a == a and b == b and a != b  # noqa: PLR0124  (NaN test)


def bifurcates(net: Network, fp: FPFormat, ar: Arith, w: Sequence[Any]) -> bool:
    """Whether the computed gradients with left and right slopes at kinks differ."""
    run = forward(net, fp, ar, w)
    gl = backward(net, fp, ar, w, run, "left")
    gr = backward(net, fp, ar, w, run, "right")
    return any(differs(a, b) for a, b in zip(gl, gr))
