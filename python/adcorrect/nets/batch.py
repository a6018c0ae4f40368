"""Mini-batch losses (THEORY.md section 8.1): the batched network of a network,
inputs x_1..x_B, targets and a loss, as one IR network whose B copies share
every parameter.

Losses follow PyTorch's defaults:

- ``sum``: L = sum_i y_i * f(x_i), f the network's own (linear) output;
- ``mse``: ``nn.MSELoss()``, the mean over the B x n_out entries of (z - t)^2;
- ``ce``: ``nn.CrossEntropyLoss()``, the mean over the batch of
  log sum_j exp(l_j) - l_{y_i}, the outputs being the logits.

Batch files: a ``.pt`` holding ``{"x": tensor, "y": tensor}`` or an ``.npz``
with arrays ``x`` and ``y``; each example is flattened row-major; every value
is read exactly (floats of any width are dyadic rationals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..core.deadline import tick
from ..core.errors import InputError
from ..core.files import check_zip, is_zip, regular_size
from ..core.limits import check
from ..numbers.rationals import parse_rational
from .ir import Head, Network, Neuron

LOSSES = ("sum", "mse", "ce")


@dataclass(frozen=True)
class Batch:
    """Inputs (one flat row per example) and targets, exact; ``shape`` is the shape of one
    example as stored (empty if unknown), which a model's importer needs."""

    x: tuple[tuple[Fraction, ...], ...]
    y: tuple[tuple[Fraction, ...], ...]  # one row per example (class index for ce)
    shape: tuple[int, ...] = ()

    @property
    def size(self) -> int:
        return len(self.x)


def batched(net: Network, batch: Batch, loss: str) -> Network:
    """The batched network of ``net`` over the batch, with the loss."""
    if loss not in LOSSES:
        raise InputError(f"unknown loss {loss!r} (use {', '.join(LOSSES)})")
    B, N, n_in = batch.size, len(net.neurons), len(net.input)
    if B == 0:
        raise InputError("batch: no examples")
    if net.batch != 1:
        raise InputError(f"network {net.name} is already batched")
    for i, row in enumerate(batch.x):
        if len(row) != n_in:
            raise InputError(f"batch: example {i} has {len(row)} input values, the network "
                             f"takes {n_in}")
    check("neurons", B * N, f"batch of {B} x {N} neurons")
    outs = net.head.outputs
    neurons: list[Neuron] = []
    for i in range(B):
        for n in net.neurons:
            if n.index % 4096 == 0:
                tick("building the batch's network")
            neurons.append(replace(
                n, index=i * N + n.index, example=i, base=n.index,
                sources=tuple(i * N + s if s >= 0 else s - i * n_in for s in n.sources)))
    head = _head(net, batch, loss, [tuple(i * N + o for o in outs) for i in range(B)])
    x = tuple(v for row in batch.x for v in row)
    return Network(name=f"{net.name}[batch {B}, {loss}]", input=x, neurons=tuple(neurons),
                   param_names=net.param_names, head=head, values=net.values, batch=B)


def whole_batched(net: Network, batch: Batch, loss: str) -> Network:
    """A network imported over the whole batch (one network whose outputs are the B
    examples' outputs, example-major: BatchNorm with batch statistics couples them) with
    the batch's loss; not copies (``batch`` stays 1)."""
    if loss not in LOSSES:
        raise InputError(f"unknown loss {loss!r} (use {', '.join(LOSSES)})")
    B, outs = batch.size, net.head.outputs
    if B == 0 or len(outs) % B:
        raise InputError(f"batch: {B} examples, the network has {len(outs)} outputs")
    n = len(outs) // B
    x = tuple(v for row in batch.x for v in row)
    if len(x) != len(net.input):
        raise InputError(f"batch: {len(x)} input values, the network takes {len(net.input)}")
    base = replace(net, head=Head("linear", outs[:n], coefs=(Fraction(1),) * n))
    head = _head(base, batch, loss, [outs[i * n:(i + 1) * n] for i in range(B)])
    return replace(net, name=f"{net.name}[whole batch {B}, {loss}]", input=x, head=head)


def _head(net: Network, batch: Batch, loss: str, copies: Sequence[Sequence[int]]) -> Head:
    B = batch.size
    outs = copies[0]
    if loss == "sum":
        net.require_linear_head("the sum loss")
        for i, y in enumerate(batch.y):
            if len(y) != 1:
                raise InputError(f"batch: sum loss needs one weight y_i per example, example "
                                 f"{i} has {len(y)}")
        return Head("linear", tuple(o for c in copies for o in c),
                    coefs=tuple(y[0] * c for y in batch.y for c in net.head.coefs))
    if loss == "mse":
        for i, y in enumerate(batch.y):
            if len(y) != len(outs):
                raise InputError(f"batch: mse needs {len(outs)} target(s) per example, "
                                 f"example {i} has {len(y)}")
        return Head("mse", tuple(o for c in copies for o in c),
                    targets=tuple(t for y in batch.y for t in y),
                    scale=Fraction(1, B * len(outs)))
    if len(outs) < 2:
        raise InputError("batch: cross-entropy needs a network with at least two outputs")
    classes = []
    for i, y in enumerate(batch.y):
        if len(y) != 1 or y[0].denominator != 1 or not 0 <= y[0] < len(outs):
            raise InputError(f"batch: ce needs a class index in 0..{len(outs) - 1} per "
                             f"example, example {i} has {', '.join(map(str, y))}")
        classes.append(int(y[0]))
    return Head("ce", tuple(o for c in copies for o in c), groups=tuple(copies),
                classes=tuple(classes), scale=Fraction(1, B))


# -- batch files ---------------------------------------------------------------------------


def tensor_problem(t: Any) -> str | None:
    """Why a torch tensor cannot be read as plain numbers, or None: a tensor subclass, a
    meta (data-less), sparse, quantized or complex tensor, or one not on the CPU."""
    import torch

    if type(t) not in (torch.Tensor, torch.nn.Parameter):
        return f"a tensor subclass ({type(t).__name__})"
    if t.is_meta:
        return "a meta tensor (it has no values)"
    if t.layout != torch.strided:
        return f"a sparse tensor ({str(t.layout).removeprefix('torch.')})"
    if t.is_quantized:
        return f"a quantized tensor ({str(t.dtype).removeprefix('torch.')})"
    if t.is_complex():
        return f"a complex tensor ({str(t.dtype).removeprefix('torch.')})"
    if t.device.type != "cpu":
        return f"a tensor on {t.device.type}"
    return None


def exact_values(array: Any, where: str) -> list[Fraction]:
    """The entries of a numpy array or torch tensor, flattened row-major, as exact
    rationals (floats of every width, long double included, are dyadic rationals; NaN and
    infinities are rejected), after the entry limit is checked."""
    import numpy as np

    if hasattr(array, "detach"):  # a torch tensor
        why = tensor_problem(array)
        if why is not None:
            raise InputError(f"{where}: {why} is not supported")
        check("batch_entries", array.numel(), where)
        t = array.detach()
        if t.is_floating_point():
            t = t.double()  # every narrower float is a float64 exactly
        array = t.numpy()
    a = np.asarray(array)
    check("batch_entries", a.size, where)
    flat = a.reshape(-1)
    if a.dtype.kind in "iub":
        return by_value(flat, lambda v: Fraction(int(v)))
    if a.dtype.kind == "f" or a.dtype.name in ("bfloat16", "float8_e4m3fn", "float8_e5m2"):
        wide = a.dtype.kind == "f" and a.dtype.itemsize > 8  # long double: exact, not via f64
        if not wide:
            flat = flat.astype(np.float64)
        if not np.isfinite(flat).all():
            raise InputError(f"{where}: contains NaN or infinity")
        return by_value(flat, lambda v: Fraction(*v.as_integer_ratio()))
    if a.dtype == object:
        return [parse_rational(v) for v in flat.tolist()]
    raise InputError(f"{where}: unsupported dtype {a.dtype}")


def by_value(flat: Any, exact: Any) -> list[Fraction]:
    """exact(v) for every entry, converting each distinct value once."""
    import numpy as np

    if flat.size == 0:
        return []
    values, inverse = np.unique(flat, return_inverse=True)
    fr = [exact(v) for v in values]
    return [fr[i] for i in inverse.reshape(-1).tolist()]


def batch_from_arrays(x: Any, y: Any) -> Batch:
    """A Batch from an array of B examples (any trailing shape) and B targets."""
    import numpy as np

    xs, ys = np.shape(x), np.shape(y)
    if len(xs) < 1 or len(ys) < 1:
        raise InputError("batch: x and y need a leading batch dimension")
    check("batch", xs[0], "batch x")
    check("tensor", int(np.prod(xs, dtype=object)), "batch x")
    check("tensor", int(np.prod(ys, dtype=object)), "batch y")
    if xs[0] != ys[0]:
        raise InputError(f"batch: x has {xs[0]} examples but y has {ys[0]}")
    B = xs[0]
    xv, yv = exact_values(x, "batch x"), exact_values(y, "batch y")
    dx, dy = len(xv) // B if B else 0, len(yv) // B if B else 0
    return Batch(tuple(tuple(xv[i * dx:(i + 1) * dx]) for i in range(B)),
                 tuple(tuple(yv[i * dy:(i + 1) * dy]) for i in range(B)),
                 shape=tuple(int(n) for n in xs[1:]))


def read_batch_file(path: str | Path) -> tuple[Any, Any]:
    """x and y of a batch file, as stored: numpy arrays (.npz) or tensors (.pt with
    {"x", "y"}), loaded without running code (no pickles); one-line errors otherwise.  Only
    a regular file is read; a zip's decompressed size and each array's number of entries
    are checked before its data is read."""
    p = Path(path)
    if p.suffix not in (".npz", ".pt", ".pth"):
        regular_size(path, "batch file")
        raise InputError(f"{path}: unknown batch file type (use .pt or .npz)")
    if p.suffix == ".npz":
        return _read_npz(p)
    try:
        import torch
    except ImportError:
        raise InputError(f"{path}: reading .pt batches needs torch") from None
    import warnings

    regular_size(path, "batch file")
    if is_zip(p):
        check_zip(path, "batch file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = torch.load(p, weights_only=True, map_location="cpu")
    except Exception as e:  # noqa: BLE001  (any unpickling failure is bad input)
        raise InputError(f"{path}: not a readable torch file ({type(e).__name__})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("x"), torch.Tensor) or \
            not isinstance(obj.get("y"), torch.Tensor):
        raise InputError(f"{path}: a .pt batch must hold a dict with tensors 'x' and 'y'")
    for key in ("x", "y"):
        why = tensor_problem(obj[key])
        if why is not None:
            raise InputError(f"{path}: {key} is {why}, which is not supported")
        check("batch_entries", obj[key].numel(), f"{path}: {key}")
    return obj["x"], obj["y"]


def _read_npz(p: Path) -> tuple[Any, Any]:
    """x and y of an .npz, each array's header (shape, dtype) checked before its data."""
    import zipfile

    import numpy as np

    regular_size(p, "batch file")
    if not is_zip(p):
        raise InputError(f"{p}: not a readable .npz file (not a zip archive)")
    names = {i.filename for i in check_zip(p, "batch file")}
    if "x.npy" not in names or "y.npy" not in names:
        raise InputError(f"{p}: an .npz batch needs arrays 'x' and 'y'")
    try:
        with zipfile.ZipFile(p) as z:
            for key in ("x", "y"):
                with z.open(f"{key}.npy") as f:
                    version = np.lib.format.read_magic(f)
                    read = np.lib.format.read_array_header_1_0 if version == (1, 0) \
                        else np.lib.format.read_array_header_2_0
                    shape, _, dtype = read(f)
                if dtype.hasobject:
                    raise InputError(f"{p}: {key} is an object array (not numbers)")
                check("batch_entries", int(np.prod(shape, dtype=object)), f"{p}: {key}")
        with np.load(p, allow_pickle=False) as data:
            return np.asarray(data["x"]), np.asarray(data["y"])
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001  (any decoding failure is bad input)
        raise InputError(f"{p}: not a readable .npz file ({type(e).__name__})") from None


def load_batch(path: str | Path) -> Batch:
    """Read a batch file (.pt with {"x", "y"} tensors, or .npz with arrays x and y)."""
    return batch_from_arrays(*read_batch_file(path))
