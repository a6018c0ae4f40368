"""Reading ``torch.fx`` nodes: arguments matched against a signature, integer tuples,
a convolution's geometry, readable op names and short error lines (all errors are one-line InputErrors)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch.nn.functional as F
from torch import nn

from ..core.errors import InputError

REQUIRED = {"input", "weight", "other", "tensors", "kernel_size", "output_size", "shape", "pad"}


def first_line(e: BaseException) -> str:
    """The first non-empty line of an exception's text, at most 200 characters."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    text = lines[0] if lines else type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def op_name(fn: Any, node: Any) -> str:
    """A readable name of a function (torch's builtins print oddly)."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or node.name
    mod = getattr(fn, "__module__", None)
    full = f"{mod}.{name}" if mod and mod not in ("builtins", "_operator") else name
    full = re.sub(r"^torch\._C\._nn\.", "torch.nn.functional.", full)
    full = re.sub(r"^(torch\.)?_VariableFunctionsClass\.", "torch.", full)
    return node.name if "<locals>" in full else full


def match_args(args: Sequence[Any], kwargs: dict[str, Any], *spec: tuple[str, Any],
               optional: tuple[str, ...] = ()) -> list[Any]:
    """Positional and keyword arguments matched against (name, default) pairs; a name in
    :data:`REQUIRED` must be given unless it is ``optional`` here (a normalisation's
    weight)."""
    if len(args) > len(spec):
        raise InputError("too many arguments")
    extra = set(kwargs) - {n for n, _ in spec}
    if extra:
        raise InputError(f"unsupported argument {min(extra)!r}")
    out = list(args) + [kwargs.get(n, d) for n, d in spec[len(args):]]
    for (n, _), v in zip(spec, out):
        if v is None and n in REQUIRED and n not in optional:
            raise InputError(f"missing argument {n!r}")
    return out


ADAPTIVE_POOLS: dict[Any, tuple[int, str]] = {
    nn.AdaptiveAvgPool1d: (1, "avg"), nn.AdaptiveAvgPool2d: (2, "avg"),
    nn.AdaptiveMaxPool1d: (1, "max"), nn.AdaptiveMaxPool2d: (2, "max"),
    F.adaptive_avg_pool1d: (1, "avg"), F.adaptive_avg_pool2d: (2, "avg"),
    F.adaptive_max_pool1d: (1, "max"), F.adaptive_max_pool2d: (2, "max"),
}


@dataclass(frozen=True)
class PoolCall:
    """A functional pool's arguments, matched against PyTorch's signature: ``kind`` is
    "max", "avg" or "adaptive" (then ``reduce`` is "max" or "avg" and ``size`` the
    output size)."""

    kind: str
    d: int
    x: Any
    kernel: Any = None
    stride: Any = None
    padding: Any = 0
    dilation: Any = 1
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor: Any = None
    size: Any = None
    reduce: str = ""


def pool_call(fn: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> PoolCall | None:
    """The call's arguments if ``fn`` is a functional max, average or adaptive pool, else
    None (one reading for the importer and the audits' graph walks); ``return_indices``
    is refused."""
    if fn in (F.max_pool1d, F.max_pool2d):
        x, k, st, pad, dil, ceil, ind = match_args(
            args, kwargs, ("input", None), ("kernel_size", None), ("stride", None),
            ("padding", 0), ("dilation", 1), ("ceil_mode", False), ("return_indices", False))
        if ind:
            raise InputError("return_indices is not supported")
        return PoolCall("max", 1 if fn is F.max_pool1d else 2, x, k, st, pad, dil, ceil)
    if fn in (F.avg_pool1d, F.avg_pool2d):
        spec: list[tuple[str, Any]] = [
            ("input", None), ("kernel_size", None), ("stride", None), ("padding", 0),
            ("ceil_mode", False), ("count_include_pad", True)]
        if fn is F.avg_pool2d:
            spec.append(("divisor_override", None))
        x, k, st, pad, ceil, cip, *div = match_args(args, kwargs, *spec)
        return PoolCall("avg", 1 if fn is F.avg_pool1d else 2, x, k, st, pad, 1, ceil, cip,
                        div[0] if div else None)
    if fn in ADAPTIVE_POOLS:
        d, red = ADAPTIVE_POOLS[fn]
        extra = [("return_indices", False)] if red == "max" else []
        x, size, *ind = match_args(args, kwargs, ("input", None), ("output_size", None),
                                   *extra)
        if ind and ind[0]:
            raise InputError("return_indices is not supported")
        return PoolCall("adaptive", d, x, size=size, reduce=red)
    return None


def int_tuple(v: Any, d: int, what: str) -> list[int]:
    """An int or a sequence of d ints (a one-element sequence is repeated)."""
    vals = [v] * d if isinstance(v, int) else list(v) if isinstance(v, (tuple, list)) else None
    if vals is not None and len(vals) == 1 and d > 1:
        vals = vals * d
    if vals is None or len(vals) != d or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in vals):
        raise InputError(f"{what}: expected {d} integer(s), got {v!r}")
    return vals


def conv_geometry(K: Sequence[int], stride: Any, padding: Any, dilation: Any, groups: Any
                  ) -> tuple[list[int], list[tuple[int, int]], list[int]]:
    """(stride, (low, high) padding per axis, dilation) of a convolution with kernel shape
    K, from PyTorch's arguments (``padding`` an int, a tuple, ``"valid"`` or ``"same"``)."""
    d = len(K)
    st, dl = int_tuple(stride, d, "stride"), int_tuple(dilation, d, "dilation")
    if padding == "valid":
        pads = [(0, 0)] * d
    elif padding == "same":
        if any(s != 1 for s in st):
            raise InputError("padding='same' needs stride 1")
        pads = [(e * (k - 1) // 2, e * (k - 1) - e * (k - 1) // 2) for e, k in zip(dl, K)]
    else:
        pads = [(p, p) for p in int_tuple(padding, d, "padding")]
    if not isinstance(groups, int) or groups < 1 or min(*st, *dl) < 1 or \
            min(lo for lo, _ in pads) < 0:
        raise InputError("stride, dilation and groups must be positive")
    return st, pads, dl
