"""pytest setup: the test folders mirror python/adcorrect/ (tests/<layer>/ tests
adcorrect/<layer>/); the shared helpers (netgen.py, an independent reference
evaluator, and fuzzing.py) live here, in tests/, and are imported by name."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
