"""Batched networks and losses (THEORY.md section 8): the 8.1 example, the T6
counterexample, exact cross-entropy adjoints, and an exhaustive agreement of the
oracle (both modes), the engine and an independent reference on small batched
networks over small M.

The reference (tests/netgen.py, which imports nothing from the package)
evaluates the batch loss from closed forms and recovers directional derivatives
exactly by forward differences.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from fractions import Fraction as Q
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from adcorrect.cli import main
from adcorrect.exact.engine import backward, forward, ns
from adcorrect.exact.oracle import decide, same_vector
from adcorrect.nets.batch import Batch, batched
from adcorrect.nets.spec import parse_network
from netgen import H, degree_bound, ref_f

THEORY_81 = {"version": 2, "name": "theory-8.1", "inputs": ["x"], "params": ["a", "b", "c", "d"],
             "nodes": [{"name": "h", "activation": "relu", "terms": [["a", "x"]], "bias": "b"},
                       {"name": "f", "terms": [["c", "h"]], "bias": "d"}],
             "outputs": ["f"]}


def qs(*xs: Any) -> tuple[Q, ...]:
    return tuple(Q(x) for x in xs)


def batch(xs: Sequence[Any], ys: Sequence[Any]) -> Batch:
    return Batch(tuple(tuple(Q(v) for v in (x if isinstance(x, (list, tuple)) else [x]))
                       for x in xs),
                 tuple(tuple(Q(v) for v in (y if isinstance(y, (list, tuple)) else [y]))
                       for y in ys))


# -- THEORY.md 8.1: per-copy NS is not the test --------------------------------------------------


def test_theory_81_example() -> None:
    # f = c relu(a x + b) + d, x1 = x2 = 1, targets 1 and -1, MSE (mean over 2 examples).
    # At (a,b,c,d) = (0,0,1,0): f = 0 in both copies, dL/df_i = (f_i - t_i) = -1, +1, so both
    # copies sit on the kink with adjoints zbar_h = c * (-1) = -1 and +1: per-copy NS holds.
    # L(w) = ((g - 1)^2 + (g + 1)^2)/2 = g^2 + 1 with g = c relu(a + b) + d, and g^2 is
    # differentiable at g = 0 with gradient 2 g grad g = 0 (g Lipschitz): grad L = 0.
    net = batched(parse_network(THEORY_81), batch([1, 1], [1, -1]), "mse")
    w = qs(0, 0, 1, 0)
    fw = forward(net, w)
    bw = backward(net, w, fw)
    assert [bw.zbar[k] for k in (0, 2)] == [-1, 1]
    assert ns(net, fw, bw)
    for mode in ("fast", "independent"):
        v = decide(net, w, mode=mode)
        assert v.differentiable is True and v.grad == qs(0, 0, 0, 0)
    assert bw.grad == qs(0, 0, 0, 0)  # AD correct (inc false)


def test_theory_81_cli(tmp_path: Path) -> None:
    spec = tmp_path / "t81.json"
    spec.write_text(json.dumps(THEORY_81))
    import numpy as np

    np.savez(tmp_path / "b.npz", x=np.array([[1.0], [1.0]]), y=np.array([[1.0], [-1.0]]))
    out = _check(spec, "--params=0,0,1,0", "--batch", str(tmp_path / "b.npz"), "--loss", "mse")
    assert out["ns"] is True and out["differentiable"] is True and out["inc"] is False
    assert out["grad"] == out["ad"] == ["0", "0", "0", "0"]
    assert out["kinked"] == [{"neuron": "h", "example": 0, "kink": "0"},
                             {"neuron": "h", "example": 1, "kink": "0"}]
    assert out["bias_network"] is False and out["no_exclusive_bias"] == ["h"]
    assert out["batch"] == 2 and out["loss"] == "mse"


def _check(spec: Path, *args: str) -> dict[str, Any]:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["check", str(spec), *args, "--json"]) == 0
    return json.loads(buf.getvalue())  # type: ignore[no-any-return]


# -- T6 fails for multi-kink activations with PyTorch's choice ----------------------------------

T6_CE = {"version": 2, "name": "t6-counterexample", "inputs": ["x"], "params": ["b"],
         "nodes": [{"name": "h", "activation": "hardtanh", "terms": [["1", "x"]], "bias": "b"}],
         "outputs": ["h"]}


@pytest.mark.parametrize("choice,ad", [("pytorch", 0), ("left", 1), ("right", 1),
                                       (Q(1, 2), 1), (Q(1, 4), Q(1, 2))])
def test_t6_counterexample(choice: Any, ad: Any) -> None:
    # L(b) = hardtanh(b - 1) + hardtanh(b + 1): for b <= 0 it is -1 + (b + 1) = b, for b >= 0
    # (b - 1) + 1 = b.  So L is differentiable at 0 with L'(0) = 1, while both copies sit on
    # a kink (y = -1 and y = 1, zbar = 1).  AD = D(-1) + D(1): PyTorch's D = 0 gives 0.
    net = batched(parse_network(T6_CE), batch([-1, 1], [1, 1]), "sum")
    w = qs(0)
    for mode in ("fast", "independent"):
        v = decide(net, w, choice, mode=mode)
        assert v.differentiable is True and v.grad == qs(1)
    fw = forward(net, w)
    bw = backward(net, w, fw, choice)
    assert bw.grad == (Q(ad),)
    assert ns(net, fw, bw)


# -- exact cross-entropy -------------------------------------------------------------------------

CE_NET = {"version": 2, "name": "ce", "inputs": ["x"], "input": ["1"],
          "params": ["a", "b", "c0", "c1", "d0", "d1"],
          "nodes": [{"name": "h", "activation": "relu", "terms": [["a", "x"]], "bias": "b"},
                    {"name": "l0", "terms": [["c0", "h"]], "bias": "d0"},
                    {"name": "l1", "terms": [["c1", "h"]], "bias": "d1"}],
          "outputs": ["l0", "l1"], "loss": {"kind": "ce", "target": 0}}


def _float_zbar(c0: float, c1: float, d0: float, d1: float) -> float:
    """zbar_h in float64 as a framework computes it (softmax, then s - onehot)."""
    m = max(d0, d1)
    e0, e1 = math.exp(d0 - m), math.exp(d1 - m)
    s0, s1 = e0 / (e0 + e1), e1 / (e0 + e1)
    return c0 * (s0 - 1.0) + c1 * s1


def test_ce_adjoint_nonzero_below_float64() -> None:
    # h = relu(0) is a kink; zbar_h = c0 (s0 - 1) + c1 s1 = -c0 s1 with c1 = 0, where
    # s1 = e^{-100}/(1 + e^{-100}) ~ 3.7e-44: non-zero, while float64 gets s0 - 1 = 0 exactly.
    net = parse_network(CE_NET)
    w = qs(1, -1, 1, 0, 0, -100)
    fw = forward(net, w)
    bw = backward(net, w, fw)
    assert _float_zbar(1.0, 0.0, 0.0, -100.0) == 0.0
    z = bw.zbar[0]
    assert not z.is_zero() and -4e-44 < z.approx() < -3e-44
    assert ns(net, fw, bw)
    v = decide(net, w, mode="fast")
    assert v.differentiable is False and v.certificate.startswith("one level of kinks")
    assert decide(net, w, mode="independent").differentiable is False


def test_ce_adjoint_zero_by_symmetry() -> None:
    # c0 = c1 = 1: zbar_h = (s0 - 1) + s1 = 0 exactly (softmax sums to 1), although float64
    # leaves a rounding residue at these logits: NS is false and f is differentiable (T5b).
    net = parse_network(CE_NET)
    w = qs(1, -1, 1, 1, 0, Q(1, 3))
    assert _float_zbar(1.0, 1.0, 0.0, float(Q(1, 3))) != 0.0
    fw = forward(net, w)
    bw = backward(net, w, fw)
    assert bw.zbar[0].is_zero()
    assert not ns(net, fw, bw)
    for mode in ("fast", "independent"):
        v = decide(net, w, mode=mode)
        assert v.differentiable is True and same_vector(v.grad, bw.grad)


def test_ce_batch_symmetric_gradient() -> None:
    # Two copies with identical logits (h = 0 in both: l = (d0, d1)) and targets 0 and 1:
    # dL/dd0 = ((s0 - 1) + s0)/2 = s0 - 1/2, which is exactly 0 when d0 = d1.
    net = batched(parse_network(CE_NET), batch([1, 1], [0, 1]), "ce")
    w = qs(1, -1, 1, 2, Q(1, 2), Q(1, 2))
    bw = backward(net, w, forward(net, w))
    assert bw.grad[4].is_zero() and bw.grad[5].is_zero()
    v = decide(net, w, mode="fast")
    assert v.differentiable is not None


# -- exhaustive agreement on small batched networks ----------------------------------------------

def ref_loss(spec: dict[str, Any], xs: Sequence[Q], ts: Sequence[Q], loss: str,
             w: Sequence[Q]) -> Q:
    """The batch loss from the closed-form reference."""
    fs = [ref_f({**spec, "input": [str(x)]}, w) for x in xs]
    if loss == "sum":
        return sum((t * f for f, t in zip(fs, ts)), Q(0))
    return sum(((f - t) ** 2 for f, t in zip(fs, ts)), Q(0)) / len(xs)


def ref_loss_phi(spec: dict[str, Any], xs: Sequence[Q], ts: Sequence[Q], loss: str,
                 w: Sequence[Q], v: Sequence[Q]) -> Q:
    """Exact one-sided directional derivative of the reference loss (forward differences,
    as netgen.ref_phi; the degree doubles for MSE)."""
    d = degree_bound(spec) * (2 if loss == "mse" else 1)
    samples = [ref_loss(spec, xs, ts, loss, [a + k * H * b for a, b in zip(w, v)])
               for k in range(d + 1)]
    diffs, total = samples, Q(0)
    for k in range(1, d + 1):
        diffs = [b - a for a, b in pairwise(diffs)]
        total += Q((-1) ** (k + 1), k) * diffs[0]
    return total / H


def dense(sizes: Sequence[int], act: str) -> dict[str, Any]:
    return {"name": f"{act}-" + "-".join(map(str, sizes)), "input": ["0"] * sizes[0],
            "layers": [{"units": u, "activation": act} for u in sizes[1:-1]]
            + [{"units": sizes[-1], "activation": "identity"}]}


M3, M5 = qs(-1, 0, 1), qs(-1, "-1/2", 0, "1/2", 1)

CASES = [
    # (spec, M, batch inputs, targets, loss, choice)
    (dense([1, 1, 1], "relu"), M5, [1, 1], [1, -1], "mse", "pytorch"),
    (dense([1, 1, 1], "relu"), M5, [1, -1, 1], [0, 1, -1], "mse", "pytorch"),
    (dense([1, 2, 1], "relu"), M3, [1, 1], [1, -1], "mse", "pytorch"),
    (dense([1, 2, 1], "relu"), M3, [1, -1, 1], [2, 1, -1], "sum", "pytorch"),
    (dense([1, 1, 1, 1], "relu"), M3, [1, 1], [1, -1], "mse", "pytorch"),
    (dense([1, 1, 1, 1], "relu"), M3, [1, -1, 1], [2, 1, -1], "sum", "pytorch"),
    (dense([1, 1, 1], "hardtanh"), M5, [1, 1], [1, -1], "mse", "pytorch"),
    (dense([1, 1, 1], "hardtanh"), M5, [1, -1, 1], [2, 1, -1], "sum", "left"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]['name']}-B{len(c[2])}-{c[4]}")
def test_exhaustive_agreement(case: tuple[Any, ...]) -> None:
    spec, M, xs, ts, loss, choice = case
    xs, ts = qs(*xs), qs(*ts)
    net = batched(parse_network(spec), batch(xs, ts), loss)
    W = net.W
    seen = {"ns_differentiable": 0, "ndf": 0, "points": 0}
    for i, w in enumerate(itertools.product(M, repeat=W)):
        fw = forward(net, w)
        bw = backward(net, w, fw, choice)
        fast = decide(net, w, choice, mode="fast")
        ind = decide(net, w, choice, mode="independent")
        seen["points"] += 1
        assert fast.differentiable == ind.differentiable is not None, w
        is_ns = ns(net, fw, bw)
        if ind.differentiable:
            assert fast.grad == ind.grad, w
            assert ind.grad == bw.grad, w  # AD = gradient: T6 for these networks
            seen["ns_differentiable"] += is_ns
        else:
            seen["ndf"] += 1
            assert is_ns, w  # T5(b): not NS implies differentiable
        if i % 11 == 0 or (is_ns and i % 3 == 0):
            _reference_agrees(spec, xs, ts, loss, w, ind, fast)
    assert seen["ndf"] > 0
    if loss == "mse" and xs[0] == xs[1]:
        assert seen["ns_differentiable"] > 0  # 8.1's phenomenon occurs


def _reference_agrees(spec: dict[str, Any], xs: Sequence[Q], ts: Sequence[Q], loss: str,
                      w: Sequence[Q], *verdicts: Any) -> None:
    W = len(w)
    axis = [ref_loss_phi(spec, xs, ts, loss, w, [Q(int(p == i)) for p in range(W)])
            for i in range(W)]
    for v in verdicts:
        if v.differentiable:
            assert tuple(axis) == v.grad
            for d in ([1, -1] * W)[:W], [(-1) ** p * (p + 1) for p in range(W)]:
                dq = qs(*d)
                assert ref_loss_phi(spec, xs, ts, loss, w, dq) == sum(a * b for a, b in
                                                                      zip(axis, dq))
        else:
            wv = v.witness
            assert ref_loss_phi(spec, xs, ts, loss, w, wv) != sum(a * b for a, b in
                                                                   zip(axis, wv))
