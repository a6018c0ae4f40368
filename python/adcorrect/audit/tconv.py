"""Convolutions in the tensor filter: ``nn.Conv1d/2d`` and ``nn.ConvTranspose1d/2d`` on
certified tensors (:func:`~.tkernels.affine`'s radius and exactness for any map linear in
the input and in the weight), their structural ids, double-double limb and tangent; and
``nn.Linear`` (matrices, and as a 1x1 convolution over the last axis of a larger input:
tokens, channels-last feature maps)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .tdd import ByRows
from .tids import ids_rows, ids_windows
from .tkernels import CT, Unsupported, affine, affine_limb, conv_window_any
from .tmoves import pad as t_pad

CONVS = (nn.Conv1d, nn.Conv2d)
TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d)


def padded(x: CT, m: Any) -> CT:
    """The input as PyTorch pads it for a convolution with ``padding="same"`` or a padding
    mode other than zeros (``F.pad`` with the module's own widths, then no padding):
    zeros as exact constants, reflected, replicated or circular copies of entries."""
    widths = list(m._reversed_padding_repeated_twice)
    if m.padding_mode == "zeros":
        return t_pad(x, widths, 0.0)

    def f(t: torch.Tensor) -> torch.Tensor:
        if t.dtype == torch.bool:
            return F.pad(t.to(torch.uint8), widths, mode=m.padding_mode).bool()
        return F.pad(t, widths, mode=m.padding_mode)

    return x.map(f)


def conv_call(x: CT, m: Any, kernel: Callable[..., Any], tangent: Callable[..., Any]
              ) -> tuple[CT, int]:
    """A convolution module (plain or transposed) in any pass of the tensor filter:
    values and radii through the pass's ``kernel``, ids, limb and tangent through the
    pass's ``tangent(x, w, b, op, m)``; and the terms of the IR's neurons (a bound)."""
    d = m.weight.dim() - 2
    if x.V.dim() != d + 2:
        raise Unsupported("conv input shape")
    w, b = m.weight, m.bias
    transposed = isinstance(m, TRANSPOSED)
    if transposed and m.padding_mode != "zeros":
        raise Unsupported("conv padding mode")
    if not transposed and (m.padding_mode != "zeros" or m.padding == "same"):
        x = padded(x, m)
    if transposed:
        fn_t = F.conv_transpose1d if d == 1 else F.conv_transpose2d
        m_in = w.shape[0] // m.groups * math.prod(w.shape[2:])
        op = (lambda a, ww, bb: fn_t(a, ww, bb, m.stride, m.padding, m.output_padding,
                                     m.groups, m.dilation))
        window_any = None
        pad: Any = m.padding
    else:
        fn = F.conv1d if d == 1 else F.conv2d
        pad = 0 if isinstance(m.padding, str) or m.padding_mode != "zeros" else m.padding
        m_in = math.prod(w.shape[1:])
        op = (lambda a, ww, bb: fn(a, ww, bb, m.stride, pad, m.dilation, m.groups))
        if d == 2 and m.groups == x.V.shape[1] and m.groups > 1:
            op = (lambda a, ww, bb: depthwise(a, ww, bb, m.stride, pad, m.dilation))
        elif d == 2 and m.groups == 1 and _positions(x.V.shape[2:], m, pad) <= FEW_POSITIONS:
            op = ByRows(lambda a, ww, bb: conv2d_gemm(a, ww, bb, m.stride, pad, m.dilation))
        elif m.groups == 1:
            op = ByRows(op)
        window_any = conv_window_any(m, d, pad, w.shape[0])
    out = kernel(affine if x.D is None else affine_limb, x, w, b, not w.requires_grad,
                 b is None or not b.requires_grad, op, m_in, window_any)
    if x.T is not None:
        out.T = tangent(x, w, b, op, m_in)
    if not transposed:
        P = [pad] * d if isinstance(pad, int) else list(pad)
        out.I = ids_windows(x.I, d, list(m.kernel_size), list(m.stride), P,
                            list(m.dilation), False, m.groups, w.shape[0])
        if out.I is not None and out.I.shape != out.V.shape:
            out.I = None
    return out, out.V.numel() * m_in


#: Output positions per example up to which :func:`conv2d_gemm` replaces ``F.conv2d``
#: (float64 on the CPU: one small matrix product per example, the weights read B times;
#: at ResNet-18's 2x2 and 1x1 stages 2-7x slower than one product over the batch, at
#: 4x4 and above faster).
FEW_POSITIONS = 4


def _pair(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _output_hw(H: int, W: int, k: Any, stride: Any, pad: Any, dil: Any) -> tuple[int, int]:
    """The output height and width of a 2-d convolution (PyTorch's formula)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _pair(k), _pair(stride), _pair(pad), _pair(dil)
    return ((H + 2 * ph - dh * (kh - 1) - 1) // sh + 1,
            (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1)


def _positions(spatial: Any, m: Any, pad: Any) -> int:
    """Output positions per example of a 2-d convolution on this input."""
    ho, wo = _output_hw(int(spatial[0]), int(spatial[1]), m.kernel_size, m.stride, pad,
                        m.dilation)
    return max(0, ho) * max(0, wo)


def conv2d_gemm(a: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, stride: Any,
                pad: Any, dil: Any) -> torch.Tensor:
    """``F.conv2d`` (one group) as one matrix product over the whole batch of the unfolded
    windows: the same dot products in another order (fact 1 of :mod:`.certified` holds
    in any order)."""
    B, _, H, W = a.shape
    O, _, kh, kw = w.shape
    cols = F.unfold(a, (kh, kw), dilation=dil, padding=pad, stride=stride)  # (B, K, L)
    K, L = cols.shape[1:]
    ho, wo = _output_hw(H, W, (kh, kw), stride, pad, dil)
    out = w.reshape(O, K) @ cols.transpose(0, 1).reshape(K, B * L)
    out = out.reshape(O, B, ho, wo).transpose(0, 1)
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out.contiguous()


def depthwise(a: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, stride: Any,
              pad: Any, dil: Any) -> torch.Tensor:
    """A 2-d convolution with one group per input channel, as a sum over the kernel's
    offsets of shifted inputs times per-channel weights: the same dot products as
    ``F.conv2d`` in another order (fact 1 of :mod:`.certified` holds in any order), and
    in float64 50x faster than PyTorch's CPU kernel for depthwise convolutions."""
    B, C, H, W = a.shape
    mult = w.shape[0] // C
    if mult > 1:
        a = a.repeat_interleave(mult, 1)
    kh, kw = w.shape[2:]
    sh, sw = _pair(stride)
    ph, pw = _pair(pad)
    dh, dw = _pair(dil)
    ho, wo = _output_hw(H, W, (kh, kw), stride, pad, dil)
    ap = F.pad(a, (pw, pw, ph, ph))
    out = torch.zeros(B, w.shape[0], ho, wo, dtype=a.dtype)
    for i in range(kh):
        for j in range(kw):
            sl = ap[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw]
            out = torch.addcmul(out, sl, w[:, 0, i, j].reshape(1, -1, 1, 1))
    return out if b is None else out + b.reshape(1, -1, 1, 1)


def linear_call(x: CT, w: torch.Tensor | None, b: torch.Tensor | None,
                kernel: Callable[..., Any], tangent: Callable[..., Any]) -> tuple[CT, int]:
    """``F.linear(x, w, b)`` over the last axis in any pass (as :func:`conv_call`); an input
    of more than two axes ``(B, ..., d)`` is read as ``(B, d, L)`` and multiplied as a 1x1
    convolution (every kernel here keeps channels on axis 1), then moved back; structural
    ids per input row and output index."""
    if w is None or w.dim() != 2 or x.V.dim() < 2 or x.V.shape[-1] != w.shape[1]:
        raise Unsupported("linear shapes")
    O, d = w.shape
    shape = (*x.V.shape[:-1], O)
    if x.V.dim() == 2:
        xc = x

        op = ByRows(F.linear)
    else:
        xc = x.map(lambda t: t.reshape(shape[0], -1, d).transpose(1, 2).contiguous())
        op = ByRows(lambda a, ww, bb: F.conv1d(a, ww.unsqueeze(-1), bb))
    out = kernel(affine if x.D is None else affine_limb, xc, w, b, not w.requires_grad,
                 b is None or not b.requires_grad, op, d,
                 lambda t: t.any(1, keepdim=True).expand(-1, O, *t.shape[2:]))
    if x.T is not None:
        out.T = tangent(xc, w, b, op, d)
    if xc is not x:
        out = out.map(lambda t: t.transpose(1, 2).reshape(shape))
    rows = None if x.I is None else ids_rows(x.I.reshape(-1, d), O)
    out.I = None if rows is None else rows.reshape(shape)
    return out, out.V.numel() * d
