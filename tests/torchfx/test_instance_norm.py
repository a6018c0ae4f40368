"""InstanceNorm (``nn.InstanceNorm1d/2d/3d``, ``F.instance_norm``): instance statistics
per example and channel, or the running statistics of a module that tracks them in eval
mode; torch's float64 autograd lies in the certified oracle's enclosures of the gradient."""

from __future__ import annotations

import pytest
import torch
from adcorrect.audit.run import Auditor
from adcorrect.core.errors import InputError
from adcorrect.torchfx.importer import from_module
from certad import assert_ad_in_enclosures
from torch import nn

F = nn.functional


class Net2d(nn.Module):
    def __init__(self, norm: nn.Module) -> None:
        super().__init__()
        self.c, self.n, self.o = nn.Conv2d(1, 3, 3, padding=1), norm, nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.o(F.silu(self.n(self.c(x))).mean((2, 3)))


class Net1d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c, self.n, self.o = nn.Conv1d(2, 3, 3), nn.InstanceNorm1d(3), nn.Linear(9, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.o(torch.tanh(self.n(self.c(x))).flatten(1))


class Functional(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c, self.o = nn.Conv2d(1, 2, 2), nn.Linear(2, 3)
        self.g = nn.Parameter(torch.tensor([1.5, -0.5]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.instance_norm(self.c(x), weight=self.g, eps=1e-3)
        return self.o(F.gelu(h).mean((2, 3)))


def _tracked(train: bool) -> nn.Module:
    n = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    with torch.no_grad():
        n.running_mean.copy_(torch.tensor([0.25, -0.5, 1.0]))
        n.running_var.copy_(torch.tensor([0.5, 2.0, 1.0]))
        n.weight.copy_(torch.tensor([1.0, -2.0, 0.5]))
    return n.train(train)


@pytest.mark.parametrize("make", [
    lambda: Net2d(nn.InstanceNorm2d(3, affine=True)),
    lambda: Net2d(nn.InstanceNorm2d(3)),
    lambda: Net2d(_tracked(False)),
    lambda: Net2d(_tracked(True)),
    Net1d,
    Functional,
], ids=["affine", "plain", "running-eval", "running-train", "1d", "functional"])
def test_instance_norm_matches_torch(make: object) -> None:
    torch.manual_seed(3)
    m = make().double()  # type: ignore[operator]
    shape = (3, 2, 5) if isinstance(m, Net1d) else (3, 1, 4, 4)
    assert_ad_in_enclosures(m, torch.randn(*shape), torch.tensor([0, 2, 1]))


def test_instance_statistics_never_couple_the_examples() -> None:
    """Instance statistics (and running ones in eval mode) are per example: the import of
    one example succeeds (batch statistics would raise CouplesExamples)."""
    for norm in (nn.InstanceNorm2d(3, affine=True), _tracked(False), _tracked(True)):
        net = from_module(Net2d(norm).double(), torch.randn(1, 1, 4, 4, dtype=torch.float64))
        assert net.is_smooth


def test_an_unbatched_reading_is_refused() -> None:
    """PyTorch reads a 2-d input of InstanceNorm1d as one unbatched (C, L) example, which
    would normalise across the batch: refused with the module's name."""
    m = nn.Sequential(nn.Linear(4, 3), nn.InstanceNorm1d(3), nn.Linear(3, 2))
    with pytest.raises(InputError, match="InstanceNorm1d at 1 expects a 3-d batch"):
        from_module(m, torch.randn(1, 4))


def test_an_audit_with_instance_norm_and_relu() -> None:
    """A conv, InstanceNorm and relu CNN at a generic batch: no relu input is exactly 0
    (torch's float64 values of the normalised entries are all non-zero by far), so the
    batch loss is differentiable and decided."""
    torch.manual_seed(5)
    m = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.InstanceNorm2d(2, affine=True),
                      nn.ReLU(), nn.Flatten(), nn.Linear(32, 3))
    x = torch.randint(-8, 9, (4, 1, 4, 4)).float() / 8
    with torch.no_grad():
        assert float(m[1](m[0](x)).abs().min()) > 1e-4
    e = Auditor(m, x, "ce").audit(x, torch.tensor([0, 1, 2, 0]))["exact"]
    assert (e["undecided"], e["kinked"], e["differentiable"], e["inc"]) == (None, 0, True, False)
