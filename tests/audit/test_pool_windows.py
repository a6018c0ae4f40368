"""Max-pool windows of the tensor filter (:func:`adcorrect.audit.tkernels.windows`, a
strided view) and their padding geometry, against window entries read one by one in
PyTorch's max-pool geometry (output size as ``F.max_pool2d`` computes it)."""

from __future__ import annotations

import random

import pytest
import torch
from adcorrect.audit.tkernels import _geometry, windows

F = torch.nn.functional


def _case(seed: int) -> tuple:
    rng = random.Random(seed)
    k = [rng.randint(1, 4) for _ in range(2)]
    st = [rng.randint(1, 3) for _ in range(2)]
    pad = [rng.randint(0, kk // 2) for kk in k]
    dl = [rng.randint(1, 2) for _ in range(2)]
    ceil = rng.random() < 0.5
    shape = (2, 3, *(rng.randint(e * (kk - 1) + 1, 9) for kk, e in zip(k, dl)))
    return k, st, pad, dl, ceil, shape


def _reference(t: torch.Tensor, k, st, pad, dl, ceil, fill) -> torch.Tensor:
    """(B, C, kk, L): entry (i, j) of window (a, b) is t[.., a s - p + i d, b s - p + j d]
    (``fill`` outside), with PyTorch's number of windows."""
    oh, ow = F.max_pool2d(torch.zeros(1, 1, *t.shape[2:]), k, st, pad, dl, ceil).shape[2:]
    B, C, H, W = t.shape
    out = torch.full((B, C, k[0] * k[1], oh * ow), fill, dtype=t.dtype)
    for a in range(oh):
        for b in range(ow):
            for i in range(k[0]):
                for j in range(k[1]):
                    r, c = a * st[0] - pad[0] + i * dl[0], b * st[1] - pad[1] + j * dl[1]
                    if 0 <= r < H and 0 <= c < W:
                        out[:, :, i * k[1] + j, a * ow + b] = t[:, :, r, c]
    return out


@pytest.mark.parametrize("seed", range(40))
def test_windows_are_the_entries_of_each_window(seed: int) -> None:
    k, st, pad, dl, ceil, shape = _case(seed)
    t = torch.randn(shape, dtype=torch.float64)
    if seed % 3 == 0:
        t = t.transpose(2, 3).contiguous().transpose(2, 3)  # a non-contiguous input
    got, _ = windows(t, 2, k, st, pad, dl, ceil, -7.5)
    assert torch.equal(got, _reference(t, k, st, pad, dl, ceil, -7.5))
    b, _ = windows(t > 0, 2, k, st, pad, dl, ceil, True)  # any dtype
    assert torch.equal(b, _reference(t > 0, k, st, pad, dl, ceil, True))


@pytest.mark.parametrize("seed", range(40))
def test_the_geometry_marks_padding_and_counts_real_entries(seed: int) -> None:
    k, st, pad, dl, ceil, shape = _case(seed)
    real, seen, num = _geometry(shape[2:], 2, tuple(k), tuple(st), tuple(pad), tuple(dl),
                                ceil)
    ref = _reference(torch.ones(1, 1, *shape[2:], dtype=torch.bool), k, st, pad, dl, ceil,
                     False)
    assert torch.equal(real, ref)
    for w in range(ref.shape[3]):
        count = 0
        for e in range(ref.shape[2]):
            assert bool(seen[0, 0, e, w]) == (count > 0)
            count += int(ref[0, 0, e, w])
            assert int(num[0, 0, e, w]) == count
