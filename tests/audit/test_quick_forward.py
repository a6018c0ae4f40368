"""The filter's quick pass (:meth:`Plan.quick_forward`: radii from norms alone, nothing
proved exact): its enclosures hold the exact values (the exact engine), a Forward means no
copy's enclosure meets a breakpoint, it declines exact kinks, and the audit answers the
same with it as without it; :meth:`Plan.decided_forward` (quanta only up to the last level
left open) finds the full pass's kinked and uncertain copies, with enclosures that hold."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from fractions import Fraction as Q
from typing import Any

import pytest
import torch
from adcorrect.audit.certified import NOQ
from adcorrect.audit.plan import Plan
from adcorrect.audit.run import Auditor
from adcorrect.exact.engine import forward
from adcorrect.torch import from_module
from torch import nn

pytestmark = pytest.mark.usefixtures("float32_default")


def _mlp(seed: int) -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 4), nn.LeakyReLU(0.1),
                      nn.Linear(4, 4), nn.Hardtanh(), nn.Linear(4, 3), nn.ReLU6(),
                      nn.Linear(3, 2))
    return m, torch.randn(7, 5) * 2


def _weights(m: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().double().flatten() for p in m.parameters()])


@pytest.mark.parametrize("seed", range(4))
def test_quick_enclosures_hold_the_exact_values_away_from_breakpoints(seed: int) -> None:
    m, x = _mlp(seed)
    net = from_module(m, x[:1])
    plan = Plan(net)
    fw = plan.quick_forward(_weights(m), x.double())
    assert fw is not None  # Gaussian inputs: no copy near a breakpoint
    for i in range(len(x)):
        ef = forward(replace(net, input=tuple(Q(v) for v in x[i].double().tolist())),
                     net.values)
        for n in net.neurons:
            k = n.index
            lo = Q(float(fw.y[k, i])) - Q(float(fw.ry[k, i]))
            hi = Q(float(fw.y[k, i])) + Q(float(fw.ry[k, i]))
            assert lo <= ef.y[k] <= hi
            assert not any(lo <= c <= hi for c in n.activation.breakpoints)
            assert abs(Q(float(fw.z[plan.n_in + k, i])) - ef.z[k]) <= \
                Q(float(fw.rz[plan.n_in + k, i]))


def test_quick_pass_declines_an_exact_kink() -> None:
    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[0.5, -0.25], [1.0, 1.0]]))
        m[0].bias.copy_(torch.tensor([0.0, 0.5]))
        m[2].weight.copy_(torch.tensor([[1.0, -1.0]]))
    x = torch.tensor([[0.5, 1.0], [1.0, 0.0]])  # example 0: 0.25 - 0.25 = 0 exactly
    plan = Plan(from_module(m, x[:1]))
    w = _weights(m)
    assert plan.quick_forward(w, x.double()) is None
    full = plan.forward(w, x.double())
    kinks = full.kinks()  # one copy, example 0, exactly at 0
    assert [i for _, i in kinks] == [0] and full.y_at(*kinks[0]) == 0.0
    assert full.uncertains() == []


def _without_timings(res: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in res.items() if k != "seconds"}


@pytest.mark.parametrize("seed", range(3))
def test_the_audit_answers_the_same_with_and_without_the_quick_pass(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    m, x = _mlp(seed)
    cases = [(x, torch.tensor([rng.randrange(2) for _ in range(len(x))]))]
    grid = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0])  # coarse: exact kinks and ties
    xg = grid[torch.randint(0, 5, (6, 5), generator=torch.Generator().manual_seed(seed))]
    cases.append((xg, torch.tensor([rng.randrange(2) for _ in range(6)])))
    with torch.no_grad():
        coarse = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 2))
        for p in coarse.parameters():
            p.copy_(grid[torch.randint(0, 5, p.shape)])
    found = []
    for model, (xb, yb) in [(m, cases[0]), (m, cases[1]), (coarse, cases[1])]:
        aud = Auditor(model, xb, "ce")
        with_quick = aud.audit(xb, yb)
        found.append(aud.plan.quick_forward(aud.weights(), xb.double()) is not None)
        with monkeypatch.context() as mp:
            mp.setattr(Plan, "decided_forward", Plan.forward)
            without = Auditor(model, xb, "ce").audit(xb, yb)
        assert _without_timings(with_quick) == _without_timings(without)
    assert found[0] and not found[2]  # both routes are exercised


def _coarse(seed: int, widths: tuple[int, ...]) -> tuple[nn.Module, torch.Tensor]:
    """An MLP with weights and inputs on a coarse dyadic grid: exact kinks at any level."""
    g = torch.Generator().manual_seed(seed)
    grid = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0])
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(widths):
        layers += [nn.Linear(a, b), nn.ReLU()]
    m = nn.Sequential(*layers[:-1])
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(grid[torch.randint(0, 5, p.shape, generator=g)])
    return m, grid[torch.randint(0, 5, (9, widths[0]), generator=g)]


@pytest.mark.parametrize("seed", range(12))
def test_decided_forward_finds_the_full_pass_copies(seed: int) -> None:
    m, x = _coarse(seed, (4, 5, 5, 3))
    net = from_module(m, x[:1])
    plan = Plan(net)
    w, xd = _weights(m), x.double()
    full, dec = plan.forward(w, xd), plan.decided_forward(w, xd)
    assert dec.kinks() == full.kinks() and dec.uncertains() == full.uncertains()
    for i in range(len(x)):
        ef = forward(replace(net, input=tuple(Q(v) for v in x[i].double().tolist())),
                     net.values)
        for n in net.neurons:
            k = n.index
            assert abs(Q(dec.y_at(k, i)) - ef.y[k]) <= Q(float(dec.ry[k, i]))


def test_decided_forward_leaves_levels_after_the_last_open_one_quick() -> None:
    # an exact kink in the first layer only (example 0: 0.25 - 0.25 = 0); the second
    # layer's pieces decided by norms: its block carries no quanta, the full pass's does
    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[0.5, -0.25], [1.0, 1.0]]))
        m[0].bias.copy_(torch.tensor([0.0, 0.5]))
        m[2].weight.copy_(torch.tensor([[1.0, 0.5], [-1.0, -0.5]]))
        m[2].bias.copy_(torch.tensor([0.125, -0.125]))
        m[4].weight.copy_(torch.tensor([[1.0, -1.0]]))
    x = torch.tensor([[0.5, 1.0], [1.0, 0.0]])
    plan = Plan(from_module(m, x[:1]))
    w = _weights(m)
    full, dec = plan.forward(w, x.double()), plan.decided_forward(w, x.double())
    assert [i for _, i in dec.kinks()] == [0] and dec.kinks() == full.kinks()
    assert dec.blocks[0].exact and full.blocks[1].exact
    assert not dec.blocks[1].exact and bool((dec.blocks[1].qz == -NOQ).all())


def test_a_level_left_open_goes_to_quanta_at_the_next_call(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the exact kink of the test above: the first call tries the first level quick and
    # evaluates it again with quanta; the next call (the same parameters, as at the next
    # step of a training run) goes to quanta at once, with the same copies and values;
    # parameters that move the kink away let the level be quick again
    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[0.5, -0.25], [1.0, 1.0]]))
        m[0].bias.copy_(torch.tensor([0.0, 0.5]))
        m[2].weight.copy_(torch.tensor([[1.0, -1.0]]))
    x = torch.tensor([[0.5, 1.0], [1.0, 0.0]]).double()
    plan = Plan(from_module(m, x[:1]))
    calls: list[tuple[int, bool]] = []
    level = Plan._level

    def spy(self: Plan, lv: Any, co: Any, xt: Any, qx: Any, blocks: Any, quick: bool) -> Any:
        calls.append((len(blocks), quick))
        return level(self, lv, co, xt, qx, blocks, quick)

    monkeypatch.setattr(Plan, "_level", spy)
    w = _weights(m)
    first = plan.decided_forward(w, x)
    assert calls == [(0, True), (0, False), (1, True)]
    calls.clear()
    again = plan.decided_forward(w, x)
    assert calls == [(0, False), (1, True)]
    assert again.kinks() == first.kinks() == plan.forward(w, x).kinks()
    assert torch.equal(again.blocks[0].Y, first.blocks[0].Y)
    w2 = w.clone()
    w2[4] = 0.125  # the first neuron's bias: 0.125 in example 0, away from its kink
    calls.clear()
    plan.decided_forward(w2, x)  # with quanta (the hint), nothing open: the hint goes
    calls.clear()
    moved = plan.decided_forward(w2, x)
    assert calls == [(0, True), (1, True)] and moved.kinks() == []


def test_decided_forward_restarts_with_quanta_below_a_late_open_level() -> None:
    # the first two layers far from their kinks (quick), the third exactly at 0: its
    # sources carry no quanta, so every level up to it is evaluated again with quanta
    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1),
                      nn.ReLU(), nn.Linear(1, 1))
    with torch.no_grad():
        for layer in (m[0], m[2]):
            layer.weight.copy_(torch.eye(2))
            layer.bias.fill_(1.0)
        m[4].weight.copy_(torch.tensor([[1.0, -1.0]]))
        m[4].bias.zero_()
    x = torch.tensor([[1.0, 1.0]])  # (2, 2), (3, 3), then 3 - 3 = 0 exactly
    plan = Plan(from_module(m, x[:1]))
    w = _weights(m)
    assert plan.quick_forward(w, x.double()) is None
    dec = plan.decided_forward(w, x.double())
    assert dec.kinks() == plan.forward(w, x.double()).kinks() and len(dec.kinks()) == 1
    assert dec.y_at(*dec.kinks()[0]) == 0.0 and dec.uncertains() == []
    assert all(b.exact for b in dec.blocks[:3])


class _Res(nn.Module):
    """conv, relu, a residual conv, an average pool, a linear head: levels with several
    source blocks (the residual sum) and inputs read again further down."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(2, 2, 3, padding=1)
        self.fc = nn.Linear(2 * 2 * 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.c1(x))
        h = torch.relu(self.c2(h) + h)
        return self.fc(nn.functional.avg_pool2d(h, 2).flatten(1))


@pytest.mark.parametrize("seed", range(6))
def test_the_audit_answers_the_same_with_the_decided_pass_on_residual_cnns(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    g = torch.Generator().manual_seed(seed)
    grid = torch.tensor([-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0])
    m = _Res()
    with torch.no_grad():  # coarse: exact kinks in either relu layer
        for p in m.parameters():
            p.copy_(grid[torch.randint(0, 7, p.shape, generator=g)])
    x = grid[torch.randint(0, 7, (5, 1, 4, 4), generator=g)]
    y = torch.randint(0, 3, (5,), generator=g)
    aud = Auditor(m, x, "ce")
    aud.ir_first, aud.tensor_first = True, False
    got = aud.audit(x, y)
    with monkeypatch.context() as mp:
        mp.setattr(Plan, "decided_forward", Plan.forward)
        ref = Auditor(m, x, "ce")
        ref.ir_first, ref.tensor_first = True, False
        assert _without_timings(got) == _without_timings(ref.audit(x, y))
