"""Exact values of a PyTorch model: trainable parameters in ``named_parameters()`` order,
frozen parameters, buffers and constants as exact rationals (every float of every dtype is dyadic), and the
symbolic tensors (:class:`Sym`) the importer computes with; BatchNorm's 1/sqrt(var + eps)
as PyTorch computes it (:func:`inv_sqrt`)."""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import torch
from torch import nn

from ..core.errors import InputError
from ..nets.batch import by_value as _by_value
from ..nets.batch import tensor_problem
from ..nets.ir import Value
from .symbolic import const_entry, param_entry


class CouplesExamples(InputError):
    """The model couples the examples of a batch (BatchNorm with batch statistics): it is
    imported over the whole batch (``whole_batch``), not one example."""


class ReadsInputValues(CouplesExamples):
    """The import depends on the input's values (token indices of an embedding): the
    whole batch is imported, afresh for every batch."""


class NeedsMasks(ReadsInputValues):
    """Dropout in training mode: the import needs the masks of the audited pass."""


@dataclass
class Sym:
    """A symbolic tensor: entries (:class:`~adcorrect.torchfx.symbolic.Affine`) in a numpy
    object array.  ``batched`` tensors depend on the input and carry the batch axis
    (size 1) first; others are parameters or constants (``dtype``: their stored dtype)."""

    arr: np.ndarray
    batched: bool
    dtype: torch.dtype | None = None

    def constants(self) -> np.ndarray | None:
        """The exact constants of a tensor without sources or parameters (same shape,
        Fractions), or None."""
        out = np.empty(self.arr.shape, dtype=object)
        for idx in np.ndindex(*self.arr.shape):
            e = self.arr[idx]
            if not e.is_coef or e.coef()[0] != "const":
                return None
            out[idx] = e.coef()[1]
        return out


def exact_tensor(t: torch.Tensor, what: str) -> list[Fraction]:
    """The entries of t, flattened row-major, as exact rationals (each distinct value
    converted once); InputError for a tensor that is not a plain CPU tensor (meta, sparse,
    quantized, complex, a subclass) and naming the first NaN or infinite entry."""
    why = tensor_problem(t)
    if why is not None:
        raise InputError(f"{what}: {why} is not supported")
    t = t.detach()
    if not t.is_floating_point():
        return _by_value(t.reshape(-1).numpy(), lambda v: Fraction(int(v)))
    flat = t.to(torch.float64).reshape(-1).numpy()
    bad = np.flatnonzero(~np.isfinite(flat))
    if bad.size:
        i = int(bad[0])
        pos = ",".join(map(str, np.unravel_index(i, tuple(t.shape)))) if t.dim() else ""
        where = f"{what}[{pos}]" if pos else what
        raise InputError(f"{where} is {flat[i]} (not a finite number)")
    return _by_value(flat, lambda v: Fraction(float(v)))


def index_names(name: str, shape: Sequence[int]) -> list[str]:
    """``name[i,j,...]`` for every index of shape, row-major (``name`` for a 0-d shape)."""
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]"
            for idx in itertools.product(*(range(n) for n in shape))]


def number(x: Any, what: str) -> Fraction:
    """A Python number argument, exactly."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise InputError(f"{what}: expected a finite number, got {x!r}")
    return Fraction(x)


def kernel_scalar(x: Any, dtype: torch.dtype, what: str) -> Fraction:
    """A Python number as PyTorch's kernels use it, exactly: the double for float64
    computation, else rounded to float32 (InputError if not finite or it overflows)."""
    v = number(x, what)
    if dtype == torch.float64:
        return Fraction(float(v))
    with np.errstate(over="ignore"):
        r = float(np.float32(float(v)))
    if not math.isfinite(r):
        raise InputError(f"{what}: {x!r} overflows float32")
    return Fraction(r)


def to_sym(x: Any, what: str) -> Sym:
    """A tensor argument (numbers become 0-d constants)."""
    if isinstance(x, Sym):
        return x
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        arr = np.empty((), dtype=object)
        arr[()] = const_entry(number(x, what))
        return Sym(arr, False)
    raise InputError(f"{what}: expected a tensor, got {type(x).__name__}")


def coefs_of(s: Sym, what: str) -> np.ndarray:
    """The parameters/constants of a weight-like symbolic tensor."""
    if s.batched or any(not e.is_coef for e in s.arr.reshape(-1)):
        raise InputError(f"{what}: depends on the input (only parameters and constants can "
                         "be weights)")
    return np.fromiter((e.coef() for e in s.arr.reshape(-1)), dtype=object,
                       count=s.arr.size).reshape(s.arr.shape)


def trainable(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """The parameters of the model's function: ``named_parameters()`` in order, those with
    ``requires_grad`` (frozen ones are constants, see :func:`frozen`)."""
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


def frozen(model: nn.Module) -> list[str]:
    """Names of the frozen parameter tensors (``requires_grad=False``), in order."""
    return [n for n, p in model.named_parameters() if not p.requires_grad]


class ModelParams:
    """The trainable parameters (:func:`trainable`) in order: names, exact values and index
    blocks by identity (a parameter registered twice is one block); frozen tensors are
    constants.  ``dtype``: the first floating parameter's, frozen or not."""

    def __init__(self, model: nn.Module) -> None:
        from .load import check_model_size

        check_model_size(model)
        self.blocks: dict[int, int] = {}
        self.dtype: torch.dtype | None = None
        for _, p in model.named_parameters():
            if self.dtype is None and p.is_floating_point():
                self.dtype = p.dtype
        self._params = trainable(model)
        n = 0
        for _, p in self._params:
            self.blocks[id(p)] = n
            n += p.numel()
        self._names: list[str] | None = None
        self._values: list[Fraction] | None = None

    @property
    def names(self) -> list[str]:
        """``module.weight[i,j]`` for every trainable entry (built on first use)."""
        if self._names is None:
            self._names = [s for name, p in self._params
                           for s in index_names(name, tuple(p.shape))]
        return self._names

    @property
    def values(self) -> list[Fraction]:
        """The trainable entries, exactly (converted on first use: an import that fails
        converts nothing)."""
        if self._values is None:
            self._values = [v for name, p in self._params
                            for v in exact_tensor(p, f"parameter {name}")]
        return self._values

    def coefs(self, t: torch.Tensor, what: str) -> np.ndarray:
        """Coefficients of a tensor: its parameters if it is one, else exact constants."""
        if id(t) in self.blocks:
            base = self.blocks[id(t)]
            vals: Iterable[Value] = (("param", base + i) for i in range(t.numel()))
        else:
            vals = (("const", v) for v in exact_tensor(t, what))
        return np.fromiter(vals, dtype=object, count=t.numel()).reshape(tuple(t.shape))

    def sym(self, t: torch.Tensor, what: str) -> Sym:
        """A parameter or constant tensor as a symbolic tensor."""
        entries = (param_entry(v, self.names[v]) if kind == "param" else const_entry(v)
                   for kind, v in self.coefs(t, what).reshape(-1))
        arr = np.fromiter(entries, dtype=object, count=t.numel()).reshape(tuple(t.shape))
        return Sym(arr, False, t.dtype)


def inv_sqrt(var: Fraction, eps: float, dtype: torch.dtype) -> Fraction:
    """1/sqrt(var + eps) as PyTorch's CPU batch norm computes it: in float64 for float64
    statistics, else in float32 (its opmath type), each operation correctly rounded."""
    with np.errstate(all="ignore"):
        if dtype == torch.float64:
            s, r = float(var) + eps, 0.0
            if s > 0:
                r = 1.0 / math.sqrt(s)
        else:
            s32 = np.float32(float(var)) + np.float32(eps)
            s, r = float(s32), float(np.float32(1) / np.sqrt(s32)) if s32 > 0 else 0.0
    if not s > 0:
        raise InputError(f"running_var + eps = {s} is not positive")
    if not math.isfinite(r):
        raise InputError("1/sqrt(running_var + eps) overflows")
    return Fraction(r)


def inv_sqrt_all(var: torch.Tensor, eps: float) -> torch.Tensor:
    """:func:`inv_sqrt` of every entry of a running variance (its dtype says how PyTorch
    computes), as float64: the same correctly rounded operations on numpy arrays."""
    v = var.detach().to(torch.float64).numpy()
    with np.errstate(all="ignore"):
        if var.dtype == torch.float64:
            s = v + eps
            r = 1.0 / np.sqrt(s)
        else:
            s32 = v.astype(np.float32) + np.float32(eps)
            s, r = s32.astype(np.float64), (np.float32(1) / np.sqrt(s32)).astype(np.float64)
    bad = ~(s > 0)
    if bad.any():
        raise InputError(f"running_var + eps = {float(s[bad][0])} is not positive")
    if not np.isfinite(r).all():
        raise InputError("1/sqrt(running_var + eps) overflows")
    return torch.from_numpy(np.ascontiguousarray(r, dtype=np.float64))


_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
          "_state_dict_hooks", "_load_state_dict_pre_hooks")


def import_key(model: nn.Module, example_shape: Sequence[int]) -> tuple[Any, ...]:
    """Everything an import of ``model`` depends on besides the trainable parameters'
    values: the module tree (identities, classes, children's names, train/eval mode,
    hooks (their handles' ids: a hook replaced by another is a change), instance
    attributes shadowing ``forward``), the parameters' identities, shapes,
    dtypes and ``requires_grad``, the values of frozen parameters and buffers (BatchNorm's
    running statistics, in eval mode: in training mode it uses the batch's), and the
    example shape.  Equal keys: the same imported function.  One walk in
    ``named_modules()``'s order (depth first, shared modules once), read at every call."""
    mods, params, tensors = [], [], []
    seen: set[int] = set()
    stack = [model]
    while stack:
        m = stack.pop()
        if id(m) in seen:
            continue
        seen.add(id(m))
        own = m.__dict__
        ps, bs = own.get("_parameters", {}), own.get("_buffers", {})
        ms = own.get("_modules", {})
        hooks = tuple([tuple(own.get(h) or ()) for h in _HOOKS])
        mods.append((id(m), type(m), m.training, hooks, "forward" in own, tuple(ps),
                     tuple(bs), tuple(ms)))
        for p in ps.values():
            if p is not None and id(p) not in seen:
                seen.add(id(p))
                params.append((id(p), p.shape, p.dtype, p.requires_grad))
                if not p.requires_grad:
                    tensors.append(p)
        if not (m.training and isinstance(m, _BATCHNORM)):  # training: batch statistics,
            for b in bs.values():  # the running ones are not part of the function
                if b is not None and id(b) not in seen:
                    seen.add(id(b))
                    tensors.append(b)
        stack.extend(c for c in reversed(ms.values()) if c is not None)
    digest = None
    if tensors:
        d = hashlib.blake2b(digest_size=16)
        for t in tensors:
            _digest_tensor(d, t)
        digest = d.hexdigest()
    return (tuple(mods), tuple(params), digest, tuple(example_shape))


_BATCHNORM = nn.modules.batchnorm._BatchNorm


def _digest_tensor(digest: Any, t: torch.Tensor) -> None:
    t = t.detach()
    digest.update(f"{t.dtype}{tuple(t.shape)}{t.device}|".encode())
    if t.device.type == "meta" or t.is_sparse or t.is_quantized:
        return
    digest.update(t.contiguous().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
