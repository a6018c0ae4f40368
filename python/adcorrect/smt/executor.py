"""Where solver jobs run: a local pool (the default) or a Dask distributed cluster.

``--executor local`` runs ``--jobs`` solver processes at a time on this machine.
``--executor dask`` starts a ``LocalCluster`` with ``--jobs`` single-threaded worker
processes; ``--executor dask:ADDRESS`` (e.g. ``dask:tcp://scheduler:8786``) sends the
jobs to a running cluster.  On a cluster each job carries the file's text, so the
workers need adcorrect and the solvers installed but no shared file system; results
come back in the same form as local ones.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from ..core.files import read_text
from .procs import kill_all, reset
from .results import Job
from .runners import run_file

#: Seconds to wait for a Dask scheduler to answer (--connect-timeout).
CONNECT_TIMEOUT = 5.0
#: Schemes of Dask scheduler addresses.
SCHEMES = ("tcp", "tls", "inproc", "ucx")


@dataclass(frozen=True)
class ExecutorSpec:
    kind: str  # local | dask
    address: str | None = None
    connect_timeout: float = CONNECT_TIMEOUT


def check_address(address: str) -> str:
    """A Dask scheduler address SCHEME://HOST:PORT (inproc://NAME), or InputError."""
    from urllib.parse import urlsplit

    scheme, sep, rest = address.partition("://")
    if not sep or scheme not in SCHEMES:
        raise InputError(f"Dask address {address!r}: expected SCHEME://HOST:PORT with SCHEME "
                         f"one of {', '.join(SCHEMES)}")
    if scheme == "inproc":
        if not rest or any(not (" " < c <= "~") for c in rest):
            raise InputError(f"Dask address {address!r}: expected inproc://NAME")
        return address
    u = urlsplit(address)
    try:
        port = u.port
    except ValueError:
        port = None
    host = u.hostname or ""
    if (not host or port is None or not 0 < port < 65536 or u.path or u.query or u.fragment
            or u.username or any(not (c.isalnum() or c in ".-:[]_") for c in host)):
        raise InputError(f"Dask address {address!r}: expected {scheme}://HOST:PORT with a "
                         "host name or IP address and a port 1-65535")
    return address


def parse_executor(text: str, connect_timeout: float = CONNECT_TIMEOUT) -> ExecutorSpec:
    """'local', 'dask' (a LocalCluster) or 'dask:ADDRESS' (the address checked here, before
    any connection is tried)."""
    if not 0 < connect_timeout <= 3600:
        raise InputError(f"--connect-timeout must be in (0, 3600] seconds, got {connect_timeout}")
    if text == "local":
        return ExecutorSpec("local")
    if text == "dask":
        return ExecutorSpec("dask")
    if text.startswith("dask:") and len(text) > 5:
        return ExecutorSpec("dask", check_address(text[5:]), connect_timeout)
    raise InputError(f"unknown executor {text!r} (use local, dask or dask:ADDRESS, "
                     "e.g. dask:tcp://scheduler:8786)")


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job where this function is called (a cluster worker, or here).  With
    ``text``, the file is written to a temporary folder first; the result names
    ``job['file']`` either way."""
    text = job.get("text")
    if text is None:
        return run_file(job["file"], job["solver"], job["timeout"], job["memory_mb"]).to_json()
    with tempfile.TemporaryDirectory(prefix="adcorrect-job-") as tmp:
        path = Path(tmp) / Path(job["file"]).name
        path.write_text(text, encoding="utf-8")
        out = run_file(path, job["solver"], job["timeout"], job["memory_mb"]).to_json()
    out["file"] = job["file"]
    return out


def _payload(job: Job, with_text: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"file": job.file, "solver": job.solver, "timeout": job.timeout,
                           "memory_mb": job.memory_mb}
    if with_text:
        out["text"] = read_text(job.file, "SMT-LIB file")
    return out


def execute(jobs: Sequence[Job], spec: ExecutorSpec, workers: int,
            on_result: Callable[[Job, dict[str, Any]], None]) -> None:
    """Run every job, calling on_result(job, result) as each finishes (in this thread).
    KeyboardInterrupt cancels what has not started and propagates."""
    if not jobs:
        return
    if spec.kind == "local":
        _execute_local(jobs, max(1, workers), on_result)
    else:
        _execute_dask(jobs, spec, max(1, workers), on_result)


def _execute_local(jobs: Sequence[Job], workers: int,
                   on_result: Callable[[Job, dict[str, Any]], None]) -> None:
    pool = ThreadPoolExecutor(max_workers=workers)
    pending: dict[Future[dict[str, Any]], Job] = {}
    todo = list(reversed(jobs))
    try:
        while todo or pending:
            while todo and len(pending) < workers:
                job = todo.pop()
                pending[pool.submit(run_job, _payload(job, False))] = job
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in done:
                on_result(pending.pop(fut), fut.result())
    except BaseException:
        kill_all()  # the running solvers stop now, not at their time limits
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        reset()


def _execute_dask(jobs: Sequence[Job], spec: ExecutorSpec, workers: int,
                  on_result: Callable[[Job, dict[str, Any]], None]) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - dask is a dependency
        raise InputError("--executor dask needs the packages dask and distributed") from None
    cluster = None
    address = spec.address
    try:
        if address is None:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(address, timeout=f"{spec.connect_timeout:g}s")
    except (OSError, ValueError, TypeError) as e:  # refused, timed out, or a bad address
        raise InputError(f"cannot reach the Dask scheduler at {address} within "
                         f"{spec.connect_timeout:g} s: {e}") from None
    try:
        futures = {}
        for job in jobs:
            fut = client.submit(run_job, _payload(job, True), pure=False)
            futures[fut] = job
        try:
            for fut in as_completed(list(futures)):
                on_result(futures[fut], fut.result())
        except BaseException:
            client.cancel(list(futures))
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
