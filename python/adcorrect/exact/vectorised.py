"""Exact batch evaluation of kinks and NS over a block of M^W (THEORY.md sections 4-5).

Every quantity (pre-activation y_k, output z_k, derivative D sigma_k(y_k), adjoint
zbar_k) is an exact rational array held as an integer numerator array over a
*static* positive integer denominator, with a static bound on the numerator's
absolute value (:class:`Num`).  For dyadic formats and dyadic constants every
denominator is a power of two, i.e. this is fixed point with the power-of-two
scale tracked per quantity; other rationals just get other common denominators,
still exact.  Every operation updates the largest numerator bound seen (its
intermediates included), so a dry run decides statically whether int64 can
overflow anywhere; if it can, the same code runs on numpy object arrays of
Python ints (arbitrary precision, slower).

Arrays are numpy-broadcast over the parameter axes: parameter p lives on axis p,
and a quantity only spans the axes of the parameters it depends on (y_k of a
first-layer neuron spans 2 axes, not W), so work is proportional to the sizes of
the dependence blocks rather than to |M|^W wherever the network allows.
Quantities are computed lazily: only what the kink and NS masks need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import floor, lcm
from typing import Any

import numpy as np

from ..nets.activations import Choice, Poly, poly_deriv
from ..nets.ir import Network, Value

INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Num:
    """The exact array ``num / den``: integer numerators (numpy array or 0-d array),
    a static denominator ``den > 0`` and a static bound ``|num| <= bound``."""

    num: Any
    den: int
    bound: int


def _trim(p: Poly) -> Poly:
    q = list(p)
    while len(q) > 1 and q[-1] == 0:
        q.pop()
    return tuple(q)


class Arith:
    """Exact arithmetic on :class:`Num` with a fixed numpy dtype (int64 or object).

    ``peak`` is the largest absolute value any numerator or intermediate can take,
    derived from the static bounds only (not from the data), so it is the same for
    every block of the same network and format.
    """

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)
        self.peak = 0

    def _see(self, bound: int) -> int:
        self.peak = max(self.peak, bound)
        return bound

    def array(self, x: Any) -> Any:
        """A Python int (or int array) as an array of this dtype."""
        return np.asarray(x, dtype=self.dtype)

    def const(self, q: Fraction) -> Num:
        """The constant rational q."""
        q = Fraction(q)
        return Num(self.array(q.numerator), q.denominator, self._see(abs(q.numerator)))

    def mul(self, a: Num, b: Num) -> Num:
        """a * b."""
        if a.bound == 0 or b.bound == 0:
            return Num(self.array(0), 1, 0)
        return Num(a.num * b.num, a.den * b.den, self._see(a.bound * b.bound))

    def _rescale(self, a: Num, den: int) -> tuple[Any, int]:
        f = den // a.den
        if f == 1:
            return a.num, a.bound
        return a.num * self.array(f), self._see(a.bound * f)

    def add(self, a: Num, b: Num) -> Num:
        """a + b over the least common denominator."""
        if b.bound == 0:
            return a
        if a.bound == 0:
            return b
        den = lcm(a.den, b.den)
        an, ab = self._rescale(a, den)
        bn, bb = self._rescale(b, den)
        return Num(an + bn, den, self._see(ab + bb))

    def where(self, cond: Any, a: Num, b: Num) -> Num:
        """Elementwise cond ? a : b (cond a bool array or a Python bool)."""
        if cond is True:
            return a
        if cond is False:
            return b
        den = lcm(a.den, b.den)
        an, ab = self._rescale(a, den)
        bn, bb = self._rescale(b, den)
        return Num(np.where(cond, an, bn), den, max(ab, bb))

    def eq_const(self, a: Num, c: Fraction) -> Any:
        """The mask a == c (a Python bool False where it is impossible)."""
        t = c * a.den
        if t.denominator != 1 or abs(t.numerator) > a.bound:
            return False
        return a.num == self.array(t.numerator)

    def gt_const(self, a: Num, c: Fraction) -> Any:
        """The mask a > c (a Python bool where it is constant)."""
        t = floor(c * a.den)  # a > c  iff  num > floor(c * den), num integer
        if t >= a.bound:
            return False
        if t < -a.bound:
            return True
        return a.num > self.array(t)

    def nonzero(self, a: Num) -> Any:
        """The mask a != 0."""
        if a.bound == 0:
            return False
        return a.num != 0

    def poly(self, a: Num, p: Poly, den: int, deg: int) -> Num:
        """p(a) as a numerator over den = L * a.den**deg (L the coefficient lcm)."""
        lcm_coeffs = den // a.den**deg
        coeffs = [int(c * lcm_coeffs) * a.den ** (deg - j) for j, c in enumerate(p)]
        b = max(a.bound, 1)
        self._see(sum(abs(c) * b**j for j, c in enumerate(coeffs)))
        bound = sum(abs(c) * a.bound**j for j, c in enumerate(coeffs))
        if len(coeffs) == 1:
            return Num(self.array(coeffs[0]), den, abs(coeffs[0]))
        acc: Any = self.array(coeffs[-1])
        for c in reversed(coeffs[:-1]):
            acc = acc * a.num
            if c:
                acc = acc + self.array(c)
        return Num(acc, den, bound)

    def ge_const(self, a: Num, c: Fraction) -> Any:
        """The mask a >= c."""
        gt, eq = self.gt_const(a, c), self.eq_const(a, c)
        if gt is True or eq is False:
            return gt
        if gt is False:
            return eq
        return gt | eq

    def neg(self, a: Num) -> Num:
        """-a."""
        return Num(-a.num, a.den, a.bound)

    def piecewise(self, a: Num, breakpoints: Sequence[Fraction],
                  polys: Sequence[Poly], right: bool = False) -> Num:
        """The piecewise polynomial with polys[i] on [c_i, c_{i+1}], at a; at a breakpoint
        the left piece is used, or the right one with ``right`` (callers only use this
        where the pieces agree or override breakpoints themselves)."""
        polys = [_trim(p) for p in polys]
        deg = max(len(p) for p in polys) - 1
        lc = lcm(*(c.denominator for p in polys for c in p))
        den = lc * a.den**deg
        if all(p == polys[0] for p in polys):
            return self.poly(a, polys[0], den, deg)
        out = self.poly(a, polys[0], den, deg)
        above = self.ge_const if right else self.gt_const
        for c, p in zip(breakpoints, polys[1:]):
            out = self.where(above(a, c), self.poly(a, p, den, deg), out)
        return out


def _constant_derivative(net_neuron_act: Any, choice: Choice) -> Fraction | None:
    """D sigma as a constant if it does not depend on y (identity, linear pieces)."""
    act = net_neuron_act
    derivs = [_trim(poly_deriv(p)) for p in act.pieces]
    if any(len(d) > 1 for d in derivs) or any(d != derivs[0] for d in derivs):
        return None
    value = derivs[0][0]
    if any(act.derivative(c, choice) != value for c in act.kinks):
        return None
    return value


@dataclass
class BlockResult:
    """Masks over one block (numpy-broadcastable to the block's shape)."""

    kink: Any  # K(w) non-empty
    ns: Any  # NS(w)


class Evaluator:
    """Lazy exact evaluation of the network on broadcast parameter arrays."""

    def __init__(self, net: Network, params: Sequence[Num], arith: Arith,
                 choice: Choice) -> None:
        net.require_exact()
        net.require_linear_head("the vectorised counter")
        self.net = net
        self.params = params
        self.ar = arith
        self.choice = choice
        self._y: dict[int, Num] = {}
        self._z: dict[int, Num] = {}
        self._d: dict[int, Num] = {}
        self._zbar: dict[int, Num] = {}
        self.inputs = [arith.const(x) for x in net.input]

    def value(self, v: Value | None) -> Num:
        """A weight/bias slot as a Num."""
        if v is None:
            return self.ar.const(Fraction(0))
        kind, x = v
        return self.params[x] if kind == "param" else self.ar.const(x)

    def y(self, k: int) -> Num:
        """Pre-activation y_k."""
        if k not in self._y:
            n = self.net.neurons[k]
            acc = self.value(n.bias)
            for src, wt in zip(n.sources, n.weights):
                s = self.inputs[-src - 1] if src < 0 else self.z(src)
                acc = self.ar.add(acc, self.ar.mul(self.value(wt), s))
            self._y[k] = acc
        return self._y[k]

    def z(self, k: int) -> Num:
        """Output z_k = sigma_k(y_k)."""
        if k not in self._z:
            act = self.net.neurons[k].activation
            self._z[k] = self.ar.piecewise(self.y(k), act.breakpoints, act.pieces)
        return self._z[k]

    def kink(self, k: int) -> Any:
        """Mask y_k in ndf(sigma_k)."""
        act = self.net.neurons[k].activation
        out: Any = False
        for c in act.kinks:
            m = self.ar.eq_const(self.y(k), c)
            out = m if out is False else (out if m is False else out | m)
        return out

    def d(self, k: int) -> Num:
        """D sigma_k(y_k): the piece slope, or the chosen derivative at a kink."""
        if k not in self._d:
            act = self.net.neurons[k].activation
            const = _constant_derivative(act, self.choice)
            if const is not None:
                self._d[k] = self.ar.const(const)
            else:
                y = self.y(k)
                out = self.ar.piecewise(y, act.breakpoints,
                                        [poly_deriv(p) for p in act.pieces])
                for c in act.kinks:
                    out = self.ar.where(self.ar.eq_const(y, c),
                                        self.ar.const(act.derivative(c, self.choice)), out)
                self._d[k] = out
        return self._d[k]

    def zbars(self) -> dict[int, Num]:
        """All adjoints zbar_k needed for NS: computed top-down, stopping below the
        lowest neuron with kinks."""
        neurons = self.net.neurons
        with_kinks = [n.index for n in neurons if n.activation.kinks]
        if not with_kinks:
            return {}
        lowest = min(with_kinks)
        zbar: dict[int, Num] = {}
        for o, c in zip(self.net.head.outputs, self.net.head.coefs):
            seed = self.ar.const(c)
            zbar[o] = self.ar.add(zbar[o], seed) if o in zbar else seed
        for n in reversed(neurons):
            k = n.index
            if k <= lowest:
                break  # nothing below k needs an adjoint
            zk = zbar.get(k)
            if zk is None or zk.bound == 0:
                continue
            if not any(src >= lowest for src in n.sources):
                continue
            ybar = self.ar.mul(zk, self.d(k))
            for src, wt in zip(n.sources, n.weights):
                if src < lowest:
                    continue
                term = self.ar.mul(ybar, self.value(wt))
                zbar[src] = self.ar.add(zbar[src], term) if src in zbar else term
        return zbar

    def slope(self, k: int, side: str) -> Num:
        """sigma'_-(y_k) (side 'left') or sigma'_+(y_k) (side 'right')."""
        act = self.net.neurons[k].activation
        derivs = [poly_deriv(p) for p in act.pieces]
        if all(_trim(d) == _trim(derivs[0]) and len(_trim(d)) == 1 for d in derivs):
            return self.ar.const(_trim(derivs[0])[0])
        return self.ar.piecewise(self.y(k), act.breakpoints, derivs, right=side == "right")

    def axis_phi(self, p: int, sign: int) -> Num:
        """phi_w(sign * e_p): side-aware forward mode along one axis, on the whole block."""
        ar = self.ar
        unit = ar.const(Fraction(sign))
        dz: dict[int, Num] = {}
        for n in self.net.neurons:
            k = n.index
            dy: Num | None = None
            if n.bias == ("param", p):
                dy = unit
            for src, wt in zip(n.sources, n.weights):
                if src >= 0 and src in dz:
                    t = ar.mul(self.value(wt), dz[src])
                    dy = t if dy is None else ar.add(dy, t)
                if wt == ("param", p):
                    s = self.inputs[-src - 1] if src < 0 else self.z(src)
                    t = ar.mul(unit, s)
                    dy = t if dy is None else ar.add(dy, t)
            if dy is None or dy.bound == 0:
                continue
            right = ar.mul(self.slope(k, "right"), dy)
            left = ar.mul(self.slope(k, "left"), dy)
            zero = ar.const(Fraction(0))
            dz[k] = ar.where(ar.gt_const(dy, Fraction(0)), right,
                             ar.where(ar.gt_const(ar.neg(dy), Fraction(0)), left, zero))
        out = ar.const(Fraction(0))
        for o, c in zip(self.net.head.outputs, self.net.head.coefs):
            if o in dz:
                out = ar.add(out, ar.mul(ar.const(c), dz[o]))
        return out

    def axis_witness(self, params: Sequence[int]) -> Any:
        """The mask of points where phi_w(e_p) + phi_w(-e_p) != 0 for some p in params: f is
        not differentiable there (phi_w(-e_p) differs from -phi_w(e_p))."""
        out: Any = False
        for p in params:
            m = self.ar.nonzero(self.ar.add(self.axis_phi(p, 1), self.axis_phi(p, -1)))
            out = m if out is False else (out if m is False else out | m)
        return out

    def evaluate(self) -> BlockResult:
        """The kink and NS masks."""
        zbar = self.zbars()
        kink_any: Any = False
        ns_any: Any = False
        for n in self.net.neurons:
            if not n.activation.kinks:
                continue
            km = self.kink(n.index)
            if km is False:
                continue
            kink_any = km if kink_any is False else kink_any | km
            zk = zbar.get(n.index)
            if zk is None:
                continue
            nz = self.ar.nonzero(zk)
            if nz is False:
                continue
            nm = km & nz
            ns_any = nm if ns_any is False else ns_any | nm
        return BlockResult(kink_any, ns_any)


def param_nums(values: Sequence[Fraction], arith: Arith, W: int,
               slices: Sequence[tuple[int, int]]) -> list[Num]:
    """Parameter p as an array on axis p holding values[lo:hi] for slices[p] = (lo, hi).

    All parameters share the format's common denominator and the format-wide bound,
    so the static bounds (hence the dtype decision) are the same for every block."""
    den = lcm(*(v.denominator for v in values)) if values else 1
    ints = [int(v * den) for v in values]
    bound = arith._see(max((abs(i) for i in ints), default=0))
    out = []
    for p, (lo, hi) in enumerate(slices):
        shape = [1] * W
        shape[p] = hi - lo
        out.append(Num(np.array(ints[lo:hi], dtype=arith.dtype).reshape(shape), den, bound))
    return out


def choose_dtype(net: Network, values: Sequence[Fraction], choice: Choice,
                 axes: Sequence[int] = ()) -> Any:
    """int64 if no numerator or intermediate can exceed int64, else object (Python ints).

    Decided statically: the bounds depend only on the network and the whole format,
    so one dry run on a single point in object arithmetic yields the peak (including
    the axis witnesses along ``axes``, if they will be computed)."""
    if not values:
        return np.int64
    ar = Arith(object)
    ev = Evaluator(net, param_nums(values, ar, net.W, [(0, 1)] * net.W), ar, choice)
    ev.evaluate()
    ev.axis_witness(axes)
    return np.int64 if ar.peak <= INT64_MAX else object


def block_evaluator(net: Network, values: Sequence[Fraction],
                    slices: Sequence[tuple[int, int]], dtype: Any, choice: Choice) -> Evaluator:
    """The lazy evaluator on the block prod_p values[lo_p:hi_p]."""
    ar = Arith(dtype)
    params = param_nums(values, ar, net.W, slices)
    return Evaluator(net, params, ar, choice)


def evaluate_block(net: Network, values: Sequence[Fraction], slices: Sequence[tuple[int, int]],
                   dtype: Any, choice: Choice) -> BlockResult:
    """Kink and NS masks on the block prod_p values[lo_p:hi_p] (broadcast shapes)."""
    return block_evaluator(net, values, slices, dtype, choice).evaluate()
