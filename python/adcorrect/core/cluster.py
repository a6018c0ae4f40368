"""A Dask LocalCluster in a helper process at low priority (``executor="dask"`` with no
address): the scheduler and its one worker (one thread) run outside the training
process and at ``nice +10``, so the training loop keeps its CPU and only the client's
communication runs in it.

``python -m adcorrect.core.cluster`` is the helper: it lowers its priority, starts the
cluster, prints the scheduler's address on one line, and shuts the cluster when its
standard input closes (the parent ended it, or died).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import IO

#: How much lower the helper's priority is than the training process's.
NICE = 10
#: Seconds to wait for the helper to print the scheduler's address.
START_TIMEOUT = 60.0


class HelperCluster:
    """The helper process; :attr:`address` is its scheduler's address."""

    def __init__(self, nice: int = NICE, timeout: float = START_TIMEOUT) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "adcorrect.core.cluster", str(nice)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        assert self.proc.stdout is not None
        line = _read_line(self.proc.stdout, timeout)
        if not line.startswith("address "):
            self.close()
            raise OSError("the Dask helper process did not start a cluster")
        self.address = line.split(" ", 1)[1].strip()

    def close(self) -> None:
        """End the helper (it closes the cluster on end of input) and wait for it."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung helper
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _read_line(stream: IO[str], timeout: float) -> str:
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    ready = sel.select(timeout)
    sel.close()
    return stream.readline() if ready else ""


def _main(nice: int) -> int:
    os.nice(nice)
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    print(f"address {cluster.scheduler_address}", flush=True)
    try:
        sys.stdin.read()  # until the parent closes its end
    finally:
        cluster.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(int(sys.argv[1]) if len(sys.argv) > 1 else NICE))
