"""Reading ``torch.fx`` nodes: arguments matched against a signature, integer tuples,
a convolution's geometry, readable op names and short error lines (all errors are one-line InputErrors)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

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


def match_args(args: Sequence[Any], kwargs: dict[str, Any], *spec: tuple[str, Any]) -> list[Any]:
    """Positional and keyword arguments matched against (name, default) pairs."""
    if len(args) > len(spec):
        raise InputError("too many arguments")
    extra = set(kwargs) - {n for n, _ in spec}
    if extra:
        raise InputError(f"unsupported argument {min(extra)!r}")
    out = list(args) + [kwargs.get(n, d) for n, d in spec[len(args):]]
    for (n, _), v in zip(spec, out):
        if v is None and n in REQUIRED:
            raise InputError(f"missing argument {n!r}")
    return out


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
