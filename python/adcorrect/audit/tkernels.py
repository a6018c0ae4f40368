"""Certified float64 kernels on whole tensors for the tensor-level filter
(:mod:`.tfilter`): a value ``CT`` carries values, radii, quanta and local constancy
(see :mod:`.tfilter`); convolutions and matrix products (facts 1, 4, 6, 7, 8 of
:mod:`adcorrect.audit.certified`), activations, max pools as the IR's chains of max
nodes, average pools (BatchNorm in eval mode: :mod:`.tbatchnorm`)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import OneLine
from .certified import (
    ETA,
    F64,
    FLOOR,
    INFLATE,
    NOQ,
    U,
    all_finite,
    fits,
    gamma,
    normal_up,
    quantum,
)
from .floatact import ActTable, _activate_entries, is_relu
from .kernels import certified_add, certified_scale
from .tdd import DD, weights
from .tdd import affine as dd_affine
from .tdd import exact as dd_exact


class Unsupported(OneLine):
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
    # structural ids (int64, same shape): equal ids in one tensor are the same function
    # of the parameters near w (built by interning what each entry is computed from; a
    # max pool's output from its window's candidates); None: unknown, every entry its own
    I: torch.Tensor | None = None
    # the double-double limb of the precise pass (:mod:`.tdd`); None: not carried
    D: DD | None = None
    # the tangent (value, radius) of the tangent pass (:mod:`.ttangent`); None: none
    T: tuple[torch.Tensor, torch.Tensor] | None = None
    # an activation call's output, unchanged: (its index among the calls, its fx node)
    A: tuple[int, Any] | None = None

    def map(self, f: Callable[[torch.Tensor], torch.Tensor]) -> CT:
        """The same certified tensor with every field reshaped by ``f`` (a view, a
        flatten: anything that moves entries without changing them)."""
        return CT(*(f(t) for t in (self.V, self.R, self.Q, self.C)), name=self.name,
                  I=None if self.I is None else f(self.I),
                  D=None if self.D is None else self.D.map(f),
                  T=None if self.T is None else (f(self.T[0]), f(self.T[1])))

    def view(self, *shape: int) -> CT:
        return self.map(lambda t: t.reshape(shape))

    def negated(self) -> CT:
        """-x (exact: the same radii, quanta, constancy and ids)."""
        return CT(-self.V, self.R, self.Q, self.C, I=self.I,
                  D=None if self.D is None else DD(-self.D.H, -self.D.L, self.D.R),
                  T=None if self.T is None else (-self.T[0], self.T[1]))

    def const_zeros(self) -> torch.Tensor:
        """The entries that are locally constant exact zeros."""
        return self.C & (self.V == 0) & (self.R == 0)


def ex_quantum(x: CT) -> torch.Tensor:
    """Per example: a quantum bound of every exact entry, shape (B,)."""
    q = torch.where(x.R == 0, x.Q, torch.full_like(x.Q, NOQ))
    return q.reshape(q.shape[0], -1).amin(1) if q.dim() > 1 else q


def exact_tensor(t: torch.Tensor, const: bool) -> CT:
    """A stored tensor (an input, a constant) as an exact certified tensor."""
    v = t.detach().to(F64)
    if not all_finite(v):
        raise Unsupported("a NaN or infinite tensor")
    q = quantum(v.reshape(-1)).reshape(v.shape)
    return CT(v, torch.zeros_like(v), q, torch.full(v.shape, const, dtype=torch.bool))


def min_quantum(t: torch.Tensor | None) -> int:
    """A quantum bound of every entry of a stored tensor (NOQ for none)."""
    if t is None or t.numel() == 0:
        return NOQ
    return int(quantum(t.detach().to(F64).reshape(-1)).min())


def affine(x: CT, w: torch.Tensor, b: torch.Tensor | None, w_const: bool, b_const: bool,
            op: Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor],
            m: int, window_any: Callable[[torch.Tensor], torch.Tensor] | None = None) -> CT:
    """``op(x, w) + b`` (a convolution or a matrix product, linear in each argument) with
    fact 7's radius and fact 4's exactness, w and b exact floats; ``window_any`` maps a
    bool input mask to "some entry of the output's window is set" (else ``op`` does)."""
    read = weights(w)
    wd, wa = read.wd, read.wa
    bd = None if b is None else b.detach().to(F64)
    Y = op(x.V, wd, bd)
    g = gamma(m + 1)
    babs = None if bd is None else bd.abs().reshape((1, -1) + (1,) * (Y.dim() - 2))
    whole = x.R.reshape(x.V.shape[0], -1).amax(1) == 0  # examples computed exactly so far
    # |w| |x| (fact 4's size) only where an example is exact: a VGG-11's weights took 80 s
    # to read for quanta that no exact example would use
    size = op(x.V.abs(), wa, None) if bool(whole.any()) else None
    if size is not None and bool(whole.all()):  # exact sources: fact 7 from |w| |x| (7b)
        P = size * (g * INFLATE)
    else:
        P = op(g * x.V.abs() + x.R, wa, None)
    wnorm = read.wnorm
    # ((P + m eta) k + sqrt(m) |w| eta + m eta + g |b|) INFLATE + (m + 8) 2^-1070, with
    # the scalar terms summed first (INFLATE covers the rounding of these few operations)
    k = 1 + 2 * gamma(m + 3)
    c0 = normal_up((m * ETA * k + math.sqrt(m) * wnorm * ETA + m * ETA) * INFLATE
                   + (m + 8) * 2.0 ** -1070)
    if babs is not None:
        c = (g * INFLATE) * babs + c0
        R = torch.addcmul(c, P, torch.tensor(k * INFLATE, dtype=F64))
    else:
        R = P * (k * INFLATE) + c0
    if size is not None:
        qx = ex_quantum(x)
        Qe = (qx + min_quantum(w)).clamp(-NOQ, NOQ)
        if babs is not None:
            Qe = torch.minimum(Qe, torch.tensor(min_quantum(b)))
            size = size + babs
        ok = exact_outputs(size * (1 + 2 * gamma(m + 2)) * INFLATE, Qe, whole)
        R = R.masked_fill(ok, 0.0)
        Q = torch.where(ok, Qe.reshape((-1,) + (1,) * (Y.dim() - 1)), -NOQ)
    else:
        Q = torch.full(Y.shape, -NOQ, dtype=torch.int64)  # no exact output
    if not all_finite(Y):  # no bound and nothing exact where the float value overflowed
        bad = ~torch.isfinite(Y)
        R, Q = R.masked_fill(bad, math.inf), Q.masked_fill(bad, -NOQ)
    R, Q = exact_zeros(x, wa, bd, op, Y, R, Q)
    return CT(Y, R, Q, constant_outputs(x, wd, b, w_const, b_const, op, window_any, Y.shape))


def exact_outputs(bound: torch.Tensor, Qe: torch.Tensor, whole: torch.Tensor) -> torch.Tensor:
    """Fact 4 on a batch: entries of the examples in ``whole`` whose ``bound`` (B, ...) fits
    their example's quantum ``Qe`` (B,).  The test is monotone in the bound, so an
    example's largest bound decides all of its entries at once; only the others are
    tested entry by entry."""
    B = bound.shape[0]
    shape = (-1,) + (1,) * (bound.dim() - 1)
    per = whole & fits(bound.reshape(B, -1).amax(1), Qe) if bound[0].numel() else whole
    ok = per.reshape(shape).expand(bound.shape)
    rest = whole & ~per
    if bool(rest.any()):
        ok = ok | (rest.reshape(shape) & fits(bound, Qe.reshape(shape)))
    return ok


def exact_zeros(x: CT, wa: torch.Tensor, bd: torch.Tensor | None,
                op: Callable[..., torch.Tensor], Y: torch.Tensor, R: torch.Tensor,
                Q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Fact 8 of :mod:`.certified`: an output whose inputs with a non-zero weight are all
    exact zeros, with no bias or an exact 0 one, is exactly 0 (``op(live, |w|)`` is a sum
    of non-negative floats, 0 iff every term is): radius 0 (a convolution over the dead
    relus of an inexact example)."""
    cand = (Y == 0) & (R != 0)
    if bd is not None:
        cand = cand & (bd == 0).reshape((1, -1) + (1,) * (Y.dim() - 2))
    if not bool(cand.any()):
        return R, Q
    live = ((x.V != 0) | (x.R != 0)).to(F64)
    zero = cand & (op(live, wa, None) == 0)
    return R.masked_fill(zero, 0.0), Q.masked_fill(zero, NOQ)


def constant_outputs(x: CT, wd: torch.Tensor, b: torch.Tensor | None, w_const: bool,
              b_const: bool, op: Callable[..., torch.Tensor],
              window_any: Callable[[torch.Tensor], torch.Tensor] | None,
              shape: torch.Size) -> torch.Tensor:
    """The locally constant outputs of an affine op: no trainable bias, and every term
    w x with a trainable w has an exact zero x, every term with a frozen w a constant x
    (or w = 0)."""
    if b is not None and not b_const:
        return torch.zeros(shape, dtype=torch.bool)
    if not w_const:
        live_x = ~x.const_zeros()
        return ~window_any(live_x) if window_any is not None else \
            op(live_x.to(F64), torch.ones_like(wd), None) == 0
    return op((~x.C).to(F64), (wd != 0).to(F64), None) == 0


def from_limb(d: DD, C: torch.Tensor) -> CT:
    """The float64 enclosure of a double-double result none of whose entries is known
    exact: ``H`` within ``R + |L|`` (rounded up); constancy C."""
    R = d.L.abs().add_(d.R).mul_(INFLATE).add_(FLOOR)
    if not all_finite(R):
        R = torch.where(torch.isfinite(R), R, torch.full_like(R, math.inf))
    return CT(d.H, R, torch.full(d.H.shape, -NOQ, dtype=torch.int64), C, D=d)


def affine_limb(x: CT, w: torch.Tensor, b: torch.Tensor | None, w_const: bool,
                b_const: bool, op: Callable[..., torch.Tensor], m: int,
                window_any: Callable[[torch.Tensor], torch.Tensor] | None) -> CT:
    """:func:`affine` in the precise pass (``x.D`` set): where no example is exact so far,
    the float64 value and radius come from the double-double result (``H``, and
    ``R + |L|``: no float64 product of its own); else both are computed."""
    assert x.D is not None
    B = x.V.shape[0]
    if not bool((x.R.reshape(B, -1).amax(1) == 0).any()):  # (R >= 0: exact examples)
        d = dd_affine(x.D, w, b, op, m)
        if d is not None:
            read = weights(w)
            out = from_limb(d, constant_outputs(x, read.wd, b, w_const, b_const, op,
                                                window_any, d.H.shape))
            out.R, out.Q = exact_zeros(x, read.wa, None if b is None else
                                       b.detach().to(F64), op, d.H, out.R, out.Q)
            return out
    out = affine(x, w, b, w_const, b_const, op, m, window_any)
    # every output exact (fact 4: an exact input, a network's first layer): its own limb
    out.D = dd_exact(out.V) if float(out.R.amax()) == 0 else dd_affine(x.D, w, b, op, m)
    return out


def conv_window_any(m: Any, d: int, pad: Any, c_out: int
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


def scale_shift(x: CT, scale: torch.Tensor, shift: torch.Tensor, const: bool) -> CT:
    """``x * scale + shift`` per channel (axis 1), scale and shift exact floats."""
    shp = (1, -1) + (1,) * (x.V.dim() - 2)
    z = torch.zeros([1] * x.V.dim(), dtype=F64)
    Y, R, Q = certified_scale(x.V, x.R, x.Q, scale.reshape(shp), z,
                              quantum(scale).reshape(shp))
    Y, R, Q = certified_add(Y, R, Q, shift.reshape(shp), z, quantum(shift).reshape(shp))
    return CT(Y, R, Q, x.C & const)


def frozen_norm(m: nn.Module) -> bool:
    """Whether a normalisation's weight and bias are constants (absent or frozen)."""
    return all(p is None or not p.requires_grad for p in (m.weight, m.bias))


def norm_weights(weight: torch.Tensor | None, bias: torch.Tensor | None, C: int
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """A normalisation's weight and bias per channel as exact floats (1 and 0 where it
    has none)."""
    g = weight.detach().to(F64) if weight is not None else torch.ones(C, dtype=F64)
    b = bias.detach().to(F64) if bias is not None else torch.zeros(C, dtype=F64)
    return g, b


def activation(tab: ActTable, x: CT) -> tuple[CT, torch.Tensor, torch.Tensor]:
    """sigma on the enclosures: output, certain kinks, uncertain copies."""
    if is_relu(tab):
        V, R = x.V, x.R
        if not bool(R.any()):  # every input exact: kinks are the zeros, nothing uncertain
            neg = V < 0
            return CT(V.clamp_min(0.0), R, x.Q.masked_fill(neg, NOQ), x.C | neg), V == 0, \
                torch.zeros(V.shape, dtype=torch.bool)
        neg = V < -R  # certainly negative (R = 0: V < 0): exactly 0, locally constant
        Z = V.clamp_min(0.0)
        RZ = R.masked_fill(neg, 0.0)
        QZ = x.Q.masked_fill(neg, NOQ)
        exact = R == 0
        return CT(Z, RZ, QZ, x.C | neg), exact & (V == 0), ~exact & (V.abs() <= R)
    spec = linear_spec(tab)
    if spec is not None and all(a1 == 0 or (a0, a1) == (0.0, 1.0) for a0, a1 in spec[1]):
        return _clamp(tab, spec[0], spec[1], x)
    Z, RZ, QZ, kink, unc = _activate_entries(tab, x.V, x.R, x.Q)
    flat = torch.zeros_like(kink)
    idx = torch.zeros(x.V.shape, dtype=torch.int64)
    for c, _ in tab.bps:
        idx += (x.V > c).to(torch.int64)
    for p, coefs in enumerate(tab.pieces):
        if all(c == 0 and e == 0 for c, e, _ in coefs[1:]):
            flat |= (idx == p) & ~unc & ~kink
    return CT(Z, RZ, QZ, x.C | flat), kink, unc


def linear_spec(tab: ActTable) -> tuple[list[float], list[tuple[float, float]]] | None:
    """Breakpoints and (a0, a1) per piece of a piecewise-linear activation whose data are
    exact floats (relu, relu6, hardtanh, leaky relu, ...); None otherwise."""
    if any(e != 0 for _, e in tab.bps):
        return None
    pieces = []
    for coefs in tab.pieces:
        if any(e != 0 for _, e, _ in coefs) or any(c != 0 for c, _, _ in coefs[2:]):
            return None
        vals = [c for c, _, _ in coefs] + [0.0, 0.0]
        pieces.append((vals[0], vals[1]))
    return [c for c, _ in tab.bps], pieces


def _clamp(tab: ActTable, bps: list[float], pieces: list[tuple[float, float]], x: CT
           ) -> tuple[CT, torch.Tensor, torch.Tensor]:
    """A continuous activation whose pieces are constants or the identity (hardtanh,
    relu6, clamps): 1-Lipschitz, so ``sigma(V)`` (exact in floats) with radius R encloses
    it; a certainly constant piece is exact and locally constant."""
    V, R = x.V, x.R
    exact = R == 0
    idx = torch.zeros(V.shape, dtype=torch.int64)  # the piece of V
    certain = torch.ones(V.shape, dtype=torch.bool)
    kink = torch.zeros(V.shape, dtype=torch.bool)
    for b, c in enumerate(bps):
        idx += (V > c).to(torch.int64)
        certain &= (V - c).abs() > R * (1 + 2.0 ** -50)  # the difference may round
        if b in tab.kink_idx:
            kink |= exact & (V == c)
    unc = ~exact & ~certain
    Z, RZ, QZ = V.clone(), R.clone(), x.Q.clone()
    flat = torch.zeros_like(kink)
    for p, (a0, a1) in enumerate(pieces):
        if a1 != 0:
            continue
        at = idx == p
        Z = Z.masked_fill(at, a0)  # sigma(V); exact and constant where certain
        fixed = at & (certain | exact)
        RZ = RZ.masked_fill(fixed, 0.0)
        QZ = torch.where(fixed, quantum(torch.tensor([a0], dtype=F64)), QZ)
        flat |= fixed & ~kink
    return CT(Z, RZ, QZ, x.C | flat), kink, unc


def windows(t: torch.Tensor, d: int, k: list[int], st: list[int], pad: list[int],
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
    (o0, r0), (o1, r1) = outs
    if (pad[0], pad[1], r0, r1) != (0, 0, 0, 0):
        t = F.pad(t, (pad[1], r1, pad[0], r0), value=fill)
    # a strided view (kernel offsets, then output positions), copied once: unfold's
    # layout, for any dtype, in half unfold's time
    sb, sc, sh, sw = t.stride()
    u = t.as_strided((B, Cn, k[0], k[1], o0, o1),
                     (sb, sc, sh * dl[0], sw * dl[1], sh * st[0], sw * st[1]),
                     t.storage_offset())
    return u.reshape(B, Cn, k[0] * k[1], o0 * o1), (o0, o1)


def _max_before(w: torch.Tensor) -> torch.Tensor:
    """Along axis 2: the maximum of the entries before each one (-inf for the first)."""
    out = torch.empty_like(w)
    cur = torch.full_like(w[:, :, 0], -math.inf)
    for j in range(w.shape[2]):
        out[:, :, j] = cur
        cur = torch.maximum(cur, w[:, :, j])
    return out


#: Added to a non-candidate's quantum or id (exact integers below 2^53) in a max-pool
#: window: above every candidate's, so a minimum over the window is one over candidates.
_AWAY = 2.0 ** 60


@functools.lru_cache(maxsize=64)
def _geometry(shape: tuple[int, ...], d: int, k: tuple[int, ...], st: tuple[int, ...],
              pad: tuple[int, ...], dl: tuple[int, ...], ceil_mode: bool
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A max pool's window entries on an input of spatial ``shape``, (1, 1, kk, L): the
    real ones (not padding), those after a real one, and each one's 1-based position
    among its window's real entries."""
    w, _ = windows(torch.ones((1, 1, *shape), dtype=torch.bool), d, list(k), list(st),
                   list(pad), list(dl), ceil_mode, False)
    num = torch.cumsum(w.to(torch.int64), 2)
    return w, num > w.to(torch.int64), num


def max_pool(x: CT, d: int, k: list[int], st: list[int], pad: list[int], dl: list[int],
              ceil_mode: bool) -> tuple[CT, dict[str, torch.Tensor]]:
    """Max pool on the enclosures.  PyTorch's max of a window is the IR's chain of max
    nodes ``m_j = m_(j-1) + relu(s_j - m_(j-1))`` over its entries in scan order (padding
    left out), so a *tie* is an entry ``j >= 2`` exactly equal to the running max of the
    entries before it.  Returned masks, (B, C, kk, L) with the tie's position: ``dead``
    (every competitor locally constant), ``submax`` (live, below a strict window maximum:
    zero adjoint for every choice), ``live`` (live, at the window maximum), and
    ``ident`` (ties at the maximum between candidates with equal structural ids: one
    function, no kink), ``unc`` (B, C, L): windows whose maximum the radii do not decide, ``sub_unc``:
    possible chain ties below it that the radii leave open (no effect on the verdict: the
    window's maximum is strict; they only make the count of kinked copies a lower bound)."""
    B, Cn = x.V.shape[:2]
    geo = (d, tuple(k), tuple(st), tuple(pad), tuple(dl), ceil_mode)
    wv, oshape = windows(x.V, d, k, st, pad, dl, ceil_mode, -math.inf)
    # quanta as float32 (integers below 2^21: exact; int64 minima take 50x longer)
    wq, _ = windows(x.Q.to(torch.float32), d, k, st, pad, dl, ceil_mode, float(NOQ))
    const, _ = windows(x.C, d, k, st, pad, dl, ceil_mode, True)
    if all_finite(x.V):  # the non-finite window entries are the padding: its geometry
        real, seen, num = _geometry(tuple(x.V.shape[2:]), *geo)
    else:
        real = torch.isfinite(wv)
        num = torch.cumsum(real.to(torch.int64), 2)
        seen = None  # (read off the running maxima below)
    padded = not bool(real.all())

    def finite(t: torch.Tensor) -> torch.Tensor:
        return t & real if padded else t

    V = wv.amax(2)
    inexact = bool(x.R.any())
    if inexact:
        wr, _ = windows(x.R, d, k, st, pad, dl, ceil_mode, 0.0)
        # the slack of each input entry (0 where exact), then its windows
        sl = torch.where((x.R > 0) & torch.isfinite(x.V),
                         x.V.abs().mul_(2 * U).add_(x.R * INFLATE).add_(FLOOR), 0.0)
        ws, _ = windows(sl, d, k, st, pad, dl, ceil_mode, 0.0)
        lo_e, hi_e = wv - ws, wv + ws
        lo = lo_e.amax(2, keepdim=True)
        cand = finite(hi_e >= lo)
        R = wr.masked_fill(~cand, 0.0).amax(2)
        exact_max = ~(cand & (wr > 0)).any(2)
        # chain ties among exact entries (an inexact entry makes every later tie uncertain)
        exact_prefix = torch.cumsum((wr != 0).to(torch.int64), 2) == 0  # (int64: torch's
        # cumulative ops on bool and int8 take 1.5-3x longer)
    else:  # every entry exact: no slack, the candidates are the maxima
        cand = finite(wv >= V.unsqueeze(2))
        R = torch.zeros_like(V)
        exact_max = torch.ones(V.shape, dtype=torch.bool)
    # non-candidates pushed above every quantum and id (torch.where costs 15x an add)
    Q = (wq + (~cand).to(torch.float32) * _AWAY).amin(2).clamp_max(NOQ).to(torch.int64)
    C = ~(cand & ~const).any(2)
    kk = wv.shape[2]
    multi = cand.to(torch.uint8).sum(2, dtype=torch.uint8 if kk < 255 else None) > 1
    before = _max_before(wv)
    tie = wv == before  # a first entry's -inf before it is no tie: entries are > -inf
    if padded:
        tie &= real & (torch.isfinite(before) if seen is None else seen)
    if inexact:
        tie &= exact_prefix
    if bool(tie.any()):  # a live entry before the tie is at the running maximum
        comp_live = _max_before(torch.where(const, -math.inf, wv)) == before
        dead = tie & const & ~comp_live
    else:
        dead = tie
    at_max = (wv == V.unsqueeze(2)) & multi.unsqueeze(2)
    live = tie & ~dead & at_max
    submax = tie & ~dead & ~at_max
    unc = multi & ~exact_max & ~C
    # candidates that are one function of the parameters (equal structural ids): the
    # maximum is that function near w, their ties change nothing
    ident = torch.zeros_like(tie)
    same = torch.zeros_like(multi)
    if x.I is not None and bool((live.any(2) | unc).any()):
        wid, _ = windows(x.I.to(F64), d, k, st, pad, dl, ceil_mode, -1.0)  # (below 2^53)
        away = (~cand).to(F64) * _AWAY
        lo_id, hi_id = (wid + away).amin(2), (wid - away).amax(2)  # over the candidates
        same = multi & (lo_id == hi_id)
        first = cand & (torch.cumsum(cand.to(torch.int8), 2) == 1)
        ident = same.unsqueeze(2) & ((live & ~dead) | (cand & ~first & unc.unsqueeze(2)))
        live = live & ~same.unsqueeze(2)
        unc = unc & ~same
    # chain ties the radii do not exclude (enclosures of s_j and of the running max meet)
    if inexact and bool(sl.any()):
        lo_b, hi_b = _max_before(lo_e), _max_before(hi_e)
        maybe = finite(torch.isfinite(lo_b) & (hi_e >= lo_b) & (lo_e <= hi_b))
        sub_unc = maybe & ~exact_prefix & ~unc.unsqueeze(2) & ~(same.unsqueeze(2) & cand)
    else:  # every entry exact: the ties above are all there is
        sub_unc = torch.zeros_like(tie)
    out_shape = (B, Cn, *oshape) if d == 2 else (B, Cn, oshape[1])
    ct = CT(V.reshape(out_shape), R.reshape(out_shape), Q.reshape(out_shape),
            C.reshape(out_shape))
    return ct, {"dead": dead, "live": live, "submax": submax, "unc": unc, "sub_unc": sub_unc,
                "ident": ident, "cand": cand, "shape": torch.tensor(out_shape[1:]),
                "num": num.expand(wv.shape)}


def below_maxima(V: torch.Tensor, cand: torch.Tensor, d: int, k: list[int], st: list[int],
                 pad: list[int], dl: list[int], ceil_mode: bool) -> torch.Tensor:
    """(B, n) per entry of a max pool's input V (n entries per example): whether it is a
    candidate (:func:`max_pool`'s ``cand``) in no window, so certainly below the maximum
    of every window holding it.  Its adjoint through the pool is then 0 for every
    derivative choice: the max chain's adjoint of such an entry dies at the first strict
    increase after it."""
    B = V.shape[0]
    n = V[0].numel()
    pos = torch.arange(n).reshape(1, *V.shape[1:]).expand_as(V)
    idx, _ = windows(pos, d, k, st, pad, dl, ceil_mode, -1)
    seen = idx >= 0
    hit = torch.zeros(B, n + 1, dtype=F64)  # padding goes to the extra slot n
    hit.scatter_reduce_(1, torch.where(seen, idx, n).reshape(B, -1),
                        (cand & seen).to(F64).reshape(B, -1), "amax")
    return hit[:, :n] == 0


def avg(x: CT, pool: Callable[[torch.Tensor], torch.Tensor], kmax: int) -> CT:
    """An average pool (fixed windows of at most kmax entries) on the enclosures."""
    V = pool(x.V)
    A = pool(x.V.abs())
    R = (pool(x.R) + gamma(kmax + 3) * A) * (1 + 2 * gamma(kmax + 3)) * INFLATE \
        + normal_up((kmax + 8) * ETA)
    zero = (A == 0) & (pool(x.R) == 0)
    R = torch.where(zero, torch.zeros_like(R), R)
    Q = torch.where(zero, torch.full(V.shape, NOQ, dtype=torch.int64),
                    torch.full(V.shape, -NOQ, dtype=torch.int64))
    C = pool((~x.C).to(F64)) == 0
    return CT(V, R, Q, C)
