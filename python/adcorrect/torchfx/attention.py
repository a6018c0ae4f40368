"""Attention as IR neurons: matrix products of values computed from the input, transposes,
``F.scaled_dot_product_attention`` (with a causal or boolean mask), ``nn.MultiheadAttention``
(``batch_first``), ``nn.TransformerEncoderLayer`` and ``nn.TransformerEncoder`` (relu or
gelu feed-forward blocks, LayerNorm before or after), unrolled into products, sums,
``exp`` and quotients (THEORY.md section 8: C1 pre-activations; relu and gelu as ever).

The score scale is ``1/sqrt(head_dim)`` as the double Python computes, rounded to the
compute dtype (the constant of the model's function); dropout in training mode is
refused here.
"""

from __future__ import annotations

import math
import operator
from fractions import Fraction
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import InputError
from ..nets import activations as acts
from . import layers, ops, recurrent, smooth, tensors
from .fxargs import match_args
from .symbolic import Affine, Builder, const_entry
from .values import ReadsInputValues, Sym


def _sum(b: Builder, terms: list[Affine], name: str, scale: Fraction = Fraction(1)) -> Affine:
    return b.lincomb(((scale, t) for t in terms), name)


def matmul(b: Builder, x: Sym, y: Sym, name: str) -> Sym:
    """``x @ y`` over the last two axes, leading axes broadcast (the batch axis first)."""
    xa, ya = x.arr, y.arr
    if xa.ndim < 2 or ya.ndim < 2:
        raise InputError("matmul of a vector is not supported (use 2-d or more)")
    if xa.shape[-1] != ya.shape[-2]:
        raise InputError(f"shapes {tuple(xa.shape)} and {tuple(ya.shape)} do not multiply")
    try:
        lead = np.broadcast_shapes(xa.shape[:-2], ya.shape[:-2])
    except ValueError:
        raise InputError(f"shapes {tuple(xa.shape)} and {tuple(ya.shape)} do not "
                         "broadcast") from None
    xb = np.broadcast_to(xa, (*lead, *xa.shape[-2:]))
    yb = np.broadcast_to(ya, (*lead, *ya.shape[-2:]))
    n, k, m = xa.shape[-2], xa.shape[-1], ya.shape[-1]
    out = ops.new_array((*lead, n, m))
    for li in np.ndindex(*lead):
        for i in range(n):
            for j in range(m):
                idx = (*li, i, j)
                nm = ops.label(name, idx)
                out[idx] = _sum(b, [tensors.times(b, xb[(*li, i, t)], yb[(*li, t, j)],
                                                  f"{nm}/{t}") for t in range(k)], nm)
    with_batch = [s for s in (x, y) if s.batched]
    if with_batch and out.ndim != max(s.arr.ndim for s in with_batch):
        raise InputError("broadcasting adds axes before the batch axis")
    return Sym(out, bool(with_batch))


def transpose(x: Sym, d0: Any, d1: Any) -> Sym:
    n = x.arr.ndim
    for d in (d0, d1):
        if not isinstance(d, int) or isinstance(d, bool) or not -n <= d < n:
            raise InputError(f"dim {d!r} out of range for {n} axes")
    if x.batched and 0 in (d0 % n, d1 % n):
        raise InputError("moves the batch axis")
    return Sym(np.swapaxes(x.arr, d0, d1), x.batched, x.dtype)


def permute(x: Sym, dims: Any) -> Sym:
    dims = list(dims[0]) if len(dims) == 1 and isinstance(dims[0], (list, tuple)) else list(dims)
    n = x.arr.ndim
    if sorted(d % n for d in dims) != list(range(n)):
        raise InputError(f"dims {dims} are not a permutation of {n} axes")
    if x.batched and dims[0] % n != 0:
        raise InputError("moves the batch axis")
    return Sym(np.transpose(x.arr, [d % n for d in dims]), x.batched, x.dtype)


def _stored(mask: Any) -> torch.Tensor | None:
    """A mask that does not depend on the input (a tensor, or a buffer read by the graph)
    as a tensor; InputError for one computed from the input."""
    if mask is None or isinstance(mask, torch.Tensor):
        return mask
    vals = mask.constants() if isinstance(mask, Sym) and not mask.batched else None
    if vals is not None:
        return torch.tensor(vals.astype(float)).to(mask.dtype or torch.float32)
    raise InputError("attn_mask: a stored (L, S) tensor is supported (not one computed "
                     "from the input)")


def sdpa(imp: Any, q: Sym, k: Sym, v: Sym, mask: Any, causal: bool, scale: Any, name: str
         ) -> Sym:
    """softmax(q k^T * scale + mask) v over the last two axes (a causal mask keeps j <= i;
    a boolean mask keeps True; a float mask is added)."""
    b = imp.b
    qa, ka, va = q.arr, k.arr, v.arr
    if not (qa.ndim == ka.ndim == va.ndim and qa.ndim >= 3):
        raise InputError("query, key and value must have the same number of axes (>= 3)")
    L, E, S = qa.shape[-2], qa.shape[-1], ka.shape[-2]
    if ka.shape[-1] != E or va.shape[-2] != S:
        raise InputError("query, key and value shapes do not match")
    c = imp.scalar(1.0 / math.sqrt(E) if scale is None else scale, "scale")
    allowed = np.ones((L, S), dtype=bool)
    add = None
    if causal:
        allowed &= np.tril(np.ones((L, S), dtype=bool))
    mask = _stored(mask)
    if mask is not None:
        if mask.dim() != 2 or tuple(mask.shape) != (L, S):
            raise InputError("attn_mask: a stored (L, S) tensor is supported")
        if mask.dtype == torch.bool:
            allowed &= mask.numpy()
        else:
            mf = mask.to(torch.float64).numpy()
            allowed &= ~np.isneginf(mf)
            add = mf
    if not allowed.any(axis=1).all():
        raise InputError("a query attends to no key (its softmax is NaN)")
    lead = np.broadcast_shapes(qa.shape[:-2], ka.shape[:-2], va.shape[:-2])
    qb, kb, vb = (np.broadcast_to(a, (*lead, *a.shape[-2:])) for a in (qa, ka, va))
    out = ops.new_array((*lead, L, va.shape[-1]))
    for li in np.ndindex(*lead):
        for i in range(L):
            nm = ops.label(f"{name}/attn", (*li, i))
            es: list[tuple[int, Affine]] = []
            for j in range(S):
                if not allowed[i, j]:
                    continue
                dot = _sum(b, [tensors.times(b, qb[(*li, i, e)], kb[(*li, j, e)],
                                             f"{nm}/{j}/{e}") for e in range(E)],
                           f"{nm}/score{j}", c)
                if add is not None and add[i, j] != 0:
                    dot = b.lincomb(((Fraction(1), dot),), f"{nm}/score{j}",
                                    imp.scalar(float(add[i, j]), "attn_mask"))
                es.append((j, smooth.unary(b, dot, "exp", f"{nm}/exp{j}")))
            total = _sum(b, [e for _, e in es], f"{nm}/sum")
            ps = [(j, smooth.quotient(b, e, total, f"{nm}/p{j}")) for j, e in es]
            for d in range(va.shape[-1]):
                idx = (*li, i, d)
                out[idx] = _sum(b, [tensors.times(b, p, vb[(*li, j, d)], f"{nm}/v{j},{d}")
                                    for j, p in ps], ops.label(name, idx))
    return Sym(out, q.batched or k.batched or v.batched)


def _rows(imp: Any, toks: np.ndarray, weight: Any, padding_idx: Any, where: str,
          batched: bool) -> Sym:
    """The weight's rows at the integer indices ``toks`` (any shape); the ``padding_idx``
    row a constant."""
    if not isinstance(weight, torch.Tensor) or weight.dim() != 2:
        raise InputError("the weight must be a stored 2-d tensor")
    table = imp.weights(weight, "weight")
    n, d = table.shape
    pad = None if padding_idx is None else padding_idx % n
    out = ops.new_array((*toks.shape, d))
    for pos in np.ndindex(*toks.shape):
        tok = toks[pos]
        if not 0 <= tok < n:
            raise InputError(f"token index {tok} is not in 0..{n - 1}")
        for j in range(d):
            c = table[tok, j]
            out[(*pos, j)] = const_entry(Fraction(weight[tok, j].item())) \
                if tok == pad or c[0] != "param" else Affine((), c, ops.label(where, (*pos, j)))
    return Sym(out, batched)


def embedding(imp: Any, x: Any, weight: Any, padding_idx: Any, where: str) -> Sym:
    """``nn.Embedding``: rows of the weight picked by the input's token indices (read from
    the batch: the import is per batch, :class:`~.values.ReadsInputValues`); the
    ``padding_idx`` row is a constant (PyTorch gives it no gradient).  Constant indices
    (positions, ``torch.arange``) pick rows without reading the batch."""
    if isinstance(x, torch.Tensor):
        if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
            raise InputError("embedding indices must be integers")
        return _rows(imp, x.numpy().astype(np.int64), weight, padding_idx, where, False)
    if not imp.whole:
        raise ReadsInputValues("Embedding reads the input's values (token indices): the "
                               "model is imported per batch")
    xs = imp.batched(x)
    flat = imp.example.reshape(-1)
    toks = np.empty(xs.shape, dtype=np.int64)
    for idx in np.ndindex(*xs.shape):
        src = xs[idx].source
        if src is None or src >= 0 or xs[idx].terms[0][1] != ("const", 1):
            raise InputError("the token indices must be the model's input itself")
        v = flat[-src - 1]
        if int(v) != v:
            raise InputError(f"token index {v.item()} is not an integer")
        toks[idx] = int(v)
    return _rows(imp, toks, weight, padding_idx, where, True)


def _proj(imp: Any, x: Sym, W: np.ndarray, bias: np.ndarray | None, name: str) -> Sym:
    return Sym(ops.linear(imp.b, imp.batched(x), W, bias, name), True)


def mha(imp: Any, m: nn.MultiheadAttention, args: tuple[Any, ...], kwargs: dict[str, Any],
        where: str) -> tuple[Sym, None]:
    """``nn.MultiheadAttention`` (batch_first): in-projections, heads, attention, out-proj."""
    q, k, v, kpm, _need, mask, _avg, causal = match_args(
        args, kwargs, ("query", None), ("key", None), ("value", None),
        ("key_padding_mask", None), ("need_weights", True), ("attn_mask", None),
        ("average_attn_weights", True), ("is_causal", False))
    if not m.batch_first:
        raise InputError("MultiheadAttention needs batch_first=True (the batch axis first)")
    if kpm is not None or m.bias_k is not None or m.add_zero_attn:
        raise InputError("key_padding_mask, bias_k/bias_v and add_zero_attn are not supported")
    if m.training and m.dropout > 0:
        raise InputError("MultiheadAttention with dropout in training mode is not supported")
    mask = _stored(mask)
    if mask is not None and mask.dtype == torch.bool:
        mask = ~mask  # MultiheadAttention's True masks a key out; SDPA's True keeps it
    E, H = m.embed_dim, m.num_heads
    hd = E // H
    if m._qkv_same_embed_dim:
        Wall = imp.weights(m.in_proj_weight, "in_proj_weight")
        Ws = [Wall[i * E:(i + 1) * E] for i in range(3)]
    else:
        Ws = [imp.weights(t, nm) for t, nm in ((m.q_proj_weight, "q_proj_weight"),
                                                (m.k_proj_weight, "k_proj_weight"),
                                                (m.v_proj_weight, "v_proj_weight"))]
    ball = imp.weights(m.in_proj_bias, "in_proj_bias")
    bs = [None] * 3 if ball is None else [ball[i * E:(i + 1) * E] for i in range(3)]
    proj = [_proj(imp, t, W, bv, f"{where}/{nm}") for t, W, bv, nm in
            zip((q, k, v), Ws, bs, ("q", "k", "v"))]
    heads = []
    for h in range(H):
        sl = [Sym(p.arr[..., h * hd:(h + 1) * hd], True) for p in proj]
        heads.append(sdpa(imp, *sl, mask, bool(causal), None, f"{where}/head{h}").arr)
    cat = Sym(np.concatenate(heads, axis=-1), True)
    out = _proj(imp, cat, imp.weights(m.out_proj.weight, "out_proj.weight"),
                imp.weights(m.out_proj.bias, "out_proj.bias"), f"{where}/out")
    return out, None


def _act(imp: Any, f: Any, x: Sym, where: str) -> Sym:
    if f is F.relu or isinstance(f, nn.ReLU):
        return Sym(ops.activation(imp.b, x.arr, acts.relu(), where), True)
    if f is F.gelu or isinstance(f, nn.GELU):
        fn = "gelu" if not isinstance(f, nn.GELU) or f.approximate == "none" else "gelu_tanh"
        return Sym(smooth.elementwise(imp.b, x.arr, fn, (), where), True)
    raise InputError(f"feed-forward activation {getattr(f, '__name__', type(f).__name__)} "
                     "is not supported (relu or gelu)")


def _norm(imp: Any, m: nn.LayerNorm, x: Sym, where: str) -> Sym:
    out = smooth.module_call(imp, m, x, where)
    assert out is not None
    return out


def _add(imp: Any, x: Sym, y: Sym, where: str) -> Sym:
    return tensors.add(imp.b, x, y, Fraction(1), where)


def encoder_layer(imp: Any, m: nn.TransformerEncoderLayer, x: Sym, where: str,
                  mask: Any = None, causal: bool = False) -> Sym:
    """``nn.TransformerEncoderLayer``: self-attention (with a stored mask or the causal
    one) and feed-forward blocks with residual sums, LayerNorm first (norm_first) or
    after."""
    if m.training and any(d.p > 0 for d in (m.dropout, m.dropout1, m.dropout2)):
        raise InputError("TransformerEncoderLayer with dropout in training mode is not "
                         "supported (call model.eval())")

    def sa(t: Sym) -> Sym:
        return mha(imp, m.self_attn, (t, t, t), {"need_weights": False, "attn_mask": mask,
                                                 "is_causal": causal}, f"{where}/self_attn")[0]

    def ff(t: Sym) -> Sym:
        h = _proj(imp, t, imp.weights(m.linear1.weight, "linear1.weight"),
                  imp.weights(m.linear1.bias, "linear1.bias"), f"{where}/linear1")
        h = _act(imp, m.activation, h, f"{where}/act")
        return _proj(imp, h, imp.weights(m.linear2.weight, "linear2.weight"),
                     imp.weights(m.linear2.bias, "linear2.bias"), f"{where}/linear2")

    if m.norm_first:
        x = _add(imp, x, sa(_norm(imp, m.norm1, x, f"{where}/norm1")), f"{where}/res1")
        return _add(imp, x, ff(_norm(imp, m.norm2, x, f"{where}/norm2")), f"{where}/res2")
    x = _norm(imp, m.norm1, _add(imp, x, sa(x), f"{where}/res1"), f"{where}/norm1")
    return _norm(imp, m.norm2, _add(imp, x, ff(x), f"{where}/res2"), f"{where}/norm2")


#: why an embedding whose gradient PyTorch rescales is refused
SCALED_GRAD = ("Embedding with scale_grad_by_freq: PyTorch divides the weight's gradient by "
               "each token's count in the batch, so its AD is not the derivative audited")


def module_call(imp: Any, m: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any],
                where: str) -> Any:
    """An attention, recurrent (:mod:`.recurrent`) or other layer (:mod:`.layers`), or
    NotImplemented."""
    out = recurrent.module_call(imp, m, args, kwargs, where)
    if out is not NotImplemented:
        return out
    out = layers.module_call(imp, m, args, kwargs, where)
    if out is not NotImplemented:
        return out
    if isinstance(m, nn.Embedding):
        if m.max_norm is not None:
            raise InputError("Embedding with max_norm (it renormalises its weight in place) "
                             "is not supported")
        if m.scale_grad_by_freq:
            raise InputError(SCALED_GRAD)
        (x,) = match_args(args, kwargs, ("input", None))
        return embedding(imp, x, m.weight, m.padding_idx, where)
    if isinstance(m, nn.MultiheadAttention):
        return mha(imp, m, args, kwargs, where)
    if isinstance(m, (nn.TransformerEncoderLayer, nn.TransformerEncoder)):
        layer_form = isinstance(m, nn.TransformerEncoderLayer)
        (src, mask, kpm, causal) = match_args(
            args, kwargs, ("src", None), ("src_mask" if layer_form else "mask", None),
            ("src_key_padding_mask", None), ("is_causal", False if layer_form else None))
        if kpm is not None:
            raise InputError("src_key_padding_mask is not supported (a mask per example is "
                             "a second input)")
        x, causal = imp.tensor(src, "src"), bool(causal)
        if layer_form:
            return encoder_layer(imp, m, x, where, mask, causal)
        for i, layer in enumerate(m.layers):
            x = encoder_layer(imp, layer, x, f"{where}/layers.{i}", mask, causal)
        return x if m.norm is None else _norm(imp, m.norm, x, f"{where}/norm")
    return NotImplemented


def function_call(imp: Any, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                  where: str) -> Any:
    """A smooth function (:func:`.smooth.function_call`), matmul / bmm / @, transpose,
    scaled_dot_product_attention, another layer's function (:mod:`.layers`), or
    NotImplemented."""
    out = smooth.function_call(imp, fn, args, kwargs, where)
    if out is not None:
        return out
    if fn in (torch.split, torch.chunk):
        x, sizes, dim = match_args(args, kwargs, ("tensor" if fn is torch.split else "input",
                                                  None),
                                   ("split_size_or_sections" if fn is torch.split else "chunks",
                                    None), ("dim", 0))
        return tensors.split(imp.tensor(x, "input"), sizes, dim, fn is torch.chunk)
    if fn in (torch.matmul, torch.bmm, operator.matmul):
        x, y = match_args(args, kwargs, ("input", None), ("other", None))
        return matmul(imp.b, imp.tensor(x, "input"), imp.tensor(y, "other"), where)
    if fn is F.embedding:
        x, weight, pad, max_norm, _, scaled, _ = match_args(
            args, kwargs, ("input", None), ("weight", None), ("padding_idx", None),
            ("max_norm", None), ("norm_type", 2.0), ("scale_grad_by_freq", False),
            ("sparse", False))
        if max_norm is not None:
            raise InputError("embedding with max_norm is not supported")
        if scaled:
            raise InputError(SCALED_GRAD)
        return embedding(imp, x, weight, pad, where)
    if fn is torch.transpose:
        x, d0, d1 = match_args(args, kwargs, ("input", None), ("dim0", None), ("dim1", None))
        return transpose(imp.tensor(x, "input"), d0, d1)
    out = layers.function_call(imp, fn, args, kwargs, where)
    if out is not NotImplemented:
        return out
    if fn is F.scaled_dot_product_attention:
        q, k, v, mask, p, causal, scale, gqa = match_args(
            args, kwargs, ("query", None), ("key", None), ("value", None), ("attn_mask", None),
            ("dropout_p", 0.0), ("is_causal", False), ("scale", None), ("enable_gqa", False))
        if p:
            raise InputError("dropout_p > 0 is not supported (random)")
        if gqa:
            raise InputError("enable_gqa is not supported")
        return sdpa(imp, imp.tensor(q, "query"), imp.tensor(k, "key"), imp.tensor(v, "value"),
                    mask, bool(causal), scale, where)
    return NotImplemented


def method_call(imp: Any, name: str, x: Any, rest: tuple[Any, ...], kwargs: dict[str, Any],
                where: str) -> Any:
    """A smooth method (:func:`.smooth.method_call`), ``.transpose``, ``.permute``,
    ``.split``, ``.chunk``, ``.matmul``, a view of :mod:`.layers` (``.squeeze``,
    ``.expand``, ...), or NotImplemented."""
    out = smooth.method_call(imp, name, x, rest, kwargs, where)
    if out is not None:
        return out
    if name == "transpose":
        d0, d1 = match_args(rest, kwargs, ("dim0", None), ("dim1", None))
        return transpose(imp.tensor(x, "self"), d0, d1)
    if name == "permute":
        return permute(imp.tensor(x, "self"), rest)
    if name in ("split", "chunk"):
        sizes, dim = match_args(rest, kwargs, ("split_size" if name == "split" else "chunks",
                                               None), ("dim", 0))
        return tensors.split(imp.tensor(x, "self"), sizes, dim, name == "chunk")
    if name == "matmul":
        (y,) = match_args(rest, kwargs, ("other", None))
        return matmul(imp.b, imp.tensor(x, "self"), imp.tensor(y, "other"), where)
    return layers.method_call(imp, name, x, rest, kwargs)
