"""BatchNorm in the tensor filter (THEORY.md 8.3): eval mode by its folded constants
(:func:`batch_norm_call`), and batch statistics (training mode, or no running
statistics) on certified tensors, ``y = gamma (x - mean) / sqrt(var + eps) + beta`` per
channel (axis 1) over the batch and the spatial axes, with the biased variance and real
arithmetic (the whole-batch import's semantics,
:func:`adcorrect.torchfx.smooth.batch_norm_train`).

The radius of an output bounds two errors (per channel, ``N`` entries, float values
``v`` with radii ``r`` around the exact inputs ``s``; ``u = 2^-53``):

1. *Propagation*, ``|y_i(s) - y_i(v)|``.  By the mean value theorem along the segment
   from ``v`` to ``s`` (every point ``xi`` of it in the box ``|xi - v| <= r``),
   ``y_i(s) - y_i(v) = grad y_i(xi) . (s - v)`` with
   ``d y_i / d x_j = (gamma / sigma) (delta_ij - 1/N - n_i n_j / N)``, ``n`` the
   normalised values at ``xi`` and ``sigma = sqrt(var(xi) + eps)``.  Since
   ``sum_j n_j^2 = N var / (var + eps) <= N``, Cauchy-Schwarz gives
   ``|sum_j n_j delta_j| / N <= rms(delta)``, so
   ``|y_i(s) - y_i(v)| <= |gamma| / sigma_lo (r_i + mean(r) + nmax_i rms(r))``, where
   ``sigma_lo <= sigma(xi)`` on the box: ``sqrt(var)`` is the norm of the centred vector
   over ``sqrt(N)`` and centring is a projection, so
   ``sqrt(var(xi)) >= sqrt(var(v)) - rms(r)``; and
   ``nmax_i = min(sqrt(N), (|v_i - mean(v)| + r_i + mean(r)) / sigma_lo)``.  Radii thus
   grow additively, entry by entry, not through the dependency of interval arithmetic.
2. *Rounding* at ``v``: the float mean is within ``gamma_{N+1} mean|v|`` of the exact
   one (any summation order), so each computed deviation ``d_i`` is within
   ``e_i = e_mu + u |d_i|`` of the exact ``v_i - mean(v)``; the exact variance lies
   between the means of ``(|d_i| -+ e_i)^2``, which bounds ``sigma(v)`` in
   ``[s_lo, s_hi]``; the quotient, the scaling by gamma and the shift by beta add
   their roundings.

The tangent of the tangent pass (:mod:`.ttangent`) is
``g (x' - mean(x') - n mean(n x')) / sigma + g' n + beta'``, in interval arithmetic on
the enclosures of ``n`` and ``1 / sigma`` above.

Every bound is computed in float64 and enlarged for its own roundings (generous
factors: the terms are about ``N u`` relative).  Exact outputs: ``gamma = 0`` gives
``beta`` (any finite inputs), and so does a channel of equal exact inputs (deviation 0).

The precise pass (:mod:`.tdd`) carries double-double values, whose radii would restart at
``u`` if batch statistics rounded to float64; :func:`dd_batch_norm_train` keeps them near
``u^2``: the channel sums are TwoSum trees, each deviation and square an exact TwoSum or
TwoProduct plus small terms whose roundings are bounded, ``1 / sqrt(var + eps)`` an Arb
ball per channel (python-flint) split into two floats, and the propagation of the input
radii is fact 1 above with the variance's lower bound from that ball.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .certified import F64, FLOOR, INFLATE, NOQ, U, gamma, quantum, some_at_most
from .kernels import certified_add, certified_scale
from .tbatchnorm import batch_norm, bn_constants
from .tdd import DD, shift, two_prod, two_sum
from .tdd import batch_norm as dd_batch_norm
from .tdd import bn_fold as dd_bn_fold
from .tdd import finish as dd_finish
from .tdd import folded as dd_folded
from .tdd import scale as dd_scale
from .tids import ids_channel, ids_pair
from .tkernels import CT, Unsupported, from_limb, frozen_norm, norm_weights, scale_shift
from .ttangent import Tan, add, times_enclosure
from .ttangent import scale as t_scale

DOWN = 1.0 - 2.0 ** -48  # below the relative roundings of a few operations
UP = 1.0 + 2.0 ** -48


def _per_channel(t: torch.Tensor) -> torch.Tensor:
    """(B, C, ...) -> (C, B * prod(...)): a channel's entries in one row."""
    return t.transpose(0, 1).reshape(t.shape[1], -1)


def _back(t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """The inverse of :func:`_per_channel` for a tensor of the given (B, C, ...) shape."""
    moved = (shape[1], shape[0], *shape[2:])
    return t.reshape(moved).transpose(0, 1)


def tree_sum(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Row sums of v (C, N) with error bounds: ``|sum_j v_j - s| <= err`` per row.  The
    rows are added in pairs, level by level, each addition with its exact error
    (Knuth's TwoSum, exact in every rounding including gradual underflow); the errors
    are summed at the end, so the bound is ``u |s|`` plus ``gamma_N`` of the errors'
    magnitudes (about ``u^2 N log N`` of ``sum |v|``) instead of ``gamma_N sum |v|``."""
    h, lo, err = dd_sum(v)
    total = h + lo
    return total, (U * total.abs() + err) * INFLATE + FLOOR


def _tree(h: torch.Tensor, errs: list[torch.Tensor]
          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The root ``h`` of a TwoSum tree and the float sum of its errors, with a bound on
    that sum's rounding: the exact sum is ``h + lo`` within ``err``."""
    if not errs:
        return h, torch.zeros_like(h), torch.zeros_like(h)
    e = torch.cat(errs, 1)
    return h, e.sum(1), 2.0 * gamma(e.shape[1] + 2) * e.abs().sum(1) * INFLATE + FLOOR


def dd_sum(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Row sums of v (C, N) as double-doubles: the exact sum is ``h + lo`` within
    ``err`` (the TwoSum tree of :func:`tree_sum`, not rounded to one float)."""
    N = v.shape[1]
    width = 1 << max(N - 1, 0).bit_length()
    hi = torch.nn.functional.pad(v, (0, width - N)) if width != N else v
    errs: list[torch.Tensor] = []
    while hi.shape[1] > 1:
        hi, e = two_sum(hi[:, 0::2], hi[:, 1::2])
        errs.append(e)
    return _tree(hi[:, 0], errs)


def normalised(V: torch.Tensor, R: torch.Tensor, eps: float
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The normalised values ``n = (x - mean) / sqrt(var + eps)`` of every channel, in
    the per-channel layout (C, N): float values, radii enclosing the exact ``n(s)`` for
    every ``s`` within ``R`` of ``V``, and per channel an enclosure ``[lo, hi]`` of
    ``1 / sqrt(var(s) + eps)`` (see the module docstring)."""
    v, r = _per_channel(V), _per_channel(R)
    N = v.shape[1]
    # rounding at v: the mean, the deviations d (each within e of the exact one) and the
    # exact sum of squared deviations in [sq_lo, sq_hi]
    S, eS = tree_sum(v)
    mu = (S / N)[:, None]
    e_mu = ((eS / N)[:, None] + 2.0 * U * mu.abs()) * INFLATE + FLOOR
    d = v - mu
    e = e_mu + 2.0 * U * d.abs()
    Q, eQ = tree_sum(d * d)
    slack = 2.0 * (1.0 + 2.0 * gamma(N + 2))
    cross = (d.abs() * e).sum(1) * slack + (e * e).sum(1) * slack
    sq_lo = ((Q - eQ - 2.0 * U * Q.abs() - cross) * DOWN).clamp_min(0.0)
    sq_hi = (Q + eQ + 2.0 * U * Q.abs() + cross) * UP + FLOOR
    var_lo = (sq_lo / N * DOWN)[:, None]
    var_hi = (sq_hi / N * UP)[:, None]
    s = torch.sqrt((Q / N)[:, None].clamp_min(0.0) + eps)
    n = d / s
    s_lo = torch.sqrt(var_lo + eps) * DOWN
    s_hi = torch.sqrt(var_hi + eps) * UP
    delta = torch.maximum((s - s_lo).abs(), (s_hi - s).abs()) * UP
    rnd = (e / s_lo + d.abs() * delta / (s_lo * s) + 2.0 * U * n.abs()) * INFLATE + FLOOR
    # propagation over the box
    rmean = r.mean(1, keepdim=True) * (1.0 + 2.0 * gamma(N + 2)) + FLOOR
    rrms = torch.sqrt((r * r).mean(1, keepdim=True)) * (1.0 + 2.0 * gamma(N + 4)) + FLOOR
    sd_lo = torch.sqrt(var_lo) * DOWN
    sd_box = ((sd_lo - rrms) * DOWN).clamp_min(0.0)
    sig_lo = torch.sqrt(sd_box * sd_box + eps) * DOWN
    sd_hi = (torch.sqrt(var_hi) + rrms) * UP
    sig_hi = torch.sqrt(sd_hi * sd_hi + eps) * UP
    nmax = torch.minimum((d.abs() + e + r + rmean) / sig_lo * UP,
                         torch.tensor(math.sqrt(N) * UP, dtype=F64))
    prop = (r + rmean + nmax * rrms) / sig_lo * INFLATE
    rad = torch.where(r.amax(1, keepdim=True) > 0, prop + rnd, rnd)
    rad = torch.nan_to_num(rad, nan=math.inf)
    return n, rad, (1.0 / sig_hi) * DOWN, (1.0 / sig_lo) * UP


def batch_norm_train(V: torch.Tensor, R: torch.Tensor, weight: torch.Tensor | None,
                     bias: torch.Tensor | None, eps: float
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """BatchNorm with the batch's statistics on values V with radii R (shape (B, C, ...)):
    float64 outputs, radii and quanta (``NOQ``-style: a quantum bound where the radius
    is 0, ``-NOQ`` elsewhere).  ``eps > 0`` or a radius is infinite where the variance
    may vanish."""
    C = V.shape[1]
    g, b = norm_weights(weight, bias, C)
    n, rn, _, _ = normalised(V, R, eps)
    gc, bc = g[:, None], b[:, None]
    y = n * gc + bc
    rad = (gc.abs() * rn + 2.0 * U * ((n * gc).abs() + y.abs())) * INFLATE + FLOOR
    rad = torch.nan_to_num(rad, nan=math.inf)
    v, r = _per_channel(V), _per_channel(R)
    flat = ((r == 0).all(1) & (v == v[:, :1]).all(1)) if v.shape[1] else \
        torch.ones(C, dtype=torch.bool)
    exact = ((g == 0) | flat) & torch.isfinite(r).all(1) & (eps > 0)
    y = torch.where(exact[:, None], bc.expand_as(y), y)
    rad = torch.where(exact[:, None], 0.0, rad)
    q = torch.where(exact, quantum(b), -NOQ)[:, None].expand_as(y)
    return _back(y, V.shape), _back(rad, V.shape), _back(q, V.shape)


def bn_train(x: CT, m: nn.Module, eps: float) -> CT:
    """A BatchNorm module with the batch's statistics on a certified tensor; its outputs
    are locally constant where every input of their channel is and the module has no
    trainable weight or bias."""
    if x.V.numel() // max(x.V.shape[1], 1) < 2:
        raise Unsupported("batch statistics of one value per channel")
    Y, R, Q = batch_norm_train(x.V, x.R, m.weight, m.bias, eps)
    const = _per_channel(x.C).all(1) & frozen_norm(m)
    C = _back(const[:, None].expand(len(const), x.V.numel() // len(const)), x.V.shape)
    return CT(Y, R, Q, C.contiguous())


def _inverse_sd(sq_h: torch.Tensor, sq_l: torch.Tensor, err: torch.Tensor, N: int,
                eps: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per channel, from the sum of squared deviations ``sq_h + sq_l`` within ``err``:
    ``1 / sqrt(var + eps)`` as two floats and a radius (an Arb ball split), and a lower
    bound on the variance."""
    from flint import arb, ctx

    ih, il, ri, vlo = [], [], [], []
    old, ctx.prec = ctx.prec, 200
    try:
        for h, lo, e in zip(sq_h.tolist(), sq_l.tolist(), err.tolist()):
            var = (arb(h) + arb(lo) + arb(0, e)) / N
            lower = float(var.lower())
            a = var + arb(eps)
            if not a > 0:
                raise Unsupported("batch statistics: a variance that may vanish with eps 0")
            inv = 1 / a.sqrt()
            m = inv.mid()
            hi_f = float(m)
            lo_f = float(m - hi_f)
            rest = abs(m - hi_f - lo_f) + inv.rad()
            ih.append(hi_f)
            il.append(lo_f)
            ri.append(float(rest.upper()) * UP)
            vlo.append(max(lower, 0.0) * DOWN)
    finally:
        ctx.prec = old
    return tuple(torch.tensor(t, dtype=F64)[:, None] for t in (ih, il, ri, vlo))  # type: ignore


def dd_batch_norm_train(x: DD, weight: torch.Tensor | None, bias: torch.Tensor | None,
                        eps: float) -> DD:
    """:func:`batch_norm_train` on a double-double tensor (the precise pass): rounding
    errors near ``u^2`` of the values (see the module docstring)."""
    shape = x.H.shape
    C = shape[1]
    h, lo, r = (_per_channel(t) for t in (x.H, x.L, x.R))
    N = h.shape[1]
    # the exact mean of h + lo: mu_h + mu_l within e_mu
    Sh, Sl, eS = dd_sum(h)
    Ls = lo.sum(1)
    S2 = Sl + Ls
    eS = eS + (gamma(N + 1) * lo.abs().sum(1) + U * S2.abs()) * 2.0
    S_h, S_l = two_sum(Sh, S2)
    mu_h = S_h / N
    p, pe, ok = two_prod(mu_h, torch.full_like(mu_h, float(N)))
    t = ((S_h - p) - pe) + S_l
    mu_l = t / N
    e_mu = ((eS + gamma(4) * ((S_h - p).abs() + pe.abs() + S_l.abs() + t.abs())) / N
            + 2.0 * U * mu_l.abs()) * INFLATE + FLOOR
    mu_h, mu_l, e_mu = mu_h[:, None], mu_l[:, None], e_mu[:, None]
    # deviations dH + dL within eps_d of the exact ones
    s, e = two_sum(h, (-mu_h).expand_as(h))
    t2 = (e + lo) - mu_l
    dH, dL = two_sum(s, t2)
    eps_d = (e_mu + gamma(3) * (e.abs() + lo.abs() + mu_l.abs())) * INFLATE + FLOOR
    # the exact sum of squared deviations within its bound
    p2, pe2, ok2 = two_prod(dH, dH)
    small = pe2 + 2.0 * dH * dL + dL * dL
    mag = pe2.abs() + 2.0 * (dH * dL).abs() + dL * dL
    P_h, P_l, eP = dd_sum(p2)
    Ssm = small.sum(1)
    Pl = P_l + Ssm
    dabs = dH.abs() + dL.abs()
    err = (eP + gamma(N + 4) * mag.sum(1) * 2.0 + U * Pl.abs()
           + ((2.0 * dabs * eps_d + eps_d * eps_d).sum(1)) * (1.0 + 2.0 * gamma(N + 2))) \
        * INFLATE + FLOOR
    if ok is not None and not bool(ok.all()) or ok2 is not None and not bool(ok2.all()):
        raise Unsupported("batch statistics: a double-double product out of range")
    ih, il, ri, var_lo = _inverse_sd(P_h, Pl, err, N, eps)
    # n = d / sqrt(var + eps)
    q, qe, ok3 = two_prod(dH, ih.expand_as(dH))
    rest = qe + dH * il + dL * ih
    en = (gamma(3) * (qe.abs() + (dH * il).abs() + (dL * ih).abs()) + (dL * il).abs()
          + eps_d * (ih.abs() + il.abs() + ri) + dabs * ri) * INFLATE
    # the propagation of the input radii (fact 1), where the channel has any
    if bool((r > 0).any()):
        rmean = r.mean(1, keepdim=True) * (1.0 + 2.0 * gamma(N + 2)) + FLOOR
        rrms = torch.sqrt((r * r).mean(1, keepdim=True)) * (1.0 + 2.0 * gamma(N + 4)) + FLOOR
        sd_box = ((torch.sqrt(var_lo) * DOWN - rrms) * DOWN).clamp_min(0.0)
        sig_lo = torch.sqrt(sd_box * sd_box + eps) * DOWN
        nmax = torch.minimum((dabs + eps_d + r + rmean) / sig_lo * UP,
                             torch.tensor(math.sqrt(N) * UP, dtype=F64))
        en = en + (r + rmean + nmax * rrms) / sig_lo * INFLATE
    n = dd_finish(q, [rest], en, ok3)
    g, b = norm_weights(weight, bias, C)
    y = shift(dd_scale(n, g[:, None]), b[:, None])
    return DD(*(_back(t, shape) for t in (y.H, y.L, y.R)))


def _mean(t: Tan) -> Tan:
    """The row means (keepdim) of a tangent enclosure in the per-channel layout."""
    N = t[0].shape[1]
    v = t[0].mean(1, keepdim=True)
    r = (t[1].mean(1, keepdim=True) + gamma(N + 2) * t[0].abs().mean(1, keepdim=True)) \
        * (1.0 + 2.0 * gamma(N + 2)) * INFLATE + FLOOR
    return v, r


def _normalised_tangent(x: CT, eps: float) -> tuple[Tan, torch.Tensor, torch.Tensor]:
    """In the per-channel layout: the tangent of the normalised values along the
    input's, and the normalised values with their radii (:func:`normalised`)."""
    assert x.T is not None
    n, rn, inv_lo, inv_hi = normalised(x.V, x.R, eps)
    dx = (_per_channel(x.T[0]), _per_channel(x.T[1]))
    m1 = _mean(dx)
    m2 = _mean(times_enclosure(dx, n, rn))
    inner = add(add(dx, (m1[0].expand_as(n), m1[1].expand_as(n)), sub=True),
                times_enclosure((m2[0].expand_as(n), m2[1].expand_as(n)), n, rn), sub=True)
    iv = (inv_lo + inv_hi) * 0.5
    ir = ((inv_hi - inv_lo) * 0.5 + U * iv) * INFLATE + FLOOR
    return times_enclosure(inner, iv, ir), n, rn


def _affine_tangent(t: Tan, n: torch.Tensor, rn: torch.Tensor, g: torch.Tensor | None,
                    dg: torch.Tensor | None, db: torch.Tensor | None, shp: tuple[int, ...]
                    ) -> Tan:
    """The tangent ``g n' + g' n + b'`` of ``g n + b`` (``n`` within ``rn``), with the
    per-channel g, g' and b' (None: absent or no direction) reshaped to ``shp``."""
    if g is not None:
        t = t_scale(t, g.detach().to(F64).reshape(shp))
    if dg is not None:
        t = add(t, times_enclosure((dg.reshape(shp).expand_as(n), torch.zeros_like(n)), n, rn))
    if db is not None:
        t = add(t, (db.to(F64).reshape(shp).expand_as(n), torch.zeros_like(n)))
    return t


def tangent(x: CT, eps: float, g: torch.Tensor | None, dg: torch.Tensor | None,
            db: torch.Tensor | None) -> Tan:
    """The tangent of BatchNorm with the batch's statistics along the pass's direction
    (``dg``, ``db``: its entries for a trainable weight and bias, else None)."""
    t, n, rn = _normalised_tangent(x, eps)
    out = _affine_tangent(t, n, rn, g, dg, db, (-1, 1))
    return _back(out[0], x.V.shape), _back(out[1], x.V.shape)


def _eval_tangent(x: CT, m: nn.Module, dg: torch.Tensor | None, db: torch.Tensor | None
                  ) -> Tan:
    """The tangent of eval-mode BatchNorm ``g (r x - r mean) + beta``:
    ``g r x' + g' (r x - r mean) + beta'``."""
    assert x.T is not None
    r, mean, g, _ = bn_constants(m)
    shp = (1, -1) + (1,) * (x.V.dim() - 2)
    gr = (g * r).reshape(shp)
    out = times_enclosure(x.T, gr, U * gr.abs() + 2.0 ** -1000)
    if dg is not None:
        rr, mm = r.reshape(shp), mean.reshape(shp)
        zv = rr * x.V - rr * mm
        zr = (rr.abs() * x.R + U * ((rr * x.V).abs() + (rr * mm).abs() + zv.abs())) \
            * INFLATE + 2.0 ** -1000
        out = add(out, t_scale((zv, zr), dg.reshape(shp)))
    if db is not None:
        out = add(out, (db.reshape(shp).expand_as(x.V), torch.zeros_like(x.V)))
    return out


def statistics(found: Any, x: CT) -> None:
    """Record in the pass's findings what the IR builds for a normalisation of x's entries
    by computed statistics (:func:`adcorrect.torchfx.smooth.normalise`): its smooth
    ``rsqrt`` neurons, and about 6 terms per entry."""
    found.smooth.add("rsqrt")
    found.terms += 6 * x.V.numel()


def batch_norm_call(x: CT, m: nn.Module, eps: float, kernel: Callable[..., Any],
                    direction: Callable[[Any], torch.Tensor | None], found: Any) -> CT:
    """A BatchNorm module on a certified tensor in any pass of the tensor filter (eval
    mode: running statistics; else the batch's, recorded by :func:`statistics`): values
    and radii through the pass's ``kernel`` (its memo), structural ids, the double-double
    limb, the tangent along ``direction``."""
    train = m.training or m.running_mean is None
    consts = None if train or x.D is None else bn_constants(m)  # (the limb's)
    if train:
        statistics(found, x)
        found.coupled = True
    elif consts is not None and x.T is None:  # the precise pass: the limb first
        fold = dd_bn_fold(*consts)
        if fold is not None and not some_at_most(x.R, 0.0):
            # no exact input: no exact output, the float64 enclosure from the limb
            out = from_limb(dd_folded(x.D, fold),
                            x.C if frozen_norm(m) else torch.zeros_like(x.C))
            out.I = ids_channel(x.I)
            return out
    out = kernel(bn_train, x, m, eps) if train else kernel(batch_norm, x, m)
    out.I = ids_channel(x.I)
    dg, db = direction(m.weight), direction(m.bias)
    if x.T is not None:
        out.T = tangent(x, eps, m.weight, dg, db) if train else _eval_tangent(x, m, dg, db)
    if x.D is not None:
        out.D = dd_batch_norm_train(x.D, m.weight, m.bias, eps) if consts is None else \
            dd_batch_norm(x.D, *consts)
    return out


def group_norm(x: CT, G: int, m: nn.Module, eps: float) -> CT:
    """GroupNorm with G groups (InstanceNorm: one channel per group) on a certified
    tensor: each example's group of channels is one channel of a batch of one, normalised
    by :func:`batch_norm_train` without weight and bias, then the affine map per channel
    (:func:`~.tkernels.scale_shift`)."""
    shape = x.V.shape
    rows = x.map(lambda t: t.reshape(1, shape[0] * G, -1))
    if rows.V.shape[2] < 2:
        raise Unsupported("instance statistics of one value")
    Y, R, Q = batch_norm_train(rows.V, rows.R, None, None, eps)
    const = rows.C.all(2, keepdim=True).expand(rows.C.shape)
    n = CT(Y.reshape(shape), R.reshape(shape), Q.reshape(shape), const.reshape(shape))
    g, b = norm_weights(m.weight, m.bias, shape[1])
    return scale_shift(n, g, b, frozen_norm(m))


def _group_tangent(x: CT, G: int, m: nn.Module, eps: float, dg: torch.Tensor | None,
                   db: torch.Tensor | None) -> Tan:
    """The tangent of :func:`group_norm` along the pass's direction."""
    shape = x.V.shape
    t, n, rn = _normalised_tangent(x.map(lambda u: u.reshape(1, shape[0] * G, -1)), eps)
    back = (lambda u: u.reshape(shape))  # rows (example, group) are row-major in x
    return _affine_tangent((back(t[0]), back(t[1])), back(n), back(rn), m.weight, dg, db,
                           (1, -1) + (1,) * (len(shape) - 2))


def _dd_group_norm(x: DD, G: int, m: nn.Module, eps: float) -> DD:
    """:func:`group_norm` on a double-double tensor (the precise pass)."""
    shape = x.H.shape
    n = dd_batch_norm_train(x.map(lambda t: t.reshape(1, shape[0] * G, -1)), None, None, eps)
    n = n.map(lambda t: t.reshape(shape))
    g, b = norm_weights(m.weight, m.bias, shape[1])
    shp = (1, -1) + (1,) * (len(shape) - 2)
    return shift(dd_scale(n, g.reshape(shp)), b.reshape(shp))


def ids_example_channel(ids: torch.Tensor | None) -> torch.Tensor | None:
    """Ids of an op whose statistics are per example and channel: (id, example,
    channel)."""
    if ids is None:
        return None
    B, C = ids.shape[:2]
    ec = torch.arange(B * C).reshape((B, C) + (1,) * (ids.dim() - 2)).expand(ids.shape)
    return ids_pair(ids, ec.contiguous())


def group_norm_call(x: CT, m: nn.Module, eps: float, kernel: Callable[..., Any],
                    direction: Callable[[Any], torch.Tensor | None], found: Any) -> CT:
    """GroupNorm or InstanceNorm (1d/2d/3d) in any pass of the tensor filter, as the
    importer reads them (:func:`adcorrect.torchfx.smooth.instance_norm`): an InstanceNorm
    that tracks running statistics, in eval mode, is BatchNorm's eval-mode map
    (:func:`batch_norm_call`); else the example's statistics (:func:`group_norm`)."""
    if isinstance(m, nn.GroupNorm):
        G = m.num_groups
    else:
        if x.V.dim() != m._get_no_batch_dim() + 1:
            raise Unsupported(f"{type(m).__name__} of a {x.V.dim()}-d tensor")
        if m.track_running_stats and not m.training and m.running_mean is not None:
            return batch_norm_call(x, m, eps, kernel, direction, found)
        G = x.V.shape[1]
    if x.V.dim() < 2 or x.V.shape[1] % G:
        raise Unsupported("channels that do not split into the groups")
    statistics(found, x)
    out = kernel(group_norm, x, G, m, eps)
    out.I = ids_example_channel(x.I)
    if x.T is not None:
        out.T = _group_tangent(x, G, m, eps, direction(m.weight), direction(m.bias))
    if x.D is not None:
        out.D = _dd_group_norm(x.D, G, m, eps)
    return out


def layer_norm(x: CT, k: int, g: torch.Tensor, b: torch.Tensor, const: bool, eps: float
               ) -> CT:
    """LayerNorm over the last k axes: each row (the entries of one leading index) is one
    channel of a batch of one, normalised by :func:`batch_norm_train` without weight and
    bias, then the elementwise affine map (``g``, ``b`` of the normalised shape)."""
    shape = x.V.shape
    N = math.prod(shape[len(shape) - k:])
    if N < 2:
        raise Unsupported("layer statistics of one value")
    rows = x.map(lambda t: t.reshape(1, -1, N))
    Y, R, Q = batch_norm_train(rows.V, rows.R, None, None, eps)
    flat = rows.C.all(2, keepdim=True).expand(rows.C.shape).reshape(shape)
    shp = _norm_shape(shape, k)
    z = torch.zeros([1] * len(shape), dtype=F64)
    Y, R, Q = certified_scale(Y.reshape(shape), R.reshape(shape), Q.reshape(shape),
                              g.reshape(shp), z, quantum(g).reshape(shp))
    Y, R, Q = certified_add(Y, R, Q, b.reshape(shp), z, quantum(b).reshape(shp))
    return CT(Y, R, Q, flat & const)


def _norm_shape(shape: torch.Size, k: int) -> tuple[int, ...]:
    """The shape a weight of the last k axes broadcasts from."""
    return (1,) * (len(shape) - k) + tuple(shape[len(shape) - k:])


def layer_norm_call(x: CT, normalized_shape: Any, weight: Any, bias: Any, eps: float,
                    kernel: Callable[..., Any],
                    direction: Callable[[Any], torch.Tensor | None], found: Any) -> CT:
    """``nn.LayerNorm`` or ``F.layer_norm`` in any pass of the tensor filter, as the
    importer reads it (:func:`adcorrect.torchfx.smooth.normalise`: the biased variance,
    real arithmetic); weight and bias of the normalised shape, or none: tensors, or exact
    certified tensors (``F.layer_norm`` with parameters read as attributes).  Structural
    ids are not kept (every entry its own: statistics per row, a weight per position)."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(normalized_shape)
    k = len(ns)
    if not k or not all(isinstance(v, int) for v in ns) or x.V.dim() <= k or \
            tuple(x.V.shape[-k:]) != ns:
        raise Unsupported("a layer norm of these shapes")
    (g, dg, cg), (b, db, cb) = (_norm_param(t, ns, one, direction)
                                for t, one in ((weight, 1.0), (bias, 0.0)))
    statistics(found, x)
    out = kernel(layer_norm, x, k, g, b, cg and cb, eps)
    out.I = None
    shape = x.V.shape
    shp = _norm_shape(shape, k)
    N = math.prod(ns)
    if x.T is not None:
        t, n, rn = _normalised_tangent(x.map(lambda u: u.reshape(1, -1, N)), eps)
        back = (lambda u: u.reshape(shape))
        out.T = _affine_tangent((back(t[0]), back(t[1])), back(n), back(rn), g, dg, db, shp)
    if x.D is not None:
        n = dd_batch_norm_train(x.D.map(lambda u: u.reshape(1, -1, N)), None, None, eps)
        out.D = shift(dd_scale(n.map(lambda u: u.reshape(shape)), g.reshape(shp)),
                      b.reshape(shp))
    return out


def _norm_param(t: Any, ns: tuple[int, ...], fill: float,
                direction: Callable[[Any], torch.Tensor | None]
                ) -> tuple[torch.Tensor, torch.Tensor | None, bool]:
    """A normalisation's weight or bias of shape ``ns``: exact float64 values (``fill``
    where there is none), the pass's direction, and whether it is constant."""
    if t is None:
        return torch.full(ns, fill, dtype=F64), None, True
    if isinstance(t, CT):
        if tuple(t.V.shape) != ns or bool((t.R != 0).any()):
            raise Unsupported("a layer norm of computed weights")
        return t.V, None if t.T is None else t.T[0], bool(t.C.all())
    if not isinstance(t, torch.Tensor) or tuple(t.shape) != ns:
        raise Unsupported("a layer norm of these shapes")
    return t.detach().to(F64), direction(t), not t.requires_grad


def norm_call(x: CT, m: nn.Module, scalar: Callable[[Any], Any], kernel: Callable[..., Any],
              direction: Callable[[Any], torch.Tensor | None], found: Any) -> CT | None:
    """BatchNorm, GroupNorm, InstanceNorm or LayerNorm modules (:func:`batch_norm_call`,
    :func:`group_norm_call`, :func:`layer_norm_call`; ``found``: the pass's findings, see
    :func:`statistics`); None for another module."""
    if type(m) in (nn.BatchNorm1d, nn.BatchNorm2d):
        return batch_norm_call(x, m, float(scalar(m.eps)), kernel, direction, found)
    if type(m) is nn.GroupNorm or isinstance(m, nn.modules.instancenorm._InstanceNorm):
        return group_norm_call(x, m, float(scalar(m.eps)), kernel, direction, found)
    if type(m) is nn.LayerNorm:
        return layer_norm_call(x, m.normalized_shape, m.weight, m.bias, float(scalar(m.eps)),
                               kernel, direction, found)
    return None


def layer_norm_fn(args: tuple[Any, ...], kwargs: dict[str, Any], scalar: Callable[[Any], Any],
                  kernel: Callable[..., Any],
                  direction: Callable[[Any], torch.Tensor | None], found: Any) -> CT:
    """A call ``F.layer_norm(input, normalized_shape, weight, bias, eps)`` (see
    :func:`norm_call` for ``found``)."""
    from ..torchfx.fxargs import match_args

    x, ns, w, b, eps = match_args(args, kwargs, ("input", None), ("normalized_shape", None),
                                  ("weight", None), ("bias", None), ("eps", 1e-5),
                                  optional=("weight",))
    if not isinstance(x, CT):
        raise Unsupported("a layer norm of a non-tensor")
    return layer_norm_call(x, ns, w, b, float(scalar(eps)), kernel, direction, found)
