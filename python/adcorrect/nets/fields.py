"""JSON input shared by both spec versions: bounded reading and decoding, field checks,
exact rationals named by where they occur.  One-line InputErrors only."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from ..core.limits import check, check_file
from ..numbers.rationals import parse_rational


def read_json(path: str | Path) -> Any:
    """A JSON file, within the file-size, digit and nesting limits (one-line errors)."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    check_file(path, size)
    try:
        text = p.read_text()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file") from None
    return parse_json(text, str(path))


def parse_json(text: str, where: str) -> Any:
    """Decode JSON text: integers beyond the digit limit and nesting beyond the depth limit
    are refused before they are built."""
    def big_int(s: str) -> int:
        check("digits", len(s.lstrip("-")), f"{where}: integer {s[:20]}...")
        return int(s)

    depth = _json_depth(text)
    check("json_depth", depth, f"{where}: nesting")
    try:
        return json.loads(text, parse_int=big_int)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: malformed JSON ({e.msg} at line {e.lineno})") from None
    except (RecursionError, ValueError) as e:
        raise InputError(f"{where}: malformed JSON ({type(e).__name__})") from None


def _json_depth(text: str) -> int:
    """Largest bracket nesting of a JSON text (strings skipped), in one linear pass."""
    depth = best = 0
    in_str = escape = False
    for ch in text:
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    return best


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
