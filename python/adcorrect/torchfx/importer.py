"""A PyTorch ``nn.Module`` and an example input, through ``torch.fx``, to the network IR.

The network is the model applied to ONE example as a function of its parameters: the input
is the example flattened row-major (without the batch axis), the parameters are the
trainable tensors of ``model.named_parameters()`` in order (those with ``requires_grad``;
frozen ones are constants, as in fine-tuning), each tensor flattened row-major and named
``module.weight[i,j]``, and f is the sum of the output tensor's entries (a linear head
with coefficients 1; the losses of :func:`adcorrect.nets.batch.batched` replace it).  Stored values are read exactly: every
float of every dtype (fp64, fp32, bf16, fp16, the fp8 formats) is a dyadic rational.

Supported (module and functional forms): ``Linear``; ``Conv1d``/``Conv2d`` (stride,
padding incl. ``"same"``, dilation, groups, bias or not, every padding mode);
``Flatten``/``flatten``/``view``/``reshape`` of whole examples; ``AvgPool1d/2d`` and
``AdaptiveAvgPool1d/2d`` (exact averages such as 1/9); ``MaxPool1d/2d`` and
``AdaptiveMaxPool1d/2d`` as max nodes; ``+``, ``-``, negation, ``torch.cat``, tensor
slicing, multiplication and division by constants (multiplication by a parameter too);
``BatchNorm1d/2d`` in eval mode; ``Dropout`` in eval mode (the identity); ``Identity``;
the activations relu, leaky_relu, hardtanh, relu6, hardsigmoid, hardswish, abs and
softshrink.  Smooth operations (:mod:`.smooth`: tanh, sigmoid, GELU, SiLU, softplus,
ELU, mish, exp/log/sqrt/rsqrt, products and quotients of values, softmax, LayerNorm,
RMSNorm, BatchNorm with batch statistics), attention and embeddings
(:mod:`.attention`) and recurrent layers (:mod:`.recurrent`, unrolled) give networks
for the certified engine.  Anything else is an InputError of one line naming the op and
the node or module where it occurs.

Exactness conventions (what "the model's function" means here):
- **BatchNorm** in eval mode computes ``gamma (x - mean) r + beta`` with
  ``r = 1/sqrt(var + eps)`` folded as the float PyTorch's CPU kernel computes (in
  float64 for float64 models, else in float32, its ``opmath`` type); mean, var, gamma
  and beta are the stored floats, exactly.  ``v = r x - r mean`` is an identity neuron
  (``bn[c,i,j]/norm``), ``gamma v + beta`` the next (``bn[c,i,j]``): beta is its bias
  (exclusive for BatchNorm1d on features; shared by a channel's positions in 2d).
- **Python numbers** (leaky_relu's ``negative_slope``, hardtanh's bounds, softshrink's
  ``lambd``, constants in ``x + 1``, ``0.5 * x``, ``x / 3``) are the values PyTorch's
  kernels use: the Python float rounded to the model's compute type (the dtype of the
  first floating parameter, else of the input), as an exact rational (``x / 3`` is
  x * 1/3; ``LeakyReLU()`` of a float64 model has slope 5764607523034235/2^59).
- **Whole batches**: BatchNorm with batch statistics couples the examples, Embedding
  reads the token indices, Dropout in training mode multiplies by the mask the audited
  pass drew (``masks``): with ``whole_batch`` the given batch is one network (else
  :class:`~.values.CouplesExamples` and its subclasses).  The importer never switches
  modes, so the network is the function the model computes as it was given.
- **In-place ops** (``ReLU(inplace=True)``, ``x.relu_()``, ``x.add_(y)``, ...) are read
  as their out-of-place forms when nothing else reads the tensor they modify (nor a
  view of it); otherwise InputError.  ``x += y`` is recorded by torch.fx itself as
  ``x = x + y``: if another variable still refers to the old x, fx's graph (and so the
  import) differs from eager PyTorch, and nothing in the graph shows it.
- Max pooling at a tie takes the first maximal element in scan order (row-major over
  the window), PyTorch's choice; ``relu'(0) = 0`` in the max node reproduces it.

Neuron names say where a neuron comes from: ``fc1[3]``, ``conv1[0,2,3]`` (module path,
index in the example), ``bn1[2]/norm``, ``pool1[1,0,0]/tie2``, ``relu_1[4]`` (fx node);
an affine entry followed by an activation is one neuron, named after the entry.
"""

from __future__ import annotations

import operator
from fractions import Fraction
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core.deadline import tick
from ..core.errors import InputError
from ..nets import activations as acts
from ..nets.ir import Head, Network
from . import attention, masks, ops, smooth, tensors
from .act_table import FUNC_ACTS, METHOD_ACTS, METHOD_FUNCS, MODULE_ACTS
from .fxargs import (
    ADAPTIVE_POOLS,
    conv_geometry,
    first_line,
    int_tuple,
    match_args,
    op_name,
    pool_call,
)
from .symbolic import Builder, const_entry, source_entry
from .values import (
    ModelParams,
    Sym,
    coefs_of,
    exact_tensor,
    index_names,
    inv_sqrt,
    kernel_scalar,
    number,
)
from .verify import check_runs_as_traced

__all__ = ["from_module"]

DROPOUT_MODULES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
             nn.FeatureAlphaDropout)
_FUNC_DROPOUTS = (F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout,
                  F.feature_alpha_dropout)
_VIEW_METHODS = {"view", "reshape", "flatten", "contiguous"}
_INPLACE_METHODS = {"relu_", "abs_", "add_", "sub_", "mul_", "div_", "neg_"}
_PY_OPS = {operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
           operator.mod, operator.neg, operator.pos}


class _Importer:
    """One import: walks the fx graph, keeping a symbolic value per node."""

    def __init__(self, model: nn.Module, example: torch.Tensor, name: str,
                 whole: bool = False, masks: list[torch.Tensor] | None = None) -> None:
        self.model, self.masks = model, None if masks is None else list(masks)
        self.whole = whole  # the whole batch is one network (BatchNorm in training mode)
        self.example = example
        self.name = name
        self.params = ModelParams(model)
        self.compute_dtype = self.params.dtype or example.dtype
        self.b = Builder()
        self.env: dict[Any, Any] = {}
        self.alias: dict[Any, Any] = {}  # node -> the node whose storage it shares

    # -- helpers ------------------------------------------------------------------------

    def scalar(self, x: Any, what: str) -> Fraction:
        """A Python number as PyTorch's kernels use it: rounded to the compute type."""
        return kernel_scalar(x, self.compute_dtype, what)

    def tensor(self, x: Any, what: str) -> Sym:
        """A tensor argument; a Python number becomes a 0-d constant (see :meth:`scalar`);
        a placeholder that cannot be used (a recurrent layer's final state) says why."""
        if hasattr(x, "refuse"):
            x.refuse()
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            arr = np.empty((), dtype=object)
            arr[()] = const_entry(self.scalar(x, what))
            return Sym(arr, False)
        if not isinstance(x, Sym):
            raise InputError(f"{what}: expected a tensor, got {type(x).__name__}")
        return x

    def batched(self, x: Any) -> np.ndarray:
        return tensors.batched(self.tensor(x, "input"))

    def weights(self, t: Any, what: str) -> np.ndarray | None:
        """Coefficients (parameters or constants) of a weight-like argument, or None."""
        if t is None:
            return None
        if isinstance(t, torch.Tensor):
            return self.params.coefs(t, what)
        return coefs_of(self.tensor(t, what), what)

    @staticmethod
    def where(node: Any) -> str:
        """Neuron-name prefix of a node: the module path for modules, else the node name."""
        return str(node.target) if node.op == "call_module" else node.name

    @staticmethod
    def place(node: Any) -> str:
        """Where a node occurs, for messages."""
        if node.op == "call_module":
            return f"module {node.target}"
        stack = node.meta.get("nn_module_stack") or {}
        inside = next(reversed(stack.values()))[0] if stack else ""
        return f"node {node.name}" + (f" (in module {inside})" if inside else "")

    def describe(self, node: Any) -> str:
        """The op of a node, for messages."""
        if node.op == "call_module":
            return type(self.gm.get_submodule(node.target)).__name__
        if node.op == "call_method":
            return f".{node.target}()"
        return getattr(node.target, "__name__", str(node.target))

    def inplace(self, node: Any) -> None:
        """An in-place op on its first argument: read as out-of-place when nothing else reads
        the modified tensor (nor a tensor sharing its storage)."""
        target = node.args[0]
        if isinstance(target, torch.fx.Node):
            child, n = node, target
            while True:
                others = [u for u in n.users if u is not child]
                if others:
                    raise InputError(f"{self.describe(node)} at {self.place(node)} modifies "
                                     f"{n.name} in place, which {others[0].name} also reads")
                if n not in self.alias:
                    break
                child, n = n, self.alias[n]
        self.view(node)

    def view(self, node: Any) -> None:
        """The node's value shares the storage of its first argument."""
        if isinstance(node.args[0], torch.fx.Node):
            self.alias[node] = node.args[0]

    # -- the graph ----------------------------------------------------------------------

    def run(self) -> Network:
        root = self.model
        if torch.fx.Tracer().is_leaf_module(root, ""):
            root = _Wrapped(type(root).__name__, root)  # read a bare layer as a module
        try:
            self.gm = torch.fx.symbolic_trace(root)
        except Exception as e:  # noqa: BLE001  (any tracing failure is an unsupported model)
            raise InputError(f"model {self.name}: torch.fx cannot trace it "
                             f"({type(e).__name__}: {first_line(e)})") from None
        n_inputs = 0
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                n_inputs += 1
                self.env[node] = self.placeholder(node, n_inputs)
            elif node.op == "output":
                return self.network(node)
            else:
                tick(f"importing the network, at {node.name}")
                try:
                    self.env[node] = self.evaluate(node)
                except InputError as e:
                    if self.place(node) in str(e):
                        raise
                    raise type(e)(f"{self.describe(node)} at {self.place(node)}: {e}") \
                        from None
                except (TypeError, ValueError, IndexError, KeyError, AttributeError) as e:
                    raise InputError(f"cannot import {self.describe(node)} at "
                                     f"{self.place(node)} ({first_line(e)})") from None
                self.share(node)
        raise InputError(f"model {self.name}: the traced graph has no output")

    def share(self, node: Any) -> None:
        """Entries read by several consumers get their neuron now (computed once)."""
        v = self.env[node]
        if isinstance(v, Sym) and v.batched and len(node.users) > 1:
            for e in v.arr.reshape(-1):
                if e.source is None and not e.is_coef:
                    self.b.source(e)

    def placeholder(self, node: Any, i: int) -> Any:
        if i > 1:
            if node.args:
                return node.args[0]  # an extra argument with a default value
            raise InputError(f"model {self.name}: forward takes several tensors "
                             f"(argument {node.target!r}); one input tensor is supported")
        x = self.example
        if x.dim() < 1 or (x.shape[0] != 1 and not self.whole):
            raise InputError(f"example input: expected one example with its batch axis, "
                             f"shape (1, ...), got shape {tuple(x.shape)}")
        names = index_names(node.name, tuple(x.shape[1:] if not self.whole else x.shape))
        arr = np.fromiter((source_entry(-(j + 1), nm) for j, nm in enumerate(names)),
                          dtype=object, count=len(names))
        return Sym(arr.reshape(tuple(x.shape)), True)

    def evaluate(self, node: Any) -> Any:
        args = torch.fx.node.map_arg(node.args, lambda n: self.env[n])
        kwargs = dict(torch.fx.node.map_arg(node.kwargs, lambda n: self.env[n]))
        if node.op == "get_attr":
            obj: Any = operator.attrgetter(str(node.target))(self.gm)
            if isinstance(obj, torch.Tensor) and (bool(torch.isfinite(obj).all())
                                                  or id(obj) in self.params.blocks):
                return self.params.sym(obj, str(node.target))
            return obj  # a module attribute, or a stored mask with -inf entries
        if node.op == "call_module":
            mod = self.gm.get_submodule(node.target)
            out = attention.module_call(self, mod, args, kwargs, self.where(node))
            if out is not NotImplemented:
                return out
            if len(args) != 1 or kwargs:
                raise InputError(f"unsupported module {type(mod).__name__} at "
                                 f"{self.place(node)} (called with {len(args) + len(kwargs)} "
                                 "arguments; the supported modules take one tensor)")
            return self.call_module(node, mod, args[0])
        if node.op == "call_method":
            return self.call_method(node, node.target, args, kwargs)
        if node.op == "call_function":
            return self.call_function(node, node.target, args, kwargs)
        raise InputError(f"unsupported fx node {node.op}")

    def network(self, out_node: Any) -> Network:
        res = torch.fx.node.map_arg(out_node.args[0], lambda n: self.env[n])
        if not isinstance(res, Sym):
            raise InputError(f"model {self.name}: returns a {type(res).__name__}; one output "
                             "tensor is supported")
        if not res.batched or res.arr.ndim < 1 or res.arr.shape[0] != self.example.shape[0]:
            raise InputError(f"model {self.name}: its output does not depend on the input "
                             "or has no batch axis")
        outs = [self.b.neuron(res.arr[idx], ops.label("output", idx))
                for idx in np.ndindex(*res.arr.shape)]
        head = Head("linear", tuple(outs), coefs=(Fraction(1),) * len(outs))
        return Network(name=self.name, input=tuple(exact_tensor(self.example, "example input")),
                       neurons=tuple(self.b.neurons), param_names=tuple(self.params.names),
                       head=head, values=tuple(self.params.values))

    # -- modules ------------------------------------------------------------------------

    def call_module(self, node: Any, m: nn.Module, x: Any) -> Any:
        where, place, kind = self.where(node), self.place(node), type(m)
        if getattr(m, "inplace", False):
            self.inplace(node)
        if kind is nn.Identity:
            self.view(node)
            return x
        if kind in DROPOUT_MODULES:
            if m.training and m.p > 0:
                return masks.apply(self, x, f"{kind.__name__} at {place}",
                                   kind in (nn.AlphaDropout, nn.FeatureAlphaDropout), where)
            self.view(node)
            return x
        if kind in MODULE_ACTS:
            return self.act(node, x, MODULE_ACTS[kind](self.scalar, m, f"{kind.__name__} at "
                                                                        f"{place}"))
        if kind is nn.Linear:
            return self.linear(x, m.weight, m.bias, where)
        if kind in (nn.Conv1d, nn.Conv2d):
            return self.conv(x, m.weight, m.bias, m.stride, m.padding, m.dilation, m.groups,
                             m.padding_mode, where)
        if kind in (nn.BatchNorm1d, nn.BatchNorm2d):
            if m.training or m.running_mean is None:
                return smooth.batch_norm_train(self, x, m.weight, m.bias, m.eps, where,
                                               f"{kind.__name__} at {place}", m.training)
            return self.batch_norm(x, m.running_mean, m.running_var, m.weight, m.bias, m.eps,
                                   where)
        if kind is nn.Flatten:
            self.view(node)
            return tensors.flatten(self.tensor(x, "input"), m.start_dim, m.end_dim)
        if kind in (nn.MaxPool1d, nn.MaxPool2d):
            if m.return_indices:
                raise InputError("return_indices is not supported")
            return self.max_pool(x, 1 if kind is nn.MaxPool1d else 2, m.kernel_size, m.stride,
                                 m.padding, m.dilation, m.ceil_mode, where)
        if kind in (nn.AvgPool1d, nn.AvgPool2d):
            return self.avg_pool(x, 1 if kind is nn.AvgPool1d else 2, m.kernel_size, m.stride,
                                 m.padding, m.ceil_mode, m.count_include_pad,
                                 getattr(m, "divisor_override", None), where)
        if kind in ADAPTIVE_POOLS:
            if getattr(m, "return_indices", False):
                raise InputError("return_indices is not supported")
            d, red = ADAPTIVE_POOLS[kind]
            return self.adaptive(x, d, m.output_size, red, where)
        out = smooth.module_call(self, m, x, where)
        if out is not None:
            return out
        raise InputError(f"unsupported module {kind.__name__} at {place}")

    # -- layers shared by module and functional forms -----------------------------------

    def act(self, node: Any, x: Any, act: acts.Activation) -> Sym:
        return Sym(ops.activation(self.b, self.batched(x), act, self.where(node)), True)

    def linear(self, x: Any, weight: Any, bias: Any, where: str) -> Sym:
        W, bv = self.weights(weight, "weight"), self.weights(bias, "bias")
        if W is None or W.ndim != 2 or (bv is not None and bv.shape != (W.shape[0],)):
            raise InputError("expected a 2-d weight and a 1-d bias")
        return Sym(ops.linear(self.b, self.batched(x), W, bv, where), True)

    def conv(self, x: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any,
             groups: Any, mode: str, where: str) -> Sym:
        shape = tuple(weight.shape) if isinstance(weight, torch.Tensor) else \
            tuple(weight.arr.shape) if isinstance(weight, Sym) else ()
        if len(shape) not in (3, 4):
            raise InputError("expected a 3-d or 4-d weight")
        d, K = len(shape) - 2, shape[2:]
        st, pads, dl = conv_geometry(K, stride, padding, dilation, groups)
        xs = self.batched(x)
        if xs.ndim == d + 2:  # shapes first: no weight is converted for an impossible conv
            ops.conv_output_size(xs.shape[2:], K, pads, dl, st)
        W, bv = self.weights(weight, "weight"), self.weights(bias, "bias")
        if W is None:
            raise InputError("expected a 3-d or 4-d weight")
        if bv is not None and bv.shape != (W.shape[0],):
            raise InputError("expected one bias per output channel")
        return Sym(np.concatenate([ops.conv(self.b, xs[i:i + 1], W, bv, st, pads, dl, groups,
                                            mode, where) for i in range(xs.shape[0])]), True)

    def batch_norm(self, x: Any, mean: Any, var: Any, weight: Any, bias: Any, eps: Any,
                   where: str) -> Sym:
        if mean is None or var is None:
            raise InputError("running statistics are required (eval mode)")
        means, _ = self.stats(mean, "running_mean")
        vars_, dtype = self.stats(var, "running_var")
        if len(means) != len(vars_):
            raise InputError("running_mean and running_var differ in length")
        r = [inv_sqrt(v, float(number(eps, "eps")), dtype) for v in vars_]
        gamma, beta = self.weights(weight, "weight"), self.weights(bias, "bias")
        for t, nm in ((gamma, "weight"), (beta, "bias")):
            if t is not None and t.shape != (len(means),):
                raise InputError(f"{nm} must have one entry per channel")
        arr = self.batched(x)
        if arr.ndim not in (2, 3, 4):
            raise InputError(f"expects a 2-d, 3-d or 4-d input, gets {arr.ndim}-d")
        return Sym(ops.batch_norm(self.b, arr, means, r, None if gamma is None else list(gamma),
                                  None if beta is None else list(beta), where), True)

    def stats(self, t: Any, what: str) -> tuple[list[Fraction], torch.dtype]:
        """A running statistic, exactly, and its dtype."""
        if isinstance(t, torch.Tensor):
            return exact_tensor(t, what), t.dtype
        vals = self.weights(t, what)
        if vals is None or any(v[0] == "param" for v in vals.reshape(-1)):
            raise InputError(f"{what} must be a stored tensor (not a parameter)")
        return [v[1] for v in vals.reshape(-1)], t.dtype or torch.float32

    def pad(self, x: Any, pads: Any, mode: Any, value: Any, where: str) -> Sym:
        if not isinstance(pads, (list, tuple)) or len(pads) % 2 or not all(
                isinstance(p, int) and not isinstance(p, bool) for p in pads):
            raise InputError(f"expected an even number of integers, got {pads!r}")
        if mode not in ("constant", *ops.PAD_MODES[1:]):
            raise InputError(f"unsupported mode {mode!r}")
        if value is not None and mode != "constant":
            raise InputError("a fill value needs mode 'constant'")
        fill = Fraction(0) if value is None else self.scalar(value, "value")
        pairs = [(pads[i], pads[i + 1]) for i in range(0, len(pads), 2)][::-1]
        return Sym(ops.pad(self.batched(x), pairs, mode, fill, where), True)

    def max_pool(self, x: Any, d: int, k: Any, stride: Any, pad: Any, dil: Any, ceil_mode: Any,
                 where: str) -> Sym:
        K = int_tuple(k, d, "kernel_size")
        st = K if stride is None or stride in ([], ()) else int_tuple(stride, d, "stride")
        return Sym(ops.max_pool(self.b, self.batched(x), K, st, int_tuple(pad, d, "padding"),
                                int_tuple(dil, d, "dilation"), bool(ceil_mode), where), True)

    def avg_pool(self, x: Any, d: int, k: Any, stride: Any, pad: Any, ceil_mode: Any,
                 count_include_pad: Any, divisor: Any, where: str) -> Sym:
        K = int_tuple(k, d, "kernel_size")
        st = K if stride is None or stride in ([], ()) else int_tuple(stride, d, "stride")
        if divisor is not None and (not isinstance(divisor, int) or isinstance(divisor, bool)):
            raise InputError("divisor_override must be an integer")
        return Sym(ops.avg_pool(self.b, self.batched(x), K, st, int_tuple(pad, d, "padding"),
                                bool(ceil_mode), bool(count_include_pad), divisor, where), True)

    def adaptive(self, x: Any, d: int, size: Any, kind: str, where: str) -> Sym:
        sizes = [size] * d if isinstance(size, int) or size is None else list(size)
        if len(sizes) != d or not all(s is None or (isinstance(s, int) and not
                                                    isinstance(s, bool)) for s in sizes):
            raise InputError(f"output_size must be {d} integer(s)")
        return Sym(ops.adaptive_pool(self.b, self.batched(x), sizes, kind, where), True)

    # -- call_method / call_function ----------------------------------------------------

    def call_method(self, node: Any, name: str, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        if name in _INPLACE_METHODS:
            self.inplace(node)
            name = name[:-1]
        elif name in _VIEW_METHODS:
            self.view(node)
        x, rest, where = args[0], args[1:], self.where(node)
        if name in ("size", "dim"):
            shape = torch.Size(self.tensor(x, "self").arr.shape)
            if name == "dim":
                return len(shape)
            (d,) = match_args(rest, kwargs, ("dim", 0))
            return shape if not rest and "dim" not in kwargs else shape[d]
        if name in ("view", "reshape"):
            return tensors.reshape(self.tensor(x, "self"), rest)
        if name == "flatten":
            s, e = match_args(rest, kwargs, ("start_dim", 0), ("end_dim", -1))
            return tensors.flatten(self.tensor(x, "self"), s, e)
        if name == "contiguous":
            return x
        if name in METHOD_ACTS and not rest and not kwargs or name in METHOD_FUNCS:
            return self.call_function(node, METHOD_FUNCS.get(name, getattr(torch, name)),
                                      args, kwargs)
        if name in ("add", "sub"):
            other, alpha = match_args(rest, kwargs, ("other", None), ("alpha", 1))
            sign = 1 if name == "add" else -1
            return tensors.add(self.b, self.tensor(x, "self"), self.tensor(other, "other"),
                               sign * self.scalar(alpha, "alpha"), where)
        if name in ("mul", "div"):
            if kwargs.pop("rounding_mode", None) is not None:
                raise InputError("rounding_mode is not supported")
            (other,) = match_args(rest, kwargs, ("other", None))
            fn = tensors.mul if name == "mul" else tensors.div
            return fn(self.b, self.tensor(x, "self"), self.tensor(other, "other"), where)
        if name == "neg" and not rest:
            return tensors.neg(self.b, self.tensor(x, "self"), where)
        out = attention.method_call(self, name, x, rest, kwargs, where)
        if out is not NotImplemented:
            return out
        raise InputError(f"unsupported tensor method .{name}() at {self.place(node)}")

    def call_function(self, node: Any, fn: Any, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
        where = self.where(node)
        if fn in _PY_OPS and not any(isinstance(a, Sym) for a in (*args, *kwargs.values())):
            return fn(*args, **kwargs)  # arithmetic on sizes (x.size(1) * x.size(2))
        if fn is torch.arange:  # positions (torch.arange(0, x.size(1)))
            return tensors.arange(args, kwargs)
        if fn is operator.getitem:
            if isinstance(args[0], Sym):
                return tensors.getitem(args[0], args[1])
            return args[0][args[1]]
        if fn is getattr:
            return tensors.attribute(args[0], args[1], self.place(node))
        if fn in FUNC_ACTS:
            spec = FUNC_ACTS[fn]
            vals = match_args(args[1:], kwargs, *spec.params)
            if spec.inplace or dict(zip([p for p, _ in spec.params], vals)).get("inplace"):
                self.inplace(node)
            return self.act(node, args[0], spec.build(self.scalar, vals, self.describe(node)))
        if fn in (operator.add, torch.add, operator.sub, torch.sub):
            other, alpha = match_args(args[1:], kwargs, ("other", None), ("alpha", 1))
            sign = 1 if fn in (operator.add, torch.add) else -1
            return tensors.add(self.b, self.tensor(args[0], "input"),
                               self.tensor(other, "other"), sign * self.scalar(alpha, "alpha"),
                               where)
        if fn in (operator.mul, torch.mul, operator.truediv, torch.div):
            if kwargs.pop("rounding_mode", None) is not None:
                raise InputError("rounding_mode is not supported")
            (other,) = match_args(args[1:], kwargs, ("other", None))
            op = tensors.mul if fn in (operator.mul, torch.mul) else tensors.div
            return op(self.b, self.tensor(args[0], "input"), self.tensor(other, "other"), where)
        if fn in (operator.neg, torch.neg):
            return tensors.neg(self.b, self.tensor(args[0], "input"), where)
        if fn is operator.pos:
            return args[0]
        if fn is torch.cat:
            ts, dim = match_args(args, kwargs, ("tensors", None), ("dim", 0))
            if not isinstance(ts, (list, tuple)):
                raise InputError("expected a list of tensors")
            return tensors.cat([self.tensor(t, "tensors") for t in ts], dim)
        if fn is torch.flatten:
            self.view(node)
            s, e = match_args(args[1:], kwargs, ("start_dim", 0), ("end_dim", -1))
            return tensors.flatten(self.tensor(args[0], "input"), s, e)
        if fn is torch.reshape:
            self.view(node)
            (shape,) = match_args(args[1:], kwargs, ("shape", None))
            return tensors.reshape(self.tensor(args[0], "input"), (shape,))
        if fn is F.linear:
            x, w, bias = match_args(args, kwargs, ("input", None), ("weight", None), ("bias", None))
            return self.linear(x, w, bias, where)
        if fn in (F.conv1d, F.conv2d):
            x, w, bias, st, pad, dil, g = match_args(
                args, kwargs, ("input", None), ("weight", None), ("bias", None), ("stride", 1),
                ("padding", 0), ("dilation", 1), ("groups", 1))
            return self.conv(x, w, bias, st, pad, dil, g, "zeros", where)
        if fn is F.batch_norm:
            x, mean, var, w, bias, training, _momentum, eps = match_args(
                args, kwargs, ("input", None), ("running_mean", None), ("running_var", None),
                ("weight", None), ("bias", None), ("training", False), ("momentum", 0.1),
                ("eps", 1e-5), optional=("weight",))
            if training:
                return smooth.batch_norm_train(self, x, w, bias, eps, where,
                                               f"batch_norm at {self.place(node)}", True)
            return self.batch_norm(x, mean, var, w, bias, eps, where)
        if fn in _FUNC_DROPOUTS:
            _x, p, training, _inplace = match_args(args, kwargs, ("input", None), ("p", 0.5),
                                                ("training", True), ("inplace", False))
            if training and p > 0:
                return masks.apply(self, args[0], f"{fn.__name__} at {self.place(node)}",
                                   fn in (F.alpha_dropout, F.feature_alpha_dropout), where)
            self.view(node)
            return args[0]
        if fn is F.pad:
            x, pads, mode, value = match_args(args, kwargs, ("input", None), ("pad", None),
                                           ("mode", "constant"), ("value", None))
            return self.pad(x, pads, mode, value, where)
        pc = pool_call(fn, args, kwargs)
        if pc is not None and pc.kind == "max":
            return self.max_pool(pc.x, pc.d, pc.kernel, pc.stride, pc.padding, pc.dilation,
                                 pc.ceil_mode, where)
        if pc is not None and pc.kind == "avg":
            return self.avg_pool(pc.x, pc.d, pc.kernel, pc.stride, pc.padding, pc.ceil_mode,
                                 pc.count_include_pad, pc.divisor, where)
        if pc is not None:
            return self.adaptive(pc.x, pc.d, pc.size, pc.reduce, where)
        out = attention.function_call(self, fn, args, kwargs, where)
        if out is not NotImplemented:
            return out
        raise InputError(f"unsupported operation {op_name(fn, node)} at {self.place(node)}")


class _Wrapped(nn.Module):
    """A container for a model that is itself a torch.nn layer (fx would trace through it)."""

    def __init__(self, name: str, model: nn.Module) -> None:
        super().__init__()
        self.child = name
        self.add_module(name, model)

    def forward(self, x: torch.Tensor) -> Any:
        return getattr(self, self.child)(x)


def from_module(model: nn.Module, example_input: torch.Tensor, name: str | None = None,
                whole_batch: bool = False, masks: list[torch.Tensor] | None = None) -> Network:
    """The IR network of ``model`` on one example (shape (1, ...)), as a function of its
    trainable parameters (``named_parameters()`` with ``requires_grad``); with
    ``whole_batch``, on the whole batch (shape (B, ...)) as one network (BatchNorm in
    training mode normalises with the batch's statistics; ``masks``: the dropout masks of
    the audited pass, in call order).  InputError (one line) for what is not supported."""
    if not isinstance(model, nn.Module):
        raise InputError(f"expected a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(example_input, torch.Tensor):
        raise InputError(f"example input: expected a tensor, got {type(example_input).__name__}")
    check_runs_as_traced(model)
    token = ops.WHOLE_BATCH.set(whole_batch)
    try:
        return _Importer(model, example_input, name or type(model).__name__, whole_batch,
                         masks).run()
    finally:
        ops.WHOLE_BATCH.reset(token)
