"""torchfx.load on hostile model files (issue 19): the module graph (shared children counted
at each use), the parameter limits and the tensor kinds are checked with torch alone,
before any exact conversion; ops.conv_output_size needs only shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from adcorrect.core.errors import InputError
from adcorrect.torchfx.load import (
    MAX_MODULE_USES,
    check_model_graph,
    check_model_size,
    load_model,
)
from adcorrect.torchfx.ops import conv_output_size
from adcorrect.torchfx.values import ModelParams
from torch import nn


def _doubled(levels: int) -> nn.Module:
    """levels of Sequential(m, m): 2^(levels+1) - 1 module uses, levels + 1 distinct."""
    m: nn.Module = nn.ReLU()
    for _ in range(levels):
        m = nn.Sequential(m, m)
    return m


def test_shared_children_counted_at_each_use() -> None:
    assert 2**16 - 1 <= MAX_MODULE_USES < 2**17 - 1
    check_model_graph(_doubled(15), "m")  # 65535 uses
    with pytest.raises(InputError, match=r"^m: the model calls more than 100000 modules "):
        check_model_graph(_doubled(16), "m")  # 131071 uses
    with pytest.raises(InputError, match=r"^m: the model calls more than 100000 modules "):
        check_model_graph(_doubled(10_000), "m")  # stops at the first level past the limit


def test_depth_and_cycles() -> None:
    m: nn.Module = nn.ReLU()
    for _ in range(99):
        m = nn.Sequential(m)
    check_model_graph(m, "m")  # 100 deep
    with pytest.raises(InputError, match=r"^m: modules nested more than 100 deep$"):
        check_model_graph(nn.Sequential(m), "m")
    c = nn.Sequential(nn.ReLU())
    c.add_module("self", c)
    with pytest.raises(InputError, match=r"^m: a Sequential module contains itself$"):
        check_model_graph(c, "m")


def test_tied_module_loads(tmp_path: Path) -> None:
    """A module used twice (a shared activation, tied layers) is an ordinary model."""
    lin, act = nn.Linear(2, 2), nn.ReLU()
    torch.save(nn.Sequential(lin, act, lin, act), tmp_path / "m.pt")
    m = load_model(tmp_path / "m.pt")
    assert len(list(m.parameters())) == 2


def test_model_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.save(nn.Linear(3, 2), tmp_path / "m.pt")  # 8 parameters
    monkeypatch.setenv("ADCORRECT_MAX_MODEL_PARAMS", "7")
    with pytest.raises(InputError, match=r": parameters and buffers: parameters and buffers "
                       r"of a PyTorch model file = 8 exceeds the limit 7 "):
        load_model(tmp_path / "m.pt")
    monkeypatch.setenv("ADCORRECT_MAX_MODEL_PARAMS", "8")
    m = load_model(tmp_path / "m.pt")
    monkeypatch.setenv("ADCORRECT_MAX_EXACT_MODEL_PARAMS", "7")
    with pytest.raises(InputError, match=r"^model: parameters and buffers of a PyTorch model "
                       r"imported as an exact network = 8 exceeds the limit 7 "):
        check_model_size(m)
    with pytest.raises(InputError, match=r"imported as an exact network = 8 exceeds"):
        ModelParams(m)  # the exact import checks before converting
    monkeypatch.setenv("ADCORRECT_MAX_EXACT_MODEL_PARAMS", "8")
    assert len(ModelParams(m).values) == 8


def test_parameter_kinds(tmp_path: Path) -> None:
    lin = nn.Linear(2, 1)
    lin.weight = nn.Parameter(torch.tensor([[1.0, float("nan")]]))
    torch.save(lin, tmp_path / "nan.pt")
    with pytest.raises(InputError, match=r"nan\.pt: parameter weight\[0,1\] is nan \(not a "
                       r"finite number\)$"):
        load_model(tmp_path / "nan.pt")
    lin.weight = nn.Parameter(torch.tensor([[1, 2]], dtype=torch.int64), requires_grad=False)
    torch.save(lin, tmp_path / "int.pt")
    with pytest.raises(InputError, match=r"int\.pt: parameter weight has dtype int64; PyTorch "
                       r"runs layers only with floating-point weights$"):
        load_model(tmp_path / "int.pt")


def test_conv_output_size() -> None:
    assert conv_output_size((5, 5), (3, 3), [(0, 0), (1, 1)], (1, 1), (1, 2)) == [3, 3]
    with pytest.raises(InputError, match=r"^the kernel \(1000, 1000\) is larger than the "
                       r"\(padded\) input \(2, 2\)$"):
        conv_output_size((2, 2), (1000, 1000), [(0, 0), (0, 0)], (1, 1), (1, 1))
