"""JSON input shared by both spec versions: bounded reading and decoding, field checks,
exact rationals named by where they occur.  One-line InputErrors only."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from ..core.files import read_text, regular_size
from ..core.limits import check, elide
from ..numbers.rationals import parse_rational


def read_json(path: str | Path) -> Any:
    """A JSON file, within the spec-size, digit and nesting limits (one-line errors); only a
    regular file is read (never a FIFO or a device)."""
    check("spec_bytes", regular_size(path, "spec file"), str(path))
    return parse_json(read_text(path, "spec file"), str(path))


def parse_json(text: str, where: str) -> Any:
    """Decode JSON text: integers beyond the digit limit and nesting beyond the depth limit
    are refused before they are built, and so is an object with a repeated key."""
    def big_int(s: str) -> int:
        check("digits", len(s.lstrip("-")), f"{where}: integer {s[:20]}...")
        return int(s)

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise InputError(f"{where}: the key {elide(k, 60)!r} occurs twice in one "
                                 "object")
            out[k] = v
        return out

    depth = _json_depth(text)
    check("json_depth", depth, f"{where}: nesting")
    try:
        return json.loads(text, parse_int=big_int, object_pairs_hook=unique)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: malformed JSON ({e.msg} at line {e.lineno})") from None
    except (RecursionError, ValueError) as e:
        raise InputError(f"{where}: malformed JSON ({type(e).__name__})") from None


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _json_depth(text: str) -> int:
    """Largest bracket nesting of a JSON text (strings skipped)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    import numpy as np

    codes = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max(initial=0))


def check_fields(obj: Any, allowed: set[str], where: str) -> dict[str, Any]:
    """obj as a JSON object with only the allowed fields (InputError naming the first other)."""
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected an object")
    extra = set(obj) - allowed
    if extra:
        raise InputError(f"{where}: unknown field {min(extra)!r}")
    return obj


def rational_at(value: Any, where: str) -> Fraction:
    """An exact rational from a spec value, errors prefixed with where it is."""
    try:
        return parse_rational(value)
    except InputError as e:
        raise InputError(f"{where}: {e}") from None
