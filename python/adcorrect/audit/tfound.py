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


@dataclass
class Filtered:
    """What the tensor filter found on one batch."""

    out: torch.Tensor  # (B, n_out) float64 outputs
    calls: list[ActCall] = field(default_factory=list)
    pool_kinks: int = 0  # live max-pool ties
    pools: list[PoolTies] = field(default_factory=list)  # dead and sub-maximum ties
    pool_unc: int = 0
    pool_sub_unc: int = 0  # chain ties below the window maximum the radii leave open
    pool_ident: int = 0  # ties at the maximum between identical functions
    last_open_pool: int = 0  # 1-based max-pool call: the last with live ties or open windows
    out_r: torch.Tensor | None = None  # the outputs' radii
    out_t: tuple[torch.Tensor, torch.Tensor] | None = None  # their tangents (tangent pass)
    # the weights of the affine maps and batch statistics over the batch: about the terms
    # of a whole-batch import (what it would cost)
    terms: int = 0
    # the smooth activations met (the IR's names: sigmoid, tanh, silu, gelu_tanh): no
    # activation calls, they have no kink
    smooth: set[str] = field(default_factory=set)

    @property
    def live(self) -> int:
        """Copies that need exact work: live kinks and live uncertain copies."""
        return self.pool_kinks + self.pool_unc + sum(
            int(c.live_kinks.sum()) + int(c.unc.sum()) for c in self.calls)
