"""The study's pieces: a short run is deterministic and keeps fp8 parameters in M^W; the
report section reads study.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from adcorrect.report.study import run_one, section_markdown, summary_markdown

pytestmark = pytest.mark.usefixtures("float32_default")


@pytest.fixture(scope="module")
def short_run() -> dict[str, Any]:
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        return run_one("e4m3fn", 16, steps=3)
    finally:
        torch.set_default_dtype(old)


def test_short_run_is_deterministic_and_in_format(short_run: dict[str, Any]) -> None:
    a = short_run
    b = run_one("e4m3fn", 16, steps=3)
    assert a["records"] == b["records"] and a["stats"] == b["stats"]
    assert a["stats"]["audited"] == 3
    assert all(r["not_in_format"] == 0 for r in a["records"])
    assert a["M"] == 253 and a["n"] == 32 and a["bound"] == 64 * 32 / 253


def test_report_section(tmp_path: Path, short_run: dict[str, Any]) -> None:
    run = {k: v for k, v in short_run.items() if k not in ("seconds", "audit_seconds")}
    d = tmp_path / "study"
    d.mkdir()
    (d / "study.json").write_text(json.dumps(
        {"batch": 64, "steps": 3, "every": 1, "lr": 0.1, "runs": [run]}))
    text = section_markdown(d)
    assert "## Real training" in text and "study/rates-width.png" in text
    assert summary_markdown([run])[2].startswith("| e4m3fn | 16 | 3 |")
    assert section_markdown(tmp_path / "none") == ""
