"""pytest setup: the test folders mirror python/adcorrect/ (tests/<layer>/ tests
adcorrect/<layer>/); the shared helpers (netgen.py, an independent reference
evaluator, and fuzzing.py) live here, in tests/, and are imported by name."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture
def float32_default() -> Iterator[None]:
    """torch's default dtype float32 for the test (tests/torchfx/test_torch_crosscheck.py
    sets float64 at import; models built with default dtypes are float32 elsewhere)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    yield
    torch.set_default_dtype(old)
