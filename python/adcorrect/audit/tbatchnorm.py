"""Eval-mode BatchNorm on certified tensors for the tensor-level filter (issue 16): the
importer's ``gamma (r x - r mean) + beta`` with ``r`` the float PyTorch computes, folded
to one product and one sum per entry (:func:`adcorrect.audit.tdd.bn_fold`), its exact
outputs those of the step-by-step sequence (facts 1, 4 and 6 of
:mod:`adcorrect.audit.certified`)."""

from __future__ import annotations

import math

import torch
from torch import nn

from .certified import F64, FLOOR, INFLATE, NOQ, U, all_finite, fits, quantum, some_at_most
from .kernels import certified_add, certified_scale
from .tdd import bn_fold
from .tkernels import CT, Unsupported, frozen_norm, norm_weights


def bn_constants(m: nn.Module) -> tuple[torch.Tensor, ...]:
    """Eval-mode BatchNorm's exact float constants per channel: ``r`` (the float PyTorch
    computes for ``1 / sqrt(var + eps)``, :func:`adcorrect.torchfx.values.inv_sqrt`), the
    running mean, weight and bias."""
    from ..torchfx.values import inv_sqrt_all

    if m.training or m.running_mean is None or m.running_var is None:
        raise Unsupported("BatchNorm in training mode")
    mean = m.running_mean.detach().to(F64)
    r = inv_sqrt_all(m.running_var, float(m.eps))
    return (r, mean, *norm_weights(m.weight, m.bias, len(r)))


def batch_norm(x: CT, m: nn.Module) -> CT:
    """Eval-mode BatchNorm as the importer reads it: ``gamma (r x - r mean) + beta`` with
    ``r`` the float PyTorch computes (:func:`adcorrect.torchfx.values.inv_sqrt`); its
    exact outputs those of that sequence (:func:`_bn_steps`)."""
    r, mean, g, b = bn_constants(m)
    shp = (1, -1) + (1,) * (x.V.dim() - 2)
    C = x.C if frozen_norm(m) else torch.zeros_like(x.C)
    fold = bn_fold(r, mean, g, b)
    if fold is None or float(fold[0].abs().max()) > 2.0 ** 40:
        Y, R, Q = _bn_steps(x.V, x.R, x.Q, *(t.reshape(shp) for t in (r, mean, g, b)))
        return CT(Y, R, Q, C)
    # A = g r a non-zero float: Y = fl(fl(A x) + bh) (b = bh + bl within rb,
    # tdd.bn_fold) has the radius |A| (R + 2u |x|) + u |bh| + |bl| + rb (facts 1 and 6;
    # |A| <= 2^40: A times the underflow of 2u |x| is below FLOOR)
    A, bh, bl, rb = (t.reshape(shp) for t in fold)
    Y = torch.addcmul(bh, x.V, A)
    c = U * bh.abs() + bl.abs() + rb
    # (in place on one fresh tensor: each new one costs more than the operation)
    R = x.V.abs().mul_(2 * U).add_(x.R).mul_(A.abs()).add_(c).mul_(INFLATE).add_(FLOOR)
    if not all_finite(Y):
        R = torch.where(torch.isfinite(Y), R, torch.full_like(R, math.inf))
    Q = torch.full(Y.shape, -NOQ, dtype=torch.int64)
    if some_at_most(x.R, 0.0):
        # the sequence's exact outputs (r, g != 0: only from exact inputs): at exact
        # zeros one value per channel; elsewhere where its first product r x is exact
        # (fact 4), the rest on those entries alone
        exact = x.R == 0
        zero = exact & (x.V == 0)
        if bool(zero.any()):
            z = torch.zeros_like(r)
            zy, zr, zq = _bn_steps(z, z, torch.full(r.shape, NOQ, dtype=torch.int64), r,
                                   mean, g, b)
            at0 = zero & (zr == 0).reshape(shp)
            if bool(at0.any()):
                Y = torch.where(at0, zy.reshape(shp), Y)
                R = R.masked_fill(at0, 0.0)
                Q = torch.where(at0, zq.reshape(shp), Q)
        cand = exact & ~zero & fits((x.V * r.reshape(shp)).abs() * INFLATE,
                                    (x.Q + quantum(r).reshape(shp)).clamp(-NOQ, NOQ))
        if bool(cand.any()):
            at = cand.nonzero(as_tuple=True)
            ch = at[1]
            Y[at], R[at], Q[at] = _bn_steps(x.V[at], x.R[at], x.Q[at], r[ch], mean[ch],
                                            g[ch], b[ch])
    return CT(Y, R, Q, C)


def _bn_steps(V: torch.Tensor, R: torch.Tensor, Q: torch.Tensor, r: torch.Tensor,
              mean: torch.Tensor, g: torch.Tensor, b: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``g (r x - r mean) + beta`` step by step, each step exact where fact 4 shows it
    (the constants broadcast to x)."""
    z = torch.zeros_like(r)
    qr = quantum(r)
    a = certified_scale(V, R, Q, r, z, qr)
    bm = certified_scale(mean, z, quantum(mean), r, z, qr)
    t = certified_add(*a, -bm[0], bm[1], bm[2])
    t = certified_scale(*t, g, z, quantum(g))
    return certified_add(*t, b, z, quantum(b))
