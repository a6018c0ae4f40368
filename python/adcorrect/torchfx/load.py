"""Reading a model saved with ``torch.save(model)``.

Unpickling executes code named by the file.  By default the file is read with
``torch.load(..., weights_only=True)``, PyTorch's restricted unpickler, with
PyTorch's own module classes (every ``nn.Module`` subclass defined in
``torch.nn.modules``) allowlisted, so models built from them load as they are.  A
file that needs any other class or function (a model class of its own, say) is an
InputError naming it, unless ``trust=True`` (the CLI's ``--trust-model``): then the
file is unpickled without restriction, which runs whatever code it names.
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
from ..core.limits import check_file
from .values import exact_tensor

__all__ = ["load_model", "torch_nn_classes"]

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
    without ``trust``, and a parameter that is NaN or infinite."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such model file")
    check_file(path, p.stat().st_size)
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
    try:  # a damaged pickle can build a module whose internals are missing
        base = set(nn.Module().__dict__)
        for m in obj.modules():
            missing = base - set(m.__dict__)
            if missing:
                raise AttributeError(f"{type(m).__name__} lacks {min(missing)}")
            m.extra_repr()  # reads the class's own settings (in_features, stride, ...)
            m.state_dict()
        params = list(obj.named_parameters())
    except Exception as e:  # noqa: BLE001
        raise InputError(f"{path}: not a usable torch.nn.Module ({_line(e)})") from None
    for name, prm in params:
        exact_tensor(prm, f"{path}: parameter {name}")
    return obj


def _line(e: BaseException) -> str:
    """The exception's type and the first line of its message, shortened."""
    for ln in str(e).splitlines():
        if ln.strip():
            text = f"{type(e).__name__}: {ln.strip()}"
            return text if len(text) <= 160 else text[:157] + "..."
    return type(e).__name__
