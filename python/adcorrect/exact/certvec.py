"""The certified quick pass over a batch of copies at once: the values of every copy as
float64 midpoints and radii, with rigorous error bounds, so that a batch where no
enclosure meets a kink is certified without a ball per entry.  The neurons are grouped
by depth, kind and size (:class:`LevelPlan`) and each group is evaluated at once for
every copy: the numpy calls number the groups, not the neurons, and a whole-batch
network (one copy) is vectorised across its neurons.

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

import math
from collections import defaultdict
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from flint import arb

from ..core.errors import Undecided
from ..nets.ir import Network
from ..numbers.cvalue import START_PRECISION, ball, precision
from ..numbers.smoothfns import SMOOTH
from .certval import kinks_of, per_network

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


#: ln 2 = LN2_HI + LN2_LO + d, |d| < 1e-25 (fdlibm's split: LN2_HI has 21 trailing zero
#: bits, so k LN2_HI is exact for |k| < 2^21)
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
_INV_FACT = [1.0 / math.factorial(i) for i in range(14)]


def _exp_point(t: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """exp(t) for doubles |t| <= 700: a value v and a relative error bound e with
    |v - exp(t)| <= e v (range reduction t = k ln 2 + r, |r| <= 0.35, Taylor to degree 13
    by Horner: Higham's gamma_26 bound, the coefficients' and the remainder's errors, the
    reduction's error; 2^k applied exactly)."""
    if not bool(np.all(np.abs(t) <= 700)):
        return None
    k = np.rint(t / 0.6931471805599453)
    r1 = t - k * LN2_HI
    klo = k * LN2_LO
    r = r1 - klo
    if not bool(np.all(np.abs(r) <= 0.35)):
        return None
    er = U * (np.abs(r1) + np.abs(klo) + np.abs(r)) + np.abs(k) * 1e-25 + ETA
    p = np.full_like(r, _INV_FACT[13])
    for c in reversed(_INV_FACT[:13]):
        p = p * r + c
    v = np.ldexp(p, k.astype(np.int64))
    if not bool(np.all(np.isfinite(v) & (v >= 2.0 ** -1000))):
        return None
    return v, 64 * U + 1.02 * er + 1e-17


def _monotone(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An enclosure [lo, hi] (lo <= hi, exact bounds) as midpoint and radius."""
    mid = 0.5 * lo + 0.5 * hi
    rad = np.maximum(hi - mid, mid - lo) * (1 + 4 * U) + ETA
    return mid, rad


def _bounds(m: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact lower and upper bounds of the enclosures."""
    return np.nextafter(m - r, -np.inf), np.nextafter(m + r, np.inf)


def _exp_vec(m: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    lo, hi = _bounds(m, r)
    a, b = _exp_point(lo), _exp_point(hi)
    if a is None or b is None:
        return None
    return _monotone(np.nextafter(a[0] * (1 - a[1]), -np.inf),
                     np.nextafter(b[0] * (1 + b[1]), np.inf))


def _sigmoid_vec(m: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """1 / (1 + exp(-x)), increasing."""
    lo, hi = _bounds(m, r)
    a, b = _exp_point(-hi), _exp_point(-lo)  # exp(-x) at the upper and lower ends
    if a is None or b is None:
        return None
    d_lo = np.nextafter(1 + np.nextafter(a[0] * (1 - a[1]), -np.inf), -np.inf)
    d_hi = np.nextafter(1 + np.nextafter(b[0] * (1 + b[1]), np.inf), np.inf)
    return _monotone(np.nextafter(1 / d_hi, -np.inf), np.nextafter(1 / d_lo, np.inf))


def _root_vec(m: np.ndarray, r: np.ndarray, fn: str) -> tuple[np.ndarray, np.ndarray] | None:
    """sqrt, 1/sqrt and 1/x of enclosures certainly positive (1/x: or negative): IEEE's
    sqrt and division are correctly rounded, so one step outward bounds each."""
    lo, hi = _bounds(m, r)
    if fn == "reciprocal" and bool(np.all(hi < 0)):
        return _monotone(np.nextafter(1 / lo, -np.inf), np.nextafter(1 / hi, np.inf))
    if not bool(np.all(lo > 0)):
        return None
    if fn == "sqrt":
        return _monotone(np.nextafter(np.sqrt(lo), -np.inf), np.nextafter(np.sqrt(hi), np.inf))
    if fn == "reciprocal":
        return _monotone(np.nextafter(1 / hi, -np.inf), np.nextafter(1 / lo, np.inf))
    s_lo = np.nextafter(np.sqrt(hi), np.inf)  # >= sqrt(hi): 1/it is a lower bound
    s_hi = np.nextafter(np.sqrt(lo), -np.inf)
    return _monotone(np.nextafter(1 / s_lo, -np.inf), np.nextafter(1 / s_hi, np.inf))


_TWO_OVER_SQRT_PI = 1.1283791670955126  # 2/sqrt(pi) within 2.3e-16 relative
_SQRT_PI = 1.7724538509055159  # sqrt(pi) within 2.3e-16 relative
_INV_SQRT2 = 0.7071067811865476  # 1/sqrt(2) within 2.3e-16 relative


def _erf_point(z: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """erf(z) for doubles z: a value and an absolute error bound.  |z| <= 3: the Taylor
    series to 60 terms (the tail below 1e-40), every term's rounding counted and the sum's
    by gamma_n; |z| > 3: 1 - erfc with erfc's asymptotic series to 6 terms, whose
    remainder is below its first omitted term, and exp(-z^2) by :func:`_exp_point`."""
    a = np.abs(z)
    small = a <= 3
    v = np.zeros_like(z)
    err = np.zeros_like(z)
    zs = np.where(small, z, 0.0)
    t = zs.copy()
    total, mag = zs.copy(), np.abs(zs)
    for n in range(1, 61):
        t = t * (-zs * zs) / n
        term = t / (2 * n + 1)
        total = total + term
        mag = mag + np.abs(term)
    e_small = (4 * 62 + 8) * U * mag + 1e-40
    v = np.where(small, _TWO_OVER_SQRT_PI * total, v)
    err = np.where(small, _TWO_OVER_SQRT_PI * (e_small + 4 * U * np.abs(total)) + U * np.abs(v),
                   err)
    big = ~small
    if bool(big.any()):
        zb = np.where(big, a, 4.0)
        ex = _exp_point(-(zb * zb))
        if ex is None:
            return None
        q = 1 / (2 * zb * zb)
        series, term, odd = np.ones_like(zb), np.ones_like(zb), 1.0
        for n in range(1, 6):
            term = term * (-q) * odd
            odd += 2
            series = series + term
        rem = np.abs(term * q * odd)  # the first omitted term's size
        pref = ex[0] / (zb * _SQRT_PI)
        erfc = pref * series
        erfc_err = pref * (rem + 64 * U * (np.abs(series) + 1)) + np.abs(erfc) * ex[1] + ETA
        vb = np.sign(z) * (1 - erfc)
        v = np.where(big, vb, v)
        err = np.where(big, erfc_err + U * np.abs(vb) + ETA, err)
    return v, err


def _gelu_vec(m: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2 increasing: Phi's enclosure from the
    ends of x's, then the product of enclosures."""
    lo, hi = _bounds(m, r)
    zl, zh = lo * _INV_SQRT2, hi * _INV_SQRT2
    zl = np.nextafter(zl - np.abs(zl) * 4 * U - ETA, -np.inf)
    zh = np.nextafter(zh + np.abs(zh) * 4 * U + ETA, np.inf)
    a, b = _erf_point(zl), _erf_point(zh)
    if a is None or b is None:
        return None
    p_lo = np.nextafter((1 + (a[0] - a[1])) * 0.5 * (1 - 2 * U) - ETA, -np.inf)
    p_hi = np.nextafter((1 + (b[0] + b[1])) * 0.5 * (1 + 2 * U) + ETA, np.inf)
    pm, pr = _monotone(p_lo, p_hi)
    ym = m * pm
    return ym, _inflate(np.abs(m) * pr + r * np.abs(pm) + r * pr + U * np.abs(ym), 3)


def _smooth(act: Any, m: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    if act.fn == "gelu":
        got = _gelu_vec(m, r)
    elif act.fn == "exp":
        got = _exp_vec(m, r)
    elif act.fn == "sigmoid":
        got = _sigmoid_vec(m, r)
    elif act.fn in ("sqrt", "rsqrt", "reciprocal"):
        got = _root_vec(m, r, act.fn)
    else:
        got = None
    return got if got is not None else _smooth_arb(act, m, r)


def _smooth_arb(act: Any, m: np.ndarray, r: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """Any smooth activation entry by entry through Arb."""
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


def _bucket(n: int) -> int:
    """The padded size of a group's rows: the next power of two (at most twice n)."""
    return 1 << max(n - 1, 0).bit_length() if n else 0


class _Group:
    """Neurons of one level, op, activation and padded term counts, as index arrays."""

    def __init__(self, op: str, act: Any, members: list[int], rows: dict[str, Any]) -> None:
        self.op, self.act, self.members = op, act, np.array(members, dtype=np.int64)
        for k, v in rows.items():
            setattr(self, k, v)


class LevelPlan:
    """The groups of a network in evaluation order.  Storage rows: 0 is a zero, then the
    inputs, then the neurons; parameter index W is a padding zero."""

    def __init__(self, net: Network) -> None:
        n_in, W = len(net.input), net.W
        self.n_in, self.W = n_in, W

        def row(s: int) -> int:
            return 1 + (-s - 1) if s < 0 else 1 + n_in + s

        level = [0] * len(net.neurons)
        buckets: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for n in net.neurons:
            lv = 1 + max((level[s] for s in n.sources if s >= 0), default=0)
            level[n.index] = lv
            if n.op in ("mul", "div"):
                key: tuple[Any, ...] = (lv, n.op, n.activation)
            else:
                nc = sum(1 for c in n.weights if c[0] != "param")
                key = (lv, "lin", n.activation, _bucket(nc), _bucket(len(n.weights) - nc))
            buckets[key].append(n.index)
        self.groups: list[_Group] = []
        for key in sorted(buckets, key=lambda k: (k[0], str(k[1:]))):
            members = buckets[key]
            ns = [net.neurons[k] for k in members]
            if key[1] in ("mul", "div"):
                rows = {"a": np.array([row(n.sources[0]) for n in ns]),
                        "b": np.array([row(n.sources[1]) for n in ns])}
            else:
                tc, tp = key[3], key[4]
                G = len(ns)
                sc = np.zeros((G, tc), dtype=np.int64)
                cm, cr = np.zeros((G, tc)), np.zeros((G, tc))
                sp = np.zeros((G, tp), dtype=np.int64)
                pp = np.full((G, tp), W, dtype=np.int64)
                bp = np.full(G, W, dtype=np.int64)
                bm, br = np.zeros(G), np.zeros(G)
                nt = np.zeros(G)
                for g, n in enumerate(ns):
                    i = j = 0
                    for s, c in zip(n.sources, n.weights):
                        if c[0] == "param":
                            sp[g, j], pp[g, j] = row(s), c[1]
                            j += 1
                        else:
                            sc[g, i] = row(s)
                            cm[g, i], cr[g, i] = _double(c[1])  # type: ignore[arg-type]
                            i += 1
                    if n.bias is not None:
                        if n.bias[0] == "param":
                            bp[g] = n.bias[1]
                        else:
                            bm[g], br[g] = _double(n.bias[1])  # type: ignore[arg-type]
                    nt[g] = len(n.weights) + (n.bias is not None)
                rows = {"sc": sc, "cm": cm, "acm": np.abs(cm), "cr": cr,
                        "exact_coefs": not cr.any(), "sp": sp, "pp": pp, "bp": bp, "bm": bm,
                        "br": br, "nmax": int(nt.max()) if G else 0}
            act = ns[0].activation
            pieces = None
            if act.exact:
                pieces = ([_double(c) for c in act.breakpoints],
                          [[_double(c) for c in p] for p in act.pieces])
            rows["pieces"] = pieces
            rows["out"] = np.array([1 + n_in + k for k in members])
            self.groups.append(_Group(key[1], act, members, rows))


_PLANS: dict[int, tuple[Network, LevelPlan]] = {}


def level_plan(net: Network) -> LevelPlan:
    """The network's groups, built once (:func:`~.certval.per_network`)."""
    return per_network(_PLANS, net, LevelPlan)


def quick_batch(net: Network, wv: np.ndarray, xs: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """The outputs of the copies of net on the inputs ``xs`` (B, n_in), at parameters
    ``wv``, midpoints and radii (B, n_out each), when every enclosure excludes the kinks
    (no copy on a kink: f is C1 near w); None otherwise.  ``wv`` and ``xs`` are float64
    arrays holding the exact values (an audit's parameters and inputs are doubles)."""
    plan = level_plan(net)
    B = xs.shape[0]
    if xs.shape[1] != plan.n_in:
        return None
    Zm = np.zeros((1 + plan.n_in + len(net.neurons), B))
    Zr = np.zeros_like(Zm)
    Zm[1:1 + plan.n_in] = np.asarray(xs, dtype=np.float64).T
    w = np.append(np.asarray(wv, dtype=np.float64), 0.0)
    for g in plan.groups:
        if g.op in ("mul", "div"):
            am, ar, bm, br = Zm[g.a], Zr[g.a], Zm[g.b], Zr[g.b]
            if g.op == "div":
                if not _sign_known(bm, br, 0.0):
                    return None
                den = (np.abs(bm) - br) * (1 - 4 * U) - ETA
                ym = am / bm
                yr = _inflate((ar * np.abs(bm) + np.abs(am) * br) / (den * np.abs(bm))
                              * (1 + 4 * U) + U * np.abs(ym), 4)
            else:
                ym = am * bm
                yr = _inflate(np.abs(am) * br + ar * np.abs(bm) + ar * br + U * np.abs(ym), 3)
        else:
            xm, xr = Zm[g.sc], Zr[g.sc]  # (G, Tc, B)
            axm = np.abs(xm)
            ym = np.einsum("gt,gtb->gb", g.cm, xm)
            mag = np.einsum("gt,gtb->gb", g.acm, axm)
            unc = np.einsum("gt,gtb->gb", g.acm, xr)
            if not g.exact_coefs:  # constants that are not doubles
                unc = unc + np.einsum("gt,gtb->gb", g.cr, axm + xr)
            if g.sp.shape[1]:
                wp = w[g.pp]
                pm, pr = Zm[g.sp], Zr[g.sp]
                ym = ym + np.einsum("gt,gtb->gb", wp, pm)
                mag = mag + np.einsum("gt,gtb->gb", np.abs(wp), np.abs(pm))
                unc = unc + np.einsum("gt,gtb->gb", np.abs(wp), pr)
            bv = w[g.bp] + g.bm
            ym = ym + bv[:, None]
            mag = mag + np.abs(bv)[:, None]
            unc = unc + g.br[:, None]
            n = g.nmax + 1
            yr = _inflate(unc + (n * U / (1 - n * U)) * mag, n)
        act = g.act
        if g.pieces is not None:
            bps, coefs = g.pieces
            idx = np.zeros(ym.shape, dtype=np.int64)
            for c, crad in bps:
                if not _sign_known(ym, yr, c, crad):
                    return None
                idx += ym > c
            if len(bps) == 1 and coefs == [[(0.0, 0.0)], [(0.0, 0.0), (1.0, 0.0)]]:  # relu
                live = idx == 1
                zm, zr = np.where(live, ym, 0.0), np.where(live, yr, 0.0)
            elif not bps:
                zm, zr = _poly(coefs[0], ym, yr)
            else:
                zm, zr = np.empty_like(ym), np.empty_like(ym)
                for i in np.unique(idx):
                    sel = idx == i
                    zm[sel], zr[sel] = _poly(coefs[i], ym[sel], yr[sel])
        else:
            for kk in kinks_of(act):
                if not _sign_known(ym, yr, *_double(kk.at)):
                    return None
            got = _smooth(act, ym.reshape(-1), yr.reshape(-1))
            if got is None:
                return None
            zm, zr = got[0].reshape(ym.shape), got[1].reshape(ym.shape)
        Zm[g.out], Zr[g.out] = zm, zr
    outs = [1 + plan.n_in + o for o in net.head.outputs]
    return Zm[outs].T.copy(), Zr[outs].T.copy()
