"""Kernels of the tensor filter that move, pad or scale entries of a certified tensor
(:class:`~adcorrect.audit.tkernels.CT`) without arithmetic between entries: constant
padding, nearest-neighbour upsampling, and products with exact constants entry by entry
(dropout masks in training mode)."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import torch
import torch.nn.functional as F

from ..core.errors import InputError
from ..torchfx.layers import INTERPOLATE_ARGS
from ..torchfx.tensors import nearest_index, squeezed, unsqueezed
from .certified import F64, all_finite, quantum
from .kernels import certified_scale
from .tdd import DD
from .tdd import scale as dd_scale
from .tids import canon_const, ids_pair
from .tkernels import CT, Unsupported
from .ttangent import scale as t_scale


def pad(x: CT, widths: Any, value: float) -> CT:
    """Constant padding (``F.pad``'s widths, last axis first) on the enclosures: the new
    entries are the exact constant ``value``, locally constant.  Cropping and the batch
    axis are left to the IR."""
    if not isinstance(widths, (list, tuple)) or len(widths) % 2 or \
            len(widths) // 2 >= x.V.dim() or \
            not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in widths):
        raise Unsupported("padding")
    widths = list(widths)

    def f(t: torch.Tensor, v: float) -> torch.Tensor:
        return F.pad(t, widths, value=v)

    q = int(quantum(torch.tensor([value], dtype=F64))[0])
    out = CT(f(x.V, value), f(x.R, 0.0), f(x.Q, q), f(x.C.to(torch.uint8), 1).bool(),
             I=None if x.I is None else f(x.I, -1),
             D=None if x.D is None else DD(f(x.D.H, value), f(x.D.L, 0.0), f(x.D.R, 0.0)),
             T=None if x.T is None else (f(x.T[0], 0.0), f(x.T[1], 0.0)))
    return canon_const(out)  # the padded constants' ids by value


def scale_entries(x: CT, D: torch.Tensor) -> CT:
    """x times exact float constants entry by entry (a dropout mask): zero factors give
    exact, locally constant zeros; equal (function, factor) pairs are one function."""
    if not all_finite(D):
        raise Unsupported("a factor that is not finite")
    Y, R, Q = certified_scale(x.V, x.R, x.Q, D, torch.zeros_like(D),
                              quantum(D.reshape(-1)).reshape(D.shape))
    out = CT(Y, R, Q, x.C | (D == 0), I=None if x.I is None else ids_pair(
        x.I, D.view(torch.int64)), D=None if x.D is None else dd_scale(x.D, D),
        T=None if x.T is None else t_scale(x.T, D))
    return canon_const(out)


def upsample(x: CT, kwargs: dict[str, Any]) -> CT:
    """Nearest-neighbour ``F.interpolate`` on the enclosures: entries copied, by PyTorch's
    own index map (:func:`adcorrect.torchfx.tensors.nearest_index`)."""
    try:
        idx = nearest_index(x.V.shape, kwargs)
    except InputError as e:
        raise Unsupported(str(e)) from None
    B, C = x.V.shape[:2]
    return x.map(lambda t: t.reshape(B, C, -1)[:, :, idx.reshape(-1)].reshape(
        B, C, *idx.shape))


def moved_entries(target: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                  scalar: Callable[[Any], Fraction]) -> CT | None:
    """``torch.cat``/``torch.stack`` along a non-batch axis, ``F.pad`` in constant mode and
    ``F.interpolate`` in a nearest mode on certified tensors, or None for another
    function."""
    if target is F.pad and kwargs.get("mode", args[2] if len(args) > 2 else "constant") \
            == "constant":
        v = kwargs.get("value", args[3] if len(args) > 3 else None)
        return pad(args[0], args[1] if len(args) > 1 else kwargs["pad"],
                   float(scalar(v or 0.0)))
    if target in (torch.cat, torch.stack):
        xs, dim = args[0], args[1] if len(args) > 1 else kwargs.get("dim", 0)
        n = xs[0].V.dim() + (target is torch.stack) if xs else 0
        if not xs or not all(isinstance(t, CT) for t in xs) or dim % n == 0:
            raise Unsupported(target.__name__)

        def join(ts: list[torch.Tensor]) -> torch.Tensor:
            return target(ts, dim)  # type: ignore[no-any-return]

        out = CT(*(join([getattr(t, a) for t in xs]) for a in "VRQC"))
        if all(t.D is not None for t in xs):
            out.D = DD(*(join([getattr(t.D, a) for t in xs]) for a in "HLR"))
        if all(t.T is not None for t in xs):
            out.T = (join([t.T[0] for t in xs]), join([t.T[1] for t in xs]))
        return out  # ids left out: the joined tensors' ids are not one numbering
    if target is F.interpolate and set(kwargs) <= {n for n, _ in INTERPOLATE_ARGS}:
        kw = {n: args[i] if i < len(args) else kwargs.get(n, d)
              for i, (n, d) in enumerate(INTERPOLATE_ARGS)}
        return upsample(kw.pop("input"), kw)
    return None



def embedding(x: CT, weight: torch.Tensor, padding_idx: int | None,
              direction: torch.Tensor | None, precise: bool) -> CT:
    """``nn.Embedding`` on token indices (an exact integer tensor): the weight's rows,
    exact.  A frozen weight's rows and the padding row (no gradient in PyTorch, a constant
    in the IR) are locally constant; a row read at several places is one function (ids
    by token and column); the tangent pass reads the direction's rows."""
    tok = x.V.to(torch.int64)
    n, dim = weight.shape
    if not bool((x.R == 0).all()) or not torch.equal(tok.to(F64), x.V) or (
            tok.numel() and (int(tok.min()) < 0 or int(tok.max()) >= n)):
        raise Unsupported("embedding indices")
    V = weight.detach().to(F64)[tok]
    if not all_finite(V):
        raise Unsupported("a NaN or infinite embedding")
    const = torch.full(tok.shape, not weight.requires_grad, dtype=torch.bool)
    if padding_idx is not None:
        const |= tok == padding_idx % n
    C = const.unsqueeze(-1).expand(V.shape).contiguous()
    ids = tok.unsqueeze(-1) * dim + torch.arange(dim)
    T = None
    if direction is not None or not weight.requires_grad:
        d = torch.zeros_like(V) if direction is None else direction.to(F64)[tok]
        T = (d.masked_fill(C, 0.0), torch.zeros_like(V))
    out = CT(V, torch.zeros_like(V), quantum(V.reshape(-1)).reshape(V.shape), C, I=ids,
             D=DD(V, torch.zeros_like(V), torch.zeros_like(V)) if precise else None, T=T)
    return canon_const(out)


#: methods that move entries (views), and their function forms
VIEW_METHODS = ("squeeze", "unsqueeze", "transpose", "permute", "expand", "repeat")
VIEW_FUNCTIONS = (torch.squeeze, torch.unsqueeze, torch.transpose, torch.permute)


def view_method(x: CT, name: str, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> CT:
    """``x.squeeze(dim)``, ``x.unsqueeze(dim)``, ``x.transpose(d0, d1)``,
    ``x.permute(*dims)`` (and the functions) with the batch axis kept first."""
    n = x.V.dim()
    try:
        if name in ("expand", "repeat"):
            sizes = tuple(rest[0]) if len(rest) == 1 and isinstance(rest[0], (
                tuple, list, torch.Size)) else tuple(rest)
            if kwargs or len(sizes) != n or sizes[0] not in ((1,) if name == "repeat" else (
                    -1, x.V.shape[0])):
                raise Unsupported(f"{name} of the batch axis or into new axes")
            return x.map(lambda t: t.repeat(*sizes) if name == "repeat" else
                         t.expand(*sizes).contiguous())
        if name in ("squeeze", "unsqueeze"):
            d = rest[0] if rest else kwargs.get("dim")
            return x.view(*(unsqueezed if name == "unsqueeze" else squeezed)(x.V.shape, d))
        if name == "transpose":
            d0, d1 = (*rest, *(kwargs.get(k) for k in ("dim0", "dim1")))[:2]
            if 0 in (d0 % n, d1 % n):
                raise Unsupported("a transpose of the batch axis")
            return x.map(lambda t: t.transpose(d0, d1))
        dims = [int(d) for d in (rest[0] if len(rest) == 1 and isinstance(rest[0], (
            tuple, list)) else rest or kwargs.get("dims", ()))]
        if sorted(d % n for d in dims) != list(range(n)) or dims[0] % n:
            raise Unsupported("a permutation that moves the batch axis")
        return x.map(lambda t: t.permute(*dims))
    except (InputError, TypeError, IndexError) as e:
        raise Unsupported(f"{name}: {e}") from None



def pieces(x: CT, name: str, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[CT, ...]:
    """``x.chunk(n, dim)`` and ``x.split(size or sizes, dim)`` (and the functions) along a
    non-batch axis: views of x's entries."""
    arg = rest[0] if rest else kwargs.get("chunks" if name == "chunk" else "split_size_or_sections",
                                          kwargs.get("split_size"))
    dim = rest[1] if len(rest) > 1 else kwargs.get("dim", 0)
    if arg is None or not isinstance(dim, int) or dim % x.V.dim() == 0:
        raise Unsupported(f"{name} along the batch axis")
    try:
        n = len(getattr(x.V, name)(arg, dim))
    except (TypeError, RuntimeError) as e:
        raise Unsupported(f"{name}: {e}") from None

    def piece(i: int) -> CT:
        out = x.map(lambda t: getattr(t, name)(arg, dim)[i])
        out.name = None  # a part of an affine result is named by its own indices
        return out

    return tuple(piece(i) for i in range(n))


def indexed(x: CT, idx: Any) -> CT:
    """``x[:, ...]`` with slices and integers after the batch axis (basic indexing: a
    view of x's entries)."""
    idx = idx if isinstance(idx, tuple) else (idx,)
    if not idx or idx[0] != slice(None) or not all(
            isinstance(i, slice) or (isinstance(i, int) and not isinstance(i, bool))
            for i in idx[1:]):
        raise Unsupported("an index other than slices and integers after the batch axis")
    out = x.map(lambda t: t[idx])
    out.name = None
    return out


def flattened(x: CT, s: int, e: int) -> CT:
    """``torch.flatten(x, s, e)`` keeping the batch axis."""
    if s % x.V.dim() == 0:
        raise Unsupported("flatten over the batch axis")
    return x.map(lambda t: torch.flatten(t, s, e))


def reshaped(x: CT, shape: list[int]) -> CT:
    """``x.view(shape)``/``x.reshape(shape)`` keeping the batch axis."""
    B = x.V.shape[0]
    if not shape or shape[0] not in (B, -1) or (shape[0] == -1 and -1 in shape[1:]):
        raise Unsupported("a reshape across the batch axis")
    new = [B, *shape[1:]]
    if math.prod(s for s in new if s != -1) == 0:
        raise Unsupported("reshape")
    return x.view(*new)


def method_move(x: CT, name: str, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A method that reads x's shape or moves its entries (``size``, ``dim``,
    ``contiguous``, views, reshapes, ``flatten``, ``chunk``/``split``), or None for
    another method."""
    if name == "size":
        d = rest[0] if rest else kwargs.get("dim")
        return x.V.shape if d is None else x.V.shape[d]
    if name == "dim":
        return x.V.dim()
    if name == "contiguous":
        return x
    if name in VIEW_METHODS:
        return view_method(x, name, rest, kwargs)
    if name in ("view", "reshape"):
        shape = rest[0] if len(rest) == 1 and isinstance(rest[0], (tuple, list, torch.Size)) \
            else rest
        return reshaped(x, [int(s) for s in shape])
    if name == "flatten":
        s = rest[0] if rest else kwargs.get("start_dim", 0)
        e = rest[1] if len(rest) > 1 else kwargs.get("end_dim", -1)
        return flattened(x, s, e)
    if name in ("chunk", "split"):
        return pieces(x, name, rest, kwargs)
    return None


def axes_mean(x: CT, dim: Any = None, keepdim: bool = False, dtype: Any = None
              ) -> tuple[CT, tuple[int, ...], tuple[int, ...]]:
    """For ``x.mean(dim, keepdim)`` over axes other than the batch axis: x with the kept
    axes flattened to axis 1 and the reduced ones to axis 2 (row-major, as the IR reads
    them), the result's shape, and keepdim's shape (the IR's names)."""
    n = x.V.dim()
    dims = [dim] if isinstance(dim, int) else list(dim or ())
    red = sorted({d % n for d in dims if isinstance(d, int) and -n <= d < n})
    if dtype is not None or not red or len(red) != len(dims) or red[0] == 0:
        raise Unsupported("a mean over the batch axis, no axis or in another dtype")
    kept = [a for a in range(1, n) if a not in red]
    shape = tuple(x.V.shape)
    C, N = math.prod(shape[a] for a in kept), math.prod(shape[a] for a in red)
    flat = x.map(lambda t: t.permute(0, *kept, *red).reshape(shape[0], C, N))
    kshape = tuple(1 if a in red else s for a, s in enumerate(shape))
    out = kshape if keepdim else tuple(s for a, s in enumerate(shape) if a not in red)
    return flat, out, kshape
