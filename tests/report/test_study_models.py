"""The study beyond MLPs: short runs of the ResNet (BatchNorm in training mode) and the
Transformer encoder are audited, decided and deterministic, keep e4m3fn parameters in the
format, and the report section shows their table and plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from adcorrect.report.study import section_markdown
from adcorrect.report.study_models import (
    build,
    plot,
    run_model,
    shaped,
    summary_markdown,
)

pytestmark = pytest.mark.usefixtures("float32_default")


@pytest.fixture(scope="module")
def runs() -> list[dict[str, Any]]:
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        return [run_model("resnet", "e4m3fn", steps=4, every=2),
                run_model("transformer-gelu", "bf16", steps=4, every=2)]
    finally:
        torch.set_default_dtype(old)


def test_models_have_the_published_shapes() -> None:
    x = torch.rand(3, 64)
    for kind in ("resnet", "transformer-relu", "transformer-gelu"):
        assert build(kind)(shaped(kind, x)).shape == (3, 10)
    res = build("resnet")
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in res.modules()) == 9  # stem, 2+2+2, 2 shortcuts
    enc = build("transformer-relu")
    assert len(enc.enc.layers) == 2 and enc.enc.layers[0].self_attn.embed_dim == 32


def test_short_runs_are_decided_and_deterministic(runs: list[dict[str, Any]]) -> None:
    for r in runs:
        s = r["stats"]
        assert (s["audited"], s["undecided_steps"], s["error_steps"]) == (2, 0, 0)
        assert all(rec["differentiable"] is not None for rec in r["records"])
    again = run_model("resnet", "e4m3fn", steps=4, every=2)
    assert again["records"] == runs[0]["records"] and again["stats"] == runs[0]["stats"]


def test_report_section_and_plot(tmp_path: Path, runs: list[dict[str, Any]]) -> None:
    clean = [{k: v for k, v in r.items() if k not in ("seconds", "audit_seconds")}
             for r in runs]
    d = tmp_path / "study"
    d.mkdir()
    assert plot(clean, d) == "rates-models.png" and (d / "rates-models.png").stat().st_size
    (d / "study.json").write_text(json.dumps(
        {"batch": 64, "steps": 3, "every": 1, "lr": 0.1, "runs": [], "model_runs": clean,
         "model_protocol": {"batch": 16, "steps": 4, "every": 2, "lr": 0.05}}))
    text = section_markdown(d)
    assert "### Beyond MLPs" in text and "study/rates-models.png" in text
    lines = summary_markdown(clean)
    assert lines[2].startswith("| resnet | e4m3fn |") and lines[3].startswith(
        "| transformer-gelu | bf16 |")
