"""Text that is safe to print: control characters shown as escapes, long lines elided."""

from __future__ import annotations

#: Longest error line the CLI prints (characters, the "adcorrect: error: " prefix included).
MAX_LINE = 300


def printable(text: str) -> str:
    """text with every non-printable character (ANSI escapes, newlines, tabs, other
    control or format characters) replaced by its escape, e.g. ``\\x1b``."""
    if text.isprintable():
        return text
    out = []
    for c in text:
        if c.isprintable():
            out.append(c)
        elif ord(c) <= 0xFF:
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) <= 0xFFFF:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    return "".join(out)


def elide(text: str, limit: int) -> str:
    """text cut to at most limit characters, the middle replaced by ' ... '."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - 5)
    head = keep * 2 // 3
    return text[:head] + " ... " + text[len(text) - (keep - head):] if keep > head \
        else text[:limit]


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """text as one printable line of at most limit characters (white space collapsed)."""
    return elide(printable(" ".join(text.split())), limit)
