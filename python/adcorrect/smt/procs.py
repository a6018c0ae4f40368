"""Solver child processes that cannot outlive the run: own process group, killed as a group.

Each child starts in its own session (so the terminal's Ctrl-C reaches only the parent,
which decides), with a memory limit and, on Linux, ``PR_SET_PDEATHSIG`` = SIGKILL so
that it dies with the thread that started it, even when the parent is SIGKILLed.
Every live child is registered; :func:`kill_all` (called on an interrupt) kills every
registered group at once, so an interrupted run stops within a fraction of a second
instead of waiting for the running jobs' time limits.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_LIVE: set[subprocess.Popen[str]] = set()
_LOCK = threading.Lock()
_STOPPING = threading.Event()
PR_SET_PDEATHSIG = 1


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl
        return None


_PRCTL = _prctl()


def _preexec(memory_mb: int | None, parent: int) -> Callable[[], None]:
    limit = memory_mb * 1024 * 1024 if memory_mb else None
    prctl = _PRCTL

    def apply() -> None:  # runs in the child between fork and exec: no imports, no locks
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(137)
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


@dataclass
class Finished:
    """What a child left: its status, its output, and whether it was killed at the limit."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool


class Stopped(Exception):
    """The run was interrupted while this child was running (it has been killed)."""


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_child(argv: Sequence[str], timeout: float, memory_mb: int | None,
              cwd: str) -> Finished:
    """Run argv in cwd in its own process group; kill the group at timeout seconds."""
    if _STOPPING.is_set():
        raise Stopped()
    proc = subprocess.Popen(list(argv), cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=_preexec(memory_mb, os.getpid()))  # noqa: PLW1509
    with _LOCK:
        _LIVE.add(proc)
    try:
        try:
            out, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            timed_out = True
    finally:
        _kill_group(proc)  # anything the child left in its group
        with _LOCK:
            _LIVE.discard(proc)
    if _STOPPING.is_set():
        raise Stopped()
    return Finished(proc.returncode, out, err, timed_out)


def kill_all() -> None:
    """Kill every running child's process group and refuse to start new ones."""
    _STOPPING.set()
    with _LOCK:
        live = list(_LIVE)
    for proc in live:
        _kill_group(proc)


def reset() -> None:
    """Allow children again (after an interrupted run, for the next one in this process)."""
    _STOPPING.clear()
