"""Layers of the models people write that the importer's core does not name: padding
modules (``F.pad``'s rule), transposed convolutions, nearest-neighbour upsampling, PReLU,
GLU, Softsign,
``F.normalize``, ``torch.stack`` and the views ``squeeze``/``unsqueeze``/``expand``/
``repeat``.  Each is built from the IR's own pieces (copies, activation neurons, linear
combinations, products), so exact AD follows PyTorch's choices where they matter."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import InputError
from ..nets import activations as acts
from . import ops, smooth, tensors
from .fxargs import match_args
from .symbolic import const_entry
from .values import Sym

#: constant padding modules (``padding`` as F.pad's widths, ``value``; ZeroPad subclasses)
CONSTANT_PADS = (nn.ConstantPad1d, nn.ConstantPad2d, nn.ConstantPad3d)
#: padding modules and their F.pad mode
PAD_MODULES = ((CONSTANT_PADS, "constant"),
               ((nn.ReflectionPad1d, nn.ReflectionPad2d, nn.ReflectionPad3d), "reflect"),
               ((nn.ReplicationPad1d, nn.ReplicationPad2d, nn.ReplicationPad3d), "replicate"),
               ((nn.CircularPad1d, nn.CircularPad2d, nn.CircularPad3d), "circular"))
#: F.interpolate's parameters and defaults
INTERPOLATE_ARGS = (("input", None), ("size", None), ("scale_factor", None), ("mode", "nearest"),
                    ("align_corners", None), ("recompute_scale_factor", None),
                    ("antialias", False))


def upsample_kwargs(m: nn.Upsample) -> dict[str, Any]:
    """The F.interpolate keywords an nn.Upsample module calls it with."""
    return {"size": m.size, "scale_factor": m.scale_factor, "mode": m.mode,
            "align_corners": m.align_corners,
            "recompute_scale_factor": m.recompute_scale_factor}


def softsign(imp: Any, x: Any, where: str) -> Sym:
    """``x / (1 + |x|)`` as PyTorch computes it (|x|'s derivative 0 at 0: the composed
    derivative there is 1, the true one)."""
    s = imp.tensor(x, "input")
    a = Sym(ops.activation(imp.b, s.arr, acts.abs_(), f"{where}/abs"), True)
    one = Sym(np.array(const_entry(Fraction(1)), dtype=object), False)
    return tensors.div(imp.b, s, tensors.add(imp.b, a, one, Fraction(1), f"{where}/den"),
                       where)


def normalize(imp: Any, x: Any, dim: Any, eps: Any, where: str) -> Sym:
    """``F.normalize(x, 2, dim, eps)``: x / max(||x||, eps) along ``dim``, as PyTorch
    computes it (the norm's square root is certified away from 0, else undecided)."""
    s = imp.tensor(x, "input")
    sq = tensors.mul(imp.b, s, s, f"{where}/sq")
    total = Sym(smooth.mean(imp.b, sq.arr, [dim], True, f"{where}/sum", True), True)
    norm = Sym(smooth.elementwise(imp.b, total.arr, "sqrt", (), f"{where}/norm"), True)
    den = ops.activation(imp.b, norm.arr, acts.clamp(imp.scalar(eps, "eps"), None),
                         f"{where}/den")
    return tensors.div(imp.b, s, Sym(den, True), where)


def glu(imp: Any, x: Any, dim: Any, where: str) -> Sym:
    """``F.glu``: the first half times the sigmoid of the second, along ``dim``."""
    s = imp.tensor(x, "input")
    n = s.arr.ndim
    if not isinstance(dim, int) or not -n <= dim < n or s.arr.shape[dim] % 2:
        raise InputError("glu: needs an axis of even length")
    a, b = tensors.split(s, s.arr.shape[dim] // 2, dim)
    gate = Sym(smooth.elementwise(imp.b, b.arr, "sigmoid", (), f"{where}/gate"), True)
    return tensors.mul(imp.b, a, gate, where)


def prelu(imp: Any, x: Any, weight: Any, where: str) -> Sym:
    """PReLU with a trainable slope a (one, or one per channel: axis 1) as
    relu(x) + a (x - relu(x)): PyTorch's derivative at 0 is a (relu'(0) = 0) and its
    derivative in a is min(x, 0), as PyTorch's kernel computes them."""
    arr = imp.batched(x)
    a = imp.params.sym(weight, f"{where}.weight") if isinstance(weight, torch.Tensor) \
        else imp.tensor(weight, "weight")
    if a.arr.ndim != 1 or a.arr.size not in (1, arr.shape[1] if arr.ndim > 1 else 1):
        raise InputError(f"prelu: {a.arr.size} slopes for {arr.shape[1:]} entries")
    if a.arr.size > 1:
        a = Sym(a.arr.reshape(-1, *([1] * (arr.ndim - 2))), False, a.dtype)
    r = Sym(ops.activation(imp.b, arr, acts.relu(), f"{where}/relu"), True)
    neg = tensors.add(imp.b, Sym(arr, True), r, Fraction(-1), f"{where}/neg")
    return tensors.add(imp.b, r, tensors.mul(imp.b, a, neg, f"{where}/a"), Fraction(1),
                       where)


def unflattened(shape: tuple[int, ...], dim: Any, sizes: Any) -> list[int]:
    """The shape after ``nn.Unflatten(dim, sizes)`` (a named size is refused); axis 0,
    the batch axis, stays."""
    if not isinstance(dim, int) or not -len(shape) <= dim < len(shape) or \
            dim % len(shape) == 0:
        raise InputError(f"Unflatten: dim {dim!r} is not a non-batch axis of {shape}")
    if not all(isinstance(v, int) for v in sizes):
        raise InputError("Unflatten: the sizes must be integers")
    d = dim % len(shape)
    return [*shape[:d], *sizes, *shape[d + 1:]]


def conv_transpose(imp: Any, m: Any, x: Any, where: str) -> Sym:
    """``nn.ConvTranspose1d/2d`` as the convolution it is: the input with ``stride - 1``
    zeros between entries, padded by ``dilation (k - 1) - padding`` before and that plus
    ``output_padding`` after, convolved (stride 1, the same dilation and groups) with the
    kernel flipped and its channel axes swapped per group."""
    if m.padding_mode != "zeros":
        raise InputError(f"padding_mode {m.padding_mode!r} is not supported")
    W, bv = imp.weights(m.weight, "weight"), imp.weights(m.bias, "bias")
    xs = imp.batched(x)
    d = W.ndim - 2
    if xs.ndim != d + 2 or xs.shape[1] != W.shape[0]:
        raise InputError(f"expects a {d + 2}-d input with {W.shape[0]} channels, gets shape "
                         f"{tuple(xs.shape)}")
    K, G = W.shape[2:], m.groups
    pads = [(dl * (k - 1) - p, dl * (k - 1) - p + op)
            for k, p, dl, op in zip(K, m.padding, m.dilation, m.output_padding)]
    if any(lo < 0 for lo, _ in pads):
        raise InputError("a padding above dilation * (kernel_size - 1) is not supported")
    cig = W.shape[0] // G
    flipped = np.flip(W, tuple(range(2, W.ndim)))
    Wc = np.concatenate([flipped[g * cig:(g + 1) * cig].swapaxes(0, 1) for g in range(G)])
    up = ops.new_array((*xs.shape[:2], *((n - 1) * s + 1 for n, s in
                                         zip(xs.shape[2:], m.stride))))
    up[...] = const_entry(Fraction(0))
    up[(slice(None), slice(None), *(slice(None, None, s) for s in m.stride))] = xs
    return Sym(np.concatenate([ops.conv(imp.b, up[i:i + 1], Wc, bv, [1] * d, pads,
                                        list(m.dilation), G, "zeros", where)
                               for i in range(up.shape[0])]), True)


def pixel_shuffle(imp: Any, x: Any, r: int, inverse: bool) -> Sym:
    """``nn.PixelShuffle(r)`` (``nn.PixelUnshuffle(r)``: ``inverse``): entries moved
    between channel blocks of ``r * r`` and ``r x r`` spatial blocks, as PyTorch does."""
    arr = imp.batched(x)
    if arr.ndim != 4 or (not inverse and arr.shape[1] % (r * r)) or (
            inverse and (arr.shape[2] % r or arr.shape[3] % r)):
        raise InputError(f"pixel {'un' if inverse else ''}shuffle by {r} of shape "
                         f"{tuple(arr.shape)}")
    B, C, H, W = arr.shape
    if inverse:
        out = arr.reshape(B, C, H // r, r, W // r, r).transpose(0, 1, 3, 5, 2, 4)
        return Sym(out.reshape(B, C * r * r, H // r, W // r), True)
    out = arr.reshape(B, C // (r * r), r, r, H, W).transpose(0, 1, 4, 2, 5, 3)
    return Sym(out.reshape(B, C // (r * r), H * r, W * r), True)


def module_call(imp: Any, m: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any],
                where: str) -> Any:
    """One of this module's layers as a module, or NotImplemented."""
    if not isinstance(m, (nn.Softsign, nn.GLU, nn.PReLU, nn.Upsample, nn.Unflatten,
                          nn.ConvTranspose1d, nn.ConvTranspose2d, nn.PixelShuffle,
                          nn.PixelUnshuffle)) and \
            not any(isinstance(m, kinds) for kinds, _ in PAD_MODULES):
        return NotImplemented
    (x,) = match_args(args, kwargs, ("input", None))
    if isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d)):
        return conv_transpose(imp, m, x, where)
    if isinstance(m, (nn.PixelShuffle, nn.PixelUnshuffle)):
        return pixel_shuffle(imp, x, m.upscale_factor if isinstance(m, nn.PixelShuffle)
                             else m.downscale_factor, isinstance(m, nn.PixelUnshuffle))
    if isinstance(m, nn.Unflatten):
        s = imp.tensor(x, "input")
        return tensors.reshape(s, unflattened(tuple(tensors.batched(s).shape), m.dim,
                                              m.unflattened_size))
    if isinstance(m, nn.Softsign):
        return softsign(imp, x, where)
    if isinstance(m, nn.GLU):
        return glu(imp, x, m.dim, where)
    if isinstance(m, nn.PReLU):
        return prelu(imp, x, m.weight, where)
    if isinstance(m, nn.Upsample):  # nearest modes (the others are refused in one line)
        return tensors.upsample(imp.tensor(x, "input"), upsample_kwargs(m))
    mode = next(md for kinds, md in PAD_MODULES if isinstance(m, kinds))
    return imp.pad(x, list(m.padding), mode, m.value if mode == "constant" else None, where)


def function_call(imp: Any, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                  where: str) -> Any:
    """One of this module's layers as a function, or NotImplemented."""
    if fn is torch.stack:
        xs, dim = match_args(args, kwargs, ("tensors", None), ("dim", 0))
        return tensors.stack([imp.tensor(t, "tensors") for t in xs], dim)
    if fn is F.softsign:
        (x,) = match_args(args, kwargs, ("input", None))
        return softsign(imp, x, where)
    if fn is F.normalize:
        x, p, dim, eps, out = match_args(args, kwargs, ("input", None), ("p", 2.0),
                                         ("dim", 1), ("eps", 1e-12), ("out", None))
        if p != 2 or out is not None:
            raise InputError("normalize: only p = 2 (the Euclidean norm) is supported")
        return normalize(imp, x, dim, eps, where)
    if fn is F.glu:
        x, dim = match_args(args, kwargs, ("input", None), ("dim", -1))
        return glu(imp, x, dim, where)
    if fn is F.prelu:
        x, w = match_args(args, kwargs, ("input", None), ("weight", None))
        return prelu(imp, x, w, where)
    if fn is F.interpolate:
        x, *rest = match_args(args, kwargs, *INTERPOLATE_ARGS)
        return tensors.upsample(imp.tensor(x, "input"), dict(zip(
            (n for n, _ in INTERPOLATE_ARGS[1:]), rest)))
    if fn in (torch.squeeze, torch.unsqueeze):
        x, d = match_args(args, kwargs, ("input", None), ("dim", None))
        return tensors.squeeze(imp.tensor(x, "input"), d, fn is torch.unsqueeze)
    return NotImplemented


def method_call(imp: Any, name: str, x: Any, rest: tuple[Any, ...], kwargs: dict[str, Any]
                ) -> Any:
    """``.squeeze``, ``.unsqueeze``, ``.expand``, ``.expand_as``, ``.repeat``, or
    NotImplemented."""
    if name in ("squeeze", "unsqueeze"):
        (d,) = match_args(rest, kwargs, ("dim", None))
        return tensors.squeeze(imp.tensor(x, "self"), d, name == "unsqueeze")
    if name in ("expand", "repeat") and not kwargs:
        return tensors.tiled(imp.tensor(x, "self"), rest, name == "repeat")
    if name == "expand_as":
        (other,) = match_args(rest, kwargs, ("other", None))
        shape = tuple(other.shape if isinstance(other, torch.Tensor) else other.arr.shape)
        return tensors.tiled(imp.tensor(x, "self"), (-1, *shape[1:]), False)
    return NotImplemented
