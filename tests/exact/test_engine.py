"""Engine and oracle on small hand-computed networks (THEORY.md sections 3, 4, 7).

Every expected number is derived by hand in the comments (or by the independent
reference evaluator in tests/netgen.py, which shares no code with the engine).
"""

from __future__ import annotations

import inspect
import json
import random
import subprocess
import sys
from fractions import Fraction as Q
from pathlib import Path
from typing import Any

import pytest
from adcorrect.exact.engine import (
    backward,
    directional,
    forward,
    kink_neurons,
    ns,
    unit,
)
from adcorrect.exact.linalg import strict_point
from adcorrect.exact.oracle import decide
from adcorrect.nets.spec import load_network, parse_network, parse_params
from netgen import ref_f, ref_phi

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def qs(*xs: int | str | Q) -> tuple[Q, ...]:
    return tuple(Q(x) for x in xs)


def run(spec: dict[str, Any], w: tuple[Q, ...], choice: Any = "pytorch") -> tuple[Any, Any]:
    net = parse_network(spec)
    fw = forward(net, w)
    return fw, backward(net, w, fw, choice)


# ------------------------------------------------------------------ 1-1 relu
# f(w, b) = relu(2 w + b), input x = 2
ONE = {"input": ["2"], "layers": [{"units": 1, "activation": "relu"}]}


def test_one_neuron_structure() -> None:
    net = parse_network(ONE)
    assert net.W == 2
    assert net.param_names == ("w1[0][0]", "b1[0]")
    assert net.is_bias_network
    assert net.n_kinks == 1
    (n,) = net.neurons
    assert n.sources == (-1,) and n.weights == (("param", 0),) and n.bias == ("param", 1)


def test_one_neuron_off_kink() -> None:
    net = parse_network(ONE)
    # (w, b) = (1, 0): y = 2 > 0, f = 2, grad = (x, 1) = (2, 1)
    fw, bw = run(ONE, qs(1, 0))
    assert fw.y == qs(2) and fw.z == qs(2) and fw.out == 2
    assert kink_neurons(net, fw) == ()
    assert bw.zbar == qs(1) and bw.ybar == qs(1) and bw.grad == qs(2, 1)
    assert not ns(net, fw, bw)
    # (w, b) = (-1, 1/2): y = -3/2 < 0, f = 0, grad 0
    fw, bw = run(ONE, qs(-1, "1/2"))
    assert fw.y == qs("-3/2") and fw.out == 0 and bw.grad == qs(0, 0)
    v = decide(net, qs(-1, "1/2"))
    assert v.differentiable and v.grad == qs(0, 0) and v.witness is None


def test_one_neuron_on_kink() -> None:
    net = parse_network(ONE)
    w = qs(1, -2)  # y = 2 - 2 = 0: the kink
    fw = forward(net, w)
    assert fw.y == qs(0) and fw.out == 0
    assert kink_neurons(net, fw) == (0,)
    # zbar of the output neuron is 1; AD = relu'(0) * (x, 1) with the chosen relu'(0)
    for choice, expected in [("pytorch", qs(0, 0)), ("left", qs(0, 0)), ("right", qs(2, 1)),
                             (Q(1, 2), qs(1, "1/2"))]:
        bw = backward(net, w, fw, choice)
        assert bw.zbar == qs(1)
        assert bw.grad == expected, choice
        assert ns(net, fw, bw)
    # phi(v) = max(2 v_w + v_b, 0)
    assert directional(net, w, qs(1, 0)) == 2
    assert directional(net, w, qs(-1, 0)) == 0
    assert directional(net, w, qs(0, 1)) == 1
    assert directional(net, w, qs(0, -1)) == 0
    assert directional(net, w, qs(1, -3)) == 0  # 2 - 3 < 0
    assert directional(net, w, qs(-1, 3)) == 1  # -2 + 3 = 1
    verdict = decide(net, w)
    assert not verdict.differentiable and verdict.grad is None
    _assert_witness(ONE, w, verdict.witness)


def _assert_witness(spec: dict[str, Any], w: tuple[Q, ...], witness: Any) -> None:
    """The witness violates linearity of phi_w, computed by the independent reference."""
    assert witness is not None and len(witness) == len(w)
    axis = [ref_phi(spec, w, unit(len(w), i)) for i in range(len(w))]
    assert ref_phi(spec, w, witness) != sum(a * b for a, b in zip(witness, axis))


# ------------------------------------------------------------------ 1-2-1 relu
# examples/relu-1-2-1.json: x = 1, params (a0, a1, c0, c1, v0, v1, d):
# y_i = a_i + c_i, z_i = relu(y_i), f = v0 z0 + v1 z1 + d (identity output)


def test_121_structure() -> None:
    net = load_network(EXAMPLES / "relu-1-2-1.json")
    assert net.W == 7
    assert net.param_names == ("w1[0][0]", "w1[1][0]", "b1[0]", "b1[1]",
                               "w2[0][0]", "w2[0][1]", "b2[0]")
    assert net.is_bias_network
    assert net.n_kinks == 2  # two relus; identity has none
    assert [n.layer for n in net.neurons] == [0, 0, 1]
    assert net.neurons[2].sources == (0, 1)


def test_121_one_kink_with_nonzero_adjoint() -> None:
    net = load_network(EXAMPLES / "relu-1-2-1.json")
    w = qs(1, 2, -1, 1, 3, -1, 5)
    fw = forward(net, w)
    # y0 = 1 - 1 = 0 (kink), y1 = 2 + 1 = 3; f = 3*0 - 1*3 + 5 = 2
    assert fw.y == qs(0, 3, 2) and fw.z == qs(0, 3, 2)
    assert kink_neurons(net, fw) == (0,)
    bw = backward(net, w, fw)
    # zbar0 = v0 = 3, zbar1 = v1 = -1; ybar0 = 3 relu'(0) = 0, ybar1 = -1
    assert bw.zbar == qs(3, -1, 1) and bw.ybar == qs(0, -1, 1)
    # grad: a0 = ybar0 x = 0, a1 = -1, c0 = 0, c1 = -1, v0 = z0 = 0, v1 = z1 = 3, d = 1
    assert bw.grad == qs(0, -1, 0, -1, 0, 3, 1)
    assert ns(net, fw, bw)
    # with relu'(0) = 1: ybar0 = 3, so a0 and c0 get 3
    assert backward(net, w, fw, "right").grad == qs(3, -1, 3, -1, 0, 3, 1)
    verdict = decide(net, w)
    assert not verdict.differentiable
    _assert_witness(json.loads((EXAMPLES / "relu-1-2-1.json").read_text()), w, verdict.witness)


def test_121_kink_with_zero_adjoint() -> None:
    net = load_network(EXAMPLES / "relu-1-2-1.json")
    w = qs(1, 2, -1, 1, 0, -1, 5)  # as above but v0 = 0
    fw = forward(net, w)
    bw = backward(net, w, fw)
    assert kink_neurons(net, fw) == (0,)
    assert bw.zbar == qs(0, -1, 1)
    assert not ns(net, fw, bw)
    # f = v0 relu(a0 + c0) + ...: the first term is a product of two small quantities
    # near w, so f is differentiable with grad = (0, -1, 0, -1, relu(0)=0, 3, 1)
    expected = qs(0, -1, 0, -1, 0, 3, 1)
    assert bw.grad == expected
    for choice in ("left", "right", Q(1, 3)):
        assert backward(net, w, fw, choice).grad == expected
    verdict = decide(net, w)
    assert verdict.differentiable and verdict.grad == expected


def test_121_two_kinks() -> None:
    net = load_network(EXAMPLES / "relu-1-2-1.json")
    w = qs(1, 2, -1, -2, 3, -1, 5)  # y0 = 0, y1 = 0, f = 5
    fw = forward(net, w)
    assert fw.y == qs(0, 0, 5) and kink_neurons(net, fw) == (0, 1)
    bw = backward(net, w, fw)
    assert bw.zbar == qs(3, -1, 1)
    assert bw.grad == qs(0, 0, 0, 0, 0, 0, 1)
    # right: ybar = (3, -1): a0 = 3, a1 = -1, c0 = 3, c1 = -1; v0 = z0 = 0, v1 = 0, d = 1
    assert backward(net, w, fw, "right").grad == qs(3, -1, 3, -1, 0, 0, 1)
    assert backward(net, w, fw, "left").grad == qs(0, 0, 0, 0, 0, 0, 1)
    assert ns(net, fw, bw)
    assert not decide(net, w).differentiable


# ------------------------------------------------------------------ T5a
# x = 1, z0 = a (identity, no bias), y1 = v1 z0, y2 = v2 z0 (relu, no bias), f = z1 - z2.
# f = relu(v1 a) - relu(v2 a).  Near (0, 1, -1): f = v1 a for a > 0 and -v2 a for a < 0,
# both = a + (second order), so f is differentiable with grad (1, 0, 0); AD with
# relu'(0) = 0 gives ybar1 = ybar2 = 0, hence AD = (0, 0, 0).
T5A = EXAMPLES / "t5a.json"


def test_t5a_api() -> None:
    net = load_network(T5A)
    assert net.W == 3 and not net.is_bias_network
    w = parse_params(net, "0,1,-1")
    assert w == qs(0, 1, -1)
    fw = forward(net, w)
    assert fw.y == qs(0, 0, 0, 0) and fw.out == 0
    assert kink_neurons(net, fw) == (1, 2)
    bw = backward(net, w, fw)
    assert bw.zbar == qs(0, 1, -1, 1)  # zbar0 = ybar1 v1 + ybar2 v2 = 0
    assert bw.grad == qs(0, 0, 0)
    assert ns(net, fw, bw)
    verdict = decide(net, w)
    assert verdict.differentiable and verdict.grad == qs(1, 0, 0) and verdict.witness is None
    # inc: differentiable and AD wrong
    assert verdict.grad != bw.grad
    # relu'(0) = 1 (right) gives ybar = (1, -1), zbar0 = 1*1 + (-1)(-1) = 2: AD = (2, 0, 0)
    assert backward(net, w, fw, "right").grad == qs(2, 0, 0)
    # relu'(0) = 1/2: zbar0 = 1/2 + 1/2 = 1: AD correct by accident
    assert backward(net, w, fw, Q(1, 2)).grad == qs(1, 0, 0)
    # independent: phi along axes and a few other directions is linear with grad (1,0,0)
    spec = json.loads(T5A.read_text())
    for v in [qs(1, 0, 0), qs(-1, 0, 0), qs(0, 1, 0), qs(0, 0, -1), qs(3, -2, 5), qs(-1, 7, 1)]:
        assert ref_phi(spec, w, v) == v[0]
        assert directional(net, w, v) == v[0]


def test_t5a_cli_json() -> None:
    res = subprocess.run([sys.executable, "-m", "adcorrect", "check", str(T5A),
                          "--params", "0,1,-1", "--json"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["differentiable"] is True
    assert out["grad"] == ["1", "0", "0"]
    assert out["ad"] == ["0", "0", "0"]
    assert out["inc"] is True
    assert out["ns"] is True
    assert out["kinks"] == [1, 2]


def test_t5a_other_points() -> None:
    net = load_network(T5A)
    # (1, 1, -1): y = (1, 1, -1, 1), f = relu(1) - relu(-1) = 1; near: f = v1 a, grad (v1, a, 0)
    w = qs(1, 1, -1)
    fw = forward(net, w)
    assert fw.out == 1 and kink_neurons(net, fw) == ()
    assert backward(net, w, fw).grad == qs(1, 1, 0)
    assert decide(net, w).grad == qs(1, 1, 0)
    # (0, 1, 1): f = (v1 - v2) relu(a) near w, a product of two small quantities:
    # differentiable with grad 0, although NS holds (zbar1 = 1, zbar2 = -1 at kinks)
    w = qs(0, 1, 1)
    fw = forward(net, w)
    bw = backward(net, w, fw)
    assert ns(net, fw, bw)
    verdict = decide(net, w)
    assert verdict.differentiable and verdict.grad == qs(0, 0, 0) == bw.grad
    # (0, 1, 0): f = relu(v1 a) - relu(v2 a), the second term second order: like relu(a):
    # phi(e_a) = 1, phi(-e_a) = 0, not differentiable
    w = qs(0, 1, 0)
    assert directional(net, w, qs(1, 0, 0)) == 1
    assert directional(net, w, qs(-1, 0, 0)) == 0
    verdict = decide(net, w)
    assert not verdict.differentiable
    _assert_witness(json.loads(T5A.read_text()), w, verdict.witness)


# ------------------------------------------------------------------ directional derivatives


def bias_only(act: str) -> dict[str, Any]:
    """f = act(b): one neuron with constant weight 0 and a bias parameter."""
    return {"input": ["1"], "layers": [{"units": 1, "activation": act, "weights": [["0"]]}]}


@pytest.mark.parametrize(
    ("act", "b", "cases"),
    [
        # relu at 0: phi(v) = max(v, 0)
        ("relu", 0, [(1, 1), (-1, 0), (3, 3), (0, 0)]),
        # abs at 0: phi(v) = |v|
        ("abs", 0, [(1, 1), (-1, 1), (-5, 5)]),
        # hardtanh at 1: phi(v) = min(v, 0)
        ("hardtanh", 1, [(1, 0), (-1, -1), (-2, -2)]),
        # hardtanh at -1: phi(v) = max(v, 0)
        ("hardtanh", -1, [(1, 1), (-1, 0)]),
        # leaky_relu(1/8) at 0: v if v > 0 else v/8
        ("leaky_relu(1/8)", 0, [(1, 1), (-1, Q(-1, 8)), (-8, -1)]),
        # hardswish at -3: slopes (0, -1/2); at 3: (3/2, 1)
        ("hardswish", -3, [(1, Q(-1, 2)), (-1, 0)]),
        ("hardswish", 3, [(1, 1), (-1, Q(-3, 2)), (2, 2)]),
        # softshrink(1/2) at 1/2: slopes (0, 1)
        ("softshrink(1/2)", Q(1, 2), [(1, 1), (-1, 0)]),
        # hardsigmoid at -3: slopes (0, 1/6)
        ("hardsigmoid", -3, [(6, 1), (-6, 0)]),
        # relu6 at 6: slopes (1, 0)
        ("relu6", 6, [(1, 0), (-1, -1)]),
        # off kink: relu at 2, linear
        ("relu", 2, [(1, 1), (-1, -1)]),
    ],
)
def test_directional_one_parameter(act: str, b: int | Q, cases: list[tuple[Any, Any]]) -> None:
    spec = bias_only(act)
    net = parse_network(spec)
    assert net.W == 1
    for v, expected in cases:
        assert directional(net, qs(b), qs(v)) == expected, (act, b, v)
        assert ref_phi(spec, qs(b), qs(v)) == expected, (act, b, v)


# f(b1, b2) = relu(b2 - relu(b1)) at (0, 0): phi(v) = max(v2 - max(v1, 0), 0)
NESTED = {"input": ["1"], "layers": [
    {"units": 1, "activation": "relu", "weights": [["0"]]},
    {"units": 1, "activation": "relu", "weights": [["-1"]]},
]}


def test_directional_nested() -> None:
    net = parse_network(NESTED)
    w = qs(0, 0)
    cases = [((1, 0), 0), ((-1, 0), 0), ((0, 1), 1), ((0, -1), 0), ((1, 1), 0), ((-1, 1), 1),
             ((1, 2), 1), ((-3, 2), 2), ((2, 1), 0)]
    for v, expected in cases:
        assert directional(net, w, qs(*v)) == expected, v
        assert ref_phi(NESTED, w, qs(*v)) == expected, v
        # positive homogeneity
        assert directional(net, w, qs(*(3 * c for c in v))) == 3 * expected
    fw = forward(net, w)
    bw = backward(net, w, fw)
    assert kink_neurons(net, fw) == (0, 1)
    # zbar1 = 1; ybar1 = relu'(0) = 0, so zbar0 = 0; AD = 0
    assert bw.zbar == qs(0, 1) and bw.grad == qs(0, 0)
    # right: ybar1 = 1, zbar0 = -1, ybar0 = -1: AD = (-1, 1)
    assert backward(net, w, fw, "right").grad == qs(-1, 1)
    assert ns(net, fw, bw)
    verdict = decide(net, w)
    assert not verdict.differentiable
    _assert_witness(NESTED, w, verdict.witness)


def test_hardswish_smooth_point() -> None:
    # f = hardswish(w x + b), x = 1, at (1, 0): y = 1, f = 1 * 4 / 6 = 2/3,
    # hardswish'(1) = (2 + 3)/6 = 5/6, grad = (5/6 x, 5/6)
    spec = {"input": ["1"], "layers": [{"units": 1, "activation": "hardswish"}]}
    net = parse_network(spec)
    fw, bw = run(spec, qs(1, 0))
    assert fw.out == Q(2, 3) == ref_f(spec, qs(1, 0))
    assert bw.grad == qs("5/6", "5/6")
    assert decide(net, qs(1, 0)).grad == qs("5/6", "5/6")


def test_constant_weights_and_no_bias() -> None:
    # x = (1, 2); hidden: 2 units, constant weights [[1, -1], [2, 0]], parameter biases;
    # output: parameter weights, no bias, relu6.
    # At b = (1, -1), v = (1, 2): y_h = (1 - 2 + 1, 2 + 0 - 1) = (0, 1); z_h = relu(.) = (0, 1)
    # y_o = 1*0 + 2*1 = 2, f = relu6(2) = 2.  zbar_h = (v0, v1) = (1, 2) (relu6' = 1 at 2),
    # ybar_h = (relu'(0) * 1, 1 * 2) = (0, 2): grad b = (0, 2), grad v = z_h = (0, 1).
    spec = {"input": ["1", "2"], "layers": [
        {"units": 2, "activation": "relu", "weights": [["1", "-1"], ["2", "0"]]},
        {"units": 1, "activation": "relu6", "bias": False},
    ]}
    net = parse_network(spec)
    assert net.param_names == ("b1[0]", "b1[1]", "w2[0][0]", "w2[0][1]")
    assert not net.is_bias_network
    w = qs(1, -1, 1, 2)
    fw, bw = run(spec, w)
    assert fw.y == qs(0, 1, 2) and fw.out == 2 == ref_f(spec, w)
    assert bw.zbar == qs(1, 2, 1)
    assert bw.grad == qs(0, 2, 0, 1)
    assert ns(net, fw, bw)
    assert not decide(net, w).differentiable


# ------------------------------------------------------------------ oracle internals


def test_strict_point() -> None:
    # {v : v0 > 0, v1 - v0 > 0} is non-empty; adding -v1 > 0 makes it empty
    rows = [qs(1, 0), qs(-1, 1)]
    p = strict_point(rows, 2)
    assert p is not None and all(sum(a * b for a, b in zip(r, p)) > 0 for r in rows)
    assert strict_point(rows + [qs(0, -1)], 2) is None
    assert strict_point([qs(1, 1), qs(-1, -1)], 2) is None
    assert strict_point([qs(0, 0)], 2) is None
    assert strict_point([], 3) is not None


def _fm_recursive(rows: list[tuple[Q, ...]], i: int, dim: int) -> tuple[Q, ...] | None:
    """The recursive Fourier-Motzkin that ``strict_point`` replaced (its reference)."""
    rows = list(dict.fromkeys(rows))
    if any(all(c == 0 for c in r) for r in rows):
        return None
    if i == dim:
        return ()
    pos = [r for r in rows if r[i] > 0]
    neg = [r for r in rows if r[i] < 0]
    rest = [r for r in rows if r[i] == 0]
    sub = _fm_recursive(rest + [_unit(tuple(x / p[i] - y / q[i] for x, y in zip(p, q)))
                                for p in pos for q in neg], i + 1, dim)
    if sub is None:
        return None

    def bound(r: tuple[Q, ...]) -> Q:
        return -sum((r[j] * sub[j - i - 1] for j in range(i + 1, dim)), Q(0)) / r[i]

    lo = max((bound(r) for r in pos), default=None)
    hi = min((bound(r) for r in neg), default=None)
    vi = Q(0) if lo is None and hi is None else lo + 1 if hi is None else \
        hi - 1 if lo is None else (lo + hi) / 2
    return (vi, *sub)


@pytest.mark.parametrize("seed", range(40))
def test_strict_point_is_the_recursive_elimination(seed: int) -> None:
    rng = random.Random(seed)
    dim = rng.randint(1, 4)
    rows = [tuple(Q(rng.randint(-3, 3)) for _ in range(dim)) for _ in range(rng.randint(0, 5))]
    want = _fm_recursive([_unit(r) for r in rows], 0, dim)
    assert strict_point(rows, dim) == want


def _unit(r: tuple[Q, ...]) -> tuple[Q, ...]:
    lead = next((abs(c) for c in r if c != 0), None)
    return r if lead is None else tuple(c / lead for c in r)


def test_strict_point_takes_a_frame_for_all_coordinates() -> None:
    # v_k > v_(k-1) > ... > v_0 > 0 in 200 coordinates, with 60 frames of stack left: the
    # recursive version took a frame per coordinate (a real oracle call in 1,000+
    # coordinates ran out of Python's recursion limit)
    dim = 200
    rows = [tuple(Q(1) if j == 0 else Q(0) for j in range(dim))]
    rows += [tuple(Q(1) if j == k else Q(-1) if j == k - 1 else Q(0) for j in range(dim))
             for k in range(1, dim)]
    depth = len(inspect.stack())
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 60)
    try:
        p = strict_point(rows, dim)
    finally:
        sys.setrecursionlimit(limit)
    assert p is not None and p[0] > 0 and all(p[k] > p[k - 1] for k in range(1, dim))
    with pytest.raises(RecursionError):  # the reference needs a frame per coordinate
        sys.setrecursionlimit(depth + 60)
        try:
            _fm_recursive(rows, 0, dim)
        finally:
            sys.setrecursionlimit(limit)


def test_strict_point_stops_at_the_deadline() -> None:
    from adcorrect.core.deadline import Deadline, active
    from adcorrect.core.errors import Undecided

    rows = [tuple(Q(1) if j in (k, k + 1) else Q(0) for j in range(50)) for k in range(49)]
    with active(Deadline(0.0)), pytest.raises(Undecided, match="Fourier-Motzkin"):
        strict_point(rows, 50)


def test_no_parameters() -> None:
    # all constants: W = 0, f = relu(1*1 - 1) = 0 on the kink; NS holds (zbar = 1) but a
    # function on R^0 is trivially differentiable, with the empty gradient
    spec = {"input": ["1"], "layers": [
        {"units": 1, "activation": "relu", "weights": [["1"]], "biases": ["-1"]}]}
    net = parse_network(spec)
    assert net.W == 0 and parse_params(net, "") == ()
    fw, bw = run(spec, ())
    assert fw.out == 0 and bw.grad == () and ns(net, fw, bw)
    verdict = decide(net, ())
    assert verdict.differentiable and verdict.grad == ()
