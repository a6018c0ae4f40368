"""The layers of :mod:`.tcoverage` on tensors of forms (:mod:`.tcovform`): each returns the
forms of its output as the importer (:mod:`adcorrect.torchfx.ops`) would build its
entries, per distinct (channel, form) and with index arithmetic for the windows."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..nets.activations import Activation, relu
from ..torchfx.ops import _pad_index, _taps, conv_output_size, pool_out_size
from .tcovform import (
    INPUT,
    ONE,
    ZERO,
    Event,
    Form,
    NotModelled,
    State,
    combine,
    compact,
    gid_array,
    plan,
)

_RELU = relu()


@dataclass
class T:
    """A tensor of forms: ``F`` form ids (batch axis of size 1 first), ``O`` the entries'
    global ids (an int: a creator's base, read in order; -1: no names), ``disjoint``:
    distinct entries never read one neuron (or input) with a constant coefficient."""

    F: np.ndarray
    O: np.ndarray | int = -1
    disjoint: bool = True

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.F.shape)


Coef = tuple[str, object]  # ("param", tensor index) or ("const", numpy array) or ("none", None)


def distinct(F: np.ndarray) -> list[int]:
    """The form ids occurring in F."""
    (Fc,), _ = compact(F)
    return [int(i) for i in np.flatnonzero(np.bincount(Fc.reshape(-1)))] if F.size else []


def uniq_inv(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` of non-negative keys (flattened), by
    counting where the keys are small."""
    k = keys.reshape(-1)
    if k.size and int(k.max()) < 4 * k.size + (1 << 16):
        present = np.bincount(k) > 0
        uniq = np.flatnonzero(present)
        rank = np.cumsum(present) - 1
        return uniq, rank[k]
    return np.unique(k, return_inverse=True)


def dense_ids(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the form ids occurring in F, F renumbered 0, 1, ... in that order)."""
    present = np.bincount(F.reshape(-1)) > 0
    return np.flatnonzero(present), (np.cumsum(present) - 1)[F]


def pair_inv(a: np.ndarray, n_a: int, F: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The distinct pairs (a, form id) of two arrays of one shape (0 <= a < n_a) and the
    index of each entry's pair (an array of their common compacted shape, see
    :func:`.tcovform.compact`)."""
    (a, F), _ = compact(a, F)
    ids, Fd = dense_ids(F)
    uniq, inv = uniq_inv(Fd * n_a + a)
    return [(int(k) % n_a, int(ids[int(k) // n_a])) for k in uniq], inv.reshape(F.shape)


def nodes_of(st: State, F: np.ndarray) -> tuple[frozenset[int], frozenset[int]]:
    """Class nodes (neurons only) and values of the source entries in F."""
    fs = [st.forms[i] for i in distinct(F)]
    return (frozenset(f.node for f in fs if f.node >= 0),
            frozenset(f.vid for f in fs if not f.pending))


def share(st: State, x: T) -> T:
    """Entries read by several consumers become neurons (``Importer.share``): pending ones
    with at least one term."""
    (Fc,), _ = compact(x.F)
    lut = st.lut("shared", lambda f: f.pending and f.nterms > 0)
    if not lut[Fc].any():
        return x
    mask = np.broadcast_to(lut[Fc], x.shape)
    return T(st.materialize(x.F, x.O, mask), x.O, x.disjoint)


def activation(st: State, x: T, act: Activation, where: str) -> T:
    """``act`` entrywise: a pending entry becomes its neuron, a source gets a new one.  A
    kinkless smooth activation (tanh, GELU, ...) builds the same neurons, but none of them
    is kinked (no theta, no label, no bias needed: ``Network.no_exclusive_bias``)."""
    (Fc,), mult = compact(x.F)
    counts = np.bincount(Fc.reshape(-1), minlength=len(st.forms)) * mult
    kink = act.exact or bool(act.kink_table())  # exact and kinkless: NotModelled below
    st.smooth |= not act.exact
    th = st.thetas(act) if kink else frozenset()
    own, vid, seq = st.own(), st.vid(), st.tick()
    lut = np.arange(len(st.forms))
    fused = []
    for i in np.flatnonzero(counts):
        f, n = st.forms[int(i)], int(counts[i])
        if f.pending:
            node = st.class_of(f, own)
            st.edge(f.reads, node)
            for g in f.groups:
                st.occ[g] += n
            if kink:
                st.kinked(th, f, n)
            fused.append(int(i))
        else:
            node = own
            st.edge(frozenset((f.node,)) if f.node >= 0 else frozenset(), own)
            if kink:
                st.kinked(th, None, n)
        lut[i] = st.intern(Form(node=node, vid=vid))
    if kink:  # the labels of kinked neurons (:func:`.tcoverage._labels`)
        st.blocks.append(("act", seq, (x.F, x.O, where, x.shape)))
    if fused:
        st.entry_event(x.F, x.O, None, fused)
    if where in st.reused:
        src = ~np.isin(x.F, fused)
        st.grid_event(where, x.shape, np.flatnonzero(src.reshape(-1)))
    return T(np.broadcast_to(lut[Fc], x.shape), -1, True)


def lincomb_map(st: State, ops: Sequence[tuple[Fraction, T]], where: str) -> T:
    """``sum_i c_i x_i`` entrywise (same shapes), as ``Builder.lincomb``."""
    shape = ops[0][1].shape
    rows, inv = _rows([t.F for _, t in ops])
    flags = np.array([plan([(c, st.forms[r[j]]) for j, (c, _) in enumerate(ops)])
                      for r in rows], dtype=bool).reshape(len(rows), len(ops))
    new = []
    for j, (c, t) in enumerate(ops):
        mask = np.broadcast_to(flags[inv, j], shape)
        new.append((c, T(st.materialize(t.F, t.O, mask), t.O, t.disjoint)
                    if mask.any() else t))
    rows, inv = _rows([t.F for _, t in new])
    const_node = st.own()
    ids = np.array([st.intern(combine(st, [(c, st.forms[r]) for (c, _), r in zip(new, row)],
                                      ZERO, const_node)) for row in rows])
    base = st.creator(where, "", shape)
    return T(np.broadcast_to(ids[inv], shape), base, all(t.disjoint for _, t in ops))


def _rows(Fs: list[np.ndarray]) -> tuple[list[list[int]], np.ndarray]:
    """The distinct tuples of form ids across arrays of one shape, and each entry's (an
    array of their common compacted shape)."""
    Fs, _ = compact(*Fs)
    key = np.zeros(Fs[0].shape, dtype=np.int64)
    parts = []
    for F in Fs:
        ids, Fd = dense_ids(F)
        key = key * len(ids) + Fd
        parts.append(ids)
    uniq, inv = uniq_inv(key)
    inv = inv.reshape(key.shape)
    rows = []
    for k in uniq:
        k, row = int(k), []
        for ids in reversed(parts):
            k, r = divmod(k, len(ids))
            row.append(int(ids[r]))
        rows.append(row[::-1])
    return rows, inv


# -- dense layers ---------------------------------------------------------------------------


def affine_forms(st: State, W: Coef, b: Coef, n_out: int, reads: frozenset[int],
                 vids: frozenset[int], classes: set[int]) -> np.ndarray:
    """Form ids per output unit and term count class (0, 1, 2+: those in ``classes``) of a
    Linear or Conv output (constant weights: one term is :func:`_one_term`'s)."""
    out = np.zeros((n_out, 3), dtype=np.int64)
    for u in range(n_out):
        bias, cval, groups = None, ZERO, set()
        if b[0] == "param":
            bias = (int(b[1]), u)  # type: ignore[call-overload]
            groups.add(bias)
        elif b[0] == "const":
            cval = _num(float(b[1][u]))  # type: ignore[index]
        for n in classes:
            if W[0] == "param":
                g = groups | ({(int(W[1]), u)} if n else set())  # type: ignore[call-overload]
                f = Form(bias=bias, cval=cval, nterms=n, reads=reads if n else frozenset(),
                         pcoef=n > 0, groups=frozenset(g))
            else:
                f = Form(bias=bias, cval=cval, nterms=n, reads=reads if n else frozenset(),
                         cread=vids if n else frozenset(), wall=n == 0,
                         groups=frozenset(groups))
            out[u, n] = st.intern(f)
    return out


def _classes(ncls: np.ndarray) -> set[int]:
    (nc,), _ = compact(ncls)
    return {int(n) for n in np.flatnonzero(np.bincount(nc.reshape(-1), minlength=3))}


def _num(v: float) -> Fraction | int:
    """A float exactly (an int where it is one: cheaper to hash)."""
    return int(v) if v.is_integer() else Fraction(v)


def _one_term(bias_only: Form, src: Form, w: Fraction) -> Form:
    """``w s + b`` for a source s and the bias part ``bias_only`` of the unit (no terms)."""
    if w == 1 and bias_only.bias is None and bias_only.cval == 0:
        return src
    return Form(bias=bias_only.bias, cval=bias_only.cval, nterms=1, coef1=w,
                t1=(src.node, src.vid), reads=frozenset((src.node,)) - {INPUT},
                cread=frozenset((src.vid,)), wall=False, groups=bias_only.groups)


def linear(st: State, x: T, W: Coef, b: Coef, shape_w: tuple[int, int], where: str) -> T:
    """``nn.Linear`` over the last axis: every input entry is read through its neuron."""
    n_out, n_in = shape_w
    if x.shape[-1] != n_in or len(x.shape) < 2:
        raise NotModelled("linear shapes")
    F = st.materialize(x.F, x.O)
    reads, vids = nodes_of(st, F)
    if W[0] == "param":
        ncls = np.full(n_out, min(n_in, 2))
    else:
        cnt = np.count_nonzero(W[1], axis=1)  # type: ignore[call-overload]
        ncls = np.minimum(cnt, 2)
    ids = affine_forms(st, W, b, n_out, reads, vids,
                       _classes(ncls) | ({0} if W[0] == "const" and (cnt == 1).any() else set()))
    unit = ids[np.arange(n_out), ncls]
    if W[0] == "const" and (cnt == 1).any():
        if len(x.shape) != 2:
            raise NotModelled("a frozen linear row with one term over several rows")
        for o in np.flatnonzero(cnt == 1):
            j = int(np.flatnonzero(W[1][o])[0])  # type: ignore[index]
            unit[o] = st.intern(_one_term(st.forms[int(ids[o, 0])], st.forms[int(F[0, j])],
                                          _num(float(W[1][o, j]))))  # type: ignore[index]
    shape = (*x.shape[:-1], n_out)
    disjoint = W[0] == "param" or int(np.prod(shape)) == 1 or not ncls.any()
    return T(np.broadcast_to(unit, shape), st.creator(where, "", shape), disjoint)


def conv(st: State, x: T, W: Coef, b: Coef, wshape: tuple[int, ...], stride: Sequence[int],
         pads: Sequence[tuple[int, int]], dil: Sequence[int], groups: int, mode: str,
         where: str) -> T:
    """``nn.Conv1d/2d``: the read input entries become neurons; one form per output channel
    and term count."""
    c_out, c_in_g, *K = wshape
    d = len(K)
    if len(x.shape) != d + 2 or x.shape[1] != c_in_g * groups or c_out % groups:
        raise NotModelled("conv shapes")
    S = x.shape[2:]
    O = conv_output_size(S, K, pads, dil, stride)
    reads_ax = [[[_pad_index(o * s - lo + k * dl, n, mode) for k in range(kk)]
                 for o in range(oo)]
                for n, (lo, _), dl, kk, s, oo in zip(S, pads, dil, K, stride, O)]
    valid = [np.array([[i is not None for i in row] for row in r], dtype=bool) for r in reads_ax]
    used = [np.zeros(n, dtype=bool) for n in S]
    for u, r in zip(used, reads_ax):
        for row in r:
            u[[i for i in row if i is not None]] = True
    mask = None if all(u.all() for u in used) else \
        np.broadcast_to(_outer(used).reshape(1, 1, *S), x.shape)
    F = st.materialize(x.F, x.O, mask)
    reads, vids = nodes_of(st, F if mask is None else _masked(F, mask))
    if W[0] == "param":
        taps = [v.sum(0) for v in valid]
        if math.prod(O) > 1 and math.prod(int(t.max()) for t in taps) <= 1:
            raise NotModelled("a convolution whose taps each meet one output position")
        cnt = np.broadcast_to(_outer_int([v.sum(1) for v in valid]) * c_in_g,
                              (c_out, *O))
    else:
        nz = (np.asarray(W[1]) != 0).sum(1)  # (c_out, *K)
        cnt = _window_counts(nz, valid)
        if (cnt == 1).any():
            raise NotModelled("a frozen convolution entry with one term")
    ncls = np.minimum(cnt, 2)
    if (ncls == ncls.flat[0]).all():  # one term count class: a per-channel broadcast
        ncls = np.broadcast_to(ncls.flat[0], ncls.shape)
    ids = affine_forms(st, W, b, c_out, reads, vids, _classes(ncls))
    ch = np.arange(c_out).reshape(c_out, *([1] * d))
    (nc,), _ = compact(np.broadcast_to(ncls, (c_out, *O)))
    out = np.broadcast_to(ids[ch, nc][None], (1, c_out, *O))
    disjoint = W[0] == "param" or out.size == 1 or not ncls.any()
    return T(out, st.creator(where, "", tuple(out.shape)), disjoint)


def _masked(F: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The entries of F where mask (compacted first: a sample with the same forms)."""
    (Fc, Mc), _ = compact(F, mask)
    return Fc[Mc]


def _outer(masks: Sequence[np.ndarray]) -> np.ndarray:
    out = masks[0]
    for m in masks[1:]:
        out = np.logical_and.outer(out, m)
    return out


def _outer_int(vs: Sequence[np.ndarray]) -> np.ndarray:
    out = vs[0].astype(np.int64)
    for v in vs[1:]:
        out = np.multiply.outer(out, v.astype(np.int64))
    return out


def _window_counts(nz: np.ndarray, valid: Sequence[np.ndarray]) -> np.ndarray:
    """Per (channel, output position): non-zero kernel entries meeting the input."""
    if len(valid) == 1:
        return np.einsum("ck,ok->co", nz, valid[0].astype(np.int64))
    return np.einsum("ckl,ak,bl->cab", nz, valid[0].astype(np.int64),
                     valid[1].astype(np.int64))


# -- batch norm -------------------------------------------------------------------------------


@dataclass
class BN:
    """A BatchNorm in eval mode: per channel ``r = 1/sqrt(var + eps)`` as the importer folds
    it (``r_one``: r is exactly 1; ``r_exact(c)``), the mean, gamma and beta."""

    r_one: np.ndarray
    mean_zero: np.ndarray
    r_exact: Callable[[int], Fraction]
    mean: Callable[[int], Fraction]
    gamma: Coef
    beta: Coef


def batch_norm(st: State, x: T, bn: BN, where: str) -> T:
    """``v = r x - r mean`` (``where[..]/norm``), then ``gamma v + beta`` (``where[..]``)."""
    if len(x.shape) not in (2, 3, 4):
        raise NotModelled("batch norm shapes")
    C = x.shape[1]
    chan = np.broadcast_to(np.arange(C).reshape(1, C, *([1] * (len(x.shape) - 2))), x.shape)
    (Fc, cc), _ = compact(x.F, chan)
    src = st.lut("pparam", lambda f: f.pending and f.has_param)[Fc] & ~bn.r_one[cc]
    F = st.materialize(x.F, x.O, np.broadcast_to(src, x.shape))
    affine = bn.gamma[0] != "none" or bn.beta[0] != "none"
    own = st.own()

    def norm(c: int, f: Form) -> Form:
        if not f.pending:
            if bn.r_one[c] and bn.mean_zero[c]:
                return f
            if affine:  # a neuron at once: its coefficient and constant do not matter
                return Form(nterms=1, t1=(f.node, f.vid),
                            reads=frozenset((f.node,)) - {INPUT}, cread=f.contributes,
                            wall=False)
            r = bn.r_exact(c)
            return Form(nterms=1, coef1=r, t1=(f.node, f.vid), cval=-bn.mean(c) * r,
                        reads=frozenset((f.node,)) - {INPUT}, cread=f.contributes, wall=False)
        r = ONE if bn.r_one[c] else bn.r_exact(c)
        return combine(st, [(r, f)], -bn.mean(c) * r, own)

    V = _per_channel(st, F, chan, norm)
    if not affine:
        return T(V, st.creator(where, "", x.shape), x.disjoint)
    V = st.materialize(V, st.creator(where, "/norm", x.shape))
    # out reads its own norm neuron, or (r = 1, mean 0) the input's entry itself
    return T(_per_channel(st, V, chan, lambda c, f: _scale_shift(bn, c, f)),
             st.creator(where, "", x.shape),
             x.disjoint or not bool((bn.r_one & bn.mean_zero).any()))


def _scale_shift(bn: BN, c: int, v: Form) -> Form:
    """``gamma_c v + beta_c`` for a source v."""
    bias, cval, groups = None, ZERO, set()
    if bn.beta[0] == "param":
        bias = (int(bn.beta[1]), c)  # type: ignore[call-overload]
        groups.add(bias)
    elif bn.beta[0] == "const":
        cval = _num(float(bn.beta[1][c]))  # type: ignore[index]
    if bn.gamma[0] == "param":
        groups.add((int(bn.gamma[1]), c))  # type: ignore[call-overload]
        return Form(bias=bias, cval=cval, nterms=1, t1=(v.node, v.vid),
                    reads=frozenset((v.node,)) - {INPUT}, pcoef=True, groups=frozenset(groups))
    g = ONE if bn.gamma[0] == "none" else _num(float(bn.gamma[1][c]))  # type: ignore[index]
    if g == 0:
        return Form(bias=bias, cval=cval, groups=frozenset(groups))
    if g == 1 and bias is None and cval == 0:
        return v
    return Form(bias=bias, cval=cval, nterms=1, coef1=g, t1=(v.node, v.vid),
                reads=frozenset((v.node,)) - {INPUT}, cread=frozenset((v.vid,)), wall=False,
                groups=frozenset(groups))


def _per_channel(st: State, F: np.ndarray, chan: np.ndarray,
                 fn: Callable[[int, Form], Form]) -> np.ndarray:
    pairs, inv = pair_inv(chan, int(chan.max()) + 1, F)
    ids = np.array([st.intern(fn(c, st.forms[f])) for c, f in pairs])
    return np.broadcast_to(ids[inv], F.shape)


# -- pools --------------------------------------------------------------------------------------


def max_pool(st: State, x: T, axes: list[list[range]], where: str) -> T:
    """A max node per window (``Builder.maximum``): the read entries become neurons, then
    per window of n cells n - 1 tie neurons (relu, no bias) and n - 1 maxima; a window of
    one cell is that cell."""
    d = len(axes)
    if len(x.shape) < d + 1:
        raise NotModelled("pool shapes")
    S, lead = x.shape[-d:], x.shape[:-d]
    sizes = _outer_int([np.array([len(r) for r in ax]) for ax in axes])
    if (sizes == 0).any():
        raise NotModelled("a max over an empty window")
    used = [np.zeros(n, dtype=bool) for n in S]
    for u, ax in zip(used, axes):
        for r in ax:
            u[list(r)] = True
    mask = None if all(u.all() for u in used) else np.broadcast_to(_outer(used), x.shape)
    F = st.materialize(x.F, x.O, mask)
    reads, _ = nodes_of(st, F if mask is None else _masked(F, mask))
    own, vid, seq = st.own(), st.vid(), st.tick()
    st.edge(reads, own)
    n_lead = math.prod(lead)
    ties = n_lead * int((sizes - 1).sum())
    if ties:
        st.kinked(st.thetas(_RELU), None, ties)
    out_shape = (*lead, *sizes.shape)
    out = np.broadcast_to(np.array(st.intern(Form(node=own, vid=vid))), out_shape)
    single = sizes == 1
    if single.any():
        starts = [np.array([r.start for r in ax]) for ax in axes]
        cells = np.ix_(*starts)
        picked = F[(..., *cells)]
        out = np.where(single, picked, out)
    st.blocks.append(("pool", seq, (where, out_shape, sizes)))
    if where in st.reused:
        st.events.append(Event(seq, "pool", where, out_shape, sizes=sizes))
    overlap = any(_overlaps(ax) for ax in axes)
    return T(out, -1, x.disjoint and not (single.any() and overlap))


def _overlaps(ax: list[range]) -> bool:
    seen: set[int] = set()
    for r in ax:
        if seen & set(r):
            return True
        seen |= set(r)
    return False


def max_axes(S: Sequence[int], K: Sequence[int], stride: Sequence[int], pad: Sequence[int],
             dil: Sequence[int], ceil_mode: bool) -> list[list[range]]:
    """The cells of max-pool windows per axis (``ops.max_pool``)."""
    for k, s, p, dl in zip(K, stride, pad, dil):
        if k <= 0 or s <= 0 or dl <= 0 or p < 0 or 2 * p > k:
            raise NotModelled("pool geometry")
    O = [pool_out_size(n, k, s, p, dl, ceil_mode) for n, k, s, p, dl in
         zip(S, K, stride, pad, dil)]
    if any(o <= 0 for o in O):
        raise NotModelled("pool output size")
    return [[_taps(o * s - p, k, dl, n) for o in range(oo)]
            for n, k, s, p, dl, oo in zip(S, K, stride, pad, dil, O)]


def avg_axes(S: Sequence[int], K: Sequence[int], stride: Sequence[int], pad: Sequence[int],
             ceil_mode: bool, cip: bool, div: int | None
             ) -> tuple[list[list[range]], np.ndarray]:
    """The cells of average-pool windows per axis and each window's divisor."""
    for k, s, p in zip(K, stride, pad):
        if k <= 0 or s <= 0 or p < 0 or 2 * p > k:
            raise NotModelled("pool geometry")
    if div is not None and div <= 0:
        raise NotModelled("divisor_override")
    O = [pool_out_size(n, k, s, p, 1, ceil_mode) for n, k, s, p in zip(S, K, stride, pad)]
    if any(o <= 0 for o in O):
        raise NotModelled("pool output size")
    axes, size, inside = [], [], []
    for n, k, s, p, oo in zip(S, K, stride, pad, O):
        ax, sz, ins = [], [], []
        for o in range(oo):
            start = o * s - p
            end = min(start + k, n + p)
            lo, hi = max(start, 0), min(end, n)
            ax.append(range(lo, hi))
            sz.append(end - start)
            ins.append(hi - lo)
        axes.append(ax)
        size.append(np.array(sz))
        inside.append(np.array(ins))
    divs = np.full(tuple(O), div) if div else _outer_int(size if cip else inside)
    return axes, divs


def adaptive_axes(S: Sequence[int], O: Sequence[int]) -> tuple[list[list[range]], np.ndarray]:
    """Adaptive pools' windows [floor(o n / m), ceil((o + 1) n / m)) per axis."""
    axes = [[range(o * n // m, -(-(o + 1) * n // m)) for o in range(m)] for n, m in zip(S, O)]
    return axes, _outer_int([np.array([len(r) for r in ax]) for ax in axes])


def avg_pool(st: State, x: T, axes: list[list[range]], divs: np.ndarray, where: str) -> T:
    """An average per window: ``sum_cells (1/div) cell`` (``Builder.lincomb``)."""
    d = len(axes)
    if len(x.shape) < d + 1 or (divs <= 0).any():
        raise NotModelled("pool shapes")
    S, lead = x.shape[-d:], x.shape[:-d]
    sizes = _outer_int([np.array([len(r) for r in ax]) for ax in axes])
    if not x.disjoint:
        raise NotModelled("an average of entries that may read one neuron")
    F = x.F
    if not ((divs == 1).all() and (sizes == 1).all()):  # else each window copies its cell
        used = [np.zeros(n, dtype=bool) for n in S]
        for u, ax in zip(used, axes):
            for r in ax:
                u[list(r)] = True
        src = st.lut("pparam", lambda f: f.pending and f.has_param)[F] & \
            np.broadcast_to(_outer(used), x.shape)
        if (divs == 1).any() and src.any():
            # a summand with a parameter is expanded at 1/1 and read through its neuron at
            # 1/n, whichever window comes first (and only one bias stays per window)
            raise NotModelled("an average pool with divisor 1 over entries with parameters")
        F = st.materialize(F, x.O, src)
    cells = _cells(axes, S)  # (windows, max cells), -1 padded
    n_lead = math.prod(lead)
    G = F.reshape(n_lead, -1)[:, np.maximum(cells, 0)]
    G = np.where(cells[None] >= 0, G, -1)
    G.sort(axis=2)
    rows = np.concatenate([np.broadcast_to(divs.reshape(1, -1, 1), (n_lead, divs.size, 1)),
                           G], 2)
    rows = rows.reshape(-1, rows.shape[2])
    uniq, inv = np.unique(rows, axis=0, return_inverse=True)
    own = st.own()
    ids = np.array([st.intern(combine(st, [(Fraction(1, int(r[0])), st.forms[int(i)])
                                           for i in r[1:] if i >= 0], ZERO, own, True))
                    for r in uniq])
    out_shape = (*lead, *divs.shape)
    disjoint = not any(_overlaps(ax) for ax in axes)
    return T(ids[inv.reshape(-1)].reshape(out_shape), st.creator(where, "", out_shape),
             disjoint)


def _cells(axes: list[list[range]], S: Sequence[int]) -> np.ndarray:
    """Flat spatial indices of every window's cells (row-major windows), -1 padded."""
    wins = list(itertools.product(*axes))
    m = max(math.prod(len(r) for r in w) for w in wins)
    out = np.full((len(wins), m), -1, dtype=np.int64)
    strides = [math.prod(S[a + 1:]) for a in range(len(S))]
    for i, w in enumerate(wins):
        flat = sum(np.ix_(*[np.array(r, dtype=np.int64) * st for r, st in zip(w, strides)]))
        flat = np.asarray(flat).reshape(-1)
        out[i, :flat.size] = flat
    return out


def cat(st: State, ts: Sequence[T], dim: int) -> T:
    """``torch.cat`` along a non-batch axis."""
    contrib = [frozenset().union(*(st.forms[i].contributes for i in distinct(t.F)))
               for t in ts]
    disjoint = all(t.disjoint for t in ts) and all(
        not (a & b) for a, b in itertools.combinations(contrib, 2))
    F = np.concatenate([t.F for t in ts], dim)
    O = np.concatenate([gid_array(t.O, t.shape) for t in ts], dim)
    return T(F, O, disjoint)

