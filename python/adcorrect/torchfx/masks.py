"""Dropout in training mode: the audited function multiplies by the mask that the audited
forward pass drew (recorded by the execution audit, :mod:`adcorrect.audit.execution`),
entry by entry, exactly (the mask's entries are 0 and 1/(1-p) as PyTorch rounds it)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InputError
from . import tensors
from .symbolic import const_entry
from .values import NeedsMasks, Sym, exact_tensor


def apply(imp: Any, x: Any, what: str, alpha: bool, where: str) -> Sym:
    """x times the next recorded mask; NeedsMasks when none were given."""
    if alpha:
        raise InputError(f"{what}: alpha dropout in training mode is not supported (call "
                         "model.eval() first)")
    if imp.masks is None:
        raise NeedsMasks(f"{what} is in training mode (random): the audit records the mask "
                         "of the pass it audits (imported per batch); call model.eval() for "
                         "a deterministic function")
    if not imp.masks:
        raise InputError(f"{what}: more dropout calls than recorded masks")
    mask = imp.masks.pop(0)
    arr = imp.batched(x)
    if tuple(mask.shape) != arr.shape:
        raise InputError(f"{what}: the recorded mask has shape {tuple(mask.shape)}, the "
                         f"input {arr.shape}")
    vals = np.fromiter((const_entry(v) for v in exact_tensor(mask, "dropout mask")),
                       dtype=object, count=mask.numel()).reshape(arr.shape)
    return tensors.mul(imp.b, Sym(arr, True), Sym(vals, False), where)
