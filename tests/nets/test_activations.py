"""Activations (THEORY.md section 2): kinks, one-sided slopes, values, PyTorch's choices.

Expected values are hand-computed from the closed forms (comments) or measured
with torch.autograd in float64; nothing is read back from the module under test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction as Q

import pytest
import torch
import torch.nn.functional as F
from adcorrect.core.errors import InputError
from adcorrect.nets.activations import parse_activation, parse_choice

# name -> (kinks, [(left slope, right slope) at each kink], torch_choice)  [THEORY.md table]
TABLE: dict[str, tuple[tuple[Q, ...], list[tuple[Q, Q]], tuple[Q, ...]]] = {
    "relu": ((Q(0),), [(Q(0), Q(1))], (Q(0),)),
    "leaky_relu(1/8)": ((Q(0),), [(Q(1, 8), Q(1))], (Q(1, 8),)),
    "leaky_relu(3/4)": ((Q(0),), [(Q(3, 4), Q(1))], (Q(3, 4),)),
    "hardtanh": ((Q(-1), Q(1)), [(Q(0), Q(1)), (Q(1), Q(0))], (Q(0), Q(0))),
    "hardtanh(-2,3)": ((Q(-2), Q(3)), [(Q(0), Q(1)), (Q(1), Q(0))], (Q(0), Q(0))),
    "relu6": ((Q(0), Q(6)), [(Q(0), Q(1)), (Q(1), Q(0))], (Q(0), Q(0))),
    "hardsigmoid": ((Q(-3), Q(3)), [(Q(0), Q(1, 6)), (Q(1, 6), Q(0))], (Q(0), Q(0))),
    # hardswish = x (x+3)/6 on [-3,3]: derivative (2x+3)/6 = -1/2 at -3, 3/2 at 3
    "hardswish": ((Q(-3), Q(3)), [(Q(0), Q(-1, 2)), (Q(3, 2), Q(1))], (Q(0), Q(1))),
    "abs": ((Q(0),), [(Q(-1), Q(1))], (Q(0),)),
    "softshrink(1/2)": ((Q(-1, 2), Q(1, 2)), [(Q(1), Q(0)), (Q(0), Q(1))], (Q(0), Q(0))),
    "softshrink(2)": ((Q(-2), Q(2)), [(Q(1), Q(0)), (Q(0), Q(1))], (Q(0), Q(0))),
}

# torch functions, float64
TORCH: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu,
    "leaky_relu(1/8)": lambda x: F.leaky_relu(x, negative_slope=0.125),
    "leaky_relu(3/4)": lambda x: F.leaky_relu(x, negative_slope=0.75),
    "hardtanh": F.hardtanh,
    "hardtanh(-2,3)": lambda x: F.hardtanh(x, -2.0, 3.0),
    "relu6": F.relu6,
    "hardsigmoid": F.hardsigmoid,
    "hardswish": F.hardswish,
    "abs": torch.abs,
    "softshrink(1/2)": lambda x: F.softshrink(x, 0.5),
    "softshrink(2)": lambda x: F.softshrink(x, 2.0),
    "identity": lambda x: x,
}

# hand-computed values: name -> [(x, sigma(x))]
VALUES: dict[str, list[tuple[Q, Q]]] = {
    "relu": [(Q(-2), Q(0)), (Q(0), Q(0)), (Q(3, 2), Q(3, 2))],
    "leaky_relu(1/8)": [(Q(-2), Q(-1, 4)), (Q(0), Q(0)), (Q(3), Q(3))],
    "leaky_relu(3/4)": [(Q(-4), Q(-3)), (Q(5), Q(5))],
    "hardtanh": [(Q(-5), Q(-1)), (Q(-1), Q(-1)), (Q(1, 2), Q(1, 2)), (Q(7), Q(1))],
    "hardtanh(-2,3)": [(Q(-5), Q(-2)), (Q(1, 3), Q(1, 3)), (Q(7), Q(3))],
    "relu6": [(Q(-1), Q(0)), (Q(3), Q(3)), (Q(6), Q(6)), (Q(7), Q(6))],
    # hardsigmoid(x) = x/6 + 1/2 on [-3,3]
    "hardsigmoid": [(Q(-4), Q(0)), (Q(-3), Q(0)), (Q(0), Q(1, 2)), (Q(3, 2), Q(3, 4)),
                    (Q(3), Q(1)), (Q(4), Q(1))],
    # hardswish(x) = x (x+3)/6 on [-3,3]: 1 -> 4/6, -1 -> -2/6, 3 -> 3
    "hardswish": [(Q(-4), Q(0)), (Q(-3), Q(0)), (Q(-1), Q(-1, 3)), (Q(0), Q(0)),
                  (Q(1), Q(2, 3)), (Q(3), Q(3)), (Q(4), Q(4))],
    "abs": [(Q(-3), Q(3)), (Q(0), Q(0)), (Q(5, 2), Q(5, 2))],
    "softshrink(1/2)": [(Q(2), Q(3, 2)), (Q(-2), Q(-3, 2)), (Q(1, 4), Q(0)), (Q(1, 2), Q(0))],
    "softshrink(2)": [(Q(3), Q(1)), (Q(-3), Q(-1)), (Q(1), Q(0))],
    "identity": [(Q(-7, 3), Q(-7, 3)), (Q(0), Q(0))],
}

# non-kink points with the classical derivative there (hand-computed)
SLOPES: dict[str, list[tuple[Q, Q]]] = {
    "relu": [(Q(-1), Q(0)), (Q(2), Q(1))],
    "leaky_relu(1/8)": [(Q(-1), Q(1, 8)), (Q(2), Q(1))],
    "leaky_relu(3/4)": [(Q(-1), Q(3, 4)), (Q(2), Q(1))],
    "hardtanh": [(Q(-2), Q(0)), (Q(1, 2), Q(1)), (Q(2), Q(0))],
    "hardtanh(-2,3)": [(Q(-3), Q(0)), (Q(-1), Q(1)), (Q(4), Q(0))],
    "relu6": [(Q(-1), Q(0)), (Q(3), Q(1)), (Q(7), Q(0))],
    "hardsigmoid": [(Q(-4), Q(0)), (Q(0), Q(1, 6)), (Q(4), Q(0))],
    # hardswish' = (2x+3)/6 inside: x=1 -> 5/6, x=-1 -> 1/6, x=0 -> 1/2
    "hardswish": [(Q(-4), Q(0)), (Q(-1), Q(1, 6)), (Q(0), Q(1, 2)), (Q(1), Q(5, 6)),
                  (Q(4), Q(1))],
    "abs": [(Q(-1), Q(-1)), (Q(1, 2), Q(1))],
    "softshrink(1/2)": [(Q(-1), Q(1)), (Q(0), Q(0)), (Q(1), Q(1))],
    "softshrink(2)": [(Q(-3), Q(1)), (Q(1), Q(0)), (Q(3), Q(1))],
    "identity": [(Q(-1), Q(1)), (Q(0), Q(1)), (Q(5), Q(1))],
}


def torch_grad(name: str, x: Q) -> float:
    t = torch.tensor(float(x), dtype=torch.float64, requires_grad=True)
    TORCH[name](t).backward()
    assert t.grad is not None
    return float(t.grad)


def torch_value(name: str, x: Q) -> float:
    return float(TORCH[name](torch.tensor(float(x), dtype=torch.float64)))


@pytest.mark.parametrize("name", sorted(TABLE))
def test_kinks_and_one_sided_slopes(name: str) -> None:
    act = parse_activation(name)
    kinks, slopes, choice = TABLE[name]
    assert act.kinks == kinks
    for c, (left, right) in zip(kinks, slopes):
        assert act.slope_left(c) == left
        assert act.slope_right(c) == right
        assert act.is_kink(c)
        assert act.derivative(c, "left") == left
        assert act.derivative(c, "right") == right
        assert act.derivative(c, Q(7, 3)) == Q(7, 3)
    assert tuple(act.derivative(c, "pytorch") for c in kinks) == choice
    assert act.torch_choice == choice


@pytest.mark.parametrize("name", sorted(VALUES))
def test_values(name: str) -> None:
    act = parse_activation(name)
    for x, expected in VALUES[name]:
        v = act.value(x)
        assert v == expected and type(v) is Q, (name, x)
        assert act.value_float(float(x)) == pytest.approx(float(expected), rel=1e-15, abs=0)
        # and torch agrees (approximately where 1/6 is involved)
        assert torch_value(name, x) == pytest.approx(float(expected), rel=1e-15, abs=1e-300)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_torch_derivative_at_kinks_is_torch_choice(name: str) -> None:
    act = parse_activation(name)
    measured = tuple(torch_grad(name, c) for c in act.kinks)
    # these are all exact dyadics (0, 1, a): compare exactly
    assert tuple(Q(g) for g in measured) == act.torch_choice
    assert tuple(Q(g) for g in measured) == TABLE[name][2]


@pytest.mark.parametrize("name", sorted(SLOPES))
def test_torch_derivative_off_kinks_is_slope(name: str) -> None:
    act = parse_activation(name)
    for x, slope in SLOPES[name]:
        assert not act.is_kink(x)
        assert act.slope_left(x) == slope == act.slope_right(x)
        for choice in ("pytorch", "left", "right", Q(9)):
            assert act.derivative(x, choice) == slope
        g = torch_grad(name, x)
        if slope.denominator & (slope.denominator - 1) == 0:  # dyadic: exact in float64
            assert Q(g) == slope, (name, x, g)
        else:
            # torch 2.13's float64 hardsigmoid backward multiplies by float32(1/6)
            # (0.1666666716337204), so only single-precision agreement here
            assert g == pytest.approx(float(slope), rel=1e-7)


def test_breakpoint_without_kink() -> None:
    # leaky_relu(1) is the identity: breakpoint 0 has equal slopes, so no kink
    act = parse_activation("leaky_relu(1)")
    assert act.kinks == ()
    assert not act.is_kink(Q(0))
    assert act.derivative(Q(0), "pytorch") == 1
    assert act.derivative(Q(0), "left") == 1


def test_default_arguments() -> None:
    # torch defaults: leaky_relu negative_slope 0.01, softshrink lambd 0.5, hardtanh [-1, 1]
    assert parse_activation("leaky_relu").slope_left(Q(0)) == Q(1, 100)
    assert parse_activation("softshrink").kinks == (Q(-1, 2), Q(1, 2))
    assert parse_activation("hardtanh(-1,1)").kinks == (Q(-1), Q(1))
    assert parse_activation(" ReLU ").kinks == (Q(0),)
    assert parse_activation("linear").kinks == ()


SMOOTH = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softplus": F.softplus,
    "elu": F.elu,
    "elu(1)": F.elu,
    "gelu": F.gelu,
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_smooth_activations(name: str) -> None:
    act = parse_activation(name)
    assert act.kinks == ()
    assert not act.exact
    for x in (-3.0, -0.5, 0.0, 0.25, 2.0):
        expected = float(SMOOTH[name](torch.tensor(x, dtype=torch.float64)))
        assert act.value_float(x) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    with pytest.raises(InputError):
        act.value(Q(1))
    with pytest.raises(InputError):
        act.require_exact()


@pytest.mark.parametrize(
    "text",
    [
        "hardshrink", "step", "sign", "hardshrink(1/2)",  # discontinuous
        "swish_plus", "foo", "relu7",  # unknown
        "softshrink(-1)", "softshrink(0)", "hardtanh(1,-1)", "hardtanh(1,1)", "hardtanh(1)",
        "leaky_relu(x)", "leaky_relu(1,2)", "relu(1)", "relu6(2)", "elu(1,2)", "softplus(0)", "tanh(1)",
        "relu)", "", "leaky_relu(1/0)",
    ],
)
def test_rejected(text: str) -> None:
    with pytest.raises(InputError) as e:
        parse_activation(text)
    msg = str(e.value)
    assert msg and "\n" not in msg


@pytest.mark.parametrize("text", ["hardshrink", "step", "sign"])
def test_discontinuous_message(text: str) -> None:
    with pytest.raises(InputError, match="discontinuous"):
        parse_activation(text)


def test_unknown_message() -> None:
    with pytest.raises(InputError, match="unknown activation"):
        parse_activation("foo")


@pytest.mark.parametrize("bad", [None, 3, ["relu"]])
def test_non_string(bad: object) -> None:
    with pytest.raises(InputError):
        parse_activation(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("pytorch", "pytorch"), ("left", "left"), ("RIGHT", "right"), ("1/2", Q(1, 2)),
     ("0", Q(0)), (" -3 ", Q(-3)), (Q(2, 5), Q(2, 5))],
)
def test_parse_choice(text: str | Q, expected: str | Q) -> None:
    assert parse_choice(text) == expected


@pytest.mark.parametrize("text", ["middle", "nan", "inf", "", "1/0"])
def test_parse_choice_rejects(text: str) -> None:
    with pytest.raises(InputError) as e:
        parse_choice(text)
    assert "\n" not in str(e.value)


def test_pieces_are_continuous() -> None:
    # every exact activation of the table: left and right limits agree at breakpoints
    for name in TABLE:
        act = parse_activation(name)
        for c in act.breakpoints:
            eps = Q(1, 10**9)
            assert math.isclose(float(act.value(c - eps)), float(act.value(c)), abs_tol=1e-8)
            assert math.isclose(float(act.value(c + eps)), float(act.value(c)), abs_tol=1e-8)
