"""Reshapes, indexing and arithmetic of symbolic tensors (:class:`~.values.Sym`), with
PyTorch's semantics; tensors that depend on the input keep their batch axis first.
Errors are InputErrors without the place (the importer adds it)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import torch

from ..core.errors import InputError
from . import ops, smooth
from .symbolic import Affine, Builder
from .values import Sym

# -- shapes -------------------------------------------------------------------------------


def batched(s: Sym) -> np.ndarray:
    """The entries of a tensor that depends on the input."""
    if not s.batched:
        raise InputError("applied to a tensor that does not depend on the input")
    return s.arr


def flatten(s: Sym, start: Any, end: Any) -> Sym:
    """``torch.flatten(x, start, end)`` (the batch axis stays alone)."""
    arr = batched(s)
    n = arr.ndim
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise InputError("dims must be integers")
    if not (-n <= start < n and -n <= end < n):
        raise InputError(f"dims ({start}, {end}) out of range for {n} axes")
    lo, hi = start % n, end % n
    if lo == 0 and hi > 0:
        raise InputError("flattens the batch axis (use start_dim=1)")
    if lo >= hi:
        return s
    shape = (*arr.shape[:lo], int(np.prod(arr.shape[lo:hi + 1])), *arr.shape[hi + 1:])
    return Sym(arr.reshape(shape), True)


def reshape(s: Sym, shape: Sequence[Any]) -> Sym:
    """``x.view(*shape)`` / ``x.reshape(shape)`` keeping the batch axis first."""
    arr = batched(s)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
        shape = tuple(shape[0])
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in shape):
        raise InputError(f"the shape must be integers, got {tuple(shape)!r}")
    try:
        new = arr.reshape(tuple(shape))
    except ValueError:
        raise InputError(f"cannot reshape {tuple(arr.shape)} to {tuple(shape)}") from None
    if new.ndim < 1 or new.shape[0] != arr.shape[0]:
        raise InputError(f"the shape {tuple(shape)} does not keep the batch axis first")
    return Sym(new, True)


def squeezed(shape: Sequence[int], dims: Any) -> tuple[int, ...]:
    """The shape after ``x.squeeze(dims)`` (None: every axis of size 1) with the batch
    axis kept first: PyTorch keeps it for batches above one, and the audited function is
    the batch's; squeezing it by name is refused."""
    n = len(shape)
    if dims is None:
        return (shape[0], *(v for v in shape[1:] if v != 1))
    ds = list(dims) if isinstance(dims, (tuple, list)) else [dims]
    if not all(isinstance(d, int) and not isinstance(d, bool) and -n <= d < n for d in ds):
        raise InputError(f"squeeze: dims {dims!r} out of range for {n} axes")
    if any(d % n == 0 for d in ds):
        raise InputError("squeeze: squeezes the batch axis")
    drop = {d % n for d in ds if shape[d] == 1}
    return tuple(v for i, v in enumerate(shape) if i not in drop)


def unsqueezed(shape: Sequence[int], dim: Any) -> tuple[int, ...]:
    """The shape after ``x.unsqueeze(dim)``, the batch axis kept first."""
    n = len(shape) + 1
    if not isinstance(dim, int) or isinstance(dim, bool) or not -n <= dim < n:
        raise InputError(f"unsqueeze: dim {dim!r} out of range for {n} axes")
    if dim % n == 0:
        raise InputError("unsqueeze: inserts an axis before the batch axis")
    d = dim % n
    return (*shape[:d], 1, *shape[d:])


def squeeze(s: Sym, dims: Any, unsqueeze: bool = False) -> Sym:
    """``x.squeeze(dims)`` or ``x.unsqueeze(dim)`` (views)."""
    arr = batched(s)
    shape = unsqueezed(arr.shape, dims) if unsqueeze else squeezed(arr.shape, dims)
    return Sym(arr.reshape(shape), True)


NEAREST = ("nearest", "nearest-exact")


def nearest_index(shape: Sequence[int], kwargs: dict[str, Any]) -> torch.Tensor:
    """The source of every output entry of ``F.interpolate(x, **kwargs)`` in a nearest
    mode, over x's spatial axes flattened: read off PyTorch's own kernel run on the
    entries' positions (exact float64 integers), so its index rounding is the model's."""
    mode = kwargs.get("mode", "nearest")
    if mode not in NEAREST or kwargs.get("antialias"):
        raise InputError(f"interpolate: mode {mode!r} is not supported (nearest is)")
    spatial = tuple(int(v) for v in shape[2:])
    if not 1 <= len(spatial) <= 3:
        raise InputError("interpolate: expected 1 to 3 spatial axes")
    pos = torch.arange(math.prod(spatial), dtype=torch.float64).reshape(1, 1, *spatial)
    try:
        idx = torch.nn.functional.interpolate(pos, **kwargs)
    except (RuntimeError, ValueError, TypeError) as e:
        raise InputError(f"interpolate: {str(e).splitlines()[0][:120]}") from None
    return idx.to(torch.int64).reshape(idx.shape[2:])


def upsample(s: Sym, kwargs: dict[str, Any]) -> Sym:
    """Nearest-neighbour ``F.interpolate`` / ``nn.Upsample``: entries copied."""
    arr = batched(s)
    idx = nearest_index(arr.shape, kwargs)
    out = arr.reshape(*arr.shape[:2], -1)[:, :, idx.reshape(-1).numpy()]
    return Sym(out.reshape(*arr.shape[:2], *idx.shape), True)


def cat(syms: Sequence[Sym], dim: Any) -> Sym:
    """``torch.cat`` along a non-batch axis."""
    if not syms:
        raise InputError("expected a non-empty list of tensors")
    if not all(s.batched for s in syms):
        raise InputError("concatenates a tensor that does not depend on the input")
    n = syms[0].arr.ndim
    if not isinstance(dim, int) or isinstance(dim, bool) or not -n <= dim < n or dim % n == 0:
        raise InputError("can only concatenate along a non-batch axis")
    try:
        return Sym(np.concatenate([s.arr for s in syms], axis=dim % n), True)
    except ValueError:
        raise InputError("shapes do not match") from None


def stack(syms: Sequence[Sym], dim: Any) -> Sym:
    """``torch.stack`` along a new non-batch axis."""
    if not syms:
        raise InputError("stack: expected a non-empty list of tensors")
    return cat([squeeze(s, dim, unsqueeze=True) for s in syms], dim)


def tiled(s: Sym, sizes: Sequence[Any], repeat: bool) -> Sym:
    """``x.expand(*sizes)`` (-1 keeps an axis) or ``x.repeat(*reps)``: entries copied, the
    batch axis kept as it is."""
    arr = batched(s)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list, torch.Size)):
        sizes = tuple(sizes[0])
    what = "repeat" if repeat else "expand"
    if len(sizes) != arr.ndim or not all(isinstance(v, int) and not isinstance(v, bool)
                                         for v in sizes):
        raise InputError(f"{what}: expected {arr.ndim} integer sizes (new axes before the "
                         "batch axis are not supported)")
    if not (sizes[0] == 1 if repeat else sizes[0] in (-1, arr.shape[0])):
        raise InputError(f"{what}: changes the batch axis")
    try:
        out = np.tile(arr, tuple(sizes)) if repeat else np.array(np.broadcast_to(
            arr, tuple(a if v == -1 else v for v, a in zip(sizes, arr.shape))))
    except ValueError:
        raise InputError(f"{what}: sizes {tuple(sizes)} do not fit {arr.shape}") from None
    return Sym(out, True)


def getitem(s: Sym, index: Any) -> Sym:
    """Basic indexing (integers, slices with a positive step, None, ...) and one list of
    integers; a tensor that depends on the input must be indexed with ':' first (its batch
    axis)."""
    idx = index if isinstance(index, tuple) else (index,)
    for i in idx:
        if isinstance(i, slice):
            if not all(v is None or (isinstance(v, int) and not isinstance(v, bool))
                       for v in (i.start, i.stop, i.step)) or (i.step is not None and i.step <= 0):
                raise InputError("only integer slices with a positive step are supported")
        elif isinstance(i, list):  # one list of integers: numpy and PyTorch agree
            if not i or not all(isinstance(k, int) and not isinstance(k, bool) for k in i) \
                    or sum(isinstance(j, list) for j in idx) > 1:
                raise InputError("only one list of integers is supported as an index")
        elif not (i is None or i is Ellipsis or (isinstance(i, int) and not isinstance(i, bool))):
            raise InputError("only integers, slices, None, ... and one list of integers are "
                             "supported as indices")
    if s.batched and (not idx or idx[0] != slice(None)):
        raise InputError("the first index must be ':' (the batch axis)")
    try:
        out = s.arr[idx]
    except IndexError as e:
        raise InputError(str(e)) from None
    if not isinstance(out, np.ndarray):
        arr = np.empty((), dtype=object)
        arr[()] = out
        out = arr
    return Sym(out, s.batched, s.dtype)


def arange(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor:
    """``torch.arange`` of Python numbers (positions): a constant, its size checked first."""
    if any(isinstance(a, Sym) for a in (*args, *kwargs.values())):
        raise InputError("torch.arange of a tensor is not supported")
    nums = [a for a in args if not isinstance(a, torch.dtype)]
    if not nums or not all(isinstance(a, (int, float)) and not isinstance(a, bool)
                           for a in nums) or len(nums) > 3:
        raise InputError("torch.arange needs numbers: (end), (start, end) or (start, end, step)")
    start, end, step = (0, nums[0], 1) if len(nums) == 1 else (*nums, 1)[:3]
    if step == 0:
        raise InputError("torch.arange: step must not be 0")
    ops.check_size([max(0, math.ceil((end - start) / step))])
    return torch.arange(start, end, step, dtype=kwargs.get("dtype"))


def split(s: Sym, sizes: Any, dim: Any, chunks: bool = False) -> tuple[Sym, ...]:
    """``x.split(size or sizes, dim)`` / ``x.chunk(n, dim)``: views along one axis."""
    n = s.arr.ndim
    if not isinstance(dim, int) or isinstance(dim, bool) or not -n <= dim < n:
        raise InputError(f"dim {dim!r} out of range for {n} axes")
    d = dim % n
    if s.batched and d == 0:
        raise InputError("splits the batch axis")
    length = s.arr.shape[d]
    if chunks:
        if not isinstance(sizes, int) or sizes <= 0:
            raise InputError("chunks must be a positive integer")
        sizes = -(-length // sizes) or 1
    if isinstance(sizes, int) and not isinstance(sizes, bool) and sizes > 0:
        cuts = list(range(sizes, length, sizes))
    elif isinstance(sizes, (list, tuple)) and all(isinstance(k, int) and k >= 0 for k in sizes) \
            and sum(sizes) == length:
        cuts = list(itertools.accumulate(sizes))[:-1]
    else:
        raise InputError(f"split sizes {sizes!r} do not split an axis of {length}")
    return tuple(Sym(p, s.batched, s.dtype) for p in np.split(s.arr, cuts, axis=d))


def attribute(obj: Any, name: Any, place: str) -> Any:
    """``x.shape`` and ``x.device`` (the CPU, where the import runs) of a tensor, or a
    field of a named result (``torch.max(x, 1).values``)."""
    if isinstance(obj, Sym) and name == "shape":
        return torch.Size(obj.arr.shape)
    if isinstance(obj, Sym) and name == "device":
        return torch.device("cpu")
    if isinstance(obj, tuple) and name in getattr(obj, "_fields", ()):
        return getattr(obj, name)
    raise InputError(f"unsupported attribute .{name} at {place}")


# -- arithmetic ---------------------------------------------------------------------------


def _result(arr: np.ndarray, operands: Sequence[Sym]) -> Sym:
    with_batch = [s for s in operands if s.batched]
    if with_batch and arr.ndim != max(s.arr.ndim for s in with_batch):
        raise InputError("broadcasting adds axes before the batch axis")
    return Sym(arr, bool(with_batch))


def add(b: Builder, x: Sym, y: Sym, alpha: Fraction, name: str) -> Sym:
    """x + alpha * y, entrywise with broadcasting."""
    one = Fraction(1)
    return _result(ops.binary(x.arr, y.arr, lambda p, q, nm: b.lincomb(((one, p), (alpha, q)),
                                                                          nm), name), (x, y))


def _constant(a: Affine) -> Fraction | None:
    return a.coef()[1] if a.is_coef and not a.has_param else None


def mul(b: Builder, x: Sym, y: Sym, name: str) -> Sym:
    """x * y: entry by entry, a scaling when one factor is a constant or a parameter, else
    a product neuron (smooth)."""

    return _result(ops.binary(x.arr, y.arr, lambda p, q, nm: times(b, p, q, nm), name),
                   (x, y))


def times(b: Builder, p: Affine, q: Affine, nm: str) -> Affine:
    """The entry p * q: a scaling when one factor is a constant or a parameter, else a
    product neuron."""
    for u, v in ((p, q), (q, p)):
        c = _constant(u)
        if c is not None:
            return b.lincomb(((c, v),), nm)
    for u, v in ((p, q), (q, p)):
        if u.is_coef:
            return b.scale_by_param(u.coef(), v, nm)
    return smooth.product(b, p, q, nm)


def div(b: Builder, x: Sym, y: Sym, name: str) -> Sym:
    """x / y: for a constant y, a scaling (exact: division by 3 is multiplication by 1/3);
    else a quotient neuron (smooth)."""

    def over(p: Affine, q: Affine, nm: str) -> Affine:
        c = _constant(q)
        if c is None:
            return smooth.quotient(b, p, q, nm)
        if c == 0:
            raise InputError("division by zero")
        return b.lincomb(((1 / c, p),), nm)

    return _result(ops.binary(x.arr, y.arr, over, name), (x, y))


def neg(b: Builder, x: Sym, name: str) -> Sym:
    """-x."""
    out = ops.new_array(x.arr.shape)
    for idx in np.ndindex(*x.arr.shape):
        out[idx] = b.lincomb(((Fraction(-1), x.arr[idx]),), ops.label(name, idx))
    return Sym(out, x.batched)
