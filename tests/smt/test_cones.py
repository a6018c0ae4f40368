"""inc-witness-qf: differentiability without a quantifier (smt/cones.py), checked over all
of M^W against the independent oracle, and the float grid that replaces the FP theory."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from adcorrect.exact.engine import backward, forward, source_value, value_of
from adcorrect.exact.oracle import decide
from adcorrect.nets.spec import Network, parse_network
from adcorrect.numbers.formats import parse_format
from adcorrect.smt import suite
from adcorrect.smt.cones import float_grid
from adcorrect.smt.generator import Query, generate

T5A = suite.t5a()
#: Bias-free, one hidden relu layer fed by a parameter: kinks at w = 0 only.
BF121 = parse_network({"name": "bf-1-2-1", "input": ["1"], "layers": [
    {"units": 2, "activation": "relu", "bias": False},
    {"units": 1, "activation": "relu", "bias": False}]})
NETS = [
    (T5A, "list(-1,-1/2,0,1,2)"),
    (BF121, "list(-1,0,1/2,1)"),
    (suite.dense("1-1-1", "relu"), "list(-1,0,1)"),
    (suite.dense("1-1-1", "hardtanh"), "list(-1,0,1,2)"),
    (suite.dense("2-1-1", "leaky_relu(1/8)"), "list(-1,0,1)"),
]
IDS = ["t5a", "bf-1-2-1", "relu-1-1-1", "hardtanh-1-1-1", "leaky-2-1-1"]


# -- the characterisation, with plain loops (no generator, no oracle code) ---------------------


def _strictly_feasible(rows: list[tuple[Fraction, ...]], dim: int) -> bool:
    """Whether some v has r . v > 0 for every row (Fourier-Motzkin, homogeneous)."""
    rows = [r for r in rows]
    for i in range(dim):
        if any(all(c == 0 for c in r) for r in rows):
            return False
        pos = [r for r in rows if r[i] > 0]
        neg = [r for r in rows if r[i] < 0]
        rest = [r for r in rows if r[i] == 0]
        rows = rest + [tuple(p[j] / p[i] - q[j] / q[i] for j in range(dim))
                       for p in pos for q in neg]
    return not any(all(c == 0 for c in r) for r in rows)


def qf_differentiable(net: Network, w: tuple[Fraction, ...]) -> tuple[bool, set]:
    """Steps 1-4 of cones.ARGUMENT: every side pattern whose open cone is non-empty has the
    same output form; returns (differentiable, the set of those forms)."""
    fw = forward(net, w)
    W = net.W
    ks = [n.index for n in net.neurons if n.activation.kinks]
    forms = set()
    for sides in itertools.product("LR", repeat=len(ks)):
        side = dict(zip(ks, sides))
        dz: dict[int, list[Fraction]] = {}
        rows = []
        for n in net.neurons:
            a = [Fraction(0)] * W
            if n.bias is not None and n.bias[0] == "param":
                a[n.bias[1]] += 1
            for src, wt in zip(n.sources, n.weights):
                if wt[0] == "param":
                    a[wt[1]] += source_value(src, net.input, fw.z)
                if src >= 0:
                    a = [x + value_of(wt, w) * d for x, d in zip(a, dz[src])]
            y, act = fw.y[n.index], n.activation
            slope = act.slope_right(y) if side.get(n.index) == "R" else act.slope_left(y)
            dz[n.index] = [slope * x for x in a]
            if n.index in side and any(a):
                rows.append(tuple(x if side[n.index] == "R" else -x for x in a))
        if _strictly_feasible(rows, W):
            forms.add(tuple(dz[net.neurons[-1].index]))
    return len(forms) == 1, forms


@pytest.mark.parametrize("net,fmt", NETS, ids=IDS)
def test_characterisation_equals_oracle(net: Network, fmt: str) -> None:
    """Over all of M^W: the sign-pattern form says differentiable iff the oracle does, and
    its common form is the oracle's gradient."""
    ndf = inc = 0
    for w in itertools.product(parse_format(fmt).values(), repeat=net.W):
        verdict = decide(net, w)
        diff, forms = qf_differentiable(net, w)
        assert diff == verdict.differentiable, w
        if diff:
            assert forms == {verdict.grad}, w
            fw = forward(net, w)
            inc += backward(net, w, fw).grad != verdict.grad
        ndf += not diff
    assert ndf > 0
    if net is T5A:
        assert inc > 0  # the family's sat instances exist


# -- the SMT text: with w fixed, `differentiable` is sat iff the oracle says so ----------------


@pytest.mark.parametrize("net,fmt", NETS[:3], ids=IDS[:3])
def test_file_equals_oracle(net: Network, fmt: str) -> None:
    import z3

    text = generate(Query(net, parse_format(fmt), "inc-witness-qf", expected="unknown"))
    prefix = text.split("\n; --- query")[0]
    probes = ("(declare-const diff_probe Bool)\n(assert (= diff_probe differentiable))\n" +
              "".join(f"(declare-const pe_probe{i} Real)\n(assert (= pe_probe{i} pe{i}))\n"
                      for i in range(net.W)))
    s = z3.Solver()
    s.from_string(prefix + "\n" + probes)
    ws = [z3.Real(f"w{i}") for i in range(net.W)]
    pe = [z3.Real(f"pe_probe{i}") for i in range(net.W)]
    checked = 0
    for w in itertools.product(parse_format(fmt).values(), repeat=net.W):
        verdict = decide(net, w)
        s.push()
        s.add(*[x == z3.RealVal(str(v)) for x, v in zip(ws, w)])
        s.add(z3.Bool("diff_probe"))
        got = s.check()
        assert got == (z3.sat if verdict.differentiable else z3.unsat), w
        if verdict.differentiable:
            m = s.model()
            assert tuple(m.eval(p).as_fraction() for p in pe) == verdict.grad, w
        s.pop()
        checked += 1
    assert checked == parse_format(fmt).size ** net.W


# -- the float grid --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["fp(3,3)", "fp16", "bf16", "e4m3fn", "e2m1", "fp(2,2)"])
def test_float_grid_is_the_format(fmt: str) -> None:
    f = parse_format(fmt)
    grid = float_grid(f)
    assert grid is not None
    bound, q0, count, top = grid
    vals = {Fraction(m) * Fraction(2) ** q for m in range(-bound + 1, bound)
            for q in range(q0, q0 + count)}
    assert {v for v in vals if abs(v) <= top} == set(f.values())


def test_grid_membership_text_has_the_format_as_models() -> None:
    """z3 enumerates the models of one parameter's membership lines: exactly M."""
    import z3

    f = parse_format("fp(3,3)")
    net = parse_network({"name": "one", "input": ["1"],
                         "layers": [{"units": 1, "activation": "relu", "bias": False}]})
    text = generate(Query(net, f, "inc-witness-qf", expected="unknown"))
    block = text.split("; --- parameters w in M^W")[1].split("; ---")[0]
    s = z3.Solver()
    s.from_string(block)
    w = z3.Real("w0")
    found = set()
    while s.check() == z3.sat:
        v = s.model().eval(w).as_fraction()
        found.add(v)
        s.add(w != z3.RealVal(str(v)))
    assert found == set(f.values())
