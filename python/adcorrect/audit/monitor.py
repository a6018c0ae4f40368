"""A training monitor: both audits (:mod:`adcorrect.audit`) of a user's own training loop.

::

    mon = Monitor(model, nn.CrossEntropyLoss(), every=1, total=len(loader))
    for x, y in loader:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        mon.step(x, y)      # audits the parameters the gradient was just computed at
        opt.step()
    print(mon.summary())
    mon.to_json("audit.json")

or ``with Monitor(model, loss_fn, json_path="audit.json") as mon: ...`` (the progress bar
is closed and the JSON written on exit).  Every ``every``-th call of :meth:`Monitor.step`
audits the batch at the model's current parameters: the exact audit (kinked copies,
NS, differentiability, ``inc``) and the execution audit (float kinks, bifurcation) in
``dtype`` (default: the parameters' own dtype; for e4m3fn, e5m2 and int8 grids the
parameters are expected to hold values of the format, and how many do not is recorded).
The model is imported at the first audited step and again whenever what the import
depends on changes (:func:`adcorrect.torchfx.values.import_key`: train/eval mode, the
module tree, hooks, frozen parameters, BatchNorm's running statistics, the example
shape), checked at every audited step; nothing the model can change is cached.  The
monitor never changes the model or its gradients, and :meth:`Monitor.step` never raises
for a step it cannot audit: the error is recorded for that step (``error``) and counted
in the summary.

``executor="dask"`` (a LocalCluster with one worker process, started in a helper process
at low priority: :mod:`adcorrect.core.cluster`) or ``"dask:ADDRESS"`` runs
the audits on Dask workers while training goes on: :meth:`Monitor.step` snapshots the
trainable parameters and the batch and returns at once; every ``chunk`` audited steps
(or every second, or fewer for a large model) go to a worker as one task
(:mod:`adcorrect.audit.remote`); :attr:`Monitor.records` are
in step order, and :meth:`Monitor.close` (or the end of the ``with`` block) waits for all.
``resume=True`` with ``json_path`` keeps the records of an earlier, interrupted run
(written there) and audits only the steps they lack.
"""

from __future__ import annotations

import bisect
import json
from pathlib import Path
from typing import Any, Self

import torch
from torch import nn

from ..core.deadline import DEFAULT_TIME_LIMIT
from ..core.errors import InputError
from ..core.files import atomic_write_text
from ..core.progress import Progress
from ..core.tables import render
from ..exact.oracle import DEFAULT_BUDGET
from .dtypes import DType, dtype_of, parse_dtype
from .remote import DEFAULT_CHUNK, DaskAudits, parse_executor
from .steps import StepAuditor, StepConfig, error_record

__all__ = ["Monitor", "loss_kind"]


def loss_kind(loss_fn: Any) -> str:
    """'ce', 'mse' or 'sum' for a loss function PyTorch defines the same way."""
    import torch.nn.functional as F

    if isinstance(loss_fn, str) and loss_fn in ("ce", "mse", "sum"):
        return loss_fn
    if isinstance(loss_fn, nn.CrossEntropyLoss):
        if loss_fn.reduction != "mean" or loss_fn.weight is not None or \
                loss_fn.label_smoothing != 0:
            raise InputError("CrossEntropyLoss: only the default (mean, no weights, no label "
                             "smoothing) is audited")
        return "ce"
    if isinstance(loss_fn, nn.MSELoss):
        if loss_fn.reduction != "mean":
            raise InputError("MSELoss: only reduction='mean' is audited")
        return "mse"
    if loss_fn is F.cross_entropy:
        return "ce"
    if loss_fn is F.mse_loss:
        return "mse"
    raise InputError(f"loss {loss_fn!r}: use nn.CrossEntropyLoss(), nn.MSELoss(), "
                     "F.cross_entropy, F.mse_loss or one of 'ce', 'mse', 'sum'")


class Monitor:
    """Audits every ``every``-th training step; see the module docstring."""

    def __init__(self, model: nn.Module, loss_fn: Any, every: int = 1,
                 dtype: str | DType | None = None, choice: str = "pytorch",
                 budget: int | None = DEFAULT_BUDGET, total: int | None = None,
                 progress: bool = True, json_path: str | Path | None = None,
                 execution: bool = True, inc_dir: str | Path | None = None,
                 keep_copies: bool = False, time_limit: float | None = DEFAULT_TIME_LIMIT,
                 executor: str = "local", chunk: int = DEFAULT_CHUNK, resume: bool = False
                 ) -> None:
        if not isinstance(model, nn.Module):
            raise InputError(f"Monitor: expected a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(every, int) or every < 1:
            raise InputError(f"Monitor: every must be a positive integer, got {every!r}")
        if not isinstance(chunk, int) or chunk < 1:
            raise InputError(f"Monitor: chunk must be a positive integer, got {chunk!r}")
        self.model = model
        self.loss = loss_kind(loss_fn)
        self.every = every
        self.dtype = parse_dtype(dtype) if isinstance(dtype, str) else dtype or dtype_of(model)
        self.config = StepConfig(self.loss, self.dtype, choice, budget, execution, keep_copies,
                                 time_limit)
        self.json_path = json_path
        self.inc_dir = Path(inc_dir) if inc_dir is not None else None
        self.steps = 0
        self._records: list[dict[str, Any]] = []
        self._done: set[int] = set()
        if resume and json_path is not None and Path(json_path).is_file():
            self._records = _read_records(Path(json_path))
            self._done = {r["step"] for r in self._records}
        address = parse_executor(executor)
        self._local = StepAuditor(model, self.config) if address is None else None
        self._remote = DaskAudits(address, self.config, chunk) if address is not None \
            else None
        self._remote_imports = 0
        n = None if total is None else -(-total // every)
        self._bar = Progress(n or 0, "audit", enabled=progress and n is not None, unit="steps")

    @property
    def imports(self) -> int:
        """How many times the model was imported (sent to the workers, with Dask)."""
        if self._local is not None:
            return self._local.imports
        return self._remote.imports if self._remote is not None else self._remote_imports

    @property
    def records(self) -> list[dict[str, Any]]:
        """The records of the audited steps so far, in step order (with Dask: those whose
        results are in, the steps queued so far being sent now; :meth:`flush` and
        :meth:`close` wait for all)."""
        self._collect(wait=False)
        return self._records

    # -- the loop ---------------------------------------------------------------------------

    def step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, Any] | None:
        """Count a training step; audit it if it is an ``every``-th one.  Returns the record
        (with Dask: None, the audit runs on a worker; see :attr:`records`)."""
        self.steps += 1
        step = self.steps - 1
        if step % self.every or step in self._done:
            return None
        if self._remote is not None:
            try:
                from ..torchfx.values import import_key

                if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor) or \
                        x.dim() < 1:
                    raise InputError("batch: x and y must be tensors, x with a batch axis")
                key = import_key(self.model, tuple(x.shape[1:]))
                self._remote.add(self.model, key, step, x, y)
            except Exception as e:  # noqa: BLE001 - recorded per step, never raised
                self._add(error_record(step, e), None)
            return None  # results are fetched when records are read, never during step
        assert self._local is not None
        rec, spec = self._local.audit(step, x, y)
        self._add(rec, spec)
        return rec

    def _add(self, rec: dict[str, Any], spec: dict[str, Any] | None) -> None:
        if spec is not None and self.inc_dir is not None:
            path = self.inc_dir / f"inc-step{rec['step']}.json"
            atomic_write_text(path, json.dumps(spec, indent=1) + "\n")
            rec["inc_spec"] = str(path)
        bisect.insort(self._records, rec, key=lambda r: r["step"])
        self._bar.update(len(self._records))

    def flush(self) -> list[dict[str, Any]]:
        """Wait for every audit queued so far (Dask); the records, in step order."""
        self._collect(wait=True)
        return self._records

    def _collect(self, wait: bool) -> None:
        if self._remote is not None:
            for rec, spec in self._remote.collect(wait):
                self._add(rec, spec)

    # -- results ----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counts and fractions over the audited steps (waits for the Dask results)."""
        self._collect(wait=True)
        n = len(self.records)

        def count(key: str, value: Any = True) -> int:
            return sum(1 for r in self.records if r[key] == value)

        out: dict[str, Any] = {
            "steps": self.steps, "audited": n, "every": self.every, "dtype": self.dtype.name,
            "loss": self.loss,
            "kinked_steps": sum(1 for r in self.records if r["kinked"]),
            "ns_steps": count("ns"), "ndf_steps": count("differentiable", False),
            "inc_steps": count("inc"), "undecided_steps": sum(1 for r in self.records
                                                              if r["undecided"]),
            "error_steps": sum(1 for r in self.records if r.get("error")),
            "imports": self.imports,
            "float_kink_steps": sum(1 for r in self.records if r["float_kinks"]),
            "bifurcation_steps": count("bifurcation"),
            "kinked_copies": sum(r["kinked"] for r in self.records),
            "float_kinks": sum(r["float_kinks"] or 0 for r in self.records),
            "exact_only": sum(r["exact_only"] or 0 for r in self.records),
            "float_only": sum(r["float_only"] or 0 for r in self.records),
            "seconds": sum(r["seconds"] for r in self.records),
        }
        return out

    def summary(self) -> str:
        """A table: what fraction of the audited steps had each property."""
        s = self.stats()
        n = max(s["audited"], 1)
        rows = [
            ("audited steps", f"{s['audited']} of {s['steps']} (every {self.every})", ""),
            ("steps with kinked copies (exact)", s["kinked_steps"], f"{s['kinked_steps'] / n:.4f}"),
            ("steps with NS (a kinked copy with a non-zero adjoint)", s["ns_steps"],
             f"{s['ns_steps'] / n:.4f}"),
            ("steps with a non-differentiable batch loss", s["ndf_steps"],
             f"{s['ndf_steps'] / n:.4f}"),
            ("steps with AD wrong at a differentiable point (inc)", s["inc_steps"],
             f"{s['inc_steps'] / n:.4f}"),
            ("steps with float kinks", s["float_kink_steps"], f"{s['float_kink_steps'] / n:.4f}"),
            ("steps whose float gradient bifurcates", s["bifurcation_steps"],
             f"{s['bifurcation_steps'] / n:.4f}"),
            ("undecided steps", s["undecided_steps"], f"{s['undecided_steps'] / n:.4f}"),
            ("steps that could not be audited (error)", s["error_steps"],
             f"{s['error_steps'] / n:.4f}"),
            ("copies: exact kink only / float kink only", f"{s['exact_only']} / {s['float_only']}",
             ""),
        ]
        head = f"audit of {s['audited']} steps ({self.dtype.name}, loss {self.loss})"
        text = head + "\n" + render(["", "steps", "fraction"], rows)
        errors = [r for r in self.records if r.get("error")]
        if errors:
            text += f"\nfirst error (step {errors[0]['step']}): {errors[0]['error']}"
        return text

    def to_json(self, path: str | Path) -> None:
        """Write the statistics and every record."""
        atomic_write_text(path, json.dumps({"stats": self.stats(), "records": self.records},
                                           indent=1) + "\n")

    def close(self) -> None:
        """Wait for the audits, end the progress bar, write the JSON if a path was given,
        and shut the Dask client."""
        self._collect(wait=True)
        self._bar.close()
        if self.json_path is not None:
            self.to_json(self.json_path)
        if self._remote is not None:
            self._remote_imports = self._remote.imports
            self._remote.close()
            self._remote = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()



def _read_records(path: Path) -> list[dict[str, Any]]:
    """The records of an earlier run's JSON (resume); InputError for a file that is not."""
    try:
        data = json.loads(path.read_text())
        recs = data["records"]
        if not isinstance(recs, list) or not all(isinstance(r, dict) and
                                                 isinstance(r.get("step"), int) for r in recs):
            raise ValueError("records")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"{path}: not a Monitor JSON to resume from ({type(e).__name__})") \
            from None
    return sorted(recs, key=lambda r: r["step"])
