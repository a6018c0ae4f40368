"""Run z3, cvc5 and bitwuzla on query files and re-check their models.

Every (file, solver) run happens in a child process (:mod:`adcorrect.smt.worker`)
killed at the time limit, so a hang gives ``timeout`` and a crash gives
``error``, never an exception here.  A ``sat`` model is decoded and re-checked
(:mod:`adcorrect.smt.decode`).  A run is *flagged* when its verdict contradicts
the expected status, its model fails the re-check, the solver reports an
error, or two solvers disagree on the same file; ``unknown``/``timeout`` are
never counted as verified (and are not flagged).  A sat/unsat answer is
*verified* only if the expected status is established (by the generator's
metadata, an exact model re-check, or two solvers agreeing; a bare ``:status``
is only the file's claim); otherwise it is "solved, status not established".  Files are
checked as benchmarks first (:mod:`adcorrect.smt.script`) and the solver gets
the checked text in a scratch folder of its own.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from ..core.files import read_text
from .decode import Check, recheck
from .meta import MetaError, read_meta
from .procs import Finished, run_child
from .script import Script, ScriptError, check_script
from .worker import FP_NATIVE_BITWUZLA

SOLVERS = ("z3", "cvc5", "bitwuzla")
GRACE = 5.0  # seconds on top of the timeout before the child is killed


#: Derived keys that to_json adds (from_json drops them).
DERIVED = ("verified", "state")


@dataclass
class RunResult:
    """One solver on one file."""

    file: str
    solver: str
    verdict: str  # sat | unsat | unknown | timeout | error | skipped
    expected: str
    seconds: float
    query: str = ""
    message: str = ""
    check: str = ""  # model re-check outcome, for sat
    flag: str = ""  # non-empty: something is wrong
    point: list[str] = field(default_factory=list)
    #: How the answer is established: "generator" (the adcorrect-meta expected status sat
    #: or unsat), "model re-check", "solvers agree", or "" (not established).
    established: str = ""

    @property
    def verified(self) -> bool:
        """A sat/unsat answer to the file's question that matches an established status
        (or whose model re-checks exactly, or on which two solvers agree), unflagged."""
        return self.verdict in ("sat", "unsat") and not self.flag and bool(self.established)

    @property
    def state(self) -> str:
        """verified | flagged | not established (solved, status not established) | the
        verdict (unknown, timeout, error, skipped)."""
        if self.flag:
            return "flagged"
        if self.verdict in ("sat", "unsat"):
            return "verified" if self.verified else "not established"
        return self.verdict

    def to_json(self) -> dict[str, Any]:
        return dict(asdict(self), verified=self.verified, state=self.state)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        return cls(**{k: v for k, v in data.items() if k not in DERIVED})


def expected_status(script: Script, meta: dict[str, Any] | None) -> tuple[str, str]:
    """(expected status, how it is established or "") from the adcorrect-meta record (a
    theorem, a re-checked witness or an enumeration: "generator") or the :status."""
    if meta:
        expected = str(meta["expected"])
        if script.status is not None and script.status != expected:
            raise InputError(f"the :status {script.status} and the adcorrect-meta expected "
                             f"status {expected} differ")
        return expected, ("generator" if expected in ("sat", "unsat") else "")
    # without metadata a :status is the file's claim: a contradiction is flagged, but it
    # establishes nothing (two solvers agreeing do, see mark_disagreements)
    return script.status or "unknown", ""


def skip_reason(solver: str, meta: dict[str, Any] | None, text: str | Script) -> str | None:
    """Why the solver does not apply to the file, or None."""
    if solver != "bitwuzla":
        return None
    if meta:
        logic = meta["logic"]
    else:
        script = text if isinstance(text, Script) else check_script(text)
        logic = script.logic or "ALL"
    if not re.fullmatch(r"QF_A?(UF)?(BV)?(FP)?", logic) or logic == "QF_":
        return f"logic {logic} uses real arithmetic; bitwuzla decides FP/BV only"
    if meta:
        from ..numbers.formats import parse_format

        fmt = parse_format(meta["format"])
        if fmt.kind == "ieee" and tuple(fmt.params) not in FP_NATIVE_BITWUZLA:
            return (f"format {fmt.name}: this bitwuzla build supports Float16/32/64/128 only "
                    "(experimental formats need --fpexp at build time)")
    return None


def load_script(path: str | Path) -> tuple[str, Script, dict[str, Any] | None]:
    """(text, checked script, adcorrect-meta record) of a query file; InputError naming the
    file if it cannot be read or is not a benchmark (see :mod:`adcorrect.smt.script`)."""
    path = str(path)
    text = read_text(path, "SMT-LIB file")  # regular files only, within the limit
    try:
        script = check_script(text)
        meta = read_meta(text)
    except (ScriptError, MetaError) as e:
        raise InputError(f"{path}: {e}") from None
    return text, script, meta


#: Default per-job memory limit (MiB) of a solver process (address space, RLIMIT_AS).
DEFAULT_MEMORY_MB = 4096
#: Environment variable naming a script to run instead of adcorrect.smt.worker (same
#: arguments and output protocol); used by the tests' fake solvers.
WORKER_ENV = "ADCORRECT_SOLVER_WORKER"
VERDICTS = ("sat", "unsat", "unknown", "error")
_MEMORY = re.compile(r"MemoryError|out of memory|bad_alloc|cannot allocate", re.IGNORECASE)


def _worker_command(solver: str, path: str, ms: int) -> list[str]:
    import os

    script = os.environ.get(WORKER_ENV)
    if script:
        return [sys.executable, script, solver, path, str(ms)]
    return [sys.executable, "-m", "adcorrect.smt.worker", solver, path, str(ms)]


def _crash_message(proc: Finished, memory_mb: int | None) -> str:
    import signal

    rc = proc.returncode
    how = f"killed by signal {signal.Signals(-rc).name}" if rc < 0 else f"exit status {rc}"
    tail = " ".join(proc.stderr.split()[-30:])
    mem = f" (memory limit {memory_mb} MiB)" if memory_mb and (
        "MemoryError" in proc.stderr or "bad_alloc" in proc.stderr or "memory" in
        proc.stderr.lower() or rc in (-6, -9)) else ""
    return f"solver process failed, {how}{mem}: {tail}"[:500]


def _parse_output(stdout: str) -> dict[str, Any] | None:
    """The worker's JSON answer (last line), or None if it is missing or malformed."""
    lines = stdout.strip().splitlines()
    if not lines:
        return None
    try:
        out = json.loads(lines[-1])
    except json.JSONDecodeError:
        return None
    if not isinstance(out, dict) or out.get("verdict") not in VERDICTS:
        return None
    if not isinstance(out.get("message", ""), str) or not isinstance(out.get("model", {}), dict):
        return None
    try:
        float(out.get("seconds", 0.0))
    except (TypeError, ValueError):
        return None
    return out


def run_file(path: str | Path, solver: str, timeout: float,
             memory_mb: int | None = DEFAULT_MEMORY_MB) -> RunResult:
    """Run one solver on one file with a wall-clock and a memory limit; never raises for
    solver trouble.  A crash, a kill (memory) or unreadable output gives the verdict
    ``error`` for this run only (not verified, not flagged); an error the solver itself
    reports (e.g. a parse error) is flagged."""
    path = str(path)
    if solver not in SOLVERS:
        raise InputError(f"unknown solver {solver!r} (use {', '.join(SOLVERS)} or all)")
    _text, script, meta = load_script(path)
    try:
        expected, established = expected_status(script, meta)
    except InputError as e:
        raise InputError(f"{path}: {e}") from None
    res = RunResult(path, solver, "error", expected, 0.0,
                    query=meta["query"] if meta else "", established=established)
    reason = skip_reason(solver, meta, script)
    if reason:
        res.verdict, res.message = "skipped", reason
        return res
    ms = max(1, int(timeout * 1000))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="adcorrect-solve-") as scratch:
        copy = Path(scratch) / "query.smt2"  # the solver sees the checked text only
        copy.write_text(script.body, encoding="utf-8")
        proc = run_child(_worker_command(solver, str(copy), ms), timeout + GRACE, memory_mb,
                         scratch)
    if proc.timed_out:
        res.verdict, res.seconds = "timeout", time.perf_counter() - t0
        res.message = f"killed after {timeout + GRACE:g} s"
        return res
    wall = time.perf_counter() - t0
    out = _parse_output(proc.stdout)
    if out is None:
        res.seconds = wall
        res.message = _crash_message(proc, memory_mb) if proc.returncode else \
            f"unreadable solver output: {' '.join(proc.stdout.split())[:200]!r}"
        return res
    res.verdict = out["verdict"]
    res.message = out.get("message", "")
    res.seconds = float(out.get("seconds", wall))
    if res.verdict == "unknown" and (res.seconds >= 0.9 * timeout or
                                     re.search(r"timeout|canceled|RESOURCEOUT|time",
                                               res.message, re.IGNORECASE)):
        res.verdict = "timeout"
    if res.verdict == "error":
        if _MEMORY.search(res.message):
            res.message = f"memory limit ({memory_mb} MiB): {res.message}"[:500]
        else:
            res.flag = "ERROR"  # the solver rejected the file: a bug in the file
    if res.verdict == "sat" and meta:
        try:
            c = recheck(meta, out.get("model", {}))
        except (KeyError, TypeError, ValueError) as e:  # a malformed model entry
            c = Check(False, f"malformed model: {type(e).__name__}: {e}")
        res.check, res.point = c.message, list(c.point)
        if not c.ok:
            res.flag = "MODEL CHECK FAILED"
        elif not res.established:
            res.established = "model re-check"
    if res.verdict in ("sat", "unsat") and res.expected in ("sat", "unsat") \
            and res.verdict != res.expected:
        res.flag = (res.flag + "; " if res.flag else "") + f"WRONG: expected {res.expected}"
    return res


def mark_disagreements(results: Sequence[RunResult]) -> None:
    """Flag files on which one solver says sat and another unsat; where two or more
    solvers give the same sat/unsat answer unflagged and no status is established
    otherwise, the answer is established by their agreement."""
    by_file: dict[str, set[str]] = {}
    agree: dict[str, set[str]] = {}
    for r in results:
        if r.verdict in ("sat", "unsat"):
            by_file.setdefault(r.file, set()).add(r.verdict)
            if not r.flag:
                agree.setdefault(r.file, set()).add(r.solver)
    for r in results:
        if len(by_file.get(r.file, ())) > 1:
            r.flag = (r.flag + "; " if r.flag else "") + "DISAGREE"
        elif (r.verdict in ("sat", "unsat") and not r.flag and not r.established
              and len(agree.get(r.file, ())) >= 2):
            r.established = "solvers agree"
