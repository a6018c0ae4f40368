"""Attention's own ops on certified tensors (``CT``, :mod:`.tkernels`) for the tensor
filter: the product of two computed tensors (``q @ k.transpose(-2, -1)``, ``p @ v``) and
softmax over the last axis.  The float64 pass only: the precise and tangent passes raise
:class:`~.tkernels.Unsupported` (the float64 answer stands, and no certificate is tried).

Matrix product ``C = A B`` of enclosures (inner length m): the computed ``fl(A B)`` is
within ``gamma_m |A| |B|`` of ``A B`` plus ``m eta`` (underflow), and for every ``A'``,
``B'`` in the boxes ``|A' B' - A B| <= |A| R_B + R_A |B| + R_A R_B``; each product of
non-negative matrices is computed within ``gamma_m`` of itself (so the exact one is at most
the computed one over ``1 - gamma_m``).  An entry is an exact 0 where every product in its
sum has an exact zero factor (read from 0/1 indicator matrices: no underflow).

Softmax ``y_i = e_i / sum_j e_j`` with ``e_i = exp(x_i - c)`` for the row's largest float
value c (any constant gives the same y): ``d = fl(V - c)`` is within ``u |d|``, so
``x_i - c`` lies within ``R_i + u |d_i|`` of d; ``e_i`` in ``[lo_i, hi_i]`` from the
certified exp (:func:`.tsmooth.exp_point`) times ``e^(+-r)``.  y_i increases with e_i and
decreases with every other e_j, so over the box it lies in
``[lo_i / (lo_i + sum_{j != i} hi_j), hi_i / (hi_i + sum_{j != i} lo_j)]``, every bound
rounded outwards (sums by ``gamma_(n+1)``, quotients by a few u); the value is the float
``E_i / sum_j E_j`` (near PyTorch's: the forward check reads it), the radius reaching both
ends.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import torch
import torch.nn.functional as F

from .certified import ETA, F64, INFLATE, NOQ, U, gamma, normal_up
from .tkernels import CT, Unsupported
from .tsmooth import _exp_up, exp_point

VDOWN, VUP = 1.0 - 8 * U, 1.0 + 8 * U  # a value bound after up to 3 roundings stays one


def _value_pass(*xs: CT) -> None:
    if any(x.D is not None or x.T is not None for x in xs):
        raise Unsupported("attention in the precise or tangent pass")


def matmul(a: Any, b: Any) -> CT:
    """``a @ b`` of two certified tensors with equal leading (batch) axes."""
    if not isinstance(a, CT) or not isinstance(b, CT):
        raise Unsupported("a matrix product with a constant or parameter operand")
    _value_pass(a, b)
    A, B = a.V, b.V
    if A.dim() < 3 or B.dim() != A.dim() or A.shape[:-2] != B.shape[:-2] or \
            A.shape[-1] != B.shape[-2]:
        raise Unsupported("matmul shapes")
    m = A.shape[-1]
    V = A @ B
    Aa, Ba = A.abs(), B.abs()
    g = gamma(m + 1)
    terms = g * (Aa @ Ba)
    if bool(a.R.any()) or bool(b.R.any()):
        terms = terms + Aa @ b.R + a.R @ Ba + a.R @ b.R
    R = (terms * (1 + 2 * gamma(m + 4)) + normal_up((4 * m + 8) * ETA)) * INFLATE
    live_a = ((A != 0) | (a.R != 0)).to(F64)
    live_b = ((B != 0) | (b.R != 0)).to(F64)
    zero = (live_a @ live_b) == 0
    R = torch.where(zero | ~torch.isfinite(R), torch.where(zero, 0.0, torch.inf), R)
    V = torch.where(zero, 0.0, V)
    Q = torch.where(zero, NOQ, -NOQ)
    C = a.C.all(-1, keepdim=True) & b.C.all(-2, keepdim=True)
    return CT(V, R, Q, C.expand(V.shape).contiguous())


def softmax(x: Any, dim: Any, found: Any) -> CT:
    """``softmax(x, dim)`` over the last axis (see the module docstring); ``exp`` joins
    ``found.smooth`` (the IR's smooth functions: its softmax is exp neurons, sums and
    quotients, about 4 terms per entry in ``found.terms``)."""
    if not isinstance(x, CT):
        raise Unsupported("softmax of a non-tensor")
    _value_pass(x)
    n = x.V.dim()
    if not isinstance(dim, int) or dim % n != n - 1 or n < 2:
        raise Unsupported("softmax over another axis than the last")
    found.smooth.add("exp")
    found.terms += 4 * x.V.numel()
    V, R = x.V, x.R
    c = V.amax(-1, keepdim=True)
    d = V - c
    rd = (R + U * d.abs()) * INFLATE
    E, RE = exp_point(d)
    hi = (E + RE) * _exp_up(rd) * VUP  # (VUP also covers _exp_up's 1 + 2z for z < u)
    lo = ((E - RE) * (1 - rd)).clamp(min=0.0) * VDOWN
    k = V.shape[-1]
    s_hi = hi.sum(-1, keepdim=True) * (1 + 2 * gamma(k + 1))
    s_lo = lo.sum(-1, keepdim=True) * (1 - 2 * gamma(k + 1))
    o_hi = (s_hi - hi).clamp(min=0.0) * VUP  # >= the sum of the others' upper ends
    o_lo = ((s_lo - lo) * VDOWN).clamp(min=0.0)
    den = lo + o_hi
    y_lo = torch.where(den > 0, lo / den * VDOWN, 0.0).clamp(0.0, 1.0)
    y_hi = (hi / (hi + o_lo) * VUP).clamp(0.0, 1.0)
    mid = E / E.sum(-1, keepdim=True)  # the float value (what PyTorch computes, nearly)
    rad = torch.maximum(y_hi - mid, mid - y_lo).clamp(min=0.0) * INFLATE + ETA
    bad = ~torch.isfinite(mid) | ~torch.isfinite(rad) | ~torch.isfinite(R).all(-1, keepdim=True)
    mid = torch.where(torch.isfinite(mid), mid, 0.5)
    rad = torch.where(bad, torch.inf, rad)
    Q = torch.full(V.shape, -NOQ, dtype=torch.int64)
    C = x.C.all(-1, keepdim=True).expand(V.shape).contiguous()
    return CT(mid, rad, Q, C)


def attention_call(target: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                   found: Any) -> CT | None:
    """``torch.matmul``/``@``/``.matmul`` of two computed tensors (product neurons and
    their sums: about 3 IR terms per product in ``found.terms``) and ``F.softmax``/
    ``torch.softmax``/``.softmax`` (``target``: a function, or a method's name; ``found``
    as in :func:`softmax`); None for anything else."""
    if target in (torch.matmul, operator.matmul, "matmul") and len(args) == 2 and not kwargs:
        out = matmul(*args)
        found.terms += 3 * out.V.numel() * args[0].V.shape[-1]
        return out
    if target in (F.softmax, torch.softmax, "softmax") and args:
        if kwargs.get("dtype") is not None or len(args) > 3:
            raise Unsupported("softmax with a dtype")
        return softmax(args[0], args[1] if len(args) > 1 else kwargs.get("dim"), found)
    return None


def divided(x: CT, c: float) -> CT:
    """``x / c`` for a float c whose reciprocal is no float (attention's ``/ sqrt(d)``;
    the IR reads it as the exact scaling by 1/c): ``fl(V / c)`` within ``u |y|`` (or
    ``eta`` in gradual underflow) plus ``R / |c|``; exact zeros stay exact."""
    _value_pass(x)
    if c == 0 or not math.isfinite(c):
        raise Unsupported("division by zero or a non-finite number")
    Y = x.V / c
    R = (x.R / abs(c) + U * Y.abs()) * INFLATE + ETA
    zero = (x.V == 0) & (x.R == 0)
    R = torch.where(zero, 0.0, torch.where(torch.isfinite(R), R, torch.inf))
    Q = torch.where(zero, NOQ, -NOQ)
    return CT(Y, R, Q, x.C, I=x.I)
