"""Constant folding of generated SMT-LIB text: variable-free real arithmetic becomes a literal.

A generated file may contain sub-terms such as ``(* (- 1.0 t0) (- 1.0 t1))`` with
``t0``, ``t1`` defined as ``0.0``.  Their value is a constant, but solvers that hold a
file to a linear logic (z3) read such a product as non-linear.  :func:`fold_text`
replaces every sub-term built from ``+ - * /``, literals and constant
``define-fun`` names by its value (``1.0``, ``(- (/ 1.0 2.0))``; integer terms
without ``/`` or decimals by an integer numeral), so the file's logic is that of its
real content (:mod:`adcorrect.smt.smtlib`); the constant arguments of an n-ary
``+`` or ``*`` with variables are merged into one, ``(* 2.0 3.0 x)`` into ``(* 6.0 x)``.

Only one-line ``define-fun`` and ``assert`` commands are rewritten (comments and the
other lines are kept byte for byte); a term is real-sorted when it contains a decimal,
a real constant name or ``/``, else it stays an integer term.
"""

from __future__ import annotations

from fractions import Fraction

from .smtlib import SExpr, parse

_ARITH = ("+", "-", "*", "/")
_BINDERS = ("let", "forall", "exists")


def real_literal(x: Fraction) -> str:
    """An SMT-LIB real literal for x (decimal numerals only)."""
    mag = f"{abs(x.numerator)}.0" if x.denominator == 1 else \
        f"(/ {abs(x.numerator)}.0 {x.denominator}.0)"
    return f"(- {mag})" if x < 0 else mag


def int_literal(x: Fraction) -> str:
    """An SMT-LIB integer literal for the integer x."""
    return f"(- {-x.numerator})" if x < 0 else str(x.numerator)


def _atom_value(t: str, consts: dict[str, Fraction]) -> tuple[Fraction, bool] | None:
    """(value, real-sorted) of a literal or constant name, or None."""
    if t in consts:
        return consts[t], True
    if t.isdigit():
        return Fraction(int(t)), False
    head, dot, tail = t.partition(".")
    if dot and head.isdigit() and tail.isdigit():
        return Fraction(t), True
    return None


def _value(t: SExpr, consts: dict[str, Fraction]) -> tuple[Fraction, bool] | None:
    """(value, real-sorted) of a variable-free arithmetic term, or None."""
    if isinstance(t, str):
        return _atom_value(t, consts)
    if not t or t[0] not in _ARITH or len(t) < 2:
        return None
    args = [_value(a, consts) for a in t[1:]]
    if any(a is None for a in args):
        return None
    vals = [a[0] for a in args if a is not None]
    real = any(a[1] for a in args if a is not None)
    op = t[0]
    if op == "+":
        return sum(vals, Fraction(0)), real
    if op == "-":
        return (-vals[0] if len(vals) == 1 else vals[0] - sum(vals[1:], Fraction(0))), real
    if op == "*":
        out = Fraction(1)
        for v in vals:
            out *= v
        return out, real
    if any(v == 0 for v in vals[1:]):
        return None  # division by zero: left as written
    out = vals[0]
    for v in vals[1:]:
        out /= v
    return out, True


def _fold(t: SExpr, consts: dict[str, Fraction]) -> SExpr:
    if isinstance(t, str) or not t:
        return t
    v = _value(t, consts)
    if v is not None:
        return parse(real_literal(v[0]) if v[1] else int_literal(v[0]))[0]
    if t[0] in _BINDERS and len(t) == 3 and isinstance(t[1], list):
        bound = {b[0] for b in t[1] if isinstance(b, list) and b}
        inner = {k: x for k, x in consts.items() if k not in bound}
        binds = [[b[0], _fold(b[1], consts)] if t[0] == "let" else b for b in t[1]]
        return [t[0], binds, _fold(t[2], inner)]
    args = [_fold(a, consts) for a in t]
    if args[0] in ("+", "*"):  # several constant arguments: merged into one, put first
        vals = [(a, _value(a, consts)) for a in args[1:]]
        const = [v for _, v in vals if v is not None]
        if len(const) >= 2:
            merged = _value([args[0], *(a for a, v in vals if v is not None)], consts)
            assert merged is not None
            lit = real_literal(merged[0]) if merged[1] else int_literal(merged[0])
            args = [args[0], parse(lit)[0], *(a for a, v in vals if v is None)]
    return args


def show(t: SExpr) -> str:
    """The s-expression as one line of SMT-LIB text."""
    return t if isinstance(t, str) else "(" + " ".join(show(a) for a in t) + ")"


def fold_text(text: str) -> str:
    """The text with its variable-free real arithmetic folded (see the module docstring)."""
    consts: dict[str, Fraction] = {}
    out = []
    for line in text.split("\n"):
        if not line.startswith(("(define-fun ", "(assert ")):
            out.append(line)
            continue
        try:
            cmds = parse(line)
        except ValueError:  # a command spanning several lines: kept as written
            out.append(line)
            continue
        cmd = cmds[0] if len(cmds) == 1 and isinstance(cmds[0], list) else None
        if cmd is None:
            out.append(line)
            continue
        if cmd[0] == "assert" and len(cmd) == 2:
            new = ["assert", _fold(cmd[1], consts)]
        elif cmd[0] == "define-fun" and len(cmd) == 5:
            args = {a[0] for a in cmd[2] if isinstance(a, list) and a}
            body = _fold(cmd[4], {k: x for k, x in consts.items() if k not in args})
            new = [*cmd[:4], body]
            v = _value(body, consts) if not cmd[2] and cmd[3] == "Real" else None
            if v is not None:
                consts[cmd[1]] = v[0]
        else:
            new = cmd
        out.append(line if new == cmd else show(new))
    return "\n".join(out)
