"""Rigorous float64 arithmetic for the audit's filter (THEORY.md 8.3): values with an
error radius, and a certificate that a float64 result is exact.

Every quantity is carried as a float64 array ``v`` with a radius ``r >= 0`` such that the
real (exact) value lies in ``[v - r, v + r]``; ``r = 0`` means ``v`` IS the exact value.
Where ``r = 0``, ``q`` is a lower bound on the *quantum* of the exact value: the value
is an integer multiple of ``2^q`` (``q`` is ``NOQ`` for 0).

Facts used (``u = 2^-53``, ``eta = 2^-1074``, round to nearest, any evaluation order,
with or without fused multiply-add, no overflow; a non-finite result makes the radius
infinite):

1. *Dot products.*  For floats ``a_1..a_m``, ``x_1..x_m`` and ``b``,
   ``|fl(sum a_j x_j + b) - (sum a_j x_j + b)| <= gamma_{m+1} (sum |a_j x_j| + |b|) + m eta``
   with ``gamma_k = k u / (1 - k u)`` (Higham, *Accuracy and Stability*, 3.1, for every
   summation order; each product can add ``eta/2`` absolute error in gradual underflow;
   additions of subnormals are exact).
2. *Cauchy-Schwarz.*  ``sum |a_j x_j| <= ||a||_2 ||x||_2``.  So one matrix product
   gives the values and the bound needs only the norms of rows and columns.
3. *Propagation.*  If the exact sources are ``s_j`` with ``|x_j - s_j| <= r_j`` and the
   exact coefficients ``c_j`` with ``|a_j - c_j| <= d_j``, then
   ``|sum a_j x_j - sum c_j s_j| <= ||a|| ||r|| + ||d|| (||x|| + ||r||)``.
4. *Exactness.*  If every ``a_j``, ``x_j``, ``b`` is an exact integer multiple of
   ``2^Q`` with ``Q >= -1074`` (products: ``2^(q(a) + q(x))``) and
   ``sum |a_j x_j| + |b| < 2^(53 + Q)``, then every product and every partial sum, in
   every order, is an integer multiple of ``2^Q`` below ``2^(53 + Q)`` in magnitude,
   hence a float64: no operation rounds, and the float result is the exact value.
5. *Norms, safely.*  ``fl(sqrt(fl(sum x_j^2)))`` can be below ``||x||_2`` by relative
   ``gamma_{m+2}`` and, through underflow of the squares, by at most
   ``sqrt(m eta)``; :func:`norm_up` returns ``fl(...) (1 + 2^-40) + sqrt(m) 2^-536``,
   an upper bound for ``m < 2^30``.
6. *The bound's own rounding.*  Radii are sums of products of non-negative floats with
   at most a dozen roundings, each relative ``<= u``; multiplying the computed bound by
   ``1 + 2^-40`` and adding ``(m + 8) 2^-1070`` covers them.
7. *Radii entry by entry* (used whenever a level's sources carry radii, so radii grow
   additively through BatchNorm's diagonal levels, residual sums, average pools and max
   chains instead of by the square root of a level's width at every level).  With the
   notation of facts 1 and 3 and ``g = gamma_{m+1}``,
   ``|fl(sum a_j x_j + b) - (sum c_j s_j + beta)|
   <= sum |a_j| (g |x_j| + r_j) + sum d_j (|x_j| + r_j) + g |b| + m eta + |b - beta|``
   (``|a_j x_j - c_j s_j| <= |a_j| r_j + d_j (|x_j| + r_j)``).  The first sum is computed
   as ``P = fl(|A| fl(g |X| + R))``: ``fl(g |x| + r) >= (g |x| + r)(1 - u)^2 - eta``, and
   a float sum of ``m`` non-negative products is at least ``(1 - gamma_m)`` times the
   exact one minus ``m eta``; so ``(P + m eta)(1 + 2 gamma_{m+3}) + sqrt(m) ||a|| eta``
   bounds it (``sum |a_j| <= sqrt(m) ||a||``).  The second sum keeps fact 3's norms.
   *7b.*  Where every ``r_j = 0``, ``P = fl(s fl(g (1 + 2^-40)))`` with
   ``s = fl(|A| |X|)`` serves as well (one product then gives the radius and fact 4's
   size): ``sum |a_j x_j| <= (s + m eta) / (1 - gamma_m)``; the two roundings of
   ``P`` lose less than the factor ``1 + 2^-40`` gains, or at most ``eta / 2 <=
   (1 - g) m eta`` in underflow, so ``P + m eta >= g (s + m eta)`` and
   ``g sum |a_j x_j| <= (P + m eta)(1 + 2 gamma_{m+3})``.
8. *Exact zeros.*  A sum of non-negative floats is 0 iff every term is 0 (no rounding
   makes a positive sum 0), so where ``fl(|A| [x_j != 0 or r_j != 0]) = 0`` every
   source with a non-zero coefficient is exactly 0; if moreover the coefficients are
   exact (``d = 0``) and the bias is exactly 0, the exact value is 0 and so is the
   float one: radius 0.  relu of an input with ``y < -r`` is exactly 0: radius 0.  (Max
   nodes over zeros, e.g. a max pool of non-positive relu inputs, are then exact ties:
   certain kinks, not uncertain copies.)
"""

from __future__ import annotations

import math

import torch

NOQ = 1 << 20  # quantum of 0: no constraint
U = 2.0 ** -53
ETA = 2.0 ** -1074
#: An absolute error term that is a normal float: at least ETA, m ETA and (m + 8) 2^-1070
#: for every m < 2^40 (the bounds' m).  Bounds add it where a multiple of ETA is enough:
#: a larger bound, as sound, and x86 runs arithmetic with a subnormal operand (ETA itself)
#: 10-15x slower, element by element.
FLOOR = 2.0 ** -1021
INFLATE = 1.0 + 2.0 ** -40
F64 = torch.float64


def gamma(m: int) -> float:
    """An upper bound on gamma_m = m u / (1 - m u), as a float (m < 2^40)."""
    return 1.01 * m * U


def normal_up(c: float) -> float:
    """The absolute error term c raised to at least :data:`FLOOR` (a normal float)."""
    return max(c, FLOOR)


def quantum(x: torch.Tensor) -> torch.Tensor:
    """For float64 x: the exponent q of the lowest set bit (x = odd * 2^q); NOQ for 0
    (non-finite entries get -NOQ, which no certificate accepts)."""
    finite = torch.isfinite(x)
    xs = torch.where(finite, x, torch.zeros_like(x)) if not bool(finite.all()) else x
    mant, exp = torch.frexp(xs)
    ints = (mant * 2.0 ** 53).to(torch.int64).abs()
    low = (ints & (-ints)).to(F64)
    tz = torch.frexp(low)[1]  # low = 2^(tz - 1)
    q = (exp + tz).to(torch.int64) - 54
    q = torch.where(xs == 0, torch.full_like(q, NOQ), q)
    return q if xs is x else torch.where(finite, q, torch.full_like(q, -NOQ))


def quantum_of(v: float) -> int:
    """:func:`quantum` of one finite float, in plain Python (a constant of the IR: called
    once per coefficient when a network is compiled, where a tensor per call cost 9 s for
    a VGG-11/8)."""
    if v == 0:
        return NOQ
    m, e = math.frexp(v)
    n = int(abs(m) * 2.0 ** 53)
    return e + (n & -n).bit_length() - 54


def all_finite(t: torch.Tensor) -> bool:
    """Whether every entry of t is finite: a finite sum has finite terms (NaNs and
    infinities propagate through it); only a sum that overflows needs the entrywise test."""
    if not t.is_floating_point():
        return True
    wide = t.dtype in (torch.float32, F64)  # else a float64 sum: fewer overflows
    if bool(torch.isfinite(t.sum() if wide else t.sum(dtype=F64))):
        return True
    return bool(torch.isfinite(t).all())


def norm_up(x: torch.Tensor, dim: int) -> torch.Tensor:
    """An upper bound on the 2-norm of |x| along dim (fact 5)."""
    m = x.shape[dim] if x.dim() else 1
    if m == 0:
        return torch.zeros(x.sum(dim).shape, dtype=F64)
    n = torch.sqrt((x * x).sum(dim))
    return n * INFLATE + math.sqrt(m) * 2.0 ** -536


def some_at_most(a: torch.Tensor, b: torch.Tensor | float) -> bool:
    """Whether a_i <= b_i for some i (broadcast), read off min(a - b) <= 0: one float
    reduction instead of a boolean tensor (torch's comparisons cost 8x a subtraction).
    In IEEE arithmetic a - b is 0 only where a = b, and its sign is that of the exact
    difference; with denormals flushed a tiny difference may read 0 (a True, never a
    False, too many); a NaN minimum (NaN entries, inf - inf) falls back to the
    comparison."""
    if a.numel() == 0:
        return False
    low = float((a if isinstance(b, float) and b == 0 else a - b).amin())  # a - 0 = a
    if low <= 0:
        return True
    if low > 0:
        return False
    return bool((a <= b).any())


def fits(bound: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """bound < 2^(53 + q) and q >= -1074 (fact 4), elementwise."""
    e = torch.frexp(bound)[1].to(torch.int64)  # bound < 2^e, and >= 2^(e-1) if > 0
    return (q >= -1074) & ((e <= 53 + q) | (bound == 0)) & torch.isfinite(bound)


def representable(c: float, exact: object) -> bool:
    """Whether the float c equals the exact rational it was rounded from."""
    from fractions import Fraction

    return math.isfinite(c) and Fraction(c) == exact
