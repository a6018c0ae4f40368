"""The Dask helper cluster (executor="dask" with no address): scheduler and worker run in
another process, at nice +10 relative to the training process, and end with it."""

from __future__ import annotations

import os

from adcorrect.core.cluster import NICE, HelperCluster


def test_helper_cluster_runs_niced_outside_this_process() -> None:
    from distributed import Client

    own = os.nice(0)
    helper = HelperCluster()
    try:
        with Client(helper.address, timeout=10) as client:
            info = client.run(lambda: (os.getpid(), os.nice(0)))
            assert len(info) == 1  # one worker
            (pid, nice), = info.values()
            assert pid != os.getpid()
            assert nice == min(own + NICE, 19)
            assert client.submit(sum, [1, 2, 3]).result() == 6
    finally:
        helper.close()
    assert helper.proc.returncode == 0
