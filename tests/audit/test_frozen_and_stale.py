"""Frozen parameters are constants (check, audit, Monitor), and the Monitor never audits a
stale import: mode switches, changed BatchNorm statistics, replaced layers, changed batch
shapes, errors recorded per step (issue 16, items 1 and 6)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import torch
from adcorrect.audit.monitor import Monitor
from adcorrect.audit.run import Auditor
from adcorrect.cli import check_result, main
from torch import nn


def _frozen_hardtanh() -> nn.Module:
    # L(b) = hardtanh(w x1 + b) + hardtanh(w x2 + b) with w = 1 frozen, x = -1, 1.  At
    # b = 0 both copies sit on a kink (y = -1 and y = 1).  For b > 0: (b - 1) + 1 = b; for
    # b < 0: -1 + (b + 1) = b.  So L(b) = b near 0: differentiable, L'(0) = 1, while
    # PyTorch's choice (slope 0 at both bounds) gives AD = 0.
    m = nn.Sequential(nn.Linear(1, 1), nn.Hardtanh())
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.fill_(0.0)
    m[0].weight.requires_grad_(False)
    return m


X = torch.tensor([[-1.0], [1.0]])
Y = torch.tensor([1.0, 1.0])


def test_frozen_weight_audit_is_inc() -> None:
    r = Auditor(_frozen_hardtanh(), X, "sum").audit(X, Y)
    e = r["exact"]
    assert r["W"] == 1 and r["frozen"] == ["0.weight"]
    assert (e["kinked"], e["differentiable"], e["inc"]) == (2, True, True)
    assert (e["ad"], e["grad"]) == (["0"], ["1"])
    assert r["execution"]["bifurcation"] is True


def test_frozen_weight_check_and_audit_cli(tmp_path: Path) -> None:
    torch.save(_frozen_hardtanh(), tmp_path / "m.pt")
    torch.save({"x": X, "y": Y}, tmp_path / "b.pt")
    res = check_result(str(tmp_path / "m.pt"), None, "pytorch", str(tmp_path / "b.pt"), "sum")
    assert res["W"] == 1 and list(res["params"]) == ["0.bias[0]"] and res["frozen"] == ["0.weight"]
    assert (res["differentiable"], res["inc"], res["ad"], res["grad"]) == (True, True, ["0"], ["1"])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["audit", str(tmp_path / "m.pt"), "--batch", str(tmp_path / "b.pt"),
                   "--loss", "sum", "--json", "--inc-out", str(tmp_path / "m.inc.json")])
    assert rc == 0
    out = json.loads(buf.getvalue())
    assert out["frozen"] == ["0.weight"] and out["exact"]["inc"] is True
    spec = json.loads((tmp_path / "m.inc.json").read_text())
    again = check_result(str(tmp_path / "m.inc.json"), None, "pytorch")
    assert spec["version"] == 2 and (again["ad"], again["grad"]) == (["0"], ["1"])


def test_frozen_weight_monitor_records_inc() -> None:
    m = _frozen_hardtanh()
    mon = Monitor(m, "sum", progress=False)
    rec = mon.step(X, Y)
    assert rec is not None and "error" not in rec
    assert (rec["inc"], rec["differentiable"]) == (True, True)


def _bn_net() -> nn.Module:
    # y = relu(bn(x)) summed; bn with running mean m, var 1 - eps: bn(x) = x - m exactly
    m = nn.Sequential(nn.Linear(1, 1), nn.BatchNorm1d(1), nn.ReLU(), nn.Linear(1, 1))
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.fill_(0.0)
        m[1].running_mean.fill_(5.0)
        m[1].running_var.fill_(1.0 - m[1].eps)
        m[1].weight.fill_(1.0)
        m[1].bias.fill_(0.0)
        m[3].weight.fill_(1.0)
        m[3].bias.fill_(0.0)
    return m.eval()


def test_monitor_reads_running_statistics_at_every_step() -> None:
    # x = 1: bn input 1, running mean 5 -> relu(-4): no kink.  After the running mean
    # becomes 1 the relu input is exactly 0 and has its own bias (bn's beta): a kink with
    # adjoint 1 on a neuron with its own bias, so the loss is not differentiable.
    m = _bn_net()
    x, y = torch.tensor([[1.0]]), torch.tensor([1.0])
    mon = Monitor(m, "sum", progress=False)
    first = mon.step(x, y)
    assert first is not None and (first["kinked"], first["differentiable"]) == (0, True)
    with torch.no_grad():
        m[1].running_mean.fill_(1.0)
    second = mon.step(x, y)
    assert second is not None and "error" not in second
    assert (second["kinked"], second["ns"], second["differentiable"]) == (1, True, False)
    assert mon.imports == 2


def test_monitor_checks_mode_at_every_step() -> None:
    """Eval mode: bn(1) = 1 - 5 < 0, no kink.  Training mode: BatchNorm normalises with the
    batch's statistics, a different function: two equal examples give (1 - 1) *
    rsqrt(0 + eps) = 0 exactly, so relu sits on its kink in both copies (one crease with
    the class bias beta: jumps 1 + 1, not differentiable).  Back in eval mode: no kink.
    The running statistics are left as they were."""
    m = _bn_net()
    x, y = torch.tensor([[1.0], [1.0]]), torch.tensor([1.0, 1.0])
    mon = Monitor(m, "sum", progress=False)
    rec = mon.step(x, y)
    assert rec is not None and "error" not in rec and rec["kinked"] == 0
    m.train()
    stats = [b.clone() for b in m.buffers()]
    rec = mon.step(x, y)
    assert rec is not None and "error" not in rec
    assert (rec["kinked"], rec["differentiable"]) == (2, False)
    assert all(torch.equal(a, b) for a, b in zip(stats, m.buffers()))
    m.eval()
    rec = mon.step(x, y)
    assert rec is not None and "error" not in rec and rec["kinked"] == 0
    s = mon.stats()
    assert (s["audited"], s["error_steps"]) == (3, 0)


def test_monitor_sees_replaced_layers_and_new_shapes() -> None:
    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        m[0].bias.fill_(0.0)
    x, y = torch.tensor([[1.0, 1.0]]), torch.tensor([1.0])
    mon = Monitor(m, "sum", progress=False)
    assert mon.step(x, y)["kinked"] == 0
    m[1] = nn.Identity()
    m.append(nn.ReLU())  # the output 0 + ... : make the new relu sit on its kink
    with torch.no_grad():
        m[2].weight.fill_(1.0)
        m[2].bias.fill_(-2.0)
    rec = mon.step(x, y)
    assert rec["kinked"] == 1 and mon.imports == 2
    rec = mon.step(torch.tensor([[1.0, 1.0, 1.0]]), y)  # wrong width: one line, no raise
    assert "error" in rec and "\n" not in rec["error"]
    sparse = torch.tensor([[1.0, 1.0]]).to_sparse()
    rec = mon.step(sparse, y)
    assert "sparse" in rec["error"]


def test_import_key_sees_a_replaced_hook() -> None:
    """A hook removed and another registered in its place leaves as many hooks, and is
    still a change of the imported function."""
    from adcorrect.torchfx.values import import_key

    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    h = m[0].register_forward_hook(lambda mod, i, o: o)
    k1 = import_key(m, (2,))
    assert import_key(m, (2,)) == k1
    h.remove()
    m[0].register_forward_hook(lambda mod, i, o: 2 * o)
    assert import_key(m, (2,)) != k1
