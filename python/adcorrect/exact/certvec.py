"""The certified quick pass over a batch of copies at once: each neuron's values for all
examples as float64 midpoints and radii (numpy vectors), with rigorous error bounds, so
that a batch where no enclosure meets a kink is certified without a ball per entry.

Error model (IEEE 754 binary64, round to nearest, u = 2^-53): every +, -, * and / is
correctly rounded, ``|fl(a op b) - (a op b)| <= u |fl(a op b)| + eta`` with ``eta`` a bound
for underflow (2^-1021, which also covers flush-to-zero), and a dot product of n terms,
in any summation order and with or without FMA, is within ``gamma_n sum |a_i b_i|`` of
the exact one, ``gamma_n = n u / (1 - n u)`` (Higham, Accuracy and Stability of
Numerical Algorithms, 3.1).  Radii are sums of non-negative terms computed in the same
arithmetic; each is inflated by ``(1 + 4 (n + 4) u)``, which covers the rounding of its
own computation.  Constants that are not doubles (1/3, 1/6) enter as a double and a
radius.  Smooth activations go through Arb entry by entry (a ball built from the
midpoint and radius, its result converted back outward).  A kink or a breakpoint inside
an enclosure, a denominator whose enclosure meets 0, or a domain boundary gives None:
the ball-by-ball passes decide."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from flint import arb

from ..core.errors import Undecided
from ..nets.ir import Network
from ..numbers.cvalue import START_PRECISION, ball, precision
from ..numbers.smoothfns import SMOOTH
from .certval import kinks_of

U = 2.0 ** -53
ETA = 2.0 ** -1021


def _double(q: Fraction) -> tuple[float, float]:
    """q as a double and a radius: (q, 0) when q is a double, else (nearest, a bound of
    the difference)."""
    f = float(q)
    if Fraction(f) == q:
        return f, 0.0
    return f, float(abs(q - Fraction(f))) * (1 + 4 * U) + ETA


def _inflate(r: np.ndarray, n: int) -> np.ndarray:
    return r * (1 + 4 * (n + 4) * U) + (n + 4) * ETA


class _Plan:
    """Per neuron: constant-coefficient sources, coefficients and their radii (zero for
    doubles), parameter-coefficient sources and parameter indices, the bias, and the
    pieces of an exact activation (breakpoints and coefficients as (double, radius))."""

    def __init__(self, net: Network) -> None:
        self.steps: list[tuple[Any, ...]] = []
        for n in net.neurons:
            cs, cc, cr, ps, pp = [], [], [], [], []
            for s, c in zip(n.sources, n.weights):
                if c[0] == "param":
                    ps.append(s)
                    pp.append(c[1])
                else:
                    m, r = _double(c[1])  # type: ignore[arg-type]
                    cs.append(s)
                    cc.append(m)
                    cr.append(r)
            bias: tuple[Any, ...] | None = None
            if n.bias is not None:
                bias = ("param", n.bias[1], 0.0) if n.bias[0] == "param" else \
                    ("const", *_double(n.bias[1]))  # type: ignore[arg-type]
            act = n.activation
            pieces = None
            if act.exact:
                pieces = ([_double(c) for c in act.breakpoints],
                          [[_double(c) for c in p] for p in act.pieces])
            self.steps.append((n.op, np.array(cs, dtype=np.int64), np.array(cc),
                               np.array(cr), np.array(ps, dtype=np.int64),
                               np.array(pp, dtype=np.int64), bias, pieces))


_PLANS: dict[int, tuple[Network, _Plan]] = {}


def _plan(net: Network) -> _Plan:
    hit = _PLANS.get(id(net))
    if hit is not None and hit[0] is net:
        return hit[1]
    p = _Plan(net)
    if len(_PLANS) > 8:
        _PLANS.clear()
    _PLANS[id(net)] = (net, p)
    return p


def _sign_known(m: np.ndarray, r: np.ndarray, c: float, cr: float = 0.0) -> bool:
    """Whether every entry's enclosure lies strictly on one side of every number within
    cr of c."""
    d = m - c  # |fl(m - c) - (m - c)| <= u |d| + eta
    return bool(np.all(np.abs(d) > _inflate(r + cr + U * np.abs(d), 1)))


def _poly(coefs: Sequence[tuple[float, float]], m: np.ndarray, r: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """A polynomial (coefficients as (double, radius), lowest degree first) of an
    enclosure."""
    if [c for c, _ in coefs] == [0.0, 1.0] and coefs[1][1] == 0.0 and coefs[0][1] == 0.0:
        return m, r
    if len(coefs) == 1:
        return np.full_like(m, coefs[0][0]), np.full_like(m, coefs[0][1])
    am = np.full_like(m, coefs[-1][0])
    ar = np.full_like(m, coefs[-1][1])
    for c, cr in reversed(coefs[:-1]):
        pm = am * m
        pr = np.abs(am) * r + ar * np.abs(m) + ar * r + U * np.abs(pm)
        am = pm + c
        ar = _inflate(pr + cr + U * np.abs(am), 2)
    return am, ar


def _smooth(act: Any, m: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    fn = SMOOTH[act.fn]
    om, orad = np.empty_like(m), np.empty_like(m)
    with precision(START_PRECISION):
        for j in range(m.shape[0]):
            try:
                v = ball(fn.value(arb(float(m[j]), float(r[j])), act.args))
            except Undecided:
                return None
            if not v.is_finite():
                return None
            om[j] = float(v.mid())
            orad[j] = float(v.rad()) * (1 + 4 * U) + abs(om[j]) * 2 * U + ETA
    return om, orad


def quick_batch(net: Network, wv: np.ndarray, xs: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """The outputs of the copies of net on the inputs ``xs`` (B, n_in), at parameters
    ``wv``, midpoints and radii (B, n_out each), when every enclosure excludes the kinks
    (no copy on a kink: f is C1 near w); None otherwise.  ``wv`` and ``xs`` are float64
    arrays holding the exact values (an audit's parameters and inputs are doubles)."""
    plan = _plan(net)
    B, n_in, N = xs.shape[0], len(net.input), len(net.neurons)
    if xs.shape[1] != n_in:
        return None
    xm = np.asarray(xs, dtype=np.float64).T
    Zm = np.zeros((n_in + N, B))
    Zr = np.zeros((n_in + N, B))
    Zm[:n_in] = xm[::-1]  # source -(i+1) is input i: row n_in - 1 - i ... stored reversed
    off = n_in
    for k, (n, (op, cs, cc, cr, ps, pp, bias, pieces)) in enumerate(zip(net.neurons,
                                                                        plan.steps)):
        if op in ("mul", "div"):
            a, b = (s + off for s in n.sources)
            am, ar, bm, br = Zm[a], Zr[a], Zm[b], Zr[b]
            if op == "div":
                if not _sign_known(bm, br, 0.0):
                    return None
                den = (np.abs(bm) - br) * (1 - 4 * U) - ETA
                q = am / bm
                ym = q
                yr = _inflate((ar * np.abs(bm) + np.abs(am) * br) / (den * np.abs(bm)) * (1 + 4 * U)
                              + U * np.abs(q), 4)
            else:
                ym = am * bm
                yr = _inflate(np.abs(am) * br + ar * np.abs(bm) + ar * br + U * np.abs(ym), 3)
        else:
            ic, ip = cs + off, ps + off
            nt = len(cs) + len(ps) + (bias is not None)
            ym = np.zeros(B)
            mag = np.zeros(B)
            unc = np.zeros(B)
            if len(cs):
                am = np.abs(Zm[ic])
                ym = ym + cc @ Zm[ic]
                mag = mag + np.abs(cc) @ am
                unc = unc + np.abs(cc) @ Zr[ic] + cr @ (am + Zr[ic])
            if len(ps):
                wp = wv[pp]
                ym = ym + wp @ Zm[ip]
                mag = mag + np.abs(wp) @ np.abs(Zm[ip])
                unc = unc + np.abs(wp) @ Zr[ip]
            if bias is not None:
                bv = wv[bias[1]] if bias[0] == "param" else bias[1]
                ym = ym + bv
                mag = mag + abs(bv)
                unc = unc + bias[2]
            g = nt * U / (1 - nt * U)
            yr = _inflate(unc + g * mag, nt)
        act = n.activation
        if pieces is not None:
            bps, coefs = pieces
            idx = np.zeros(B, dtype=np.int64)
            for c, crad in bps:
                if not _sign_known(ym, yr, c, crad):
                    return None
                idx += ym > c  # certified: each enclosure on one side
            if len(bps) == 1 and coefs == [[(0.0, 0.0)], [(0.0, 0.0), (1.0, 0.0)]]:  # relu
                live = idx == 1
                zm, zr = np.where(live, ym, 0.0), np.where(live, yr, 0.0)
            else:
                zm, zr = np.empty(B), np.empty(B)
                for i in np.unique(idx):
                    sel = idx == i
                    zm[sel], zr[sel] = _poly(coefs[i], ym[sel], yr[sel])
        else:
            for kk in kinks_of(act):
                if not _sign_known(ym, yr, *_double(kk.at)):
                    return None
            got = _smooth(act, ym, yr)
            if got is None:
                return None
            zm, zr = got
        Zm[off + k], Zr[off + k] = zm, zr
    outs = [off + o for o in net.head.outputs]
    return Zm[outs].T.copy(), Zr[outs].T.copy()
