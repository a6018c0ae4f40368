"""Reading ``torch.fx`` nodes: arguments matched against a signature, integer tuples,
readable op names and short error lines (all errors are one-line InputErrors)."""

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
