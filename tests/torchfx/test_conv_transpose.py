"""Transposed convolutions (decoders, U-Nets, GAN generators): the IR imports them as
convolutions of the zero-interleaved, padded input with the flipped kernel, so outputs and
exact AD equal float64 PyTorch's (relus on their kinks included); the tensor filter's
enclosures contain the float64 outputs, and both routes of the audit agree."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

import pytest
import torch
from adcorrect.audit.dtypes import parse_dtype
from adcorrect.audit.run import Auditor, prepared
from adcorrect.audit.tfilter import TensorFilter
from adcorrect.exact.engine import forward
from adcorrect.torch import from_module
from test_methods import ad_is_autograds, coarse, kinked, refused
from torch import nn

KWARGS: list[dict[str, Any]] = [
    {}, {"stride": 2}, {"stride": 2, "padding": 1, "output_padding": 1},
    {"groups": 2, "stride": 3, "dilation": 2}, {"bias": False, "padding": 1},
]


class Decoder(nn.Module):
    """conv, relu, transposed conv, relu (2-d or 1-d)."""

    def __init__(self, d: int, **kw: Any) -> None:
        super().__init__()
        conv, tconv = (nn.Conv2d, nn.ConvTranspose2d) if d == 2 else \
            (nn.Conv1d, nn.ConvTranspose1d)
        self.c, self.t = conv(1, 4, 2), tconv(4, 2, 3, **kw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.t(torch.relu(self.c(x)))).flatten(1)


def encloses_exactly(m: nn.Module, xs: torch.Tensor) -> None:
    """The tensor filter's enclosures contain the exact outputs (the IR's exact forward
    pass in rationals, example by example; float64 PyTorch rounds, the precise pass
    encloses more tightly than that)."""
    found = TensorFilter(m, torch.float64).run(xs)
    assert found.out_r is not None
    for i in range(xs.shape[0]):
        net = from_module(m, xs[i:i + 1])
        assert net.values is not None
        fw = forward(net, net.values)
        for j, o in enumerate(net.outputs):
            dev = abs(Fraction(float(found.out[i, j])) - fw.z[o])
            assert dev <= Fraction(float(found.out_r[i, j])), (i, j)


def checked_over_seeds(make: Any, shape: tuple[int, ...], batch: int) -> int:
    """For 4 seeds, ``make()`` with coarse parameters: exact AD is float64 autograd's at an
    example of coarse inputs, and the tensor filter encloses the exact outputs of a random
    batch; returns how many of the examples put a relu on its kink."""
    at_kink = 0
    for seed in range(4):
        g = torch.Generator().manual_seed(seed)
        m = coarse(make(), g)
        net, fw = ad_is_autograds(m, torch.randint(-1, 2, (1, *shape), generator=g).double())
        at_kink += kinked(net, fw, at_zero=True)
        encloses_exactly(m, torch.randn(batch, *shape, generator=g, dtype=torch.float64))
    return at_kink


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("kw", KWARGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in
                                                               kw.items()) or "default")
def test_exact_ad_is_autograds_and_the_filter_encloses(d: int, kw: dict[str, Any]) -> None:
    at_kink = checked_over_seeds(lambda: Decoder(d, **kw), (1, 3, 3) if d == 2 else (1, 4), 3)
    assert at_kink >= 2


def test_a_padding_beyond_the_kernel_is_one_line() -> None:
    m = nn.Sequential(nn.ConvTranspose2d(1, 1, 2, padding=2)).double()
    refused(m, torch.zeros(1, 1, 6, 6, dtype=torch.float64), "ConvTranspose2d", "padding")


@pytest.mark.parametrize("seed,dtype", [(s, dt) for s in range(4) for dt in ("fp32", "e4m3fn")])
def test_the_audit_routes_agree(seed: int, dtype: str) -> None:
    """The tensor filter's verdict and kinked copies equal the IR's exact route's."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    kw = KWARGS[seed % len(KWARGS)]
    m = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.ConvTranspose2d(4, 2, 3, **kw), nn.ReLU(), nn.Flatten(), nn.LazyLinear(3))
    x = torch.tensor([[rng.randint(-4, 4) / 4 for _ in range(64)] for _ in range(3)]
                     ).reshape(3, 1, 8, 8)
    m(x)  # the lazy linear layer takes its size
    dt = parse_dtype(dtype)
    mm, _ = prepared(m, dt)
    y = torch.tensor([rng.randrange(3) for _ in range(3)])
    aud = Auditor(mm, x, "ce", dtype=dt)
    got = aud.audit(x, y)["exact"]
    aud.tfilter = None
    ref = aud.audit(x, y)["exact"]
    assert got.get("filter") == "tensor" and ref.get("filter") is None
    assert (got["kinked"] + got["dead"], got["differentiable"]) == \
        (ref["kinked"] + ref["dead"], ref["differentiable"])


class Shuffle(nn.Module):
    """conv, pixel shuffle by 2, relu, pixel unshuffle, conv (super-resolution heads)."""

    def __init__(self) -> None:
        super().__init__()
        self.c, self.s, self.u = nn.Conv2d(1, 8, 3, padding=1), nn.PixelShuffle(2), \
            nn.PixelUnshuffle(2)
        self.o = nn.Conv2d(8, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.o(self.u(torch.relu(self.s(self.c(x))))).flatten(1)


def test_pixel_shuffles_move_entries_as_pytorch_does() -> None:
    at_kink = checked_over_seeds(Shuffle, (1, 3, 3), 2)
    assert at_kink >= 2


def test_pixel_shuffle_routes_agree_copy_by_copy() -> None:
    """Dead relu copies after a pixel shuffle: the tensor filter names the same copies as
    the IR's exact route."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.PixelShuffle(2), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 3))
    x = torch.randint(-2, 3, (2, 1, 4, 4)).float() / 2
    y = torch.tensor([0, 2])
    aud = Auditor(m, x, "ce")
    got = aud.audit(x, y)["exact"]
    aud.tfilter = None
    ref = aud.audit(x, y)["exact"]
    assert got.get("filter") == "tensor" and got["dead"] == ref["dead"] > 0
    assert [c["neuron"] for c in got["dead_copies"]] == [c["neuron"] for c in ref["dead_copies"]]


@pytest.mark.parametrize("make", [lambda: nn.Hardshrink(), lambda: nn.Hardshrink(0.25)])
def test_hardshrink_is_refused_as_discontinuous(make: Any) -> None:
    m = nn.Sequential(nn.Linear(2, 2), make()).double()
    refused(m, torch.zeros(1, 2, dtype=torch.float64), "Hardshrink", "discontinuous")


@pytest.mark.parametrize("how", [{"padding": "same"}, {"padding": 1, "padding_mode": "reflect"},
                                 {"padding": 2, "padding_mode": "replicate"},
                                 {"padding": 1, "padding_mode": "circular"}],
                         ids=["same", "reflect", "replicate", "circular"])
def test_padding_modes_in_the_tensor_filter(how: dict[str, Any]) -> None:
    """Convolutions padded as PyTorch pads them (``F.pad`` with the module's widths, then
    no padding): the filter's enclosures contain the exact outputs, and its dead and
    kinked copies and verdicts are the IR route's."""
    for seed in range(3):
        g = torch.Generator().manual_seed(seed)
        m = nn.Sequential(nn.Conv2d(1, 3, 3, **how), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        x = torch.randint(-2, 3, (2, 1, 6, 6), generator=g).double() / 2
        m = coarse(m, g)
        encloses_exactly(m, x)
        aud = Auditor(m, x, "sum")
        got = aud.audit(x, torch.ones(2))["exact"]
        aud.tfilter = None
        ref = aud.audit(x, torch.ones(2))["exact"]
        assert got.get("filter") == "tensor"
        assert (got["kinked"] + got["dead"], got["differentiable"]) == \
            (ref["kinked"] + ref["dead"], ref["differentiable"])


def test_the_filters_certificate_goes_before_the_oracle(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """A small CNN without max pools (the IR's filter goes first) in e4m3fn whose batch
    has live kinks the topmost group test leaves to the oracle: the tensor filter's
    certificate (one-sided derivatives that do not cancel) is asked first and decides,
    where the oracle's witness search ran out of a 30 s limit before."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(),
                      nn.AvgPool2d(3, 2, ceil_mode=True), nn.Flatten(), nn.Linear(4 * 64, 10))
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, 17, (4, 3, 16, 16), generator=g).float() / 16
    y = torch.randint(0, 10, (4,), generator=g)
    dt = parse_dtype("e4m3fn")
    mm, _ = prepared(m, dt)
    aud = Auditor(mm, x, "ce", dtype=dt, time_limit=10)
    assert aud.ir_first

    def no_oracle(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the oracle ran")

    monkeypatch.setattr("adcorrect.audit.exact.decide", no_oracle)
    e = aud.audit(x, y)["exact"]
    assert (e.get("filter"), e["differentiable"], e["undecided"]) == ("tensor", False, None)
    assert e["witness"]["kind"] == "L'(w; d) + L'(w; -d) != 0"


def test_rrelu_in_eval_mode_is_pytorchs_leaky_relu() -> None:
    """RReLU in eval mode: slope (lower + upper) / 2 in double, as its kernel computes it,
    rounded to the compute dtype (RReLU(1/8, 1/3) in float32: 0.2291666716337204, by
    torch.tensor(..., dtype=float32)); exact AD equals float64 autograd at the kinks
    (RReLU(1/8, 3/8): slope 1/4, so float64 computes exactly); in training mode (random
    slopes) refused in one line."""
    at_kink = 0
    for seed in range(4):
        g = torch.Generator().manual_seed(seed)
        m = coarse(nn.Sequential(nn.Linear(3, 4), nn.RReLU(1 / 8, 3 / 8), nn.Linear(4, 2)),
                   g).eval()
        net, fw = ad_is_autograds(m, torch.randint(-1, 2, (1, 3), generator=g).double())
        at_kink += kinked(net, fw)
    assert at_kink >= 1
    m32 = nn.Sequential(nn.Linear(3, 4), nn.RReLU(), nn.Linear(4, 2)).eval()
    x = torch.randn(2, 3)
    res = Auditor(m32, x, "sum").audit(x, torch.ones(2))
    slope = Fraction(torch.tensor((1 / 8 + 1 / 3) / 2, dtype=torch.float32).item())
    assert slope == Fraction(0.2291666716337204)
    assert any(str(slope) in a for a in res["activations"]), res["activations"]
    refused(nn.Sequential(nn.Linear(3, 4), nn.RReLU()).double().train(),
            torch.zeros(1, 3, dtype=torch.float64), "RReLU", "training mode", "random")
