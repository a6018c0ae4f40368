"""What the tensor filter finds on one batch: its activation calls (copies kinked,
dead, uncertain), its max-pool ties and open windows, its outputs (:mod:`.tinterp`
fills them in, :mod:`.tresult` reports them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..nets.activations import Activation


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
    # (B, n) the kinked copies whose adjoint is exactly 0 whatever the derivative choices:
    # read only by max pools in which they are certainly below every window's maximum
    zadj: torch.Tensor | None = None

    @property
    def live_kinks(self) -> torch.Tensor:
        """Kinked copies whose adjoint may be non-zero."""
        return self.kink if self.zadj is None else self.kink & ~self.zadj


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


#: The per-example counts a max pool adds (its kernel's masks of the same names): live
#: ties, open windows, chain ties below the maximum left open, ties between identical
#: functions.
POOL_COUNTS = ("live", "unc", "sub_unc", "ident")
TIE_KINDS = ("dead", "submax", "ident")  # the tie kinds a pool records, in its order


@dataclass
class Filtered:
    """What the tensor filter found on one batch."""

    out: torch.Tensor  # (B, n_out) float64 outputs
    calls: list[ActCall] = field(default_factory=list)
    pools: list[PoolTies] = field(default_factory=list)  # dead and sub-maximum ties
    # per example (B,): the max pools' counts (POOL_COUNTS)
    counts: dict[str, torch.Tensor] = field(default_factory=dict)
    last_open_pool: int = 0  # 1-based max-pool call: the last with live ties or open windows
    out_r: torch.Tensor | None = None  # the outputs' radii
    out_t: tuple[torch.Tensor, torch.Tensor] | None = None  # their tangents (tangent pass)
    # the weights of the affine maps and batch statistics over the batch: about the terms
    # of a whole-batch import (what it would cost)
    terms: int = 0
    # the smooth activations met (the IR's names: sigmoid, tanh, silu, gelu_tanh): no
    # activation calls, they have no kink
    smooth: set[str] = field(default_factory=set)
    coupled: bool = False  # statistics over the batch couple the examples

    def add_pool(self, masks: dict[str, torch.Tensor]) -> None:
        """A max pool's counts, per example, from its masks (batch axis first)."""
        for k in POOL_COUNTS:
            t = masks[k]
            per = t.reshape(t.shape[0], -1).sum(1)
            self.counts[k] = per if k not in self.counts else self.counts[k] + per

    def _total(self, k: str) -> int:
        return int(self.counts[k].sum()) if k in self.counts else 0

    @property
    def pool_kinks(self) -> int:
        """Live max-pool ties."""
        return self._total("live")

    @property
    def pool_unc(self) -> int:
        """Max-pool windows whose maximum the radii leave open."""
        return self._total("unc")

    @property
    def pool_sub_unc(self) -> int:
        """Chain ties below a window's maximum that the radii leave open."""
        return self._total("sub_unc")

    @property
    def pool_ident(self) -> int:
        """Ties at the maximum between identical functions."""
        return self._total("ident")

    @property
    def live(self) -> int:
        """Copies that need exact work: live kinks and live uncertain copies."""
        return int(self.live_rows().sum())

    def live_rows(self) -> torch.Tensor:
        """Per example (B,): its live kinked and live uncertain copies."""
        n = torch.zeros(self.out.shape[0], dtype=torch.int64)
        for k in ("live", "unc"):
            if k in self.counts:
                n = n + self.counts[k]
        for c in self.calls:
            n = n + c.live_kinks.sum(1) + c.unc.sum(1)
        return n

    def open_rows(self) -> torch.Tensor:
        """Per example (B,): whether the radii leave a copy or a max-pool window open."""
        rows = self.counts["unc"] > 0 if "unc" in self.counts else \
            torch.zeros(self.out.shape[0], dtype=torch.bool)
        for c in self.calls:
            rows = rows | c.unc.any(1)
        return rows

    def replace_rows(self, rows: torch.Tensor, sub: Filtered) -> None:
        """The findings of the examples ``rows`` (bool, (B,)) replaced by ``sub``'s, a
        pass of the same graph on those examples alone (independent examples)."""
        idx = rows.nonzero().flatten()
        for c, s in zip(self.calls, sub.calls, strict=True):
            c.kink, c.dead, c.unc, c.y = (_put(a, idx, b) for a, b in
                                          ((c.kink, s.kink), (c.dead, s.dead),
                                           (c.unc, s.unc), (c.y, s.y)))
            if c.zadj is not None or s.zadj is not None:
                c.zadj = _put(torch.zeros_like(c.kink) if c.zadj is None else c.zadj, idx,
                              torch.zeros_like(s.kink) if s.zadj is None else s.zadj)
        theirs = {(p.seq, p.kind): p for p in sub.pools}
        for p in self.pools:
            q = theirs.pop((p.seq, p.kind), None)
            p.mask = _put(p.mask, idx, torch.zeros_like(p.mask[idx]) if q is None else q.mask)
            if q is not None:
                p.num = _put(p.num, idx, q.num)
        B = self.out.shape[0]
        for q in theirs.values():  # ties only the examples replaced have
            full = (B, *q.mask.shape[1:])
            self.pools.append(PoolTies(
                q.seq, q.where, q.shape, q.kind,
                _put(torch.zeros(full, dtype=torch.bool), idx, q.mask),
                _put(torch.zeros(full, dtype=q.num.dtype), idx, q.num)))
        self.pools.sort(key=lambda p: (p.seq, TIE_KINDS.index(p.kind)))
        for k in POOL_COUNTS:
            mine = self.counts.get(k, torch.zeros(B, dtype=torch.int64))
            self.counts[k] = _put(mine, idx, sub.counts.get(
                k, torch.zeros(len(idx), dtype=torch.int64)))
        self.out = _put(self.out, idx, sub.out)
        if self.out_r is not None and sub.out_r is not None:
            self.out_r = _put(self.out_r, idx, sub.out_r)
        self.last_open_pool = max(self.last_open_pool, sub.last_open_pool)


def _put(a: torch.Tensor, idx: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """a (batch axis first) with the rows idx set to ``rows``, in a fresh tensor (a may
    be a view or an expanded tensor)."""
    out = a.clone(memory_format=torch.contiguous_format)
    out[idx] = rows.to(out.dtype)
    return out
