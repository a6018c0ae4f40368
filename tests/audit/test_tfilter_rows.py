"""The tensor filter's precise pass on the open examples alone
(:meth:`adcorrect.audit.tfilter.TensorFilter._precise`) and the merge of per-example
findings (:meth:`adcorrect.audit.tfound.Filtered.replace_rows`): a pass on some examples
merged into a pass on other ones is the pass on the merged batch (calls, max-pool ties
of every kind, per-example counts, outputs); the precise pass runs on the open examples
only where nothing couples them."""

from __future__ import annotations

import pytest
import torch
from adcorrect.audit.tfilter import TensorFilter
from adcorrect.audit.tfound import Filtered
from cancelling import X_CANCEL, cancelling
from torch import nn

F = nn.functional


class PoolNet(nn.Module):
    """conv -> relu -> 2x2 max pool -> conv -> relu -> linear: dead ties in all-negative
    windows, live ties between equal maxima of the coarse inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 3, 3, padding=1)
        self.c2 = nn.Conv2d(3, 2, 3)
        self.fc = nn.Linear(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.max_pool2d(F.relu(self.c1(x)), 2)
        return self.fc(torch.flatten(F.relu(self.c2(h)), 1))


def _summary(f: Filtered) -> dict:
    pools = {(p.seq, p.kind): (p.mask.clone(), p.num[p.mask].clone()) for p in f.pools
             if bool(p.mask.any())}
    return {
        "calls": [(c.kink, c.dead, c.unc, c.live_kinks) for c in f.calls],
        "pools": pools,
        "counts": {k: v for k, v in f.counts.items()},
        "out": f.out,
        "live": f.live,
    }


def _same(a: dict, b: dict, values: bool = True) -> None:
    """Equal findings (``values``: and equal float64 outputs)."""
    for (k1, d1, u1, l1), (k2, d2, u2, l2) in zip(a["calls"], b["calls"], strict=True):
        assert torch.equal(k1, k2) and torch.equal(d1, d2) and torch.equal(u1, u2)
        assert torch.equal(l1, l2)
    assert a["pools"].keys() == b["pools"].keys()
    for k in a["pools"]:
        assert torch.equal(a["pools"][k][0], b["pools"][k][0])
        assert torch.equal(a["pools"][k][1], b["pools"][k][1])
    for k in set(a["counts"]) | set(b["counts"]):
        za = a["counts"].get(k, torch.zeros(a["out"].shape[0], dtype=torch.int64))
        zb = b["counts"].get(k, torch.zeros(b["out"].shape[0], dtype=torch.int64))
        assert torch.equal(za, zb), k
    assert a["live"] == b["live"]
    assert not values or torch.equal(a["out"], b["out"])


@pytest.mark.parametrize("seed", range(6))
def test_merged_rows_are_the_pass_on_the_merged_batch(seed: int) -> None:
    torch.manual_seed(seed)
    m = PoolNet().eval()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.round(p * 4) / 4)  # a coarse grid: exact values, ties
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(-2, 3, (6, 1, 6, 6), generator=g).float() / 2
    x[1] = 0.0  # every window of the first pool ties
    other = torch.randint(-2, 3, (6, 1, 6, 6), generator=g).float() / 2
    rows = torch.tensor([False, True, False, True, True, False])
    mixed = torch.where(rows.reshape(-1, 1, 1, 1), other, x)
    tf = TensorFilter(m, torch.float32)
    want = _summary(tf._run(x, 1))
    base = tf._run(mixed, 1)
    base.replace_rows(rows, tf._run(x[rows], 1))
    _same(_summary(base), want)
    assert any(k[1] == "dead" for k in want["pools"])


def test_the_precise_pass_runs_on_the_open_examples_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    x = torch.cat([torch.tensor([[1.0, 0.5]]), X_CANCEL, torch.tensor([[2.0, -0.25], [0.5, 0.5]])])
    tf = TensorFilter(cancelling(), torch.float32)
    assert tf._run(x, 0).open_rows().tolist() == [False, True, False, False]
    sizes: list[tuple[int, bool]] = []
    orig = tf._run

    def spy(xx: torch.Tensor, ids: int, precise: bool = False, **kw):
        sizes.append((xx.shape[0], precise))
        return orig(xx, ids, precise, **kw)

    monkeypatch.setattr(tf, "_run", spy)
    found = tf.run(x)
    assert sizes == [(4, False), (1, True)] and tf.limb and tf.hint == (0, False)
    assert found.live == 0
    full = orig(x, 0, True)  # the same decisions (its values from other enclosures)
    _same(_summary(found), _summary(full), values=False)
    sizes.clear()
    tf.run(x)  # the next batch: the float64 pass first again
    assert sizes == [(4, False), (1, True)]


def test_batch_statistics_keep_the_precise_pass_on_the_whole_batch() -> None:
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 1)).train()
    f = TensorFilter(m, torch.float32)._run(torch.randn(4, 2), 0)
    assert f.coupled  # (the precise pass then takes every example: _precise)
    m.eval()
    assert not TensorFilter(m, torch.float32)._run(torch.randn(4, 2), 0).coupled
