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


def test_batches_of_changing_size_split_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of another size opens a new chunk; with chunks sent at every step (a flush
    age of 0) the records are the same, in step order."""

    def run(mon: Monitor) -> list[tuple[Any, ...]]:
        g = torch.Generator().manual_seed(2)
        for s in range(7):
            n = 4 if s in (2, 5) else 6
            x = torch.randint(-2, 3, (n, 3), generator=g).float() / 2
            mon.step(x, torch.randint(0, 2, (n,), generator=g))
        mon.close()
        assert [r["step"] for r in mon.records] == list(range(7))
        return _rows(mon.records)

    local = run(Monitor(_model(), "ce", progress=False))
    assert run(Monitor(_model(), "ce", progress=False, executor="dask")) == local
    from adcorrect.audit import remote

    monkeypatch.setattr(remote, "FLUSH_SECONDS", 0.0)
    mon = Monitor(_model(), "ce", progress=False, executor="dask")
    assert run(mon) == local


def test_chunk_rows_hold_each_steps_values() -> None:
    """The chunk's rows are copies taken at each step (numpy's path for float32, torch's
    for bfloat16, which numpy does not hold), read back exactly by the worker's side."""
    from adcorrect.audit.remote import Chunk, _tensor

    for dtype in (torch.float32, torch.bfloat16):
        model = _model().to(dtype)
        params = list(model.parameters())
        x = torch.arange(6.0).reshape(2, 3).to(dtype)
        y = torch.tensor([0, 1])
        chunk = Chunk(params, x, y, 5, 0.0)
        assert (chunk._views is None) == (dtype == torch.bfloat16)
        seen = []
        for s in range(3):
            chunk.add(10 + s, params, x + s, y)
            seen.append(torch.cat([p.detach().reshape(-1) for p in params]))
            with torch.no_grad():
                for p in params:
                    p.add_(1.0)  # the next step's parameters; the row must keep these
        steps, flat, xs, ys = chunk.payload()
        assert steps == [10, 11, 12]
        P, X = _tensor(flat), _tensor(xs)
        assert P.dtype == dtype and P.shape == (3, sum(p.numel() for p in params))
        assert all(torch.equal(P[s], seen[s]) for s in range(3))
        assert all(torch.equal(X[s], x + s) for s in range(3))
        assert torch.equal(_tensor(ys), y.expand(3, 2))
        assert not chunk.fits(x[:1], y[:1]) and chunk.fits(x, y)


def test_reading_records_sends_the_open_chunk() -> None:
    """A chunk holds up to 256 steps; reading ``records`` sends the steps queued so far,
    so their results come in without waiting for a full chunk or ``close``."""
    import time

    mon = Monitor(_model(), "ce", progress=False, executor="dask")
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        x = torch.randint(-2, 3, (6, 3), generator=g).float() / 2
        mon.step(x, torch.randint(0, 2, (6,), generator=g))
    deadline = time.monotonic() + 60
    while len(mon.records) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r["step"] for r in mon.records] == [0, 1, 2]
    mon.close()


def test_finished_chunks_are_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk whose task has finished lends its arrays to the next one (no fresh memory
    at a step): with the records read after every step, one chunk serves the whole run,
    a batch of another shape gets its own (a chunk that does not fit is let go), and the
    records equal the local ones."""
    from adcorrect.audit import remote

    made: list[Any] = []
    init = remote.Chunk.__init__

    def counting(self: Any, *a: Any, **k: Any) -> None:
        made.append(self)
        init(self, *a, **k)

    monkeypatch.setattr(remote.Chunk, "__init__", counting)

    def run(mon: Monitor) -> list[tuple[Any, ...]]:
        model = mon.model
        g = torch.Generator().manual_seed(4)
        for s in range(8):
            n = 4 if s == 5 else 6
            x = torch.randint(-2, 3, (n, 3), generator=g).float() / 2
            mon.step(x, torch.randint(0, 2, (n,), generator=g))
            mon.flush()  # the step's task has run
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(0.5)  # every step audits other parameters
        mon.close()
        return _rows(mon.records)

    local = run(Monitor(_model(), "ce", progress=False))
    remote_rows = run(Monitor(_model(), "ce", progress=False, executor="dask"))
    assert remote_rows == local
    assert [r[0] for r in remote_rows] == list(range(8))
    assert len(made) == 3  # steps 0-4, step 5 (4 rows), steps 6-7
