"""Models as PyTorch runs them (issue 19, item 3): what makes a model compute something
other than its class's ``forward`` as torch.fx traces it is refused, and the imported
function is compared with PyTorch's own forward on the batch before any answer.

Refused (one line): forward/backward hooks on a module or registered globally, an
instance attribute ``forward`` (a replaced method), parametrizations
(``torch.nn.utils.parametrize``, new-style weight norm), tensor subclasses as
parameters, and custom ``torch.autograd.Function``s in the autograd graph of the forward.  Compared: the imported network's outputs (exact or certified float64) with
``model(x)`` in the model's dtype, per example, within ``sqrt(eps)`` of the compute dtype
times ``1 + max |output|`` (fp32: 3.5e-4, bf16: 0.088); a larger difference means the
import is not the function PyTorch computes, and the model is refused.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from ..core.errors import InputError
from .fxargs import first_line

_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
          "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs")
_GLOBAL = ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks",
           "_global_backward_pre_hooks", "_global_module_registration_hooks",
           "_global_parameter_registration_hooks", "_global_buffer_registration_hooks")


def check_runs_as_traced(model: nn.Module) -> None:
    """InputError (one line) for anything that makes PyTorch's computation differ from the
    traced class forward: hooks, an instance ``forward``, parametrizations."""
    from torch.nn.modules import module as mm
    from torch.nn.utils import parametrize

    for g in _GLOBAL[:4]:
        if getattr(mm, g, None):
            raise InputError("a global module hook is registered (torch.nn.modules.module."
                             f"{g.removeprefix('_')}): the model does not run as traced")
    for name, m in model.named_modules():
        where = f"module {name or type(model).__name__} ({type(m).__name__})"
        for h in _HOOKS:
            if getattr(m, h, None):
                raise InputError(f"{where} has a {h.strip('_').replace('_', ' ')}: "
                                 "hooks change what the model computes; remove them")
        if "forward" in m.__dict__:
            raise InputError(f"{where}: its forward is an instance attribute, not the "
                             "class's method; the model does not run as its class says")
        if parametrize.is_parametrized(m):
            raise InputError(f"{where} is parametrized (torch.nn.utils.parametrize): not "
                             "supported")
    for name, p in model.named_parameters():
        if type(p) not in (nn.Parameter, torch.Tensor) and not isinstance(
                p, nn.parameter.UninitializedParameter):
            raise InputError(f"parameter {name} is a {type(p).__name__} (a tensor subclass): "
                             "not supported")


def run_model(model: nn.Module, x: torch.Tensor) -> object:
    """``model(x)``; InputError (one line) where torch cannot run it on x (a wrong input
    shape, an image too small for the model's pools)."""
    try:
        return model(x)
    except RuntimeError as e:
        raise cannot_run(e) from None


def cannot_run(e: RuntimeError) -> InputError:
    """The one-line refusal of a batch that torch's own kernels reject."""
    return InputError(f"torch cannot run the model on the batch ({first_line(e)})")


def autograd_nodes(roots: list[Any]) -> Iterator[Any]:
    """Every node of autograd's graph behind the given nodes (``grad_fn``s), once each."""
    seen: set[int] = set()
    todo = [r for r in roots if r is not None]
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        todo.extend(f for f, _ in node.next_functions)


def check_autograd_graph(out: torch.Tensor) -> None:
    """InputError if the autograd graph of ``model(x)`` holds a custom
    ``torch.autograd.Function`` (its backward is not the derivative of the traced ops)."""
    for node in autograd_nodes([out.grad_fn]):
        if isinstance(node, torch.autograd.function.BackwardCFunction):
            name = type(node).__name__.removesuffix("Backward")
            raise InputError(f"the model uses the custom autograd function {name}: its "
                             "backward is not the derivative of its forward's ops; not "
                             "supported")


def tolerance(dtype: torch.dtype) -> float:
    """sqrt(eps) of the compute dtype: the tolerance of the forward comparison."""
    return math.sqrt(torch.finfo(dtype).eps) if dtype.is_floating_point else 1e-6


def check_forward(torch_out: torch.Tensor, imported: np.ndarray, dtype: torch.dtype) -> None:
    """InputError unless every example's outputs agree within :func:`tolerance`;
    ``imported`` is (B, n_out) float64, ``torch_out`` what ``model(x)`` returned."""
    t = torch_out.detach().to(torch.float64).reshape(torch_out.shape[0], -1).numpy()
    if t.shape != imported.shape:
        raise InputError(f"the model's output has shape {tuple(torch_out.shape)}, the imported "
                         f"network {imported.shape}: the import is not PyTorch's function")
    if not np.isfinite(t).all():
        i, j = (int(v[0]) for v in np.nonzero(~np.isfinite(t)))
        raise InputError(f"example {i}, output {j}: PyTorch's forward gives {t[i, j]:.9g}: "
                         "no finite loss to differentiate")
    scale = 1.0 + np.abs(imported).max(axis=1)
    diff = np.abs(t - imported).max(axis=1)
    bad = np.flatnonzero(~(diff <= tolerance(dtype) * scale))
    if bad.size:
        i = int(bad[0])
        j = int(np.argmax(np.abs(t[i] - imported[i])))
        raise InputError(f"example {i}, output {j}: PyTorch's forward gives {t[i, j]:.9g}, the "
                         f"imported network {imported[i, j]:.9g} (beyond the tolerance "
                         f"{tolerance(dtype) * float(scale[i]):.3g}): the import is not the "
                         "function PyTorch computes")
