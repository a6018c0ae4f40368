"""Reading a model saved with ``torch.save(model)``.

Unpickling executes code named by the file.  By default the file is read with
``torch.load(..., weights_only=True)``, PyTorch's restricted unpickler, with
PyTorch's own module classes (every ``nn.Module`` subclass defined in
``torch.nn.modules``) allowlisted, so models built from them load as they are.  A
file that needs any other class or function (a model class of its own, say) is an
InputError naming it, unless ``trust=True`` (the CLI's ``--trust-model``): then the
file is unpickled without restriction, which runs whatever code it names.

Before anything is unpickled, the file must be a regular file within the file limit and
its zip members (sizes from the central directory) must fit the limits; after, the module
graph (shared children counted once per use, its depth) and every parameter and buffer
(count, kind; a parameter's dtype and finiteness) are checked with torch alone, before any exact
conversion.  :func:`check_model_size` is the limit an exact import applies on top.
"""

from __future__ import annotations

import pickle
import re
import sys
import warnings
from pathlib import Path

import torch
from torch import nn

from ..core.errors import InputError
from ..core.files import check_zip, is_zip, regular_size
from ..core.limits import check
from ..nets.batch import tensor_problem

__all__ = ["check_model_graph", "check_model_size", "check_tensors", "load_model", "model_size",
           "torch_nn_classes"]

#: Most bytes of a model file's pickled structure (``data.pkl``: modules and settings, not
#: tensor data); a ResNet-50 needs about 100 KB.
MAX_PICKLE_BYTES = 16 << 20
#: Most module calls of a model with every shared child counted at each place it is used
#: (a DAG of shared children 40 deep would otherwise be 2^40 calls).
MAX_MODULE_USES = 100_000
#: Deepest nesting of modules.
MAX_MODULE_DEPTH = 100

_UNSUPPORTED_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.<>]+)")


def torch_nn_classes() -> list[type]:
    """Every ``nn.Module`` subclass defined in ``torch.nn.modules`` (the allowlist)."""
    import torch.nn.modules  # noqa: F401  (populates sys.modules)

    seen: dict[str, type] = {}
    for modname, mod in list(sys.modules.items()):
        if not modname.startswith("torch.nn.modules") or mod is None:
            continue
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, nn.Module) and \
                    obj.__module__.startswith("torch.nn.modules"):
                seen[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [seen[k] for k in sorted(seen)]


def load_model(path: str | Path, trust: bool = False) -> nn.Module:
    """The module in a ``torch.save(model)`` file, on the CPU; InputError (one line) for a
    missing or unreadable file, a file that is not a module, a class outside torch.nn
    without ``trust``, a module graph or a parameter count beyond the limits, and a
    parameter that is not a finite floating-point tensor."""
    p = Path(path)
    regular_size(path, "model file")
    if is_zip(p):
        for info in check_zip(path, "model file"):
            if info.filename.endswith("data.pkl") and info.file_size > MAX_PICKLE_BYTES:
                raise InputError(f"{path}: its pickled structure {info.filename} has "
                                 f"{info.file_size} bytes (at most {MAX_PICKLE_BYTES})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if trust:
                obj = torch.load(p, weights_only=False, map_location="cpu")
            else:
                with torch.serialization.safe_globals(torch_nn_classes()):
                    obj = torch.load(p, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as e:
        m = _UNSUPPORTED_GLOBAL.search(str(e))
        if m and not trust:
            raise InputError(f"{path}: the model needs {m.group(1)}, which is not a torch.nn "
                             "module class; loading it runs code from the file (use "
                             "--trust-model only for a file you trust)") from None
        raise InputError(f"{path}: not a readable torch model file ({_line(e)})") from None
    except Exception as e:  # noqa: BLE001  (any unpickling failure is bad input)
        if "TorchScript" in str(e):
            raise InputError(f"{path}: a TorchScript archive (torch.jit.save); save the "
                             "nn.Module itself with torch.save(model)") from None
        raise InputError(f"{path}: not a readable torch model file ({_line(e)})") from None
    if not isinstance(obj, nn.Module):
        hint = " (a state_dict? save the model itself with torch.save(model))" \
            if isinstance(obj, dict) else ""
        raise InputError(f"{path}: holds a {type(obj).__name__}, not a torch.nn.Module{hint}")
    check_model_graph(obj, str(path))
    try:  # a damaged pickle can build a module whose internals are missing
        base = set(nn.Module().__dict__)
        for m in obj.modules():
            missing = base - set(m.__dict__)
            if missing:
                raise AttributeError(f"{type(m).__name__} lacks {min(missing)}")
            m.extra_repr()  # reads the class's own settings (in_features, stride, ...)
            m.state_dict()
        params = list(obj.named_parameters())
        buffers = list(obj.named_buffers())
    except Exception as e:  # noqa: BLE001
        raise InputError(f"{path}: not a usable torch.nn.Module ({_line(e)})") from None
    check_tensors(params, buffers, str(path))
    return obj


def check_model_graph(model: nn.Module, where: str) -> None:
    """InputError if the module graph contains itself, nests deeper than MAX_MODULE_DEPTH
    or, counting a shared child once at every place it is used, has more than
    MAX_MODULE_USES modules; runs in time linear in the distinct modules."""
    uses: dict[int, int] = {}  # id -> modules in its expanded tree (itself included)
    depth: dict[int, int] = {}
    state: dict[int, int] = {}  # 1: on the path, 2: done
    stack: list[tuple[nn.Module, bool]] = [(model, False)]
    while stack:
        m, children_done = stack.pop()
        key = id(m)
        kids = [c for c in _children(m, where) if c is not None]
        if children_done:
            uses[key] = min(1 + sum(uses[id(c)] for c in kids), MAX_MODULE_USES + 1)
            depth[key] = 1 + max((depth[id(c)] for c in kids), default=0)
            state[key] = 2
            if uses[key] > MAX_MODULE_USES:
                raise InputError(f"{where}: the model calls more than {MAX_MODULE_USES} "
                                 "modules (shared children counted at each use)")
            if depth[key] > MAX_MODULE_DEPTH:
                raise InputError(f"{where}: modules nested more than {MAX_MODULE_DEPTH} deep")
            continue
        if state.get(key) == 2:
            continue
        if len(state) > MAX_MODULE_USES:
            raise InputError(f"{where}: more than {MAX_MODULE_USES} distinct modules")
        state[key] = 1
        stack.append((m, True))
        for c in kids:
            s = state.get(id(c))
            if s == 1:
                raise InputError(f"{where}: a {type(c).__name__} module contains itself")
            if s is None:
                stack.append((c, False))


def _children(m: nn.Module, where: str) -> list[nn.Module | None]:
    kids = getattr(m, "__dict__", {}).get("_modules")
    if not isinstance(kids, dict) or not all(c is None or isinstance(c, nn.Module)
                                             for c in kids.values()):
        raise InputError(f"{where}: not a usable torch.nn.Module ({type(m).__name__} has "
                         "no proper submodule table)")
    return list(kids.values())


def check_tensors(params: list[tuple[str, torch.Tensor]],
                  buffers: list[tuple[str, torch.Tensor]], where: str) -> None:
    """InputError for a parameter or buffer that is not a plain CPU tensor (meta, sparse,
    quantized, complex, a subclass), a parameter that is not floating-point (PyTorch runs
    no layer with integer weights) or has a NaN or infinite entry, or more entries in all than
    the ``model_params`` limit; torch only, no exact conversion."""
    total = 0
    for kind, items in (("parameter", params), ("buffer", buffers)):
        for name, t in items:
            what = f"{where}: {kind} {name}"
            if not isinstance(t, torch.Tensor):
                raise InputError(f"{what} is a {type(t).__name__}, not a tensor")
            why = tensor_problem(t)
            if why is not None:
                raise InputError(f"{what} is {why}, which is not supported")
            if kind == "parameter" and not t.is_floating_point():
                raise InputError(f"{what} has dtype {str(t.dtype).removeprefix('torch.')}; "
                                 "PyTorch runs layers only with floating-point weights")
            total += t.numel()
            check("model_params", total, f"{where}: parameters and buffers")
            if kind == "parameter":
                _check_finite(t, what)


def _check_finite(t: torch.Tensor, what: str) -> None:
    bad = (~torch.isfinite(t.detach())).reshape(-1).nonzero()
    if bad.numel():
        i = int(bad[0, 0])
        value = float(t.detach().reshape(-1)[i])
        pos = ",".join(str(int(v)) for v in torch.unravel_index(torch.tensor(i), t.shape)) \
            if t.dim() else ""
        raise InputError(f"{what}{f'[{pos}]' if pos else ''} is {value} (not a finite number)")


def check_model_size(model: nn.Module, where: str = "model") -> None:
    """InputError if the model has more parameters and buffers than an exact import admits
    (the ``exact_model_params`` limit); call before converting any of them exactly."""
    check("exact_model_params", model_size(model), where)


def model_size(model: nn.Module) -> int:
    """Entries of the model's parameters and buffers."""
    return sum(t.numel() for t in model.parameters()) + \
        sum(t.numel() for t in model.buffers())


def _line(e: BaseException) -> str:
    """The exception's type and the first line of its message, shortened."""
    for ln in str(e).splitlines():
        if ln.strip():
            text = f"{type(e).__name__}: {ln.strip()}"
            return text if len(text) <= 160 else text[:157] + "..."
    return type(e).__name__
