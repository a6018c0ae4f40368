"""The Monitor's audits on Dask workers while training goes on (``executor="dask"`` or
``"dask:ADDRESS"``).

At each audited step the training process only snapshots the trainable parameters and
the batch, copying them into the open chunk's arrays; a chunk goes to a worker as one
task when it holds ``chunk`` steps (fewer for a large model: :data:`CHUNK_BYTES`), is
:data:`FLUSH_SECONDS` old or the records are read, and the task audits its steps in
order.  The model itself goes to the workers once per import key
(:func:`~adcorrect.torchfx.values.import_key`: mode, structure, hooks, frozen parameters,
buffers), so a change of any of these sends a fresh copy.  Results come back in step
order whatever order the tasks finish in.
"""

from __future__ import annotations

import copy
import itertools
import time
from typing import Any, Self

import numpy as np
import torch
from torch import nn

from ..core.errors import InputError
from .steps import StepAuditor, StepConfig, error_record

#: Most steps audited by one task (fewer round trips; results arrive in chunks).
DEFAULT_CHUNK = 256
#: A chunk is sent when it is this many seconds old, full or not.
FLUSH_SECONDS = 1.0
#: Most bytes of one chunk's arrays (a large model's chunks hold fewer steps).
CHUNK_BYTES = 1 << 26
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


class Chunk:
    """The queued steps of one task: their numbers, and the trainable parameters (one flat
    row per step), the inputs and the targets stacked in arrays allocated once per chunk,
    so that queueing a step is three copies into place (opaque to Dask: a plain list would
    be walked entry by entry for task references at every submit)."""

    def __init__(self, params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                 most: int, started: float) -> None:
        numel = sum(p.numel() for p in params)
        pdtype = params[0].dtype if params else torch.float32
        step_bytes = numel * pdtype.itemsize + x.numel() * x.element_size() + \
            y.numel() * y.element_size()
        self.size = max(1, min(most, CHUNK_BYTES // max(step_bytes, 1)))
        self.started = started
        self.steps: list[int] = []
        # zeros: every page is touched here, not one by one at the steps' copies
        self.params = torch.zeros((self.size, numel), dtype=pdtype)
        self.x = torch.zeros((self.size, *x.shape), dtype=x.dtype)
        self.y = torch.zeros((self.size, *y.shape), dtype=y.dtype)
        self._views = tuple(t.numpy() for t in (self.params, self.x, self.y)) \
            if all(_numpy_ok(t) for t in (self.params, self.x, self.y)) else None

    def reopen(self, started: float) -> Self:
        """This chunk's arrays for a new task (its last task has finished)."""
        self.steps, self.started = [], started
        return self

    def fits(self, x: torch.Tensor, y: torch.Tensor) -> bool:
        """Whether a step with this batch goes into this chunk (the parameters' layout is
        the import key's, which a chunk never spans)."""
        return len(self.steps) < self.size and x.shape == self.x.shape[1:] and \
            y.shape == self.y.shape[1:] and x.dtype == self.x.dtype and \
            y.dtype == self.y.dtype

    def add(self, step: int, params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor
            ) -> None:
        """Copy the step's parameters and batch into the next row."""
        k = len(self.steps)
        try:  # numpy's copies cost less per call than torch's
            if self._views is None:
                raise TypeError("not a numpy dtype")
            P, X, Y = self._views
            if params:
                np.concatenate([p.detach().numpy().reshape(-1) for p in params], out=P[k])
            X[k], Y[k] = x.detach().numpy(), y.detach().numpy()
        except (TypeError, RuntimeError):  # a dtype or a device numpy does not read
            with torch.no_grad():
                if params:
                    torch.cat([p.detach().reshape(-1).cpu() for p in params],
                              out=self.params[k])
                self.x[k].copy_(x.detach())
                self.y[k].copy_(y.detach())
        self.steps.append(step)

    def payload(self) -> tuple[list[int], Any, Any, Any]:
        """The filled rows as raw bytes (fast to pickle, any dtype)."""
        n = len(self.steps)
        return (self.steps, _raw(self.params[:n], copy=False), _raw(self.x[:n], copy=False),
                _raw(self.y[:n], copy=False))


class Items:
    """A chunk's payload, opaque to Dask."""

    def __init__(self, payload: tuple[list[int], Any, Any, Any]) -> None:
        self.payload = payload


def _numpy_ok(t: torch.Tensor) -> bool:
    """Whether numpy holds this dtype (bfloat16 and the fp8 formats it does not)."""
    try:
        t[:0].numpy()
    except (TypeError, RuntimeError):
        return False
    return True


def audit_chunk(model: nn.Module, config: StepConfig, items: Items
                ) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Worker side: audit a chunk's steps in order (parameters written into the worker's
    copy of the model, then the step's batch audited)."""
    from ..torchfx.values import trainable

    steps, flat, xs, ys = items.payload
    sa = _WORKER_AUDITORS.get(id(model))
    if sa is None or sa.model is not model:
        sa = _WORKER_AUDITORS[id(model)] = StepAuditor(model, config)
    params = [p for _, p in trainable(model)]
    P, X, Y = _tensor(flat), _tensor(xs), _tensor(ys)
    out = []
    for i, step in enumerate(steps):
        try:
            with torch.no_grad():
                torch.nn.utils.vector_to_parameters(P[i], params)
        except Exception as e:  # noqa: BLE001 - recorded per step
            out.append((error_record(step, e), None))
            continue
        out.append(sa.audit(step, X[i], Y[i]))
    return out


def _raw(t: torch.Tensor, copy: bool = True) -> tuple[str, tuple[int, ...], Any]:
    """A tensor's bytes with its dtype and shape: fast to pickle, any dtype; a copy unless
    ``copy`` is False (a tensor nothing else holds)."""
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
        self._chunk: Chunk | None = None
        self._futures: list[tuple[Chunk, Any]] = []
        self._free: list[Chunk] = []  # chunks whose task has finished: arrays to reuse
        self._model_future: Any = None
        self._key: Any = None
        self._params: list[torch.Tensor] = []
        self.imports = 0

    def add(self, model: nn.Module, key: Any, step: int, x: torch.Tensor, y: torch.Tensor
            ) -> None:
        """Snapshot the step (parameters, batch) into the open chunk; submit the chunk when
        it is full or :data:`FLUSH_SECONDS` old."""
        from ..torchfx.values import trainable

        if key != self._key:
            self.submit()
            self._free.clear()  # another parameter layout, maybe
            params = [p for _, p in trainable(model)]
            if len({p.dtype for p in params}) > 1:
                raise InputError("executor dask: the trainable parameters have several dtypes")
            self._model_future = self.client.scatter(copy.deepcopy(model), broadcast=True,
                                                     hash=False)
            self._key, self._params = key, params  # equal keys: the same parameter objects
            self.imports += 1
        c = self._chunk
        if c is not None and not c.fits(x, y):
            self.submit()
            c = None
        now = time.monotonic()
        if c is None:
            c = self._chunk = self._reuse(x, y, now) or \
                Chunk(self._params, x, y, self.chunk, now)
        c.add(step, self._params, x, y)
        if len(c.steps) >= c.size or now - c.started >= FLUSH_SECONDS:
            self.submit()

    def _reuse(self, x: torch.Tensor, y: torch.Tensor, now: float) -> Chunk | None:
        """A finished chunk whose arrays fit this batch (steady state: no allocation, and
        no page of fresh memory touched at a step)."""
        while self._free:
            c = self._free.pop().reopen(now)
            if c.fits(x, y):
                return c
        return None

    def submit(self) -> None:
        """Send the open chunk as one task."""
        c, self._chunk = self._chunk, None
        if c is None or not c.steps:
            return
        fut = self.client.submit(audit_chunk, self._model_future, self.config,
                                 Items(c.payload()), pure=False,
                                 key=f"adcorrect-audit-{next(_NAMES)}")
        self._futures.append((c, fut))

    def collect(self, wait: bool) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
        """Results of the finished leading tasks, in step order (all of them if wait); the
        open chunk is sent first (reading the records asks for every step so far)."""
        self.submit()
        out = []
        while self._futures:
            c, fut = self._futures[0]
            if not wait and not fut.done():
                break
            try:
                out.extend(fut.result())
            except Exception as e:  # noqa: BLE001 - a lost worker: the steps say so
                out.extend((error_record(s, e), None) for s in c.steps)
            self._futures.pop(0)
            self._free.append(c)  # its task has run: the payload was read
        return out

    def close(self) -> None:
        """Shut the client (and the LocalCluster this object started)."""
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
