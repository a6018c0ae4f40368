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
"""

from __future__ import annotations

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
from .run import Auditor

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


def _one_line(e: BaseException) -> str:
    """An exception as one short line."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    text = lines[0] if lines else type(e).__name__
    if not isinstance(e, InputError):
        text = f"{type(e).__name__}: {text}"
    return text if len(text) <= 300 else text[:297] + "..."


class Monitor:
    """Audits every ``every``-th training step; see the module docstring."""

    def __init__(self, model: nn.Module, loss_fn: Any, every: int = 1,
                 dtype: str | DType | None = None, choice: str = "pytorch",
                 budget: int | None = DEFAULT_BUDGET, total: int | None = None,
                 progress: bool = True, json_path: str | Path | None = None,
                 execution: bool = True, inc_dir: str | Path | None = None,
                 keep_copies: bool = False, time_limit: float | None = DEFAULT_TIME_LIMIT
                 ) -> None:
        if not isinstance(model, nn.Module):
            raise InputError(f"Monitor: expected a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(every, int) or every < 1:
            raise InputError(f"Monitor: every must be a positive integer, got {every!r}")
        self.model = model
        self.loss = loss_kind(loss_fn)
        self.every = every
        self.dtype = parse_dtype(dtype) if isinstance(dtype, str) else dtype or dtype_of(model)
        self.choice, self.budget = choice, budget
        self.execution = execution
        self.json_path = json_path
        self.inc_dir = Path(inc_dir) if inc_dir is not None else None
        self.keep_copies = keep_copies
        self.time_limit = time_limit
        self.steps = 0
        self.records: list[dict[str, Any]] = []
        self.auditor: Auditor | None = None
        self._key: Any = None
        self.imports = 0
        n = None if total is None else -(-total // every)
        self._bar = Progress(n or 0, "audit", enabled=progress and n is not None, unit="steps")

    # -- the loop ---------------------------------------------------------------------------

    def step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, Any] | None:
        """Count a training step; audit it if it is an ``every``-th one (returns the record)."""
        self.steps += 1
        if (self.steps - 1) % self.every:
            return None
        try:
            rec = self._audit(x, y)
        except Exception as e:  # noqa: BLE001 - recorded per step, never raised
            rec = {"step": self.steps - 1, "error": _one_line(e), "kinked": 0,
                   "kinked_examples": 0, "ns": None, "differentiable": None, "inc": None,
                   "undecided": None, "certificate": "error", "float_kinks": None,
                   "bifurcation": None, "exact_only": None, "float_only": None,
                   "not_in_format": None, "seconds": 0.0}
        self.records.append(rec)
        self._bar.update(len(self.records))
        return rec

    def _audit(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
        from ..torchfx.values import import_key

        if not isinstance(x, torch.Tensor) or x.dim() < 1:
            raise InputError("batch x: expected a tensor with a batch axis")
        if x.layout != torch.strided or y.layout != torch.strided:
            raise InputError("batch: sparse tensors are not supported (use .to_dense())")
        key = import_key(self.model, tuple(x.shape[1:]))
        if self.auditor is None or key != self._key:
            self.auditor = None
            self.auditor = Auditor(self.model, x, self.loss, dtype=self.dtype,
                                   choice=self.choice, budget=self.budget,
                                   time_limit=self.time_limit)
            self._key = key
            self.imports += 1
        res = self.auditor.audit(x, y, execution=self.execution)
        return self._record(res)

    def _record(self, res: dict[str, Any]) -> dict[str, Any]:
        e = res["exact"]
        x = res.get("execution") or {}
        d = res.get("differ") or {}
        rec: dict[str, Any] = {
            "step": self.steps - 1, "kinked": e["kinked"], "kinked_examples": e["kinked_examples"],
            "ns": e["ns"], "differentiable": e["differentiable"], "inc": e["inc"],
            "undecided": e["undecided"], "certificate": e["certificate"],
            "float_kinks": x.get("float_kinks"), "bifurcation": x.get("bifurcation"),
            "exact_only": d.get("exact_only"), "float_only": d.get("float_only"),
            "not_in_format": self._outside_format(),
            "seconds": round(res["seconds"]["total"], 6), "dead": e.get("dead", 0),
            "uncertain": e["uncertain"], "kinks_known": e["kinks_known"],
        }
        if self.keep_copies:
            rec["copies"] = e["copies"]
        if e["inc"] and self.inc_dir is not None:
            from dataclasses import replace

            from ..nets.specv2 import network_to_v2

            self.inc_dir.mkdir(parents=True, exist_ok=True)
            path = self.inc_dir / f"inc-step{rec['step']}.json"
            net = replace(res["_inc_network"], values=tuple(res["_inc_values"]))
            atomic_write_text(path, json.dumps(network_to_v2(net), indent=1) + "\n")
            rec["inc_spec"] = str(path)
        return rec

    def _outside_format(self) -> int:
        if self.dtype.native:
            return 0
        return sum(int((~self.dtype.contains(p)).sum()) for p in self.model.parameters())

    # -- results ----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counts and fractions over the audited steps."""
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
        """End the progress bar; write the JSON if a path was given."""
        self._bar.close()
        if self.json_path is not None:
            self.to_json(self.json_path)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

