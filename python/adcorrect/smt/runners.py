"""Run z3, cvc5 and bitwuzla on query files and re-check their models.

Every (file, solver) run happens in a child process (:mod:`adcorrect.smt.worker`)
killed at the time limit, so a hang gives ``timeout`` and a crash gives
``error``, never an exception here.  A ``sat`` model is decoded and re-checked
(:mod:`adcorrect.smt.decode`).  A run is *flagged* when its verdict contradicts
the expected status, its model fails the re-check, the solver reports an
error, or two solvers disagree on the same file; ``unknown``/``timeout`` are
never counted as verified (and are not flagged).
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from ..core.limits import check_file
from .decode import Check, recheck
from .meta import MetaError, read_meta
from .worker import FP_NATIVE_BITWUZLA

SOLVERS = ("z3", "cvc5", "bitwuzla")
GRACE = 5.0  # seconds on top of the timeout before the child is killed


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

    @property
    def verified(self) -> bool:
        return self.verdict in ("sat", "unsat") and not self.flag

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_STATUS = re.compile(r"\(set-info :status (sat|unsat|unknown)\)")


def expected_status(text: str, meta: dict[str, Any] | None) -> str:
    if meta:
        return str(meta["expected"])
    m = _STATUS.search(text)
    return m.group(1) if m else "unknown"


def skip_reason(solver: str, meta: dict[str, Any] | None, text: str) -> str | None:
    """Why the solver does not apply to the file, or None."""
    if solver != "bitwuzla":
        return None
    m = re.search(r"\(set-logic (\S+)\)", text)
    logic = meta["logic"] if meta else (m.group(1) if m else "ALL")
    if not re.fullmatch(r"QF_A?(UF)?(BV)?(FP)?", logic) or logic == "QF_":
        return f"logic {logic} uses real arithmetic; bitwuzla decides FP/BV only"
    if meta:
        from ..numbers.formats import parse_format

        fmt = parse_format(meta["format"])
        if fmt.kind == "ieee" and tuple(fmt.params) not in FP_NATIVE_BITWUZLA:
            return (f"format {fmt.name}: this bitwuzla build supports Float16/32/64/128 only "
                    "(experimental formats need --fpexp at build time)")
    return None


#: Default per-job memory limit (MiB) of a solver process (address space, RLIMIT_AS).
DEFAULT_MEMORY_MB = 4096
#: Environment variable naming a script to run instead of adcorrect.smt.worker (same
#: arguments and output protocol); used by the tests' fake solvers.
WORKER_ENV = "ADCORRECT_SOLVER_WORKER"
VERDICTS = ("sat", "unsat", "unknown", "error")
_MEMORY = re.compile(r"MemoryError|out of memory|bad_alloc|cannot allocate", re.IGNORECASE)


def _limit_memory(mb: int | None) -> Callable[[], None] | None:
    if not mb:
        return None

    limit = mb * 1024 * 1024

    def apply() -> None:  # runs in the child between fork and exec: no imports, no locks
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def _worker_command(solver: str, path: str, ms: int) -> list[str]:
    import os

    script = os.environ.get(WORKER_ENV)
    if script:
        return [sys.executable, script, solver, path, str(ms)]
    return [sys.executable, "-m", "adcorrect.smt.worker", solver, path, str(ms)]


def _crash_message(proc: subprocess.CompletedProcess[str], memory_mb: int | None) -> str:
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
    try:
        check_file(path, Path(path).stat().st_size)
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    try:
        meta = read_meta(text)
    except MetaError as e:
        raise InputError(f"{path}: {e}") from None
    res = RunResult(path, solver, "error", expected_status(text, meta), 0.0,
                    query=meta["query"] if meta else "")
    reason = skip_reason(solver, meta, text)
    if reason:
        res.verdict, res.message = "skipped", reason
        return res
    ms = max(1, int(timeout * 1000))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            _worker_command(solver, path, ms), check=False, capture_output=True, text=True,
            timeout=timeout + GRACE, preexec_fn=_limit_memory(memory_mb),
            start_new_session=True)  # Ctrl-C stops the run, not the solvers mid-answer
    except subprocess.TimeoutExpired:
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
    if res.verdict in ("sat", "unsat") and res.expected in ("sat", "unsat") \
            and res.verdict != res.expected:
        res.flag = (res.flag + "; " if res.flag else "") + f"WRONG: expected {res.expected}"
    return res


def mark_disagreements(results: Sequence[RunResult]) -> None:
    """Flag files on which one solver says sat and another unsat."""
    by_file: dict[str, set[str]] = {}
    for r in results:
        if r.verdict in ("sat", "unsat"):
            by_file.setdefault(r.file, set()).add(r.verdict)
    for r in results:
        if len(by_file.get(r.file, ())) > 1:
            r.flag = (r.flag + "; " if r.flag else "") + "DISAGREE"
