"""Printable, bounded lines (adcorrect.core.display)."""

from __future__ import annotations

from adcorrect.core.display import elide, one_line, printable
from adcorrect.core.tables import render


def test_printable_escapes_control_characters() -> None:
    assert printable("plain text, é λ") == "plain text, é λ"
    assert printable("a\x1b[31mred\x1b[0m") == "a\\x1b[31mred\\x1b[0m"
    assert printable("tab\there\nnl\x7f") == "tab\\x09here\\x0anl\\x7f"
    assert printable("\u202eevil\U000e0001") == "\\u202eevil\\U000e0001"


def test_elide_keeps_both_ends() -> None:
    assert elide("abc", 3) == "abc"
    text = "x" * 100 + "MIDDLE" + "y" * 100
    out = elide(text, 50)
    assert len(out) == 50
    assert out == "x" * 30 + " ... " + "y" * 15


def test_one_line_collapses_white_space_and_bounds_length() -> None:
    assert one_line("a\n  b\tc") == "a b c"
    assert len(one_line("fp(" + "9" * 100_000 + ",3)")) == 300
    assert one_line("fp(" + "9" * 100_000 + ",3)", 20) == "fp(9999999 ... 99,3)"


def test_tables_escape_cells() -> None:
    assert render(["name"], [["a\x1b[2Jb"]]) == "name\n---------\na\\x1b[2Jb"
