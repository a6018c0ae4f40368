"""Operations written in real models: ``x.clamp(min, max)``, ``x.clip``, ``clamp_min`` and
``clamp_max`` (the rule of ``torch.clamp``, in the IR, the tensor filter, the execution
audit and the structure read off the graph), sums over axes (``x.sum(dims)``,
``torch.sum``), padding modules and nearest-neighbour upsampling."""

from __future__ import annotations

from fractions import Fraction as Q
from typing import Any

import pytest
import torch
from adcorrect.audit.dtypes import parse_dtype
from adcorrect.audit.run import Auditor
from adcorrect.core.errors import InputError
from adcorrect.exact.engine import backward, forward
from adcorrect.torch import from_module
from torch import nn


def coarse(m: nn.Module, g: torch.Generator) -> nn.Module:
    """m in float64 with parameters in {-1, -1/2, 0, 1/2, 1} drawn from g (the same
    whatever the default dtype): activations meet their kinks."""
    m = m.double()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randint(-2, 3, p.shape, generator=g).double() / 2)
    return m


def ad_is_autograds(m: nn.Module, x: torch.Tensor) -> tuple[Any, Any]:
    """Import m at one float64 example: its outputs are m's and its exact AD (PyTorch's
    choices) is float64 autograd's, entry by entry; (network, forward pass)."""
    net = from_module(m, x)
    w = net.values
    assert w is not None
    fw = forward(net, w)
    assert [float(fw.z[o]) for o in net.outputs] == m(x).reshape(-1).tolist()
    m.zero_grad()
    m(x).sum().backward()
    grad = [Q(v) for p in m.parameters() for v in p.grad.reshape(-1).tolist()]
    assert list(backward(net, w, fw, "pytorch").grad) == grad
    return net, fw


def kinked(net: Any, fw: Any, at_zero: bool = False) -> bool:
    """Whether some activation input of the example is on a kink (of relu, with
    ``at_zero``)."""
    return any((fw.y[k] == 0 and n.activation.name == "relu") if at_zero else
               fw.y[k] in n.activation.kinks for k, n in enumerate(net.neurons)
               if n.activation.kinks)


def encloses(m: nn.Module, xs: torch.Tensor) -> None:
    """The tensor filter runs m (float64) on the batch and its enclosures contain m's
    float64 outputs."""
    from adcorrect.audit.tfilter import TensorFilter

    found = TensorFilter(m, torch.float64).run(xs)
    assert found.out_r is not None
    assert bool(((found.out - m(xs)).abs() <= found.out_r).all())


def refused(m: nn.Module, x: torch.Tensor, *words: str) -> None:
    """Importing m is refused with one line naming ``words``."""
    with pytest.raises(InputError) as exc:
        from_module(m, x)
    msg = str(exc.value)
    assert "\n" not in msg and all(w in msg for w in words), msg


class Clamped(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 2)
        self.fc = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x).clamp(min=0.0, max=1.0)  # (B, 3, 2, 2)
        h = torch.sum(h.clip(-0.5, 0.5), dim=(2, 3))  # (B, 3)
        h = self.fc(h).clamp(-1).clamp_max(0.5)
        return torch.clamp_min(h, -0.5).sum(-1, keepdim=True)  # (B, 1)


def _model(seed: int) -> nn.Module:
    return coarse(Clamped(), torch.Generator().manual_seed(seed))


def test_ad_through_clamp_methods_and_sums_is_autograds() -> None:
    """Exact AD (PyTorch's derivative at a clamp bound) equals float64 autograd entry by
    entry, on examples with copies on the bounds."""
    at_bound = 0
    for seed in range(10):
        m = _model(seed)
        g = torch.Generator().manual_seed(seed)
        x = torch.randint(-1, 2, (1, 1, 3, 3), generator=g).double()
        net, fw = ad_is_autograds(m, x)
        at_bound += kinked(net, fw)
    assert at_bound >= 3


def test_audit_records_every_clamp_call() -> None:
    """The execution audit records the method calls as activation calls, one to one
    with the IR's activation neurons (else the float and exact kinks are not matched);
    the tensor filter runs the clamps (a sum over axes it leaves to the IR)."""
    m = _model(3).float()
    g = torch.Generator().manual_seed(1)
    x = torch.randint(-1, 2, (4, 1, 3, 3), generator=g).float()
    y = torch.randn(4, 1, generator=g).round()
    for tensor_first in (False, True):
        aud = Auditor(m, x, "mse", dtype=parse_dtype("fp32"))
        aud.tensor_first = tensor_first
        r = aud.audit(x, y)
        assert r["exact"]["undecided"] is None
        assert r["differ"]["matched"] and r["differ"]["exact_only"] == 0
    from adcorrect.audit.tkernels import Unsupported

    assert aud.tfilter is not None
    with pytest.raises(Unsupported, match="function sum"):  # past the clamp methods
        aud.tfilter.run(x)


class _Bad(nn.Module):
    def __init__(self, how: str) -> None:
        super().__init__()
        self.fc, self.how = nn.Linear(2, 2), how

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        if self.how == "all":
            return h.sum().reshape(1, 1)
        return torch.sum(h, 1, dtype=torch.float64)


@pytest.mark.parametrize(("how", "words"), [("all", "batch axis"), ("dtype", "dtype")])
def test_sums_that_are_not_per_example_are_one_line(how: str, words: str) -> None:
    refused(_Bad(how), torch.ones(1, 2), words)


class Padded(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pad = nn.ZeroPad2d((1, 0, 0, 1))
        self.conv = nn.Conv2d(1, 2, 2)
        self.fc = nn.Linear(2 * 4 * 4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv(self.pad(x)))  # (B, 2, 3, 3)
        h = nn.functional.pad(h, (0, 1, 1, 0), value=0.5)  # (B, 2, 4, 4)
        return self.fc(h.flatten(1))


def test_constant_padding_in_the_ir_and_the_tensor_filter() -> None:
    """ZeroPad2d and F.pad(value=1/2): exact AD equals autograd (relus on their kinks
    included); the tensor filter's enclosures contain the float64 outputs."""

    at_kink = 0
    for seed in range(8):
        g = torch.Generator().manual_seed(seed)
        m = coarse(Padded(), g)
        net, fw = ad_is_autograds(m, torch.randint(-1, 2, (1, 1, 3, 3), generator=g).double())
        at_kink += kinked(net, fw, at_zero=True)
        encloses(m, torch.randint(-1, 2, (3, 1, 3, 3), generator=g).double())
    assert at_kink >= 2


class _Pads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.pads = nn.Sequential(nn.ReflectionPad1d(1), nn.ReplicationPad1d((0, 2)),
                                  nn.ConstantPad1d((1, 0), -0.25), nn.CircularPad1d(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.pads(torch.relu(self.fc(x)).unsqueeze(1))).squeeze(1)


def test_padding_modules_follow_f_pad() -> None:
    """Reflection, replication, constant and circular padding modules import by F.pad's
    rule: outputs and exact AD equal float64 PyTorch's."""
    for seed in range(6):
        g = torch.Generator().manual_seed(seed)
        ad_is_autograds(coarse(_Pads(), g), torch.randint(-1, 2, (1, 4), generator=g).double())


def test_padding_the_batch_axis_is_one_line() -> None:
    class _Bad(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return nn.functional.pad(torch.relu(x), (0, 0, 1, 0))

    refused(nn.Sequential(nn.Linear(2, 2), _Bad()), torch.ones(1, 2), "batch axis")


class Upsampled(nn.Module):
    def __init__(self, **kw: object) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 2)
        self.up = nn.Upsample(scale_factor=2)
        self.kw = kw

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.up(torch.relu(self.conv(x)))  # (B, 2, 4, 4)
        h = nn.functional.interpolate(h, **self.kw)
        return torch.relu(h).flatten(1)


@pytest.mark.parametrize("kw", [{"scale_factor": 3}, {"size": (5, 7)},
                                {"size": (3, 6), "mode": "nearest-exact"},
                                {"scale_factor": 1.5}])
def test_nearest_upsampling_by_pytorchs_index_map(kw: dict[str, object]) -> None:
    """nn.Upsample and F.interpolate in nearest modes, integer and fractional scales:
    outputs and exact AD equal float64 PyTorch's; the tensor filter's enclosures contain
    the outputs."""

    for seed in range(3):
        g = torch.Generator().manual_seed(seed)
        m = coarse(Upsampled(**kw), g)
        ad_is_autograds(m, torch.randint(-1, 2, (1, 1, 3, 3), generator=g).double())
        encloses(m, torch.randint(-1, 2, (2, 1, 3, 3), generator=g).double())


def test_other_interpolation_modes_are_one_line() -> None:
    refused(Upsampled(scale_factor=2, mode="bilinear"), torch.ones(1, 1, 3, 3), "bilinear")


class PReLUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 2)
        self.act = nn.PReLU(3)
        self.fc = nn.Linear(12, 2)
        self.a = nn.Parameter(torch.tensor([0.25]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.conv(x)).flatten(1)
        return nn.functional.prelu(self.fc(h), self.a)


def test_prelu_slopes_are_parameters() -> None:
    """PReLU (per channel and shared, module and function) as relu(x) + a (x - relu(x)):
    outputs and exact AD equal float64 autograd, the slopes' gradients min(x, 0) and
    PyTorch's slope a at 0 included; the audit matches the float kinks one to one."""
    at_kink = 0
    for seed in range(8):
        g = torch.Generator().manual_seed(seed)
        m = coarse(PReLUNet(), g)
        net, fw = ad_is_autograds(m, torch.randint(-1, 2, (1, 1, 3, 3), generator=g).double())
        at_kink += kinked(net, fw, at_zero=True)
    assert at_kink >= 3
    m = coarse(PReLUNet(), torch.Generator().manual_seed(1)).float()
    x = torch.randint(-1, 2, (4, 1, 3, 3), generator=torch.Generator().manual_seed(2)).float()
    r = Auditor(m, x, "mse", dtype=parse_dtype("fp32")).audit(x, torch.zeros(4, 2))
    assert r["exact"]["undecided"] is None and r["differ"]["matched"]


class Tiles(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(3, 2), nn.Linear(3, 2)
        self.t = nn.Threshold(0.5, 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.stack([torch.relu(self.a(x)), self.t(self.b(x))], dim=1)  # (B, 2, 2)
        h = h.unsqueeze(2).expand(-1, 2, 3, 2).repeat(1, 1, 1, 2)  # (B, 2, 3, 4)
        return torch.clamp(h, max=0.5).flatten(1)


def test_stack_expand_repeat_and_threshold() -> None:
    """torch.stack, x.expand, x.repeat and nn.Threshold(t, t) (PyTorch's slope 0 at t):
    outputs and exact AD equal float64 autograd; the tensor filter encloses the outputs;
    a threshold whose value is not its threshold is discontinuous (one line)."""

    at_kink = 0
    for seed in range(8):
        g = torch.Generator().manual_seed(seed)
        m = coarse(Tiles(), g)
        net, fw = ad_is_autograds(m, torch.randint(-1, 2, (1, 3), generator=g).double())
        at_kink += kinked(net, fw)
        encloses(m, torch.randint(-1, 2, (3, 3), generator=g).double())
    assert at_kink >= 3
    refused(nn.Sequential(nn.Linear(2, 2), nn.Threshold(0.0, 1.0)), torch.ones(1, 2),
            "discontinuous")


def test_glu_is_a_gated_product() -> None:
    """GLU (module and function): the first half times the sigmoid of the second, decided
    by the certified engine with the forward check passing."""
    m = nn.Sequential(nn.Linear(3, 4), nn.GLU(), nn.Linear(2, 4))
    m.add_module("glu2", nn.GLU(dim=1))
    x = torch.randint(-2, 3, (4, 3), generator=torch.Generator().manual_seed(0)).float()
    e = Auditor(m, x, "mse", dtype=parse_dtype("fp32")).audit(x, torch.zeros(4, 2))["exact"]
    assert e["undecided"] is None and e["differentiable"] is True


class Branches(nn.Module):
    """Inception-style: branches concatenated along the channels, then a max pool."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(1, 2, 1), nn.Conv2d(1, 2, 3, padding=1)
        self.fc = nn.Linear(4 * 2 * 2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.cat([torch.relu(self.a(x)), torch.relu(self.b(x))], dim=1)
        return self.fc(nn.functional.max_pool2d(h, 2).flatten(1))


def test_concatenation_in_the_tensor_filter() -> None:
    """torch.cat reaches the tensor filter (its tensors arrive in a list): its verdicts
    are the IR route's on every batch, and its enclosures contain the outputs."""

    tensor_decided = 0
    for seed in range(8):
        g = torch.Generator().manual_seed(seed)
        m = coarse(Branches(), g).float()
        x = torch.randint(-1, 2, (3, 1, 4, 4), generator=g).float()
        y = torch.randint(0, 2, (3,), generator=g)
        verdicts = []
        for ir_first in (True, False):
            aud = Auditor(m, x, "ce", dtype=parse_dtype("fp32"))
            aud.ir_first, aud.tensor_first = ir_first, not ir_first
            e = aud.audit(x, y)["exact"]
            verdicts.append((e["differentiable"], e["inc"], e["undecided"] is None))
            tensor_decided += e.get("filter") == "tensor"
        assert verdicts[0] == verdicts[1], seed
        encloses(m.double(), x.double())
    assert tensor_decided >= 4


class Normed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.soft = nn.Linear(3, 4), nn.Linear(4, 2), nn.Softsign()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(nn.functional.normalize(self.soft(self.fc1(x)), dim=1))


def test_softsign_and_normalize_through_the_certified_engine() -> None:
    """Softsign as x / (1 + |x|) and F.normalize as x / max(||x||, eps): decided
    differentiable with Softsign inputs exactly 0 (zero jumps), the import's outputs
    checked against the model's on every batch (the forward check); another p is one
    line."""
    g = torch.Generator().manual_seed(0)
    m = coarse(Normed(), g)
    for seed in range(3):
        x = torch.randint(-2, 3, (4, 3), generator=torch.Generator().manual_seed(seed)).float()
        e = Auditor(m.float(), x, "mse", dtype=parse_dtype("fp32")).audit(
            x, torch.zeros(4, 2))["exact"]
        # an |x| on its kink inside Softsign: its adjoint is 0 (x = 0 times the slope)
        assert (e["undecided"], e["differentiable"]) == (None, True) and e["kinked"] > 0
    refused(nn.Sequential(nn.Linear(2, 2), _PNorm()), torch.ones(1, 2), "p = 2")


class _PNorm(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(x, p=3.0)


def test_unflatten_is_a_view() -> None:
    """``nn.Unflatten`` (a dense layer's output read as feature maps): imported with exact
    AD equal to float64 autograd at kinks, run by the tensor filter; unflattening the
    batch axis or by named sizes is refused in one line."""
    g = torch.Generator().manual_seed(5)
    for _ in range(4):
        m = coarse(nn.Sequential(nn.Linear(3, 8), nn.Unflatten(1, (2, 4)), nn.ReLU(),
                                 nn.MaxPool1d(2), nn.Flatten(), nn.Linear(4, 2)), g)
        x = torch.randint(-2, 3, (1, 3), generator=g).double() / 2
        ad_is_autograds(m, x)
        encloses(m, torch.randint(-2, 3, (5, 3), generator=g).double() / 2)
    refused(nn.Sequential(nn.Unflatten(0, (1, 1)), nn.Flatten(0)), torch.ones(1, 3).double(),
            "Unflatten", "dim")
