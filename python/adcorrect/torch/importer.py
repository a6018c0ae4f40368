"""A PyTorch ``nn.Module`` and an example input, through ``torch.fx``, to the network IR.

The network is the model applied to ONE example as a function of its parameters:
the input is the example flattened row-major (without the batch axis), the
parameters are ``model.named_parameters()`` in order, each tensor flattened
row-major and named ``module.weight[i,j]``, and f is the sum of the output tensor's
entries (a linear head with coefficients 1; the losses of
:func:`adcorrect.batch.batched` replace it).  Stored values are read exactly: every
float of every dtype (fp64, fp32, bf16, fp16, the fp8 formats) is a dyadic rational.

Supported (module and functional forms): ``Linear``; ``Conv1d``/``Conv2d`` (stride,
padding incl. ``"same"``, dilation, groups, bias or not, every padding mode);
``Flatten``/``flatten``/``view``/``reshape`` of whole examples; ``AvgPool1d/2d`` and
``AdaptiveAvgPool1d/2d`` (exact averages such as 1/9); ``MaxPool1d/2d`` and
``AdaptiveMaxPool1d/2d`` as max nodes; ``+``, ``-``, negation, ``torch.cat``, tensor
slicing, multiplication and division by constants (multiplication by a parameter too);
``BatchNorm1d/2d`` in eval mode; ``Dropout`` in eval mode (the identity); ``Identity``;
the activations relu, leaky_relu, hardtanh, relu6, hardsigmoid, hardswish, abs and
softshrink.  Anything else is an InputError of one line naming the op and the node
or module where it occurs.

Exactness conventions (what "the model's function" means here):

- **BatchNorm** in eval mode computes ``gamma (x - mean) r + beta`` with
  ``r = 1/sqrt(var + eps)``, irrational in general.  r is folded as the float
  PyTorch's CPU kernel computes: ``1 / sqrt(var + eps)`` rounded in float64 for
  float64 models and in float32 otherwise (its ``opmath`` type), each operation
  correctly rounded; mean, var, gamma and beta are the stored floats, exactly.  The
  normalisation ``v = r x - r mean`` is an identity neuron with constant
  coefficients (``bn[c,i,j]/norm``) and ``gamma v + beta`` the next one
  (``bn[c,i,j]``), so beta is that neuron's bias (exclusive for BatchNorm1d on
  features; shared by the positions of a channel for BatchNorm2d).
- **Scalar hyper-parameters** (leaky_relu's ``negative_slope``, hardtanh's bounds,
  softshrink's ``lambd``) are the values PyTorch's kernels use: the Python float
  rounded to the model's compute type (float64 for a float64 model, else float32),
  as an exact rational.  ``LeakyReLU()`` of a float64 model has the slope
  5764607523034235/576460752303423488 (the double nearest 0.01), not 1/100.
  The compute type is the dtype of the first floating parameter (of the example
  input if the model has none).
- **Training mode**: a ``BatchNorm`` (batch statistics couple the examples) or a
  ``Dropout`` with p > 0 (random) in training mode is an InputError asking for
  ``model.eval()``; the importer does not switch modes itself, so the network is
  always the function the model computes as it was given.
- **In-place ops** (``ReLU(inplace=True)``, ``x.relu_()``, ``x.add_(y)``, ...) are read
  as their out-of-place forms when nothing else reads the tensor they modify (nor a
  view of it); otherwise InputError.  (``x += y`` is recorded by torch.fx as ``x + y``.)
- Max pooling at a tie takes the first maximal element in scan order (row-major over
  the window), PyTorch's choice; ``relu'(0) = 0`` in the max node reproduces it.

Neuron names say where a neuron comes from: ``fc1[3]``, ``conv1[0,2,3]`` (a module
path and the index in the example's tensor), ``bn1[2]/norm``, ``pool1[1,0,0]/tie2``,
``relu_1[4]`` (an fx node name for functional ops).  A pending affine entry followed
by an activation becomes one neuron, named after the entry.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import activations as acts
from ..errors import InputError
from ..ir import Head, Network
from . import ops
from .symbolic import Affine, Builder, const_entry, param_entry, source_entry

__all__ = ["from_module"]


@dataclass
class Sym:
    """A symbolic tensor: entries in a numpy object array.  ``batched`` tensors depend on
    the input and carry the batch axis (size 1) first; others are parameters or
    constants (``dtype`` is their stored dtype)."""

    arr: np.ndarray
    batched: bool
    dtype: torch.dtype | None = None


def _fraction(x: float) -> Fraction:
    return Fraction(*x.as_integer_ratio())


def exact_tensor(t: torch.Tensor, what: str) -> list[Fraction]:
    """The entries of t, flattened row-major, as exact rationals; InputError naming the
    first NaN or infinite entry."""
    t = t.detach().cpu()
    if t.is_complex():
        raise InputError(f"{what}: complex tensors are not supported")
    if not t.is_floating_point():
        return [Fraction(int(v)) for v in t.reshape(-1).tolist()]
    flat = t.to(torch.float64).reshape(-1).numpy()
    bad = np.flatnonzero(~np.isfinite(flat))
    if bad.size:
        i = int(bad[0])
        pos = ",".join(map(str, np.unravel_index(i, tuple(t.shape)))) if t.dim() else ""
        where = f"{what}[{pos}]" if pos else what
        raise InputError(f"{where} is {flat[i]} (not a finite number)")
    return [_fraction(v) for v in flat.tolist()]


def _index_name(name: str, shape: Sequence[int], flat: int) -> str:
    if not shape:
        return name
    return f"{name}[{','.join(map(str, np.unravel_index(flat, tuple(shape))))}]"


class _Params:
    """``named_parameters()`` in order: names, exact values and index blocks by identity."""

    def __init__(self, model: nn.Module) -> None:
        self.names: list[str] = []
        self.values: list[Fraction] = []
        self.blocks: dict[int, tuple[int, tuple[int, ...]]] = {}
        self.dtype: torch.dtype | None = None
        for name, p in model.named_parameters():
            base = len(self.names)
            shape = tuple(p.shape)
            self.blocks[id(p)] = (base, shape)
            n = p.numel()
            self.names.extend(_index_name(name, shape, i) for i in range(n))
            self.values.extend(exact_tensor(p, f"parameter {name}"))
            if self.dtype is None and p.is_floating_point():
                self.dtype = p.dtype

    def values_of(self, t: torch.Tensor | None, what: str) -> np.ndarray | None:
        """Coefficients of a tensor: parameters if it is one, else exact constants."""
        if t is None:
            return None
        arr = np.empty(tuple(t.shape), dtype=object)
        flat = arr.reshape(-1)
        if id(t) in self.blocks:
            base, _ = self.blocks[id(t)]
            for i in range(flat.size):
                flat[i] = ("param", base + i)
        else:
            for i, v in enumerate(exact_tensor(t, what)):
                flat[i] = ("const", v)
        return arr

    def sym(self, t: torch.Tensor, what: str) -> Sym:
        """A parameter or constant tensor as a symbolic tensor."""
        coefs = self.values_of(t, what)
        assert coefs is not None
        arr = np.empty(coefs.shape, dtype=object)
        for idx in np.ndindex(*coefs.shape):
            kind, v = coefs[idx]
            arr[idx] = param_entry(v, self.names[v]) if kind == "param" else const_entry(v)
        return Sym(arr, False, t.dtype)


def _first_line(e: BaseException) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    text = lines[0] if lines else type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


_VIEW_METHODS = {"view", "reshape", "flatten", "contiguous"}
_INPLACE_METHODS = {"relu_", "abs_", "add_", "sub_", "mul_", "div_", "neg_"}


class _Importer:
    def __init__(self, model: nn.Module, example: torch.Tensor, name: str) -> None:
        self.model = model
        self.name = name
        self.params = _Params(model)
        self.compute_dtype = self.params.dtype or example.dtype
        self.b = Builder()
        self.env: dict[Any, Any] = {}
        self.alias: dict[Any, Any] = {}  # node -> node whose storage it shares
        self.example = example

    # -- helpers ------------------------------------------------------------------------

    def scalar(self, x: Any, what: str) -> Fraction:
        """A hyper-parameter as the kernel uses it (rounded to the compute type)."""
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise InputError(f"{what}: expected a number, got {x!r}")
        v = float(x)
        if not math.isfinite(v):
            raise InputError(f"{what}: {x!r} is not finite")
        if self.compute_dtype != torch.float64:
            v = float(np.float32(v))
        return _fraction(v)

    def where(self, node: Any) -> str:
        """Neuron-name prefix of a node: the module path for modules, else the node name."""
        return str(node.target) if node.op == "call_module" else node.name

    def place(self, node: Any) -> str:
        """Where a node occurs, for messages."""
        if node.op == "call_module":
            return f"module {node.target}"
        stack = node.meta.get("nn_module_stack") or {}
        inside = next(reversed(stack.values()))[0] if stack else ""
        return f"node {node.name}" + (f" (in module {inside})" if inside else "")

    def tensor(self, x: Any, what: str) -> Sym:
        """An argument as a symbolic tensor (numbers become 0-d constants)."""
        if isinstance(x, Sym):
            return x
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            v = float(x)
            if not math.isfinite(v):
                raise InputError(f"{what}: {x!r} is not finite")
            arr = np.empty((), dtype=object)
            arr[()] = const_entry(_fraction(v))
            return Sym(arr, False)
        raise InputError(f"{what}: expected a tensor, got {type(x).__name__}")

    def batched(self, x: Any, what: str) -> np.ndarray:
        s = self.tensor(x, what)
        if not s.batched:
            raise InputError(f"{what}: applied to a tensor that does not depend on the input")
        return s.arr

    def coefs(self, x: Any, what: str) -> np.ndarray | None:
        """Parameters/constants of a weight-like argument (None stays None)."""
        if x is None:
            return None
        s = self.tensor(x, what)
        if s.batched or any(not e.is_coef for e in s.arr.reshape(-1)):
            raise InputError(f"{what}: the weight depends on the input (only parameters and "
                             "constants can be weights)")
        out = np.empty(s.arr.shape, dtype=object)
        for idx in np.ndindex(*s.arr.shape):
            out[idx] = s.arr[idx].coef()
        return out

    def act(self, node: Any, x: Any, act: acts.Activation) -> Sym:
        arr = self.batched(x, f"{self.describe(node)} at {self.place(node)}")
        return Sym(ops.activation(self.b, arr, act, self.where(node)), True)

    def describe(self, node: Any) -> str:
        if node.op == "call_module":
            return type(self.module(node)).__name__
        if node.op == "call_method":
            return f".{node.target}()"
        return getattr(node.target, "__name__", str(node.target))

    def module(self, node: Any) -> nn.Module:
        return self.gm.get_submodule(node.target)

    def check_inplace(self, node: Any, target: Any) -> None:
        """An in-place op is read out-of-place when nothing else sees the modified tensor."""
        if not isinstance(target, torch.fx.Node):
            return
        child, n = node, target
        while True:
            others = [u for u in n.users if u is not child]
            if others:
                raise InputError(f"{self.describe(node)} at {self.place(node)} modifies "
                                 f"{n.name} in place, which {others[0].name} also reads")
            if n not in self.alias:
                return
            child, n = n, self.alias[n]

    # -- the graph ----------------------------------------------------------------------

    def run(self) -> Network:
        root = self.model
        if _is_leaf(root):  # fx traces through the root: wrap it to read it as a module
            root = _Wrapped(type(self.model).__name__, self.model)
        try:
            self.gm = torch.fx.symbolic_trace(root)
        except Exception as e:  # noqa: BLE001  (any tracing failure is an unsupported model)
            raise InputError(f"model {self.name}: torch.fx cannot trace it "
                             f"({type(e).__name__}: {_first_line(e)})") from None
        out_node = None
        n_inputs = 0
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                n_inputs += 1
                self.env[node] = self.placeholder(node, n_inputs)
            elif node.op == "output":
                out_node = node
            else:
                try:
                    self.env[node] = self.evaluate(node)
                except InputError as e:
                    if self.place(node) in str(e):
                        raise
                    raise InputError(f"{self.describe(node)} at {self.place(node)}: {e}") \
                        from None
                except (TypeError, ValueError, IndexError, KeyError, AttributeError) as e:
                    raise InputError(f"cannot import {self.describe(node)} at "
                                     f"{self.place(node)} ({_first_line(e)})") from None
                self.share(node)
        assert out_node is not None
        return self.network(out_node)

    def share(self, node: Any) -> None:
        """Entries read by several consumers get their neuron now (computed once)."""
        v = self.env[node]
        if isinstance(v, Sym) and v.batched and len(node.users) > 1:
            for e in v.arr.reshape(-1):
                if e.source is None:
                    self.b.source(e)

    def placeholder(self, node: Any, i: int) -> Any:
        if i > 1:
            if node.args:
                return node.args[0]  # an extra argument with a default value
            raise InputError(f"model {self.name}: forward takes several tensors "
                             f"(argument {node.target!r}); one input tensor is supported")
        x = self.example
        if x.dim() < 1 or x.shape[0] != 1:
            raise InputError(f"example input: expected one example with its batch axis, "
                             f"shape (1, ...), got shape {tuple(x.shape)}")
        n = x.numel()
        arr = np.empty(n, dtype=object)
        for j in range(n):
            arr[j] = source_entry(-(j + 1), _index_name(node.name, tuple(x.shape), j))
        return Sym(arr.reshape(tuple(x.shape)), True)

    def arg(self, a: Any) -> Any:
        return torch.fx.node.map_arg(a, lambda n: self.env[n])

    def evaluate(self, node: Any) -> Any:
        args, kwargs = self.arg(node.args), self.arg(node.kwargs)
        if node.op == "get_attr":
            return self.get_attr(node)
        if node.op == "call_module":
            return self.call_module(node, self.module(node), args, kwargs)
        if node.op == "call_method":
            return self.call_method(node, node.target, args, kwargs)
        if node.op == "call_function":
            return self.call_function(node, node.target, args, kwargs)
        raise InputError(f"unsupported fx node {node.op} at {self.place(node)}")

    def get_attr(self, node: Any) -> Any:
        obj: Any = self.gm
        for part in str(node.target).split("."):
            obj = getattr(obj, part)
        if isinstance(obj, torch.Tensor):
            return self.params.sym(obj, str(node.target))
        return obj

    def network(self, out_node: Any) -> Network:
        res = self.arg(out_node.args[0])
        if not isinstance(res, Sym):
            raise InputError(f"model {self.name}: returns a {type(res).__name__}; one output "
                             "tensor is supported")
        if not res.batched or res.arr.ndim < 1 or res.arr.shape[0] != 1:
            raise InputError(f"model {self.name}: its output does not depend on the input "
                             "or has no batch axis")
        outs = [self.b.neuron(res.arr[idx], ops.label("output", idx))
                for idx in np.ndindex(*res.arr.shape)]
        head = Head("linear", tuple(outs), coefs=(Fraction(1),) * len(outs))
        x = exact_tensor(self.example, "example input")
        return Network(name=self.name, input=tuple(x), neurons=tuple(self.b.neurons),
                       param_names=tuple(self.params.names), head=head,
                       values=tuple(self.params.values))

    # -- modules ------------------------------------------------------------------------

    def call_module(self, node: Any, m: nn.Module, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        where, place = self.where(node), self.place(node)
        kind = type(m)
        x = args[0] if args else None
        if len(args) != 1 or kwargs:
            raise InputError(f"{kind.__name__} at {place}: expected one tensor argument")
        inplace = getattr(m, "inplace", False)
        if inplace:
            self.check_inplace(node, node.args[0])
            self.alias[node] = node.args[0]
        if kind is nn.Identity:
            self.alias[node] = node.args[0]
            return x
        if kind in _DROPOUTS:
            if m.training and m.p > 0:
                raise InputError(f"{kind.__name__} at {place} is in training mode (random); "
                                 "call model.eval() first")
            self.alias[node] = node.args[0]
            return x
        if kind in _MODULE_ACTS:
            return self.act(node, x, _MODULE_ACTS[kind](self, m, place))
        if kind is nn.Linear:
            return self.linear(x, m.weight, m.bias, where, place)
        if kind in (nn.Conv1d, nn.Conv2d):
            return self.conv(x, m.weight, m.bias, m.stride, m.padding, m.dilation, m.groups,
                             m.padding_mode, where, place)
        if kind in (nn.BatchNorm1d, nn.BatchNorm2d):
            if m.training or m.running_mean is None:
                why, fix = ("is in training mode", "; call model.eval() first") \
                    if m.training else ("has no running statistics", "")
                raise InputError(f"{kind.__name__} at {place} {why}: it normalises with "
                                 f"the batch's statistics, which couple the examples{fix}")
            return self.batch_norm(x, m.running_mean, m.running_var, m.weight, m.bias,
                                   m.eps, where, place)
        if kind is nn.Flatten:
            self.alias[node] = node.args[0]
            return self.flatten(x, m.start_dim, m.end_dim, place)
        if kind in (nn.MaxPool1d, nn.MaxPool2d):
            d = 1 if kind is nn.MaxPool1d else 2
            if m.return_indices:
                raise InputError(f"{kind.__name__} at {place}: return_indices is not supported")
            return self.max_pool(x, d, m.kernel_size, m.stride, m.padding, m.dilation,
                                 m.ceil_mode, where, place)
        if kind in (nn.AvgPool1d, nn.AvgPool2d):
            d = 1 if kind is nn.AvgPool1d else 2
            return self.avg_pool(x, d, m.kernel_size, m.stride, m.padding, m.ceil_mode,
                                 m.count_include_pad, getattr(m, "divisor_override", None),
                                 where, place)
        if kind in _ADAPTIVE:
            d, red = _ADAPTIVE[kind]
            if getattr(m, "return_indices", False):
                raise InputError(f"{kind.__name__} at {place}: return_indices is not supported")
            return self.adaptive(x, d, m.output_size, red, where, place)
        raise InputError(f"unsupported module {kind.__name__} at {place}")

    # -- layers shared by module and functional forms -----------------------------------

    def linear(self, x: Any, weight: Any, bias: Any, where: str, place: str) -> Sym:
        what = f"linear at {place}"
        W = self._coefs(weight, f"{what}: weight")
        bvals = self._coefs(bias, f"{what}: bias")
        if W is None or W.ndim != 2 or (bvals is not None and bvals.shape != (W.shape[0],)):
            raise InputError(f"{what}: expected a 2-d weight and a 1-d bias")
        arr = self.batched(x, what)
        return Sym(ops.linear(self.b, arr, W, bvals, where), True)

    def _coefs(self, t: Any, what: str) -> np.ndarray | None:
        if isinstance(t, torch.Tensor):
            return self.params.values_of(t, what)
        return self.coefs(t, what)

    def conv(self, x: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any,
             groups: Any, mode: str, where: str, place: str) -> Sym:
        what = f"conv at {place}"
        W = self._coefs(weight, f"{what}: weight")
        if W is None or W.ndim not in (3, 4):
            raise InputError(f"{what}: expected a 3-d or 4-d weight")
        d = W.ndim - 2
        bvals = self._coefs(bias, f"{what}: bias")
        if bvals is not None and bvals.shape != (W.shape[0],):
            raise InputError(f"{what}: expected one bias per output channel")
        st, dl = _ints(stride, d, f"{what}: stride"), _ints(dilation, d, f"{what}: dilation")
        K = W.shape[2:]
        if isinstance(padding, str):
            if padding == "valid":
                pads = [(0, 0)] * d
            elif padding == "same":
                if any(s != 1 for s in st):
                    raise InputError(f"{what}: padding='same' needs stride 1")
                pads = [(dd * (k - 1) // 2, dd * (k - 1) - dd * (k - 1) // 2)
                        for dd, k in zip(dl, K)]
            else:
                raise InputError(f"{what}: unknown padding {padding!r}")
        else:
            pads = [(p, p) for p in _ints(padding, d, f"{what}: padding")]
        if not isinstance(groups, int) or groups < 1 or any(s < 1 for s in (*st, *dl)) \
                or any(lo < 0 for lo, _ in pads):
            raise InputError(f"{what}: stride, dilation and groups must be positive")
        arr = self.batched(x, what)
        return Sym(ops.conv(self.b, arr, W, bvals, st, pads, dl, groups, mode, where), True)

    def batch_norm(self, x: Any, mean: Any, var: Any, weight: Any, bias: Any, eps: Any,
                   where: str, place: str) -> Sym:
        what = f"batch_norm at {place}"
        if mean is None or var is None:
            raise InputError(f"{what}: running statistics are required (eval mode)")
        means, _ = self._stats(mean, f"{what}: running_mean")
        vars_, vdtype = self._stats(var, f"{what}: running_var")
        if len(means) != len(vars_):
            raise InputError(f"{what}: running_mean and running_var differ in length")
        if not isinstance(eps, (int, float)) or isinstance(eps, bool):
            raise InputError(f"{what}: eps must be a number")
        r = [_inv_sqrt(v, float(eps), vdtype, f"{what}: running_var") for v in vars_]
        gamma = self._coefs(weight, f"{what}: weight")
        beta = self._coefs(bias, f"{what}: bias")
        for t, nm in ((gamma, "weight"), (beta, "bias")):
            if t is not None and t.shape != (len(means),):
                raise InputError(f"{what}: {nm} must have one entry per channel")
        arr = self.batched(x, what)
        if arr.ndim not in (2, 3, 4):
            raise InputError(f"{what}: expects a 2-d, 3-d or 4-d input, gets {arr.ndim}-d")
        return Sym(ops.batch_norm(
            self.b, arr, means, r, None if gamma is None else list(gamma),
            None if beta is None else list(beta), where), True)

    def _stats(self, t: Any, what: str) -> tuple[list[Fraction], torch.dtype]:
        if isinstance(t, torch.Tensor):
            return exact_tensor(t, what), t.dtype
        vals = self.coefs(t, what)
        if vals is None or any(v[0] == "param" for v in vals.reshape(-1)):
            raise InputError(f"{what}: must be a stored tensor (not a parameter)")
        return [v[1] for v in vals.reshape(-1)], t.dtype or torch.float32

    def flatten(self, x: Any, start: Any, end: Any, place: str) -> Sym:
        arr = self.batched(x, f"flatten at {place}")
        n = arr.ndim
        s, e = (start % n if isinstance(start, int) else -1), (end % n if isinstance(end, int)
                                                                else -1)
        if s < 0 or e < 0:
            raise InputError(f"flatten at {place}: dims must be integers")
        if s == 0 and e > 0:
            raise InputError(f"flatten at {place}: flattens the batch axis (use start_dim=1)")
        if s >= e:
            return Sym(arr, True)
        shape = (*arr.shape[:s], int(np.prod(arr.shape[s:e + 1])), *arr.shape[e + 1:])
        return Sym(arr.reshape(shape), True)

    def reshape(self, x: Any, shape: Sequence[Any], place: str) -> Sym:
        arr = self.batched(x, f"reshape at {place}")
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
            shape = tuple(shape[0])
        if not all(isinstance(s, int) and not isinstance(s, bool) for s in shape):
            raise InputError(f"reshape at {place}: the shape must be integers, got {shape!r}")
        try:
            new = arr.reshape(tuple(shape))
        except ValueError:
            raise InputError(f"reshape at {place}: cannot reshape {tuple(arr.shape)} to "
                             f"{tuple(shape)}") from None
        if new.ndim < 1 or new.shape[0] != 1:
            raise InputError(f"reshape at {place}: the shape {tuple(shape)} does not keep the "
                             "batch axis first")
        return Sym(new, True)

    def pad(self, x: Any, pads: Any, mode: Any, value: Any, where: str, place: str) -> Sym:
        what = f"pad at {place}"
        if not isinstance(pads, (list, tuple)) or len(pads) % 2 or not all(
                isinstance(p, int) and not isinstance(p, bool) for p in pads):
            raise InputError(f"{what}: expected an even number of integers, got {pads!r}")
        if mode not in ("constant", *ops.PAD_MODES[1:]):
            raise InputError(f"{what}: unsupported mode {mode!r}")
        fill = Fraction(0)
        if value is not None:
            if mode != "constant":
                raise InputError(f"{what}: a fill value needs mode 'constant'")
            fill = self._exact_scalar(value, place)
        pairs = [(pads[i], pads[i + 1]) for i in range(0, len(pads), 2)][::-1]
        arr = self.batched(x, what)
        return Sym(ops.pad(arr, pairs, mode, fill, where), True)

    def max_pool(self, x: Any, d: int, k: Any, stride: Any, pad: Any, dil: Any, ceil_mode: Any,
                 where: str, place: str) -> Sym:
        what = f"max_pool at {place}"
        K = _ints(k, d, f"{what}: kernel_size")
        st = K if stride is None or stride == [] or stride == () else \
            _ints(stride, d, f"{what}: stride")
        arr = self.batched(x, what)
        return Sym(ops.max_pool(self.b, arr, K, st, _ints(pad, d, f"{what}: padding"),
                                _ints(dil, d, f"{what}: dilation"), bool(ceil_mode), where), True)

    def avg_pool(self, x: Any, d: int, k: Any, stride: Any, pad: Any, ceil_mode: Any,
                 count_include_pad: Any, divisor: Any, where: str, place: str) -> Sym:
        what = f"avg_pool at {place}"
        K = _ints(k, d, f"{what}: kernel_size")
        st = K if stride is None or stride == [] or stride == () else \
            _ints(stride, d, f"{what}: stride")
        if divisor is not None and (not isinstance(divisor, int) or isinstance(divisor, bool)):
            raise InputError(f"{what}: divisor_override must be an integer")
        arr = self.batched(x, what)
        return Sym(ops.avg_pool(self.b, arr, K, st, _ints(pad, d, f"{what}: padding"),
                                bool(ceil_mode), bool(count_include_pad), divisor, where), True)

    def adaptive(self, x: Any, d: int, size: Any, kind: str, where: str, place: str) -> Sym:
        what = f"adaptive_{kind}_pool at {place}"
        sizes = [size] * d if isinstance(size, int) or size is None else list(size)
        if len(sizes) != d or not all(s is None or (isinstance(s, int) and not
                                                    isinstance(s, bool)) for s in sizes):
            raise InputError(f"{what}: output_size must be {d} integer(s)")
        arr = self.batched(x, what)
        return Sym(ops.adaptive_pool(self.b, arr, sizes, kind, where), True)

    # -- arithmetic ---------------------------------------------------------------------

    def add(self, node: Any, a: Any, c: Any, sign: Fraction) -> Sym:
        what = f"{self.describe(node)} at {self.place(node)}"
        x, y = self.tensor(a, what), self.tensor(c, what)
        b = self.b
        out = ops.binary(x.arr, y.arr,
                         lambda p, q, nm: b.lincomb(((Fraction(1), p), (sign, q)), nm),
                         self.where(node))
        return self._result(out, (x, y), what)

    def _result(self, arr: np.ndarray, operands: Sequence[Sym], what: str) -> Sym:
        batched = [s for s in operands if s.batched]
        if batched and arr.ndim != max(s.arr.ndim for s in batched):
            raise InputError(f"{what}: broadcasting adds axes before the batch axis")
        return Sym(arr, bool(batched))

    def mul(self, node: Any, a: Any, c: Any) -> Sym:
        what = f"{self.describe(node)} at {self.place(node)}"
        x, y = self.tensor(a, what), self.tensor(c, what)
        b = self.b

        def times(p: Affine, q: Affine, nm: str) -> Affine:
            for u, v in ((p, q), (q, p)):
                if u.is_coef and not u.has_param:
                    return b.lincomb(((u.coef()[1], v),), nm)
            for u, v in ((p, q), (q, p)):
                if u.is_coef:
                    return b.scale_by_param(u.coef(), v, nm)
            raise InputError(f"{what}: multiplies two tensors computed from the input (not "
                             "affine)")

        return self._result(ops.binary(x.arr, y.arr, times, self.where(node)), (x, y), what)

    def div(self, node: Any, a: Any, c: Any) -> Sym:
        what = f"{self.describe(node)} at {self.place(node)}"
        x, y = self.tensor(a, what), self.tensor(c, what)
        b = self.b

        def over(p: Affine, q: Affine, nm: str) -> Affine:
            if not (q.is_coef and not q.has_param):
                raise InputError(f"{what}: divides by a tensor that is not a constant")
            c = q.coef()[1]
            if c == 0:
                raise InputError(f"{what}: division by zero")
            return b.lincomb(((1 / c, p),), nm)

        return self._result(ops.binary(x.arr, y.arr, over, self.where(node)), (x, y), what)

    def neg(self, node: Any, a: Any) -> Sym:
        x = self.tensor(a, f"neg at {self.place(node)}")
        where = self.where(node)
        out = ops.new_array(x.arr.shape)
        for idx in np.ndindex(*x.arr.shape):
            out[idx] = self.b.lincomb(((Fraction(-1), x.arr[idx]),), ops.label(where, idx))
        return Sym(out, x.batched)

    def cat(self, node: Any, tensors: Any, dim: Any) -> Sym:
        what = f"cat at {self.place(node)}"
        if not isinstance(tensors, (list, tuple)) or not tensors:
            raise InputError(f"{what}: expected a list of tensors")
        syms = [self.tensor(t, what) for t in tensors]
        if not all(s.batched for s in syms):
            raise InputError(f"{what}: concatenates a tensor that does not depend on the input")
        n = syms[0].arr.ndim
        if not isinstance(dim, int) or not -n <= dim < n or dim % n == 0:
            raise InputError(f"{what}: can only concatenate along a non-batch axis")
        try:
            return Sym(np.concatenate([s.arr for s in syms], axis=dim % n), True)
        except ValueError:
            raise InputError(f"{what}: shapes do not match") from None

    def getitem(self, node: Any, x: Any, index: Any) -> Any:
        if not isinstance(x, Sym):
            return x[index]
        what = f"indexing at {self.place(node)}"
        idx = index if isinstance(index, tuple) else (index,)
        for i in idx:
            if isinstance(i, slice):
                if not all(v is None or isinstance(v, int) for v in (i.start, i.stop, i.step)) \
                        or (i.step is not None and i.step <= 0):
                    raise InputError(f"{what}: only integer slices with a positive step")
            elif not (i is None or i is Ellipsis or
                      (isinstance(i, int) and not isinstance(i, bool))):
                raise InputError(f"{what}: only integers, slices, None and ... are supported")
        if x.batched and (not idx or idx[0] != slice(None)):
            raise InputError(f"{what}: the first index must be ':' (the batch axis)")
        out = x.arr[idx]
        if not isinstance(out, np.ndarray):
            arr = np.empty((), dtype=object)
            arr[()] = out
            out = arr
        return Sym(out, x.batched, x.dtype)

    # -- call_method / call_function ----------------------------------------------------

    def call_method(self, node: Any, name: str, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        place = self.place(node)
        if name in _INPLACE_METHODS:
            self.check_inplace(node, node.args[0])
            self.alias[node] = node.args[0]
            name = name[:-1]
        if name in _VIEW_METHODS:
            self.alias[node] = node.args[0]
        x, rest = args[0], args[1:]
        if name in ("size", "dim"):
            if not isinstance(x, Sym):
                raise InputError(f".{name}() at {place}: not a tensor")
            shape = torch.Size(x.arr.shape)
            if name == "dim":
                return len(shape)
            d = rest[0] if rest else kwargs.get("dim")
            return shape if d is None else shape[d]
        if name in ("view", "reshape"):
            return self.reshape(x, rest, place)
        if name == "flatten":
            return self.flatten(x, *_params(rest, kwargs, ("start_dim", 0), ("end_dim", -1),
                                            what=f".flatten() at {place}"), place)
        if name == "contiguous":
            return x
        if name == "relu":
            return self.act(node, x, acts.relu())
        if name == "abs":
            return self.act(node, x, acts.abs_())
        if name in ("add", "sub"):
            (other, alpha) = _params(rest, kwargs, ("other", None), ("alpha", 1),
                                     what=f".{name}() at {place}")
            sign = Fraction(1 if name == "add" else -1) * self._exact_scalar(alpha, place)
            return self.add(node, x, other, sign)
        if name == "mul":
            return self.mul(node, x, rest[0] if rest else kwargs["other"])
        if name == "div":
            if kwargs.get("rounding_mode") is not None:
                raise InputError(f".div() at {place}: rounding_mode is not supported")
            return self.div(node, x, rest[0] if rest else kwargs["other"])
        if name == "neg":
            return self.neg(node, x)
        raise InputError(f"unsupported tensor method .{name}() at {place}")

    def _exact_scalar(self, v: Any, place: str) -> Fraction:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(f"{place}: expected a finite number, got {v!r}")
        return _fraction(float(v))

    def call_function(self, node: Any, fn: Any, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
        place, where = self.place(node), self.where(node)
        if fn is operator.getitem:
            return self.getitem(node, args[0], args[1])
        if fn is getattr:
            if isinstance(args[0], Sym) and args[1] == "shape":
                return torch.Size(args[0].arr.shape)
            raise InputError(f"unsupported attribute .{args[1]} at {place}")
        if fn in _FUNC_ACTS:
            spec = _FUNC_ACTS[fn]
            vals = _params(args[1:], kwargs, *spec.params, what=f"{fn.__name__} at {place}")
            if spec.inplace or dict(zip([p for p, _ in spec.params], vals)).get("inplace"):
                self.check_inplace(node, node.args[0])
                self.alias[node] = node.args[0]
            return self.act(node, args[0], spec.build(self, vals, f"{fn.__name__} at {place}"))
        if fn in (operator.add, torch.add, operator.sub, torch.sub):
            other, alpha = _params(args[1:], kwargs, ("other", None), ("alpha", 1),
                                   what=f"add at {place}")
            sign = Fraction(1 if fn in (operator.add, torch.add) else -1)
            return self.add(node, args[0], other, sign * self._exact_scalar(alpha, place))
        if fn in (operator.mul, torch.mul):
            return self.mul(node, args[0], args[1] if len(args) > 1 else kwargs["other"])
        if fn in (operator.truediv, torch.div):
            if kwargs.get("rounding_mode") is not None:
                raise InputError(f"div at {place}: rounding_mode is not supported")
            return self.div(node, args[0], args[1] if len(args) > 1 else kwargs["other"])
        if fn in (operator.neg, torch.neg):
            return self.neg(node, args[0])
        if fn is operator.pos:
            return args[0]
        if fn is torch.cat:
            tensors, dim = _params(args, kwargs, ("tensors", None), ("dim", 0),
                                   what=f"cat at {place}")
            return self.cat(node, tensors, dim)
        if fn is torch.flatten:
            self.alias[node] = node.args[0]
            s, e = _params(args[1:], kwargs, ("start_dim", 0), ("end_dim", -1),
                           what=f"flatten at {place}")
            return self.flatten(args[0], s, e, place)
        if fn is torch.reshape:
            self.alias[node] = node.args[0]
            (shape,) = _params(args[1:], kwargs, ("shape", None), what=f"reshape at {place}")
            return self.reshape(args[0], (shape,), place)
        if fn is F.linear:
            x, w, bias = _params(args, kwargs, ("input", None), ("weight", None),
                                 ("bias", None), what=f"linear at {place}")
            return self.linear(x, w, bias, where, place)
        if fn in (F.conv1d, F.conv2d):
            x, w, bias, st, pad, dil, g = _params(
                args, kwargs, ("input", None), ("weight", None), ("bias", None), ("stride", 1),
                ("padding", 0), ("dilation", 1), ("groups", 1), what=f"conv at {place}")
            return self.conv(x, w, bias, st, pad, dil, g, "zeros", where, place)
        if fn is F.batch_norm:
            x, mean, var, w, bias, training, _mom, eps = _params(
                args, kwargs, ("input", None), ("running_mean", None), ("running_var", None),
                ("weight", None), ("bias", None), ("training", False), ("momentum", 0.1),
                ("eps", 1e-5), what=f"batch_norm at {place}")
            if training:
                raise InputError(f"batch_norm at {place} is in training mode: it normalises "
                                 "with the batch's statistics; call model.eval() first")
            return self.batch_norm(x, mean, var, w, bias, eps, where, place)
        if fn in _FUNC_DROPOUTS:
            _x, p, training, _inplace = _params(args, kwargs, ("input", None), ("p", 0.5),
                                               ("training", True), ("inplace", False),
                                               what=f"dropout at {place}")
            if training and p > 0:
                raise InputError(f"dropout at {place} is in training mode (random); call "
                                 "model.eval() first")
            self.alias[node] = node.args[0]
            return args[0]
        if fn is F.pad:
            x, pads, mode, value = _params(args, kwargs, ("input", None), ("pad", None),
                                           ("mode", "constant"), ("value", None),
                                           what=f"pad at {place}")
            return self.pad(x, pads, mode, value, where, place)
        if fn in (F.max_pool1d, F.max_pool2d):
            x, k, st, pad, dil, ceil_mode, ri = _params(
                args, kwargs, ("input", None), ("kernel_size", None), ("stride", None),
                ("padding", 0), ("dilation", 1), ("ceil_mode", False),
                ("return_indices", False), what=f"max_pool at {place}")
            if ri:
                raise InputError(f"max_pool at {place}: return_indices is not supported")
            return self.max_pool(x, 1 if fn is F.max_pool1d else 2, k, st, pad, dil, ceil_mode,
                                 where, place)
        if fn in (F.avg_pool1d, F.avg_pool2d):
            names: list[tuple[str, Any]] = [
                ("input", None), ("kernel_size", None), ("stride", None), ("padding", 0),
                ("ceil_mode", False), ("count_include_pad", True)]
            if fn is F.avg_pool2d:
                names.append(("divisor_override", None))
            vals = _params(args, kwargs, *names, what=f"avg_pool at {place}")
            x, k, st, pad, ceil_mode, cip = vals[:6]
            div = vals[6] if len(vals) > 6 else None
            return self.avg_pool(x, 1 if fn is F.avg_pool1d else 2, k, st, pad, ceil_mode, cip,
                                 div, where, place)
        if fn in _FUNC_ADAPTIVE:
            d, kind = _FUNC_ADAPTIVE[fn]
            extra = [("return_indices", False)] if kind == "max" else []
            vals = _params(args, kwargs, ("input", None), ("output_size", None), *extra,
                           what=f"adaptive pool at {place}")
            if kind == "max" and vals[2]:
                raise InputError(f"adaptive max pool at {place}: return_indices is not "
                                 "supported")
            return self.adaptive(vals[0], d, vals[1], kind, where, place)
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", str(fn))
        mod = getattr(fn, "__module__", None)
        full = f"{mod}.{name}" if mod and mod not in ("builtins", "_operator") else name
        raise InputError(f"unsupported operation {_short(full, node)} at {place}")


class _Wrapped(nn.Module):
    """A container for a model that is itself a torch.nn layer."""

    def __init__(self, name: str, model: nn.Module) -> None:
        super().__init__()
        self.name = name
        self.add_module(name, model)

    def forward(self, x: torch.Tensor) -> Any:
        return getattr(self, self.name)(x)


def _is_leaf(m: nn.Module) -> bool:
    """Whether torch.fx keeps m as one call (a torch.nn layer, not a Sequential)."""
    return torch.fx.Tracer().is_leaf_module(m, "")


def _short(full: str, node: Any) -> str:
    """A readable op name: torch's builtins print oddly (``_VariableFunctionsClass.x``)."""
    full = re.sub(r"^torch\._C\._nn\.", "torch.nn.functional.", full)
    full = re.sub(r"^(torch\.)?_VariableFunctionsClass\.", "torch.", full)
    if "<locals>" in full or full.startswith("boolean_dispatch"):
        return node.name
    return full


def _params(args: Sequence[Any], kwargs: dict[str, Any], *spec: tuple[str, Any],
            what: str) -> list[Any]:
    """Positional and keyword arguments matched against (name, default) pairs."""
    if len(args) > len(spec):
        raise InputError(f"{what}: too many arguments")
    names = [n for n, _ in spec]
    extra = set(kwargs) - set(names)
    if extra:
        raise InputError(f"{what}: unsupported argument {min(extra)!r}")
    out = list(args) + [kwargs.get(n, d) for n, d in spec[len(args):]]
    for (n, d), v in zip(spec, out):
        if v is None and d is None and n in ("input", "weight", "other", "tensors",
                                             "kernel_size", "output_size", "shape"):
            raise InputError(f"{what}: missing argument {n!r}")
    return out


def _ints(v: Any, d: int, what: str) -> list[int]:
    """An int or a sequence of d ints."""
    vals = [v] * d if isinstance(v, int) else list(v) if isinstance(v, (tuple, list)) else None
    if vals is not None and len(vals) == 1 and d > 1:
        vals = vals * d
    if vals is None or len(vals) != d or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in vals):
        raise InputError(f"{what}: expected {d} integer(s), got {v!r}")
    return vals


def _inv_sqrt(var: Fraction, eps: float, dtype: torch.dtype, what: str) -> Fraction:
    """1/sqrt(var + eps) as PyTorch's CPU batch norm computes it (see the module doc)."""
    if dtype == torch.float64:
        s = float(var) + eps
        if s <= 0:
            raise InputError(f"{what}: var + eps = {s} is not positive")
        return _fraction(1.0 / math.sqrt(s))
    with np.errstate(all="ignore"):
        s32 = np.float32(float(var)) + np.float32(eps)
        if not s32 > 0:
            raise InputError(f"{what}: var + eps = {float(s32)} is not positive")
        r = np.float32(1) / np.sqrt(s32)
    if not np.isfinite(r):
        raise InputError(f"{what}: 1/sqrt(var + eps) overflows")
    return _fraction(float(r))


# -- activation tables ---------------------------------------------------------------------


def _hardtanh(imp: _Importer, lo: Any, hi: Any, what: str) -> acts.Activation:
    a, b = imp.scalar(lo, f"{what}: min_val"), imp.scalar(hi, f"{what}: max_val")
    if not a < b:
        raise InputError(f"{what}: min_val must be below max_val")
    return acts.hardtanh(a, b)


def _softshrink(imp: _Importer, lam: Any, what: str) -> acts.Activation:
    v = imp.scalar(lam, f"{what}: lambd")
    if v <= 0:
        raise InputError(f"{what}: lambd must be positive")
    return acts.softshrink(v)


def _leaky(imp: _Importer, slope: Any, what: str) -> acts.Activation:
    return acts.leaky_relu(imp.scalar(slope, f"{what}: negative_slope"))


_MODULE_ACTS: dict[type, Callable[[_Importer, Any, str], acts.Activation]] = {
    nn.ReLU: lambda i, m, w: acts.relu(),
    nn.LeakyReLU: lambda i, m, w: _leaky(i, m.negative_slope, f"LeakyReLU at {w}"),
    nn.Hardtanh: lambda i, m, w: _hardtanh(i, m.min_val, m.max_val, f"Hardtanh at {w}"),
    nn.ReLU6: lambda i, m, w: acts.relu6(),
    nn.Hardsigmoid: lambda i, m, w: acts.hardsigmoid(),
    nn.Hardswish: lambda i, m, w: acts.hardswish(),
    nn.Softshrink: lambda i, m, w: _softshrink(i, m.lambd, f"Softshrink at {w}"),
}


@dataclass(frozen=True)
class _FuncAct:
    params: tuple[tuple[str, Any], ...]
    build: Callable[[_Importer, list[Any], str], acts.Activation]
    inplace: bool = False


_FUNC_ACTS: dict[Any, _FuncAct] = {
    F.relu: _FuncAct((("inplace", False),), lambda i, v, w: acts.relu()),
    torch.relu: _FuncAct((), lambda i, v, w: acts.relu()),
    torch.relu_: _FuncAct((), lambda i, v, w: acts.relu(), inplace=True),
    F.leaky_relu: _FuncAct((("negative_slope", 0.01), ("inplace", False)),
                           lambda i, v, w: _leaky(i, v[0], w)),
    F.leaky_relu_: _FuncAct((("negative_slope", 0.01),), lambda i, v, w: _leaky(i, v[0], w),
                            inplace=True),
    F.hardtanh: _FuncAct((("min_val", -1.0), ("max_val", 1.0), ("inplace", False)),
                         lambda i, v, w: _hardtanh(i, v[0], v[1], w)),
    F.hardtanh_: _FuncAct((("min_val", -1.0), ("max_val", 1.0)),
                          lambda i, v, w: _hardtanh(i, v[0], v[1], w), inplace=True),
    F.relu6: _FuncAct((("inplace", False),), lambda i, v, w: acts.relu6()),
    F.hardsigmoid: _FuncAct((("inplace", False),), lambda i, v, w: acts.hardsigmoid()),
    F.hardswish: _FuncAct((("inplace", False),), lambda i, v, w: acts.hardswish()),
    torch.abs: _FuncAct((), lambda i, v, w: acts.abs_()),
    F.softshrink: _FuncAct((("lambd", 0.5),), lambda i, v, w: _softshrink(i, v[0], w)),
}

_DROPOUTS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
             nn.FeatureAlphaDropout)
_FUNC_DROPOUTS = (F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout,
                  F.feature_alpha_dropout)
_ADAPTIVE: dict[type, tuple[int, str]] = {
    nn.AdaptiveAvgPool1d: (1, "avg"), nn.AdaptiveAvgPool2d: (2, "avg"),
    nn.AdaptiveMaxPool1d: (1, "max"), nn.AdaptiveMaxPool2d: (2, "max"),
}
_FUNC_ADAPTIVE: dict[Any, tuple[int, str]] = {
    F.adaptive_avg_pool1d: (1, "avg"), F.adaptive_avg_pool2d: (2, "avg"),
    F.adaptive_max_pool1d: (1, "max"), F.adaptive_max_pool2d: (2, "max"),
}


def from_module(model: nn.Module, example_input: torch.Tensor,
                name: str | None = None) -> Network:
    """The IR network of ``model`` on one example (shape (1, ...)), as a function of
    ``model.named_parameters()``; InputError (one line) for what is not supported."""
    if not isinstance(model, nn.Module):
        raise InputError(f"expected a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(example_input, torch.Tensor):
        raise InputError(f"example input: expected a tensor, got {type(example_input).__name__}")
    return _Importer(model, example_input, name or type(model).__name__).run()
