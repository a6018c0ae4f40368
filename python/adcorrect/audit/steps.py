"""One audited training step, as the Monitor records it, wherever it runs (in the training
process or on a Dask worker): the model imported again whenever what the import depends on
changed, the audit, and a flat record; errors become records, never exceptions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from ..core.deadline import DEFAULT_TIME_LIMIT
from ..core.display import one_line
from ..core.errors import InputError
from ..exact.oracle import DEFAULT_BUDGET
from .dtypes import DType
from .run import Auditor


@dataclass(frozen=True)
class StepConfig:
    """What every audited step of a Monitor shares."""

    loss: str
    dtype: DType
    choice: str = "pytorch"
    budget: int | None = DEFAULT_BUDGET
    execution: bool = True
    keep_copies: bool = False
    time_limit: float | None = DEFAULT_TIME_LIMIT


def error_line(e: BaseException) -> str:
    """An exception as one short printable line (its first line; the type unless it is
    bad input)."""
    lines = [ln for ln in str(e).splitlines() if ln.strip()]
    text = lines[0] if lines else type(e).__name__
    if not isinstance(e, InputError):
        text = f"{type(e).__name__}: {text}"
    return one_line(text)


def error_record(step: int, e: BaseException) -> dict[str, Any]:
    """The record of a step that could not be audited."""
    return {"step": step, "error": error_line(e), "kinked": 0, "kinked_examples": 0,
            "ns": None, "differentiable": None, "inc": None, "undecided": None,
            "certificate": "error", "float_kinks": None, "bifurcation": None,
            "exact_only": None, "float_only": None, "not_in_format": None, "seconds": 0.0}


def outside_format(dtype: DType, params: list[torch.Tensor]) -> int:
    """How many parameter entries are not values of the format."""
    if dtype.native:
        return 0
    return sum(int((~dtype.contains(p)).sum()) for p in params)


def record_of(res: dict[str, Any], step: int, not_in_format: int, keep_copies: bool
              ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(the flat record of an audit result, the v2 spec of its inc point or None)."""
    e = res["exact"]
    x = res.get("execution") or {}
    d = res.get("differ") or {}
    rec: dict[str, Any] = {
        "step": step, "kinked": e["kinked"], "kinked_examples": e["kinked_examples"],
        "ns": e["ns"], "differentiable": e["differentiable"], "inc": e["inc"],
        "undecided": e["undecided"], "certificate": e["certificate"],
        "float_kinks": x.get("float_kinks"), "bifurcation": x.get("bifurcation"),
        "exact_only": d.get("exact_only"), "float_only": d.get("float_only"),
        "not_in_format": not_in_format,
        "seconds": round(res["seconds"]["total"], 6), "dead": e.get("dead", 0),
        "uncertain": e["uncertain"], "kinks_known": e["kinks_known"],
    }
    if keep_copies:
        rec["copies"] = e["copies"]
    spec = None
    if e["inc"] and res.get("_inc_network") is not None:
        from ..nets.specv2 import network_to_v2

        net = replace(res["_inc_network"], values=tuple(res["_inc_values"]))
        spec = network_to_v2(net)
    return rec, spec


class StepAuditor:
    """Audits steps of one model: imports it again whenever
    :func:`~adcorrect.torchfx.values.import_key` changes."""

    def __init__(self, model: nn.Module, config: StepConfig) -> None:
        self.model, self.config = model, config
        self.auditor: Auditor | None = None
        self.key: Any = None
        self.imports = 0

    def audit(self, step: int, x: Any, y: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """(record, inc spec) of the step; an error record instead of raising."""
        try:
            return self._audit(step, x, y)
        except Exception as e:  # noqa: BLE001 - recorded per step, never raised
            return error_record(step, e), None

    def _audit(self, step: int, x: Any, y: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        from ..torchfx.values import import_key, trainable

        if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor) or x.dim() < 1:
            raise InputError("batch: x and y must be tensors, x with a batch axis")
        if x.layout != torch.strided or y.layout != torch.strided:
            raise InputError("batch: sparse tensors are not supported (use .to_dense())")
        key = import_key(self.model, tuple(x.shape[1:]))
        c = self.config
        if self.auditor is None or key != self.key:
            self.auditor = None
            self.auditor = Auditor(self.model, x, c.loss, dtype=c.dtype, choice=c.choice,
                                   budget=c.budget, time_limit=c.time_limit)
            self.key = key
            self.imports += 1
        res = self.auditor.audit(x, y, execution=c.execution)
        params = [p.detach() for _, p in trainable(self.model)]
        return record_of(res, step, outside_format(c.dtype, params), c.keep_copies)
