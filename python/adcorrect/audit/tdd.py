"""A second float64 limb for the tensor-level filter (issue 16, deep residual networks):
double-double values with a radius, for the pass that runs only where float64 radii
leave copies undecided.

Why: float64 radii grow by about the square root of the fan-in at every convolution
(``|W| R`` adds up what ``W x`` cancels), so after the 17 convolutions of a ResNet-18 a
rounding error of 1e-16 has become larger than the values.  Carrying each value as an
unevaluated sum ``H + L`` of two float64 tensors starts the radii below 2^-80 of the
values instead (of ``sum |w x|``: tested with weights over twelve decades and fan-in
700), so the same growth leaves them far below the values.

A ``DD`` holds ``H``, ``L`` and ``R``: the exact value lies in ``[H + L - R, H + L + R]``,
and ``(H, L)`` is normalised (``H = fl(H + L)``), so comparing pairs lexicographically
compares their sums.  Facts used besides those of :mod:`.certified` (round to nearest,
no overflow, no underflow below ``2^-960`` in a product; entries where these can fail
get an infinite radius):

A. *TwoSum* (Knuth): ``s = fl(a + b)``, ``e = (a - (s - b')) + (b - b')`` with
   ``b' = s - a``: ``s + e = a + b`` exactly.
B. *TwoProduct* (Dekker, Veltkamp's split by ``2^27 + 1``): ``p + e = a b`` exactly.
C. *Exact products on a grid* (Ozaki's splitting): ``fl(fl(x + s) - s)`` with
   ``s = 1.5 * 2^(q + 52)`` rounds ``x`` (``|x| < 2^(q + 51)``) to a multiple of ``2^q``,
   and the remainder ``x - that`` is a float.  If every entry of ``A`` is an integer
   multiple of ``2^a`` of magnitude at most ``2^ka``, every entry of ``B`` one of ``2^b``
   at most ``2^kb``, and ``m 2^(ka + kb) <= 2^52`` (``a + b >= -1074``), then every
   product and partial sum of a length-``m`` dot product is a multiple of ``2^(a + b)``
   below ``2^53`` of them: a float64 matrix product or convolution of ``A`` and ``B``
   (any order, with or without FMA) is exact.  The input is split per example (one
   ``2^a`` for all its entries), the weights per output channel.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .certified import ETA, F64, FLOOR, INFLATE, U, all_finite, gamma, normal_up

SPLITTER = 134217729.0  # 2^27 + 1
TINY = 2.0 ** -960  # below this, a product's error term may underflow
HUGE = 2.0 ** 995  # above this, the split may overflow


@dataclass
class DD:
    """A double-double tensor with a radius (see the module docstring)."""

    H: torch.Tensor
    L: torch.Tensor
    R: torch.Tensor

    def map(self, f: Callable[[torch.Tensor], torch.Tensor]) -> DD:
        return DD(f(self.H), f(self.L), f(self.R))


def pin(d: DD, v: torch.Tensor, exact: torch.Tensor) -> DD:
    """d with the entries where ``exact`` holds set to the float64 values v, exactly (an
    exact float64 value is exact in the limb too)."""
    if not bool(exact.any()):
        return d
    z = torch.zeros_like(v)
    return DD(torch.where(exact, v, d.H), torch.where(exact, z, d.L),
              torch.where(exact, z, d.R))


def exact(v: torch.Tensor) -> DD:
    """An exactly known float64 tensor."""
    z = torch.zeros_like(v)
    return DD(v, z, z.clone())


def two_sum(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    t = SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


def two_prod(a: torch.Tensor, b: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """p + e = a b exactly where ``ok`` (no overflow in the split, no underflow; None:
    everywhere)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    ap, aa, ba = p.abs(), a.abs(), b.abs()
    if _in_range(ap, torch.minimum(aa, ba), aa, ba):
        return p, e, None
    return p, e, ((ap >= TINY) | (a == 0) | (b == 0)) & (aa < HUGE) & (ba < HUGE) & (ap < HUGE)


def _in_range(ap: torch.Tensor, z: torch.Tensor, *others: torch.Tensor) -> bool:
    """Every product magnitude ``ap`` at least TINY or with a zero factor (``z`` = 0), and
    ``ap`` and ``others`` below HUGE: TwoProduct's range, read off float reductions
    (NaNs fail the comparisons: the caller then tests entry by entry)."""
    if ap.numel() == 0:
        return True
    return all(float(t.amax()) < HUGE for t in (ap, *others)) and \
        float(torch.minimum((TINY - ap).clamp_min(0.0), z).amax()) == 0


def _up(r: torch.Tensor) -> torch.Tensor:
    """A computed sum of a few non-negative terms, rounded up (fact 6)."""
    return r * INFLATE + FLOOR


def finish(h: torch.Tensor, l_terms: list[torch.Tensor], R: torch.Tensor,
            ok: torch.Tensor | None = None) -> DD:
    """``h + sum(l_terms)`` (the terms small) normalised, with the summation's error."""
    lo = l_terms[0]
    mag = l_terms[0].abs()
    for t in l_terms[1:]:
        lo = lo + t
        mag = mag + t.abs()
    H, L = two_sum(h, lo)
    R = _up(R + gamma(len(l_terms) + 1) * mag)
    if ok is None and all_finite(H) and all_finite(L) and all_finite(R):
        return DD(H, L, R)  # (finite sums: every term finite)
    bad = ~torch.isfinite(H) | ~torch.isfinite(L) | ~torch.isfinite(R)
    if ok is not None:
        bad = bad | ~ok
    if bool(bad.any()):
        R = torch.where(bad, torch.full_like(R, math.inf), R)
        H = torch.where(torch.isfinite(H), H, torch.zeros_like(H))
        L = torch.where(bad, torch.zeros_like(L), L)
    return DD(H, L, R)


def _grid(x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """x rounded to a multiple of 2^q (q broadcastable; |x| < 2^(q + 51)), fact C."""
    s = torch.ldexp(torch.full_like(q, 1.5, dtype=F64), q + 52)
    return (x + s) - s


def _exponent(t: torch.Tensor, dims: int) -> torch.Tensor:
    """Per leading index (of ``dims`` leading axes): e with max |t| < 2^e (0 for zeros)."""
    a = t.abs().reshape(*t.shape[:dims], -1).amax(-1)
    return torch.frexp(a)[1].to(torch.int64)


@dataclass(frozen=True)
class ByRows:
    """An op ``(a, w, b) -> out`` whose output channel o (axis 1) reads only row o of w
    (a dense layer, a convolution with one group): it can run on a subset of rows."""

    fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]

    def __call__(self, a: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None
                 ) -> torch.Tensor:
        return self.fn(a, w, b)


def _on_rows(op: Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor],
             a: torch.Tensor, w: torch.Tensor, rows: torch.Tensor, like: torch.Tensor
             ) -> torch.Tensor:
    """``op(a, w, None)`` where only the rows ``rows`` (bool, per output channel) of w
    have non-zero entries: computed on those rows alone when op allows it and they are
    few (the others are sums of zero products: 0)."""
    O = w.shape[0]
    if not isinstance(op, ByRows) or 2 * int(rows.sum()) > O:
        return op(a, w, None)
    idx = rows.nonzero().flatten()
    return torch.zeros_like(like).index_copy_(1, idx, op(a, w[idx], None))


@dataclass
class Split:
    """Weights split for fact C: ``wd = W1 + W2 + W3`` exactly (float64), W1 and W2 on
    the grids ``2^(ew - kw)`` and ``2^(ew - 2 kw)`` of their row (``ew``: the row's
    exponent), W3 non-zero only on the rows ``rows`` (weights far below their row's
    largest; None where there are none)."""

    ew: torch.Tensor
    W1: torch.Tensor
    W2: torch.Tensor
    W3: torch.Tensor | None
    rows: torch.Tensor


@dataclass
class Weights:
    """A weight tensor in float64 (``wd``), its magnitudes ``wa``, its largest row norm
    ``wnorm`` and its splits by ``kw`` (:meth:`split`); ``source``: the weights read."""

    source: torch.Tensor
    wd: torch.Tensor
    wa: torch.Tensor
    wnorm: float
    splits: dict[int, Split]

    def split(self, kw: int) -> Split:
        if kw not in self.splits:
            wd = self.wd
            O = wd.shape[0]
            ew = _exponent(wd, 1)
            qw = (ew - kw).reshape((O,) + (1,) * (wd.dim() - 1))
            W1 = _grid(wd, qw)
            w1 = wd - W1
            W2 = _grid(w1, qw - kw)
            W3 = w1 - W2
            rows = (W3 != 0).reshape(O, -1).any(1)  # (a few tiny weights, if any)
            self.splits[kw] = Split(ew, W1, W2, W3 if bool(rows.any()) else None, rows)
        return self.splits[kw]


#: The last reading of each live weight tensor (by identity), reused while the weights
#: are equal to it: one comparison instead of a dozen operations on every weight
#: (repeated audits of one model).  Entries leave with their tensor.
_READ: dict[int, tuple[weakref.ref[torch.Tensor], Weights]] = {}


def weights(w: torch.Tensor) -> Weights:
    """w read (see :class:`Weights`), or its last reading if w is entry for entry what
    that one read."""
    owner, w = w, w.detach()  # (the caller's tensor: a module's parameter)
    ref, last = _READ.get(id(owner), (None, None))
    if last is not None and ref is not None and ref() is owner and \
            last.source.dtype == w.dtype and last.source.shape == w.shape and \
            torch.equal(last.source, w):
        return last
    wd = w.to(F64)
    wa = wd.abs()
    wnorm = float(wa.reshape(wa.shape[0], -1).norm(dim=1).max()) if wa.numel() else 0.0
    read = Weights(w.clone(), wd, wa, wnorm, {})
    key = id(owner)
    _READ[key] = (weakref.ref(owner, lambda _: _READ.pop(key, None)), read)
    return read


def affine(x: DD, w: torch.Tensor, b: torch.Tensor | None,
           op: Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor],
           m: int) -> DD | None:
    """``op(x, w) + b`` (a convolution or matrix product; w, b exact floats) on a
    double-double input, the products exact by fact C (None: the grids would underflow)."""
    bd = None if b is None else b.detach().to(F64)
    H, L, R = x.H, x.L, x.R
    B = H.shape[0]
    bits = 52 - max(1, math.ceil(math.log2(max(m, 2))))
    kx, kw = (bits + 1) // 2, bits // 2
    ex = _exponent(H, 1)
    lw = weights(w)
    sp = lw.split(kw)
    wd, ew = lw.wd, sp.ew
    if int(ex.max()) > 900 or int(ew.max()) > 900 or \
            int(ex.min()) + int(ew.min()) - 2 * bits < -1070:
        return None
    qx = (ex - kx).reshape((B,) + (1,) * (H.dim() - 1))
    X1 = _grid(H, qx)
    r1 = H - X1
    X2 = _grid(r1, qx - kx)
    r2 = r1 - X2
    rho = r2 + L  # rounding <= u |rho|, in P below
    W1, W2 = sp.W1, sp.W2
    S1, S2a, S2b, S3 = op(X1, W1, None), op(X1, W2, None), op(X2, W1, None), op(X2, W2, None)
    terms = [op(rho, wd, None)]
    g = gamma(m + 1)
    P = op(R + (g + U) * rho.abs(), lw.wa, None)
    R1 = (P + normal_up(m * ETA)) * (1 + 2 * gamma(m + 3)) + \
        normal_up(math.sqrt(m) * lw.wnorm * ETA + m * ETA)
    if sp.W3 is not None:
        XS = X1 + X2
        terms.append(_on_rows(op, XS, sp.W3, sp.rows, S1))
        R1 = R1 + (_on_rows(op, XS.abs(), sp.W3.abs(), sp.rows, S1) * g
                   + normal_up(m * ETA)) * INFLATE
    h, e1 = two_sum(S1, S2a)
    h, e2 = two_sum(h, S2b)
    lt = [e1, e2, S3, *terms]
    if bd is not None:
        h, e3 = two_sum(h, bd.reshape((1, -1) + (1,) * (h.dim() - 2)).expand_as(h))
        lt.append(e3)
    return finish(h, lt, R1)


def scale(x: DD, c: torch.Tensor) -> DD:
    """``c x`` with c exact floats (broadcastable; c's own splits, then broadcast)."""
    if torch.broadcast_shapes(c.shape, x.H.shape) != x.H.shape:
        c = c.expand_as(x.H)  # (an error where c does not broadcast to x)
    p, e, ok = two_prod(c, x.H)
    cl = c * x.L
    return finish(p, [e, cl], c.abs() * x.R + U * cl.abs(), ok)


def add(a: DD, b: DD, sub: bool = False) -> DD:
    """a + b (or a - b)."""
    bh, bl = (-b.H, -b.L) if sub else (b.H, b.L)
    s, e = two_sum(a.H, bh)
    return finish(s, [e, a.L, bl], a.R + b.R)


def shift(x: DD, c: torch.Tensor) -> DD:
    """``x + c`` with c exact floats (broadcastable)."""
    s, e = two_sum(x.H, c.expand_as(x.H))
    return finish(s, [e, x.L], x.R)


def bn_fold(r: torch.Tensor, mean: torch.Tensor, g: torch.Tensor, beta: torch.Tensor
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """Eval BatchNorm's ``g (r x - r mean) + beta`` (per channel, exact float constants)
    as ``A x + b``: ``A = g r`` where that product is a float (g and r in float32 or
    narrower: 48 bits), non-zero and finite; ``b = beta - A mean`` (the same real
    number) as a double-double ``bh + bl`` within ``rb``.  None where A is not such a
    float or a product leaves TwoProduct's range."""
    A, e, ok = two_prod(g, r)
    if (ok is not None and not bool(ok.all())) or bool((e != 0).any()) or \
            bool((A == 0).any()) or not all_finite(A):
        return None
    pm, em, ok = two_prod(A, mean)  # pm + em = A mean
    if ok is not None and not bool(ok.all()):
        return None
    s, se = two_sum(beta, -pm)  # s + se = beta - pm
    lo = se - em  # rounding <= u |lo|
    bh, bl = two_sum(s, lo)
    rb = _up(U * lo.abs())
    if not (all_finite(bh) and all_finite(bl) and all_finite(rb)):
        return None
    return A, bh, bl, rb


def folded(x: DD, fold: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
           ) -> DD:
    """``A x + b`` per channel (axis 1) for a fold ``(A, bh, bl, rb)`` of
    :func:`bn_fold`."""
    shp = (1, -1) + (1,) * (x.H.dim() - 2)
    A, bh, bl, rb = (t.reshape(shp) for t in fold)
    p, e, ok = two_prod(A, x.H)  # p + e = A H
    cl = A * x.L  # rounding <= u |cl|
    s, se = two_sum(p, bh.expand_as(p))  # s + se = p + bh
    return finish(s, [se, e, cl, bl], A.abs() * x.R + (U * cl.abs() + rb), ok)


def batch_norm(x: DD, r: torch.Tensor, mean: torch.Tensor, g: torch.Tensor,
               beta: torch.Tensor) -> DD:
    """``g (r x - r mean) + beta`` per channel (axis 1), every constant an exact float:
    as one product and one shift where :func:`bn_fold` applies."""
    shp = (1, -1) + (1,) * (x.H.dim() - 2)
    fold = bn_fold(r, mean, g, beta)
    if fold is not None:
        return folded(x, fold)
    rr, mm = r.reshape(shp), mean.reshape(shp)
    rm, rme, ok = two_prod(rr, mm)  # per channel (broadcast in the subtraction)
    t = _sub_exact(scale(x, rr), rm, rme, ok)
    return shift(scale(t, g.reshape(shp)), beta.reshape(shp))


def _sub_exact(t: DD, p: torch.Tensor, e: torch.Tensor, ok: torch.Tensor) -> DD:
    """t - (p + e), p + e exact."""
    s, se = two_sum(t.H, -p)
    return finish(s, [se, t.L, -e], t.R, ok)


def normalised_sign(x: DD, c: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Certainly above c, certainly below c, exactly c (every entry)."""
    s, e = two_sum(x.H, torch.full_like(x.H, -c))
    t = e + x.L  # the exact x - c is s + t within u |t| + R
    slack = _slack(t, x.R)
    on = (x.R == 0) & (s == 0) & (t == 0)
    return s > slack, s < -slack, on


def _slack(t: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
    """How far s may be from the exact ``s + t`` within R (rounded up): s beyond it on
    either side has the sign of the exact value."""
    return t.abs().mul_(1 + 4 * U).add_(R).mul_(INFLATE).add_(FLOOR)


def relu(x: DD) -> tuple[DD, torch.Tensor, torch.Tensor]:
    """relu where :func:`normalised_sign` at 0 decides: x itself where x is certainly
    positive (``above``), an exact 0 where certainly negative (``below``); the entries
    in neither are left for the caller (values ``max(H, 0)``, limb and radius 0)."""
    slack = _slack(x.L, x.R)  # (normalised_sign at 0: s = H, t = L)
    above = x.H > slack
    below = x.H < slack.neg_()
    return DD(x.H.clamp_min(0.0), x.L.masked_fill(~above, 0.0),
              x.R.masked_fill(~above, 0.0)), above, below


def _piece(x: DD, a0: float, a1: float) -> DD:
    """``shift(scale(x, a1), a0)``: for the identity (a1 = 1, a0 = 0) and constants
    (a1 = 0) the values that sequence computes, without its products, where every entry
    is a finite float away from the products' limits (else the sequence itself)."""
    if (a1 == 1 and a0 == 0 or a1 == 0) and _plain(x, a1 == 1):
        if a1 == 0:
            H = torch.full_like(x.H, a0)
            return DD(H, torch.zeros_like(H), torch.full_like(H, _up_const(FLOOR)))
        g = gamma(3)
        aL = x.L.abs()
        H1, L1 = two_sum(x.H, x.L + 0.0)  # e = 0 exactly: TwoProduct by 1 of a plain H
        R1 = _up((x.R + U * aL) + g * aL)
        H2, L2 = two_sum(H1 + 0.0, L1 + 0.0)  # shift by 0: TwoSum's error term is 0
        R2 = _up(R1 + g * L1.abs())
        if all_finite(H2) and all_finite(L2) and all_finite(R2):
            return DD(H2, L2, R2)
    return shift(scale(x, torch.tensor(a1, dtype=F64)), torch.tensor(a0, dtype=F64))


def _up_const(r: float) -> float:
    """:func:`_up` of a constant, as the tensors compute it."""
    return float(_up(torch.tensor(r, dtype=F64)))


def _plain(x: DD, unit: bool) -> bool:
    """Every entry of x finite, |H| below HUGE and (for a product by 1, ``unit``) H zero
    or at least TINY: TwoProduct by 0 or 1 is then exact with error term 0."""
    if not (all_finite(x.H) and all_finite(x.L) and all_finite(x.R)):
        return False
    aH = x.H.abs()  # the product by 1 is |H| itself, by 0 has a zero factor
    return _in_range(aH, aH if unit else torch.zeros_like(aH))


def piecewise_linear(x: DD, bps: list[float], pieces: list[tuple[float, float]]
                     ) -> tuple[DD, torch.Tensor, torch.Tensor]:
    """A continuous piecewise-linear activation with exact float breakpoints and
    coefficients ``(a0, a1)`` per piece: output, piece index (valid where ``known``), and
    ``known`` (the piece is certain, or the input is exactly a breakpoint)."""
    idx = torch.zeros(x.H.shape, dtype=torch.int64)
    known = torch.ones(x.H.shape, dtype=torch.bool)
    for c in bps:
        above, below, on = normalised_sign(x, c)
        idx += above.to(torch.int64)
        known &= above | below | on
    H = torch.zeros_like(x.H)
    L = torch.zeros_like(x.H)
    R = torch.zeros_like(x.H)
    lip = max(abs(a1) for _, a1 in pieces)
    for p, (a0, a1) in enumerate(pieces):
        mask = idx == p
        if not bool(mask.any()):
            continue
        y = _piece(x, a0, a1)
        H, L, R = (torch.where(mask, a, b) for a, b in ((y.H, H), (y.L, L), (y.R, R)))
    # unknown pieces: the value of the piece at the point estimate, plus lip * the
    # radius (the activation is continuous and lip-Lipschitz); its own error stays
    R = torch.where(known, R, _up(R + lip * x.R))
    return DD(H, L, R), idx, known


def global_mean(x: DD) -> DD:
    """The mean over every axis after the first two (an adaptive average pool to 1)."""
    B, C = x.H.shape[:2]
    H = x.H.reshape(B, C, -1)
    L = x.L.reshape(B, C, -1)
    n = H.shape[2]
    if n == 1:
        return x.map(lambda t: t.reshape(B, C, *([1] * (x.H.dim() - 2))))
    k = 52 - math.ceil(math.log2(n))
    e = _exponent(H, 2).unsqueeze(2)
    X1 = _grid(H, e - k)
    S1 = X1.sum(2)  # exact (fact C with a unit second factor)
    rest = (H - X1) + L
    S2 = rest.sum(2)
    err = gamma(n + 1) * rest.abs().sum(2) + U * ((H - X1) + L).abs().sum(2)
    nn = torch.full_like(S1, float(n))
    h = S1 / nn
    p, pe, ok = two_prod(h, nn)
    rem = (S1 - p) - pe  # exact: S1 - p is within an ulp of S1 (Sterbenz)
    lo = (rem + S2) / nn
    Rm = x.R.reshape(B, C, -1).sum(2) * (1 + gamma(n + 2)) / n
    out = finish(h, [lo], _up(Rm + err / n + 2 * U * lo.abs()), ok)
    return out.map(lambda t: t.reshape(B, C, *([1] * (x.H.dim() - 2))))
