"""Token models (``nn.Embedding``) in the tensor filter: the weight's rows are exact, the
padding row and frozen weights locally constant, equal rows one function.  The IR imports
token models as a whole batch and its certified oracle stops at chains of max-pool ties;
the tensor filter decides them, and agrees with the oracle where the oracle decides."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from adcorrect.audit.dtypes import parse_dtype
from adcorrect.audit.run import Auditor
from torch import nn

FP32 = parse_dtype("fp32")


class TextCNN(nn.Module):
    def __init__(self, pool: str, padding_idx: int | None) -> None:
        super().__init__()
        self.emb = nn.Embedding(6, 3, padding_idx=padding_idx)
        self.conv = nn.Conv1d(3, 4, 2)
        self.fc = nn.Linear(4, 2)
        self.pool = pool

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv(self.emb(t).transpose(1, 2)))  # (B, 4, L - 1)
        if self.pool == "max":
            h = nn.functional.max_pool1d(h, h.size(2)).squeeze(2)
        else:
            h = nn.functional.avg_pool1d(h, h.size(2)).squeeze(2)
        return self.fc(h)


def _model(seed: int, pool: str) -> nn.Module:
    m = TextCNN(pool, 0 if seed % 2 else None)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # a coarse grid: relus meet their kinks
        for p in m.parameters():
            p.copy_(torch.randint(-2, 3, p.shape, generator=g).float() / 2)
    return m.eval()


def _verdict(r: dict[str, Any]) -> tuple[Any, ...]:
    e = r["exact"]
    return e["differentiable"], e["inc"]


def test_token_models_agree_with_the_whole_batch_oracle(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    compared = kinked = 0
    for seed in range(12):
        m = _model(seed, "mean")
        g = torch.Generator().manual_seed(100 + seed)
        t = torch.randint(0, 6, (3, 4), generator=g)
        y = torch.randint(0, 2, (3,), generator=g)
        aud = Auditor(m, t, "ce", dtype=FP32, time_limit=30)
        fast = aud.audit(t, y)
        with monkeypatch.context() as mp:
            mp.setattr(Auditor, "_coupled", lambda *a, **k: None)
            whole = aud.audit(t, y)
        assert "filter" not in whole["exact"]
        if fast["exact"].get("filter") == "tensor":
            assert fast["exact"]["undecided"] is None
        if fast["exact"].get("filter") == "tensor" and whole["exact"]["undecided"] is None:
            compared += 1
            kinked += fast["exact"]["kinked"] + fast["exact"]["dead"] > 0 or \
                fast["exact"]["witness"] is not None
            assert _verdict(fast) == _verdict(whole), seed
    assert compared >= 6 and kinked >= 4  # most by certificates of non-differentiability


def test_max_pool_ties_of_a_text_cnn_are_decided() -> None:
    """Max over time after relu: windows of dead relus tie at 0 (dead ties), live ties and
    relus on their kinks.  The whole batch's oracle stops at such chains ("kinks on
    several levels"); the tensor filter decides half of these batches itself (with a
    certificate of non-differentiability where copies are live)."""
    decided = 0
    for seed in range(6):
        m = _model(seed, "max")
        g = torch.Generator().manual_seed(seed)
        t = torch.randint(0, 6, (4, 5), generator=g)
        y = torch.randint(0, 2, (4,), generator=g)
        e = Auditor(m, t, "ce", dtype=FP32, time_limit=30).audit(t, y)["exact"]
        if e.get("filter") == "tensor":
            decided += 1
            assert e["undecided"] is None
            assert e["differentiable"] is (e["witness"] is None)
    assert decided >= 3


def test_the_filter_encloses_the_outputs_and_reads_padding_as_constant() -> None:
    from adcorrect.audit.tfilter import TensorFilter

    m = _model(1, "mean")  # padding_idx 0
    t = torch.tensor([[0, 0, 1, 2], [3, 0, 5, 4]])
    tf = TensorFilter(m, torch.float32)
    found = tf.run(t)
    assert found.out_r is not None
    exact = m.double()(t)
    assert bool(((found.out - exact).abs() <= found.out_r).all())


@pytest.mark.parametrize("functional", [False, True])
def test_an_embedding_whose_gradient_pytorch_rescales_is_refused(functional: bool) -> None:
    """scale_grad_by_freq: PyTorch's gradient is not the derivative; one line."""
    from adcorrect.core.errors import InputError

    class M(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(4, 2, scale_grad_by_freq=True)

        def forward(self, t: torch.Tensor) -> torch.Tensor:
            if functional:
                return nn.functional.embedding(t, self.emb.weight,
                                               scale_grad_by_freq=True).sum(1)
            return self.emb(t).sum(1)

    t = torch.tensor([[0, 1, 1]])
    with pytest.raises(InputError) as exc:
        Auditor(M(), t, "sum", dtype=FP32)
    assert "\n" not in str(exc.value) and "scale_grad_by_freq" in str(exc.value)
