"""``squeeze`` and ``unsqueeze`` (methods and functions), as in DenseNet-style heads
(``x.squeeze(-1).squeeze(-1)``): imported as views that keep the batch axis first, in the
IR and in the tensor filter; squeezing or inserting at the batch axis is one line."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from adcorrect.audit.dtypes import parse_dtype
from adcorrect.audit.run import Auditor
from test_methods import ad_is_autograds, coarse, encloses, kinked, refused
from torch import nn


class Head(nn.Module):
    def __init__(self, squeeze_all: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)
        self.fc = nn.Linear(3, 2)
        self.squeeze_all = squeeze_all

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.conv(x))  # (B, 3, 1, 1)
        h = torch.squeeze(h.squeeze(-1), 2)  # (B, 3)
        h = torch.unsqueeze(h, 1).unsqueeze(-2)  # (B, 1, 1, 3)
        out = self.fc(h.squeeze(1).squeeze(dim=1)).unsqueeze(-1)  # (B, 2, 1)
        return out.squeeze() if self.squeeze_all else out.squeeze(2)


def _model(seed: int, squeeze_all: bool = False) -> nn.Module:
    return coarse(Head(squeeze_all), torch.Generator().manual_seed(seed))


def test_ad_through_squeezes_is_autograds() -> None:
    """One example at a time: the IR's exact AD (relu'(0) = 0, PyTorch's) equals float64
    autograd, entry by entry, including examples with a relu on its kink."""
    at_kink = 0
    for seed in range(10):
        m = _model(seed)
        g = torch.Generator().manual_seed(seed)
        net, fw = ad_is_autograds(m, torch.randint(-1, 2, (1, 2, 3, 3), generator=g).double())
        at_kink += kinked(net, fw, at_zero=True)
    assert at_kink >= 1


def test_audits_decide_with_squeezes_in_both_filters() -> None:
    """A batch of four through the tensor filter and through the IR's route: the same
    verdict; ``x.squeeze()`` without dims keeps the batch axis (PyTorch's, above one)."""
    m = _model(1, squeeze_all=True).float()
    g = torch.Generator().manual_seed(0)
    x = torch.randint(-2, 3, (4, 2, 3, 3), generator=g).float() / 2
    y = torch.randint(0, 2, (4,), generator=g)
    verdicts = []
    for ir_first in (False, True):
        aud = Auditor(m, x, "ce", dtype=parse_dtype("fp32"))
        aud.ir_first, aud.tensor_first = ir_first, not ir_first
        e = aud.audit(x, y)["exact"]
        assert e["undecided"] is None
        verdicts.append((e["differentiable"], e["inc"]))
    assert verdicts[0] == verdicts[1]
    assert aud.tfilter is not None
    encloses(m.double(), x.double())  # the squeezes run in the tensor filter too


class _Bad(nn.Module):
    def __init__(self, op: str) -> None:
        super().__init__()
        self.fc, self.op = nn.Linear(2, 2), op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        return h.squeeze(0) if self.op == "squeeze" else h.unsqueeze(0).sum(1)


@pytest.mark.parametrize("op", ["squeeze", "unsqueeze"])
def test_the_batch_axis_is_refused_in_one_line(op: str) -> None:
    refused(_Bad(op), torch.ones(1, 2), op, "batch axis")
