"""The audit names the exact constants it used (slopes, bounds: the Python floats rounded to
float32 as PyTorch's kernels use them) and unsupported modules name themselves."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from adcorrect.audit.report import render_audit
from adcorrect.audit.run import Auditor
from adcorrect.core.errors import InputError
from adcorrect.torch import from_module
from torch import nn


def test_audit_reports_the_float32_slope_and_bounds() -> None:
    m = nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(0.01), nn.Hardtanh(-0.3, 0.7),
                      nn.Linear(2, 1)).float()  # a float32 model whatever the default dtype
    x = torch.tensor([[1.0, -1.0]], dtype=torch.float32)
    y = torch.tensor([1.0], dtype=torch.float32)
    r = Auditor(m, x, "sum").audit(x, y)
    f32 = [Fraction(float(np.float32(v))) for v in (0.01, -0.3, 0.7)]
    assert r["activations"] == [f"hardtanh({f32[1]},{f32[2]})", f"leaky_relu({f32[0]})"]
    assert f32[0] == Fraction(5368709, 536870912)
    assert "leaky_relu(5368709/536870912 (~0.009999999776))" in render_audit(r)


def test_multihead_attention_names_itself() -> None:
    """MultiheadAttention is imported with batch_first=True; otherwise (the batch axis
    second) one line says so; a module still unsupported names itself."""
    class M(nn.Module):
        def __init__(self, batch_first: bool) -> None:
            super().__init__()
            self.att = nn.MultiheadAttention(4, 2, batch_first=batch_first)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.att(x, x, x)[0]

    assert from_module(M(True), torch.zeros(1, 3, 4)).is_smooth
    with pytest.raises(InputError, match=r"^MultiheadAttention at module att: "
                                         r"MultiheadAttention needs batch_first=True"):
        from_module(M(False), torch.zeros(1, 3, 4))

    class D(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dec = nn.TransformerDecoderLayer(4, 2, 8, batch_first=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.dec(x, x)

    with pytest.raises(InputError, match=r"^unsupported module TransformerDecoderLayer at "
                                         r"module dec \(called with 2 arguments"):
        from_module(D(), torch.zeros(1, 3, 4))




class _Sine(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(1, 2, 3)
        self.fc = nn.Linear(2 * 4 * 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.sin(self.c(x)).flatten(1))


def test_refusals_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the tensor filter cannot run is named in one line (torch.fx's interpreter
    appends the node it was executing to whatever a node raises), and a model torch cannot
    run on the batch is an InputError, not a traceback."""
    monkeypatch.setenv("ADCORRECT_MAX_EXACT_MODEL_PARAMS", "10")  # no exact import
    x = torch.zeros(2, 1, 6, 6)
    with pytest.raises(InputError) as e:
        Auditor(_Sine(), x, "ce").audit(x, torch.tensor([0, 1]))
    assert "function sin" in str(e.value) and "\n" not in str(e.value)
    assert "While executing" not in str(e.value)
    small = torch.zeros(2, 1, 2, 2)  # smaller than the 3x3 kernel
    with pytest.raises(InputError, match="^torch cannot run the model on the batch"):
        Auditor(_Sine(), small, "ce")


def test_an_overflowing_enclosure_is_no_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the import limit, float64 radii that overflow (deep networks) leave copies
    uncertain, not an unsupported model; an infinite output of the model itself is one
    line saying so."""
    from adcorrect.audit.tfilter import Overflow, TensorFilter

    monkeypatch.setenv("ADCORRECT_MAX_EXACT_MODEL_PARAMS", "10")
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).double()
    x = torch.tensor([[1.0, 2.0], [2.0, -3.0]], dtype=torch.float64)
    y = torch.tensor([1.0, 2.0], dtype=torch.float64)
    found = TensorFilter(m, torch.float64).run(x)
    assert found.live == 0

    def overflow(self: TensorFilter, x: torch.Tensor, masks: object = None) -> None:
        raise Overflow("an infinite radius", found)

    monkeypatch.setattr(TensorFilter, "run", overflow)
    r = Auditor(m, x, "sum").audit(x, y)
    assert r["exact"]["filter"] == "tensor" and r["exact"]["differentiable"] is True
    monkeypatch.undo()
    monkeypatch.setenv("ADCORRECT_MAX_EXACT_MODEL_PARAMS", "10")
    with torch.no_grad():
        m[2].weight.fill_(1e308)
        m[2].bias.fill_(1e308)  # finite parameters, an infinite output
    with pytest.raises(InputError, match="gives inf: no finite loss to differentiate"):
        Auditor(m, x, "sum").audit(x, y)
