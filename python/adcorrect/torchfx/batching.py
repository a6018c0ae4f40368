"""A PyTorch model over a mini-batch: the model traced on the batch's first example,
then batched (:func:`adcorrect.nets.batch.batched`) with the batch's exact values."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..core.errors import InputError
from ..nets.batch import Batch, batched
from ..nets.ir import Network
from .importer import from_module

__all__ = ["batch_input", "batched_model", "example_input"]


def example_input(batch: Batch, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The batch's first example as a tensor of shape (1, *batch.shape) (a flat row if the
    shape is unknown)."""
    if not batch.size:
        raise InputError("batch: no examples")
    row = batch.x[0]
    shape = batch.shape or (len(row),)
    if math.prod(shape) != len(row):
        raise InputError(f"batch: examples of shape {shape} need {math.prod(shape)} values, "
                         f"got {len(row)}")
    vals = [float(v) for v in row]
    if not all(math.isfinite(v) for v in vals):
        raise InputError("batch: an input value is too large for float64")
    return torch.tensor(vals, dtype=dtype).reshape(1, *shape)


def batch_input(batch: Batch, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The whole batch as a tensor of shape (B, *batch.shape)."""
    return torch.cat([example_input(Batch((row,), (batch.y[0],), batch.shape), dtype)
                      for row in batch.x])


def batched_model(model: nn.Module, batch: Batch, loss: str, name: str | None = None) -> Network:
    """The batched network of ``model`` over ``batch`` with ``loss`` (sum, mse or ce);
    trainable parameters in ``named_parameters()`` order, stored values in ``values``."""
    return batched(from_module(model, example_input(batch), name), batch, loss)
