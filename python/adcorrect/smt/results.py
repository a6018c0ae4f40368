"""Atomic, resumable results of solver runs (``make solve``, ``make challenge``).

A run is a list of jobs (file, solver, options).  Each finished job is appended to a
journal (``<results>.journal.jsonl``, one JSON line per job, flushed and synced) under
its key: the SHA-256 of the file's bytes, the solver and the options.  The results
file is only ever replaced atomically (written to a temporary file in the same
folder, then renamed); it says ``"complete": false`` until every job has finished.
A run that is interrupted leaves the journal, and the next run with the same files
and options skips the jobs found there; a complete run removes its journal, so the
next run solves everything again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.files import atomic_write_text, read_bytes

#: Version of the results file layout.
RESULTS_FORMAT = 2
#: Bumped when the way a job is run changes (so older journal entries are not reused).
RUNNER_VERSION = 2


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    return hashlib.sha256(read_bytes(path, "SMT-LIB file")).hexdigest()


@dataclass(frozen=True)
class Job:
    """One solver on one file with its limits."""

    file: str
    solver: str
    timeout: float
    memory_mb: int | None
    digest: str

    @property
    def key(self) -> str:
        return (f"{self.digest}:{self.solver}:timeout={self.timeout:g}:"
                f"memory={self.memory_mb}:runner={RUNNER_VERSION}")


def make_jobs(files: Iterable[str], solvers: Iterable[str], timeout: float,
              memory_mb: int | None) -> list[Job]:
    """Every (file, solver) job, files in the given order, solvers in the given order."""
    solvers = list(solvers)
    out = []
    for f in files:
        digest = file_digest(f)
        out += [Job(str(f), s, timeout, memory_mb, digest) for s in solvers]
    return out


def journal_path(results: str | Path) -> Path:
    results = Path(results)
    return results.with_name(results.name + ".journal.jsonl")


class Journal:
    """Append-only record of finished jobs: one line {"key": ..., "result": {...}}."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, dict[str, Any]]:
        """The recorded results by key (a torn last line is ignored)."""
        out: dict[str, dict[str, Any]] = {}
        if not self.path.exists():
            return out
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
                out[str(entry["key"])] = dict(entry["result"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
        return out

    def append(self, key: str, result: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"key": key, "result": result}, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def payload(results: list[dict[str, Any]], total: int, options: dict[str, Any]) -> dict[str, Any]:
    """The results file's content (complete iff every one of total jobs has a result)."""
    return {"format": RESULTS_FORMAT, "complete": len(results) == total,
            "jobs_done": len(results), "jobs_total": total, "options": options,
            "results": results}


def write_results(path: str | Path, results: list[dict[str, Any]], total: int,
                  options: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(payload(results, total, options), indent=1,
                                       sort_keys=True) + "\n")
