"""Models as PyTorch runs them: hooks, replaced forwards and parametrizations are refused
with one line, and an import whose outputs differ from PyTorch's forward is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from adcorrect.audit.run import Auditor
from adcorrect.cli import check_result
from adcorrect.core.errors import InputError
from adcorrect.torch import from_module
from adcorrect.torchfx.verify import check_forward, tolerance
from torch import nn
from torch.nn.utils import parametrize


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).float()


X = torch.tensor([[0.5, -1.0], [1.0, 2.0]], dtype=torch.float32)


def _hook(module: nn.Module, args: object, out: torch.Tensor) -> torch.Tensor:
    return out * 1.01


class _Double(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * x


@pytest.mark.parametrize("how", ["forward_hook", "pre_hook", "instance_forward",
                                 "parametrize"])
def test_models_that_do_not_run_as_traced_are_refused(how: str) -> None:
    m = _mlp()
    if how == "forward_hook":
        m[2].register_forward_hook(_hook)
    elif how == "pre_hook":
        m[0].register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    elif how == "instance_forward":
        m[1].forward = nn.Tanh().forward  # another module's forward on this instance
    else:
        parametrize.register_parametrization(m[0], "weight", _Double())
    with pytest.raises(InputError) as e:
        from_module(m, X[:1])
    assert "\n" not in str(e.value) and ("hook" in str(e.value) or "forward" in str(e.value)
                                         or "parametrized" in str(e.value))


def test_global_hooks_are_refused() -> None:
    h = nn.modules.module.register_module_forward_hook(_hook)
    try:
        with pytest.raises(InputError, match="global module hook"):
            from_module(_mlp(), X[:1])
    finally:
        h.remove()


def test_forward_comparison_tolerance() -> None:
    assert tolerance(torch.float32) == pytest.approx(2 ** -11.5)
    check_forward(torch.tensor([[0.693]]), np.array([[0.6930001]]), torch.float32)
    with pytest.raises(InputError, match="example 0, output 0: PyTorch's forward gives 0.693"):
        check_forward(torch.tensor([[0.693]]), np.array([[0.703]]), torch.float32)
    with pytest.raises(InputError, match="shape"):
        check_forward(torch.zeros(2, 3), np.zeros((2, 2)), torch.float32)


class _Lying(nn.Module):
    """fx traces forward; PyTorch runs __call__, which this class overrides."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self.fc(x) + 0.01


def test_audit_and_check_refuse_an_import_that_differs(tmp_path: Path) -> None:
    m = _Lying()
    with pytest.raises(InputError, match="not the function PyTorch computes"):
        Auditor(m, X, "sum").audit(X, torch.tensor([1.0, 1.0]))
    ok = _mlp()
    torch.save(ok, tmp_path / "m.pt")
    torch.save({"x": X, "y": torch.tensor([1.0, 1.0])}, tmp_path / "b.pt")
    r = check_result(str(tmp_path / "m.pt"), None, "pytorch", str(tmp_path / "b.pt"), "sum")
    assert r["W"] == 13


def test_impossible_convolution_refused_from_shapes() -> None:
    # the kernel is larger than the input: refused from the shapes, before any of the
    # 998,001 weights is converted to a rational (the conversion is lazy)
    with pytest.raises(InputError, match=r"the kernel \(999, 999\) is larger than the "
                                         r"\(padded\) input \(2, 2\)"):
        from_module(nn.Conv2d(1, 1, 999), torch.zeros(1, 1, 2, 2))


class _StraightThrough(torch.autograd.Function):
    """relu forward, identity backward (a straight-through estimator)."""

    @staticmethod
    def forward(ctx: object, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return x.relu()

    @staticmethod
    def backward(ctx: object, g: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return g


class _STE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _StraightThrough.apply(self.fc(x))


def test_custom_autograd_function_is_refused() -> None:
    m = _STE().float()
    with pytest.raises(InputError, match="custom autograd function _StraightThrough"):
        Auditor(m, X, "sum").audit(X, torch.tensor([1.0, 1.0]))
