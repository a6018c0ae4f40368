"""One solver on one file, in a child process: ``python -m adcorrect.smt.worker SOLVER FILE MS``.

Prints one JSON object: ``verdict`` (sat/unsat/unknown/error), ``message`` (the
solver's reason or error text) and ``model`` (values of the symbols listed in
the file's adcorrect-meta record, see :mod:`adcorrect.smt.decode`).  The parent
(:mod:`adcorrect.smt.runners`) enforces the wall-clock limit by killing this
process; ``MS`` is also passed to the solver as its own time limit.
"""

from __future__ import annotations

import json
import sys
import time
from fractions import Fraction
from typing import Any

from .meta import read_meta
from .script import ALLOWED

FP_NATIVE_CVC5 = {(8, 24), (11, 53)}
FP_NATIVE_BITWUZLA = {(5, 11), (8, 24), (11, 53), (15, 113)}


def _symbols(meta: dict[str, Any] | None) -> list[str]:
    if not meta:
        return []
    return [s for syms in meta.get("decode", {}).values() for s in syms]


def _bits(sign: str, exp: str, sig: str) -> dict[str, Any]:
    return {"fp": [int(sign, 2), int(exp, 2), int(sig, 2) if sig else 0]}


def _real(x: Fraction) -> dict[str, Any]:
    return {"real": str(x)}


#: z3 strategies tried in turn on exact-semantics files, each with its share of the time:
#: z3's default, then the nonlinear-real tactic qfnra (nlsat), which decides many
#: multi-layer and free-direction queries the default gives up on, and vice versa.
Z3_EXACT_STRATEGIES = (("default", 0.5), ("qfnra", 0.5))


def run_z3(path: str, ms: int, meta: dict[str, Any] | None) -> dict[str, Any]:
    import z3

    strategies = Z3_EXACT_STRATEGIES if meta and meta.get("semantics") == "exact" \
        else (("default", 1.0),)
    deadline = time.perf_counter() + ms / 1000
    reasons: list[str] = []
    s, r = None, None
    for i, (tactic, share) in enumerate(strategies):
        left = int((deadline - time.perf_counter()) * 1000)
        budget = left if i == len(strategies) - 1 else min(left, int(ms * share))
        if budget <= 0:
            break
        if tactic != "default":
            z3.set_param("tactic.default_tactic", tactic)
        s = z3.Solver()
        s.set("timeout", budget)
        s.from_file(path)
        r = s.check()
        if r == z3.unsat:
            return {"verdict": "unsat", "message": f"z3 strategy {tactic}"}
        if r == z3.sat:
            break
        reasons.append(f"{tactic}: {s.reason_unknown()}")
    if s is None or r != z3.sat:
        return {"verdict": "unknown", "message": "; ".join(reasons) or "no time left"}
    m = s.model()
    decls = {d.name(): d for d in m.decls()}
    model = {}
    for sym in _symbols(meta):
        if sym not in decls:
            continue  # unconstrained: decoded as missing
        v = m[decls[sym]]
        if isinstance(v, z3.FPNumRef):
            eb, sb = v.sort().ebits(), v.sort().sbits()
            bits = z3.simplify(z3.fpToIEEEBV(v)).as_long()
            model[sym] = {"fp": [bits >> (eb + sb - 1), (bits >> (sb - 1)) & ((1 << eb) - 1),
                                 bits & ((1 << (sb - 1)) - 1)]}
        elif z3.is_rational_value(v):
            model[sym] = _real(v.as_fraction())
        else:
            model[sym] = {"approx": v.as_decimal(20) if z3.is_algebraic_value(v) else str(v)}
    return {"verdict": "sat", "model": model}


def _cvc5_load(path: str, options: dict[str, str]) -> tuple[Any, Any]:
    """A cvc5 solver with the file's commands run, except check-sat, exit and set-info
    (cvc5 would otherwise raise its own error when the result differs from :status)."""
    import cvc5

    tm = cvc5.TermManager()
    s = cvc5.Solver(tm)
    for key, value in options.items():
        s.setOption(key, value)
    sm = cvc5.SymbolManager(tm)
    parser = cvc5.InputParser(s, sm)
    parser.setFileInput(cvc5.InputLanguage.SMT_LIB_2_6, path)
    while True:
        cmd = parser.nextCommand()
        if cmd.isNull():
            break
        name = cmd.getCommandName()
        if name in ("check-sat", "exit", "set-info"):
            continue
        if name not in ALLOWED:  # the runners give only checked scripts; never run others
            raise ValueError(f"command {name} is not allowed in a benchmark")
        cmd.invoke(s, sm)
    return s, sm


def run_cvc5(path: str, ms: int, meta: dict[str, Any] | None) -> dict[str, Any]:
    options = {"produce-models": "true", "tlimit-per": str(ms)}
    if meta and meta.get("param_kind") == "fp" and _fp_params(meta) not in FP_NATIVE_CVC5:
        options["fp-exp"] = "true"
    s, sm = _cvc5_load(path, options)
    r = s.checkSat()
    if r.isUnsat():
        return {"verdict": "unsat"}
    if not r.isSat():
        return {"verdict": "unknown", "message": str(r.getUnknownExplanation())}
    terms = {t.getSymbol(): t for t in sm.getDeclaredTerms()}
    model = {}
    for sym in _symbols(meta):
        if sym not in terms:
            continue
        v = s.getValue(terms[sym])
        if v.isFloatingPointValue():
            eb, _sb, bv = v.getFloatingPointValue()
            b = bv.getBitVectorValue(2)
            model[sym] = _bits(b[0], b[1:1 + eb], b[1 + eb:])
        elif v.isRealValue():
            model[sym] = _real(Fraction(v.getRealValue()))
        else:
            model[sym] = {"approx": str(v)}
    return {"verdict": "sat", "model": model}


def _fp_params(meta: dict[str, Any]) -> tuple[int, int] | None:
    from ..numbers.formats import parse_format

    fmt = parse_format(meta["format"])
    return tuple(fmt.params) if fmt.kind == "ieee" else None  # type: ignore[return-value]


def run_bitwuzla(path: str, ms: int, meta: dict[str, Any] | None) -> dict[str, Any]:
    import bitwuzla as bw

    tm = bw.TermManager()
    opts = bw.Options()
    opts.set(bw.Option.PRODUCE_MODELS, True)
    opts.set(bw.Option.TIME_LIMIT_PER, ms)
    parser = bw.Parser(tm, opts, "smt2", 2)
    parser.parse(path, True)
    b = parser.bitwuzla()
    r = b.check_sat()
    if r == bw.Result.UNSAT:
        return {"verdict": "unsat"}
    if r != bw.Result.SAT:
        return {"verdict": "unknown", "message": "bitwuzla returned unknown (time limit?)"}
    terms = {t.symbol(): t for t in parser.get_declared_funs()}
    model = {}
    for sym in _symbols(meta):
        if sym in terms:
            v = b.get_value(terms[sym])
            if v.sort().is_fp():
                model[sym] = _bits(*v.value())
    return {"verdict": "sat", "model": model}


def parse_only(solver: str, path: str) -> str | None:
    """Parse the file with the solver without solving; None, or the parser's message."""
    try:
        if solver == "z3":
            import z3

            z3.parse_smt2_file(path)
        elif solver == "cvc5":
            _cvc5_load(path, {"fp-exp": "true"})
        else:
            import bitwuzla as bw

            bw.Parser(bw.TermManager(), bw.Options(), "smt2", 2).parse(path, True)
    except Exception as e:  # noqa: BLE001  (the parser's message is the result)
        return f"{type(e).__name__}: {' '.join(str(e).split())}"
    return None


RUNNERS = {"z3": run_z3, "cvc5": run_cvc5, "bitwuzla": run_bitwuzla}


def main(argv: list[str]) -> int:
    solver, path, ms = argv[0], argv[1], int(argv[2])
    try:
        with open(path, encoding="utf-8") as fh:
            meta = read_meta(fh.read())
        t0 = time.perf_counter()
        out = RUNNERS[solver](path, ms, meta)
        out["seconds"] = time.perf_counter() - t0
    except Exception as e:  # noqa: BLE001  (any solver failure becomes the verdict 'error')
        out = {"verdict": "error", "message": f"{type(e).__name__}: {' '.join(str(e).split())}"}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
