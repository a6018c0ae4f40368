"""AD cross-checked against torch.autograd (float64, PyTorch's default choices).

Networks and parameters are small dyadics (k/8, |k| <= 32) on shallow nets, so every
float64 operation of the forward and backward pass is exact; the test checks this
(torch's pre-activations equal the engine's exact ones) and then compares every
gradient component exactly.  Biases are often chosen so that pre-activations land
exactly on kinks (0, +-1, +-3, 6, +-lambda, ...), where the derivative choice matters.
hardsigmoid/hardswish (which involve 1/6) are only used as the output activation,
with a relative tolerance.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction as Q
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from adcorrect.exact.engine import backward, forward
from adcorrect.nets.spec import parse_network
from hypothesis import HealthCheck, given, settings
from netgen import EXACT_FLOAT_ACTS, networks, ref_forward


@pytest.fixture(autouse=True, scope="module")
def _float64_by_default() -> Iterator[None]:
    """float64 tensors by default in this module's tests only (set at import, it leaked
    into every test of the session: collection imports every module first)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def torch_act(name: str) -> Any:
    if name == "relu":
        return F.relu
    if name.startswith("leaky_relu("):
        a = float(Q(name[len("leaky_relu("):-1]))
        return lambda x: F.leaky_relu(x, negative_slope=a)
    if name == "hardtanh":
        return F.hardtanh
    if name.startswith("hardtanh("):
        lo, hi = (float(Q(s)) for s in name[len("hardtanh("):-1].split(","))
        return lambda x: F.hardtanh(x, lo, hi)
    if name == "relu6":
        return F.relu6
    if name == "hardsigmoid":
        return F.hardsigmoid
    if name == "hardswish":
        return F.hardswish
    if name == "abs":
        return torch.abs
    if name.startswith("softshrink("):
        lam = float(Q(name[len("softshrink("):-1]))
        return lambda x: F.softshrink(x, lam)
    if name == "identity":
        return lambda x: x
    raise ValueError(name)


def torch_model(spec: dict[str, Any], params: list[Q]) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Gradient of f wrt each parameter by torch.autograd, and the pre-activations.

    Parameters are separate leaf tensors in spec order (per layer: weights row-major,
    then biases); the layer is computed as W @ z + b with nn.functional activations."""
    leaves = [torch.tensor(float(p), requires_grad=True) for p in params]
    it = iter(leaves)
    z = torch.tensor([float(Q(c)) for c in spec["input"]])
    ys: list[torch.Tensor] = []
    for layer in spec["layers"]:
        u, fan_in = layer["units"], z.shape[0]
        if "weights" in layer:
            W = torch.tensor([[float(Q(c)) for c in row] for row in layer["weights"]])
        else:
            W = torch.stack([torch.stack([next(it) for _ in range(fan_in)]) for _ in range(u)])
        y = W @ z
        if layer.get("bias", True):
            if "biases" in layer:
                y = y + torch.tensor([float(Q(c)) for c in layer["biases"]])
            else:
                y = y + torch.stack([next(it) for _ in range(u)])
        ys.append(y)
        z = torch_act(layer["activation"])(y)
    assert next(it, None) is None
    out = z[0]
    grads = torch.autograd.grad(out, leaves, allow_unused=True) if leaves else ()
    g = [torch.zeros(()) if gi is None else gi for gi in grads]
    return g, torch.cat([y.detach() for y in ys])


def engine_ad(spec: dict[str, Any], params: list[Q]) -> tuple[tuple[Q, ...], tuple[Q, ...]]:
    net = parse_network(spec)
    assert net.W == len(params)
    w = tuple(params)
    fw = forward(net, w)
    return backward(net, w, fw, "pytorch").grad, fw.y


def check_exact(spec: dict[str, Any], params: list[Q]) -> None:
    grad, y = engine_ad(spec, params)
    tg, ty = torch_model(spec, params)
    # the float64 forward pass is exact: same pre-activations, hence same kinks hit
    assert [Q(float(t)) for t in ty] == list(y)
    # ... and the engine's forward agrees with the independent reference
    assert [yz[0] for layer in ref_forward(spec, params) for yz in layer] == list(y)
    assert [Q(float(t)) for t in tg] == list(grad)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(acts=EXACT_FLOAT_ACTS))
def test_random_networks_exact(case: tuple[dict[str, Any], list[Q]]) -> None:
    check_exact(*case)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(acts=EXACT_FLOAT_ACTS, bias_network=True))
def test_random_bias_networks_exact(case: tuple[dict[str, Any], list[Q]]) -> None:
    check_exact(*case)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(acts=EXACT_FLOAT_ACTS, out_acts=("hardsigmoid", "hardswish")))
def test_random_networks_sixths_output(case: tuple[dict[str, Any], list[Q]]) -> None:
    spec, params = case
    grad, y = engine_ad(spec, params)
    tg, ty = torch_model(spec, params)
    # hidden pre-activations exact (exact activations upstream); output one too
    assert [Q(float(t)) for t in ty] == list(y)
    scale = max([abs(float(g)) for g in grad] + [1.0])
    for t, g in zip(tg, grad):
        # torch's float64 hardsigmoid backward uses float32(1/6): relative error ~ 3e-8
        assert abs(float(t) - float(g)) <= 1e-6 * scale, (float(t), g)


def layer(units: int, act: str, **kw: Any) -> dict[str, Any]:
    return {"units": units, "activation": act, **kw}


def test_every_kink_of_every_activation() -> None:
    """Deterministic: each hidden activation at each of its kinks, feeding an output that
    mixes the hidden units with non-zero weights (so every adjoint is non-zero)."""
    kinks = {
        "relu": [0], "leaky_relu(1/8)": [0], "leaky_relu(1/2)": [0], "hardtanh": [-1, 1],
        "hardtanh(-2,3)": [-2, 3], "relu6": [0, 6], "abs": [0],
        "softshrink(1/2)": ["-1/2", "1/2"], "softshrink(1)": [-1, 1],
        "hardsigmoid": [-3, 3], "hardswish": [-3, 3],
    }
    for act, ks in kinks.items():
        for c in ks:
            for out_act in ("identity", "relu", "abs"):
                # x = 1, hidden y_i = w_i + b_i with (w, b) = (1, c - 1) and (2, c - 2)
                spec = {"input": ["1"], "layers": [layer(2, act), layer(1, out_act)]}
                params = [Q(1), Q(2), Q(c) - 1, Q(c) - 2, Q(3, 2), Q(-1, 4), Q(1, 8)]
                grad, y = engine_ad(spec, params)
                assert y[:2] == (Q(c), Q(c))
                tg, _ = torch_model(spec, params)
                if act in ("hardsigmoid", "hardswish"):
                    for t, g in zip(tg, grad):
                        assert abs(float(t) - float(g)) <= 1e-6 * max(1.0, abs(float(g)))
                else:
                    assert [Q(float(t)) for t in tg] == list(grad), (act, c, out_act)
