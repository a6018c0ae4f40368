"""Recurrent layers unrolled over the given sequence (``nn.LSTM``, ``nn.GRU``,
``nn.RNN``) as IR neurons: products, sigmoids and tanhs of THEORY.md section 8's smooth
pre-activations (relu for ``nn.RNN(nonlinearity='relu')``)."""

from __future__ import annotations

from typing import Any

from torch import nn


def module_call(imp: Any, m: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any],
                where: str) -> Any:
    """A recurrent module, or NotImplemented."""
    return NotImplemented
