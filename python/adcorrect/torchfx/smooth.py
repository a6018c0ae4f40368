"""Smooth operations of real models as IR neurons (THEORY.md section 8: C1
pre-activations): smooth activations (tanh, sigmoid, GELU exact and tanh-approximate,
SiLU, softplus, ELU with any alpha, mish), exp / log / sqrt / 1/sqrt, products and
quotients of values, softmax and log-softmax, means, LayerNorm and RMSNorm.

Products become ``op="mul"`` neurons and quotients ``op="div"`` neurons; unary functions
are smooth activations (:func:`adcorrect.nets.activations.smooth`).  Networks with any of
them are decided by the certified engine; the exact tools refuse them with one line.
Hyper-parameters (eps, alpha, beta) are taken as PyTorch's kernels use them (rounded to
the compute dtype, :func:`~adcorrect.torchfx.values.kernel_scalar`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import InputError
from ..nets import activations as acts
from . import ops, selection
from .fxargs import match_args
from .symbolic import ONE, Affine, Builder, source_entry
from .values import CouplesExamples, Sym

Scalar = Callable[[Any, str], Fraction]


def product(b: Builder, p: Affine, q: Affine, name: str) -> Affine:
    """The entry p * q of two entries computed from the input: a product neuron."""
    k = b.add(acts.identity(), ((b.source(p), ONE), (b.source(q), ONE)), None, name, op="mul")
    return source_entry(k, b.neurons[k].name)


def quotient(b: Builder, p: Affine, q: Affine, name: str) -> Affine:
    """The entry p / q: a quotient neuron."""
    k = b.add(acts.identity(), ((b.source(p), ONE), (b.source(q), ONE)), None, name, op="div")
    return source_entry(k, b.neurons[k].name)


def unary(b: Builder, p: Affine, fn: str, name: str, args: tuple[Fraction, ...] = ()) -> Affine:
    return b.activate(p, acts.smooth(fn, args), name)


def _axes(arr: np.ndarray, dims: Sequence[int]) -> tuple[int, ...]:
    n = arr.ndim
    out: list[int] = []
    for d in dims:
        if not isinstance(d, int) or isinstance(d, bool) or not -n <= d < n:
            raise InputError(f"dim {d!r} out of range for {n} axes")
        if d % n == 0:
            raise InputError("reduces over the batch axis")
        out.append(d % n)
    return tuple(sorted(set(out)))


def _groups(arr: np.ndarray, axes: tuple[int, ...]) -> list[tuple[list[tuple[int, ...]], tuple[int, ...]]]:
    """For every index of the kept axes: the full indices of its group, and the kept index."""
    keep = [a for a in range(arr.ndim) if a not in axes]
    out = []
    for kidx in np.ndindex(*[arr.shape[a] for a in keep]):
        members = []
        for ridx in np.ndindex(*[arr.shape[a] for a in axes]):
            full = [0] * arr.ndim
            for a, i in zip(keep, kidx):
                full[a] = i
            for a, i in zip(axes, ridx):
                full[a] = i
            members.append(tuple(full))
        out.append((members, kidx))
    return out


def mean(b: Builder, arr: np.ndarray, dims: Sequence[int], keepdim: bool, name: str,
         total: bool = False) -> np.ndarray:
    """``x.mean(dims, keepdim)``, or ``x.sum(dims, keepdim)`` with ``total`` (linear maps
    with constant weights)."""
    axes = _axes(arr, dims)
    shape = [1 if a in axes else s for a, s in enumerate(arr.shape)]
    out = ops.new_array(shape)
    for members, _ in _groups(arr, axes):
        c = Fraction(1) if total else Fraction(1, len(members))
        idx = tuple(0 if a in axes else members[0][a] for a in range(arr.ndim))
        out[idx] = b.lincomb(((c, arr[m]) for m in members), ops.label(name, idx))
    if not keepdim:
        out = out.reshape([s for a, s in enumerate(arr.shape) if a not in axes])
    return out


def _centred(b: Builder, arr: np.ndarray, members: list[tuple[int, ...]], nm: str,
             name: str) -> list[Affine]:
    """The members minus their mean, the mean one neuron read by every centred entry."""
    n = Fraction(1, len(members))
    mean = b.lincomb(((n, arr[m]) for m in members), f"{nm}/mean")
    mu = source_entry(b.source(mean), f"{nm}/mean")
    return [b.lincomb(((Fraction(1), arr[m]), (Fraction(-1), mu)), ops.label(f"{name}/c", m))
            for m in members]


def variance(b: Builder, arr: np.ndarray, dims: Sequence[int], correction: Fraction,
             keepdim: bool, std: bool, name: str) -> np.ndarray:
    """``x.var(dims, correction=c)`` (``sum (x - mean)^2 / (N - c)``) or ``x.std``, its
    square root: the mean one neuron, the squares product neurons."""
    axes = _axes(arr, dims)
    out = ops.new_array([1 if a in axes else s for a, s in enumerate(arr.shape)])
    for members, _ in _groups(arr, axes):
        idx = tuple(0 if a in axes else members[0][a] for a in range(arr.ndim))
        nm = ops.label(name, idx)
        if len(members) - correction <= 0:
            raise InputError(f"a variance of {len(members)} entries with correction "
                             f"{correction} divides by {len(members) - correction}")
        d = 1 / (len(members) - correction)
        cs = _centred(b, arr, members, nm, name)
        sq = [product(b, c, c, ops.label(f"{name}/sq", m)) for c, m in zip(cs, members)]
        var = b.lincomb(((d, s) for s in sq), nm if not std else f"{nm}/var")
        out[idx] = unary(b, var, "sqrt", nm) if std else var
    if not keepdim:
        out = out.reshape([s for a, s in enumerate(arr.shape) if a not in axes])
    return out


def _var_call(imp: Any, name: str, x: Any, rest: tuple[Any, ...], kwargs: dict[str, Any],
              where: str) -> Sym:
    """``x.var``/``x.std`` and ``torch.var``/``torch.std``: (dim, unbiased, keepdim)
    positionally, or ``correction=`` (default 1, unbiased)."""
    kw = dict(kwargs)
    correction = kw.pop("correction", None)
    dim, unbiased, keep = match_args(rest, kw, ("dim", None), ("unbiased", True),
                                     ("keepdim", False))
    if isinstance(dim, bool):  # x.var(False): the old signature var(unbiased)
        dim, unbiased = None, dim
    if dim is None:
        raise InputError(f"a {name} over every axis includes the batch axis")
    c = imp.scalar(1 if correction is None and unbiased else 0 if correction is None
                   else correction, "correction")
    dims = [dim] if isinstance(dim, int) else list(dim)
    return _sym(variance(imp.b, imp.batched(x), dims, c, bool(keep), name == "std", where))


def normalise(b: Builder, arr: np.ndarray, axes: tuple[int, ...], eps: Fraction,
              centre: bool, gamma: np.ndarray | None, beta: np.ndarray | None,
              pidx: Callable[[tuple[int, ...]], tuple[int, ...]], name: str) -> np.ndarray:
    """Normalisation over ``axes`` (mean-centred for LayerNorm and BatchNorm, not for
    RMSNorm): ``(x - mean) * rsqrt(var + eps)`` with the biased variance, then
    ``gamma * . + beta`` with gamma and beta read at ``pidx(index)``."""
    out = ops.new_array(arr.shape)
    for members, kidx in _groups(arr, axes):
        nm = ops.label(name, kidx)
        n = Fraction(1, len(members))
        cs = _centred(b, arr, members, nm, name) if centre else [arr[m] for m in members]
        sq = [product(b, c, c, ops.label(f"{name}/sq", m)) for c, m in zip(cs, members)]
        var = b.lincomb(((n, s) for s in sq), f"{nm}/var", eps)
        r = unary(b, var, "rsqrt", f"{nm}/rstd")
        for c, m in zip(cs, members):
            v = product(b, c, r, ops.label(f"{name}/norm", m))
            g = None if gamma is None else gamma[pidx(m)]
            bt = None if beta is None else beta[pidx(m)]
            terms = () if g is not None and g[0] == "const" and g[1] == 0 else \
                ((b.source(v), g if g is not None else ONE),)
            bias = None if bt is None or (bt[0] == "const" and bt[1] == 0) else bt
            out[m] = Affine(terms, bias, ops.label(name, m))
    return out


def softmax(b: Builder, arr: np.ndarray, dim: int, log: bool, name: str) -> np.ndarray:
    """softmax / log_softmax along dim: exp(x_i) / sum_j exp(x_j), x_i - log sum_j exp(x_j)."""
    axes = _axes(arr, [dim])
    out = ops.new_array(arr.shape)
    for members, kidx in _groups(arr, axes):
        nm = ops.label(name, kidx)
        es = [unary(b, arr[m], "exp", ops.label(f"{name}/exp", m)) for m in members]
        total = b.lincomb(((Fraction(1), e) for e in es), f"{nm}/sum")
        if log:
            lse = unary(b, total, "log", f"{nm}/logsumexp")
            for m in members:
                out[m] = b.lincomb(((Fraction(1), arr[m]), (Fraction(-1), lse)), ops.label(name, m))
        else:
            for e, m in zip(es, members):
                out[m] = quotient(b, e, total, ops.label(name, m))
    return out


def _gelu(approximate: Any) -> str:
    if approximate not in ("none", "tanh"):
        raise InputError(f"approximate={approximate!r} (use 'none' or 'tanh')")
    return "gelu" if approximate == "none" else "gelu_tanh"


def _positive(s: Scalar, v: Any, what: str) -> Fraction:
    x = s(v, what)
    if x <= 0:
        raise InputError(f"{what} must be positive")
    return x


#: module type -> (scalar, module) -> (fn, args)
MODULE_FNS: dict[type, Callable[[Scalar, Any], tuple[str, tuple[Fraction, ...]]]] = {
    nn.Tanh: lambda s, m: ("tanh", ()),
    nn.Sigmoid: lambda s, m: ("sigmoid", ()),
    nn.GELU: lambda s, m: (_gelu(m.approximate), ()),
    nn.SiLU: lambda s, m: ("silu", ()),
    nn.Mish: lambda s, m: ("mish", ()),
    nn.ELU: lambda s, m: ("elu", (s(m.alpha, "alpha"),)),
    nn.Softplus: lambda s, m: ("softplus", (_positive(s, m.beta, "beta"),)),
}

#: function -> (extra arguments after the input (name, default), (scalar, values) -> (fn, args))
FUNC_FNS: dict[Any, tuple[tuple[tuple[str, Any], ...],
                          Callable[[Scalar, list[Any]], tuple[str, tuple[Fraction, ...]]]]] = {
    torch.tanh: ((), lambda s, v: ("tanh", ())),
    F.tanh: ((), lambda s, v: ("tanh", ())),
    torch.sigmoid: ((), lambda s, v: ("sigmoid", ())),
    F.sigmoid: ((), lambda s, v: ("sigmoid", ())),
    F.gelu: ((("approximate", "none"),), lambda s, v: (_gelu(v[0]), ())),
    F.silu: ((("inplace", False),), lambda s, v: ("silu", ())),
    F.mish: ((("inplace", False),), lambda s, v: ("mish", ())),
    F.elu: ((("alpha", 1.0), ("inplace", False)), lambda s, v: ("elu", (s(v[0], "alpha"),))),
    F.softplus: ((("beta", 1.0), ("threshold", 20.0)),
                 lambda s, v: ("softplus", (_positive(s, v[0], "beta"),))),
    torch.exp: ((), lambda s, v: ("exp", ())),
    torch.log: ((), lambda s, v: ("log", ())),
    torch.sqrt: ((), lambda s, v: ("sqrt", ())),
    torch.rsqrt: ((), lambda s, v: ("rsqrt", ())),
    torch.reciprocal: ((), lambda s, v: ("reciprocal", ())),
}

METHOD_FNS = {"tanh", "sigmoid", "exp", "log", "sqrt", "rsqrt", "reciprocal"}


def elementwise(b: Builder, arr: np.ndarray, fn: str, args: tuple[Fraction, ...], name: str
                ) -> np.ndarray:
    return ops.activation(b, arr, acts.smooth(fn, args), name)


def _sym(arr: np.ndarray) -> Sym:
    return Sym(arr, True)


def _norm_shape(shape: Any, arr: np.ndarray) -> int:
    dims = [shape] if isinstance(shape, int) else list(shape)
    if tuple(arr.shape[arr.ndim - len(dims):]) != tuple(dims) or len(dims) >= arr.ndim:
        raise InputError(f"normalized_shape {tuple(dims)} does not end the input's shape "
                         f"{tuple(arr.shape)}")
    return len(dims)


def _layer_norm(imp: Any, x: Any, shape: Any, weight: Any, bias: Any, eps: Any, centre: bool,
                where: str) -> Sym:
    arr = imp.batched(x)
    k = _norm_shape(shape, arr)
    if eps is None:  # RMSNorm's default: the dtype's machine epsilon
        eps = torch.finfo(imp.compute_dtype).eps
    e = imp.scalar(eps, "eps")
    if e <= 0 and centre:
        raise InputError("eps must be positive")
    g, bt = imp.weights(weight, "weight"), imp.weights(bias, "bias")
    axes = tuple(range(arr.ndim - k, arr.ndim))
    return _sym(normalise(imp.b, arr, axes, e, centre, g, bt, lambda m: m[arr.ndim - k:],
                          where))


def elementwise_max(imp: Any, x: Sym, y: Sym, is_max: bool, where: str) -> Sym:
    """``torch.maximum``/``minimum`` of two tensors: max nodes whose tie splits the
    gradient in half, as PyTorch does."""
    out = ops.binary(x.arr, y.arr, lambda p, q, nm: imp.b.maximum(
        [p, q], nm, lowest=not is_max, half=True), where)
    return Sym(out, x.batched or y.batched)


def group_norm(imp: Any, x: Any, groups: Any, weight: Any, bias: Any, eps: Any,
               where: str) -> Sym:
    """GroupNorm: per example, over each group of channels and the spatial axes."""
    arr = imp.batched(x)
    if arr.ndim < 2 or not isinstance(groups, int) or groups < 1 or arr.shape[1] % groups:
        raise InputError(f"{arr.shape[1] if arr.ndim > 1 else 0} channels do not split into "
                         f"{groups!r} groups")
    cpg = arr.shape[1] // groups
    g = arr.reshape(arr.shape[0], groups, cpg, *arr.shape[2:])
    gamma, beta = imp.weights(weight, "weight"), imp.weights(bias, "bias")
    for t, nm in ((gamma, "weight"), (beta, "bias")):
        if t is not None and t.shape != (arr.shape[1],):
            raise InputError(f"{nm} must have one entry per channel ({arr.shape[1]})")
    out = normalise(imp.b, g, tuple(range(2, g.ndim)), imp.scalar(eps, "eps"), True, gamma,
                    beta, lambda m: (m[1] * cpg + m[2],), where)
    return _sym(out.reshape(arr.shape))


def instance_norm(imp: Any, x: Any, running: tuple[Any, Any] | None, weight: Any, bias: Any,
                  eps: Any, where: str, what: str, dims: int | None = None) -> Sym:
    """InstanceNorm (``nn.InstanceNorm1d/2d/3d``, ``F.instance_norm``): per example and
    channel over the spatial axes with the biased variance (GroupNorm with one channel
    per group), or, with ``running`` statistics (a module that tracks them, in eval
    mode), BatchNorm's eval-mode affine map.  ``dims``: the batch's number of axes the
    module expects (PyTorch reads one axis fewer as an unbatched input: refused)."""
    arr = imp.batched(x)
    if dims is not None and arr.ndim != dims:
        raise InputError(f"{what} expects a {dims}-d batch (N, C, ...), gets {arr.ndim}-d")
    if arr.ndim < 3:
        raise InputError(f"{what} needs a spatial axis: expects (N, C, L, ...), gets "
                         f"{arr.ndim}-d")
    if running is not None:
        return imp.batch_norm(x, *running, weight, bias, eps, where)
    return group_norm(imp, x, arr.shape[1], weight, bias, eps, where)


def instance_norm_module(imp: Any, m: Any, x: Any, where: str) -> Sym:
    """An ``nn.InstanceNorm1d/2d/3d`` module (:func:`instance_norm`)."""
    kind = type(m).__name__
    running = (m.running_mean, m.running_var) if m.track_running_stats and \
        not m.training and m.running_mean is not None else None
    return instance_norm(imp, x, running, m.weight, m.bias, m.eps, where,
                         f"{kind} at {where}", m._get_no_batch_dim() + 1)


def batch_norm_train(imp: Any, x: Any, weight: Any, bias: Any, eps: Any, where: str,
                     what: str, training: bool) -> Sym:
    """BatchNorm with the batch's statistics (training mode, or no running statistics):
    per channel (axis 1), over the batch and the spatial axes, with the biased variance.
    The running statistics are not updated (an audit changes nothing).  Only in a
    whole-batch import: else :class:`~.values.CouplesExamples`."""
    if not imp.whole:
        why, fix = ("is in training mode", "; call model.eval() first") if training else \
            ("has no running statistics", "")
        raise CouplesExamples(f"{what} {why}: it normalises with the batch's statistics, "
                              f"which couple the examples{fix}")
    arr = imp.batched(x)
    if arr.ndim not in (2, 3, 4):
        raise InputError(f"expects a 2-d, 3-d or 4-d input, gets {arr.ndim}-d")
    if arr.shape[0] * int(np.prod(arr.shape[2:])) < 2:
        raise InputError("batch statistics need more than one value per channel")
    e = imp.scalar(eps, "eps")
    g, bt = imp.weights(weight, "weight"), imp.weights(bias, "bias")
    for t, nm in ((g, "weight"), (bt, "bias")):
        if t is not None and t.shape != (arr.shape[1],):
            raise InputError(f"{nm} must have one entry per channel")
    axes = (0, *range(2, arr.ndim))
    return _sym(normalise(imp.b, arr, axes, e, True, g, bt, lambda m: (m[1],), where))


def _dim(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise InputError(f"dim must be an integer, got {v!r}")
    return v


def module_call(imp: Any, m: nn.Module, x: Any, where: str) -> Sym | None:
    """A smooth module, or None."""
    kind = type(m)
    if kind in MODULE_FNS:
        fn, a = MODULE_FNS[kind](imp.scalar, m)
        return _sym(elementwise(imp.b, imp.batched(x), fn, a, where))
    if kind is nn.LayerNorm:
        return _layer_norm(imp, x, m.normalized_shape, m.weight, m.bias, m.eps, True, where)
    if kind is nn.RMSNorm:
        return _layer_norm(imp, x, m.normalized_shape, m.weight, None, m.eps, False, where)
    if kind is nn.GroupNorm:
        return group_norm(imp, x, m.num_groups, m.weight, m.bias, m.eps, where)
    if isinstance(m, nn.modules.instancenorm._InstanceNorm):
        return instance_norm_module(imp, m, x, where)
    if kind in (nn.Softmax, nn.LogSoftmax):
        if m.dim is None:
            raise InputError(f"{kind.__name__} needs an explicit dim")
        return _sym(softmax(imp.b, imp.batched(x), _dim(m.dim), kind is nn.LogSoftmax, where))
    return None


def function_call(imp: Any, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                  where: str) -> Any:
    """A smooth function or a selection (:mod:`.selection`), or None."""
    if fn in FUNC_FNS:
        params, build = FUNC_FNS[fn]
        vals = match_args(args[1:], kwargs, *params)
        name, a = build(imp.scalar, vals)
        return _sym(elementwise(imp.b, imp.batched(args[0]), name, a, where))
    if fn is F.layer_norm:
        x, shape, w, bias, eps = match_args(args, kwargs, ("input", None),
                                            ("normalized_shape", None), ("weight", None),
                                            ("bias", None), ("eps", 1e-5), optional=("weight",))
        return _layer_norm(imp, x, shape, w, bias, eps, True, where)
    if fn is F.rms_norm:
        x, shape, w, eps = match_args(args, kwargs, ("input", None), ("normalized_shape", None),
                                      ("weight", None), ("eps", None), optional=("weight",))
        return _layer_norm(imp, x, shape, w, None, eps, False, where)
    if fn in (torch.maximum, torch.minimum) or (fn in (torch.max, torch.min) and (
            isinstance(args[1] if len(args) > 1 else kwargs.get("other"), Sym))):
        x, other = match_args(args, kwargs, ("input", None), ("other", None))
        return elementwise_max(imp, imp.tensor(x, "input"), imp.tensor(other, "other"),
                               fn in (torch.maximum, torch.max), where)
    if fn is F.group_norm:
        x, groups, w, bias, eps = match_args(args, kwargs, ("input", None), ("num_groups", None),
                                             ("weight", None), ("bias", None), ("eps", 1e-5),
                                             optional=("weight",))
        return group_norm(imp, x, groups, w, bias, eps, where)
    if fn is F.instance_norm:
        x, rm, rv, w, bias, use_input, _mom, eps = match_args(
            args, kwargs, ("input", None), ("running_mean", None), ("running_var", None),
            ("weight", None), ("bias", None), ("use_input_stats", True), ("momentum", 0.1),
            ("eps", 1e-5), optional=("weight",))
        running = None if use_input else (rm, rv)
        return instance_norm(imp, x, running, w, bias, eps, where, "instance_norm")
    if fn in (F.softmax, torch.softmax, F.log_softmax, torch.log_softmax):
        x, dim, _stack, dtype = match_args(args, kwargs, ("input", None), ("dim", None),
                                           ("_stacklevel", 3), ("dtype", None))
        if dtype is not None:
            raise InputError("dtype is not supported")
        return _sym(softmax(imp.b, imp.batched(x), _dim(dim),
                            fn in (F.log_softmax, torch.log_softmax), where))
    if fn in (torch.var, torch.std):
        return _var_call(imp, fn.__name__, args[0], args[1:], kwargs, where)
    if fn in (torch.mean, torch.sum):
        x, dim, keep, dtype = match_args(args, kwargs, ("input", None), ("dim", None),
                                         ("keepdim", False), ("dtype", None))
        if dtype is not None:
            raise InputError(f"{fn.__name__} with a dtype is not supported")
        return method_call(imp, fn.__name__, x, (dim, keep), {}, where)
    return selection.function_call(imp, fn, args, kwargs, where)


def method_call(imp: Any, name: str, x: Any, rest: tuple[Any, ...], kwargs: dict[str, Any],
                where: str) -> Any:
    """A smooth tensor method (``x.tanh()``, ``x.softmax(-1)``, ``x.mean(-1)``) or a
    selection (:mod:`.selection`), or None."""
    if name in METHOD_FNS and not rest and not kwargs:
        return _sym(elementwise(imp.b, imp.batched(x), name, (), where))
    if name in ("softmax", "log_softmax"):
        (dim,) = match_args(rest, kwargs, ("dim", None))
        return _sym(softmax(imp.b, imp.batched(x), _dim(dim), name == "log_softmax", where))
    if name in ("mean", "sum"):
        dim, keep = match_args(rest, kwargs, ("dim", None), ("keepdim", False))
        arr = imp.batched(x)
        if dim is None:
            raise InputError(f"a {name} over every axis includes the batch axis")
        dims = [dim] if isinstance(dim, int) else list(dim)
        return _sym(mean(imp.b, arr, dims, bool(keep), where, name == "sum"))
    if name in ("var", "std"):
        return _var_call(imp, name, x, rest, kwargs, where)
    if name in ("max", "min") and rest and isinstance(rest[0], Sym):
        return elementwise_max(imp, imp.tensor(x, "self"), rest[0], name == "max", where)
    return selection.method_call(imp, name, x, rest, kwargs, where)
