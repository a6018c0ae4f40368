"""Dead kinks (adcorrect.exact.dead): kinked copies whose input is locally constant are no
kink for differentiability and no choice point for AD.  Expected values by hand, and the
rule checked against the independent cone search (which never uses it)."""

from __future__ import annotations

import random
from fractions import Fraction as Q

import torch
from adcorrect.audit.run import Auditor
from adcorrect.exact.dead import dead_kinks, flat_around, flat_between
from adcorrect.exact.engine import backward, forward, kink_neurons
from adcorrect.exact.oracle import decide, same_vector
from adcorrect.nets import activations as acts
from adcorrect.nets.batch import Batch, batched
from adcorrect.nets.ir import Network
from adcorrect.torch import from_module
from torch import nn


def _pool_model() -> nn.Module:
    m = nn.Sequential(nn.Conv2d(1, 1, 1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(4, 1))
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.fill_(-1.0)
        m[4].weight.fill_(1.0)
        m[4].bias.fill_(0.0)
    return m


def test_flat_pieces() -> None:
    relu, ht = acts.relu(), acts.hardtanh()
    assert flat_around(relu, Q(-1)) and not flat_around(relu, Q(0))
    assert not flat_around(relu, Q(1))
    assert flat_around(ht, Q(2)) and flat_around(ht, Q(-2)) and not flat_around(ht, Q(1))
    assert flat_between(relu, Q(-3), Q(-1)) is True
    assert flat_between(relu, Q(-1), Q(1)) is None
    assert flat_between(relu, Q(1), Q(2)) is False
    hs = acts.hardswish()  # x (x + 3) / 6 has slope 0 at -3/2 but is not constant there
    assert not flat_around(hs, Q(-3, 2))


def test_all_negative_pool_windows_are_dead_ties() -> None:
    # input 4x4 of zeros except x[0,0] = 3: conv = x - 1, relu, 2x2 max pool, sum.
    # Windows 2, 3, 4 hold relu(-1) = 0 four times: 3 tie neurons each, all dead;
    # window 1 holds 2, 0, 0, 0: no tie.  f = 2 + 0 + 0 + 0.
    m = _pool_model()
    x = torch.zeros(1, 1, 4, 4)
    x[0, 0, 0, 0] = 3.0
    y = torch.tensor([1.0])
    r = Auditor(m, x, "sum").audit(x, y)
    e = r["exact"]
    assert (e["kinked"], e["dead"], e["ns"], e["differentiable"], e["inc"]) == \
        (0, 9, False, True, False)
    assert "locally constant" in e["certificate"]
    assert all(c["neuron"].split("/")[1].startswith("tie") for c in e["dead_copies"])
    # by hand: df/d conv.weight = 3, df/d conv.bias = 1, df/d lin.weight = (2, 0, 0, 0),
    # df/d lin.bias = 1; the oracle on the network agrees, for every choice
    net = from_module(m, x)
    b = Batch((tuple(Q(v) for v in x.reshape(-1).tolist()),), ((Q(1),),))
    full = batched(net, b, "sum")
    w = net.values
    v = decide(full, w, mode="independent", budget=None)
    assert v.differentiable and list(v.grad) == [3, 1, 2, 0, 0, 0, 1]
    fw = forward(full, w)
    assert len(dead_kinks(full, w, fw.y, fw.z, kink_neurons(full, fw))) == 9
    for choice in ("left", "right", "pytorch", Q(1, 3)):
        assert list(backward(full, w, fw, choice).grad) == [3, 1, 2, 0, 0, 0, 1]


def test_live_tie_is_left_to_the_oracle() -> None:
    # two equal positive values 2, 2 in window 1: a tie of live values (same tangent
    # 3 dw + db), not dead; max(a, a) = a, differentiable, decided by the oracle (IR path)
    m = _pool_model()
    x = torch.zeros(1, 1, 4, 4)
    x[0, 0, 0, 0] = x[0, 0, 0, 1] = 3.0
    aud = Auditor(m, x, "sum")
    aud.tfilter = None
    e = aud.audit(x, torch.tensor([1.0]))["exact"]
    assert (e["kinked"], e["dead"], e["ns"], e["differentiable"], e["inc"]) == \
        (1, 9, True, True, False)
    assert e["certificate"].startswith("oracle on the 1 kinked example")
    # the tensor filter sees that the tied entries are one function (equal input
    # windows): the same verdict without the oracle; NS's adjoint is not computed there
    aud = Auditor(m, x, "sum")
    e = aud.audit(x, torch.tensor([1.0]))["exact"]
    assert (e["kinked"], e["dead"], e["ns"], e["differentiable"], e["inc"]) == \
        (1, 9, None, True, False)
    assert e["filter"] == "tensor" and e["identical_ties"] == 1


def _random_net(rng: random.Random) -> tuple[nn.Module, torch.Tensor]:
    layers: list[nn.Module] = [nn.Conv1d(1, 2, 2, bias=rng.random() < 0.5),
                               rng.choice([nn.ReLU(), nn.Hardtanh(), nn.ReLU6()]),
                               nn.MaxPool1d(2), nn.Flatten(),
                               nn.Linear(2, 2, bias=rng.random() < 0.5),
                               rng.choice([nn.ReLU(), nn.LeakyReLU(0.5)]), nn.Linear(2, 1)]
    m = nn.Sequential(*layers)
    grid = [-2.0, -1.0, 0.0, 1.0, 2.0]
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.tensor([rng.choice(grid) for _ in range(p.numel())]).reshape(p.shape))
    x = torch.tensor([[[rng.choice([-2.0, -1.0, 0.0, 1.0, 2.0]) for _ in range(3)]]])
    return m, x


def test_dead_kinks_change_nothing_against_the_cone_search() -> None:
    # wherever every kink is dead, the independent cone search finds f differentiable and
    # AD equals the gradient for every choice; where some are dead, the slopes chosen at
    # the dead ones never change AD
    rng = random.Random(7)
    all_dead = some_dead = 0
    for _ in range(400):
        m, x = _random_net(rng)
        net = from_module(m, x)
        w = net.values
        fw = forward(net, w)
        kinks = kink_neurons(net, fw)
        dead = dead_kinks(net, w, fw.y, fw.z, kinks)
        if not dead:
            continue
        some_dead += 1
        if dead == set(kinks):
            all_dead += 1
            v = decide(net, w, mode="independent", budget=None)
            assert v.differentiable
            for choice in ("left", "right", Q(1, 3)):
                assert same_vector(backward(net, w, fw, choice).grad, v.grad)
        live = [k for k in kinks if k not in dead]
        base = backward(net, w, fw, "left").grad
        for k in dead:  # move only dead slopes: AD does not change
            def pick(n: int, y: Q, k: int = k, net: Network = net) -> Q:
                a = net.neurons[n].activation
                return a.slope_right(y) if n == k else a.slope_left(y)
            g = _ad_with(net, w, fw, pick)
            assert same_vector(g, base), (k, live)
    assert all_dead >= 20 and some_dead >= 30, (all_dead, some_dead)


def _ad_with(net, w, fw, pick):  # type: ignore[no-untyped-def]
    """Reverse mode with the slope at each neuron given by pick(n, y) (independent of the
    engine's backward pass)."""
    zbar = [Q(0)] * len(net.neurons)
    grad = [Q(0)] * net.W
    for o, c in zip(net.head.outputs, net.head.coefs):
        zbar[o] += c
    for n in reversed(net.neurons):
        yb = zbar[n.index] * pick(n.index, fw.y[n.index])
        if n.bias is not None and n.bias[0] == "param":
            grad[n.bias[1]] += yb
        for src, wt in zip(n.sources, n.weights):
            s = net.input[-src - 1] if src < 0 else fw.z[src]
            if wt[0] == "param":
                grad[wt[1]] += yb * s
                c = w[wt[1]]
            else:
                c = wt[1]
            if src >= 0:
                zbar[src] += c * yb
    return grad


def test_flat_near_in_floats() -> None:
    from adcorrect.exact.dead import flat_near

    relu = acts.relu()
    assert flat_near(relu, -1.0, 0.5) is True
    assert flat_near(relu, -1.0, 1.0) is None  # [-2, 0] meets the kink
    assert flat_near(relu, 2.0, 1.0) is False
    assert flat_near(relu, -1.0, float("inf")) is None
    third = acts.hardtanh(Q(-1, 3), Q(1, 3))  # breakpoints that are not floats: exact path
    assert flat_near(third, 1.0, 0.25) is True and flat_near(third, 0.0, 0.25) is False
    assert flat_near(third, 0.3, 0.1) is None


def test_ties_after_a_live_entry_below_them_are_dead() -> None:
    """A 2x2 window of softshrink(x) (0 on (-1/4, 1/4), live elsewhere) at x = -1, 1/8,
    1/8, 1/8: s1 = -3/4 is live, s2 = s3 = s4 = 0 locally constant.  The running maximum
    m2 = max(s1, s2) = s2 strictly, so it is locally constant although s1 is not, and
    the ties of s3 and s4 with it are dead (no kink): the IR's rule (exact values) and
    its audit say so, as the tensor filter does."""
    m = nn.Sequential(nn.Conv2d(1, 1, 1), nn.Softshrink(0.25), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(1, 1))
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.fill_(0.0)
        m[4].weight.fill_(1.0)
        m[4].bias.fill_(0.0)
    x = torch.tensor([[[[-1.0, 0.125], [0.125, 0.125]]]])
    net = from_module(m, x)
    fw = forward(net, net.values)
    kinks = kink_neurons(net, fw)
    assert len(kinks) == 2 and dead_kinks(net, net.values, fw.y, fw.z, kinks) == set(kinks)
    aud = Auditor(m, x, "sum")
    aud.ir_first, aud.tensor_first = True, False
    e = aud.audit(x, torch.tensor([1.0]))["exact"]
    assert (e["kinked"], e["dead"], e.get("filter")) == (0, 2, None)
    aud.tensor_first = True
    e = aud.audit(x, torch.tensor([1.0]))["exact"]
    assert (e["kinked"], e["dead"], e["filter"]) == (0, 2, "tensor")
