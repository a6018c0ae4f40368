"""The certified oracle on networks with smooth operations (THEORY.md section 8): known
truths derived by hand, each decided (never undecided)."""

from __future__ import annotations

from fractions import Fraction as Q

import pytest
import torch
from adcorrect.core.errors import InputError
from adcorrect.exact.certified import certified_oracle
from adcorrect.exact.engine import backward as exact_backward
from adcorrect.exact.engine import forward as exact_forward
from adcorrect.exact.oracle import decide
from adcorrect.nets import activations as A
from adcorrect.nets.batch import Batch, batched
from adcorrect.nets.ir import Network, Neuron, single_output
from adcorrect.nets.spec import parse_network
from adcorrect.numbers.cvalue import bounds, is_exact
from adcorrect.torchfx.importer import from_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netgen import ALL_ACTS, networks
from torch import nn

ONE = ("const", Q(1))
pytestmark = pytest.mark.usefixtures("float32_default")


def _tanh_relu() -> Network:
    """z0 = tanh(w0 x + b0), f = relu(w1 z0 + b1), x = 1."""
    ns = (Neuron(0, A.smooth("tanh"), (-1,), (("param", 0),), ("param", 1)),
          Neuron(1, A.relu(), (0,), (("param", 2),), ("param", 3)))
    return Network("t", (Q(1),), ns, ("w0", "b0", "w1", "b1"), single_output(1))


def test_no_kink_is_differentiable_with_certified_gradient() -> None:
    # tanh(1 - 1/2) = tanh(1/2) > 0: relu is off its kink; df/db1 = 1, df/dw1 = tanh(1/2)
    r = certified_oracle(_tanh_relu(), (Q(1), Q(-1, 2), Q(1), Q(0)))
    assert (r.differentiable, r.ad_correct, r.inc, r.kinked) == (True, True, False, ())
    assert r.ad[3] == 1 and is_exact(r.ad[3])
    lo, hi = bounds(r.ad[2])
    tanh_half = Q("0.4621171572600097585023184836436725487303")  # mpmath, 40 digits
    assert lo - Q(1, 10**39) <= tanh_half <= hi + Q(1, 10**39)
    assert hi - lo < Q(1, 10**15)


def test_exact_zero_through_tanh_is_a_kink() -> None:
    # w0 x + b0 = 0 exactly: tanh(0) = 0 exactly, relu's input b1 = 0: on the kink, with
    # its own bias b1 and adjoint 1: not differentiable (T3 over smooth pre-activations)
    r = certified_oracle(_tanh_relu(), (Q(1), Q(-1), Q(1), Q(0)))
    assert r.kinked == (1,) and r.differentiable is False and r.ns is True
    assert r.inc is False


def test_dead_kink_zero_adjoint_is_differentiable() -> None:
    # the relu on its kink feeds nothing: jump 0, f differentiable, AD correct
    ns = (Neuron(0, A.relu(), (-1,), (("param", 0),), ("param", 1)),
          Neuron(1, A.smooth("sigmoid"), (-1,), (("param", 2),), None))
    net = Network("d", (Q(1),), ns, ("w", "b", "v"), single_output(1))
    r = certified_oracle(net, (Q(1), Q(-1), Q(0)))
    assert r.kinked == (0,) and (r.differentiable, r.ad_correct) == (True, True)
    assert r.ad[2] == Q(1, 4)  # sigmoid'(0) = 1/4, exactly


def test_equal_creases_merge_and_cancel() -> None:
    # relu(b) - relu(b) (two neurons computing the same function of b): one crease whose
    # jumps 1 and -1 cancel: f = 0, differentiable, AD correct (value numbering)
    from adcorrect.nets.ir import Head

    ns = (Neuron(0, A.relu(), (-1,), (ONE,), ("param", 0)),
          Neuron(1, A.relu(), (-1,), (ONE,), ("param", 0)),
          Neuron(2, A.smooth("tanh"), (-1,), (ONE,), None))
    net = Network("p", (Q(0),), ns, ("b",), Head("linear", (0, 1), coefs=(Q(1), Q(-1))))
    r = certified_oracle(net, (Q(0),))
    assert (r.differentiable, r.ad_correct, r.kinked) == (True, True, (0, 1))


def test_parallel_creases_are_undecided_not_guessed() -> None:
    # s = b (an identity neuron), f = relu(s) - relu(2 s) / 2: parallel creases of two
    # different functions; f = 0 is differentiable, but the certified oracle does not
    # decide such cancellations: undecided, with the reason
    from adcorrect.nets.ir import Head

    ns = (Neuron(0, A.identity(), (), (), ("param", 0)),
          Neuron(1, A.relu(), (0,), (ONE,), None),
          Neuron(2, A.relu(), (0,), (("const", Q(2)),), None),
          Neuron(3, A.smooth("tanh"), (-1,), (ONE,), None))
    net = Network("p", (Q(0),), ns, ("b",), Head("linear", (1, 2), coefs=(Q(1), Q(-1, 2))))
    r = certified_oracle(net, (Q(0),))
    assert r.differentiable is None and "parallel" in r.how


def test_layernorm_symmetric_input_structural_zero() -> None:
    """LayerNorm of [a, 0, -a]: the middle normalised entry is exactly 0 (a structural zero:
    (0 - mean) * rsqrt(var + eps) with mean 0), so the relu after it is on its kink; its
    own bias (LayerNorm's beta[1]) makes it non-differentiable (adjoint: the next layer's
    weights, non-zero)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.LayerNorm(3), nn.ReLU(), nn.Linear(3, 1))
    with torch.no_grad():
        model[2].weight.copy_(torch.tensor([[0.5, -0.75, 0.25]]))
    net = from_module(model, torch.tensor([[0.5, 0.0, -0.5]]))
    r = certified_oracle(net, net.values)
    kinked = [net.neurons[k].label for k in r.kinked]
    assert kinked == ["0[1]"] and r.differentiable is False and r.ns is True
    assert r.zbar[r.kinked[0]] == Q(-3, 4)  # exactly the weight that reads it


def test_elu_kink_and_precision_limit() -> None:
    ns = (Neuron(0, A.smooth("elu", (Q(1, 2),)), (-1,), (("param", 0),), ("param", 1)),)
    net = Network("e", (Q(1),), ns, ("w", "b"), single_output(0))
    r = certified_oracle(net, (Q(2), Q(-2)))
    assert r.kinked == (0,) and r.differentiable is False
    # elu(1) = 1 (no kink at alpha = 1): differentiable at its former kink
    net1 = Network("e", (Q(1),), (ns[0].__class__(0, A.smooth("elu"), (-1,), (("param", 0),),
                                                  ("param", 1)),), ("w", "b"), single_output(0))
    r1 = certified_oracle(net1, (Q(2), Q(-2)))
    assert (r1.differentiable, r1.ad_correct, r1.kinked) == (True, True, ())


def test_batched_copies_tanh_ce() -> None:
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
    net = from_module(model, torch.zeros(1, 2))
    b = Batch(((Q(1), Q(-1)), (Q(1, 2), Q(3))), ((Q(0),), (Q(1),)), (2,))
    sub = batched(net, b, "ce")
    r = certified_oracle(sub, net.values)
    assert (r.differentiable, r.ad_correct) == (True, True)
    x = torch.tensor([[1.0, -1.0], [0.5, 3.0]], dtype=torch.float64)
    m64 = model.double()
    loss = nn.functional.cross_entropy(m64(x), torch.tensor([0, 1]))
    grads = torch.autograd.grad(loss, list(m64.parameters()))
    flat = torch.cat([g.reshape(-1) for g in grads]).tolist()
    for g, a in zip(flat, r.ad):
        lo, hi = bounds(a)
        assert lo - Q(1, 10**12) <= Q(g) <= hi + Q(1, 10**12)


def test_log_of_a_negative_value_is_one_line() -> None:
    ns = (Neuron(0, A.smooth("log"), (-1,), (("param", 0),), None),)
    net = Network("l", (Q(1),), ns, ("w",), single_output(0))
    with pytest.raises(InputError, match="log of a number that is not positive"):
        certified_oracle(net, (Q(-1),))


# -- against the exact oracle, where both apply (piecewise-linear networks) -------------

_CHOICES = ("pytorch", "left", "right", Q(1, 2))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(networks(acts=ALL_ACTS, max_hidden=3, max_units=3), st.sampled_from(_CHOICES))
def test_never_contradicts_the_exact_oracle(case: tuple[dict, list[Q]], choice: object) -> None:
    """On random relu-family networks (biases often snapped onto kinks), where every value
    is rational: the certified oracle's AD equals the exact engine's AD exactly, and when
    it decides, its verdict is the exact oracle's (independent cone search); where it says
    AD is correct at a differentiable point, the exact gradient is AD."""
    spec, w = case
    net = parse_network(spec)
    r = certified_oracle(net, w, choice)  # type: ignore[arg-type]
    fw = exact_forward(net, w)
    assert tuple(r.ad) == exact_backward(net, w, fw, choice).grad  # type: ignore[arg-type]
    if r.differentiable is None:
        return
    v = decide(net, w, choice, mode="independent")  # type: ignore[arg-type]
    assert v.differentiable is not None
    assert r.differentiable == v.differentiable, (spec, w, r.how)
    if r.differentiable and r.ad_correct:
        assert tuple(v.grad) == tuple(r.ad)


class _DeadConv(nn.Module):
    """relu(-x - 1) is dead at x = 1, so the convolution after it reads zeros: each of its
    three outputs is its bias b = 0 near w, the same function, on the next relu's kink."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(1, 4)
        self.conv = nn.Conv1d(1, 1, 2)
        self.o = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.a(x)).reshape(-1, 1, 4)
        return self.o(torch.tanh(torch.relu(self.conv(h)).reshape(-1, 3)))


def test_dead_inputs_make_one_crease_of_a_tied_bias() -> None:
    """The convolution reads relu outputs that are constant 0 near w (value numbered as
    that constant), so its three outputs are one function, its bias: one crease whose
    jumps add, decided not differentiable."""
    m = _DeadConv().double()
    with torch.no_grad():
        m.a.weight.fill_(-1.0)
        m.a.bias.fill_(-1.0)
        m.conv.weight.copy_(torch.tensor([[[0.5, -0.25]]]))
        m.conv.bias.zero_()
        m.o.weight.copy_(torch.tensor([[1.0, 2.0, -0.5], [0.5, -1.0, 1.0]]))
        m.o.bias.zero_()
    net = from_module(m, torch.ones(1, 1, dtype=torch.float64))
    sub = batched(net, Batch(((Q(1),),), ((Q(0),),), (1,)), "ce")
    r = certified_oracle(sub, net.values)
    assert len(r.kinked) == 3
    assert r.decided and r.differentiable is False, r.how
    assert "no other kink can cancel" in r.how


def test_the_time_limit_stops_the_certified_passes() -> None:
    """A deadline already past stops the certified forward pass at its first look (it
    had no look: a whole-batch CNN ran 6 min under a 30 s limit): undecided, naming the
    pass and the limit, never a verdict."""
    from adcorrect.core.deadline import Deadline

    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
    net = from_module(model, torch.zeros(1, 2))
    b = Batch(((Q(1), Q(-1)), (Q(1, 2), Q(3))), ((Q(0),), (Q(1),)), (2,))
    r = certified_oracle(batched(net, b, "ce"), net.values, deadline=Deadline(-1.0))
    assert r.differentiable is None and r.ad_correct is None
    assert "certified forward pass" in r.how and "time limit" in r.how
