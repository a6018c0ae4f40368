"""The adcorrect-meta record of a generated SMT file (kept light: solver workers import it)."""

from __future__ import annotations

import json
from typing import Any


def read_meta(text: str) -> dict[str, Any] | None:
    """The adcorrect-meta record of a generated file (a comment line after the SMT-LIB
    header, before the first declaration), or None."""
    for line in text.splitlines():
        if line.startswith("; adcorrect-meta: "):
            return json.loads(line[len("; adcorrect-meta: "):])
        if line.startswith(("(declare-", "(define-", "(assert", "(check-sat")):
            break
    return None
