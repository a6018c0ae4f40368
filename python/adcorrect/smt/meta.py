"""The adcorrect-meta record of a generated SMT file (kept light: solver workers import it)."""

from __future__ import annotations

import json
from typing import Any

#: Keys every record has, all strings (what the runners read without further checks).
REQUIRED = ("query", "format", "semantics", "expected", "logic", "choice")


class MetaError(ValueError):
    """A damaged adcorrect-meta line."""


def read_meta(text: str) -> dict[str, Any] | None:
    """The adcorrect-meta record of a generated file (a comment line after the SMT-LIB
    header, before the first declaration), or None if there is none; MetaError if the
    line is there but is not a record of the expected shape."""
    for line in text.splitlines():
        if line.startswith("; adcorrect-meta: "):
            try:
                meta = json.loads(line[len("; adcorrect-meta: "):])
            except (ValueError, RecursionError):
                raise MetaError("malformed adcorrect-meta line (not JSON)") from None
            if not isinstance(meta, dict) or any(
                    not isinstance(meta.get(k), str) for k in REQUIRED):
                raise MetaError("malformed adcorrect-meta line (expected a record with "
                                f"the string fields {', '.join(REQUIRED)})")
            if not isinstance(meta.get("decode", {}), dict):
                raise MetaError("malformed adcorrect-meta line (decode is not a record)")
            return meta
        if line.startswith(("(declare-", "(define-", "(assert", "(check-sat")):
            break
    return None
