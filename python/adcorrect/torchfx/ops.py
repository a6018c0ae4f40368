"""The layers of a PyTorch model on symbolic tensors (numpy object arrays of
:class:`~adcorrect.torchfx.symbolic.Affine` entries whose first axis is the batch axis,
of size 1), with PyTorch's index conventions; pure functions of the arrays and the
exact hyper-parameters.  Entries are named ``where[i,j,...]`` (indices without the
batch axis)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from fractions import Fraction
from typing import Any

import numpy as np

from ..core.deadline import tick
from ..core.errors import InputError
from ..core.limits import limit
from ..nets.activations import Activation
from ..nets.ir import Value
from .symbolic import Affine, Builder, Term, const_entry

Array = np.ndarray  # dtype=object, entries Affine
Pads = Sequence[tuple[int, int]]  # (before, after) per spatial axis
PAD_MODES = ("zeros", "reflect", "replicate", "circular")


#: whether the import is over a whole batch (labels then keep the example: ``name[i,j]#n``)
WHOLE_BATCH: ContextVar[bool] = ContextVar("whole_batch", default=False)


def label(name: str, idx: Sequence[int]) -> str:
    """``name[i,j,...]`` for the entry at idx (batch index dropped; kept as ``#n`` when the
    whole batch is one network)."""
    rest = idx[1:]
    out = f"{name}[{','.join(map(str, rest))}]" if rest else name
    return f"{out}#{idx[0]}" if WHOLE_BATCH.get() and idx else out


def example_of(label_text: str) -> int | None:
    """The example a whole-batch neuron's label names (None for other labels)."""
    _, sep, tail = label_text.partition("#")
    digits = tail.split("/")[0]
    return int(digits) if sep and digits.isdigit() else None


def max_entries() -> int:
    """The largest number of entries of one intermediate tensor (the `torch_entries` limit
    of adcorrect.core.limits, ADCORRECT_TORCH_MAX_ENTRIES)."""
    return limit("torch_entries")


def check_size(shape: Sequence[int]) -> None:
    """InputError if a tensor of this shape is over the size limit (checked before any work)."""
    n = math.prod(shape)
    if n > max_entries():
        raise InputError(f"a tensor of shape {tuple(shape)} ({n} entries) is over the limit of "
                         f"{max_entries()} (set ADCORRECT_TORCH_MAX_ENTRIES to raise it)")


def new_array(shape: Sequence[int]) -> Array:
    check_size(shape)
    return np.empty(tuple(shape), dtype=object)


def activation(b: Builder, x: Array, act: Activation, name: str) -> Array:
    """act applied entrywise."""
    out = new_array(x.shape)
    for idx in np.ndindex(*x.shape):
        out[idx] = b.activate(x[idx], act, label(name, idx))
    return out


def linear(b: Builder, x: Array, W: Array, bias: Array | None, name: str) -> Array:
    """y = x W^T + bias over the last axis (``nn.Linear``)."""
    n_out, n_in = W.shape
    if x.shape[-1] != n_in:
        raise InputError(f"expects {n_in} input features, gets {x.shape[-1]}")
    rows = [[(j, w) for j, w in enumerate(row) if not _zero(w)] for row in W.tolist()]
    bs = [None] * n_out if bias is None else [_nz(v) for v in bias.tolist()]
    out = new_array((*x.shape[:-1], n_out))
    for lead in np.ndindex(*x.shape[:-1]):
        srcs = [b.source(x[(*lead, j)]) for j in range(n_in)]
        for o, row in enumerate(rows):
            idx = (*lead, o)
            out[idx] = Affine(tuple((srcs[j], w) for j, w in row), bs[o], label(name, idx))
    return out


def _zero(v: Value) -> bool:
    return v[0] == "const" and v[1] == 0


def _nz(v: Value) -> Value | None:
    return None if _zero(v) else v


def _pad_index(p: int, n: int, mode: str) -> int | None:
    """The input index read at padded position p of an axis of length n (None: zero)."""
    if 0 <= p < n:
        return p
    if mode == "zeros":
        return None
    if mode == "replicate":
        return min(max(p, 0), n - 1)
    if mode == "circular":
        return p % n
    return -p if p < 0 else 2 * (n - 1) - p  # reflect


def conv_output_size(S: Sequence[int], K: Sequence[int], pads: Pads, dilation: Sequence[int],
                     stride: Sequence[int]) -> list[int]:
    """The spatial output shape of a convolution of an input of spatial shape S with a
    kernel of shape K; InputError if the kernel is larger than the padded input.  Needs
    only shapes, so an importer can call it before converting any weight."""
    O = [(n + lo + hi - dl * (k - 1) - 1) // s + 1
         for n, (lo, hi), dl, k, s in zip(S, pads, dilation, K, stride)]
    if any(o <= 0 for o in O):
        raise InputError(f"the kernel {tuple(K)} is larger than the (padded) input "
                         f"{tuple(S)}")
    return O


def conv(b: Builder, x: Array, W: Array, bias: Array | None, stride: Sequence[int],
         pads: Pads, dilation: Sequence[int], groups: int, mode: str, name: str) -> Array:
    """``nn.Conv1d``/``Conv2d``: x of shape (1, C_in, *S), W of shape (C_out, C_in/groups, *K)."""
    d = len(stride)
    if x.ndim != d + 2:
        raise InputError(f"expects a {d + 2}-d input (batch, channels, ...), gets "
                         f"{x.ndim}-d")
    c_out, c_in_g, *K = W.shape
    c_in, S = x.shape[1], x.shape[2:]
    if c_in != c_in_g * groups or c_out % groups:
        raise InputError(f"expects {c_in_g * groups} input channels, gets {c_in}")
    if mode not in PAD_MODES:
        raise InputError(f"padding_mode {mode!r} is not supported")
    if mode == "reflect" and any(max(lo, hi) >= n for (lo, hi), n in zip(pads, S)):
        raise InputError("reflect padding must be smaller than the input")
    O = conv_output_size(S, K, pads, dilation, stride)
    check_size((1, c_out, *O))
    # for each axis, output position o and kernel offset k -> input index (None: zero)
    reads = [[[_pad_index(o * s - lo + k * dl, n, mode) for k in range(kk)] for o in range(oo)]
             for n, (lo, _), dl, kk, s, oo in zip(S, pads, dilation, K, stride, O)]
    # the sources of the input entries that are read (every combination of read indices)
    used = [sorted({i for row in r for i in row if i is not None}) for r in reads]
    src = np.zeros(x.shape[1:], dtype=np.int64)
    for ic in range(c_in):
        for ipos in itertools.product(*used):
            src[(ic, *ipos)] = b.source(x[(0, ic, *ipos)])
    srcl = src.tolist()
    per_group = c_out // groups
    Wl = W.tolist()
    # taps[oc]: (input channel, kernel offsets, weight) with a non-zero weight
    taps = [[(g * c_in_g + icl, kpos, w)
             for icl in range(c_in_g)
             for kpos in itertools.product(*(range(k) for k in K))
             if not _zero(w := _at(Wl[oc][icl], kpos))]
            for oc, g in ((oc, oc // per_group) for oc in range(c_out))]
    bs = [None] * c_out if bias is None else [_nz(v) for v in bias.tolist()]
    out = new_array((1, c_out, *O))
    for n_pos, opos in enumerate(itertools.product(*(range(o) for o in O))):
        if n_pos % 256 == 0:
            tick(f"importing the network, at {name}")
        rows = [reads[a][opos[a]] for a in range(d)]
        for oc in range(c_out):
            terms: list[Term] = []
            for ic, kpos, w in taps[oc]:
                ipos = [rows[a][kpos[a]] for a in range(d)]
                if None not in ipos:
                    terms.append((_at(srcl[ic], ipos), w))
            idx = (0, oc, *opos)
            out[idx] = Affine(tuple(terms), bs[oc], label(name, idx))
    return out


def _at(nested: Any, idx: Sequence[int]) -> Any:
    """nested[i][j]... of nested lists."""
    for i in idx:
        nested = nested[i]
    return nested


def pad(x: Array, pads: Pads, mode: str, value: Fraction, name: str) -> Array:
    """``F.pad``: pads[a] = (before, after) for the last len(pads) axes; ``constant``
    mode fills with value, the others read the input (``_pad_index``)."""
    n_ax = len(pads)
    if n_ax >= x.ndim:
        raise InputError("pads the batch axis")
    S = x.shape[x.ndim - n_ax:]
    for (lo, hi), n in zip(pads, S):
        if n + lo + hi <= 0:
            raise InputError("padding leaves an empty axis")
        if mode == "reflect" and max(lo, hi) >= n:
            raise InputError("reflect padding must be smaller than the input")
    kind = "zeros" if mode == "constant" else mode
    check_size((*x.shape[:x.ndim - n_ax], *(n + lo + hi for (lo, hi), n in zip(pads, S))))
    reads = [[_pad_index(p, n, kind) for p in range(-lo, n + hi)] for (lo, hi), n in zip(pads, S)]
    lead = x.shape[:x.ndim - n_ax]
    out = new_array((*lead, *(len(r) for r in reads)))
    fill = const_entry(value)
    for li in np.ndindex(*lead):
        for opos in itertools.product(*(range(len(r)) for r in reads)):
            ipos = tuple(reads[a][o] for a, o in enumerate(opos))
            out[(*li, *opos)] = fill if None in ipos else x[(*li, *ipos)]
    return out


# -- pooling -----------------------------------------------------------------------------


def pool_out_size(n: int, k: int, s: int, pad: int, dil: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape."""
    o = (n + 2 * pad - dil * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= n + pad:
        o -= 1
    return o


def _check_pool(name: str, x: Array, K: Sequence[int], stride: Sequence[int],
                pad: Sequence[int], dil: Sequence[int]) -> None:
    if x.ndim < len(K) + 1:
        raise InputError(f"expects at least {len(K) + 1} axes, gets {x.ndim}")
    for k, s, p, dl in zip(K, stride, pad, dil):
        if k <= 0 or s <= 0 or dl <= 0 or p < 0:
            raise InputError("kernel, stride and dilation must be positive")
        if 2 * p > k:
            raise InputError("padding must be at most half the kernel size")


def _pooled(x: Array, n_axes: int, O: Sequence[int],
            window: Callable[[tuple[int, ...]], tuple[list[tuple[int, ...]], Fraction | None]],
            reduce: Callable[[list[Affine], Fraction | None, tuple[int, ...]], Affine]) -> Array:
    lead = x.shape[:x.ndim - n_axes]
    out = new_array((*lead, *O))
    for li in np.ndindex(*lead):
        tick("importing the network, at a pool")
        for opos in itertools.product(*(range(o) for o in O)):
            cells, div = window(opos)
            out[(*li, *opos)] = reduce([x[(*li, *c)] for c in cells], div, (*li, *opos))
    return out


def max_pool(b: Builder, x: Array, K: Sequence[int], stride: Sequence[int],
             pad: Sequence[int], dil: Sequence[int], ceil_mode: bool, name: str) -> Array:
    """``nn.MaxPool1d``/``2d`` (padding never wins: it is -inf); max nodes in scan order."""
    _check_pool(name, x, K, stride, pad, dil)
    S = x.shape[x.ndim - len(K):]
    O = [pool_out_size(n, k, s, p, dl, ceil_mode) for n, k, s, p, dl in zip(S, K, stride, pad, dil)]
    if any(o <= 0 for o in O):
        raise InputError(f"output size {tuple(O)} is too small")

    def window(opos: tuple[int, ...]) -> tuple[list[tuple[int, ...]], None]:
        axes = [_taps(o * s - p, k, dl, n) for o, s, p, dl, k, n in
                zip(opos, stride, pad, dil, K, S)]
        return list(itertools.product(*axes)), None

    return _pooled(x, len(K), O, window,
                   lambda es, _d, idx: b.maximum(es, label(name, idx)))


def _taps(start: int, k: int, dl: int, n: int) -> range:
    """The indices start + i dl (0 <= i < k) inside 0..n-1, in order."""
    i0 = max(0, -(start // dl)) if start < 0 else 0
    i1 = min(k, (n - start + dl - 1) // dl) if start < n else 0
    return range(start + i0 * dl, start + max(i0, i1) * dl, dl)


def avg_pool(b: Builder, x: Array, K: Sequence[int], stride: Sequence[int],
             pad: Sequence[int], ceil_mode: bool, count_include_pad: bool,
             divisor_override: int | None, name: str) -> Array:
    """``nn.AvgPool1d``/``2d`` with PyTorch's divisor (padding cells counted unless
    count_include_pad is false; divisor_override wins); the average is exact."""
    _check_pool(name, x, K, stride, pad, [1] * len(K))
    if divisor_override is not None and divisor_override <= 0:
        raise InputError("divisor_override must be positive")
    S = x.shape[x.ndim - len(K):]
    O = [pool_out_size(n, k, s, p, 1, ceil_mode) for n, k, s, p in zip(S, K, stride, pad)]
    if any(o <= 0 for o in O):
        raise InputError(f"output size {tuple(O)} is too small")

    def window(opos: tuple[int, ...]) -> tuple[list[tuple[int, ...]], Fraction]:
        axes, size, inside = [], 1, 1
        for o, s, p, k, n in zip(opos, stride, pad, K, S):
            start = o * s - p
            end = min(start + k, n + p)
            size *= end - start
            lo, hi = max(start, 0), min(end, n)
            inside *= hi - lo
            axes.append(range(lo, hi))
        div = divisor_override or (size if count_include_pad else inside)
        return list(itertools.product(*axes)), Fraction(1, div)

    return _pooled(x, len(K), O, window,
                   lambda es, d, idx: b.lincomb(((d, e) for e in es), label(name, idx)))


def _adaptive_windows(S: Sequence[int], O: Sequence[int]
                      ) -> Callable[[tuple[int, ...]], tuple[list[tuple[int, ...]], Fraction]]:
    def window(opos: tuple[int, ...]) -> tuple[list[tuple[int, ...]], Fraction]:
        axes = [range(o * n // m, -(-(o + 1) * n // m)) for o, n, m in zip(opos, S, O)]
        cells = list(itertools.product(*axes))
        return cells, Fraction(1, len(cells))
    return window


def adaptive_pool(b: Builder, x: Array, O: Sequence[int | None], kind: str, name: str) -> Array:
    """``nn.AdaptiveAvgPool``/``AdaptiveMaxPool`` (PyTorch's windows
    [floor(o n / m), ceil((o + 1) n / m)))."""
    if x.ndim < len(O) + 1:
        raise InputError(f"expects at least {len(O) + 1} axes, gets {x.ndim}")
    S = x.shape[x.ndim - len(O):]
    sizes = [n if o is None else o for o, n in zip(O, S)]
    if any(o <= 0 for o in sizes):
        raise InputError("output size must be positive")
    window = _adaptive_windows(S, sizes)
    if kind == "max":
        return _pooled(x, len(O), sizes, window,
                       lambda es, _d, idx: b.maximum(es, label(name, idx)))
    return _pooled(x, len(O), sizes, window,
                   lambda es, d, idx: b.lincomb(((d, e) for e in es), label(name, idx)))


# -- normalisation, reshapes, arithmetic --------------------------------------------------


def batch_norm(b: Builder, x: Array, mean: Sequence[Fraction], r: Sequence[Fraction],
               gamma: Sequence[Value] | None, beta: Sequence[Value] | None, name: str) -> Array:
    """BatchNorm in eval mode on axis 1: v = r (x - mean) (``where[...]/norm``), then
    gamma v + beta (``where[...]``), r being 1/sqrt(var + eps) as the model computes it."""
    if x.ndim < 2 or x.shape[1] != len(mean):
        raise InputError(f"expects {len(mean)} channels on axis 1, gets shape "
                         f"{tuple(x.shape)}")
    out = new_array(x.shape)
    for idx in np.ndindex(*x.shape):
        c = idx[1]
        nm = label(name, idx)
        affine = gamma is not None or beta is not None
        v = _scaled(b, x[idx], r[c], -mean[c] * r[c], f"{nm}/norm" if affine else nm)
        if not affine:
            out[idx] = v
            continue
        terms: tuple[Term, ...]
        if gamma is None:
            terms = ((b.source(v), ("const", Fraction(1))),)
        else:
            terms = ((b.source(v), gamma[c]),) if not _zero(gamma[c]) else ()
        out[idx] = Affine(terms, None if beta is None else _nz(beta[c]), nm)
    return out


def _scaled(b: Builder, a: Affine, r: Fraction, c: Fraction, name: str) -> Affine:
    """r * a + c (the general case is :meth:`Builder.lincomb`)."""
    if a.source is not None or a.has_param and r != 1:
        return Affine(((b.source(a), ("const", r)),), ("const", c) if c else None, name)
    return b.lincomb(((r, a),), name, c)


def binary(x: Array, y: Array, fn: Callable[[Affine, Affine, str], Affine], name: str) -> Array:
    """fn applied entrywise with numpy (= PyTorch) broadcasting."""
    try:
        bx, by = np.broadcast_arrays(x, y)
    except ValueError:
        raise InputError(f"shapes {tuple(x.shape)} and {tuple(y.shape)} do not "
                         "broadcast") from None
    out = new_array(bx.shape)
    for idx in np.ndindex(*bx.shape):
        out[idx] = fn(bx[idx], by[idx], label(name, idx))
    return out
