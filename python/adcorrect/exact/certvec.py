"""The certified quick pass over a batch of copies at once: the values of every copy as
float64 midpoints and radii, with rigorous error bounds, so that a batch where no
enclosure meets a kink is certified without a ball per entry.  The neurons are grouped
by depth, kind and size (:class:`LevelPlan`) and each group is evaluated at once for
every copy: the numpy calls number the groups, not the neurons, and a whole-batch
network (one copy) is vectorised across its neurons.

Error model: that of :mod:`.vecfns` (IEEE binary64, every rounding counted), and a dot
product of n terms, in any summation order and with or without FMA, is within
``gamma_n sum |a_i b_i|`` of the exact one, ``gamma_n = n u / (1 - n u)`` (Higham,
Accuracy and Stability of Numerical Algorithms, 3.1).  The parameter terms of a dense or
convolutional layer are matrix products by blocks (:func:`_blocks`): the same bound for
any summation order.  Smooth activations go through :func:`.vecfns.smooth_vec` where it
has a method, otherwise through Arb entry by entry (a ball built from the midpoint and
radius, its result converted back outward).  A kink or a breakpoint inside an
enclosure, a denominator whose enclosure meets 0, or a domain boundary gives None:
the ball-by-ball passes decide."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

import numpy as np
from flint import arb

from ..core.errors import Undecided
from ..nets.ir import Network
from ..numbers.cvalue import START_PRECISION, ball, precision
from ..numbers.smoothfns import SMOOTH
from .certval import kinks_of, per_network
from .vecfns import ETA, U, smooth_vec
from .vecfns import double as _double
from .vecfns import inflate as _inflate
from .vecfns import poly as _poly


def _known(m: np.ndarray, r: np.ndarray, c: float, cr: float = 0.0) -> np.ndarray:
    """Per copy (column): whether every entry's enclosure lies strictly on one side of
    every number within cr of c."""
    d = m - c  # |fl(m - c) - (m - c)| <= u |d| + eta
    return np.all(np.abs(d) > _inflate(r + cr + U * np.abs(d), 1), axis=0)  # type: ignore[no-any-return]


#: functions whose domain is x > 0 (1/x: x != 0), checked per copy
_POSITIVE = ("sqrt", "rsqrt", "log")


def _in_domain(fn: str, m: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Per copy: every enclosure certainly inside the function's domain."""
    if fn in _POSITIVE:
        return np.all(np.nextafter(m - r, -np.inf) > 0, axis=0)  # type: ignore[no-any-return]
    if fn == "reciprocal":
        return _known(m, r, 0.0)
    return np.ones(m.shape[1], dtype=bool)


def _drop(bad: np.ndarray, ok: np.ndarray, *arrays: np.ndarray) -> None:
    """Marks the copies not ``ok`` as bad and sets their columns to 1 (a value inside
    every domain: the other copies' work goes on, the bad ones are decided elsewhere)."""
    if ok.all():
        return
    bad |= ~ok
    for k, a in enumerate(arrays):
        a[:, bad] = 1.0 if k % 2 == 0 else 0.0


def _smooth(act: Any, m: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    got = smooth_vec(act.fn, act.args, m, r)
    return got if got is not None else _smooth_arb(act, m, r)


def _smooth_arb(act: Any, m: np.ndarray, r: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """Any smooth activation entry by entry through Arb."""
    fn = SMOOTH[act.fn]
    om, orad = np.empty_like(m), np.empty_like(m)
    with precision(START_PRECISION):
        for j in range(m.shape[0]):
            try:
                v = ball(fn.value(arb(float(m[j]), float(r[j])), act.args))
            except Undecided:
                return None
            if not v.is_finite():
                return None
            om[j] = float(v.mid())
            orad[j] = float(v.rad()) * (1 + 4 * U) + abs(om[j]) * 2 * U + ETA
    return om, orad


def _bucket(n: int) -> int:
    """The padded size of a group's rows: the next power of two (at most twice n)."""
    return 1 << max(n - 1, 0).bit_length() if n else 0


#: entries (rows x copies) evaluated at once: the temporaries of a chunk stay in cache
CHUNK_ENTRIES = 1 << 14
#: blocks per group at most, and terms per neuron at least, for the blocked products
MAX_BLOCKS = 16
MIN_BLOCK_TERMS = 4


def _blocks(sp: np.ndarray, pp: np.ndarray) -> list[tuple[np.ndarray, ...]] | None:
    """A group's parameter terms as products of a weight matrix and a matrix of sources
    (a dense or convolutional layer): the members whose source rows share one set of
    weight rows form a block, so each block is one matrix product.  Each block is
    (source rows (S, T), parameter indices (P, T), members, their rows ``p S + s`` in the
    product), members and rows None when the product's rows are the group's; None when
    there are more than MAX_BLOCKS."""
    usp, sid = np.unique(sp, axis=0, return_inverse=True)
    upp, pid = np.unique(pp, axis=0, return_inverse=True)
    sid, pid = sid.reshape(-1), pid.reshape(-1)
    order = np.lexsort((pid, sid))
    by_sig: dict[bytes, list[np.ndarray]] = defaultdict(list)
    for chunk in np.split(order, np.flatnonzero(np.diff(sid[order])) + 1):
        by_sig[np.unique(pid[chunk]).tobytes()].append(chunk)
        if len(by_sig) > MAX_BLOCKS:
            return None
    blocks = []
    for sig, chunks in by_sig.items():
        pids = np.frombuffer(sig, dtype=pid.dtype)
        mem = np.concatenate(chunks)
        sids = np.unique(sid[mem])
        flat = np.searchsorted(pids, pid[mem]) * len(sids) + np.searchsorted(sids, sid[mem])
        ordered = len(by_sig) == 1 and np.array_equal(mem, np.arange(len(mem))) \
            and np.array_equal(flat, np.arange(len(flat)))
        blocks.append((usp[sids], upp[pids], None if ordered else mem,
                       None if ordered else flat))
    return blocks


def _blocked(blocks: list[tuple[np.ndarray, ...]], G: int, Zm: np.ndarray, Zr: np.ndarray,
             w: np.ndarray, gam: float) -> tuple[np.ndarray, np.ndarray]:
    """The parameter terms of a group by blocks: sum w x at the midpoints, and
    sum |w| (r + gam |x|), the part of the radius before inflation."""
    B = Zm.shape[1]
    ym, yr = np.empty((G, B)), np.empty((G, B))
    for rows, cols, mem, flat in blocks:
        S, T = rows.shape
        xm = Zm[rows].transpose(1, 0, 2).reshape(T, S * B)
        t = Zr[rows].transpose(1, 0, 2).reshape(T, S * B)
        t += gam * np.abs(xm)
        wb = w[cols]
        pm, pr = (wb @ xm).reshape(-1, B), (np.abs(wb) @ t).reshape(-1, B)
        if mem is None:  # one block, its members in order: a dense layer
            return pm, pr
        ym[mem], yr[mem] = pm[flat], pr[flat]
    return ym, yr


class _Group:
    """Neurons of one level, op, activation and padded term counts, as index arrays."""

    def __init__(self, op: str, act: Any, members: list[int], rows: dict[str, Any]) -> None:
        self.op, self.act, self.members = op, act, np.array(members, dtype=np.int64)
        for k, v in rows.items():
            setattr(self, k, v)


class LevelPlan:
    """The groups of a network in evaluation order.  Storage rows: 0 is a zero, then the
    inputs, then the neurons; parameter index W is a padding zero."""

    def __init__(self, net: Network) -> None:
        n_in, W = len(net.input), net.W
        self.n_in, self.W = n_in, W

        def row(s: int) -> int:
            return 1 + (-s - 1) if s < 0 else 1 + n_in + s

        level = [0] * len(net.neurons)
        buckets: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for n in net.neurons:
            lv = 1 + max((level[s] for s in n.sources if s >= 0), default=0)
            level[n.index] = lv
            if n.op in ("mul", "div"):
                key: tuple[Any, ...] = (lv, n.op, n.activation)
            else:
                nc = sum(1 for c in n.weights if c[0] != "param")
                key = (lv, "lin", n.activation, _bucket(nc), _bucket(len(n.weights) - nc))
            buckets[key].append(n.index)
        self.groups: list[_Group] = []
        for key in sorted(buckets, key=lambda k: (k[0], str(k[1:]))):
            members = buckets[key]
            ns = [net.neurons[k] for k in members]
            if key[1] in ("mul", "div"):
                rows = {"a": np.array([row(n.sources[0]) for n in ns]),
                        "b": np.array([row(n.sources[1]) for n in ns])}
            else:
                tc, tp = key[3], key[4]
                G = len(ns)
                sc = np.zeros((G, tc), dtype=np.int64)
                cm, cr = np.zeros((G, tc)), np.zeros((G, tc))
                sp = np.zeros((G, tp), dtype=np.int64)
                pp = np.full((G, tp), W, dtype=np.int64)
                bp = np.full(G, W, dtype=np.int64)
                bm, br = np.zeros(G), np.zeros(G)
                nt = np.zeros(G)
                for g, n in enumerate(ns):
                    i = j = 0
                    for s, c in zip(n.sources, n.weights):
                        if c[0] == "param":
                            sp[g, j], pp[g, j] = row(s), c[1]
                            j += 1
                        else:
                            sc[g, i] = row(s)
                            cm[g, i], cr[g, i] = _double(c[1])  # type: ignore[arg-type]
                            i += 1
                    if n.bias is not None:
                        if n.bias[0] == "param":
                            bp[g] = n.bias[1]
                        else:
                            bm[g], br[g] = _double(n.bias[1])  # type: ignore[arg-type]
                    nt[g] = len(n.weights) + (n.bias is not None)
                blocks = _blocks(sp, pp) if tp >= MIN_BLOCK_TERMS else None
                rows = {"sc": sc, "cm": cm, "acm": np.abs(cm), "cr": cr, "blocks": blocks,
                        "exact_coefs": not cr.any(), "sp": sp, "pp": pp, "bp": bp, "bm": bm,
                        "br": br, "nmax": int(nt.max()) if G else 0}
            act = ns[0].activation
            pieces = None
            if act.exact:
                pieces = ([_double(c) for c in act.breakpoints],
                          [[_double(c) for c in p] for p in act.pieces])
            rows["pieces"] = pieces
            rows["out"] = np.array([1 + n_in + k for k in members])
            self.groups.append(_Group(key[1], act, members, rows))
        self._local = threading.local()

    def storage(self, rows: int, B: int) -> tuple[np.ndarray, np.ndarray]:
        """Midpoint and radius storage (rows, B), kept per thread for the next batch of
        the same size (fresh pages cost as much as the pass's smaller groups)."""
        got = getattr(self._local, "arrays", None)
        if got is None or got[0].shape != (rows, B):
            got = (np.empty((rows, B)), np.empty((rows, B)))
            self._local.arrays = got
        return got  # type: ignore[no-any-return]


_PLANS: dict[int, tuple[Network, LevelPlan]] = {}


def level_plan(net: Network) -> LevelPlan:
    """The network's groups, built once (:func:`~.certval.per_network`)."""
    return per_network(_PLANS, net, LevelPlan)


def _gamma(n: int) -> float:
    return n * U / (1 - n * U)


def _rows(g: _Group, sl: slice, Zm: np.ndarray, Zr: np.ndarray, w: np.ndarray,
          pre: tuple[np.ndarray, np.ndarray] | None, bad: np.ndarray) -> bool:
    """Rows ``sl`` of a group: their enclosures into the storage; a copy where one meets
    a kink, a breakpoint or a domain boundary is marked in ``bad``; False where a smooth
    function declines.  ``pre``: the group's blocked parameter terms
    (:func:`_blocked`), computed for all its rows at once."""
    if g.op in ("mul", "div"):
        ia, ib = g.a[sl], g.b[sl]
        am, ar, bm, br = Zm[ia], Zr[ia], Zm[ib], Zr[ib]
        if g.op == "div":
            _drop(bad, _known(bm, br, 0.0), bm, br)
            den = (np.abs(bm) - br) * (1 - 4 * U) - ETA
            ym = am / bm
            yr = _inflate((ar * np.abs(bm) + np.abs(am) * br) / (den * np.abs(bm))
                          * (1 + 4 * U) + U * np.abs(ym), 4)
        else:
            ym = am * bm
            yr = _inflate(np.abs(am) * br + ar * np.abs(bm) + ar * br + U * np.abs(ym), 3)
    else:
        if g.sc.shape[1]:
            sc, cm, acm = g.sc[sl], g.cm[sl], g.acm[sl]
            xm, xr = Zm[sc], Zr[sc]  # (G, Tc, B)
            axm = np.abs(xm)
            ym = np.einsum("gt,gtb->gb", cm, xm)
            mag = np.einsum("gt,gtb->gb", acm, axm)
            unc = np.einsum("gt,gtb->gb", acm, xr)
            if not g.exact_coefs:  # constants that are not doubles
                unc = unc + np.einsum("gt,gtb->gb", g.cr[sl], axm + xr)
        else:
            ym = mag = unc = np.zeros((sl.stop - sl.start, Zm.shape[1]))
        n = g.nmax + 1
        gam = _gamma(n)
        if pre is not None:
            ym, unc = ym + pre[0][sl], unc + pre[1][sl]
        elif g.sp.shape[1]:
            wp = w[g.pp[sl]]
            pm, pr = Zm[g.sp[sl]], Zr[g.sp[sl]]
            ym = ym + np.einsum("gt,gtb->gb", wp, pm)
            mag = mag + np.einsum("gt,gtb->gb", np.abs(wp), np.abs(pm))
            unc = unc + np.einsum("gt,gtb->gb", np.abs(wp), pr)
        bv = w[g.bp[sl]] + g.bm[sl]
        ym = ym + bv[:, None]
        mag = mag + np.abs(bv)[:, None]
        unc = unc + g.br[sl][:, None]
        yr = _inflate(unc + gam * mag, n)
    act = g.act
    if g.pieces is not None:
        bps, coefs = g.pieces
        idx = np.zeros(ym.shape, dtype=np.int64)
        for c, crad in bps:
            _drop(bad, _known(ym, yr, c, crad), ym, yr)
            idx += ym > c
        if len(bps) == 1 and coefs == [[(0.0, 0.0)], [(0.0, 0.0), (1.0, 0.0)]]:  # relu
            live = idx == 1
            zm, zr = np.where(live, ym, 0.0), np.where(live, yr, 0.0)
        elif not bps:
            zm, zr = _poly(coefs[0], ym, yr)
        else:
            zm, zr = np.empty_like(ym), np.empty_like(ym)
            for i in np.unique(idx):
                sel = idx == i
                zm[sel], zr[sel] = _poly(coefs[i], ym[sel], yr[sel])
    else:
        for kk in kinks_of(act):
            _drop(bad, _known(ym, yr, *_double(kk.at)), ym, yr)
        _drop(bad, _in_domain(act.fn, ym, yr), ym, yr)
        got = _smooth(act, ym.reshape(-1), yr.reshape(-1))
        if got is None:
            return False
        zm, zr = got[0].reshape(ym.shape), got[1].reshape(ym.shape)
    out = g.out[sl]
    Zm[out], Zr[out] = zm, zr
    return True


def quick_batch(net: Network, wv: np.ndarray, xs: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """The outputs of the copies of net on the inputs ``xs`` (B, n_in), at parameters
    ``wv``, midpoints and radii (B, n_out each), when every enclosure excludes the kinks
    (no copy on a kink: f is C1 near w); None otherwise.  ``wv`` and ``xs`` are float64
    arrays holding the exact values (an audit's parameters and inputs are doubles)."""
    got = quick_copies(net, wv, xs)
    return None if got is None or got[2].any() else (got[0], got[1])


def quick_copies(net: Network, wv: np.ndarray, xs: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`quick_batch` copy by copy: the outputs (midpoints, radii) and which copies
    meet a kink, a breakpoint or a domain boundary (their outputs mean nothing); None
    where a smooth function declines.  Copies are independent, so every other copy's
    enclosures hold."""
    plan = level_plan(net)
    B = xs.shape[0]
    if xs.shape[1] != plan.n_in:
        return None
    Zm, Zr = plan.storage(1 + plan.n_in + len(net.neurons), B)
    Zm[0], Zr[:1 + plan.n_in] = 0.0, 0.0  # every neuron's row is written before it is read
    Zm[1:1 + plan.n_in] = np.asarray(xs, dtype=np.float64).T
    w = np.append(np.asarray(wv, dtype=np.float64), 0.0)
    bad = np.zeros(B, dtype=bool)
    step = max(1, CHUNK_ENTRIES // B)
    with np.errstate(all="ignore"):  # a bad copy's columns may overflow: never read
        for g in plan.groups:
            G = len(g.members)
            pre = None
            if g.op == "lin" and g.blocks is not None:
                pre = _blocked(g.blocks, G, Zm, Zr, w, _gamma(g.nmax + 1))
            for s in range(0, G, step):
                if not _rows(g, slice(s, min(G, s + step)), Zm, Zr, w, pre, bad):
                    return None
    outs = [1 + plan.n_in + o for o in net.head.outputs]
    return Zm[outs].T.copy(), Zr[outs].T.copy(), bad
