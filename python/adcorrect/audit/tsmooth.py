"""Certified smooth activations on float64 tensors, for the tensor filter (:mod:`.tgates`):
enclosures of exp, sigmoid, tanh, SiLU, GELU (``x Phi(x)``, PyTorch's default erf form)
and GELU's tanh form, over points and over
intervals ``[V - R, V + R]``, and of their derivatives, from IEEE-correct ``+ - * /``
alone (``torch.exp`` and ``torch.tanh`` carry no error bound and are not used).

An enclosure is a pair ``(v, r)``: the exact real value lies in ``[v - r, v + r]``.
Facts used (``u = 2^-53``, round to nearest): (a) ``|fl(a op b) - a op b| <= u |a op b|``
for a normal result, ``<= eta / 2`` (``eta = 2^-1074``) in gradual underflow, exact for a
sum with a subnormal result; (b) Horner's rule for a degree-n polynomial is within
``gamma_2n sum |c_j| |r|^j`` of the exact value (Higham, *Accuracy and Stability*, 5.1);
(c) every radius is a sum of a few non-negative products, rounded up by :func:`_finish`:
``(r + 2^-62 |v|) (1 + 2^-40)`` covers a dozen roundings of r (fact 6 of
:mod:`.certified`) and, where ``|v| >= 2^-1000``, thousands of underflows of ``eta``;
below that ``2^-1064`` is added.  Exact points: ``f(0)`` is exact for every function
here (``tanh(0) = silu(0) = gelu(0) = 0``, ``sigmoid(0) = 1/2``), as in the IR
(:mod:`adcorrect.numbers.smoothfns`); elsewhere the value is irrational.
"""

from __future__ import annotations

import math
from fractions import Fraction

import torch
from flint import arb, ctx

from .certified import F64, INFLATE, U, gamma

Enc = tuple[torch.Tensor, torch.Tensor]

SMOOTH_FNS = ("sigmoid", "tanh", "silu", "gelu_tanh", "gelu")

# -- constants ----------------------------------------------------------------------------

#: ln 2 = C1 + C2 + delta: C1 has 32 significant bits (k C1 exact for |k| < 2^21), C2 is
#: the float nearest ln 2 - C1 (fdlibm's split), |delta| <= DELTA (Arb, 300 bits; the
#: float of its upper bound doubled, which covers that float's rounding)
C1 = 6.93147180369123816490e-01
C2 = 1.90821492927058770002e-10
_old = ctx.prec
ctx.prec = 300
DELTA = 2 * float(abs(arb(2).log() - arb(C1) - arb(C2)).upper())
_SQRT_2_PI = (2 / arb.pi()).sqrt()
#: 2 sqrt(2/pi) (GELU's tanh form: gelu(x) = x sigmoid(2 sqrt(2/pi) (x + kappa x^3)))
TWO_C = float(2 * _SQRT_2_PI)
TWO_C_R = 2 * float(abs(2 * _SQRT_2_PI - arb(TWO_C)).upper())
ctx.prec = _old
#: 1 / sqrt(2 pi) within its radius; beyond |x| = PHI_CUT the normal density phi(x) and
#: |x| phi(x) are below PHI_CUT_R and XPHI_CUT_R, and 1 - Phi(|x|) below TAIL_CUT_R
#: (Mills: 1 - Phi(a) <= phi(a) / a), each the upper end of an Arb ball
PHI_CUT = 10.0
with ctx.workprec(300):
    _INV = 1 / (2 * arb.pi()).sqrt()
    INV_SQRT_2PI = float(_INV)
    INV_SQRT_2PI_R = 2 * float(abs(_INV - arb(INV_SQRT_2PI)).upper())
    _PHI_CUT = _INV * (-arb(PHI_CUT) ** 2 / 2).exp()
    PHI_CUT_R = float(_PHI_CUT.upper()) * 2
    XPHI_CUT_R = float((arb(PHI_CUT) * _PHI_CUT).upper()) * 2
    TAIL_CUT_R = float((_PHI_CUT / PHI_CUT).upper()) * 2
KAPPA = 0.044715  # the float nearest 0.044715; the exact decimal is within KAPPA_R
KAPPA_R = float(abs(Fraction("0.044715") - Fraction(KAPPA))) * 2
INV_LN2 = 1.4426950408889634  # any float near 1/ln 2 (it only chooses k)
RHO = 0.36  # |r| <= RHO after the reduction (ln 2 / 2 = 0.3466 plus rounding)
E_RHO = 1.4334  # > e^RHO = 1.43333
N = 13  # Taylor degree
_COEF = [float(Fraction(1, math.factorial(j))) for j in range(N + 1)]  # correctly rounded
_COEF1 = [float(Fraction(1, math.factorial(j + 1))) for j in range(N + 1)]


def _up(q: Fraction) -> float:
    """A float >= the rational q >= 0."""
    f = float(q)
    return f if Fraction(f) >= q else math.nextafter(f, math.inf)


_U = Fraction(1, 2 ** 53)
_G = Fraction(gamma(2 * N))
#: exp(r) for |r| <= RHO: Horner (fact b, sum |c_j| |r|^j <= (1 + u) e^|r|), the rounded
#: coefficients (|c_j - 1/j!| <= u / j!: at most u e^|r|) and the truncation
#: (|r|^(N+1) / (N+1)! e^|r|), all as multiples of e^RHO
K_EXP = _up(Fraction(E_RHO) * (_G * (1 + _U) + _U
                               + Fraction(RHO) ** (N + 1) / math.factorial(N + 1)))
#: expm1(y) / y = sum_j y^j / (j+1)! for |y| <= RHO: the same three terms, with
#: sum_j |y|^j / (j+1)! = (e^|y| - 1) / |y| <= 1.2037
K_EXPM1 = _up(Fraction("1.2037") * (_G * (1 + _U) + _U)
              + Fraction(E_RHO) * Fraction(RHO) ** (N + 1) / math.factorial(N + 2))

#: global bounds: sup |f'| (the Lipschitz constant of f) and sup |f''|, rounded up from
#: their exact values (sigmoid: 1/4 and 1/(6 sqrt 3) = 0.0962; tanh: 1 and
#: 4/(3 sqrt 3) = 0.7698) or from their maxima (SiLU: 1.0998 near x = 2.4 and 0.5 at 0;
#: GELU-tanh: 1.1290 and sqrt(2/pi) = 0.7979 at 0), checked in Arb by the tests
#: GELU: 1.1290 at sqrt 2 and 2 phi(0) = 0.7979 at 0
LIP = {"sigmoid": 0.25, "tanh": 1.0, "silu": 1.1, "gelu_tanh": 1.13, "gelu": 1.13}
CURV = {"sigmoid": 0.1, "tanh": 0.79, "silu": 0.51, "gelu_tanh": 0.81, "gelu": 0.81}
AT_ZERO = {"sigmoid": 0.5, "tanh": 0.0, "silu": 0.0, "gelu_tanh": 0.0, "gelu": 0.0}
#: bounded functions: the midpoint and half-width of their range ((0, 1), (-1, 1)), the
#: enclosure where a computed one is wider (a radius that would only grow downstream)
RANGE = {"sigmoid": (0.5, 0.5), "tanh": (0.0, 1.0)}

SMALL = 2.0 ** -1000
TINY_ABS = 2.0 ** -1064
GELU_CLAMP = 32.0  # beyond, |2 sqrt(2/pi)(x + kappa x^3)| > 2300: the gate is 0 or 1


# -- rounding helpers ---------------------------------------------------------------------

def _finish(v: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """The radius r of a computed v, rounded up (fact c); infinite where v or r is not
    finite."""
    a = v.abs()
    out = (r + 2.0 ** -62 * a) * INFLATE
    out = torch.where(a < SMALL, out + TINY_ABS, out)
    return torch.where(torch.isfinite(v) & torch.isfinite(out), out,
                       torch.full_like(out, math.inf))


def _mul(a: Enc, b: Enc) -> Enc:
    """a b: ``|a| rb + |b| ra + ra rb`` plus the product's rounding."""
    v = a[0] * b[0]
    return v, _finish(v, a[0].abs() * b[1] + b[0].abs() * a[1] + a[1] * b[1] + U * v.abs())


def _add(a: Enc, b: Enc) -> Enc:
    v = a[0] + b[0]
    return v, _finish(v, a[1] + b[1] + U * v.abs())


def _pow2(k: torch.Tensor) -> torch.Tensor:
    """2^k exactly, from its bits (int64 k in [-1022, 1023])."""
    return ((k + 1023) << 52).view(F64)


def _scale2(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """x 2^k (int64 k, |k| <= 1100) in two exact power-of-two steps: the first exact (x in
    [0, 2]), the second rounds only where the result is subnormal (by <= eta / 2)."""
    k1 = torch.div(k, 2, rounding_mode="floor")
    return x * _pow2(k1) * _pow2(k - k1)


# -- points ---------------------------------------------------------------------------------

def exp_point(x: torch.Tensor) -> Enc:
    """exp(x) at float64 points x.  ``k = round(x / ln 2)``, ``r = (x - k C1) - k C2``
    (|r| <= 0.36; k C1 exact; each of the two subtractions and the product k C2 within u
    of its result; ``|k| delta`` for the split of ln 2), ``exp(r)`` by Horner to degree 13
    (:data:`K_EXP`, and ``e^0.36 (1 + 2^-20)`` times the error of r), then ``2^k``
    exactly (:func:`_scale2`; ``4 eta`` where E or its radius may be subnormal).  x < -745:
    ``e^x < 2^-1074.8``, the enclosure ``[0 +- eta]``; x > 710 or an overflow: an
    infinite radius.  exp(0) = 1 exactly."""
    fin = torch.isfinite(x)
    under = x < -745.0
    over = (x > 710.0) | torch.isnan(x)
    xc = torch.where(fin & ~under & ~over, x, torch.zeros_like(x))
    k = torch.round(xc * INV_LN2)
    r1 = xc - k * C1
    p = k * C2
    r = r1 - p
    if not bool((r.abs() <= RHO).all()):
        raise ArithmeticError("exp: range reduction beyond 0.36")
    err_r = ((r1.abs() + p.abs() + r.abs()) * U + k.abs() * DELTA) * INFLATE
    P = torch.full_like(r, _COEF[N])
    for j in range(N - 1, -1, -1):
        P = P * r + _COEF[j]
    errP = (K_EXP + (E_RHO * (1 + 2.0 ** -20)) * err_r) * INFLATE
    ki = k.to(torch.int64)
    E = _scale2(P, ki)
    RE = _scale2(errP, ki)
    RE = torch.where(ki < -960, RE + 4 * 2.0 ** -1074, RE)  # E or RE may be subnormal
    RE = torch.where(xc == 0, torch.zeros_like(RE), RE)
    E = torch.where(under, torch.zeros_like(E), E)
    RE = torch.where(under, torch.full_like(RE, 2.0 ** -1074), RE)
    bad = over | ~torch.isfinite(E)
    E = torch.where(bad, torch.full_like(E, math.inf), E)
    RE = torch.where(bad, torch.full_like(RE, math.inf), RE)
    return E, RE


def expm1_neg(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                          torch.Tensor]:
    """``(expm1(y), exp(y))`` as enclosures ``(M, RM, E, RE)`` for float64 ``y <= 0``.
    ``|y| <= 0.36``: ``y Q(y)`` with ``Q`` the degree-13 Taylor polynomial of
    ``expm1(y) / y`` by Horner (:data:`K_EXPM1` times |y|, relative), ``E = 1 + M``;
    else ``M = E - 1`` from :func:`exp_point` (``|M| >= 0.3``: no cancellation)."""
    small = y >= -RHO
    ys = torch.where(small, y, torch.zeros_like(y))
    Qv = torch.full_like(ys, _COEF1[N])
    for j in range(N - 1, -1, -1):
        Qv = Qv * ys + _COEF1[j]
    Ms = ys * Qv
    RMs = _finish(Ms, ys.abs() * K_EXPM1 + U * Ms.abs())
    Es = 1.0 + Ms
    REs = _finish(Es, RMs + U * Es.abs())
    El, REl = exp_point(torch.where(small, torch.full_like(y, -1.0), y))
    Ml = El - 1.0
    RMl = _finish(Ml, REl + U * Ml.abs())
    return (torch.where(small, Ms, Ml), torch.where(small, RMs, RMl),
            torch.where(small, Es, El), torch.where(small, REs, REl))


def sigmoid_point(x: torch.Tensor) -> tuple[Enc, Enc]:
    """``(sigmoid(x), 1 - sigmoid(x))`` at float64 points: with ``e = exp(-|x|)`` in
    ``[0, 1]``, ``1 / (1 + e)`` and ``e / (1 + e)`` (which is which by the sign of x):
    both are 1-Lipschitz in ``e >= 0``, and the two roundings add ``2.01 u`` relative."""
    E, RE = exp_point(-x.abs())
    d = 1.0 + E
    p, q = 1.0 / d, E / d
    rp = _finish(p, RE + 2.01 * U * p.abs())
    rq = _finish(q, RE + 2.01 * U * q.abs())
    pos = x >= 0
    return ((torch.where(pos, p, q), torch.where(pos, rp, rq)),
            (torch.where(pos, q, p), torch.where(pos, rq, rp)))


def tanh_point(x: torch.Tensor) -> tuple[Enc, Enc]:
    """``(tanh(x), 1 - tanh(x)^2)`` at float64 points.  With ``m = expm1(-2|x|)`` in
    ``[-1, 0]`` and ``e = 1 + m``: ``tanh|x| = -m / (2 + m)`` (slope in m at most
    ``2 / (2 + m)^2 <= 2``, two roundings) and ``1 - tanh^2 = 4 e / (2 + m)^2`` (slopes at
    most 4 in e and ``8 e`` in m, four roundings).  |x| is clamped to 400: beyond,
    ``tanh`` is within ``e^-800`` of 1 and the enclosures at 400 contain 1 and 0."""
    a = x.abs().clamp(max=400.0)
    M, RM, E, RE = expm1_neg(-2.0 * a)
    d = 2.0 + M
    t = -M / d
    low = (d - RM).clamp(min=1.0)
    rt = _finish(t, RM * (2.0 / (low * low)) * (1 + 4 * U) + 2.01 * U * t.abs())
    D = 4.0 * E / (d * d)
    rD = _finish(D, 4.0 * RE + 8.0 * (E + RE) * RM + 4.01 * U * D.abs())
    t = torch.where(x < 0, -t, t)
    return (t, rt), (D, rD)


def _gate_arg(x: torch.Tensor) -> Enc:
    """``2 sqrt(2/pi) (x + kappa x^3)`` at float64 points with |x| <= 32."""
    z = torch.zeros_like(x)
    x3 = _mul(_mul((x, z), (x, z)), (x, z))
    inner = _add((x, z), _mul((torch.full_like(x, KAPPA), torch.full_like(x, KAPPA_R)), x3))
    return _mul((torch.full_like(x, TWO_C), torch.full_like(x, TWO_C_R)), inner)


def _sigmoid_interval(w: Enc) -> tuple[Enc, Enc]:
    """:func:`sigmoid_point` over ``[w - rw, w + rw]``: ``s(1 - s)`` varies by at most
    ``e^rw`` over it (its log has slope ``1 - 2s`` in [-1, 1]) and ``e^z <= 1 + 2z`` for
    ``z <= 1``; else the global 1/4."""
    (s, rs), (c, rc) = sigmoid_point(w[0])
    lip = torch.minimum((s + rs) * (c + rc) * (1 + 2 * w[1]), torch.full_like(s, 0.25))
    lip = torch.where(w[1] <= 1, lip, torch.full_like(lip, 0.25))
    add = w[1] * lip
    return (s, _finish(s, rs + add)), (c, _finish(c, rc + add))


def gelu_gate(x: torch.Tensor) -> tuple[Enc, Enc]:
    """``(S, 1 - S)`` with ``S = sigmoid(2 sqrt(2/pi)(x + kappa x^3))`` (``gelu(x) =
    x S``, the tanh form: ``(1 + tanh(u)) / 2 = sigmoid(2u)``) at float64 points.  |x| is
    clamped to 32: the argument is monotone in x and beyond +-32 its enclosure at the
    clamp already contains 1 (or 0), the gate's limit."""
    return _sigmoid_interval(_gate_arg(x.clamp(-GELU_CLAMP, GELU_CLAMP)))


def normal_gate(x: torch.Tensor) -> tuple[Enc, Enc, Enc]:
    """``(Phi(x), 1 - Phi(x), phi(x))`` (the standard normal distribution and density) at
    float64 points.  For ``|x| <= PHI_CUT``: ``Phi(x) = 1/2 + phi(x) S(x)`` with Marsaglia's
    series ``S(x) = sum_n T_n``, ``T_n = x^(2n+1) / (1 3 5 ... (2n+1))``, whose terms share
    x's sign (no cancellation), each computed from the one before by a product with
    ``fl(x^2)`` and a quotient (three relative roundings per step).  Per entry, past
    ``K = floor(fl(x^2)) + 40`` terms every ratio ``x^2 / (2n + 3)`` is below 1/2, so the
    terms from K on sum to at most ``2 T_K``; the error of the computed S is then at most
    ``gamma(4K + 4) |S|`` (the first K terms and their sums) plus ``7 |fl(T_K)|`` (the
    later terms' own errors, each later sum's rounding, which is at most the term added,
    and the terms never added).  ``phi(x) = exp(-fl(x^2)/2) / sqrt(2 pi)``, the exponent
    within ``u x^2 / 2`` (a factor within ``0.51 u x^2`` of 1).  ``1 - Phi = 1/2 - phi S`` loses
    relative accuracy for x < 0 (absolute, it stays within ``1e-13``).  Beyond PHI_CUT:
    0 or 1 within :data:`TAIL_CUT_R`."""
    a = x.clamp(-PHI_CUT, PHI_CUT)
    a2 = a * a
    K = torch.floor(a2) + 40
    n_terms = int(float(K.max())) + 1 if a.numel() else 1
    T, S = a.clone(), a.clone()
    cut = torch.zeros_like(T)
    for n in range(1, n_terms + 1):
        T = T * a2 / (2 * n + 1)
        cut = torch.where(K == n, T, cut)
        if n < n_terms:
            S = S + T
    g = K * (4 * U) + 4 * U
    RS = _finish(S, S.abs() * (g / (1 - g)) + 7.0 * cut.abs())
    E, RE = exp_point(-0.5 * a2)
    RE = _finish(E, RE + (E + RE) * (0.51 * U * a2))
    phi = _mul((E, RE), (torch.full_like(a, INV_SQRT_2PI), torch.full_like(a, INV_SQRT_2PI_R)))
    q = _mul(phi, (S, RS))
    half = torch.full_like(a, 0.5)
    s = (half + q[0], _finish(half + q[0], q[1] + U * (half + q[0]).abs()))
    c = (half - q[0], _finish(half - q[0], q[1] + U * (half - q[0]).abs()))
    far = x.abs() > PHI_CUT
    if bool(far.any()):
        pos = x > 0
        tail = torch.full_like(a, TAIL_CUT_R)
        one, zero = torch.ones_like(a), torch.zeros_like(a)
        s = (torch.where(far, torch.where(pos, one, zero), s[0]), torch.where(far, tail, s[1]))
        c = (torch.where(far, torch.where(pos, zero, one), c[0]), torch.where(far, tail, c[1]))
        phi = (torch.where(far, zero, phi[0]),
               torch.where(far, torch.full_like(a, PHI_CUT_R), phi[1]))
    return s, c, phi


def point(fn: str, x: torch.Tensor) -> tuple[Enc, dict[str, Enc]]:
    """f(x) at float64 points x, and the auxiliary enclosures its interval and derivative
    bounds use (``s``, ``c``: the sigmoid and its complement; ``d``: tanh')."""
    z = torch.zeros_like(x)
    if fn == "sigmoid":
        s, c = sigmoid_point(x)
        return s, {"s": s, "c": c}
    if fn == "tanh":
        t, d = tanh_point(x)
        return t, {"d": d}
    if fn == "gelu":  # x Phi(x); for x < -PHI_CUT, |x| (1 - Phi(|x|)) <= phi(|x|)
        s, c, phi = normal_gate(x)
        v, r = _mul((x, z), s)
        low = x < -PHI_CUT
        return (torch.where(low, z, v), torch.where(low, torch.full_like(x, PHI_CUT_R), r)), \
            {"s": s, "c": c, "phi": phi}
    if fn == "silu":
        s, c = sigmoid_point(x)
    elif fn == "gelu_tanh":
        s, c = gelu_gate(x)
    else:
        raise ValueError(f"unknown smooth function {fn!r}")
    return _mul((x, z), s), {"s": s, "c": c}


# -- intervals ------------------------------------------------------------------------------

def _exp_up(z: torch.Tensor) -> torch.Tensor:
    """An upper bound on e^z for z >= 0: ``1 + 2z`` for ``z <= 1`` (convexity:
    ``e^1 < 3``), else :func:`exp_point`'s upper end (infinite on overflow, NaN z: NaN)."""
    lin = 1 + 2 * z
    far = z > 1
    if not bool(far.any()):
        return lin
    E, RE = exp_point(torch.where(far, z, torch.zeros_like(z)))
    return torch.where(far, (E + RE) * INFLATE, lin)


def _slope(fn: str, V: torch.Tensor, R: torch.Tensor, aux: dict[str, Enc]) -> torch.Tensor:
    """An upper bound on |f'| over ``[V - R, V + R]`` from the point's enclosures:
    sigmoid ``s(1 - s)`` and SiLU's ``s + |x| s (1 - s)`` change by at most ``e^R``
    (their logs' slopes are in [-1, 1]), tanh's ``1 - t^2`` by ``e^(2R)`` (slope ``-2t``),
    GELU's gate argument w by ``R sup|w'|``; never above the global constant."""
    glob = torch.full_like(V, LIP[fn])
    if fn == "gelu":  # Phi + x phi: Phi grows by at most R / sqrt(2 pi) over the interval,
        # and phi(xi) <= phi(V) e^(R |V|) there ((V^2 - xi^2) / 2 <= R |V|)
        s, phi = aux["s"], aux["phi"]
        loc = s[0] + s[1] + R * 0.4 + (V.abs() + R) * (phi[0] + phi[1]) * _exp_up(R * V.abs())
        return torch.minimum(torch.where(torch.isnan(loc), glob, loc * INFLATE), glob)
    if fn == "tanh":
        d = aux["d"]
        loc = (d[0] + d[1]) * _exp_up(2 * R)
    else:
        s, c = aux["s"], aux["c"]
        sh, sc = s[0] + s[1], (s[0] + s[1]) * (c[0] + c[1])
        if fn == "sigmoid":
            loc = sc * _exp_up(R)
        elif fn == "silu":
            g = _exp_up(R)
            loc = sh * g + (V.abs() + R) * torch.minimum(sc * g, torch.full_like(V, 0.25))
        else:
            a = V.abs() + R
            wp = (TWO_C + TWO_C_R) * (1 + 3 * (KAPPA + KAPPA_R) * a * a)
            g = _exp_up(R * wp)
            loc = sh * g + a * wp * torch.minimum(sc * g, torch.full_like(V, 0.25))
    return torch.minimum(torch.where(torch.isnan(loc), glob, loc * INFLATE), glob)


def enclose(fn: str, V: torch.Tensor, R: torch.Tensor) -> Enc:
    """f over ``[V - R, V + R]`` (R >= 0): ``f(V)`` with its rounding radius plus ``R``
    times :func:`_slope` (the mean value theorem), or the whole range of a bounded f
    where that is narrower; exact ``f(0)`` at exact zeros; an infinite radius where V or
    R is not finite (a bounded f: its range)."""
    (v, r), aux = point(fn, V)
    live = R > 0
    if bool(live.any()):
        r = torch.where(live, _finish(v, r + R * _slope(fn, V, R, aux)), r)
    zero = (V == 0) & (R == 0)
    v = torch.where(zero, torch.full_like(v, AT_ZERO[fn]), v)
    r = torch.where(zero, torch.zeros_like(r), r)
    bad = ~torch.isfinite(V) | ~torch.isfinite(R)
    if bool(bad.any()):
        v = torch.where(bad, torch.zeros_like(v), v)
        r = torch.where(bad, torch.full_like(r, math.inf), r)
    if fn in RANGE:
        mid, half = RANGE[fn]
        wide = ~(r < half)  # infinite radii too
        if bool(wide.any()):
            v = torch.where(wide, torch.full_like(v, mid), v)
            r = torch.where(wide, torch.full_like(r, half), r)
    return v, r


def derivative(fn: str, V: torch.Tensor, R: torch.Tensor) -> Enc:
    """f' over ``[V - R, V + R]``: ``f'(V)`` (sigmoid ``s(1 - s)``; tanh ``1 - t^2``; SiLU
    ``s + V s (1 - s)``; GELU ``S + V S (1 - S) w'(V)`` with ``w' = 2 sqrt(2/pi)(1 + 3 kappa
    V^2)``, whose product term is below ``2^-1000`` for |V| > 32) plus ``R sup|f''|``."""
    z = torch.zeros_like(V)
    _, aux = point(fn, V)
    if fn == "tanh":
        d = aux["d"]
    elif fn == "gelu":  # Phi(V) + V phi(V); |V| phi(V) <= XPHI_CUT_R beyond PHI_CUT
        term = _mul((V, z), aux["phi"])
        far = V.abs() > PHI_CUT
        term = (torch.where(far, z, term[0]),
                torch.where(far, torch.full_like(V, XPHI_CUT_R), term[1]))
        d = _add(aux["s"], term)
    else:
        sc = _mul(aux["s"], aux["c"])
        if fn == "sigmoid":
            d = sc
        else:
            if fn == "gelu_tanh":
                Vc = V.clamp(-GELU_CLAMP, GELU_CLAMP)
                a2 = _mul((Vc, z), (Vc, z))
                k3 = _mul((torch.full_like(V, 3 * KAPPA), torch.full_like(V, 3 * KAPPA_R)), a2)
                wp = _mul((torch.full_like(V, TWO_C), torch.full_like(V, TWO_C_R)),
                          _add((torch.ones_like(V), z), k3))
                sc = _mul(sc, wp)
            term = _mul((V, z), sc)
            if fn == "gelu_tanh":
                far = V.abs() > GELU_CLAMP
                term = (torch.where(far, z, term[0]),
                        torch.where(far, torch.full_like(V, SMALL), term[1]))
            d = _add(aux["s"], term)
    rd = _finish(d[0], d[1] + R * CURV[fn])
    bad = ~torch.isfinite(V) | ~torch.isfinite(R) | ~torch.isfinite(d[0])
    if bool(bad.any()):
        rd = torch.where(bad, torch.full_like(rd, math.inf), rd)
    return torch.where(bad, z, d[0]), rd


# -- softplus ------------------------------------------------------------------------------

M = 16  # atanh series terms
_ATANH = [float(Fraction(1, 2 * j + 1)) for j in range(M + 1)]  # correctly rounded
#: S(w) = sum_j w^j / (2j + 1) for 0 <= w <= 1/9 (S <= 3 atanh(1/3) = 1.03972): Horner
#: (fact b), the rounded coefficients (u S), the truncation (w^(M+1) / (2M+3) / (1 - w))
K_LOG = _up(Fraction("1.0398") * (Fraction(gamma(2 * M)) * (1 + _U) + _U)
            + Fraction(1, 9) ** (M + 1) / (2 * M + 3) * Fraction(9, 8))


def log1p_unit(a: Enc) -> Enc:
    """``log(1 + a)`` for a float64 enclosure of a number in ``[0, 1]``: 1-Lipschitz in a (the radius carries over); at the centre
    ``2 z S(z^2)`` with ``z = a / (2 + a) <= 1/3`` (``log(1 + a) = 2 atanh z``), z within
    2.01 u relative, S by Horner to 17 terms (:data:`K_LOG`; slope of S at most 0.35)."""
    c = a[0].clamp(0.0, 1.0)  # the number lies in [0, 1]: still an enclosure of it
    z = c / (2.0 + c)
    ze = (z, 2.01 * U * z * INFLATE)
    w = _mul(ze, ze)
    S = torch.full_like(z, _ATANH[M])
    for j in range(M - 1, -1, -1):
        S = S * w[0] + _ATANH[j]
    Se = (S, _finish(S, K_LOG + 0.35 * w[1]))
    v, r = _mul((2.0 * z, 2.0 * ze[1]), Se)
    return v, _finish(v, r + a[1])


def _scaled_arg(V: torch.Tensor, R: torch.Tensor, beta: float) -> Enc:
    """``beta x`` over ``[V - R, V + R]`` (beta > 0 a float)."""
    if beta == 1.0:
        return V, R
    y = beta * V
    return y, _finish(y, beta * R * (1 + 2 * U) + U * y.abs())


def softplus(V: torch.Tensor, R: torch.Tensor, beta: float = 1.0) -> Enc:
    """``softplus_beta(x) = log(1 + e^(beta x)) / beta`` over ``[V - R, V + R]`` (the
    mathematical function, as the IR reads it: PyTorch's ``threshold`` is a float
    shortcut): with ``y = beta x``, ``max(y, 0) + log1p(e^-|y|)`` at the centre, plus the
    radius of y times the sigmoid's upper bound over y's interval (softplus' =
    sigmoid), then divided by beta.  Never exact (``softplus(0) = log 2``)."""
    y, ry = _scaled_arg(V, R, beta)
    E, RE = exp_point(-y.abs())
    sp = _add((y.clamp(min=0.0), torch.zeros_like(y)), log1p_unit((E, RE)))
    s, sr = enclose("sigmoid", y, ry)
    v, r = sp[0], _finish(sp[0], sp[1] + ry * (s + sr))
    if beta != 1.0:
        q = v / beta
        v, r = q, _finish(q, r / beta * (1 + 2 * U) + U * q.abs())
    bad = ~torch.isfinite(y) | ~torch.isfinite(ry) | ~torch.isfinite(r)
    if bool(bad.any()):
        v = torch.where(bad, torch.zeros_like(v), v)
        r = torch.where(bad, torch.full_like(r, math.inf), r)
    return v, r


def softplus_derivative(V: torch.Tensor, R: torch.Tensor, beta: float = 1.0) -> Enc:
    """``softplus_beta'(x) = sigmoid(beta x)`` over ``[V - R, V + R]``."""
    return enclose("sigmoid", *_scaled_arg(V, R, beta))
