"""The double-double limb of the tensor filter (:mod:`adcorrect.audit.tdd`): its error-free
transformations are exact (checked in Fractions), its matrix products and convolutions
enclose the exact value within 2^-80 of it, and on a residual CNN every activation input
of the precise pass encloses the exact pre-activation computed in Fractions by a
reference evaluator written here (convolutions by loops)."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import torch
from adcorrect.audit import tdd, tinterp
from adcorrect.audit.tbatchnorm import bn_constants
from adcorrect.audit.tfilter import TensorFilter
from cancelling import X_CANCEL, cancelling
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

F = nn.functional
pytestmark = pytest.mark.usefixtures("float32_default")

floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
F64 = torch.float64


def fr(t: torch.Tensor) -> list[Fraction]:
    return [Fraction(v) for v in t.reshape(-1).tolist()]


@settings(max_examples=300, deadline=None)
@given(floats, floats)
def test_two_sum_and_two_prod_are_exact(a: float, b: float) -> None:
    ta, tb = torch.tensor([a], dtype=F64), torch.tensor([b], dtype=F64)
    s, e = tdd.two_sum(ta, tb)
    assert Fraction(s.item()) + Fraction(e.item()) == Fraction(a) + Fraction(b)
    p, pe, ok = tdd.two_prod(ta, tb)
    if ok is None or bool(ok):  # None: every entry
        assert Fraction(p.item()) + Fraction(pe.item()) == Fraction(a) * Fraction(b)
    else:  # only tiny non-zero products are refused in this range
        assert 0 < abs(Fraction(a) * Fraction(b)) < tdd.TINY


_SPECIAL = [0.0, -0.0, 1.0, -3.5, 2.0 ** -1000, -(2.0 ** -970), 2.0 ** 996, 1e300, 5e-324,
            float("inf"), float("nan")]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(floats, st.sampled_from(_SPECIAL)),
                          st.one_of(floats, st.sampled_from(_SPECIAL))), min_size=1, max_size=6))
def test_two_prod_says_ok_exactly_where_the_entrywise_test_does(
        pairs: list[tuple[float, float]]) -> None:
    """None (every entry ok) only where the entrywise conditions hold everywhere."""
    a = torch.tensor([p[0] for p in pairs], dtype=F64)
    b = torch.tensor([p[1] for p in pairs], dtype=F64)
    ap = (a * b).abs()
    want = ((ap >= tdd.TINY) | (a == 0) | (b == 0)) & (a.abs() < tdd.HUGE) & \
        (b.abs() < tdd.HUGE) & (ap < tdd.HUGE)
    _, _, ok = tdd.two_prod(a, b)
    assert torch.equal(want, torch.ones_like(want)) if ok is None else torch.equal(ok, want)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal entries (NaNs equal, the signs of zeros not compared)."""
    return bool(((a == b) | (a.isnan() & b.isnan())).all())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(floats, st.sampled_from(_SPECIAL)),
                          st.floats(min_value=-1e-10, max_value=1e-10),
                          st.one_of(st.floats(min_value=0, max_value=1e3),
                                    st.sampled_from([0.0, float("inf"), 1e308]))),
                min_size=1, max_size=6),
       st.sampled_from([(0.0, 1.0), (0.0, 0.0), (6.0, 0.0), (-1.5, 0.0), (0.5, 1.0),
                        (0.0, 0.25)]))
def test_an_identity_or_constant_piece_is_what_scale_and_shift_compute(
        entries: list[tuple[float, float, float]], piece: tuple[float, float]) -> None:
    """``_piece`` (no products for a1 = 0 or 1, a0 = 0) gives the values of
    ``shift(scale(x, a1), a0)``, special entries included (where it defers to them)."""
    h = torch.tensor([e[0] for e in entries], dtype=F64)
    lo = torch.tensor([e[1] for e in entries], dtype=F64) * h.abs().clamp(max=1e300)
    H, L = tdd.two_sum(h, torch.where(torch.isfinite(lo), lo, 0.0))
    x = tdd.DD(H, L, torch.tensor([e[2] for e in entries], dtype=F64))
    a0, a1 = piece
    want = tdd.shift(tdd.scale(x, torch.tensor(a1, dtype=F64)), torch.tensor(a0, dtype=F64))
    got = tdd._piece(x, a0, a1)
    assert _same(got.H, want.H) and _same(got.L, want.L) and _same(got.R, want.R)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(floats, st.sampled_from(_SPECIAL)),
                          st.floats(min_value=-1e-10, max_value=1e-10),
                          st.one_of(st.floats(min_value=0, max_value=1e3),
                                    st.sampled_from([0.0, float("inf"), 1e-300]))),
                min_size=1, max_size=6))
def test_relu_decides_as_the_sign_test_and_passes_its_input_through(
        entries: list[tuple[float, float, float]]) -> None:
    """relu on the limb: certainly positive and certainly negative exactly where
    ``normalised_sign`` at 0 says so; there the input itself, here an exact 0."""
    h = torch.tensor([e[0] for e in entries], dtype=F64)
    lo = torch.tensor([e[1] for e in entries], dtype=F64) * h.abs().clamp(max=1e300)
    H, L = tdd.two_sum(h, torch.where(torch.isfinite(lo), lo, 0.0))
    H = torch.where(torch.isfinite(H), H, 0.0)  # (finish keeps H finite)
    x = tdd.DD(H, L, torch.tensor([e[2] for e in entries], dtype=F64))
    y, above, below = tdd.relu(x)
    want_above, want_below, _ = tdd.normalised_sign(x, 0.0)
    assert torch.equal(above, want_above) and torch.equal(below, want_below)
    for i in range(len(entries)):
        if above[i]:
            assert (y.H[i], y.L[i], y.R[i]) == (x.H[i], x.L[i], x.R[i])
        elif below[i]:
            assert (y.H[i], y.L[i], y.R[i]) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("seed", range(4))
def test_scale_by_per_channel_constants_is_the_entrywise_one(seed: int) -> None:
    """c split once per channel, then broadcast: the values of the product with c
    expanded to every entry (TwoProduct entry by entry)."""
    g = torch.Generator().manual_seed(seed)
    H0 = torch.randn(3, 4, 5, 5, generator=g, dtype=F64)
    H0[0, 0] = 0.0
    H, L = tdd.two_sum(H0, torch.randn(H0.shape, generator=g, dtype=F64) * 2.0 ** -60)
    x = tdd.DD(H, L, torch.rand(H0.shape, generator=g, dtype=F64) * 1e-20)
    c = torch.randn(1, 4, 1, 1, generator=g, dtype=F64)
    c[0, 1] = 0.0
    got = tdd.scale(x, c)
    ce = c.expand_as(H)
    p, e, ok = tdd.two_prod(ce, H)
    cl = ce * L
    want = tdd.finish(p, [e, cl], ce.abs() * x.R + tdd.U * cl.abs(), ok)
    assert _same(got.H, want.H) and _same(got.L, want.L) and _same(got.R, want.R)


def _dd_input(shape: tuple[int, ...], seed: int) -> tdd.DD:
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(shape, generator=g, dtype=F64)
    lo = torch.randn(shape, generator=g, dtype=F64) * 2.0 ** -60
    H, L = tdd.two_sum(v, lo)
    return tdd.DD(H, L, torch.zeros_like(H))


@pytest.mark.parametrize("m_in", [3, 64, 700])
def test_a_matrix_product_is_enclosed_within_2_to_the_minus_80(m_in: int) -> None:
    x = _dd_input((2, m_in), m_in)
    torch.manual_seed(m_in)
    w = (torch.randn(5, m_in) * torch.logspace(0, -12, m_in)).float()  # wide range: W3 != 0
    b = torch.randn(5).float()
    y = tdd.affine(x, w, b, lambda a, ww, bb: F.linear(a, ww, bb), m_in)
    assert y is not None
    X = [[Fraction(h) + Fraction(lo) for h, lo in zip(hr, lr)]
         for hr, lr in zip(x.H.tolist(), x.L.tolist())]
    Wf = [fr(row) for row in w.to(F64)]
    bf = fr(b.to(F64))
    for i in range(2):
        for o in range(5):
            exact = sum((a * c for a, c in zip(X[i], Wf[o])), bf[o])
            got = Fraction(y.H[i, o].item()) + Fraction(y.L[i, o].item())
            r = Fraction(y.R[i, o].item())
            size = sum(abs(a * c) for a, c in zip(X[i], Wf[o])) + abs(bf[o])
            assert abs(got - exact) <= r
            assert r <= size * Fraction(2) ** -80
            assert abs(y.L[i, o].item()) <= abs(y.H[i, o].item()) * 2.0 ** -52  # normalised


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_tiny_weights_on_a_few_rows_are_multiplied_on_those_rows_alone(kind: str) -> None:
    """The third weight limb (weights below 2^-42 of their row's largest) non-zero on one
    row of eight: the op runs on that row only, with the values, limbs and radii of the
    op on every row (signed zeros aside)."""
    torch.manual_seed(5)
    if kind == "linear":
        x = _dd_input((3, 20), 1)
        w = torch.randn(8, 20)
        op = (lambda a, ww, bb: F.linear(a, ww, bb))
    else:
        x = _dd_input((2, 3, 5, 5), 2)
        w = torch.randn(8, 3, 3, 3)
        op = (lambda a, ww, bb: F.conv2d(a, ww, bb, 1, 1))
    w.reshape(8, -1)[5, 3] = 2.0 ** -60 * 1.2345  # below the two limbs' grid of row 5
    b = torch.randn(8)
    m = w[0].numel()
    calls: list[int] = []

    def counted(a: torch.Tensor, ww: torch.Tensor, bb: torch.Tensor | None) -> torch.Tensor:
        calls.append(ww.shape[0])
        return op(a, ww, bb)

    want = tdd.affine(x, w, b, op, m)
    got = tdd.affine(x, w, b, tdd.ByRows(counted), m)
    assert want is not None and got is not None
    assert calls.count(1) == 2  # the tiny limb's term and its radius, on row 5 alone
    for a, c in ((got.H, want.H), (got.L, want.L), (got.R, want.R)):
        assert torch.equal(a, c)


def test_a_weight_reading_is_reused_only_while_the_weights_are_equal() -> None:
    """The float64 reading and splits of a parameter are reused while its entries are
    what was read (an audit of the same model again), read anew after any change, even
    one that PyTorch's version counter does not see (``.data``), and dropped with it."""
    p = nn.Parameter(torch.randn(4, 6))
    first = tdd.weights(p)
    s = first.split(21)
    assert tdd.weights(p) is first and first.split(21) is s
    with torch.no_grad():
        p.data[1, 2] = 0.5  # not counted by p._version
    second = tdd.weights(p)
    assert second is not first and float(second.wd[1, 2]) == 0.5
    assert torch.equal(second.split(21).W1 + second.split(21).W2, second.wd)
    key = id(p)
    del p
    assert key not in tdd._READ


# -- a residual CNN against a reference evaluator in Fractions -------------------------------

class ResCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(2, 3, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.c2 = nn.Conv2d(3, 3, 3, padding=1, bias=False)
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.max_pool2d(F.relu(self.bn(self.c1(x))), 3, 2, 1)
        h = F.relu6(self.c2(h) + h)
        h = F.adaptive_avg_pool2d(h, 1).flatten(1)
        return self.fc2(F.leaky_relu(self.fc1(h), 0.125))


Grid = list[list[list[Fraction]]]  # [channel][row][column]


def _conv(x: Grid, w: torch.Tensor, b: torch.Tensor | None, stride: int, pad: int) -> Grid:
    C, H, W = len(x), len(x[0]), len(x[0][0])
    O, _, K, _ = w.shape
    wf = [[[fr(w[o, c, i].to(F64)) for i in range(K)] for c in range(C)] for o in range(O)]
    bf = fr(b.to(F64)) if b is not None else [Fraction(0)] * O
    Ho, Wo = (H + 2 * pad - K) // stride + 1, (W + 2 * pad - K) // stride + 1

    def at(c: int, i: int, j: int) -> Fraction:
        return x[c][i][j] if 0 <= i < H and 0 <= j < W else Fraction(0)

    return [[[bf[o] + sum(wf[o][c][ki][kj] * at(c, i * stride - pad + ki, j * stride - pad + kj)
                          for c in range(C) for ki in range(K) for kj in range(K))
              for j in range(Wo)] for i in range(Ho)] for o in range(O)]


def _map(x: Grid, f) -> Grid:
    return [[[f(c, v) for v in row] for row in ch] for c, ch in enumerate(x)]


def _reference(m: ResCNN, x: torch.Tensor) -> list[list[Fraction]]:
    """The exact inputs of the three activation calls, flattened per call."""
    g = [[fr(row.to(F64)) for row in ch] for ch in x]
    pre1 = _conv(g, m.c1.weight, m.c1.bias, 2, 1)
    r, mean, gam, beta = (fr(t) for t in bn_constants(m.bn))
    pre1 = _map(pre1, lambda c, v: gam[c] * (r[c] * v - r[c] * mean[c]) + beta[c])
    h = _map(pre1, lambda c, v: max(v, Fraction(0)))
    H, W = len(h[0]), len(h[0][0])
    Ho, Wo = (H + 2 - 3) // 2 + 1, (W + 2 - 3) // 2 + 1
    h = [[[max(h[c][a][b] for a in range(2 * i - 1, 2 * i + 2) for b in range(2 * j - 1, 2 * j + 2)
               if 0 <= a < H and 0 <= b < W) for j in range(Wo)] for i in range(Ho)]
         for c in range(len(h))]
    c2 = _conv(h, m.c2.weight, None, 1, 1)
    pre2 = [[[c2[c][i][j] + h[c][i][j] for j in range(Wo)] for i in range(Ho)]
            for c in range(len(h))]
    h2 = _map(pre2, lambda c, v: min(max(v, Fraction(0)), Fraction(6)))
    avg = [sum(v for row in ch for v in row) / (Ho * Wo) for ch in h2]
    w1, b1 = fr(m.fc1.weight.to(F64)), fr(m.fc1.bias.to(F64))
    pre3 = [b1[o] + sum(w1[o * 3 + c] * avg[c] for c in range(3)) for o in range(4)]
    flat = (lambda t: [v for ch in t for row in ch for v in row])
    return [flat(pre1), flat(pre2), pre3]


@pytest.mark.parametrize("seed", range(4))
def test_the_precise_pass_encloses_the_exact_pre_activations(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(seed)
    m = ResCNN()
    with torch.no_grad():
        m.bn.running_mean.uniform_(-0.3, 0.3)
        m.bn.running_var.uniform_(0.5, 2.0)
        m.bn.weight.uniform_(0.5, 1.5)
    m.eval()
    rng = random.Random(seed)
    x = torch.tensor([[[[rng.randint(0, 16) / 16 for _ in range(7)] for _ in range(7)]
                       for _ in range(2)] for _ in range(2)], dtype=torch.float32)
    seen: list[tdd.DD] = []
    orig = tinterp.act_limb

    def spy(tab, x, out, unc):
        seen.append(x.D)
        return orig(tab, x, out, unc)

    monkeypatch.setattr(tinterp, "act_limb", spy)  # the name the pass calls
    TensorFilter(m, torch.float32)._run(x, 0, True)
    assert len(seen) == 3
    for ex in range(2):
        ref = _reference(m, x[ex])
        for call, exact in zip(seen, ref):
            H, L, R = (t[ex].reshape(-1).tolist() for t in (call.H, call.L, call.R))
            assert len(H) == len(exact)
            for h, lo, r, e in zip(H, L, R, exact):
                assert abs(Fraction(h) + Fraction(lo) - e) <= Fraction(r)
                assert r <= 2.0 ** -80 * (1 + abs(float(e)))


# -- the precise pass in the audit -----------------------------------------------------------

def test_the_precise_pass_decides_what_float64_leaves_open() -> None:
    from adcorrect.audit.run import Auditor

    m = cancelling(0.0)
    tf = TensorFilter(m, torch.float32)
    assert tf._run(X_CANCEL, 0).live == 1  # float64: 0 +- 2^-52, uncertain
    assert tf.run(X_CANCEL).live == 0  # double-double: 2^-70 +- 2^-120, positive
    aud = Auditor(m, X_CANCEL, "sum")
    aud.tensor_first = True  # a dense chain: the IR's filter would answer first
    e = aud.audit(X_CANCEL, torch.ones(1))["exact"]
    assert (e["filter"], e["uncertain"], e["kinked"], e["differentiable"]) == \
        ("tensor", 0, 0, True)


def test_an_exact_kink_the_limb_cannot_see_goes_to_the_exact_audit() -> None:
    """Shift 2^-70: the pre-activation is exactly 0 with a non-zero adjoint (relu's
    kink, its own bias): not differentiable, decided by the IR's exact audit (the
    tangent pass stops there: the copy is uncertain in float64, so it gives no
    certificate)."""
    from adcorrect.audit.run import Auditor

    m = cancelling(2.0 ** -70)
    tf = TensorFilter(m, torch.float32)
    assert tf.run(X_CANCEL).live == 1
    assert tf.certificate(X_CANCEL, torch.ones(1), "sum") is None
    r = Auditor(m, X_CANCEL, "sum").audit(X_CANCEL, torch.ones(1))
    e = r["exact"]
    assert "filter" not in e and e["kinked"] == 1 and e["differentiable"] is False
