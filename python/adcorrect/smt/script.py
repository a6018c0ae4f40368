"""Solver inputs as data: a benchmark script's commands checked before any solver sees them.

``smt solve`` and ``smt solve-suite`` give a solver only *benchmark* scripts: the
commands of :data:`ALLOWED` (``set-info``, ``set-logic``, declarations,
definitions, ``assert``, one ``check-sat``, ``exit``) with their terms.  Anything
else (``set-option``, ``get-*``, ``echo``, ``push``/``pop``, ``reset``,
``declare-datatypes``, ...) is refused with one line naming the command, since
options and output commands make a solver write files or change what it answers.
Exactly one ``check-sat`` is required, ``exit`` before it is refused, and only
``exit`` may follow it.  The solver is given :attr:`Script.body`, the text up to
the end of the ``check-sat`` command.

The text is read by a small s-expression tokenizer (SMT-LIB 2.6 lexicon: string
literals ``"..."`` with ``""`` for a quote, quoted symbols ``|...|``, comments
from ``;`` to the end of the line), never searched with patterns, so a command
inside a string, a quoted symbol or a comment is never mistaken for a live one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

#: The commands of a benchmark script (SMT-LIB 2.6, non-incremental).
ALLOWED = frozenset({"set-info", "set-logic", "declare-fun", "declare-const",
                     "declare-sort", "define-fun", "define-sort", "assert", "check-sat",
                     "exit"})
STATUSES = ("sat", "unsat", "unknown")
_SPACE = " \t\r\n"
_DELIMS = _SPACE + '()";|'


class ScriptError(ValueError):
    """A script that is not a benchmark (the message is one line)."""


class Token(NamedTuple):
    """A lexeme: kind is '(' , ')', 'string', 'quoted' or 'atom'; text as written."""

    kind: str
    text: str
    start: int
    end: int


def _show(text: str, limit: int = 40) -> str:
    text = "".join(c if " " <= c <= "~" else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + "..."


#: Every delimiter (and NUL) mapped to NUL: in the shadow text, an atom ends at a NUL.
_SHADOW = {ord(c): 0 for c in _DELIMS + "\0"}


def tokens(text: str) -> Iterator[Token]:
    """The lexemes of an SMT-LIB script (comments and white space dropped)."""
    n, pos = len(text), 0
    shadow = text.translate(_SHADOW)
    while pos < n:
        c = text[pos]
        if c in _SPACE:
            pos += 1
        elif c == ";":
            nl = text.find("\n", pos)
            pos = n if nl < 0 else nl + 1
        elif c in "()":
            yield Token(c, c, pos, pos + 1)
            pos += 1
        elif c == '"':
            end = pos + 1
            while True:
                q = text.find('"', end)
                if q < 0:
                    raise ScriptError(f"unterminated string literal at offset {pos}")
                if text.startswith('""', q):
                    end = q + 2
                    continue
                end = q + 1
                break
            yield Token("string", text[pos:end], pos, end)
            pos = end
        elif c == "|":
            q = text.find("|", pos + 1)
            if q < 0:
                raise ScriptError(f"unterminated quoted symbol at offset {pos}")
            if "\\" in text[pos + 1:q]:
                raise ScriptError(f"backslash in a quoted symbol at offset {pos}")
            yield Token("quoted", text[pos:q + 1], pos, q + 1)
            pos = q + 1
        else:
            end = shadow.find("\0", pos)
            end = n if end < 0 else end
            atom = text[pos:end]
            if not atom or not (atom.isascii() and atom.isprintable()):
                bad = next(i for i, ch in enumerate(text[pos:end + 1], pos)
                           if not " " < ch <= "~")
                raise ScriptError(f"character {text[bad]!r} outside strings, quoted symbols "
                                  f"and comments at offset {bad}")
            yield Token("atom", atom, pos, end)
            pos = end


@dataclass(frozen=True)
class Script:
    """A checked benchmark script."""

    body: str  # the text up to the end of the check-sat command: what a solver is given
    status: str | None  # the :status set-info (sat, unsat or unknown), if any
    logic: str | None  # the set-logic symbol, if any
    commands: int


@dataclass
class _Command:
    name: str
    start: int
    args: list[Token]  # the top-level arguments that are lexemes (lists are not kept)
    nargs: int = 0
    end: int = 0


def commands(text: str) -> Iterator[_Command]:
    """The top-level commands, each with its name and its atomic arguments."""
    depth, cmd = 0, None
    expect_name = False
    for t in tokens(text):
        if expect_name:
            if t.kind != "atom":
                raise ScriptError(f"offset {t.start}: a command must start with its name, "
                                  f"got {_show(t.text)!r}")
            cmd = _Command(t.text, t.start - 1, [])
            expect_name = False
            continue
        if t.kind == "(":
            if depth == 0:
                expect_name = True
            elif depth == 1 and cmd is not None:
                cmd.nargs += 1
            depth += 1
        elif t.kind == ")":
            if depth == 0:
                raise ScriptError(f"unbalanced ')' at offset {t.start}")
            depth -= 1
            if depth == 0 and cmd is not None:
                cmd.end = t.end
                yield cmd
                cmd = None
        elif depth == 0:
            raise ScriptError(f"offset {t.start}: {_show(t.text)!r} outside a command")
        elif depth == 1 and cmd is not None:
            cmd.args.append(t)
            cmd.nargs += 1
    if depth:
        raise ScriptError("unbalanced '(' at the end of the file")


def check_script(text: str) -> Script:
    """The script if it is a benchmark (see the module docstring), else ScriptError."""
    status: str | None = None
    logic: str | None = None
    body_end = -1
    count = 0
    for cmd in commands(text):
        count += 1
        name = cmd.name
        if name not in ALLOWED:
            raise ScriptError(f"command ({_show(name)} ...) is not allowed in a benchmark "
                              f"(only {', '.join(sorted(ALLOWED))})")
        if body_end >= 0 and name == "check-sat":
            raise ScriptError("more than one check-sat (a benchmark asks one question)")
        if body_end >= 0 and name != "exit":
            raise ScriptError(f"command ({name} ...) after check-sat (only exit may follow)")
        if name == "exit" and body_end < 0:
            raise ScriptError("(exit) before check-sat: the file asks no question")
        if name == "check-sat":
            if cmd.nargs:
                raise ScriptError("check-sat takes no arguments")
            body_end = cmd.end
        elif name == "set-logic":
            if cmd.nargs != 1 or not cmd.args or cmd.args[0].kind != "atom":
                raise ScriptError("set-logic takes one logic name")
            if logic is not None:
                raise ScriptError("more than one set-logic")
            logic = cmd.args[0].text
        elif name == "set-info" and cmd.args and cmd.args[0].text == ":status":
            if cmd.nargs != 2 or len(cmd.args) != 2 or cmd.args[1].text not in STATUSES:
                raise ScriptError("(set-info :status ...) must be sat, unsat or unknown")
            if status is not None:
                raise ScriptError("more than one (set-info :status ...)")
            status = cmd.args[1].text
    if body_end < 0:
        raise ScriptError("no check-sat: the file asks no question")
    return Script(text[:body_end] + "\n", status, logic, count)
