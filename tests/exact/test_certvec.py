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


def test_declines_where_a_copy_meets_a_kink() -> None:
    m = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2))
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.fill_(0.0)
    net = from_module(m, torch.zeros(1, 1))
    wv = np.array([float(v) for v in net.values])
    assert quick_batch(net, wv, np.array([[1.0], [-2.0]])) is not None
    assert quick_batch(net, wv, np.array([[1.0], [0.0]])) is None  # relu(0): on the kink


@pytest.mark.parametrize("fn", ["exp", "sigmoid", "sqrt", "rsqrt", "reciprocal"])
def test_vectorised_smooth_functions_enclose_arb(fn: str) -> None:
    """The float64 enclosures of exp (range reduction and Taylor), sigmoid, sqrt, 1/sqrt
    and 1/x contain the 256-bit Arb values at every point of the input enclosures (checked
    at both ends: the functions are monotone) and stay tight (inputs of relative radius up
    to 1e-9, outputs below 1e-7)."""
    from adcorrect.exact.certvec import _exp_vec, _root_vec, _sigmoid_vec
    from adcorrect.numbers.smoothfns import SMOOTH
    from flint import arb

    rng = np.random.default_rng(5)
    scale = 40.0 if fn in ("exp", "sigmoid") else 10.0
    m = rng.uniform(-scale, scale, 2000)
    if fn != "exp" and fn != "sigmoid":
        m = np.abs(m) + 1e-3
    r = np.abs(m) * 10.0 ** rng.uniform(-16, -9, m.size)
    got = _exp_vec(m, r) if fn == "exp" else _sigmoid_vec(m, r) if fn == "sigmoid" \
        else _root_vec(m, r, fn)
    assert got is not None
    zm, zr = got
    assert np.all(zr <= 1e-7 * np.abs(zm) + 1e-300)
    with precision(256):
        for j in range(m.size):
            for end in (float(m[j]) - float(r[j]), float(m[j]) + float(r[j])):
                lo, hi = bounds(SMOOTH[fn].value(arb(end), ()))
                assert Q(zm[j]) - Q(zr[j]) <= lo and hi <= Q(zm[j]) + Q(zr[j]), (fn, end)


def test_vectorised_gelu_and_erf_enclose_arb() -> None:
    """GELU (exact, with erf by Taylor below 3 and erfc's asymptotic series above) and erf
    itself: the enclosures contain the 256-bit Arb values on 3,000 points across both
    regimes and their boundary, and stay tight."""
    from adcorrect.exact.certvec import _erf_point, _gelu_vec
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
