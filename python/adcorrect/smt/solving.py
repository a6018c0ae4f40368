"""Solve many files: jobs on an executor, results journaled, written atomically, resumable.

:func:`solve` is what ``smt solve``, ``smt solve-suite`` (``make solve``) and
``make challenge`` run.  The results are in job order (files as given, then
solvers), whatever order the jobs finish in and whether or not some were taken
from the journal of an interrupted run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .executor import ExecutorSpec, execute
from .results import Job, Journal, journal_path, make_jobs, write_results
from .runners import DEFAULT_MEMORY_MB, RunResult, load_script, mark_disagreements

#: Seconds between two rewrites of a partial results file during a run.
CHECKPOINT_SECONDS = 20.0


@dataclass
class Outcome:
    """What a solve produced."""

    results: list[RunResult]
    complete: bool
    resumed: int  # jobs taken from the journal of an interrupted run
    total: int


def _options(timeout: float, memory_mb: int | None, solvers: Sequence[str]) -> dict[str, Any]:
    return {"timeout": timeout, "memory_mb": memory_mb, "solvers": list(solvers)}


def solve(files: Sequence[str | Path], solvers: Sequence[str], timeout: float, jobs: int = 1,
          executor: ExecutorSpec | None = None, memory_mb: int | None = DEFAULT_MEMORY_MB,
          results_path: str | Path | None = None, fresh: bool = False,
          progress: Callable[[RunResult, int, int], None] | None = None) -> Outcome:
    """Every solver on every file (each checked first: InputError before any run if one is
    not a benchmark script).  With results_path: resume from its journal (unless
    fresh), journal each finished job, rewrite the results file atomically (partial
    until the end), remove the journal when complete.  KeyboardInterrupt writes the
    partial results and propagates."""
    executor = executor or ExecutorSpec("local")
    for f in files:  # every file is a benchmark script, or nothing runs
        load_script(f)
    all_jobs = make_jobs([str(f) for f in files], solvers, timeout, memory_mb)
    options = _options(timeout, memory_mb, solvers)
    journal = Journal(journal_path(results_path)) if results_path else None
    if journal and fresh:
        journal.remove()
    cached = journal.load() if journal else {}
    done: dict[int, dict[str, Any]] = {}
    for i, job in enumerate(all_jobs):
        if job.key in cached:
            done[i] = dict(cached[job.key], file=job.file)
    resumed = len(done)
    index = {id(job): i for i, job in enumerate(all_jobs)}
    last = [time.monotonic()]

    def ordered() -> list[dict[str, Any]]:
        return [done[i] for i in sorted(done)]

    def checkpoint(force: bool = False) -> None:
        if results_path and (force or time.monotonic() - last[0] >= CHECKPOINT_SECONDS):
            write_results(results_path, ordered(), len(all_jobs), options)
            last[0] = time.monotonic()

    def on_result(job: Job, result: dict[str, Any]) -> None:
        if journal:
            journal.append(job.key, result)
        done[index[id(job)]] = result
        if progress:
            progress(RunResult.from_json(result), len(done), len(all_jobs))
        checkpoint()

    if done:
        checkpoint(force=True)
    else:  # the first result writes the file (a run that cannot start writes nothing)
        last[0] = -CHECKPOINT_SECONDS
    todo = [job for i, job in enumerate(all_jobs) if i not in done]
    try:
        execute(todo, executor, jobs, on_result)
    except BaseException:
        if done:
            checkpoint(force=True)
        raise
    results = [RunResult.from_json(r) for r in ordered()]
    mark_disagreements(results)
    if results_path:
        write_results(results_path, [r.to_json() for r in results], len(all_jobs), options)
    if journal:
        journal.remove()
    return Outcome(results, len(results) == len(all_jobs), resumed, len(all_jobs))


def solve_files(paths: Sequence[str | Path], solvers: Sequence[str], timeout: float,
                jobs: int = 1,
                progress: Callable[[RunResult], None] | None = None) -> list[RunResult]:
    """All solvers on all files (jobs runs in parallel, locally), disagreements marked."""
    def report(r: RunResult, done: int, total: int) -> None:
        if progress:
            progress(r)

    return solve(paths, solvers, timeout, jobs, progress=report).results
