"""Tests for adcorrect.exact.counter: exhaustive counts over M^W.

Expected values come from closed forms derived by hand (THEORY.md section 5),
hand computations, or brute force with the exact engine and the oracle in plain
loops written here; never from the counter itself.
"""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from adcorrect.cli import main
from adcorrect.core.errors import InputError
from adcorrect.exact import counter
from adcorrect.exact.counter import blocks, count, count_naive
from adcorrect.exact.engine import backward, forward
from adcorrect.exact.oracle import decide
from adcorrect.exact.vectorised import choose_dtype
from adcorrect.nets.spec import load_network, parse_network
from adcorrect.numbers.formats import parse_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# Kinks of the activations used below, written out by hand (THEORY.md section 2).
KINKS = {"relu": [0], "hardtanh": [-1, 1], "abs": [0], "relu6": [0, 6]}


def tight(act: str, N: int, output_params: bool = False) -> dict:
    """The T2 tightness family, built here independently of adcorrect.nets.families."""
    out = ({"units": 1, "activation": "identity"} if output_params else
           {"units": 1, "activation": "identity", "bias": False, "weights": [["1"] * N]})
    return {"name": f"t-{act}-{N}", "input": ["1"],
            "layers": [{"units": N, "activation": act, "weights": [["0"]] * N}, out]}


def mlp(sizes: list[int], act: str, inputs: list[str] | None = None,
        out_act: str = "identity") -> dict:
    layers = [{"units": u, "activation": act} for u in sizes[1:-1]]
    layers.append({"units": 1, "activation": out_act})
    return {"name": "mlp", "input": inputs or ["1"] * sizes[0], "layers": layers}


def m_in(act: str, fmt_name: str) -> int:
    fmt = parse_format(fmt_name)
    return sum(1 for c in KINKS[act] if Fraction(c) in set(fmt.values()))


# -- T2 closed forms ------------------------------------------------------------------------

FORMATS = ["fp(2,2)", "e2m1", "int(3,1)", "list(-1,0,1)", "int(4,1/2)", "fp(3,3)"]


@pytest.mark.parametrize("fmt_name", FORMATS)
@pytest.mark.parametrize("act", ["relu", "hardtanh", "abs", "relu6"])
@pytest.mark.parametrize("N", [1, 2, 3])
def test_tightness_family_closed_form(fmt_name: str, act: str, N: int) -> None:
    fmt = parse_format(fmt_name)
    net = parse_network(tight(act, N))
    M, m = fmt.size, m_in(act, fmt_name)
    res = count(net, fmt)
    expected = M**N - (M - m) ** N  # W = N
    assert res["W"] == N and res["total"] == M**N
    assert res["ns"] == res["kink"] == expected
    assert res["n"] == N * len(KINKS[act])
    assert res["bound"] == N * len(KINKS[act]) * M ** (N - 1)
    assert res["ns"] <= res["bound"]
    if N == 1 and m == len(KINKS[act]):
        assert res["ns"] == res["bound"]  # equality for N = 1 when all kinks are in M


@pytest.mark.parametrize("fmt_name", ["fp(2,2)", "e2m1", "int(3,1)", "list(-1,0,1)"])
@pytest.mark.parametrize("act", ["relu", "hardtanh"])
@pytest.mark.parametrize("N", [1, 2, 3])
def test_tightness_family_output_params(fmt_name: str, act: str, N: int) -> None:
    fmt = parse_format(fmt_name)
    net = parse_network(tight(act, N, output_params=True))
    M, m, W = fmt.size, m_in(act, fmt_name), 2 * N + 1
    assert Fraction(0) in set(fmt.values())
    res = count(net, fmt)
    assert res["W"] == W
    assert res["ns"] == M**W - (M * M - m * (M - 1)) ** N * M ** (W - 2 * N)
    assert res["kink"] == M**W - (M - m) ** N * M ** (W - N)
    assert res["ns"] <= res["bound"]
    if N == 1:
        assert res["kink"] == res["bound"]


def test_t2_ratio_lower_bound() -> None:
    """|ndf| >= bound (1 - (N-1) m / (2|M|)) for the tightness family."""
    for fmt_name in ("fp(2,2)", "e2m1", "fp(3,3)"):
        fmt = parse_format(fmt_name)
        for N in (1, 2, 3):
            res = count(parse_network(tight("hardtanh", N)), fmt)
            m = 2
            lower = Fraction(res["bound"]) * (1 - Fraction((N - 1) * m, 2 * fmt.size))
            assert lower <= res["ns"] <= res["bound"]


def pairs_hitting(values, x, kinks) -> int:
    return sum(1 for w in values for b in values if w * x + b in kinks)


@pytest.mark.parametrize("fmt_name", ["fp(2,2)", "e2m1", "int(3,1)", "list(-1,0,1/2)"])
def test_relu_121_closed_form(fmt_name: str) -> None:
    """1-2-1 relu bias net: hidden unit k is an NS witness iff w_k + b_k = 0 and v_k != 0."""
    fmt = parse_format(fmt_name)
    vals = fmt.values()
    M = len(vals)
    P = pairs_hitting(vals, 1, {0})
    nonzero = sum(1 for v in vals if v != 0)
    res = count(load_network(EXAMPLES / "relu-1-2-1.json"), fmt)
    assert res["ns"] == M**7 - (M**3 - P * nonzero) ** 2 * M
    assert res["kink"] == M**7 - (M * M - P) ** 2 * M**3
    assert res["ns"] <= res["bound"] == 2 * M**6


@pytest.mark.parametrize("path,fmt_name", [
    ("relu-1-2-1.json", "int(3,1)"), ("leaky-1-2-1.json", "e2m1"),
    ("relu-1-2-2-1.json", "list(-1,0,1)"), ("hardtanh-2-2-1.json", "list(-1,0,1/2,1)"),
    ("relu-1-1.json", "fp(3,3)"),
])
def test_count_within_bound_on_bias_networks(path: str, fmt_name: str) -> None:
    net = load_network(EXAMPLES / path)
    assert net.is_bias_network
    res = count(net, parse_format(fmt_name))
    assert res["ns"] <= res["kink"] <= res["total"]
    assert res["ns"] <= res["bound"] == net.n_kinks * res["M"] ** (res["W"] - 1)


def test_relu_1_1_by_hand() -> None:
    """f = relu(w + b) over {-1,0,1}: kink iff w + b = 0 (3 pairs), zbar = 1 always."""
    res = count(load_network(EXAMPLES / "relu-1-1.json"), parse_format("list(-1,0,1)"))
    assert (res["total"], res["kink"], res["ns"], res["bound"]) == (9, 3, 3, 3)


# -- NS versus the independent oracle ---------------------------------------------------------

ORACLE_CASES = [
    (mlp([1, 2, 1], "relu"), "list(-1,0,1)"),
    (mlp([1, 1, 1, 1], "relu"), "list(-1,0,1)"),  # two hidden layers
    (mlp([1, 1, 1, 1], "hardtanh"), "list(-1,0,1)"),  # two hidden layers, two kinks
    (mlp([2, 1, 1], "hardtanh", inputs=["1", "-1/2"]), "list(-1,0,1/2,1)"),
    (mlp([1, 1, 1], "abs", out_act="relu"), "list(-1,-1/2,0,1/2,1)"),
]


@pytest.mark.parametrize("spec,fmt_name", ORACLE_CASES)
@pytest.mark.parametrize("choice", ["pytorch", "right"])
def test_ns_agrees_with_oracle_on_bias_networks(spec: dict, fmt_name: str, choice: str) -> None:
    net = parse_network(spec)
    assert net.is_bias_network
    res = count(net, parse_format(fmt_name), choice, oracle=True)
    assert res["disagreements"] == 0  # T3 by enumeration
    assert res["ns"] == res["ndf_oracle"]
    assert res["inc_oracle"] == 0  # T1 by enumeration
    assert res["ndf_oracle"] <= res["bound"]  # T2


def brute_force_oracle(net, fmt, choice="pytorch") -> tuple[int, int, int, int]:
    """(ns, ndf, inc, disagreements) by plain loops with the engine and the oracle."""
    ns_c = ndf = inc = dis = 0
    for w in itertools.product(fmt.values(), repeat=net.W):
        fw = forward(net, w)
        bw = backward(net, w, fw, choice)
        kinks = [n.index for n in net.neurons if n.activation.is_kink(fw.y[n.index])]
        ns_w = any(bw.zbar[k] != 0 for k in kinks)
        verdict = decide(net, w)
        ns_c += ns_w
        ndf += not verdict.differentiable
        inc += verdict.differentiable and verdict.grad != bw.grad
        dis += ns_w == verdict.differentiable
    return ns_c, ndf, inc, dis


def test_t5a_incorrect_points() -> None:
    """T5a over {-1,0,1}: f = relu(v1 a) - relu(v2 a).

    By hand: a = 0 makes both neurons kinks with zbar = 1, -1 (NS at all 9 points);
    f is differentiable there iff v1 = v2 (f = 0 near w) or v1 = -v2 != 0 (f = +-a)
    or v1 = v2 = 0 -- 5 points, of which (1,-1) and (-1,1) have df/da = +-1 while
    AD gives 0: inc = 2.  a = +-1: a kink iff v1 = 0 or v2 = 0 (5 of 9 pairs each),
    never differentiable there (move v1 or v2).  So ns = 9 + 10 = 19,
    ndf = 4 + 10 = 14, disagreements = 5."""
    net = load_network(EXAMPLES / "t5a.json")
    fmt = parse_format("list(-1,0,1)")
    res = count(net, fmt, oracle=True)
    assert (res["ns"], res["kink"], res["ndf_oracle"], res["inc_oracle"],
            res["disagreements"]) == (19, 19, 14, 2, 5)
    assert brute_force_oracle(net, fmt) == (19, 14, 2, 5)


def test_t5a_bigger_format_matches_brute_force() -> None:
    net = load_network(EXAMPLES / "t5a.json")
    fmt = parse_format("list(-2,-1,0,1/2,1)")
    res = count(net, fmt, oracle=True)
    assert res["inc_oracle"] > 0
    assert (res["ns"], res["ndf_oracle"], res["inc_oracle"], res["disagreements"]) == \
        brute_force_oracle(net, fmt)


# -- vectorised == naive ---------------------------------------------------------------------

ACTS = ["relu", "hardtanh", "leaky_relu(1/4)", "abs", "relu6", "softshrink(1/2)",
        "hardswish", "hardsigmoid", "leaky_relu(1/3)", "identity"]
RATIONALS = ["-3", "-2", "-1", "-1/2", "-1/3", "0", "1/4", "1/2", "1", "3/2", "2", "3", "6"]


@st.composite
def small_networks(draw):
    n_in = draw(st.integers(1, 2))
    hidden = draw(st.lists(st.integers(1, 2), min_size=0, max_size=2))
    sizes = [n_in, *hidden, 1]
    layers = []
    for li, units in enumerate(sizes[1:]):
        fan_in = sizes[li]
        layer = {"units": units, "activation": draw(st.sampled_from(ACTS))}
        if draw(st.booleans()):
            layer["weights"] = [[draw(st.sampled_from(RATIONALS)) for _ in range(fan_in)]
                                for _ in range(units)]
        bias = draw(st.sampled_from(["param", "param", "const", "none"]))
        if bias == "none":
            layer["bias"] = False
        elif bias == "const":
            layer["biases"] = [draw(st.sampled_from(RATIONALS)) for _ in range(units)]
        layers.append(layer)
    spec = {"name": "h", "input": [draw(st.sampled_from(RATIONALS)) for _ in range(n_in)],
            "layers": layers}
    return parse_network(spec)


@st.composite
def small_formats(draw):
    vals = draw(st.lists(st.sampled_from(RATIONALS), min_size=1, max_size=4, unique=True))
    return parse_format("list(" + ",".join(vals) + ")")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_networks(), small_formats(), st.sampled_from(["pytorch", "left", "right", "1/2"]))
def test_vectorised_equals_naive(net, fmt, choice) -> None:
    if fmt.size**net.W > 600:
        fmt = parse_format("list(" + ",".join(str(v) for v in fmt.values()[:2]) + ")")
    if fmt.size**net.W > 600:
        return
    from adcorrect.nets.activations import parse_choice

    ch = parse_choice(choice)
    naive = count_naive(net, fmt, ch)
    for factor in (True, False):
        res = count(net, fmt, ch, factor=factor)
        assert (res["kink"], res["ns"]) == (naive["kink"], naive["ns"])
        assert res["total"] == naive["points"]


def test_small_blocks_give_the_same_counts(monkeypatch) -> None:
    net = load_network(EXAMPLES / "relu-1-2-1.json")
    fmt = parse_format("list(-1,0,1)")
    full = count(net, fmt)
    # closed form of test_relu_121_closed_form with M = 3, P = 3, two non-zero values
    assert (full["kink"], full["ns"]) == (3**7 - 6**2 * 3**3, 3**7 - (27 - 6) ** 2 * 3)
    monkeypatch.setattr(counter, "BLOCK_ELEMENTS", 7)
    for factor in (True, False):
        assert count(net, fmt, factor=factor) == full


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=0, max_size=4), st.integers(1, 40))
def test_blocks_partition_the_grid(sizes, limit) -> None:
    seen = []
    for sl in blocks(sizes, limit):
        assert len(sl) == len(sizes)
        seen += list(itertools.product(*(range(lo, hi) for lo, hi in sl)))
    assert sorted(seen) == list(itertools.product(*(range(n) for n in sizes)))
    assert len(seen) == math.prod(sizes)


def test_object_fallback_when_int64_could_overflow() -> None:
    """Wide dynamic range: the second layer's products exceed 2^63, so Python ints."""
    net = parse_network(mlp([1, 1, 1, 1], "relu"))
    wide = parse_format("list(-65536,0,1/65536,65536)")
    assert choose_dtype(net, wide.values(), "pytorch") is object
    naive = count_naive(net, wide)
    res = count(net, wide)
    assert (res["kink"], res["ns"]) == (naive["kink"], naive["ns"])
    assert choose_dtype(net, parse_format("fp(2,2)").values(), "pytorch") is np.int64
    assert choose_dtype(load_network(EXAMPLES / "relu-1-2-2-1.json"),
                        parse_format("e4m3fn").values(), "pytorch") is np.int64


def test_refuses_more_than_1e10_points() -> None:
    net = load_network(EXAMPLES / "relu-1-2-1.json")
    with pytest.raises(InputError, match=r"more than 10\^10; pass --force"):
        count(net, parse_format("fp(3,3)"))  # 55^7 > 10^10


def test_smooth_activation_rejected() -> None:
    net = parse_network(mlp([1, 1, 1], "tanh"))
    with pytest.raises(InputError, match="not piecewise polynomial"):
        count(net, parse_format("list(0,1)"))


# -- CLI ----------------------------------------------------------------------------------


def test_cli_count_json_keys(capsys) -> None:
    rc = main(["count", str(EXAMPLES / "relu-1-2-1.json"), "--format", "list(-1,0,1)",
               "--json"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert list(res) == ["total", "kink", "ns", "n", "bound", "M", "W", "format"]
    assert (res["total"], res["M"], res["W"], res["n"], res["bound"]) == (2187, 3, 7, 2, 1458)
    # T5a over {-1,0,1}^3 (hand count in test_engine.py: ns 19, ndf 14, inc 2), both modes
    for mode in ([], ["fast"], ["independent"]):
        rc = main(["count", str(EXAMPLES / "t5a.json"), "--format", "list(-1,0,1)",
                   "--oracle", *mode, "--json"])
        assert rc == 0
        res = json.loads(capsys.readouterr().out)
        assert set(res) == {"total", "kink", "ns", "n", "bound", "M", "W", "format",
                            "ndf_oracle", "inc_oracle", "disagreements", "oracle", "undecided",
                            "oracle_calls", "certificates"}
        assert res["oracle"] == (mode or ["fast"])[0]
        assert (res["ns"], res["ndf_oracle"], res["inc_oracle"], res["disagreements"],
                res["undecided"]) == (19, 14, 2, 5, 0)
        assert sum(res["certificates"].values()) == res["kink"] == 19


def test_cli_count_table(capsys) -> None:
    rc = main(["count", str(EXAMPLES / "tight-relu-2.json"), "--format", "fp(2,2)",
               "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "ratio ns/bound" in out and "21" in out and "22" in out


def test_cli_refuses_big_count(capsys) -> None:
    rc = main(["count", str(EXAMPLES / "relu-1-2-1.json"), "--format", "fp(3,3)", "--json"])
    cap = capsys.readouterr()
    assert rc == 2
    assert cap.out == ""
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1
    assert "M^W has 1522435234375 points, more than 10^10; pass --force" in lines[0]


@pytest.mark.parametrize("path,fmt_name", [
    ("relu-1-2-1.json", "list(-1,0,1)"), ("leaky-1-2-1.json", "list(-1,0,1)"),
    ("hardtanh-2-2-1.json", "list(-1,0,1)"), ("t5a.json", "list(-1,0,1)"),
    ("tight-relu-2-v.json", "list(-1,0,1)"), ("relu-1-1.json", "e2m1"),
])
def test_fast_oracle_counts_equal_independent(path: str, fmt_name: str) -> None:
    """The fast oracle's vectorised certificates (T5b, axis witnesses) and the NS-free cone
    search give the same counts over all of M^W."""
    net = load_network(EXAMPLES / path)
    fmt = parse_format(fmt_name)
    fast = count(net, fmt, oracle="fast")
    ind = count(net, fmt, oracle="independent")
    keys = ("ndf_oracle", "inc_oracle", "disagreements", "undecided")
    assert [fast[k] for k in keys] == [ind[k] for k in keys]
    assert fast["undecided"] == 0
    assert sum(fast["certificates"].values()) == fast["kink"]
