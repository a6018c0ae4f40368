"""The README's command examples print what the README shows.

Every fenced block that starts with ``$ python -m adcorrect ...`` is run; its output
must equal the block's text, except that a line ``...`` stands for any lines.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```\n(\$ python -m adcorrect [^\n]*)\n(.*?)```", re.DOTALL)


def blocks() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    return [(m.group(1)[2:], m.group(2)) for m in BLOCK.finditer(text)]


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line equality where an expected line '...' matches any run of lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


@pytest.mark.parametrize("command,expected", blocks(), ids=[c for c, _ in blocks()])
def test_readme_example(command: str, expected: str) -> None:
    argv = shlex.split(command)
    res = subprocess.run([sys.executable, *argv[1:]], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    exp = [ln.rstrip() for ln in expected.rstrip("\n").splitlines()]
    act = [ln.rstrip() for ln in res.stdout.rstrip("\n").splitlines()]
    assert matches(exp, act), "\n".join(act)


def test_blocks_found() -> None:
    assert len(blocks()) >= 6
