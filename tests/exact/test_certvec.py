"""The vectorised quick pass (float64 midpoints and radii for all copies at once): its
enclosures contain the true outputs, checked against Arb balls at 256 bits (tight, and
rigorous themselves) on random models with smooth operations, and it declines (None)
where a copy meets a kink."""

from __future__ import annotations

import random
from fractions import Fraction as Q

import numpy as np
import pytest
import torch
from adcorrect.exact.certquick import quick_forward
from adcorrect.exact.certvec import quick_batch
from adcorrect.numbers.cvalue import bounds, precision
from adcorrect.torchfx.importer import from_module
from certad import random_smooth_model
from torch import nn

pytestmark = pytest.mark.usefixtures("float32_default")

def test_enclosures_contain_the_outputs_on_60_random_models() -> None:
    rng = random.Random(23)
    checked = 0
    for t in range(60):
        torch.manual_seed(t)
        model, d = random_smooth_model(rng, max_blocks=3, max_width=6)
        x = torch.randn(5, d)
        net = from_module(model, x[:1])
        wv = np.array([float(v) for v in net.values])
        got = quick_batch(net, wv, x.double().numpy())
        if got is None:
            continue
        mid, rad = got
        assert rad.max() < 1e-9  # float64 enclosures stay tight
        with precision(256):
            for i, row in enumerate(x.double().tolist()):
                fw = quick_forward(net, net.values, [Q(v) for v in row])
                assert fw is not None
                for j, o in enumerate(net.head.outputs):
                    lo, hi = bounds(fw.z[o])
                    assert Q(mid[i, j]) - Q(rad[i, j]) <= lo and hi <= Q(mid[i, j]) + Q(rad[i, j])
        checked += 1
    assert checked >= 58


def test_levels_on_a_whole_batch_network() -> None:
    """A whole-batch network (BatchNorm with batch statistics: one copy), vectorised
    across its neurons: the enclosures contain the 256-bit Arb outputs."""
    torch.manual_seed(3)
    m = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                      nn.Conv2d(3, 2, 3), nn.BatchNorm2d(2), nn.GELU(), nn.Flatten(),
                      nn.Linear(8, 3)).train()
    x = torch.randn(4, 1, 4, 4)
    net = from_module(m, x, whole_batch=True)
    wv = np.array([float(v) for v in net.values])
    got = quick_batch(net, wv, x.double().reshape(1, -1).numpy())
    assert got is not None
    mid, rad = got
    with precision(256):
        fw = quick_forward(net, net.values)
        assert fw is not None
        for j, o in enumerate(net.head.outputs):
            lo, hi = bounds(fw.z[o])
            assert Q(mid[0, j]) - Q(rad[0, j]) <= lo and hi <= Q(mid[0, j]) + Q(rad[0, j])
    out = m.double()(x.double()).detach().numpy().reshape(-1)
    assert np.abs(out - mid[0]).max() < 1e-9


def test_blocked_products_of_a_cnn_enclose_arb() -> None:
    """Convolutions with padding and stride, and a dense layer, go through the blocked
    matrix products (several blocks: the borders' kernels differ); the copies' enclosures
    contain the 256-bit Arb outputs and torch's float64 outputs within 1e-9."""
    from adcorrect.exact.certvec import level_plan

    torch.manual_seed(4)
    m = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, stride=2), nn.Tanh(),
                      nn.Conv2d(3, 4, 2), nn.SiLU(), nn.Flatten(), nn.Linear(16, 5),
                      nn.GELU(approximate="tanh"), nn.Linear(5, 2))
    x = torch.randn(6, 2, 5, 5)
    net = from_module(m, x[:1])
    blocked = [len(g.blocks) for g in level_plan(net).groups if getattr(g, "blocks", None)]
    assert blocked and max(blocked) > 1
    wv = np.array([float(v) for v in net.values])
    got = quick_batch(net, wv, x.double().reshape(6, -1).numpy())
    assert got is not None
    mid, rad = got
    out = m.double()(x.double()).detach().numpy()
    assert np.abs(out - mid).max() < 1e-9
    with precision(256):
        for i, row in enumerate(x.double().reshape(6, -1).tolist()):
            fw = quick_forward(net, net.values, [Q(v) for v in row])
            assert fw is not None
            for j, o in enumerate(net.head.outputs):
                lo, hi = bounds(fw.z[o])
                assert Q(mid[i, j]) - Q(rad[i, j]) <= lo and hi <= Q(mid[i, j]) + Q(rad[i, j])


def test_declines_where_a_copy_meets_a_kink() -> None:
    m = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2))
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.fill_(0.0)
    net = from_module(m, torch.zeros(1, 1))
    wv = np.array([float(v) for v in net.values])
    assert quick_batch(net, wv, np.array([[1.0], [-2.0]])) is not None
    assert quick_batch(net, wv, np.array([[1.0], [0.0]])) is None  # relu(0): on the kink


@pytest.mark.parametrize("fn", ["exp", "sigmoid", "tanh", "silu", "gelu_tanh", "elu",
                                "sqrt", "rsqrt", "reciprocal"])
def test_vectorised_smooth_functions_enclose_arb(fn: str) -> None:
    """The float64 enclosures (:mod:`adcorrect.exact.vecfns`) contain the 2048-bit Arb
    values at both ends and the midpoint of every input enclosure, on 2,000 points over
    the whole range (saturation of sigmoid and tanh, tanh's small-argument branch,
    ELU(1/2) on both sides of its kink) and stay tight: inputs of radius up to
    1e-9 min(|m|, 1), outputs within 1e-7 relative (plus 1e-15 absolute where the function's value
    comes from a difference near 1: tanh, GELU's tanh form, ELU's e^x - 1)."""
    from adcorrect.exact.vecfns import smooth_vec
    from adcorrect.numbers.smoothfns import SMOOTH
    from flint import arb

    rng = np.random.default_rng(5)
    scale = {"sqrt": 10.0, "rsqrt": 10.0, "reciprocal": 10.0}.get(fn, 40.0)
    m = np.concatenate([rng.uniform(-scale, scale, 1500), rng.uniform(-0.3, 0.3, 300),
                        rng.uniform(-800, 800, 200)])
    if fn in ("sqrt", "rsqrt", "reciprocal"):
        m = np.abs(m) + 1e-3
    if fn in ("exp", "gelu_tanh"):
        m = m[np.abs(m) < 20] if fn == "gelu_tanh" else m[m < 600]
    r = np.minimum(np.abs(m), 1.0) * 10.0 ** rng.uniform(-16, -9, m.size)
    args = (Q(1, 2),) if fn == "elu" else ()
    got = smooth_vec(fn, args, m, r)
    assert got is not None
    zm, zr = got
    slack = 1e-15 if fn in ("tanh", "gelu_tanh", "elu") else 1e-290  # saturated: TINY
    assert np.all(zr <= 1e-7 * np.abs(zm) + slack)
    with precision(2048):  # Arb's own balls tight where 1 + tanh(u) cancels to e^-600
        for j in range(m.size):
            a, b = arb(float(m[j])), arb(float(r[j]))
            for pt in (a - b, a, a + b):  # exact at 2048 bits
                lo, hi = bounds(SMOOTH[fn].value(pt, args))
                assert Q(zm[j]) - Q(zr[j]) <= lo and hi <= Q(zm[j]) + Q(zr[j]), (fn, pt)


def test_vectorised_gelu_and_erf_enclose_arb() -> None:
    """GELU (exact, with erf by Taylor below 3 and erfc's asymptotic series above) and erf
    itself: the enclosures contain the 256-bit Arb values on 3,000 points across both
    regimes and their boundary, and stay tight."""
    from adcorrect.exact.vecfns import erf_point as _erf_point
    from adcorrect.exact.vecfns import gelu_vec as _gelu_vec
    from adcorrect.numbers.smoothfns import SMOOTH
    from flint import arb

    rng = np.random.default_rng(6)
    m = np.concatenate([rng.uniform(-12, 12, 2000), rng.uniform(-4.5, -4.0, 500),
                        rng.uniform(4.0, 4.5, 500)])
    r = np.abs(m) * 10.0 ** rng.uniform(-16, -10, m.size)
    got = _gelu_vec(m, r)
    ev = _erf_point(m / 3)
    assert got is not None and ev is not None
    zm, zr = got
    assert np.all(zr <= 1e-7 * (np.abs(zm) + 1))
    assert np.all(ev[1] <= 1e-7)
    with precision(256):
        for j in range(m.size):
            for end in (float(m[j]) - float(r[j]), float(m[j]) + float(r[j])):
                lo, hi = bounds(SMOOTH["gelu"].value(arb(end), ()))
                assert Q(zm[j]) - Q(zr[j]) <= lo and hi <= Q(zm[j]) + Q(zr[j]), end
            z3 = float(m[j] / 3)
            e_lo, e_hi = bounds(arb(z3).erf())
            assert Q(ev[0][j]) - Q(ev[1][j]) <= e_lo and e_hi <= Q(ev[0][j]) + Q(ev[1][j])
        zs = np.concatenate([rng.uniform(-40, 40, 300), [0.25, 0.5, 1.0, 1.5, 3.0, 26.0]])
        zs = np.concatenate([zs, -zs, np.nextafter(zs, np.inf)])
        v, e = _erf_point(zs)
        for j, z in enumerate(zs):  # every band, their ends, and erfc below e^-676
            e_lo, e_hi = bounds(arb(float(z)).erf())
            assert Q(v[j]) - Q(e[j]) <= e_lo and e_hi <= Q(v[j]) + Q(e[j]), z
