"""Hypothesis properties of the engine and oracle (THEORY.md sections 4, 5, 7).

Random dense networks (1-3 hidden layers of 1-3 units, random exact activations,
constant or parameter weights/biases) with small dyadic parameters, biases often
snapped so that pre-activations hit kinks exactly.  Independent references:
tests/netgen.py's evaluator and its exact directional derivative ref_phi.
"""

from __future__ import annotations

from fractions import Fraction as Q
from typing import Any

from adcorrect.exact.engine import (
    backward,
    directional,
    forward,
    kink_neurons,
    ns,
    unit,
)
from adcorrect.exact.oracle import decide
from adcorrect.nets.spec import parse_network
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from netgen import ALL_ACTS, networks, ref_f, ref_phi

CHOICES: tuple[Any, ...] = ("pytorch", "left", "right", Q(0), Q(1), Q(1, 2))
_HC = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=_HC)

Case = tuple[dict[str, Any], list[Q]]
any_nets = networks(acts=ALL_ACTS, max_hidden=3, max_units=2)
bias_nets = networks(acts=ALL_ACTS, bias_network=True, max_hidden=3, max_units=2)


def directions(W: int) -> st.SearchStrategy[tuple[Q, ...]]:
    return st.lists(st.integers(-3, 3).map(Q), min_size=W, max_size=W).map(tuple)


def setup(case: Case) -> tuple[Any, tuple[Q, ...], Any, Any]:
    spec, params = case
    net = parse_network(spec)
    w = tuple(params)
    fw = forward(net, w)
    return net, w, fw, backward(net, w, fw)


@SETTINGS
@given(any_nets)
def test_forward_matches_reference(case: Case) -> None:
    _, w, fw, _ = setup(case)
    assert fw.out == ref_f(case[0], w)


@SETTINGS
@given(any_nets)
def test_not_ns_implies_differentiable_and_ad_correct(case: Case) -> None:
    """T5b, for every network (with or without biases)."""
    net, w, fw, bw = setup(case)
    assume(not ns(net, fw, bw))
    verdict = decide(net, w)
    assert verdict.differentiable
    for choice in CHOICES:
        assert backward(net, w, fw, choice).grad == verdict.grad


@settings(max_examples=80, deadline=None, suppress_health_check=_HC)
@given(bias_nets)
def test_bias_networks_t1_t3(case: Case) -> None:
    """T3: differentiable iff not NS; T1: AD = grad wherever differentiable (any choice)."""
    net, w, fw, bw = setup(case)
    assert net.is_bias_network
    verdict = decide(net, w)
    assert verdict.differentiable == (not ns(net, fw, bw))
    if verdict.differentiable:
        for choice in CHOICES:
            assert backward(net, w, fw, choice).grad == verdict.grad


@SETTINGS
@given(any_nets)
def test_choices_agree_off_ns_and_ns_choice_free(case: Case) -> None:
    net, w, fw, bw = setup(case)
    grads = set()
    for choice in CHOICES:
        b = backward(net, w, fw, choice)
        assert ns(net, fw, b) == ns(net, fw, bw)  # NS does not depend on the choice
        grads.add(b.grad)
    if not ns(net, fw, bw):
        assert len(grads) == 1


@SETTINGS
@given(any_nets)
def test_topmost_perturbable_kink_implies_not_differentiable(case: Case) -> None:
    """T5c: NS and the largest kink neuron with zbar != 0 perturbable => not differentiable."""
    net, w, fw, bw = setup(case)
    top = [k for k in kink_neurons(net, fw) if bw.zbar[k] != 0]
    assume(top)
    n = net.neurons[max(top)]
    inputs = [net.input[-s - 1] if s < 0 else fw.z[s] for s in n.sources]
    perturbable = (n.bias is not None and n.bias[0] == "param") or any(
        wt[0] == "param" and x != 0 for wt, x in zip(n.weights, inputs))
    assume(perturbable)
    assert not decide(net, w).differentiable


@SETTINGS
@given(any_nets, st.data())
def test_directional_matches_reference_and_is_homogeneous(case: Case, data: Any) -> None:
    net, w, _, _ = setup(case)
    v = data.draw(directions(net.W))
    phi = directional(net, w, v)
    assert phi == ref_phi(case[0], w, v)
    assert directional(net, w, tuple(2 * c for c in v)) == 2 * phi
    assert directional(net, w, tuple(c / 3 for c in v)) == phi / 3
    assert directional(net, w, (Q(0),) * net.W) == 0


@SETTINGS
@given(networks(acts=ALL_ACTS, max_hidden=3, max_units=3, snap=False), st.data())
def test_off_kinks_ad_is_gradient_and_phi_linear(case: Case, data: Any) -> None:
    net, w, fw, bw = setup(case)
    assume(not kink_neurons(net, fw))
    axis = tuple(directional(net, w, unit(net.W, i)) for i in range(net.W))
    assert bw.grad == axis
    for i in range(net.W):
        assert directional(net, w, unit(net.W, i, -1)) == -axis[i]
    v = data.draw(directions(net.W))
    assert directional(net, w, v) == sum(a * b for a, b in zip(v, axis))
    assert ref_phi(case[0], w, v) == sum(a * b for a, b in zip(v, bw.grad))


@SETTINGS
@given(any_nets, st.data())
def test_oracle_against_reference(case: Case, data: Any) -> None:
    """The oracle's gradient predicts phi in random directions; its witness breaks linearity."""
    spec = case[0]
    net, w, _, _ = setup(case)
    verdict = decide(net, w)
    axis = [ref_phi(spec, w, unit(net.W, i)) for i in range(net.W)]
    if verdict.differentiable:
        assert verdict.witness is None
        assert list(verdict.grad) == axis
        for _ in range(2):
            v = data.draw(directions(net.W))
            assert ref_phi(spec, w, v) == sum(a * b for a, b in zip(v, axis))
    else:
        assert verdict.grad is None
        v = verdict.witness
        assert ref_phi(spec, w, v) != sum(a * b for a, b in zip(v, axis))
