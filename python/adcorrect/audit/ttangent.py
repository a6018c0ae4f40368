"""One-sided directional derivatives on the tensor filter (issue 16: copies exactly on a
kink or a max-pool tie, decided without the IR): a certificate that the loss is *not*
differentiable at w.

For a direction ``d`` of the trainable parameters, the one-sided derivative
``L'(w; d) = lim_{t -> 0+} (L(w + t d) - L(w)) / t`` follows the forward pass with
tangents (Hadamard directional derivatives compose): affine layers are bilinear, a smooth
piece multiplies by its derivative, a copy exactly on a kink takes the slope of the side
its tangent points to (0 where the tangent is 0), a max of tied entries takes the largest
of their tangents, and a locally constant entry has tangent 0.  A loss differentiable at
w has ``L'(w; d) = -L'(w; -d)``; so a certified ``L'(w; d) + L'(w; -d) != 0`` proves it is
not (THEORY.md 8.3; the converse fails, so no certificate leaves the question to the
exact audit).

Tangents are float64 enclosures ``(v, r)``: the exact tangent lies in ``[v - r, v + r]``,
with the error facts of :mod:`.certified` (every tangent is a sum of products of exact
floats, the primal enclosures and the tangents of the sources).  A tangent whose sign
decides a kink but whose enclosure contains 0, or a window whose maximum the radii leave
open, stops the certificate (:class:`NoCertificate`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import torch

from .certified import F64, INFLATE, NOQ, U, all_finite, gamma
from .floatact import ActTable, derivative, float_const, is_relu

Tan = tuple[torch.Tensor, torch.Tensor]
TINY = 2.0 ** -1000  # absolute slack per operation: covers underflow


class NoCertificate(Exception):
    """The tangent pass cannot decide a sign it needs."""


def zero(like: torch.Tensor) -> Tan:
    z = torch.zeros_like(like)
    return z, z.clone()


def _clean(v: torch.Tensor, r: torch.Tensor) -> Tan:
    if not (all_finite(v) and all_finite(r)):
        raise NoCertificate("an infinite tangent")
    return v, r


def add(a: Tan, b: Tan, sub: bool = False) -> Tan:
    v = a[0] - b[0] if sub else a[0] + b[0]
    return _clean(v, (a[1] + b[1] + U * v.abs()) * INFLATE + TINY)


def scale(a: Tan, c: torch.Tensor | float) -> Tan:
    """c a with c exact floats (broadcastable)."""
    v = a[0] * c
    ca = c.abs() if isinstance(c, torch.Tensor) else abs(c)
    return _clean(v, (ca * a[1] + U * v.abs()) * INFLATE + TINY)


def times_enclosure(a: Tan, cv: torch.Tensor, cr: torch.Tensor) -> Tan:
    """a c with c in [cv - cr, cv + cr]."""
    v = a[0] * cv
    r = cv.abs() * a[1] + U * v.abs()
    if not isinstance(cr, torch.Tensor) or bool(cr.any()):  # exact factors: no term
        r = r + cr * (a[0].abs() + a[1])
    return _clean(v, r * INFLATE + TINY)


Op = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]


def along_direction(xV: torch.Tensor, xR: torch.Tensor, wdir: torch.Tensor | None,
                    m: int, op: Op) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The part of :func:`affine`'s tangent that the incoming tangent does not enter:
    ``op(x, w')`` and its bound term ``op(|r| + g |x|, |w'|)``.  Along ``-d`` the first
    is exactly the negation (round to nearest is symmetric: the negated computation is a
    computation of the negated sum) and the second is the same."""
    if wdir is None:
        return None
    g = gamma(2 * m + 3)
    return op(xV, wdir, None), op(xR + g * xV.abs(), wdir.abs(), None)


def affine(xV: torch.Tensor, xR: torch.Tensor, xt: Tan, w: torch.Tensor,
           wdir: torch.Tensor | None, bdir: torch.Tensor | None, op: Op, m: int,
           along: tuple[torch.Tensor, torch.Tensor] | None = None) -> Tan:
    """The tangent of ``op(x, w) + b``: ``op(x', w) + op(x, w') + b'`` (x in
    ``[xV - xR, xV + xR]``, w exact, w' and b' the direction's exact entries; ``along``:
    :func:`along_direction`'s terms, computed here if None)."""
    wd = w.detach().to(F64)
    g = gamma(2 * m + 3)
    v = op(xt[0], wd, None)
    P = op(xt[1] + g * xt[0].abs(), wd.abs(), None)
    if along is None:
        along = along_direction(xV, xR, wdir, m, op)
    if along is not None:
        v = v + along[0]
        P = P + along[1]
    if bdir is not None:
        shp = (1, -1) + (1,) * (v.dim() - 2)
        v = v + bdir.reshape(shp)
        P = P + g * bdir.abs().reshape(shp)
    r = (P * (1 + 2 * gamma(m + 4)) + U * v.abs()) * INFLATE + (m + 8) * TINY
    return _clean(v, r)


def affine_along(shared: dict[Any, Any] | None, key: Any, sign: int, xV: torch.Tensor,
                 xR: torch.Tensor, xt: Tan, w: torch.Tensor, wdir: torch.Tensor | None,
                 bdir: torch.Tensor | None, op: Op, m: int) -> Tan:
    """:func:`affine` in the pass along ``sign`` d, its terms along the direction alone
    read from ``shared`` (the other pass's, negated if its sign differs) or computed and
    put there under ``key``."""
    along = None
    if shared is not None and wdir is not None:
        if key not in shared:
            shared[key] = (sign, along_direction(xV, xR, wdir, m, op))
        first, got = shared[key]
        along = got if first == sign else (-got[0], got[1])
    return affine(xV, xR, xt, w, wdir, bdir, op, m, along)


def slopes(shared: dict[Any, Any] | None, key: Any, tab: ActTable, V: torch.Tensor,
           R: torch.Tensor) -> Tan:
    """The derivative of sigma's piece at every copy whose piece is certain, as an
    enclosure (what :func:`activation` multiplies the tangent by): it depends on the
    primal values only, so the passes along d and -d read it from ``shared`` under
    ``key``, the first one computing it (as :func:`affine_along`'s terms)."""
    if shared is not None and key in shared:
        return shared[key]  # type: ignore[no-any-return]
    Q = torch.full(V.shape, -NOQ, dtype=torch.int64)
    # no copy is passed as a kink: derivative() never reads the choice
    D, RD, _ = derivative(tab, V, R, Q, torch.zeros(V.shape, dtype=torch.bool),
                          cast(Any, None))
    if shared is not None:
        shared[key] = (D, RD)
    return D, RD


def activation(tab: ActTable, V: torch.Tensor, R: torch.Tensor, kink: torch.Tensor,
               const: torch.Tensor, xt: Tan, d: Callable[[], Tan]) -> Tan:
    """The tangent of sigma: the piece's derivative ``d()`` (:func:`slopes`), at a kink
    the slope of the side the tangent points to; 0 where the input is locally constant."""
    if is_relu(tab):
        return _relu(V, kink, const, xt)
    D, RD = d()
    out = times_enclosure(xt, D, RD)
    live = kink & ~const
    if bool(live.any()):
        tv, tr = xt
        up, down = tv > tr, tv < -tr
        flat = (tv == 0) & (tr == 0)
        if not bool((up | down | flat)[live].all()):
            raise NoCertificate("a kinked copy's tangent has no certain sign")
        ov, orr = out
        for b in tab.kink_idx:  # a kinked copy's input is exactly its breakpoint
            c = tab.act.breakpoints[b]
            at_c = live & (V == tab.bps[b][0])
            for side, slope in ((up, tab.act.slope_right(c)), (down, tab.act.slope_left(c))):
                at = at_c & side
                if not bool(at.any()):
                    continue
                sv, se, _ = float_const(slope)
                v = tv * sv
                ov = torch.where(at, v, ov)
                orr = torch.where(at, (abs(sv) * tr + se * (tv.abs() + tr) + U * v.abs())
                                  * INFLATE + TINY, orr)
        zero = live & flat
        ov, orr = ov.masked_fill(zero, 0.0), orr.masked_fill(zero, 0.0)
        out = (ov, orr)
    return _constant(out, const)


def _relu(V: torch.Tensor, kink: torch.Tensor, const: torch.Tensor, xt: Tan) -> Tan:
    """relu's tangent: the incoming one (slope 1: exact) where the input is positive or
    on the kink with a certainly positive tangent, 0 elsewhere (negative inputs, the
    kink's left side or a zero tangent, locally constant copies)."""
    tv, tr = xt
    keep = V > 0
    live = kink & ~const
    if bool(live.any()):
        up, down = tv > tr, tv < -tr
        flat = (tv == 0) & (tr == 0)
        if not bool((up | down | flat)[live].all()):
            raise NoCertificate("a kinked copy's tangent has no certain sign")
        keep = keep | (live & up)
    k = (keep & ~const).to(tv.dtype)  # (tangents are finite: products by 1 and 0 exact)
    return tv * k, tr * k


def _constant(t: Tan, const: torch.Tensor) -> Tan:
    """Locally constant entries have tangent exactly 0."""
    if not bool(const.any()):
        return t
    return t[0].masked_fill(const, 0.0), t[1].masked_fill(const, 0.0)


def max_windows(wt: torch.Tensor, wr: torch.Tensor, cand: torch.Tensor) -> Tan:
    """Per window (axis 2): the tangent of the maximum, the largest tangent among the
    candidates (entries that can be the maximum; exactly tied where several)."""
    neg = torch.full_like(wt, -math.inf)
    lo = torch.where(cand, wt - wr, neg).amax(2)
    hi = torch.where(cand, wt + wr, neg).amax(2)
    v = (lo + hi) / 2
    r = ((hi - lo) / 2 + U * (lo.abs() + hi.abs())) * INFLATE + TINY
    return _clean(v, r)


def avg(t: Tan, pool: Callable[[torch.Tensor], torch.Tensor], kmax: int) -> Tan:
    v = pool(t[0])
    r = (pool(t[1]) + gamma(kmax + 3) * pool(t[0].abs())) * (1 + 2 * gamma(kmax + 3))
    return _clean(v, r * INFLATE + (kmax + 8) * TINY)


def derivative_at(V: torch.Tensor, R: torch.Tensor, loss: str, y: torch.Tensor
                  ) -> Tan:
    """dL/dout (B, n_out) as an enclosure: ``sum``: y_i; ``mse``: 2 (z - t) / (B n);
    ``ce``: (softmax - onehot) / B (libm's exp within 2^-40 relative, as the IR's
    seeds)."""
    B, n = V.shape
    if loss == "sum":
        g = y.detach().to(F64).reshape(B, 1).expand(B, n).clone()
        return g, torch.zeros_like(g)
    if loss == "mse":
        t = y.detach().to(F64).reshape(B, n)
        s = 2.0 / (B * n)
        diff = V - t
        g = diff * s
        r = ((R + 2 * U * (V.abs() + t.abs())) * s + 4 * U * g.abs()) * INFLATE + TINY
        return g, r
    mx = V.amax(1, keepdim=True)
    e = torch.exp(V - mx)
    sm = e / e.sum(1, keepdim=True)
    onehot = torch.zeros_like(sm)
    onehot[torch.arange(B), y.to(torch.int64)] = 1.0
    g = (sm - onehot) / B
    r = ((0.5 * R.amax(1, keepdim=True) + 2.0 ** -36) / B) * INFLATE
    return g, r.expand_as(g).clone()


def one_sided(out_t: Tan, dl: Tan) -> Tan:
    """``L'(w; d) = sum dL/dout * out'`` as an enclosure."""
    g, rg = dl
    tv, tr = out_t
    prod = g * tv
    v = prod.sum()
    n = prod.numel()
    r = (g.abs() * tr + rg * (tv.abs() + tr)).sum() * (1 + 2 * gamma(n + 2)) + \
        gamma(n + 2) * prod.abs().sum()
    return _clean(v.reshape(1), (r * INFLATE + (n + 8) * TINY).reshape(1))
