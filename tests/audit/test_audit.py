"""The audit (THEORY.md 8.3) on hand-built torch models with known answers, the filter's
enclosures against the exact engine, and the exact audit against the plain exact engine
and oracle on the whole batched network (random small models, low-precision grids)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from fractions import Fraction as Q
from pathlib import Path
from typing import Any

import pytest
import torch
from adcorrect.audit.plan import Plan
from adcorrect.audit.run import Auditor
from adcorrect.exact.dead import dead_kinks
from adcorrect.exact.engine import backward, directional, forward, is_zero, ns
from adcorrect.exact.oracle import decide, same_vector
from adcorrect.nets.batch import Batch, batched
from adcorrect.torch import from_module
from torch import nn

pytestmark = pytest.mark.usefixtures("float32_default")


class T5a(nn.Module):
    """THEORY.md T5(a): z1 = a x, y2 = v1 z1, y3 = v2 z1, f = relu(y2) - relu(y3); no biases."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(1, 1, bias=False)
        self.v = nn.Linear(1, 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.v(self.a(x)))
        return h[:, 0:1] - h[:, 1:2]


class Skip(nn.Module):
    """relu(l2(relu(l1 x)) + l3 x): two paths whose exact sum can cancel."""

    def __init__(self) -> None:
        super().__init__()
        self.l1 = nn.Linear(1, 1, bias=False)
        self.l2 = nn.Linear(1, 1, bias=False)
        self.l3 = nn.Linear(1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.l2(torch.relu(self.l1(x))) + self.l3(x))


def _set(layer: nn.Linear, w: list[list[float]], b: list[float] | None = None) -> None:
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(w))
        if b is not None:
            layer.bias.copy_(torch.tensor(b))


def test_theory_81_differentiable_although_per_copy_ns() -> None:
    # f = c relu(a x + b) + d, x1 = x2 = 1, targets 1, -1, MSE at (a, b, c, d) = (0, 0, 1, 0):
    # both copies on the kink with adjoints -1/2 * 2 = -1 and +1 (mean over 2), L = g^2 + 1
    # with g = c relu(a + b) + d: differentiable with gradient 0 (THEORY.md 8.1).
    m = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1))
    _set(m[0], [[0.0]], [0.0])
    _set(m[2], [[1.0]], [0.0])
    x, y = torch.tensor([[1.0], [1.0]]), torch.tensor([[1.0], [-1.0]])
    e = Auditor(m, x, "mse").audit(x, y)["exact"]
    assert (e["kinked"], e["ns"], e["differentiable"], e["inc"]) == (2, True, True, False)
    assert [c["zbar_approx"] for c in e["copies"]] == [-1.0, 1.0]
    assert e["groups"] == 1 and "oracle" in e["certificate"]


def test_t5a_inc_with_gradient_100() -> None:
    m = T5a()
    _set(m.a, [[0.0]])
    _set(m.v, [[1.0], [-1.0]])
    x, y = torch.tensor([[1.0]]), torch.tensor([1.0])
    res = Auditor(m, x, "sum").audit(x, y)
    e = res["exact"]
    assert (e["kinked"], e["ns"], e["differentiable"], e["inc"]) == (2, True, True, True)
    assert e["grad"] == ["1", "0", "0"] and e["ad"] == ["0", "0", "0"]
    assert res["single_bias_network"] is False
    # torch's gradient changes with relu'(0): both copies are float kinks
    assert res["execution"]["float_kinks"] == 2 and res["execution"]["bifurcation"]


def test_float_kink_where_exact_is_not() -> None:
    # y = w x with w = x = 2^-100: exactly 2^-200, 0 in float32 (underflow)
    m = nn.Sequential(nn.Linear(1, 1, bias=False), nn.ReLU())
    _set(m[0], [[2.0 ** -100]])
    x, y = torch.tensor([[2.0 ** -100]]), torch.tensor([1.0])
    res = Auditor(m, x, "sum").audit(x, y)
    assert res["exact"]["kinked"] == 0 and res["exact"]["differentiable"] is True
    assert res["execution"]["float_kinks"] == 1
    d = res["differ"]
    assert (d["exact_only"], d["float_only"]) == (0, 1)
    assert d["rows"][0]["float_y"] == "0.0" and d["rows"][0]["float_kink"]


def test_exact_kink_where_float_is_not() -> None:
    # y2 = 3 relu(3 x) - 9 x = 0 exactly, but float32 rounds 3 x and 9 x differently
    x0 = 1.6369616985321045  # a float32
    m = Skip()
    _set(m.l1, [[3.0]])
    _set(m.l2, [[3.0]])
    _set(m.l3, [[-9.0]])
    x, y = torch.tensor([[x0]]), torch.tensor([1.0])
    with torch.no_grad():
        assert float(m.l2(torch.relu(m.l1(x))) + m.l3(x)) != 0.0
    res = Auditor(m, x, "sum").audit(x, y)
    e = res["exact"]
    assert e["kinked"] == 1 and e["copies"][0]["kink"] == "0"
    # the kinked neuron's exclusive weights give a crease that does not cancel
    assert (e["ns"], e["differentiable"]) == (True, False)
    assert res["execution"]["float_kinks"] == 0
    assert (res["differ"]["exact_only"], res["differ"]["float_only"]) == (1, 0)


# -- the filter's enclosures -----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_filter_encloses_exact_values(seed: int) -> None:
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Linear(5, 4), nn.LeakyReLU(0.1), nn.Linear(4, 4), nn.Hardswish(),
                      nn.Linear(4, 3), nn.Hardsigmoid(), nn.Linear(3, 2))
    x = torch.randn(6, 5) * 4
    net = from_module(m, x[:1])
    plan = Plan(net)
    w = torch.cat([p.detach().double().flatten() for p in m.parameters()])
    fw = plan.forward(w, x.double())
    for i in range(6):
        ef = forward(replace(net, input=tuple(Q(v) for v in x[i].double().tolist())),
                     net.values)
        for k in range(len(net.neurons)):
            assert abs(Q(float(fw.y[k, i])) - ef.y[k]) <= Q(float(fw.ry[k, i]))
            assert abs(Q(float(fw.z[plan.n_in + k, i])) - ef.z[k]) <= \
                Q(float(fw.rz[plan.n_in + k, i]))


def test_filter_is_exact_on_low_precision() -> None:
    torch.manual_seed(5)
    m = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3))
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(p.to(torch.float8_e4m3fn).float())
    x = torch.randint(0, 17, (5, 8)).float() / 16
    plan = Plan(from_module(m, x[:1]))
    w = torch.cat([p.detach().double().flatten() for p in m.parameters()])
    fw = plan.forward(w, x.double())
    assert bool((fw.ry == 0).all()) and not bool(fw.uncertain.any())


# -- the exact audit against the plain engine and oracle on the whole batched network --------


def _random_case(rng: random.Random) -> tuple[nn.Module, torch.Tensor, torch.Tensor, str]:
    grid = [-1.0, -0.5, 0.0, 0.5, 1.0]
    acts = [nn.ReLU(), nn.LeakyReLU(0.25), nn.Hardtanh(), nn.ReLU6()]
    n_in = rng.choice([1, 2])
    widths = [rng.choice([1, 2, 3]) for _ in range(rng.choice([1, 2]))]
    loss = rng.choice(["sum", "mse", "ce"])
    n_out = rng.choice([2, 3]) if loss == "ce" else 1
    layers: list[nn.Module] = []
    prev = n_in
    for w in widths:
        layers += [nn.Linear(prev, w, bias=rng.random() < 0.8), rng.choice(acts)]
        prev = w
    layers.append(nn.Linear(prev, n_out))
    m = nn.Sequential(*layers)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.tensor([rng.choice(grid) for _ in range(p.numel())]).reshape(p.shape))
    B = rng.choice([2, 3])
    rows = [[rng.choice([-1.0, 0.0, 1.0]) for _ in range(n_in)] for _ in range(B)]
    if rng.random() < 0.5:
        rows[-1] = list(rows[0])  # a repeated input: groups of copies
    x = torch.tensor(rows)
    if loss == "ce":
        y = torch.tensor([rng.randrange(n_out) for _ in range(B)])
    elif loss == "mse":
        y = torch.tensor([[rng.choice([-1.0, 1.0])] for _ in range(B)])
    else:
        y = torch.tensor([rng.choice([-1.0, 1.0, 2.0]) for _ in range(B)])
    return m, x, y, loss


def _reference(m: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: str) -> dict[str, Any]:
    net = from_module(m, x[:1])
    yy = y.reshape(len(y), -1)
    b = Batch(tuple(tuple(Q(v) for v in r) for r in x.double().tolist()),
              tuple(tuple(Q(v) for v in r) for r in yy.double().tolist()))
    full = batched(net, b, loss)
    w = net.values
    fw = forward(full, w)
    bw = backward(full, w, fw)
    v = decide(full, w, mode="independent", budget=None)
    kinks = [n.index for n in full.neurons if n.activation.is_kink(fw.y[n.index])]
    dead = dead_kinks(full, w, fw.y, fw.z, kinks)  # on exact values (the audit: floats)
    inc = bool(v.differentiable) and not same_vector(bw.grad, v.grad or ())
    live_ns = any(bw.zbar[k] != 0 for k in kinks if k not in dead)
    return {"kinked": len(kinks) - len(dead), "dead": len(dead), "ns": live_ns,
            "ns_all": ns(full, fw, bw), "differentiable": v.differentiable,
            "inc": inc, "full": full, "w": w}


def test_exact_audit_agrees_with_engine_and_oracle() -> None:
    rng = random.Random(2024)
    seen = {"ndf": 0, "diff_ns": 0, "group": 0, "one_sided": 0}
    for _ in range(120):
        m, x, y, loss = _random_case(rng)
        ref = _reference(m, x, y, loss)
        aud = Auditor(m, x, loss)
        aud.tensor_first = True  # also for the MLPs (which go to the IR's filter first)
        tensor = aud.audit(x, y, execution=False)["exact"]  # the tensor filter first
        aud.tfilter = None
        e = aud.audit(x, y, execution=False)["exact"]  # the IR path alone
        for got in (e, tensor):
            assert got["undecided"] is None
            for key in ("kinked", "dead", "ns", "differentiable", "inc"):
                assert got[key] == ref[key], (key, got, m, x, y, loss)
        seen["ndf"] += e["differentiable"] is False
        seen["diff_ns"] += bool(e["differentiable"] and e["ns"])
        if e["witness"] and e["witness"]["kind"].startswith("phi(v0"):
            seen["group"] += 1
            _check_witness(e["witness"], ref)
        if tensor["witness"] and tensor["witness"]["kind"].startswith("L'(w; d)"):
            seen["one_sided"] += 1
            _check_one_sided(m, tensor["witness"], ref, loss)
    assert seen["ndf"] >= 10 and seen["group"] >= 5 and seen["one_sided"] >= 10, seen


def _check_one_sided(m: nn.Module, wit: dict[str, Any], ref: dict[str, Any], loss: str
                     ) -> None:
    """The tensor filter's witness against the exact engine: the seeded direction's
    exact one-sided derivatives lie in the reported enclosures and do not cancel."""
    seed = int(wit["d"].rpartition("manual_seed(")[2].partition(")")[0])
    g = torch.Generator().manual_seed(seed)
    d = [Q(int(v)) for p in m.parameters() if p.requires_grad
         for v in (torch.randint(-2 ** 20, 2 ** 20, p.shape, generator=g) * 2 + 1)
         .reshape(-1).tolist()]
    full, w = ref["full"], ref["w"]
    assert len(d) == full.W
    plus = directional(full, w, d)
    minus = directional(full, w, [-v for v in d])
    assert not is_zero(plus + minus)
    if loss != "ce":  # rational: compare with the enclosures exactly
        for exact, shown in zip((plus, minus), wit["one_sided"]):
            v, r = (Q(float(t)) for t in shown.split(" +- "))
            assert abs(Q(exact) - v) <= r


def _check_witness(wit: dict[str, Any], ref: dict[str, Any]) -> None:
    full = ref["full"]
    names = list(full.param_names)

    def vec(d: dict[str, str]) -> list[Q]:
        v = [Q(0)] * full.W
        for k, s in d.items():
            v[names.index(k)] = Q(s)
        return v

    v0, d, s = vec(wit["v0"]), vec(wit["d"]), Q(wit["s"])
    plus = [a + s * b for a, b in zip(v0, d)]
    minus = [a - s * b for a, b in zip(v0, d)]
    w = ref["w"]
    total = directional(full, w, plus) + directional(full, w, minus) - 2 * directional(full, w, v0)
    assert total != 0


def test_monitor_style_reuse_follows_parameters() -> None:
    # one Auditor, parameters changed in place between audits (as an optimiser does)
    m = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1))
    _set(m[0], [[1.0]], [1.0])
    _set(m[2], [[1.0]], [0.0])
    x, y = torch.tensor([[-1.0]]), torch.tensor([1.0])
    aud = Auditor(m, x, "sum")
    assert aud.audit(x, y)["exact"]["kinked"] == 1
    _set(m[0], [[1.0]], [2.0])
    assert aud.audit(x, y)["exact"]["kinked"] == 0


def test_json_keys_of_cli(tmp_path: Path) -> None:
    from adcorrect.cli import main

    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    torch.save(m, tmp_path / "m.pt")
    torch.save({"x": torch.zeros(3, 4), "y": torch.tensor([0, 1, 1])}, tmp_path / "b.pt")
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["audit", str(tmp_path / "m.pt"), "--batch", str(tmp_path / "b.pt"),
                   "--loss", "ce", "--dtype", "bf16", "--json"])
    assert rc == 0
    res = json.loads(buf.getvalue())
    for k in ("kinked", "ns", "differentiable", "inc", "undecided"):
        assert k in res["exact"]
    assert set(res["execution"]) >= {"dtype", "float_kinks", "bifurcation"}
    assert res["execution"]["dtype"] == "bf16" and res["bias_network"] is False


def test_inc_point_saved_as_v2_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from adcorrect.cli import check_result, main

    m = T5a()
    _set(m.a, [[0.0]])
    _set(m.v, [[1.0], [-1.0]])
    torch.save(m, tmp_path / "t5a.pt")
    torch.save({"x": torch.tensor([[1.0]]), "y": torch.tensor([1.0])}, tmp_path / "b.pt")
    monkeypatch.chdir(tmp_path)
    rc = main(["audit", "t5a.pt", "--batch", "b.pt", "--loss", "sum", "--trust-model"])
    assert rc == 0
    spec = json.loads((tmp_path / "t5a.inc.json").read_text())
    assert spec["version"] == 2
    res = check_result(str(tmp_path / "t5a.inc.json"), None, "pytorch")
    assert (res["inc"], res["grad"], res["ad"]) == (True, ["1", "0", "0"], ["0", "0", "0"])
