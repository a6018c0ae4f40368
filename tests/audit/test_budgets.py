"""Time budgets of the exact audit (--time-limit): past it, undecided with the reason, and
the tables say undecided rather than a count of kinks that was never finished."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import torch
from adcorrect.audit.report import render_audit
from adcorrect.audit.run import Auditor
from adcorrect.cli import main
from test_tfilter import _shuffle_case
from torch import nn


def _cancelling() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    # float64: y = 0.1 x1 - 0.1 x2 + 0 is exactly 0 at x = (0.3, 0.3) and (1, 1), but the
    # float64 products 0.1 * 0.3 are inexact, so the filter leaves example 0 uncertain.
    # Both copies sit on relu's kink with tangents (x1, x2, 1) in (w1, w2, b), not
    # parallel, adjoints 1: not differentiable (by hand).
    m = nn.Sequential(nn.Linear(2, 1), nn.ReLU(), nn.Linear(1, 1)).double()
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[0.1, -0.1]]))
        m[0].bias.fill_(0.0)
        m[2].weight.fill_(1.0)
        m[2].bias.fill_(0.0)
    x = torch.tensor([[0.3, 0.3], [1.0, 1.0]], dtype=torch.float64)
    return m, x, torch.tensor([1.0, 1.0], dtype=torch.float64)


def test_decided_within_the_limit() -> None:
    m, x, y = _cancelling()
    e = Auditor(m, x, "sum").audit(x, y)["exact"]
    # example 0 is uncertain; example 1 (products 0.1 * 1, exact) may be certain or not,
    # depending on the float kernel torch picks
    assert (e["kinked"], e["differentiable"], e["undecided"]) == (2, False, None)
    assert e["uncertain"] in (1, 2)


def test_past_the_limit_is_undecided_and_says_so() -> None:
    m, x, y = _cancelling()
    r = Auditor(m, x, "sum", time_limit=1e-9).audit(x, y)
    e = r["exact"]
    assert e["differentiable"] is None and e["inc"] is None and e["ns"] is None
    assert "time limit" in e["undecided"] and e["kinks_known"] is False
    text = render_audit(r)
    assert f"undecided ({e['uncertain']} copies uncertain; at least {e['kinked']} found)" in text
    assert "0 in 0 example(s)" not in text and "not a kink" not in text
    # a kink the filter certified is a kink; nothing else is claimed
    assert r["verdicts"][0]["exact"] is (True if e["kinked"] else None)


@pytest.mark.parametrize("bad", ["-1", "abc", "inf", "nan"])
def test_bad_time_limit_is_one_line(tmp_path: Path, bad: str) -> None:
    m, x, y = _cancelling()
    torch.save(m, tmp_path / "m.pt")
    torch.save({"x": x, "y": y}, tmp_path / "b.pt")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main(["audit", str(tmp_path / "m.pt"), "--batch", str(tmp_path / "b.pt"),
                   "--loss", "sum", "--time-limit", bad])
    assert rc == 2 and "--time-limit" in err.getvalue()
    assert len(err.getvalue().strip().splitlines()) == 1


def test_the_time_limit_covers_the_import_for_the_exact_work() -> None:
    """Copies the tensor filter leaves open need the IR: its import and plan count against
    the time limit (ResNet-sized models took minutes there before the exact work's own
    limit started), the answer is then undecided with the reason, and the next audit with
    the time decides the batch."""
    m, x, y = _shuffle_case(0)  # live kinks, no certificate; exact: differentiable
    aud = Auditor(m, x, "ce", time_limit=1e-9)
    assert aud.net is None and aud.pending is not None  # the IR waits for a batch
    found = aud.tfilter.run(x)
    assert found.live and aud.tfilter.certificate(x, y, "ce") is None
    r = aud.audit(x, y)
    assert r["exact"]["differentiable"] is None
    assert "time limit of 1e-09 s reached (importing the network" in r["exact"]["undecided"]
    aud.time_limit = 60
    r = aud.audit(x, y)
    assert aud.net is not None and r["exact"]["undecided"] is None
    assert r["exact"]["differentiable"] is True


def test_an_ir_too_large_for_its_batch_leaves_the_tensor_filters_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16's frozen-hardtanh case with the neuron limit lowered below its batched
    network: the exact route stops at the limit, and the answer is the tensor filter's,
    undecided with the limit's own words (two live kinked copies, no certificate: the
    point is differentiable), never an error."""
    from test_tfilter import _frozen_hardtanh

    m, x = _frozen_hardtanh()
    monkeypatch.setenv("ADCORRECT_MAX_NEURONS", "1")
    res = Auditor(m, x, "sum").audit(x, torch.ones(2))
    e = res["exact"]
    assert e["filter"] == "tensor" and e["kinked"] == 2 and e["differentiable"] is None
    assert e["undecided"].startswith("the exact batch is too large (batch of 2 x ")
    assert "ADCORRECT_MAX_NEURONS" in e["undecided"]


def test_a_failed_import_leaves_the_tensor_filter_alone(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """An IR import that meets a size limit at construction: the tensor filter alone
    (as above the import limit), its reason kept for an undecided answer."""
    from adcorrect.audit import run as run_mod
    from adcorrect.core.errors import LimitExceeded

    def refuse(self: Auditor, example: torch.Tensor) -> None:
        raise LimitExceeded("an IR of 10^7 neurons: over the limit")

    monkeypatch.setattr(run_mod.Auditor, "_import_example", refuse)
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))  # imported at once
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 0, 1, 1])
    aud = Auditor(m, x, "ce")
    assert aud.net is None and aud.too_large is not None and "10^7" in aud.too_large
    e = aud.audit(x, y)["exact"]
    assert (e["filter"], e["undecided"], e["differentiable"]) == ("tensor", None, True)


def test_the_import_stops_at_the_neuron_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A network above the neuron limit can never be batched: its import stops as the
    limit is crossed (a 4-block ViT of width 64 went on to 2.4 M neurons, 48 s, before the
    batch failed), naming the node and the limit, and the audit answers from the tensor
    filter alone."""
    from adcorrect.core.errors import LimitExceeded
    from adcorrect.torch import from_module

    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(1, 70_000), nn.ReLU(), nn.Linear(70_000, 1))
    x = torch.rand(2, 1) + 0.5
    monkeypatch.setenv("ADCORRECT_MAX_NEURONS", "65536")
    with pytest.raises(LimitExceeded, match="ADCORRECT_MAX_NEURONS"):
        from_module(m, x[:1])
    aud = Auditor(m, x, "sum")
    assert aud.net is None and aud.too_large is not None
    e = aud.audit(x, torch.ones(2))["exact"]
    assert e["filter"] == "tensor" and e["undecided"] is None and e["differentiable"] is True
