"""The audited batch: checked against its loss (one-line errors) and read as exact rows
on demand."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import torch

from ..core.errors import InputError
from ..nets.batch import LOSSES, exact_values
from .certified import all_finite

__all__ = ["Lazy", "Rows", "check_batch"]


class Rows:
    """Exact rows of a batch (inputs flattened row-major, targets), built on demand."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, loss: str) -> None:
        self.xt = x.detach().reshape(x.shape[0], -1).to(torch.float64)
        self.yt = y.detach().reshape(y.shape[0], -1)
        self.loss = loss
        self._x: dict[int, tuple[Fraction, ...]] = {}
        self._y: dict[int, tuple[Fraction, ...]] = {}
        self.x = Lazy(self._row_x, x.shape[0])
        self.y = Lazy(self._row_y, y.shape[0])

    @property
    def size(self) -> int:
        return self.xt.shape[0]

    def _row_x(self, i: int) -> tuple[Fraction, ...]:
        if i not in self._x:
            self._x[i] = tuple(Fraction(v) for v in self.xt[i].tolist())
        return self._x[i]

    def _row_y(self, i: int) -> tuple[Fraction, ...]:
        if i not in self._y:
            self._y[i] = tuple(exact_values(self.yt[i], "batch y"))
        return self._y[i]


class Lazy:
    def __init__(self, fn: Any, n: int) -> None:
        self.fn, self.n = fn, n

    def __getitem__(self, i: int) -> Any:
        return self.fn(i)

    def __len__(self) -> int:
        return self.n


def check_batch(x: Any, y: Any, loss: str, n_out: int | None = None) -> None:
    """InputError (one line) for a batch that cannot go with the loss."""
    if loss not in LOSSES:
        raise InputError(f"unknown loss {loss!r} (use {', '.join(LOSSES)})")
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise InputError("batch: x and y must be tensors")
    if x.dim() < 2:
        raise InputError(f"batch: x must have a batch axis and an example shape, got shape "
                         f"{tuple(x.shape)}")
    if y.dim() < 1 or y.shape[0] != x.shape[0]:
        raise InputError(f"batch: x has {x.shape[0]} examples but y has shape {tuple(y.shape)}")
    if x.shape[0] == 0:
        raise InputError("batch: no examples")
    if not all_finite(x):
        raise InputError("batch x: contains NaN or infinity")
    if loss == "ce":
        if y.is_floating_point() and not bool((y == y.round()).all()):
            raise InputError("batch: ce needs class indices in y")
        if y.dim() != 1:
            raise InputError(f"batch: ce needs y of shape (B,), got {tuple(y.shape)}")
        if n_out is not None and (int(y.min()) < 0 or int(y.max()) >= n_out):
            raise InputError(f"batch: ce needs class indices in 0..{n_out - 1}")
    if loss == "mse" and n_out is not None and y.numel() != x.shape[0] * n_out:
        raise InputError(f"batch: mse needs {n_out} target(s) per example, y has shape "
                         f"{tuple(y.shape)}")
    if loss == "sum" and y.numel() != x.shape[0]:
        raise InputError(f"batch: sum needs one weight per example, y has shape "
                         f"{tuple(y.shape)}")
    if not all_finite(y):
        raise InputError("batch y: contains NaN or infinity")
