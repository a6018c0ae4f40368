"""PyTorch's exact activations, module and functional forms, as
:class:`~adcorrect.nets.activations.Activation`; hyper-parameters go through ``scalar``
(the importer rounds them to the model's compute type)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import InputError
from ..nets import activations as acts

Scalar = Callable[[Any, str], Fraction]


def _hardtanh(scalar: Scalar, lo: Any, hi: Any, what: str) -> acts.Activation:
    a, b = scalar(lo, f"{what}: min_val"), scalar(hi, f"{what}: max_val")
    if not a < b:
        raise InputError(f"{what}: min_val must be below max_val")
    return acts.hardtanh(a, b)


def _softshrink(scalar: Scalar, lam: Any, what: str) -> acts.Activation:
    v = scalar(lam, f"{what}: lambd")
    if v <= 0:
        # softshrink(0) is the identity with PyTorch derivative 0 at 0: not an activation
        # of the IR (whose derivative choice lives at kinks only)
        raise InputError(f"{what}: lambd must be positive")
    return acts.softshrink(v)


def _clamp(scalar: Scalar, lo: Any, hi: Any, what: str) -> acts.Activation:
    for v, nm in ((lo, "min"), (hi, "max")):
        if isinstance(v, torch.Tensor) or (v is not None and not isinstance(v, (int, float))):
            raise InputError(f"{what}: {nm} must be a Python number (tensor bounds are not "
                             "supported)")
    return acts.clamp(None if lo is None else scalar(lo, f"{what}: min"),
                      None if hi is None else scalar(hi, f"{what}: max"))


def _threshold(scalar: Scalar, th: Any, value: Any, what: str) -> acts.Activation:
    return acts.threshold(scalar(th, f"{what}: threshold"), scalar(value, f"{what}: value"))


def _leaky(scalar: Scalar, slope: Any, what: str) -> acts.Activation:
    return acts.leaky_relu(scalar(slope, f"{what}: negative_slope"))


def _rrelu(scalar: Scalar, m: Any, what: str) -> acts.Activation:
    """``nn.RReLU`` in eval mode: PyTorch's leaky_relu with the slope (lower + upper) / 2,
    computed in double as its kernel computes it; in training mode its slopes are random
    draws (refused)."""
    if m.training:
        raise InputError(f"{what} is in training mode: its slopes are random draws; call "
                         "model.eval() (its slope is then (lower + upper) / 2)")
    return _leaky(scalar, (float(m.lower) + float(m.upper)) / 2, what)


#: module type -> (scalar, module, where) -> activation
MODULE_ACTS: dict[type, Callable[[Scalar, Any, str], acts.Activation]] = {
    nn.ReLU: lambda s, m, w: acts.relu(),
    nn.LeakyReLU: lambda s, m, w: _leaky(s, m.negative_slope, w),
    nn.Hardtanh: lambda s, m, w: _hardtanh(s, m.min_val, m.max_val, w),
    nn.ReLU6: lambda s, m, w: acts.relu6(),
    nn.Hardsigmoid: lambda s, m, w: acts.hardsigmoid(),
    nn.Hardswish: lambda s, m, w: acts.hardswish(),
    nn.Softshrink: lambda s, m, w: _softshrink(s, m.lambd, w),
    nn.Threshold: lambda s, m, w: _threshold(s, m.threshold, m.value, w),
    nn.Hardshrink: lambda s, m, w: acts.hardshrink(s(m.lambd, f"{w}: lambd")),
    nn.RReLU: _rrelu,
}


@dataclass(frozen=True)
class FuncAct:
    """A functional activation: its arguments after the input (name, default), how to
    build it from their values, and whether it works in place."""

    params: tuple[tuple[str, Any], ...]
    build: Callable[[Scalar, list[Any], str], acts.Activation]
    inplace: bool = False


_INPLACE = (("inplace", False),)
FUNC_ACTS: dict[Any, FuncAct] = {
    F.relu: FuncAct(_INPLACE, lambda s, v, w: acts.relu()),
    torch.relu: FuncAct((), lambda s, v, w: acts.relu()),
    torch.relu_: FuncAct((), lambda s, v, w: acts.relu(), inplace=True),
    F.leaky_relu: FuncAct((("negative_slope", 0.01), *_INPLACE),
                          lambda s, v, w: _leaky(s, v[0], w)),
    F.leaky_relu_: FuncAct((("negative_slope", 0.01),), lambda s, v, w: _leaky(s, v[0], w),
                           inplace=True),
    F.hardtanh: FuncAct((("min_val", -1.0), ("max_val", 1.0), *_INPLACE),
                        lambda s, v, w: _hardtanh(s, v[0], v[1], w)),
    F.hardtanh_: FuncAct((("min_val", -1.0), ("max_val", 1.0)),
                         lambda s, v, w: _hardtanh(s, v[0], v[1], w), inplace=True),
    F.relu6: FuncAct(_INPLACE, lambda s, v, w: acts.relu6()),
    F.hardsigmoid: FuncAct(_INPLACE, lambda s, v, w: acts.hardsigmoid()),
    F.hardswish: FuncAct(_INPLACE, lambda s, v, w: acts.hardswish()),
    torch.abs: FuncAct((), lambda s, v, w: acts.abs_()),
    torch.clamp: FuncAct((("min", None), ("max", None)),
                         lambda s, v, w: _clamp(s, v[0], v[1], w)),
    torch.clip: FuncAct((("min", None), ("max", None)),
                        lambda s, v, w: _clamp(s, v[0], v[1], w)),
    torch.clamp_min: FuncAct((("min", None),), lambda s, v, w: _clamp(s, v[0], None, w)),
    torch.clamp_max: FuncAct((("max", None),), lambda s, v, w: _clamp(s, None, v[0], w)),
    F.softshrink: FuncAct((("lambd", 0.5),), lambda s, v, w: _softshrink(s, v[0], w)),
    F.hardshrink: FuncAct((("lambd", 0.5),),
                          lambda s, v, w: acts.hardshrink(s(v[0], f"{w}: lambd"))),
    F.threshold: FuncAct((("threshold", None), ("value", None), *_INPLACE),
                         lambda s, v, w: _threshold(s, v[0], v[1], w)),
}

#: tensor methods (``x.relu()``; ``x.relu_()`` is the in-place form)
METHOD_ACTS: dict[str, Callable[[], acts.Activation]] = {"relu": acts.relu, "abs": acts.abs_}
#: tensor methods with arguments (``x.clamp(min=0)``): the rule of their function
METHOD_FUNCS: dict[str, Any] = {"clamp": torch.clamp, "clip": torch.clip,
                                "clamp_min": torch.clamp_min, "clamp_max": torch.clamp_max}
