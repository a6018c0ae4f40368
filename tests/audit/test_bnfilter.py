"""The certified float64 filter through BatchNorm, residual sums, average and max pools:
enclosures against the exact engine, exact kinks found, no uncertain copy on the
CIFAR-style BatchNorm CNN of issue 16."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction as Q

import pytest
import torch
from adcorrect.audit.plan import Plan
from adcorrect.audit.run import Auditor
from adcorrect.exact.engine import forward
from adcorrect.torch import from_module
from torch import nn

pytestmark = pytest.mark.usefixtures("float32_default")


class ResPool(nn.Module):
    """conv-BN-relu-maxpool, conv-BN + residual-relu, avgpool, linear."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3)
        self.c2, self.b2 = nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3)
        self.fc = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = nn.functional.max_pool2d(torch.relu(self.b1(self.c1(x))), 2)
        h = torch.relu(self.b2(self.c2(h)) + h)
        return self.fc(nn.functional.adaptive_avg_pool2d(h, 1).flatten(1))


def _weights(m: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().double().flatten() for p in m.parameters()])


@pytest.mark.parametrize("seed", range(3))
def test_filter_encloses_exact_values_through_bn_pools_residual(seed: int) -> None:
    torch.manual_seed(seed)
    m = ResPool()
    with torch.no_grad():
        for bn in (m.b1, m.b2):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    m.eval()
    x = torch.rand(3, 2, 6, 6)
    net = from_module(m, x[:1])
    plan = Plan(net)
    fw = plan.forward(_weights(m), x.reshape(3, -1).double())
    assert not bool(fw.uncertain.any())
    for i in range(3):
        ef = forward(replace(net, input=tuple(Q(v) for v in x[i].double().flatten().tolist())),
                     net.values)
        for k, n in enumerate(net.neurons):
            y, ry = Q(float(fw.y[k, i])), Q(float(fw.ry[k, i]))
            assert abs(y - ef.y[k]) <= ry
            # tight: a few hundred roundings of values below 8, nowhere near a kink's scale
            assert ry <= Q(1, 2 ** 30)
            assert abs(Q(float(fw.z[plan.n_in + k, i])) - ef.z[k]) <= \
                Q(float(fw.rz[plan.n_in + k, i]))
            if bool(fw.kink[k, i]):
                assert ef.y[k] in n.activation.breakpoints and ry == 0


def _kink_model(mean: list[float]) -> nn.Module:
    """A 1x1 conv (weights 1, 1, bias 0) into BatchNorm2d(2) (the given running means,
    variances 1 and 3, weights 1 and 2, biases 0), relu, linear."""
    m = nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                      nn.Linear(8, 3))
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.zero_()
        m[1].running_mean.copy_(torch.tensor(mean))
        m[1].running_var.copy_(torch.tensor([1.0, 3.0]))
        m[1].weight.copy_(torch.tensor([1.0, 2.0]))
        m[1].bias.zero_()
        m[4].weight.copy_(torch.arange(24.0).reshape(3, 8) / 8 - 1)
        m[4].bias.zero_()
    return m.eval()


X_KINK = torch.tensor([[[[0.5, 0.75], [1.0, 0.25]]]])


def test_relu_input_exactly_zero_after_bn_is_kinked() -> None:
    # channel 0: 1 * (0.5 - 0.5) r0 = 0 at pixel (0, 0); channel 1: 2 (0.25 - 0.25) r1 = 0
    # at pixel (1, 1), with r1 = fl32(1/sqrt(3 + 1e-5)) irrational's rounding
    m = _kink_model([0.5, 0.25])
    aud = Auditor(m, X_KINK, "ce")
    fw = aud.plan.forward(aud.weights(), X_KINK.reshape(1, -1).double())
    assert not bool(fw.uncertain.any())
    res = aud.audit(X_KINK, torch.tensor([1]))
    e = res["exact"]
    assert e["kinked"] == 2 and e["uncertain"] == 0
    assert [(c["neuron"], c["kink"]) for c in e["copies"]] == [("1[0,0,0]", "0"),
                                                                ("1[1,1,1]", "0")]


def test_kink_behind_a_rounded_sum_is_left_to_exact_arithmetic() -> None:
    # the conv sums 1 + 2^-60 - 2^-60 = 1 exactly, but in float64 it rounds (radius > 0);
    # BatchNorm subtracts the mean 1: the relu input is exactly 0, inside the enclosure
    m = nn.Sequential(nn.Conv2d(3, 1, 1), nn.BatchNorm2d(1), nn.ReLU(), nn.Flatten(),
                      nn.Linear(1, 2))
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.zero_()
        m[1].running_mean.fill_(1.0)
        m[4].weight.copy_(torch.tensor([[1.0], [-1.0]]))
    m.eval()
    x = torch.tensor([1.0, 2.0 ** -60, -(2.0 ** -60)]).reshape(1, 3, 1, 1)
    aud = Auditor(m, x, "ce")
    fw = aud.plan.forward(aud.weights(), x.reshape(1, -1).double())
    assert [aud.net.neurons[k].label for k, _ in fw.uncertains()] == ["1[0,0,0]"]
    e = aud.audit(x, torch.tensor([0]))["exact"]
    assert e["uncertain"] == 1
    assert [(c["neuron"], c["kink"]) for c in e["copies"]] == [("1[0,0,0]", "0")]


def test_relu_input_next_to_zero_after_bn_is_not_kinked() -> None:
    m = _kink_model([0.5 + 2.0 ** -20, 0.25 - 2.0 ** -22])
    aud = Auditor(m, X_KINK, "ce")
    res = aud.audit(X_KINK, torch.tensor([1]))
    assert res["exact"]["kinked"] == 0 and res["exact"]["uncertain"] == 0


def test_maxpool_tie_of_exact_zeros_is_a_certain_kink() -> None:
    # relu inputs certainly negative give exact zeros; their 2x2 max-pool ties are kinks
    # of the max node m + relu(s - m), decided by the filter (not left uncertain)
    m = nn.Sequential(nn.Conv2d(1, 1, 1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(1, 2))
    with torch.no_grad():
        m[0].weight.fill_(0.1)
        m[0].bias.fill_(-1.0)
    m.eval()
    x = torch.tensor([[[[0.3, 0.7], [1 / 3, 0.9]]]])
    plan = Plan(from_module(m, x))
    fw = plan.forward(_weights(m), x.reshape(1, -1).double())
    assert not bool(fw.uncertain.any())
    ties = [plan.net.neurons[k].name for k, _ in fw.kinks()]
    assert ties == ["2[0,0,0]/tie2", "2[0,0,0]/tie3", "2[0,0,0]/tie4"]


def _cifar_cnn() -> nn.Module:
    """The CNN of issue 16 with BatchNorm away from kinks (as in
    bench/bn_audit_bench.py: every relu input is positive)."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32),
                      nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1),
                      nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                      nn.Linear(64, 10))
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(2.0, 3.0)
            elif isinstance(mod, nn.Conv2d):
                mod.weight.abs_()
    return m.eval()


def test_bn_cnn_has_no_uncertain_copy() -> None:
    m = _cifar_cnn()
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(4, 3, 32, 32, generator=gen)
    y = torch.randint(0, 10, (4,), generator=gen)
    aud = Auditor(m, x, "ce")
    for B in (2, 4):
        e = aud.audit(x[:B], y[:B], execution=False)["exact"]
        assert e["uncertain"] == 0 and e["kinked"] == 0 and e["differentiable"] is True
