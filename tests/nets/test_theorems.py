"""Which theorem covers a network (adcorrect.nets.theorems), for networks whose status is
known by hand, and the boundary examples as specs (tests/specs: identity skip, tied
convolutions), checked by `check` against hand-computed gradients."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from adcorrect.cli import check_result
from adcorrect.nets.specv2 import parse_network_v2
from adcorrect.nets.theorems import coverage
from adcorrect.torch import from_module
from torch import nn

SPECS = Path(__file__).resolve().parents[1] / "specs"


def _mlp(act: nn.Module) -> nn.Module:
    return nn.Sequential(nn.Linear(2, 3), act, nn.Linear(3, 1))


def _conv(act: nn.Module, pool: bool = False) -> nn.Module:
    layers = [nn.Conv1d(1, 2, 2), act] + ([nn.MaxPool1d(2)] if pool else []) + \
        [nn.Flatten(), nn.Linear(2 if pool else 4, 1)]
    return nn.Sequential(*layers)


def _frozen() -> nn.Module:
    m = nn.Sequential(nn.Linear(1, 1), nn.Hardtanh())
    m[0].weight.requires_grad_(False)
    return m


@pytest.mark.parametrize(("model", "shape", "B", "choice", "theorem"), [
    (lambda: _mlp(nn.ReLU()), (1, 2), 1, "pytorch", "T1-T4"),
    (lambda: _mlp(nn.ReLU()), (1, 2), 4, "pytorch", "T6"),
    (lambda: _mlp(nn.Hardtanh()), (1, 2), 4, "left", "T6"),  # theta 0 at both kinks
    (lambda: _mlp(nn.Hardtanh()), (1, 2), 4, "pytorch", "T6_dense_every_choice"),
    (lambda: _conv(nn.ReLU()), (1, 1, 3), 2, "pytorch", "T7"),
    (lambda: _conv(nn.Hardtanh()), (1, 1, 3), 2, "pytorch", "none"),
    (lambda: _conv(nn.ReLU(), pool=True), (1, 1, 3), 2, "pytorch", "none"),  # tie neurons
    (_frozen, (1, 1), 1, "pytorch", "T1-T4"),
    (_frozen, (1, 1), 2, "pytorch", "none"),  # T6_frozen_counterexample's shape
])
def test_coverage_of_small_models(model, shape, B, choice, theorem) -> None:  # type: ignore[no-untyped-def]
    c = coverage(from_module(model(), torch.zeros(shape)), B, choice)
    assert c.theorem == theorem, c


def test_max_pool_ties_lack_a_bias_and_conv_classes_are_tied() -> None:
    c = coverage(from_module(_conv(nn.ReLU(), pool=True), torch.zeros(1, 1, 3)), 1)
    assert c.lacking == ("2[0,0]/tie2", "2[1,0]/tie2") and not c.tied
    c = coverage(from_module(_conv(nn.ReLU()), torch.zeros(1, 1, 3)), 1)
    assert (c.tied, c.bias_network, c.classes) == (True, False, 2)


def test_a_recurrence_reads_its_own_class() -> None:
    spec = {"version": 2, "name": "rnn", "inputs": ["x"], "input": ["1"],
            "params": ["a", "b"],
            "nodes": [{"name": "h1", "activation": "relu", "terms": [["a", "x"]], "bias": "b"},
                      {"name": "h2", "activation": "relu", "terms": [["a", "h1"]], "bias": "b"}],
            "outputs": ["h2"]}
    c = coverage(parse_network_v2(spec), 1)
    assert (c.ordered, c.tied, c.theorem) == (False, False, "none")
    assert "T7_recurrent_fails" in c.why


def test_identity_skip_spec_is_inc_and_outside_every_theorem() -> None:
    r = check_result(str(SPECS / "identity-skip.json"), None, "pytorch",
                     str(SPECS / "identity-skip-batch.npz"), "sum")
    # by hand: L(w, b) = hardtanh(w + b - 1) + hardtanh(w + b + 1) = w + b near 0
    assert (r["differentiable"], r["inc"], r["grad"], r["ad"]) == \
        (True, True, ["1", "1"], ["0", "0"])
    assert r["theorem"]["applies"] == "none" and r["theorem"]["dense"] is False


def test_tied_convolution_specs() -> None:
    r = check_result(str(SPECS / "conv1d-relu.json"), None, "pytorch")
    # by hand: y0 = y1 = k0 + k1 + c near the point, so f = relu(y0) - relu(y1) = 0
    assert (r["kinks"], r["differentiable"], r["inc"], r["grad"], r["ad"]) == \
        ([0, 1], True, False, ["0", "0", "0"], ["0", "0", "0"])
    assert r["theorem"]["applies"] == "T7" and r["bias_network"] is False
    r = check_result(str(SPECS / "conv1d-hardtanh-frozen.json"), None, "pytorch")
    # by hand: f(c) = hardtanh(c - 1) + hardtanh(c + 1) = c near 0
    assert (r["differentiable"], r["inc"], r["grad"], r["ad"]) == (True, True, ["1"], ["0"])
    assert r["theorem"]["applies"] == "none" and r["theorem"]["tied_bias"] is True
    assert json.loads((SPECS / "conv1d-relu.json").read_text())["version"] == 2
