"""The Monitor's audits on Dask workers while training goes on (``executor="dask"`` or
``"dask:ADDRESS"``).

At each audited step the training process only snapshots the trainable parameters and
the batch (copies) and queues them; every ``chunk`` steps one task audits the queued
steps, in order, on a worker.  The model itself goes to the workers once per import key
(:func:`~adcorrect.torchfx.values.import_key`: mode, structure, hooks, frozen parameters,
buffers), so a change of any of these sends a fresh copy.  Results come back in step
order whatever order the tasks finish in.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import torch
from torch import nn

from ..core.errors import InputError
from .steps import StepAuditor, StepConfig, error_record

#: Steps audited by one task (fewer round trips; results arrive in chunks).
DEFAULT_CHUNK = 32
#: Seconds to wait for a scheduler before giving up.
CONNECT_TIMEOUT = 5.0

# worker side: the StepAuditor of each model copy the worker holds
_WORKER_AUDITORS: dict[int, StepAuditor] = {}
_NAMES = itertools.count()


def parse_executor(text: str) -> str | None:
    """None for 'local'; the scheduler address ('' for a new LocalCluster) for 'dask' or
    'dask:ADDRESS'; InputError otherwise."""
    if text == "local":
        return None
    if text == "dask":
        return ""
    if text.startswith("dask:"):
        addr = text[5:]
        scheme, sep, rest = addr.partition("://")
        host, _, port = rest.rpartition(":")
        if not sep or scheme not in ("tcp", "tls", "inproc", "ucx") or not host or \
                not port.isdigit() or not 0 < int(port) < 65536:
            raise InputError(f"executor {text[:80]!r}: expected dask:tcp://HOST:PORT "
                             "(or tls://, inproc://, ucx://)")
        return addr
    raise InputError(f"executor {text[:80]!r}: use local, dask or dask:ADDRESS")


class Items:
    """The queued steps of one task, opaque to Dask (a plain list would be walked entry
    by entry for task references at every submit)."""

    def __init__(self, items: list[tuple[Any, ...]]) -> None:
        self.items = items


def audit_chunk(model: nn.Module, config: StepConfig, items: Items | list[tuple[Any, ...]]
                ) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Worker side: audit the queued steps (step, trainable parameters as one flat array,
    x, y as arrays) in order."""
    if isinstance(items, Items):
        items = items.items
    from ..torchfx.values import trainable

    sa = _WORKER_AUDITORS.get(id(model))
    if sa is None or sa.model is not model:
        sa = _WORKER_AUDITORS[id(model)] = StepAuditor(model, config)
    params = [p for _, p in trainable(model)]
    out = []
    for step, flat, x, y in items:
        try:
            with torch.no_grad():
                torch.nn.utils.vector_to_parameters(_tensor(flat), params)
        except Exception as e:  # noqa: BLE001 - recorded per step
            out.append((error_record(step, e), None))
            continue
        out.append(sa.audit(step, _tensor(x), _tensor(y)))
    return out


def _raw(t: torch.Tensor, copy: bool = True) -> tuple[str, tuple[int, ...], Any]:
    """A tensor's bytes with its dtype and shape: fast to pickle, any dtype; a copy unless
    ``copy`` is False (a tensor nothing else holds, such as a fresh ``torch.cat``)."""
    t = t.detach().contiguous()
    data = t.reshape(-1).view(torch.uint8).numpy()
    return str(t.dtype).removeprefix("torch."), tuple(t.shape), data.copy() if copy else data


def _tensor(raw: tuple[str, tuple[int, ...], Any]) -> torch.Tensor:
    dtype, shape, data = raw
    return torch.from_numpy(data).view(getattr(torch, dtype)).reshape(shape)


class DaskAudits:
    """The training process's side: queue, submit, collect in step order."""

    def __init__(self, address: str, config: StepConfig, chunk: int = DEFAULT_CHUNK) -> None:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - dask is a dependency
            raise InputError("executor dask needs the packages dask and distributed") from None
        self.config, self.chunk = config, chunk
        self._cluster: Any = None
        try:
            if address:
                self.client = Client(address, timeout=CONNECT_TIMEOUT)
            else:  # scheduler and worker in a low-priority helper process
                from ..core.cluster import HelperCluster

                self._cluster = HelperCluster()
                self.client = Client(self._cluster.address, timeout=CONNECT_TIMEOUT)
        except OSError as e:
            raise InputError(f"executor dask:{address}: cannot connect ({e})") from None
        self._queue: list[tuple[Any, ...]] = []
        self._futures: list[tuple[list[int], Any]] = []
        self._model_future: Any = None
        self._key: Any = None
        self._params: list[torch.Tensor] = []
        self.imports = 0

    def add(self, model: nn.Module, key: Any, step: int, x: torch.Tensor, y: torch.Tensor
            ) -> None:
        """Snapshot the step (parameters, batch) and queue it; submit a full chunk."""
        from ..torchfx.values import trainable

        if key != self._key:
            self.submit()
            params = [p for _, p in trainable(model)]
            if len({p.dtype for p in params}) > 1:
                raise InputError("executor dask: the trainable parameters have several dtypes")
            self._model_future = self.client.scatter(copy.deepcopy(model), broadcast=True,
                                                     hash=False)
            self._key, self._params = key, params  # equal keys: the same parameter objects
            self.imports += 1
        flat = _raw(torch.cat([p.detach().reshape(-1) for p in self._params]), copy=False) \
            if self._params else None
        self._queue.append((step, flat, _raw(x), _raw(y)))
        if len(self._queue) >= self.chunk:
            self.submit()

    def submit(self) -> None:
        """Send the queued steps as one task."""
        if not self._queue:
            return
        items, self._queue = self._queue, []
        fut = self.client.submit(audit_chunk, self._model_future, self.config, Items(items),
                                 pure=False, key=f"adcorrect-audit-{next(_NAMES)}")
        self._futures.append(([it[0] for it in items], fut))

    def collect(self, wait: bool) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
        """Results of the finished leading tasks, in step order (all of them if wait)."""
        if wait:
            self.submit()
        out = []
        while self._futures:
            steps, fut = self._futures[0]
            if not wait and not fut.done():
                break
            try:
                out.extend(fut.result())
            except Exception as e:  # noqa: BLE001 - a lost worker: the steps say so
                out.extend((error_record(s, e), None) for s in steps)
            self._futures.pop(0)
        return out

    def close(self) -> None:
        """Shut the client (and the LocalCluster this object started)."""
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
