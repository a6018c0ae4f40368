"""adcorrect.torch.Monitor inside a training loop: audited steps, records, summary, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from adcorrect.audit.monitor import Monitor, loss_kind
from adcorrect.core.errors import InputError
from torch import nn

pytestmark = pytest.mark.usefixtures("float32_default")


def _loop(mon: Monitor, model: nn.Module, steps: int, e4m3: bool = False) -> None:
    g = torch.Generator().manual_seed(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(steps):
        x = torch.randint(0, 5, (8, 4), generator=g).float() / 4
        y = torch.randint(0, 3, (8,), generator=g)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        before = [p.detach().clone() for p in model.parameters()]
        grads = [p.grad.clone() for p in model.parameters()]
        mon.step(x, y)
        # the monitor changes neither the parameters nor their gradients
        assert all(torch.equal(a, p) for a, p in zip(before, model.parameters()))
        assert all(torch.equal(a, p.grad) for a, p in zip(grads, model.parameters()))
        opt.step()
        if e4m3:
            with torch.no_grad():
                for p in model.parameters():
                    p.copy_(p.to(torch.float8_e4m3fn).float())


def test_monitor_records_every_kth_step(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    with Monitor(model, nn.CrossEntropyLoss(), every=2, dtype="e4m3fn", total=7,
                 json_path=tmp_path / "a.json") as mon:
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(torch.float8_e4m3fn).float())
        _loop(mon, model, 7, e4m3=True)
    assert [r["step"] for r in mon.records] == [0, 2, 4, 6]
    assert all(r["not_in_format"] == 0 for r in mon.records)
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["stats"]["audited"] == 4 and data["stats"]["steps"] == 7
    text = mon.summary()
    assert "non-differentiable" in text and "bifurcates" in text and "undecided" in text
    s = mon.stats()
    assert s["undecided_steps"] == 0
    assert s["ndf_steps"] <= s["ns_steps"] <= s["kinked_steps"]


def test_loss_kinds() -> None:
    assert loss_kind(nn.CrossEntropyLoss()) == "ce"
    assert loss_kind(nn.MSELoss()) == "mse"
    assert loss_kind("sum") == "sum"
    with pytest.raises(InputError):
        loss_kind(nn.L1Loss())
    with pytest.raises(InputError):
        loss_kind(nn.CrossEntropyLoss(label_smoothing=0.1))
