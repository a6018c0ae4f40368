"""The execution audit's two gradients from one forward pass (:class:`_Switch`): torch's
own gradient exactly, and the other one-sided slope at float kinks, against hand-computed
gradients; an in-place op after a kinked activation (legal in torch: leaky relu's backward reads its
input) still runs."""

from __future__ import annotations

import torch
from adcorrect.audit.dtypes import parse_dtype
from adcorrect.audit.execution import ExecutionResult, execution_audit, trace
from torch import nn


class Net(nn.Module):
    def __init__(self, inplace_after: bool) -> None:
        super().__init__()
        self.l1 = nn.Linear(2, 2)
        self.l2 = nn.Linear(2, 1)
        self.inplace_after = inplace_after
        with torch.no_grad():
            self.l1.weight.copy_(torch.tensor([[1.0, -1.0], [1.0, 1.0]]))
            self.l1.bias.zero_()
            self.l2.weight.copy_(torch.tensor([[3.0, 5.0]]))
            self.l2.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = nn.functional.leaky_relu(self.l1(x), 0.0)  # relu, its backward reading x
        if self.inplace_after:
            h.add_(1.0)
        return self.l2(h)


def _audit(inplace_after: bool) -> ExecutionResult:
    m = Net(inplace_after)
    x = torch.tensor([[1.0, 1.0]])  # pre-activations (0, 2): one float kink
    y = torch.tensor([1.0])
    return execution_audit(trace(m), list(m.parameters()), x, y, "sum", parse_dtype("fp32"))


def test_both_gradients_by_hand() -> None:
    for inplace_after in (False, True):
        res = _audit(inplace_after)
        assert res.float_kinks == 1 and res.bifurcation
        # torch: slope 0 at 0, so dL/dpre = (0, 5); the other slope: (3, 5), which changes
        # W1's first row and b1's first entry: 3 entries
        assert res.changed == 3
        assert res.gradient is not None
        assert [g.tolist() for g in res.gradient if g is not None] == [
            [[0.0, 0.0], [5.0, 5.0]], [0.0, 5.0]]  # the last layer: the same either way


def test_gradient_is_torchs_own() -> None:
    torch.manual_seed(3)
    m = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 6), nn.LeakyReLU(0.25),
                      nn.Linear(6, 2))
    with torch.no_grad():  # dyadic weights, inputs k/4: exact zeros among pre-activations
        for p in m.parameters():
            p.copy_((p * 4).round() / 4)
    x = torch.randint(-2, 3, (16, 4)).float() / 4
    y = torch.randint(0, 2, (16,))
    params = list(m.parameters())
    res = execution_audit(trace(m), params, x, y, "ce", parse_dtype("fp32"))
    assert res.float_kinks > 0 and res.gradient is not None
    m.zero_grad()
    nn.functional.cross_entropy(m(x), y).backward()
    computed = [(g, p) for g, p in zip(res.gradient, params) if g is not None]
    assert len(computed) == 4  # the last layer's gradient is the same with either slope
    assert all(torch.equal(g, p.grad) for g, p in computed)


def test_only_parameters_upstream_of_a_kink_change() -> None:
    # a kink in the second layer only: the first layer's parameters are upstream of it
    # and change; the last layer's are computed by neither pass
    m = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1))
    with torch.no_grad():
        for layer, (w, b) in zip((m[0], m[2], m[4]), ((1.0, 1.0), (1.0, -2.0), (2.0, 0.0))):
            layer.weight.fill_(w)
            layer.bias.fill_(b)
    x, y = torch.tensor([[1.0]]), torch.tensor([1.0])  # 2, then 2 - 2 = 0
    res = execution_audit(trace(m), list(m.parameters()), x, y, "sum", parse_dtype("fp32"))
    assert res.float_kinks == 1
    # torch: slope 0 at the kink, every gradient below it 0; the other slope: dL/dy2 = 2,
    # dW2 = 2 * 2 = 4, db2 = 2, dW1 = 2 * 1 * 1 = 2, db1 = 2: four entries change
    assert res.changed == 4 and res.gradient is not None
    assert [None if g is None else g.item() for g in res.gradient] == \
        [0.0, 0.0, 0.0, 0.0, None, None]
