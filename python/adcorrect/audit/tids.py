"""Structural ids of the tensor filter: an id per entry such that equal ids mean the
same function of the parameters near w (interned rows of the ids an entry is computed
from: windows of convolutions and pools, linear rows, entrywise pairs, constants by
value).  A max-pool tie between candidates with equal ids is no kink."""

from __future__ import annotations

import torch

from .certified import F64
from .tkernels import CT, windows

MAX_ID_ENTRIES = 20_000_000  # entries of the row matrix interned for structural ids


_HASH = torch.randint(1, 2 ** 62, (4096,), generator=torch.Generator().manual_seed(7))


def intern(rows: torch.Tensor) -> torch.Tensor | None:
    """Ids of the rows of an int64 matrix: equal rows, equal ids, different rows,
    different ids (exact: rows grouped by a 64-bit hash, each row sharing its hash then
    compared with its group's first row; a collision falls back to sorting the rows)."""
    if rows.numel() > MAX_ID_ENTRIES:
        return None
    n, k = rows.shape
    if n == 0 or k > _HASH.numel():
        return torch.unique(rows, dim=0, return_inverse=True)[1]
    h = torch.mv(rows, _HASH[:k])  # wraps around: any function of the row will do
    _, inv, counts = torch.unique(h, return_inverse=True, return_counts=True)
    shared = (counts[inv] > 1).nonzero().squeeze(1)  # a row alone with its hash has no equal
    if not len(shared):
        return inv
    first = torch.full((len(counts),), n, dtype=torch.int64)
    first = first.scatter_reduce(0, inv, torch.arange(n), "amin")
    if bool((rows[shared] == rows[first[inv[shared]]]).all()):
        return inv
    return torch.unique(rows, dim=0, return_inverse=True)[1]


def ids_windows(ids: torch.Tensor | None, d: int, k: list[int], st: list[int],
                pad: list[int], dl: list[int], ceil_mode: bool, groups: int = 1,
                c_out: int | None = None) -> torch.Tensor | None:
    """Ids of an op reading windows of ids (B, C, *spatial) in max-pool geometry: per
    group of input channels (all channels: a convolution; one: a pool), with the output
    channel; ``c_out`` None: a pool (output channel = input channel)."""
    if ids is None:
        return None
    B, C = ids.shape[:2]
    w, oshape = windows(ids, d, k, st, pad, dl, ceil_mode, -1)
    L = w.shape[3]
    G = C if c_out is None else groups
    w = w.reshape(B, G, (C // G) * w.shape[2], L).permute(0, 1, 3, 2)
    if G > 1:  # the group of input channels is part of the row (one group: no column)
        g = torch.arange(G).reshape(1, G, 1, 1).expand(B, G, L, 1)
        w = torch.cat([w, g], 3)
    inv = intern(w.reshape(B * G * L, -1))
    if inv is None:
        return None
    inv = inv.reshape(B, G, 1, L)
    per = 1 if c_out is None else c_out // G
    out = inv * per + torch.arange(per).reshape(1, 1, per, 1)
    out = out.reshape(B, G * per, *oshape) if d == 2 else out.reshape(B, G * per, oshape[1])
    return out


_NOT_CAND = float(2 ** 60)  # a window entry that is not a candidate for the maximum


def ids_max(ids: torch.Tensor | None, cand: torch.Tensor, d: int, k: list[int],
            st: list[int], pad: list[int], dl: list[int], ceil_mode: bool,
            shape: tuple[int, ...]) -> torch.Tensor | None:
    """Ids of a max pool's outputs: the set of ids of its window's candidates (``cand``,
    (B, C, kk, L), from :func:`max_pool`).  Near w the entries below the window maximum
    stay below it, so the output is the maximum of its candidates there: windows with
    the same candidate functions are one function near w, whatever their other entries
    (the ids mean equality near w, which is all the ties need)."""
    if ids is None:
        return None
    w, _ = windows(ids.to(F64), d, k, st, pad, dl, ceil_mode, -1.0)
    w = sort_windows(torch.where(cand, w, torch.full_like(w, _NOT_CAND)))
    if w.shape[2] > 1:  # a set: the maximum of f, f, g is the maximum of f, g
        rep = torch.zeros_like(w, dtype=torch.bool)
        rep[:, :, 1:] = w[:, :, 1:] == w[:, :, :-1]
        w = sort_windows(w.masked_fill(rep, _NOT_CAND))
    inv = intern(w.permute(0, 1, 3, 2).reshape(-1, w.shape[2]).to(torch.int64))
    return None if inv is None else inv.reshape(shape)


def sort_windows(w: torch.Tensor) -> torch.Tensor:
    """w sorted along axis 2 (finite floats): a sorting network of minima and maxima for
    windows of 2 or 4 entries (2x2 pools: 4x faster than ``sort``), else ``sort``."""
    if w.shape[2] == 2:
        a, b = w.unbind(2)
        return torch.stack([torch.minimum(a, b), torch.maximum(a, b)], 2)
    if w.shape[2] != 4:
        return w.sort(2).values
    x0, x1, x2, x3 = w.unbind(2)
    lo01, hi01 = torch.minimum(x0, x1), torch.maximum(x0, x1)
    lo23, hi23 = torch.minimum(x2, x3), torch.maximum(x2, x3)
    m1, m2 = torch.maximum(lo01, lo23), torch.minimum(hi01, hi23)
    return torch.stack([torch.minimum(lo01, lo23), torch.minimum(m1, m2),
                        torch.maximum(m1, m2), torch.maximum(hi01, hi23)], 2)


def ids_rows(ids: torch.Tensor | None, n_out: int) -> torch.Tensor | None:
    """Ids of a linear layer's outputs: (input row, output index)."""
    if ids is None:
        return None
    inv = intern(ids)
    return None if inv is None else inv.reshape(-1, 1) * n_out + torch.arange(n_out)


def ids_pair(a: torch.Tensor | None, b: torch.Tensor | None) -> torch.Tensor | None:
    """Ids of an entrywise op of two tensors: (id in a, id in b)."""
    if a is None or b is None:
        return None
    inv = intern(torch.stack([a.reshape(-1), b.reshape(-1)], 1))
    return None if inv is None else inv.reshape(a.shape)


def ids_channel(ids: torch.Tensor | None) -> torch.Tensor | None:
    """Ids of a per-channel (axis 1) entrywise op: (id, channel)."""
    if ids is None:
        return None
    c = torch.arange(ids.shape[1]).reshape((1, -1) + (1,) * (ids.dim() - 2)).expand(ids.shape)
    return ids_pair(ids, c.contiguous())


def canon_const(x: CT) -> CT:
    """Locally constant exact entries are the constant function of their value: their
    ids become one per value (negative, apart from every other id; -1 for 0, the id
    windows give zero padding)."""
    if x.I is None:
        return x
    mask = x.C & (x.R == 0)
    if not bool(mask.any()):
        return x
    zero = mask & (x.V == 0)  # the constant 0 is -1, as zero padding
    rest = mask & ~zero
    I = x.I.masked_fill(zero, -1)
    if bool(rest.any()):  # other constants (rare: relu's dead copies are 0): by value
        inv = torch.unique(x.V[rest], return_inverse=True)[1]
        I = I.masked_scatter(rest, -2 - inv)
    x.I = I
    return x
