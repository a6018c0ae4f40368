"""Float64 enclosures of smooth functions, vectorised: for arrays of midpoints m and
radii r (each entry the interval [m - r, m + r]), a midpoint and radius per entry whose
interval contains the function's values on the input's interval.

Error model (IEEE 754 binary64, round to nearest, u = 2^-53): every +, -, * and / and
sqrt is correctly rounded, ``|fl(a op b) - (a op b)| <= u |fl(a op b)| + eta`` with
``eta`` a bound for underflow (2^-1021, which also covers flush-to-zero).  Radii are sums
of non-negative terms computed in the same arithmetic, each inflated by
``(1 + 4 (n + 4) u)`` for its own n roundings (:func:`inflate`).  Constants that are not
doubles enter as a double and a radius (:func:`double`).

Each function is evaluated once, at the midpoints, with a proven error bound (exp by range
reduction and Taylor; erf by Taylor or erfc's asymptotic series; sigmoid and tanh from
exp), and widened by a Lipschitz bound over the radius (sigmoid' <= 1/4, tanh' <= 1,
Phi' <= 1/sqrt(2 pi); exp multiplicatively).  sqrt, 1/sqrt and 1/x are monotone and
correctly rounded: one step outward at each end.  None means "not enclosed here" (outside
a function's domain or range of this method): the caller's ball-by-ball pass decides."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from flint import arb

from ..numbers.cvalue import precision
from ..numbers.smoothfns import GELU_KAPPA

U = 2.0 ** -53
ETA = 2.0 ** -1021
Pair = tuple[np.ndarray, np.ndarray]


def double(q: Fraction) -> tuple[float, float]:
    """q as a double and a radius: (q, 0) when q is a double, else (nearest, a bound of
    the difference)."""
    f = float(q)
    if Fraction(f) == q:
        return f, 0.0
    return f, float(abs(q - Fraction(f))) * (1 + 4 * U) + ETA


def inflate(r: np.ndarray, n: int) -> np.ndarray:
    """A radius computed with at most n + 4 roundings, made an upper bound."""
    return r * (1 + 4 * (n + 4) * U) + (n + 4) * ETA


def product(am: np.ndarray, ar: np.ndarray, bm: np.ndarray, br: np.ndarray) -> Pair:
    """The product of two enclosures."""
    ym = am * bm
    return ym, inflate(np.abs(am) * br + ar * np.abs(bm) + ar * br + U * np.abs(ym), 3)


def poly(coefs: Sequence[tuple[float, float]], m: np.ndarray, r: np.ndarray) -> Pair:
    """A polynomial (coefficients as (double, radius), lowest degree first) of an
    enclosure, by Horner."""
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
        ar = inflate(pr + cr + U * np.abs(am), 2)
    return am, ar


def _monotone(lo: np.ndarray, hi: np.ndarray) -> Pair:
    """An enclosure [lo, hi] (lo <= hi, exact bounds) as midpoint and radius."""
    mid = 0.5 * lo + 0.5 * hi
    rad = np.maximum(hi - mid, mid - lo) * (1 + 4 * U) + ETA
    return mid, rad


#: ln 2 = LN2_HI + LN2_LO + d, |d| < 1e-25 (fdlibm's split: LN2_HI has 21 trailing zero
#: bits, so k LN2_HI is exact for |k| < 2^21)
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
_INV_FACT = [1.0 / math.factorial(i) for i in range(14)]
#: below it, exp(t) is enclosed by [0, TINY] (exp_point needs exp(t) >= 2^-1000)
EXP_FLOOR = -690.0
TINY = 1e-299  # > exp(-690) = 2.2e-300


def exp_point(t: np.ndarray) -> Pair | None:
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


def exp_vec(m: np.ndarray, r: np.ndarray) -> Pair | None:
    """exp on enclosures of radius at most 1: exp(m) e^{+-r}, with e^r <= 1 + r + r^2 and
    e^-r >= 1 - r; entries below EXP_FLOOR as [0, TINY]."""
    if not bool(np.all(r <= 1)):
        return None
    low = m + r < EXP_FLOOR
    got = exp_point(np.where(low, 0.0, m))
    if got is None:
        return None
    v, ev = got
    s = r + r * r
    rad = inflate(v * (ev + s * (1 + ev)), 4)
    return np.where(low, 0.0, v), np.where(low, TINY, rad)


def sigmoid_point(t: np.ndarray) -> Pair | None:
    """sigmoid(t) = 1 / (1 + exp(-t)) for doubles t: a value and an absolute error bound
    (relative error of 1 + exp(-t) at most e + 2u, then one division); |t| > -EXP_FLOOR
    as 0 or 1 within TINY (the true value is within e^-690 of it)."""
    big = np.abs(t) > -EXP_FLOOR
    got = exp_point(np.where(big, 0.0, -t))
    if got is None:
        return None
    v, ev = got
    s = 1 / (1 + v)
    err = s * (1.01 * (ev + 2 * U) + 2 * U) + ETA
    return np.where(big, (t > 0).astype(np.float64), s), np.where(big, TINY, err)


def _sigmoid_slope(s: np.ndarray, e: np.ndarray, r: np.ndarray) -> np.ndarray:
    """A bound of sigmoid' on [m - r, m + r] from sigmoid(m) within e of s:
    sigmoid' = sigmoid (1 - sigmoid) <= min(1/4, sigmoid, 1 - sigmoid), and log sigmoid
    is 1-Lipschitz, so sigmoid(x) <= sigmoid(m) e^r <= (s + e)(1 + 2 r) for r <= 1 (the
    same for 1 - sigmoid)."""
    grow = 1 + 2 * r
    local = np.minimum((s + e) * grow, (1 - s + e) * grow)
    return np.where(r <= 1, np.minimum(local, 0.25), 0.25)


def sigmoid_vec(m: np.ndarray, r: np.ndarray) -> Pair | None:
    """sigmoid at the midpoint, widened by its slope's bound over the radius."""
    got = sigmoid_point(m)
    if got is None:
        return None
    s, e = got
    return s, inflate(e + _sigmoid_slope(s, e, r) * r, 6)


def expm1_small(x: np.ndarray) -> Pair:
    """e^x - 1 for |x| <= 0.35: x P(x), P the Taylor polynomial to degree 12 by Horner
    (P in [0.83, 1.2]: gamma_24 and the coefficients' rounding within 35u of P, the
    remainder below 2e-17 of it): a value and a relative error bound of 64u."""
    p = np.full_like(x, _INV_FACT[13])
    for c in reversed(_INV_FACT[1:13]):
        p = p * x + c
    return x * p, np.full_like(x, 64 * U)


#: below it, tanh(t) = expm1(2t) / (expm1(2t) + 2) keeps its relative accuracy
TANH_SMALL = 0.175


def tanh_point(t: np.ndarray, got: Pair) -> Pair:
    """tanh(t) from ``got = sigmoid_point(2 t)``: 2 sigmoid(2 t) - 1, or for
    |t| <= TANH_SMALL expm1(2t) / (expm1(2t) + 2) (relative error within 140u): a value
    and an absolute error bound."""
    th = 2 * got[0] - 1
    err = 2 * got[1] + U * np.abs(th) + ETA
    small = np.abs(t) <= TANH_SMALL
    if small.any():
        em, _ = expm1_small(2 * t[small])
        ts = em / (em + 2)
        th[small], err[small] = ts, 160 * U * np.abs(ts) + ETA
    return th, err


def tanh_vec(m: np.ndarray, r: np.ndarray) -> Pair | None:
    """tanh at the midpoint, widened by tanh'(x) = 4 sigmoid'(2x) over the radius."""
    sg = sigmoid_point(2 * m)
    if sg is None:
        return None
    got = tanh_point(m, sg)
    return got[0], inflate(got[1] + 4 * _sigmoid_slope(*sg, 2 * r) * r, 6)


def silu_vec(m: np.ndarray, r: np.ndarray) -> Pair | None:
    """x sigmoid(x): the product of the enclosures."""
    got = sigmoid_vec(m, r)
    return None if got is None else product(m, r, *got)


def root_vec(m: np.ndarray, r: np.ndarray, fn: str) -> Pair | None:
    """sqrt, 1/sqrt and 1/x of enclosures certainly positive (1/x: or negative): IEEE's
    sqrt and division are correctly rounded, so one step outward bounds each."""
    lo, hi = np.nextafter(m - r, -np.inf), np.nextafter(m + r, np.inf)
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
_INV_SQRT_2PI_UP = 0.3989422804014328  # >= 1/sqrt(2 pi) = 0.39894228040143267...
#: the relative size of erf's Taylor tail allowed, 2^-60
_ERF_TAIL = 2.0 ** -60


def _erf_terms(zmax: float) -> int:
    """The number n of Taylor terms of erf (after the first) from which, for
    0 < |z| <= zmax, the terms decrease and the first omitted one, so the alternating
    tail, is below ``_ERF_TAIL |z|``: zmax^(2n+2) / ((n+1)! (2n+3)) < _ERF_TAIL / 2, the
    ratio computed exactly."""
    n = max(1, math.ceil(zmax * zmax))
    z2 = Fraction(zmax) ** 2
    while z2 ** (n + 1) / (math.factorial(n + 1) * (2 * n + 3)) >= Fraction(_ERF_TAIL) / 2:
        n += 1
    return n


#: |z| bands of erf's Taylor series and their term counts
_ERF_BANDS = [(zmax, _erf_terms(zmax)) for zmax in (0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)]


def _erf_taylor(z: np.ndarray, terms: int) -> Pair:
    """erf(z) for |z| within a band of ``terms`` terms: value and absolute error bound."""
    t = z.copy()
    total, mag = z.copy(), np.abs(z)
    zz = -z * z
    for n in range(1, terms + 1):
        t = t * zz / n
        term = t / (2 * n + 1)
        total = total + term
        mag = mag + np.abs(term)
    e = ((4 * (terms + 2) + 8) * U + _ERF_TAIL) * mag  # mag >= |z|
    v = _TWO_OVER_SQRT_PI * total
    return v, _TWO_OVER_SQRT_PI * (e + 4 * U * np.abs(total)) + U * np.abs(v)


def erf_point(z: np.ndarray) -> Pair:
    """erf(z) for doubles z: a value and an absolute error bound.  |z| <= 3: the Taylor
    series, its length chosen per band of |z| (:data:`_ERF_BANDS`) so that the tail is
    below 2^-60 |z|, every term's rounding counted and the sum's by gamma_n; 3 < |z| <= 26:
    1 - erfc with erfc's asymptotic series to 6 terms, whose remainder is below its first
    omitted term, and exp(-z^2) by :func:`exp_point`; |z| > 26: sign(z) within 1e-290
    (erfc(26) < e^-676)."""
    a = np.abs(z)
    v = np.zeros_like(z)
    err = np.zeros_like(z)
    low = -1.0
    for zmax, terms in _ERF_BANDS:
        sel = np.flatnonzero((a > low) & (a <= zmax))
        low = zmax
        if sel.size:
            v[sel], err[sel] = _erf_taylor(z[sel], terms)
    big = np.flatnonzero((a > 3) & (a <= 26))
    if big.size:
        zb = a[big]
        ex = exp_point(-(zb * zb))
        assert ex is not None  # z^2 <= 676
        q = 1 / (2 * zb * zb)
        series, term, odd = np.ones_like(zb), np.ones_like(zb), 1.0
        for n in range(1, 6):
            term = term * (-q) * odd
            odd += 2
            series = series + term
        rem = np.abs(term * q * odd)  # the first omitted term's size
        pref = ex[0] / (zb * _SQRT_PI)
        erfc = pref * series
        erfc_err = (pref * (rem + 64 * U * (np.abs(series) + 1))
                    + np.abs(erfc) * (ex[1] + 2 * U * zb * zb) + ETA)  # fl(z^2) too
        vb = np.sign(z[big]) * (1 - erfc)
        v[big], err[big] = vb, erfc_err + U * np.abs(vb) + ETA
    huge = a > 26
    v[huge], err[huge] = np.sign(z[huge]), 1e-290
    return v, err


def gelu_vec(m: np.ndarray, r: np.ndarray) -> Pair:
    """x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2: Phi at the midpoint (the error of
    z = fl(m / sqrt 2) through erf' <= 2 / sqrt(pi)), widened by Phi' <= 1/sqrt(2 pi) over
    the radius, then the product of enclosures."""
    z = m * _INV_SQRT2
    v, ev = erf_point(z)
    dz = 4 * U * np.abs(z) + ETA  # |z - m / sqrt 2|
    pm = (1 + v) * 0.5
    pr = inflate(0.5 * (ev + 1.13 * dz) + _INV_SQRT_2PI_UP * r + 2 * U * np.abs(pm), 4)
    return product(m, r, pm, pr)


def _arb_double(a: arb) -> tuple[float, float]:
    """A 200-bit Arb constant as a double and a radius."""
    f = float(a.mid())
    return f, float(abs(a - arb(f)).upper()) * (1 + 4 * U) + ETA


def _gelu_tanh_coefs() -> list[tuple[float, float]]:
    """2 sqrt(2/pi) (x + kappa x^3) as polynomial coefficients."""
    with precision(200):
        c = 2 * (2 / arb.pi()).sqrt()
        ck = c * arb(GELU_KAPPA.numerator) / GELU_KAPPA.denominator
        return [(0.0, 0.0), _arb_double(c), (0.0, 0.0), _arb_double(ck)]


_GELU_TANH = _gelu_tanh_coefs()


def gelu_tanh_vec(m: np.ndarray, r: np.ndarray) -> Pair | None:
    """x (1 + tanh(u)) / 2 = x sigmoid(2 u), u = sqrt(2/pi) (x + kappa x^3): the inner
    polynomial's enclosure, sigmoid's, then the product."""
    um, ur = poly(_GELU_TANH, m, r)
    got = sigmoid_vec(um, ur)
    return None if got is None else product(m, r, *got)


def elu_vec(m: np.ndarray, r: np.ndarray, alpha: Fraction) -> Pair | None:
    """x above 0, alpha (e^x - 1) below: each enclosure on one side of 0 (else None)."""
    lo, hi = m - r, m + r
    neg = hi < 0
    if not bool(np.all(neg | (lo > 0))):
        return None
    ym, yr = m.copy(), r.copy()
    if neg.any():
        got = exp_vec(m[neg], r[neg])
        if got is None:
            return None
        em, er = got
        a, ar = double(alpha)
        d = em - 1
        v = a * d
        ym[neg] = v
        yr[neg] = inflate(abs(a) * (er + U * np.abs(d)) + ar * (np.abs(d) + er)
                          + U * np.abs(v), 4)
    return ym, yr


#: the functions of one argument enclosed here, by their key in numbers.smoothfns.SMOOTH
_UNARY = {"gelu": gelu_vec, "gelu_tanh": gelu_tanh_vec, "exp": exp_vec, "sigmoid": sigmoid_vec,
          "tanh": tanh_vec, "silu": silu_vec}


def smooth_vec(fn: str, args: tuple[Fraction, ...], m: np.ndarray, r: np.ndarray
               ) -> Pair | None:
    """The enclosure of a smooth activation by name, or None where this module has no
    method (softplus, mish, log) or declines."""
    if fn in _UNARY:
        return _UNARY[fn](m, r)
    if fn == "elu":
        return elu_vec(m, r, args[0] if args else Fraction(1))
    if fn in ("sqrt", "rsqrt", "reciprocal"):
        return root_vec(m, r, fn)
    return None
