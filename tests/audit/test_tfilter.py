"""The tensor-level filter (issue 16, item 2) against the IR path, which is an independent
implementation of the same audit: on random CNNs and MLPs (pools, BatchNorm, residual
sums, frozen layers, every kinked activation), in fp32 and in coarse formats where exact
kinks, dead max-pool ties and sub-maximum ties occur, both give the same answer; plus
hand-computed cases (an all-negative max-pool window, a live tie, a frozen layer)."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest
import torch
from adcorrect.audit.dtypes import parse_dtype
from adcorrect.audit.run import Auditor, prepared
from adcorrect.audit.tfilter import TensorFilter, Unsupported
from torch import nn

F = nn.functional


pytestmark = pytest.mark.usefixtures("float32_default")


ACTS = [nn.ReLU, lambda: nn.LeakyReLU(0.1), nn.Hardtanh, nn.ReLU6, nn.Hardswish,
        nn.Hardsigmoid, lambda: nn.Softshrink(0.25)]


class Net(nn.Module):
    """conv (act) [BN] pool, a residual conv block, global average pool, two linears."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 3, 3, padding=rng.choice([0, 1]), bias=rng.random() < 0.8)
        self.bn = nn.BatchNorm2d(3) if rng.random() < 0.5 else nn.Identity()
        self.a1 = rng.choice(ACTS)()
        self.pool = rng.choice([nn.MaxPool2d(2), nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(2),
                                nn.Identity()])
        self.c2 = nn.Conv2d(3, 3, 3, padding=1)
        self.a2 = rng.choice(ACTS)()
        self.res = rng.random() < 0.5
        self.fc1 = nn.Linear(3, 4)
        self.a3 = rng.choice(ACTS)()
        self.fc2 = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(self.a1(self.bn(self.c1(x))))
        g = self.c2(h)
        h = self.a2(g + h if self.res else g)
        h = F.adaptive_avg_pool2d(h, 1).flatten(1)
        return self.fc2(self.a3(self.fc1(h)))


def _model(seed: int) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    rng = random.Random(seed)
    torch.manual_seed(seed)
    m = Net(rng)
    with torch.no_grad():
        for p in m.parameters():  # coarse values: exact kinks and ties happen
            p.copy_((p * 64).round() / 64)
        if isinstance(m.bn, nn.BatchNorm2d):
            m.bn.running_mean.copy_(torch.tensor([0.25, -0.5, 0.0]))
            m.bn.running_var.copy_(torch.tensor([1.0, 4.0, 0.25]))
    if rng.random() < 0.3:
        m.c1.weight.requires_grad_(False)  # a frozen first layer
    m.eval()
    x = torch.randint(-2, 3, (3, 1, 6, 6)).float()
    y = torch.randint(0, 3, (3,))
    return m, x, y


def _key(r: dict[str, Any]) -> dict[str, Any]:
    e = r["exact"]
    keep = ("kinked", "dead", "ns", "differentiable", "inc", "uncertain", "kinks_known")
    return json.loads(json.dumps({"exact": {k: e[k] for k in keep},
                                  "dead_copies": e["dead_copies"],
                                  "differ": r["differ"], "verdicts": r["verdicts"],
                                  "activations": r["activations"], "W": r["W"]},
                                 default=str))


@pytest.mark.parametrize("seed", range(40))
def test_tensor_filter_agrees_with_the_ir_path(seed: int) -> None:
    m, x, y = _model(seed)
    aud = Auditor(m, x, "ce", time_limit=20)
    assert aud.tfilter is not None
    if aud.tfilter.run(x).live:
        return  # live kinked or uncertain copies: the IR path runs (tested below)
    aud.tensor_first = True  # small models without max pools go to the IR's filter first
    tensor = aud.audit(x, y)
    assert tensor["exact"]["filter"] == "tensor"
    aud.tfilter = None
    _same(tensor, aud.audit(x, y))


def _same(tensor: dict[str, Any], ir: dict[str, Any]) -> None:
    """The tensor filter's answer is the IR path's."""
    if tensor["exact"].get("submax_uncertain"):
        # ties below a strict window maximum that only exact values settle: the count of
        # kinked copies is a lower bound (kinks_known False); the verdicts are the IR's
        assert tensor["exact"]["kinks_known"] is False
        assert tensor["exact"]["kinked"] <= ir["exact"]["kinked"]
        for k in ("differentiable", "ns", "inc"):
            assert tensor["exact"][k] == ir["exact"][k]
        return
    assert _key(tensor) == _key(ir)


def test_the_property_test_sees_every_case() -> None:
    """The random models above reach dead ties, sub-maximum ties and live copies."""
    seen = {"dead": 0, "live": 0, "submax": 0, "decided": 0}
    for seed in range(40):
        m, x, _ = _model(seed)
        f = TensorFilter(m, torch.float32).run(x)
        seen["dead"] += sum(pt.count() for pt in f.pools if pt.kind == "dead") > 0
        seen["submax"] += sum(pt.count() for pt in f.pools if pt.kind == "submax") > 0
        seen["live"] += f.live > 0
        seen["decided"] += f.live == 0
    assert min(seen.values()) > 0, seen


class NegPool(nn.Module):
    """relu of -1 - x^2-free negative values into a 2x2 max pool: every window ties at 0."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(1, 1, 1)
        self.fc = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.max_pool2d(torch.relu(self.c(x)), 2).flatten(1))


def test_all_negative_windows_are_dead_ties() -> None:
    """conv weight 1, bias -1, inputs in [-3, 0]: every relu input is negative, every 2x2
    window is four exact zeros, 3 chain ties each (tie2..tie4), all dead; 4 windows."""
    m = NegPool()
    with torch.no_grad():
        m.c.weight.fill_(1.0)
        m.c.bias.fill_(-1.0)
    x = -torch.arange(16.0).reshape(1, 1, 4, 4) / 5
    f = TensorFilter(m, torch.float32).run(x)
    assert f.live == 0
    dead = [pt for pt in f.pools if pt.kind == "dead"]
    assert sum(pt.count() for pt in dead) == 12
    r = Auditor(m, x, "sum").audit(x, torch.ones(1))
    assert r["exact"]["dead"] == 12 and r["exact"]["kinked"] == 0
    assert r["exact"]["differentiable"] is True and r["exact"]["filter"] == "tensor"
    assert [c["neuron"] for c in r["exact"]["dead_copies"][:3]] == [
        "max_pool2d[0,0,0]/tie2", "max_pool2d[0,0,0]/tie3", "max_pool2d[0,0,0]/tie4"]


class PairPool(nn.Module):
    """A (1, 2) convolution (weights 1, 1, bias 0) and one 2x2 max-pool window."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(1, 1, (1, 2))
        with torch.no_grad():
            self.c.weight.fill_(1.0)
            self.c.bias.fill_(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(self.c(x), 2).flatten(1)


def test_a_live_tie_is_decided_by_one_sided_derivatives_and_the_ir() -> None:
    """Inputs (1, 2, 1; 0, 0, 0): the window is (w0 + 2 w1, 2 w0 + w1, 0, 0) = (3, 3, 0,
    0): a tie at the maximum between two different functions of the weights: live.  The
    max of the two has one-sided derivatives max(d0 + 2 d1, 2 d0 + d1) along d and
    max(-d0 - 2 d1, -2 d0 - d1) along -d, which sum to |d0 - d1| != 0: not differentiable,
    certified by the tensor filter; the IR's oracle (without the filter) agrees."""
    m = PairPool()
    x = torch.tensor([[[[1.0, 2.0, 1.0], [0.0, 0.0, 0.0]]]])
    f = TensorFilter(m, torch.float32).run(x)
    assert (f.pool_kinks, f.pool_ident) == (1, 0)
    aud = Auditor(m, x, "sum")
    e = aud.audit(x, torch.ones(1))["exact"]
    assert (e["filter"], e["differentiable"]) == ("tensor", False)
    aud.tfilter = None
    e = aud.audit(x, torch.ones(1))["exact"]
    assert "filter" not in e and e["differentiable"] is False


def test_a_tie_of_identical_functions_is_no_kink() -> None:
    """Inputs (1, 1, 1; 0, 0, 0): the window is (w0 + w1, w0 + w1, b, b) at 2, 2, 0, 0:
    the tied entries are one function of the parameters (equal input windows), so the
    maximum is that function near w: differentiable, AD correct, decided by the tensor
    filter; the IR counts the same chain tie (tie2) and reaches the same verdict."""
    m = PairPool()
    x = torch.tensor([[[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]]])
    f = TensorFilter(m, torch.float32).run(x)
    assert (f.pool_kinks, f.pool_ident, f.live) == (0, 1, 0)
    aud = Auditor(m, x, "sum")
    t = aud.audit(x, torch.ones(1))
    assert t["exact"]["filter"] == "tensor" and t["exact"]["identical_ties"] == 1
    assert (t["exact"]["kinked"], t["exact"]["differentiable"], t["exact"]["inc"]) == \
        (1, True, False)
    aud.tfilter = None
    ir = aud.audit(x, torch.ones(1))
    assert (ir["exact"]["kinked"], ir["exact"]["differentiable"], ir["exact"]["inc"]) == \
        (1, True, False)


class TwoPools(nn.Module):
    """A 1x1 convolution (w x + b) and two max pools: 2x2 windows, then the pair."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(1, 1, 1)
        with torch.no_grad():
            self.c.weight.fill_(1.0)
            self.c.bias.fill_(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(F.max_pool2d(self.c(x), 2), (1, 2)).flatten(1)


@pytest.mark.parametrize(("left", "ident"), [((3.0, 1.0), 1), ((3.0, 3.0), 2)])
def test_pools_of_the_same_candidates_are_one_function(left: tuple[float, float],
                                                       ident: int) -> None:
    """Windows (3, a; 0, 0) and (3, 2; 0, 0) of w x + b: each maximum is 3w + b near w
    (the entries below it stay below; with a = 3 the window's own tie is between two
    copies of 3w + b), whatever the other entries, so the second pool's tie is between
    one function and itself: no kink, differentiable, decided by the tensor filter (the
    IR's oracle agrees).  Ids built from whole windows called it a live tie."""
    m = TwoPools()
    x = torch.tensor([[[[*left, 3.0, 2.0], [0.0, 0.0, 0.0, 0.0]]]])
    f = TensorFilter(m, torch.float32).run(x)
    assert (f.pool_kinks, f.pool_unc, f.pool_ident, f.live) == (0, 0, ident, 0)
    aud = Auditor(m, x, "sum")
    e = aud.audit(x, torch.ones(1))["exact"]
    assert (e["filter"], e["differentiable"], e["inc"]) == ("tensor", True, False)
    aud.tfilter = None
    e = aud.audit(x, torch.ones(1))["exact"]
    assert "filter" not in e and (e["differentiable"], e["inc"]) == (True, False)


def _frozen_hardtanh() -> tuple[nn.Module, torch.Tensor]:
    """Issue 16's frozen-weight case: hardtanh(w x + b), w = 1 frozen, b = 0, x = -1, 1."""
    m = nn.Sequential(nn.Linear(1, 1), nn.Hardtanh())
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.fill_(0.0)
    m[0].weight.requires_grad_(False)
    return m, torch.tensor([[-1.0], [1.0]])


def test_frozen_hardtanh_stays_inc_through_the_ir() -> None:
    """Issue 16's frozen-weight case: the exact kinks are live (they move with the
    trainable bias), so the tensor filter hands over and the answer is inc, grad 1, AD 0."""
    m, x = _frozen_hardtanh()
    r = Auditor(m, x, "sum").audit(x, torch.ones(2))
    assert r["exact"]["inc"] is True and r["exact"]["grad"] == ["1"]
    assert r["exact"]["ad"] == ["0"]


def test_low_precision_models_agree() -> None:
    """e4m3fn parameters (prepared as the audit CLI does): same answer both ways."""
    fmt = parse_dtype("e4m3fn")
    decided = 0
    for seed in range(12):
        m0, x, y = _model(100 + seed)
        m, _ = prepared(m0, fmt)
        aud = Auditor(m, x / 4, "ce", dtype=fmt, time_limit=20)
        assert aud.tfilter is not None
        if aud.tfilter.run(x / 4).live:
            continue
        decided += 1
        aud.tensor_first = True
        t = aud.audit(x / 4, y)
        assert t["exact"]["filter"] == "tensor"
        aud.tfilter = None
        _same(t, aud.audit(x / 4, y))
    assert decided >= 2


def test_unsupported_ops_fall_back() -> None:
    """An op outside the tensor filter (an exponential) raises Unsupported at the first
    run; the auditor then uses the IR path."""

    class Sq(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.fc(x)
            return torch.relu(h) * 2 + torch.exp(h)

    m = Sq()
    with pytest.raises(Unsupported):
        TensorFilter(m, torch.float32).run(torch.ones(1, 2))


def test_undecided_after_the_dead_split_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exact audit that runs out after every kink is known (here: at the adjoints)
    still reports the dead ties as dead and the live ones as kinked, with kinks_known."""
    from adcorrect.audit import exact
    from adcorrect.core.errors import Undecided

    def stop(*_a: Any, **_k: Any) -> None:
        raise Undecided("time limit of 0 s reached (test)")

    monkeypatch.setattr(exact, "_seeds", stop)
    m = NegPool()
    with torch.no_grad():
        m.c.weight.fill_(1.0)
        m.c.bias.fill_(0.0)
    # relu inputs exactly 0 at (1,0), (1,1): live kinks (they move with the bias);
    # window (0,0) = 1, 1, 0, 0: a live tie (tie2); window (0,1) all negative: 3 dead
    # ties; windows (1,0), (1,1): strict maxima, no chain tie
    x = torch.tensor([[[[1.0, 1.0, -1.0, -2.0], [0.0, 0.0, -3.0, -1.0],
                        [3.0, 1.0, 2.0, 1.0], [0.5, 0.25, 1.0, 0.5]]]])
    aud = Auditor(m, x, "sum")
    aud.tfilter = None
    e = aud.audit(x, torch.ones(1))["exact"]
    assert e["undecided"].startswith("time limit") and e["kinks_known"] is True
    assert e["dead"] == 3
    assert [c["neuron"] for c in e["copies"]] == ["c[0,1,0]", "c[0,1,1]",
                                                  "max_pool2d[0,0,0]/tie2"]


@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("collide", [False, True])
def test_interned_ids_are_equal_exactly_for_equal_rows(collide: bool, wide: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Structural ids: equal rows get equal ids and different rows different ones, also
    when the row hash collides (a hash of ones: the row sum; then rows are sorted).  Wide
    rows are mostly alone with their hash (only rows sharing one are compared), with a few
    planted copies and, for the row sum, different rows of equal sums."""
    from adcorrect.audit import tids

    if collide:
        monkeypatch.setattr(tids, "_HASH", torch.ones(4096, dtype=torch.int64))
    g = torch.Generator().manual_seed(3)
    rows = torch.randint(-2, 3, (500, 3), generator=g)
    if wide:
        rows = torch.randint(0, 10 ** 9, (500, 3), generator=g)
        rows[10:20] = rows[0]  # equal rows
        rows[30] = rows[40].flip(0)  # a different row with the same sum
    ids = tids.intern(rows)
    assert ids is not None
    tup = [tuple(r) for r in rows.tolist()]
    for i in range(0, 500, 7):
        for j in range(500):
            assert (ids[i] == ids[j]) == (tup[i] == tup[j])


def _summary(f: Any) -> Any:
    return ([(c.where, c.kink.tolist(), c.dead.tolist(), c.unc.tolist()) for c in f.calls],
            sorted((p.seq, p.kind, p.mask.tolist()) for p in f.pools),
            (f.pool_kinks, f.pool_unc, f.pool_sub_unc, f.pool_ident))


@pytest.mark.parametrize("hint", [(1, False), (2, False), (9, True), (0, True)])
def test_a_hint_from_an_earlier_batch_changes_no_answer(hint: tuple[int, bool]) -> None:
    """Starting at the pass an earlier batch ended with (more structural ids, the precise
    pass) gives what the whole sequence of passes gives, on the 40 random models."""
    for seed in range(40):
        m, x, _ = _model(seed)
        fresh = TensorFilter(m, torch.float32).run(x)
        tf = TensorFilter(m, torch.float32)
        tf.hint = hint
        assert _summary(tf.run(x)) == _summary(fresh), seed


# -- the one-sided certificate of non-differentiability ---------------------------------------

def test_one_sided_derivatives_never_contradict_the_ir() -> None:
    """On the 40 random models (exact kinks, live ties, frozen layers, every kinked
    activation): wherever the tangent pass certifies L'(w; d) + L'(w; -d) != 0, the IR's
    exact audit says not differentiable; and it does certify some."""
    fired = 0
    for seed in range(40):
        m, x, y = _model(seed)
        tf = TensorFilter(m, torch.float32)
        if not tf.run(x).live:
            continue
        w = tf.certificate(x, y, "ce")
        if w is None:
            continue
        fired += 1
        aud = Auditor(m, x, "ce", time_limit=20)
        aud.tfilter = None
        assert aud.audit(x, y)["exact"]["differentiable"] in (False, None), seed
    assert fired >= 3, fired


def test_the_certificate_replays_the_value_pass_with_the_same_answer() -> None:
    """The tangent passes reuse the values, radii and classes of the batch's float64 pass
    (the memo): on the 40 random models the certificate (its one-sided values included)
    is the one computed from scratch, and the memo is used where a certificate is asked."""
    used = 0
    for seed in range(40):
        m, x, y = _model(seed)
        tf = TensorFilter(m, torch.float32)
        if not tf.run(x).live:
            assert tf.memo is None, seed
            continue
        if tf.limb:  # a precise pass (batch or open examples): no certificate, nothing kept
            assert tf.memo is None and tf.certificate(x, y, "ce") is None, seed
            continue
        assert tf.memo is not None and tf.memo[0] is x, seed
        used += 1
        replayed = tf.certificate(x, y, "ce")
        assert tf.memo is None, seed  # used once, then released
        assert tf.certificate(x, y, "ce") == replayed, seed
    assert used >= 5, used


def test_a_relu_on_its_kink_is_certified_not_differentiable() -> None:
    """relu(w x + b) at x = 0, w = 1, b = 0, sum loss: L = relu(b) near w, so
    L'(w; d) + L'(w; -d) = max(d_b, 0) + max(-d_b, 0) = |d_b| (d_b the direction's bias
    entry); the audit answers from the tensor filter, without the IR."""
    m = nn.Sequential(nn.Linear(1, 1), nn.ReLU())
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.fill_(0.0)
    x = torch.zeros(1, 1)
    aud = Auditor(m, x, "sum")
    assert "filter" not in aud.audit(x, torch.ones(1))["exact"]  # an MLP: the IR's filter
    aud.tensor_first = True
    e = aud.audit(x, torch.ones(1))["exact"]
    assert (e["filter"], e["differentiable"], e["ns"], e["kinked"]) == ("tensor", False, True, 1)
    g = torch.Generator().manual_seed(1)
    dw = torch.randint(-2 ** 20, 2 ** 20, (1, 1), generator=g) * 2 + 1  # weight first
    db = int((torch.randint(-2 ** 20, 2 ** 20, (1,), generator=g) * 2 + 1).item())
    assert dw.shape == (1, 1)
    lp, lm = (float(s.split(" +- ")[0]) for s in e["witness"]["one_sided"])
    assert lp + lm == abs(db) and {lp, lm} == {0.0, float(abs(db))}


def test_the_frozen_hardtanh_inc_point_gets_no_certificate() -> None:
    """L(b) = hardtanh(b - 1) + hardtanh(b + 1) = b near 0: differentiable, so no
    direction can have L'(d) + L'(-d) != 0 (the IR then answers inc)."""
    m, x = _frozen_hardtanh()
    assert TensorFilter(m, torch.float32).certificate(x, torch.ones(2), "sum") is None


def test_dense_chains_are_recognised() -> None:
    """MLPs (dense layers, activations, reshapes, dropout) go to the IR's filter first;
    a convolution, BatchNorm, pool or a sum of branches keeps the tensor filter first."""
    from adcorrect.audit.tfilter import _dense_chain

    def dense(m: nn.Module) -> bool:
        return _dense_chain(torch.fx.symbolic_trace(m))

    assert dense(nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Dropout(),
                               nn.Linear(3, 2), nn.Hardtanh()))
    assert not dense(nn.Sequential(nn.Conv2d(1, 1, 1), nn.ReLU()))
    assert not dense(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.ReLU()))
    assert not dense(nn.Sequential(nn.Linear(4, 4), nn.Unflatten(1, (1, 4)),
                                   nn.MaxPool1d(2)))


@pytest.mark.parametrize("ceil", [False, True])
def test_pool_windows_are_pytorchs(ceil: bool) -> None:
    """The max of each window (disjoint windows by a reshape, others by unfold) is
    PyTorch's max pool, in its output order, for every geometry below."""
    from adcorrect.audit.tkernels import windows

    g = torch.Generator().manual_seed(0)
    for H, W, k, s, p, dl in [(4, 4, 2, 2, 0, 1), (5, 7, 2, 2, 0, 1), (6, 6, 3, 3, 0, 1),
                              (7, 5, 3, 2, 1, 1), (8, 8, 2, 1, 0, 1), (9, 9, 3, 2, 1, 2),
                              (4, 6, 1, 1, 0, 1), (5, 5, 2, 3, 1, 1)]:
        t = torch.randn(2, 3, H, W, generator=g, dtype=torch.float64)
        w, (o0, o1) = windows(t, 2, [k, k], [s, s], [p, p], [dl, dl], ceil, -math.inf)
        ref = F.max_pool2d(t, k, s, p, dl, ceil_mode=ceil)
        assert ref.shape[2:] == (o0, o1)
        assert torch.equal(w.amax(2).reshape(ref.shape), ref)


def test_the_route_is_a_rule_of_the_structure() -> None:
    """The IR's filter goes first for MLPs and for networks without max pools whose IR
    has at most IR_FIRST_TERMS terms; a max pool, a larger IR or no IR at all keep the
    tensor filter first; the audit reports the route it took."""
    from adcorrect.audit.tfilter import IR_FIRST_TERMS, ir_first

    def gm(m: nn.Module) -> torch.fx.GraphModule:
        return torch.fx.symbolic_trace(m)

    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2).eval(), nn.ReLU())
    pooled = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
    fpool = PairPool()  # F.max_pool2d
    mlp = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    assert ir_first(gm(mlp), 10 ** 9) and ir_first(gm(conv), IR_FIRST_TERMS)
    assert not ir_first(gm(conv), IR_FIRST_TERMS + 1)
    assert not ir_first(gm(pooled), 10) and not ir_first(gm(fpool), 10)
    assert not ir_first(gm(mlp), None)
    x = torch.rand(1, 1, 5, 5)
    assert "filter" not in Auditor(conv, x, "sum").audit(x, torch.ones(1))["exact"]
    assert Auditor(pooled, x, "sum").audit(x, torch.ones(1))["exact"]["filter"] == "tensor"


def test_an_undecided_ir_route_tries_the_tensor_filter(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    """Where the IR's filter went first and its exact side ends undecided (forced here as
    a work limit), the tensor filter's certificate still decides the relu-on-its-kink
    model (not differentiable); where the tensor filter cannot decide either (the
    frozen-hardtanh inc point has no certificate), the IR's undecided answer stands."""
    import dataclasses

    from adcorrect.audit import run

    real = run.exact_audit

    def undecided(*a: Any, **k: Any) -> Any:
        return dataclasses.replace(real(*a, **k), undecided="work limit (forced)",
                                   differentiable=None, ns=None, inc=None)

    monkeypatch.setattr(run, "exact_audit", undecided)
    m = nn.Sequential(nn.Linear(1, 1), nn.ReLU())
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.fill_(0.0)
    x = torch.zeros(1, 1)
    e = Auditor(m, x, "sum").audit(x, torch.ones(1))["exact"]
    assert (e["filter"], e["differentiable"], e["undecided"]) == ("tensor", False, None)
    m2, x2 = _frozen_hardtanh()
    e2 = Auditor(m2, x2, "sum").audit(x2, torch.ones(2))["exact"]
    assert "filter" not in e2 and e2["undecided"] == "work limit (forced)"


class FunctionalPools(nn.Module):
    """Pools called as functions with their full signatures (one argument reading,
    ``fxargs.pool_call``, for the importer, the tensor filter and the coverage walk)."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(1, 2, 3, padding=1)
        self.fc = nn.Linear(2 * 2 * 2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.avg_pool2d(torch.relu(self.c(x)), 3, stride=2, padding=1, ceil_mode=True,
                         count_include_pad=False)
        return self.fc(F.max_pool2d(h, kernel_size=2, stride=1, padding=0).flatten(1))


def test_functional_pools_with_their_full_signatures() -> None:
    """An avg pool with padding, ceil mode and count_include_pad=False, then a max pool by
    keywords: the tensor filter runs them (it read only avg_pool2d(x, k, stride) before)
    and its answer is the IR's."""
    torch.manual_seed(3)
    m = FunctionalPools().eval()
    x = torch.randint(-4, 5, (2, 1, 5, 5)).float() / 4
    y = torch.tensor([0, 1])
    assert TensorFilter(m, torch.float32).run(x).live == 0
    aud = Auditor(m, x, "ce", time_limit=20)
    aud.tensor_first = True
    t = aud.audit(x, y)
    assert t["exact"]["filter"] == "tensor"
    aud.tfilter = None
    assert _key(t) == _key(aud.audit(x, y))


class ShuffleUnit(nn.Module):
    """ShuffleNetV2's unit: a chunk, a branch, a concatenation, the channel shuffle (view,
    transpose, contiguous, view), then a split (:meth:`unit`)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(2, 2, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 1)

    def unit(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x1, x2 = x.chunk(2, dim=1)
        h = torch.cat((x1, F.relu(self.a(x2))), 1)
        B, C, H, W = h.size()
        h = h.view(B, 2, C // 2, H, W).transpose(1, 2).contiguous().view(B, -1, H, W)
        p, q = torch.split(F.relu(self.b(h)), [1, 3], dim=1)
        return h, p, q


class _Shuffle(ShuffleUnit):
    """The unit, a slice and an adaptive max pool."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, p, q = self.unit(x)
        h = torch.cat([q, p.permute(0, 1, 3, 2), h[:, 1:2, :, :]], 1)
        return self.fc(F.adaptive_max_pool2d(h, 1).flatten(1))


def _shuffle_case(seed: int) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    m = _Shuffle().eval()
    with torch.no_grad():
        for p in m.parameters():  # coarse values: exact kinks and ties happen
            p.copy_((p * 8).round() / 8)
    return m, torch.randint(-2, 3, (3, 4, 4, 4)).float(), torch.randint(0, 3, (3,))


def test_chunks_splits_and_slices_agree_with_the_ir_path() -> None:
    """The tensor filter runs chunk, split, basic slicing and an adaptive max pool (views
    and max nodes) with the IR path's answers, kinks and max-pool ties included; on 3 of
    the 6 seeds its certificate decides the batch (not differentiable)."""
    by_tensor = 0
    for seed in range(6):
        m, x, y = _shuffle_case(seed)
        aud = Auditor(m, x, "ce", time_limit=20)
        assert aud.tfilter is not None
        aud.tfilter.run(x)  # no Unsupported
        aud.tensor_first = True
        tensor = aud.audit(x, y)
        by_tensor += tensor["exact"].get("filter") == "tensor"
        aud.tfilter = None
        _same(tensor, aud.audit(x, y))
    assert by_tensor == 3


@pytest.mark.parametrize("seed", range(5))
def test_exact_outputs_is_fact_4_entry_by_entry(seed: int) -> None:
    from adcorrect.audit.certified import fits
    from adcorrect.audit.tkernels import exact_outputs

    g = torch.Generator().manual_seed(seed)
    B = 6
    bound = torch.ldexp(torch.rand(B, 3, 4, 5, generator=g, dtype=torch.float64),
                        torch.randint(-60, 60, (B, 3, 4, 5), generator=g))
    bound[1, 0, 0, 0] = math.inf
    bound[2, 1, 2, 3] = math.nan
    bound[3] = 0.0
    Qe = torch.randint(-110, 10, (B,), generator=g)
    Qe[4] = -1075  # below the smallest quantum: nothing exact
    whole = torch.rand(B, generator=g) < 0.8
    whole[1] = whole[2] = whole[3] = True
    got = exact_outputs(bound, Qe, whole)
    want = whole.reshape(B, 1, 1, 1) & fits(bound, Qe.reshape(B, 1, 1, 1))
    assert torch.equal(got, want)
    assert bool(want.any()) and not bool(want.all())  # both outcomes occur


@pytest.mark.parametrize("kk", [1, 2, 3, 4, 5, 9])
def test_window_sort_is_sorting(kk: int) -> None:
    """The sorting network of 2x2 windows (and the fallback) sorts exactly like
    ``torch.sort``, ties and the non-candidate marker included."""
    from adcorrect.audit import tids

    g = torch.Generator().manual_seed(kk)
    w = torch.randint(-1, 4, (3, 2, kk, 50), generator=g).to(torch.float64)
    w[w == 3] = 2.0 ** 60
    assert torch.equal(tids.sort_windows(w), w.sort(2).values)
