"""Plain-text tables for people (the CLI's default output)."""

from __future__ import annotations

from collections.abc import Sequence

from .display import printable


def render(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A left-aligned text table with a header rule (control characters escaped)."""
    cells = [[printable(str(h)) for h in headers]] + [[printable(str(c)) for c in r]
                                                      for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
