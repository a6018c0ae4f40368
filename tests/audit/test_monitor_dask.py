"""Monitor(executor="dask"): the audits run on a LocalCluster worker while training goes
on; the records equal those of the in-process Monitor on the same training run, in step
order, model changes are seen, and an interrupted run resumes from its JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from adcorrect.audit.monitor import Monitor
from adcorrect.core.errors import InputError
from torch import nn

KEYS = ("step", "kinked", "kinked_examples", "ns", "differentiable", "inc", "undecided",
        "float_kinks", "bifurcation", "dead", "error")


def _train(mon: Monitor, steps: int, change_at: int | None = None) -> nn.Module:
    torch.manual_seed(0)
    model = mon.model
    g = torch.Generator().manual_seed(1)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for s in range(steps):
        if s == change_at:
            model.eval()
            model[1] = nn.Hardtanh()  # a changed layer: must be re-imported (no parameters)
        x = torch.randint(-2, 3, (6, 3), generator=g).float() / 2
        y = torch.randint(0, 2, (6,), generator=g)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        mon.step(x, y)
        opt.step()
        with torch.no_grad():  # a coarse grid keeps kinks likely
            for p in model.parameters():
                p.copy_((p * 2).round() / 2)
    return model


def _model() -> nn.Module:
    torch.manual_seed(3)
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).float()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_((p * 2).round() / 2)
    return m


def _rows(recs: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(r.get(k) for k in KEYS) for r in recs]


def test_dask_records_equal_local_records(tmp_path: Path) -> None:
    local = Monitor(_model(), "ce", progress=False)
    _train(local, 12, change_at=7)
    local.close()
    remote = Monitor(_model(), "ce", progress=False, executor="dask", chunk=4,
                     json_path=tmp_path / "a.json")
    _train(remote, 12, change_at=7)
    remote.close()
    assert [r["step"] for r in remote.records] == list(range(12))
    assert _rows(remote.records) == _rows(local.records)
    assert local.imports == 2 and remote.imports == 2
    assert sum(r["kinked"] for r in local.records) > 0  # the runs do meet kinks
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["stats"]["audited"] == 12


def test_resume_audits_only_missing_steps(tmp_path: Path) -> None:
    first = Monitor(_model(), "ce", progress=False, json_path=tmp_path / "r.json")
    _train(first, 5)
    first.close()
    again = Monitor(_model(), "ce", progress=False, json_path=tmp_path / "r.json",
                    resume=True)
    _train(again, 8)
    again.close()
    assert [r["step"] for r in again.records] == list(range(8))
    assert again.imports == 1  # steps 0-4 came from the file
    full = Monitor(_model(), "ce", progress=False)
    _train(full, 8)
    assert _rows(again.records) == _rows(full.records)


@pytest.mark.parametrize("bad", ["dask:foo://bar", "dask:tcp://host", "dask:tcp://h:99999",
                                 "spark", "dask:"])
def test_bad_executor_is_one_line(bad: str) -> None:
    with pytest.raises(InputError, match="executor"):
        Monitor(_model(), "ce", executor=bad)
