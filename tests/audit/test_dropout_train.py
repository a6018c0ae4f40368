"""Dropout in training mode on piecewise-linear models: the tensor filter multiplies by the
audited pass's masks, so such models (AlexNet's and VGG's classifiers, a Monitor auditing
training steps) are decided without importing the whole batch; its verdicts are those of
the whole-batch import with the same masks."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from adcorrect.audit.dtypes import parse_dtype
from adcorrect.audit.run import Auditor
from torch import nn

FP32 = parse_dtype("fp32")


def _mlp(seed: int, p: float) -> nn.Module:
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Dropout(p), nn.Linear(6, 5), nn.ReLU(),
                      nn.Dropout(p), nn.Linear(5, 3))
    with torch.no_grad():  # a coarse grid: relus meet their kinks
        for q in m.parameters():
            q.copy_((q * 4).round() / 4)
    return m.train()


def _verdict(r: dict[str, Any]) -> tuple[Any, ...]:
    e = r["exact"]
    return e["differentiable"], e["inc"], e["undecided"] is None


@pytest.mark.parametrize("p", [0.5, 0.25])  # 1/(1-p) = 2 exactly, and 4/3 rounded
def test_masked_filter_agrees_with_the_whole_batch_import(p: float,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    decided = kinked = 0
    for seed in range(12):
        m = _mlp(seed, p)
        g = torch.Generator().manual_seed(seed)
        x = torch.randint(-2, 3, (4, 3), generator=g).float() / 2
        y = torch.randint(0, 3, (4,), generator=g)
        aud = Auditor(m, x, "ce", dtype=FP32)
        torch.manual_seed(100 + seed)  # the masks the audit draws
        fast = aud.audit(x, y)
        with monkeypatch.context() as mp:
            mp.setattr(Auditor, "_coupled", lambda *a, **k: None)
            torch.manual_seed(100 + seed)
            whole = aud.audit(x, y)
        assert "filter" not in whole["exact"]
        if fast["exact"].get("filter") == "tensor":
            decided += 1
            kinked += fast["exact"]["kinked"] + fast["exact"]["dead"] > 0
            if whole["exact"]["undecided"] is None:
                assert _verdict(fast) == _verdict(whole), seed
        assert fast["execution"] == whole["execution"]  # the same pass was audited
    assert decided >= 8 and kinked >= 2  # the property test sees decided kinked batches


class _SmallAlexNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(inplace=True),
                                      nn.MaxPool2d(2), nn.Dropout2d(0.5),
                                      nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(inplace=True),
                                      nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Dropout(), nn.Linear(16, 8), nn.ReLU(inplace=True),
                                        nn.Dropout(), nn.Linear(8, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def test_a_cnn_with_dropout_in_training_mode_is_decided_by_the_tensor_filter() -> None:
    """All-negative pool windows are dead ties; with the masks the tensor filter decides
    (before, the whole batch went to the certified oracle: undecided after the time
    limit for an AlexNet-style CNN at batch 8)."""
    torch.manual_seed(0)
    m = _SmallAlexNet().train()
    x = torch.randint(0, 17, (8, 1, 8, 8)).float() / 16
    y = torch.randint(0, 3, (8,))
    aud = Auditor(m, x, "ce", dtype=FP32, time_limit=30)
    seen_identical = False
    for s in range(3):
        torch.manual_seed(s)
        r = aud.audit(x, y)
        e = r["exact"]
        assert (e["filter"], e["undecided"], e["differentiable"]) == ("tensor", None, True)
        assert e["dead"] > 0  # max-pool ties of dead relus
        assert r["verdicts"][2]["agree"] is True  # differentiable, no bifurcation
        assert r["verdicts"][1]["agree"] is not False
        # the float side sees the pools' ties too (dead relus tie at 0)
        assert r["verdicts"][0]["agree"] is True and r["execution"]["pool_ties"] > 0
        identical = e["identical_ties"]
        # where a mask drops the channels of a whole receptive field, the second conv
        # computes its bias there: those windows tie between one function of the
        # parameters (structural ids carried through the mask)
        seen_identical = seen_identical or identical > 0
    assert seen_identical  # ids are carried through the masks (else those ties are live)


def test_masks_of_another_pass_are_refused_by_the_filter() -> None:
    """The filter multiplies by the masks it is given, in call order: too few is not a
    guess, it is a refusal (the audit then imports the whole batch)."""
    from adcorrect.audit.tfilter import TensorFilter
    from adcorrect.audit.tkernels import Unsupported

    m = _mlp(0, 0.5)
    tf = TensorFilter(m, torch.float32)
    x = torch.ones(2, 3)
    with pytest.raises(Unsupported, match="masks"):
        tf.run(x, [torch.ones(2, 6)])
    with pytest.raises(Unsupported, match="shape"):
        tf.run(x, [torch.ones(2, 5), torch.ones(2, 5)])
    found = tf.run(x, [torch.full((2, 6), 2.0), torch.zeros(2, 5)])
    assert found.out.shape == (2, 3)
    with torch.no_grad():  # dropped entries are exact zeros: the output is the last bias
        assert torch.equal(found.out, m[6].bias.to(torch.float64).expand(2, 3))


class _Masked(nn.Module):
    """A dropout replaced by the product with a stored mask: an eval-mode model that the
    IR imports per example (one example, a constant mask)."""

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mask


def test_masked_cnn_verdicts_equal_the_ir_with_constant_masks() -> None:
    """One example: the training-mode CNN through the tensor filter (pool ties, ids
    carried through the masks) against the same CNN with each dropout replaced by its
    recorded mask as a constant, audited by the IR's route (another engine)."""
    import copy

    from adcorrect.audit.execution import record_masks

    agreed = ties = 0
    for seed in range(8):
        torch.manual_seed(seed)
        m = _SmallAlexNet().train()
        g = torch.Generator().manual_seed(seed)
        x = torch.randint(0, 17, (1, 1, 8, 8), generator=g).float() / 16
        y = torch.randint(0, 3, (1,), generator=g)
        aud = Auditor(m, x, "ce", dtype=FP32, time_limit=30)
        torch.manual_seed(seed)
        masks = record_masks(aud.gm, x)
        torch.manual_seed(seed)
        r = aud.audit(x, y)
        assert r["exact"]["filter"] == "tensor"
        c = copy.deepcopy(m).eval()
        c.features[3] = _Masked(masks[0])
        c.classifier[0], c.classifier[3] = _Masked(masks[1]), _Masked(masks[2])
        ir = Auditor(c, x, "ce", dtype=FP32, time_limit=30)
        assert ir.load_net() is not None
        ir.tfilter = None  # the IR's filter and exact side alone (the tensor filter runs
        # the masks as products with stored tensors too)
        s = ir.audit(x, y)
        assert "filter" not in s["exact"] and s["exact"]["undecided"] is None
        assert _verdict(r) == _verdict(s), seed
        agreed += 1
        ties += r["exact"]["dead"] + r["exact"]["identical_ties"] > 0
    assert agreed == 8 and ties >= 4


def test_float_pool_ties_are_the_max_chains_kinks() -> None:
    """The execution audit counts a max pool's float entries equal to the maximum of the
    window's entries before them, as the exact side counts the max chain's kinks: by
    hand on one window layout, with padding and a 1-d pool."""
    from adcorrect.audit.execution import chain_ties

    x = torch.tensor([[[[0.0, 0.0, 1.0, 3.0],
                        [0.0, 2.0, 3.0, 3.0]]]])  # windows 2x2: [0,0,0,2], [1,3,3,3]
    assert chain_ties(x, 2, 2, None, 0, 1, False) == 2 + 2
    # padding 1 shifts the windows: each holds at most two entries, never equal, and the
    # padding (-inf) is never a tie
    assert chain_ties(x, 2, 2, 2, 1, 1, False) == 0
    # 1-d windows of 3 with stride 1 over [1, 1, 2, 2]: [1, 1, 2] and [1, 2, 2]
    assert chain_ties(torch.tensor([[[1.0, 1.0, 2.0, 2.0]]]), 1, 3, 1, 0, 1, False) == 2


def test_float_adaptive_pool_ties() -> None:
    """Adaptive max pools count their ties as the exact side does (PyTorch's windows
    [floor(o n / m), ceil((o + 1) n / m)), row-major): by hand, and in a model whose global
    max pool takes dead relu6 zeros (exact dead ties and float ties agree)."""
    from adcorrect.audit.execution import adaptive_ties

    # n = 5, m = 2: windows [0, 3) and [2, 5): [5, 5, 3] and [3, 5, 5], one tie each
    assert adaptive_ties(torch.tensor([[[5.0, 5.0, 3.0, 5.0, 5.0]]]), 1, 2) == 2
    # 3x4 zeros to 2x3: six overlapping windows of 2x2, three ties each
    assert adaptive_ties(torch.zeros(1, 1, 3, 4), 2, (2, 3)) == 18
    assert adaptive_ties(torch.arange(12.0).reshape(1, 1, 3, 4), 2, (2, None)) == 0

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU6(), nn.AdaptiveMaxPool2d(1),
                          nn.Flatten(), nn.Linear(2, 2))
    with torch.no_grad():
        model[0].bias[0] = -100.0  # channel 0 is 0 everywhere: a dead tie of 16 entries
        model[0].weight[1] = torch.arange(1.0, 10.0).reshape(1, 3, 3) / 8  # channel 1 live,
        model[0].bias[1] = 0.125  # in (0, 6) and increasing along each row and column
    x = torch.randint(0, 17, (3, 1, 6, 6)).float() / 16
    res = Auditor(model, x, "ce").audit(x, torch.tensor([0, 1, 0]))
    assert res["exact"]["dead"] == 3 * 15 and res["execution"]["pool_ties"] == 3 * 15
    assert all(v["agree"] for v in res["verdicts"])
