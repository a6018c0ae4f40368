"""The audit's filter at tensor level (issue 16, item 2): the model's own ``torch.fx``
graph run on certified float64 tensors, without building per-neuron objects.

Every tensor of the forward pass is carried as ``CT``: float64 values ``V`` (batch axis
first), radii ``R`` (the exact value lies in ``[V - R, V + R]``; ``R = 0``: ``V`` is
exact), quantum bounds ``Q`` (where ``R = 0`` the exact value is a multiple of ``2^Q``)
and ``C``, entries that are *locally constant* in the trainable parameters (tangent zero
in every direction: inputs, frozen constants, relu of a certainly negative value, ...).
The bounds are those of :mod:`adcorrect.audit.certified` (facts 1, 4, 6, 7, 8), applied
to whole convolutions and matrix products: one float64 product for the values, one for
the radii (``|W| (g |X| + R)``), one more for exactness only where a window is exact.

Each activation call classifies its copies (entry, example) as in the IR's filter:
*kinked* (input exactly a kink), *uncertain* (the radius does not decide the piece) or
decided; a max pool the same with ties (two window entries that can both be the max).
A kinked or uncertain copy whose input is locally constant is *dead*: no kink for
differentiability and no choice point for AD (the output is locally constant whatever
the piece).  With no live kinked and no live uncertain copy, every copy sits inside a
smooth piece near w (dead ones are locally constant), so the loss is C^1 near w and its
gradient is AD's (the chain rule): the audit is decided without exact arithmetic.
Anything else goes to the exact audit on the IR (:mod:`adcorrect.audit.exact`).

Supported: ``Linear``, ``Conv1d/2d`` (zeros padding), ``BatchNorm1d/2d`` in eval mode,
the kinked activations of :mod:`adcorrect.torchfx.act_table`, max, average and adaptive
pools, ``+``/``-``/negation, scaling by Python numbers, ``flatten``/``view``/``reshape``
keeping the batch axis, ``torch.cat``, ``Dropout`` in eval mode, ``Identity``.  Anything
else raises :class:`Unsupported` and the audit uses the IR (same verdicts, slower).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..nets.activations import Activation
from ..torchfx.act_table import FUNC_ACTS, METHOD_ACTS, MODULE_ACTS
from .certified import ETA, F64, INFLATE, NOQ, U, fits, gamma, quantum
from .floatact import ActTable, _activate_entries, act_table, is_relu
from .kernels import certified_add, certified_scale


class Unsupported(Exception):
    """The model uses an op the tensor-level filter does not handle (the IR path may)."""


@dataclass
class CT:
    """A certified tensor (see the module docstring); shapes (B, ...)."""

    V: torch.Tensor
    R: torch.Tensor
    Q: torch.Tensor
    C: torch.Tensor
    # an affine result not yet read twice: the IR names the neuron of its activation after
    # it (where, per-example shape of that result; reshapes keep the row-major order)
    name: tuple[str, tuple[int, ...]] | None = None

    def view(self, *shape: int) -> CT:
        return CT(*(t.reshape(shape) for t in (self.V, self.R, self.Q, self.C)),
                  name=self.name)


@dataclass
class ActCall:
    """One activation call of the forward pass, in graph order (the execution audit's
    records have the same order): where it is, its activation, and its copies."""

    seq: int
    where: str  # the IR's name of the call's neurons
    shape: tuple[int, ...]  # per example, of the tensor the names index
    act: Activation
    kink: torch.Tensor  # (B, n) live kinked copies
    dead: torch.Tensor  # (B, n) kinked copies with a locally constant input
    unc: torch.Tensor  # (B, n) live uncertain copies
    y: torch.Tensor  # (B, n) float64 pre-activations


@dataclass
class PoolTies:
    """Max-pool ties of one kind (``dead`` or ``submax``) of one pool call: mask
    (B, C, kk, L), the tie at window entry kk of window L."""

    seq: int  # position among the activation and pool calls, in graph order
    where: str
    shape: tuple[int, ...]  # the pool's output shape per example
    kind: str
    mask: torch.Tensor
    num: torch.Tensor  # 1-based position of each window entry among its unpadded ones

    def count(self) -> int:
        return int(self.mask.sum())

    def copies(self, limit: int, example: int | None = None) -> list[tuple[str, int]]:
        """(IR label, example) of up to ``limit`` ties (of one example, if given), in the
        IR's order: ``where[c,i,j]/tie{n}`` with n the 1-based position of the entry
        among the window's (unpadded) entries."""
        out = []
        mask = self.mask if example is None else self.mask[example:example + 1]
        for c, w, j, b in mask.permute(1, 3, 2, 0).nonzero()[:limit].tolist():
            b = b if example is None else example
            idx = [c, *(divmod(w, self.shape[2]) if len(self.shape) == 3 else (w,))]
            n = int(self.num[b, c, j, w])
            out.append((f"{self.where}[{','.join(map(str, idx))}]/tie{n}", b))
        return out


@dataclass
class Filtered:
    """What the tensor filter found on one batch."""

    out: torch.Tensor  # (B, n_out) float64 outputs
    calls: list[ActCall] = field(default_factory=list)
    pool_kinks: int = 0  # live max-pool ties
    pools: list[PoolTies] = field(default_factory=list)  # dead and sub-maximum ties
    pool_unc: int = 0
    pool_sub_unc: int = 0  # chain ties below the window maximum the radii leave open

    @property
    def live(self) -> int:
        """Copies that need exact work: live kinks and live uncertain copies."""
        return self.pool_kinks + self.pool_unc + sum(
            int(c.kink.sum()) + int(c.unc.sum()) for c in self.calls)


# -- certified primitives ------------------------------------------------------------------

def _ex_quantum(x: CT) -> torch.Tensor:
    """Per example: a quantum bound of every exact entry, shape (B,)."""
    q = torch.where(x.R == 0, x.Q, torch.full_like(x.Q, NOQ))
    return q.reshape(q.shape[0], -1).amin(1) if q.dim() > 1 else q


def _exact_tensor(t: torch.Tensor, const: bool, B: int | None = None) -> CT:
    v = t.detach().to(F64)
    if not bool(torch.isfinite(v).all()):
        raise Unsupported("a NaN or infinite tensor")
    q = quantum(v.reshape(-1)).reshape(v.shape)
    return CT(v, torch.zeros_like(v), q, torch.full(v.shape, const, dtype=torch.bool))


def _min_quantum(t: torch.Tensor | None) -> int:
    if t is None or t.numel() == 0:
        return NOQ
    return int(quantum(t.detach().to(F64).reshape(-1)).min())


def _affine(x: CT, w: torch.Tensor, b: torch.Tensor | None, w_const: bool, b_const: bool,
            op: Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor],
            m: int, window_any: Callable[[torch.Tensor], torch.Tensor] | None = None) -> CT:
    """``op(x, w) + b`` (a convolution or a matrix product, linear in each argument) with
    fact 7's radius and fact 4's exactness, w and b exact floats; ``window_any`` maps a
    bool input mask to "some entry of the output's window is set" (else ``op`` does)."""
    wd = w.detach().to(F64)
    bd = None if b is None else b.detach().to(F64)
    wa = wd.abs()
    Y = op(x.V, wd, bd)
    g = gamma(m + 1)
    P = op(g * x.V.abs() + x.R, wa, None)
    wnorm = float(wa.reshape(wa.shape[0], -1).norm(dim=1).max()) if wa.numel() else 0.0
    R = (P + m * ETA) * (1 + 2 * gamma(m + 3)) + math.sqrt(m) * wnorm * ETA + m * ETA
    if bd is not None:
        R = R + g * bd.abs().reshape((1, -1) + (1,) * (Y.dim() - 2))
    R = R * INFLATE + (m + 8) * 2.0 ** -1070
    qx = _ex_quantum(x)
    Q = (qx + _min_quantum(w)).clamp(-NOQ, NOQ)
    if bd is not None:
        Q = torch.minimum(Q, torch.tensor(_min_quantum(b)))
    Q = Q.reshape((-1,) + (1,) * (Y.dim() - 1)).expand(Y.shape)
    whole = (x.R == 0).reshape(x.R.shape[0], -1).all(1)  # examples computed exactly so far
    if bool(whole.any()):
        ok = whole.reshape((-1,) + (1,) * (Y.dim() - 1)).expand(Y.shape)
        size = op(x.V.abs(), wa, None)
        if bd is not None:
            size = size + bd.abs().reshape((1, -1) + (1,) * (Y.dim() - 2))
        ok = ok & fits(size * (1 + 2 * gamma(m + 2)) * INFLATE, Q)
        R = torch.where(ok, torch.zeros_like(R), R)
    R = torch.where(torch.isfinite(Y), R, torch.full_like(R, math.inf))
    Q = torch.where(R == 0, Q, torch.full_like(Q, -NOQ))
    # locally constant: no trainable bias, and every term w x with a trainable w has an
    # exact zero x, every term with a frozen w a constant x (or w = 0)
    if b is not None and not b_const:
        C = torch.zeros(Y.shape, dtype=torch.bool)
    elif not w_const:
        live_x = ~(x.C & (x.V == 0) & (x.R == 0))
        C = ~window_any(live_x) if window_any is not None else \
            op(live_x.to(F64), torch.ones_like(wd), None) == 0
    else:
        C = op((~x.C).to(F64), (wd != 0).to(F64), None) == 0
    return CT(Y, R, Q, C)


def _conv_window_any(m: Any, d: int, pad: Any, c_out: int
                     ) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """For a convolution: bool mask (B, C_in, ...) -> (B, C_out, ...) "some input of the
    output's receptive field is set", as a max pool over the group's channels (None where
    max pooling cannot express the padding)."""
    K = list(m.kernel_size)
    P = [pad] * d if isinstance(pad, int) else list(pad)
    if any(2 * p > k for p, k in zip(P, K)):
        return None
    pool = F.max_pool1d if d == 1 else F.max_pool2d

    def any_(t: torch.Tensor) -> torch.Tensor:
        B, C = t.shape[:2]
        g = t.reshape(B, m.groups, C // m.groups, *t.shape[2:]).any(2).to(F64)
        h = pool(g, K, m.stride, P, m.dilation) > 0
        return h.repeat_interleave(c_out // m.groups, 1)

    return any_


def _scale_shift(x: CT, scale: torch.Tensor, shift: torch.Tensor, const: bool) -> CT:
    """``x * scale + shift`` per channel (axis 1), scale and shift exact floats."""
    shp = (1, -1) + (1,) * (x.V.dim() - 2)
    s, t = scale.reshape(shp).expand_as(x.V), shift.reshape(shp).expand_as(x.V)
    zs = torch.zeros_like(x.V)
    Y, R, Q = certified_scale(x.V, x.R, x.Q, s, zs, quantum(s.reshape(-1)).reshape(s.shape))
    Y, R, Q = certified_add(Y, R, Q, t, zs, quantum(t.reshape(-1)).reshape(t.shape))
    return CT(Y, R, Q, x.C & const)


def _batch_norm(x: CT, m: nn.Module) -> CT:
    """Eval-mode BatchNorm as the importer reads it: ``gamma (r x - r mean) + beta`` with
    ``r`` the float PyTorch computes (:func:`adcorrect.torchfx.values.inv_sqrt`)."""
    from ..torchfx.values import inv_sqrt

    if m.training or m.running_mean is None or m.running_var is None:
        raise Unsupported("BatchNorm in training mode")
    mean = m.running_mean.detach().to(F64)
    var = m.running_var.detach()
    r = torch.tensor([float(inv_sqrt(Fraction(float(v)), float(m.eps), var.dtype))
                      for v in var.to(F64).tolist()], dtype=F64)
    shp = (1, -1) + (1,) * (x.V.dim() - 2)
    rr = r.reshape(shp).expand_as(x.V)
    zs = torch.zeros_like(x.V)
    qr = quantum(rr.reshape(-1)).reshape(rr.shape)
    a = certified_scale(x.V, x.R, x.Q, rr, zs, qr)
    mm = mean.reshape(shp).expand_as(x.V)
    bm = certified_scale(mm, zs, quantum(mm.reshape(-1)).reshape(mm.shape), rr, zs, qr)
    t = certified_add(*a, -bm[0], bm[1], bm[2])
    frozen = all(p is None or not p.requires_grad for p in (m.weight, m.bias))
    C = x.C if frozen else torch.zeros_like(x.C)
    g = m.weight.detach().to(F64) if m.weight is not None else torch.ones(len(r), dtype=F64)
    b = m.bias.detach().to(F64) if m.bias is not None else torch.zeros(len(r), dtype=F64)
    return _scale_shift(CT(t[0], t[1], t[2], C), g, b, True)


def _activation(tab: ActTable, x: CT) -> tuple[CT, torch.Tensor, torch.Tensor]:
    """sigma on the enclosures: output, certain kinks, uncertain copies."""
    if is_relu(tab):
        V, R = x.V, x.R
        neg = V < -R  # certainly negative (R = 0: V < 0): exactly 0, locally constant
        Z = V.clamp_min(0.0)
        RZ = R.masked_fill(neg, 0.0)
        QZ = x.Q.masked_fill(neg, NOQ)
        exact = R == 0
        return CT(Z, RZ, QZ, x.C | neg), exact & (V == 0), ~exact & (V.abs() <= R)
    Z, RZ, QZ, kink, unc = _activate_entries(tab, x.V, x.R, x.Q)
    flat = torch.zeros_like(kink)
    idx = torch.zeros(x.V.shape, dtype=torch.int64)
    for c, _ in tab.bps:
        idx += (x.V > c).to(torch.int64)
    for p, coefs in enumerate(tab.pieces):
        if all(c == 0 and e == 0 for c, e, _ in coefs[1:]):
            flat |= (idx == p) & ~unc & ~kink
    return CT(Z, RZ, QZ, x.C | flat), kink, unc


def _windows(t: torch.Tensor, d: int, k: list[int], st: list[int], pad: list[int],
             dl: list[int], ceil_mode: bool, fill: float
             ) -> tuple[torch.Tensor, tuple[int, int]]:
    """(B, C, kk, L): the pooling windows of t (B, C, *spatial), padded with ``fill``,
    in PyTorch's max-pool geometry."""
    if d == 1:
        t = t.unsqueeze(2)
        k, st, pad, dl = [1, *k], [1, *st], [0, *pad], [1, *dl]
    B, Cn, H, Wd = t.shape
    outs = []
    for n, kk, s, p, e in zip((H, Wd), k, st, pad, dl):
        span = e * (kk - 1) + 1
        num = n + 2 * p - span
        o = (-(-num // s) if ceil_mode else num // s) + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        if o < 1:
            raise Unsupported("an empty pool")
        outs.append((o, (o - 1) * s + span - n - p))  # right padding (< 0: crop)
    tp = F.pad(t, (pad[1], outs[1][1], pad[0], outs[0][1]), value=fill)
    u = F.unfold(tp, (k[0], k[1]), dilation=(dl[0], dl[1]), stride=(st[0], st[1]))
    L = outs[0][0] * outs[1][0]
    return u.reshape(B, Cn, k[0] * k[1], -1)[..., :L], (outs[0][0], outs[1][0])


def _max_pool(x: CT, d: int, k: list[int], st: list[int], pad: list[int], dl: list[int],
              ceil_mode: bool) -> tuple[CT, dict[str, torch.Tensor]]:
    """Max pool on the enclosures.  PyTorch's max of a window is the IR's chain of max
    nodes ``m_j = m_(j-1) + relu(s_j - m_(j-1))`` over its entries in scan order (padding
    left out), so a *tie* is an entry ``j >= 2`` exactly equal to the running max of the
    entries before it.  Returned masks, (B, C, kk, L) with the tie's position: ``dead``
    (every competitor locally constant), ``submax`` (live, below a strict window maximum:
    zero adjoint for every choice), ``live`` (live, at the window maximum), and
    ``unc`` (B, C, L): windows whose maximum the radii do not decide, ``sub_unc``:
    possible chain ties below it that the radii leave open (no effect on the verdict: the
    window's maximum is strict; they only make the count of kinked copies a lower bound)."""
    B, Cn = x.V.shape[:2]
    wv, oshape = _windows(x.V, d, k, st, pad, dl, ceil_mode, -math.inf)
    wr, _ = _windows(x.R, d, k, st, pad, dl, ceil_mode, 0.0)
    wq, _ = _windows(x.Q.to(F64), d, k, st, pad, dl, ceil_mode, float(NOQ))
    wc, _ = _windows(x.C.to(F64), d, k, st, pad, dl, ceil_mode, 1.0)
    fin = torch.isfinite(wv)
    slack = torch.where((wr > 0) & fin, wr * INFLATE + 2 * U * wv.abs() + ETA,
                        torch.zeros_like(wr))
    lo = (wv - slack).amax(2, keepdim=True)
    cand = (wv + slack >= lo) & fin
    V = wv.amax(2)
    R = torch.where(cand, wr, torch.zeros_like(wr)).amax(2)
    Q = torch.where(cand, wq, torch.full_like(wq, float(NOQ))).amin(2).to(torch.int64)
    const = wc != 0
    C = ~(cand & ~const).any(2)
    multi = cand.sum(2) > 1
    exact_max = ~(cand & (wr > 0)).any(2)
    # chain ties among exact entries (an inexact entry makes every later tie uncertain)
    exact_prefix = torch.cumprod((wr == 0).to(torch.int8), 2).bool()
    pm = torch.cummax(wv, 2).values
    before = torch.cat([torch.full_like(wv[:, :, :1], -math.inf), pm[:, :, :-1]], 2)
    tie = fin & exact_prefix & (wv == before) & torch.isfinite(before)
    comp_live = torch.zeros_like(tie)
    if bool(tie.any()):
        for j in range(1, wv.shape[2]):
            at = (wv[:, :, :j] == before[:, :, j:j + 1]) & ~const[:, :, :j]
            comp_live[:, :, j] = at.any(2)
    dead = tie & const & ~comp_live
    at_max = (wv == V.unsqueeze(2)) & multi.unsqueeze(2)
    live = tie & ~dead & at_max
    submax = tie & ~dead & ~at_max
    unc = multi & ~exact_max & ~C
    # chain ties the radii do not exclude (enclosures of s_j and of the running max meet)
    lo_e, hi_e = wv - slack, wv + slack
    ninf = torch.full_like(wv[:, :, :1], -math.inf)
    lo_b = torch.cat([ninf, torch.cummax(lo_e, 2).values[:, :, :-1]], 2)
    hi_b = torch.cat([ninf, torch.cummax(hi_e, 2).values[:, :, :-1]], 2)
    maybe = fin & torch.isfinite(lo_b) & (hi_e >= lo_b) & (lo_e <= hi_b)
    sub_unc = maybe & ~exact_prefix & ~unc.unsqueeze(2)
    out_shape = (B, Cn, *oshape) if d == 2 else (B, Cn, oshape[1])
    ct = CT(V.reshape(out_shape), R.reshape(out_shape), Q.reshape(out_shape),
            C.reshape(out_shape))
    return ct, {"dead": dead, "live": live, "submax": submax, "unc": unc, "sub_unc": sub_unc,
                "shape": torch.tensor(out_shape[1:]), "num": torch.cumsum(fin, 2)}


def _avg(x: CT, pool: Callable[[torch.Tensor], torch.Tensor], kmax: int) -> CT:
    """An average pool (fixed windows of at most kmax entries) on the enclosures."""
    V = pool(x.V)
    A = pool(x.V.abs())
    R = (pool(x.R) + gamma(kmax + 3) * A) * (1 + 2 * gamma(kmax + 3)) * INFLATE \
        + (kmax + 8) * ETA
    zero = (A == 0) & (pool(x.R) == 0)
    R = torch.where(zero, torch.zeros_like(R), R)
    Q = torch.where(zero, torch.full(V.shape, NOQ, dtype=torch.int64),
                    torch.full(V.shape, -NOQ, dtype=torch.int64))
    C = pool((~x.C).to(F64)) == 0
    return CT(V, R, Q, C)


# -- the interpreter ----------------------------------------------------------------------

_DROPOUTS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout)
_ADAPTIVE_AVG = {nn.AdaptiveAvgPool1d: 1, nn.AdaptiveAvgPool2d: 2,
                 F.adaptive_avg_pool1d: 1, F.adaptive_avg_pool2d: 2}


def _tuple(v: Any, d: int) -> list[int]:
    vals = [v] * d if isinstance(v, int) else list(v)
    if len(vals) == 1:
        vals = vals * d
    if len(vals) != d or not all(isinstance(i, int) for i in vals):
        raise Unsupported(f"geometry {v!r}")
    return vals


class _Run(torch.fx.Interpreter):
    """One certified forward pass of the traced model."""

    def __init__(self, gm: torch.fx.GraphModule, scalar: Callable[[Any], Fraction],
                 tables: dict[Any, ActTable]) -> None:
        super().__init__(gm)
        self.scalar = scalar
        self.tables = tables
        self.found = Filtered(torch.zeros(0))
        self.pos = 0
        self.seq = 0

    # values ---------------------------------------------------------------------------

    def run_node(self, n: torch.fx.Node) -> Any:
        self.node = n
        if n.op == "placeholder":
            return super().run_node(n)
        if n.op == "get_attr":
            obj = self.fetch_attr(str(n.target))
            if isinstance(obj, torch.Tensor):
                return _exact_tensor(obj, not obj.requires_grad)
            return obj
        out = super().run_node(n)
        if isinstance(out, CT) and out.name is not None and len(n.users) > 1:
            out = CT(out.V, out.R, out.Q, out.C)  # read twice: the IR makes it a neuron
        return out

    def named(self, x: CT) -> CT:
        """x as an affine result of this node (see ``CT.name``)."""
        x.name = (self.where(), tuple(x.V.shape[1:]))
        return x

    def inplace_ok(self, inplace: bool) -> None:
        """An in-place activation is read out of place: nothing else may read its input."""
        src = self.node.args[0] if self.node.args else None
        if inplace and isinstance(src, torch.fx.Node) and len(src.users) > 1:
            raise Unsupported("an in-place op on a tensor read elsewhere")

    def placeholder(self, target: Any, args: Any, kwargs: Any) -> Any:
        v = super().placeholder(target, args, kwargs)
        if isinstance(v, torch.Tensor):
            return _exact_tensor(v, True)
        return v

    def where(self) -> str:
        n = self.node
        return str(n.target) if n.op == "call_module" else n.name

    def act(self, key: Any, make: Callable[[], Activation], x: CT) -> CT:
        if not isinstance(x, CT):
            raise Unsupported("an activation of a non-tensor")
        tab = self.tables.get((self.pos, key))
        if tab is None:
            tab = self.tables[(self.pos, key)] = act_table(make())
        self.pos += 1
        out, kink, unc = _activation(tab, x)
        B = x.V.shape[0]
        flat = (lambda t: t.reshape(B, -1))
        c = flat(x.C)
        self.seq += 1
        if x.name is not None:
            where, shape = x.name
        else:
            where, shape = self.where(), tuple(x.V.shape[1:])
        self.found.calls.append(ActCall(self.seq, where, shape, tab.act,
                                        flat(kink) & ~c, flat(kink) & c, flat(unc) & ~c,
                                        flat(x.V)))
        return out

    def pool_max(self, x: CT, d: int, k: Any, st: Any, pad: Any, dl: Any, ceil: bool) -> CT:
        K = _tuple(k, d)
        S = K if st is None or st in ([], ()) else _tuple(st, d)
        out, m = _max_pool(x, d, K, S, _tuple(pad, d), _tuple(dl, d), ceil)
        self.found.pool_kinks += int(m["live"].sum())
        self.found.pool_unc += int(m["unc"].sum())
        self.found.pool_sub_unc += int(m["sub_unc"].sum())
        shape = tuple(int(v) for v in m["shape"])
        for kind in ("dead", "submax"):
            if bool(m[kind].any()):
                self.found.pools.append(PoolTies(self.seq, self.where(), shape, kind,
                                                 m[kind], m["num"]))
        self.seq += 1
        return out

    def pool_avg(self, x: CT, d: int, k: Any, st: Any, pad: Any, ceil: bool, cip: bool,
                 div: Any) -> CT:
        K = _tuple(k, d)
        S = K if st is None or st in ([], ()) else _tuple(st, d)
        P = _tuple(pad, d)
        fn = F.avg_pool1d if d == 1 else F.avg_pool2d
        kw: dict[str, Any] = {"ceil_mode": ceil, "count_include_pad": cip}
        if d == 2:
            kw["divisor_override"] = div
        elif div is not None:
            raise Unsupported("divisor_override")
        return self.named(_avg(x, lambda t: fn(t, K, S, P, **kw), math.prod(K)))

    def pool_adaptive(self, x: CT, d: int, size: Any) -> CT:
        fn = F.adaptive_avg_pool1d if d == 1 else F.adaptive_avg_pool2d
        sizes = [size] * d if isinstance(size, int) else list(size or ())
        if len(sizes) != d or not all(isinstance(s, int) and s > 0 for s in sizes):
            raise Unsupported("adaptive pool size")
        kmax = math.prod(-(-n // o) + 1 for n, o in zip(x.V.shape[2:], sizes))
        return self.named(_avg(x, lambda t: fn(t, sizes if d == 2 else sizes[0]), kmax))

    def linear(self, x: CT, w: Any, b: Any) -> CT:
        wt, bt = self.param(w), self.param(b)
        if wt is None or wt.dim() != 2 or x.V.dim() != 2:
            raise Unsupported("linear shapes")
        return self.named(_affine(x, wt, bt, not wt.requires_grad,
                                  bt is None or not bt.requires_grad,
                                  lambda a, ww, bb: F.linear(a, ww, bb), wt.shape[1],
                                  lambda t: t.any(1, keepdim=True).expand(-1, wt.shape[0])))

    def conv(self, x: CT, m: Any) -> CT:
        if m.padding_mode != "zeros" or isinstance(m.padding, str) and m.padding != "valid":
            raise Unsupported("conv padding mode")
        d = m.weight.dim() - 2
        if x.V.dim() != d + 2:
            raise Unsupported("conv input shape")
        fn = F.conv1d if d == 1 else F.conv2d
        pad = 0 if m.padding == "valid" else m.padding
        w, b = m.weight, m.bias
        m_in = math.prod(w.shape[1:])
        return self.named(_affine(
            x, w, b, not w.requires_grad, b is None or not b.requires_grad,
            lambda a, ww, bb: fn(a, ww, bb, m.stride, pad, m.dilation, m.groups), m_in,
            _conv_window_any(m, d, pad, w.shape[0])))

    def param(self, t: Any) -> torch.Tensor | None:
        if t is None:
            return None
        if isinstance(t, CT):
            raise Unsupported("a computed weight")
        if not isinstance(t, torch.Tensor):
            raise Unsupported("a non-tensor weight")
        return t

    # fx dispatch ----------------------------------------------------------------------

    def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
        m = self.fetch_attr(target)
        kind = type(m)
        if len(args) != 1 or kwargs or not isinstance(args[0], CT):
            raise Unsupported(f"module {kind.__name__} call")
        x = args[0]
        if kind is nn.Identity or kind in _DROPOUTS and (not m.training or m.p == 0):
            return x
        if kind in MODULE_ACTS:
            self.inplace_ok(bool(getattr(m, "inplace", False)))
            return self.act(kind, lambda: MODULE_ACTS[kind](
                lambda v, _w: self.scalar(v), m, kind.__name__), x)
        if kind is nn.Linear:
            return self.linear(x, m.weight, m.bias)
        if kind in (nn.Conv1d, nn.Conv2d):
            return self.conv(x, m)
        if kind in (nn.BatchNorm1d, nn.BatchNorm2d):
            return self.named(_batch_norm(x, m))
        if kind is nn.Flatten:
            return self.flatten(x, m.start_dim, m.end_dim)
        if kind in (nn.MaxPool1d, nn.MaxPool2d):
            if m.return_indices:
                raise Unsupported("return_indices")
            return self.pool_max(x, 1 if kind is nn.MaxPool1d else 2, m.kernel_size,
                                 m.stride, m.padding, m.dilation, m.ceil_mode)
        if kind in (nn.AvgPool1d, nn.AvgPool2d):
            return self.pool_avg(x, 1 if kind is nn.AvgPool1d else 2, m.kernel_size, m.stride,
                                 m.padding, m.ceil_mode, m.count_include_pad,
                                 getattr(m, "divisor_override", None))
        if kind in _ADAPTIVE_AVG:
            return self.pool_adaptive(x, _ADAPTIVE_AVG[kind], m.output_size)
        raise Unsupported(f"module {kind.__name__}")

    def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
        cts = [a for a in (*args, *kwargs.values()) if isinstance(a, CT)]
        if not cts:
            if target in (operator.add, operator.sub, operator.mul, operator.floordiv,
                          operator.truediv, operator.getitem):
                return target(*args, **kwargs)
            raise Unsupported(f"function {getattr(target, '__name__', target)}")
        if target in FUNC_ACTS:
            spec = FUNC_ACTS[target]
            vals = [args[i + 1] if len(args) > i + 1 else kwargs.get(nm, dv)
                    for i, (nm, dv) in enumerate(spec.params)]
            self.inplace_ok(spec.inplace or bool(dict(zip([nm for nm, _ in spec.params],
                                                          vals)).get("inplace")))
            return self.act(target, lambda: spec.build(lambda v, _w: self.scalar(v), vals,
                                                       getattr(target, "__name__", "")),
                            args[0])
        if target in (operator.add, torch.add, operator.sub, torch.sub) and len(args) == 2 \
                and not kwargs:
            return self.add(args[0], args[1], target in (operator.sub, torch.sub))
        if target in (operator.mul, torch.mul, operator.truediv, torch.div) and \
                len(args) == 2 and not kwargs:
            return self.mul(args[0], args[1], target in (operator.truediv, torch.div))
        if target in (operator.neg, torch.neg) and len(args) == 1:
            x = args[0]
            return self.named(CT(-x.V, x.R, x.Q, x.C))
        if target is torch.flatten:
            s = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
            e = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
            return self.flatten(args[0], s, e)
        if target is torch.cat:
            xs = args[0]
            dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
            if not all(isinstance(t, CT) for t in xs) or dim % xs[0].V.dim() == 0:
                raise Unsupported("cat")
            return CT(*(torch.cat([getattr(t, a) for t in xs], dim) for a in "VRQC"))
        if target in (F.max_pool1d, F.max_pool2d):
            d = 1 if target is F.max_pool1d else 2
            a = list(args) + [None] * 6
            k = a[1] if a[1] is not None else kwargs.get("kernel_size")
            st = a[2] if a[2] is not None else kwargs.get("stride")
            pad = a[3] if a[3] is not None else kwargs.get("padding", 0)
            dl = a[4] if a[4] is not None else kwargs.get("dilation", 1)
            ceil = a[5] if a[5] is not None else kwargs.get("ceil_mode", False)
            if kwargs.get("return_indices"):
                raise Unsupported("return_indices")
            return self.pool_max(args[0], d, k, st, pad, dl, bool(ceil))
        if target in (F.avg_pool2d,) and len(args) <= 3 and set(kwargs) <= {"stride",
                                                                            "kernel_size"}:
            k = args[1] if len(args) > 1 else kwargs["kernel_size"]
            st = args[2] if len(args) > 2 else kwargs.get("stride")
            return self.pool_avg(args[0], 2, k, st, 0, False, True, None)
        if target in _ADAPTIVE_AVG:
            size = args[1] if len(args) > 1 else kwargs.get("output_size")
            return self.pool_adaptive(args[0], _ADAPTIVE_AVG[target], size)
        if target is F.linear:
            return self.linear(args[0], args[1] if len(args) > 1 else kwargs.get("weight"),
                               args[2] if len(args) > 2 else kwargs.get("bias"))
        if target in (F.dropout,) and not (args[2] if len(args) > 2 else
                                           kwargs.get("training", True)):
            return args[0]
        raise Unsupported(f"function {getattr(target, '__name__', target)}")

    def call_method(self, target: Any, args: Any, kwargs: Any) -> Any:
        x = args[0]
        if not isinstance(x, CT):
            raise Unsupported(f"method {target}")
        name = str(target)
        if name in ("relu_", "abs_"):
            self.inplace_ok(True)
            name = name[:-1]
        if name in METHOD_ACTS and len(args) == 1 and not kwargs:
            return self.act(name, METHOD_ACTS[name], x)
        if name == "size":
            d = args[1] if len(args) > 1 else kwargs.get("dim")
            return x.V.shape if d is None else x.V.shape[d]
        if name == "dim":
            return x.V.dim()
        if name == "contiguous":
            return x
        if name in ("view", "reshape"):
            shape = args[1] if len(args) == 2 and isinstance(args[1], (tuple, list, torch.Size)) \
                else args[1:]
            return self.reshape(x, [int(s) for s in shape])
        if name == "flatten":
            s = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
            e = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
            return self.flatten(x, s, e)
        if name in ("add", "sub") and len(args) == 2 and not kwargs:
            return self.add(x, args[1], name == "sub")
        if name in ("mul", "div") and len(args) == 2 and not kwargs:
            return self.mul(x, args[1], name == "div")
        raise Unsupported(f"method .{name}()")

    # shapes and arithmetic -------------------------------------------------------------

    def flatten(self, x: CT, s: int, e: int) -> CT:
        if s % x.V.dim() == 0:
            raise Unsupported("flatten over the batch axis")
        return CT(*(torch.flatten(t, s, e) for t in (x.V, x.R, x.Q, x.C)), name=x.name)

    def reshape(self, x: CT, shape: list[int]) -> CT:
        B = x.V.shape[0]
        if not shape or shape[0] not in (B, -1) or (shape[0] == -1 and -1 in shape[1:]):
            raise Unsupported("a reshape across the batch axis")
        new = [B, *shape[1:]]
        if math.prod(s for s in new if s != -1) == 0:
            raise Unsupported("reshape")
        return x.view(*new)

    def add(self, a: Any, b: Any, sub: bool) -> CT:
        if not isinstance(a, CT) or not isinstance(b, CT) or a.V.shape != b.V.shape:
            raise Unsupported("a sum of tensors of different shapes or with a number")
        bv = -b.V if sub else b.V
        Y, R, Q = certified_add(a.V, a.R, a.Q, bv, b.R, b.Q)
        return self.named(CT(Y, R, Q, a.C & b.C))

    def mul(self, x: Any, c: Any, div: bool) -> CT:
        if isinstance(c, CT) or not isinstance(x, CT) or isinstance(c, bool) or \
                not isinstance(c, (int, float)):
            raise Unsupported("a product of tensors")
        cv = self.scalar(c)
        if div:
            if cv == 0:
                raise Unsupported("division by zero")
            cv = 1 / cv
        f = float(cv)
        if Fraction(f) != cv or not math.isfinite(f):
            raise Unsupported("a scaling that is not a float")
        D = torch.full_like(x.V, f)
        Y, R, Q = certified_scale(x.V, x.R, x.Q, D, torch.zeros_like(D),
                                  quantum(D.reshape(-1)).reshape(D.shape))
        return self.named(CT(Y, R, Q, x.C))


class TensorFilter:
    """The tensor-level filter of one model (traced once); :meth:`run` on a batch."""

    def __init__(self, model: nn.Module, compute: torch.dtype) -> None:
        try:
            self.gm = torch.fx.symbolic_trace(model)
        except Exception as e:  # noqa: BLE001
            raise Unsupported(f"trace ({type(e).__name__})") from None
        self.compute = compute
        self.tables: dict[Any, ActTable] = {}

    def scalar(self, v: Any) -> Fraction:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise Unsupported(f"a scalar {v!r}")
        if self.compute == torch.float64:
            return Fraction(float(v))
        r = float(np.float32(float(v)))
        if not math.isfinite(r):
            raise Unsupported("a scalar overflows float32")
        return Fraction(r)

    def run(self, x: torch.Tensor) -> Filtered:
        """The certified forward pass on the batch x (any float dtype, read exactly)."""
        run = _Run(self.gm, self.scalar, self.tables)
        with torch.no_grad():
            try:
                out = run.run(x.detach())
            except Unsupported:
                raise
            except Exception as e:  # noqa: BLE001  (anything unexpected: use the IR)
                raise Unsupported(f"{type(e).__name__}: {e}") from None
        if not isinstance(out, CT):
            raise Unsupported("the output is not a tensor")
        run.found.out = out.V.reshape(out.V.shape[0], -1)
        if not bool(torch.isfinite(out.R).all()):
            raise Unsupported("an infinite radius")
        return run.found
