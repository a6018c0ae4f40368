"""Which proved theorem covers a PyTorch model (:func:`adcorrect.nets.theorems.coverage`)
from its ``torch.fx`` graph, module types and parameters alone: no IR, no neuron objects
(for models above the exact import limit, whose audit runs the tensor filter only).

The graph is walked as :mod:`adcorrect.torchfx.importer` walks it, but each tensor is an
array of *forms* (:mod:`.tcovform`): per entry, what its neuron will be (bias parameter,
terms, class nodes read, parameter groups).  A layer costs array operations and a loop
over distinct forms (about one per channel): a ResNet-18 in well under a second.  The
answer is the IR's (``tests/audit/test_tcoverage.py`` compares them on random models);
where the graph has an op whose neuron structure is not modelled here (functional
weights, getitem on tensors, broadcasting sums, a recurrence, ...), there is no answer
(None) and the audit says the structure was not analysed.
"""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..nets.activations import Choice
from ..nets.theorems import Coverage, theorem_for
from ..torchfx.act_table import FUNC_ACTS, METHOD_ACTS, METHOD_FUNCS, MODULE_ACTS
from ..torchfx.fxargs import ADAPTIVE_POOLS, conv_geometry, int_tuple, match_args, pool_call
from ..torchfx.importer import DROPOUT_MODULES
from ..torchfx.values import inv_sqrt, kernel_scalar
from .tcovform import INPUT, MAX_LABELS, Form, NotModelled, State, const_form, gid_array
from .tcovgate import product, smooth_function, smooth_method, smooth_module
from .tcovops import (
    BN,
    T,
    activation,
    adaptive_axes,
    avg_axes,
    avg_pool,
    batch_norm,
    cat,
    conv,
    lincomb_map,
    linear,
    max_axes,
    max_pool,
    share,
)

__all__ = ["Facts", "NotModelled", "graph_coverage", "graph_facts", "structure_facts"]

_VIEWS = {"view", "reshape", "flatten", "contiguous"}
_INPLACE = {"relu_", "abs_", "add_", "sub_", "mul_", "div_", "neg_"}
_PY = (operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
       operator.mod, operator.neg, operator.pos, operator.getitem)


@dataclass(frozen=True)
class Facts:
    """The structure of the single-example network, as :func:`coverage` reads it; labels
    are the IR's, of the first :data:`MAX_LABELS` neurons."""

    bias_network: bool
    ordered: bool
    lacking: tuple[str, ...]
    lacking_count: int
    classes: int
    theta_uniform: bool
    dense: bool
    no_exclusive: tuple[str, ...]  # kinked neurons without a bias parameter of their own
    smooth: bool = False  # some smooth neuron: the smooth-pre-activation theorems apply

    def coverage(self, batch: int) -> Coverage:
        """The coverage at batch size ``batch``."""
        tied = self.lacking_count == 0 and self.ordered
        thm, why = theorem_for(self.bias_network, tied, self.lacking_count, self.classes,
                               self.theta_uniform, self.dense, batch)
        return Coverage(self.bias_network, tied, self.ordered, self.lacking, self.classes,
                        self.theta_uniform, self.dense, thm, why, self.lacking_count)


def graph_coverage(gm: torch.fx.GraphModule, model: nn.Module, batch: int,
                   choice: Choice = "pytorch", shape: tuple[int, ...] | None = None
                   ) -> Coverage | None:
    """``coverage(from_module(model, x[:1]), batch, choice)`` from the traced graph, for
    an example of shape ``shape`` (with its batch axis of size 1); None where the graph
    has an op whose structure is not modelled."""
    facts = graph_facts(gm, model, shape or (), choice)
    return None if facts is None else facts.coverage(batch)


def graph_facts(gm: torch.fx.GraphModule, model: nn.Module, shape: tuple[int, ...],
                choice: Choice = "pytorch") -> Facts | None:
    """:func:`structure_facts`, or None where it raises (any failure: no answer)."""
    try:
        return structure_facts(gm, model, shape, choice)
    except Exception:  # noqa: BLE001  (the audit goes on without a theorem)
        return None


def structure_facts(gm: torch.fx.GraphModule, model: nn.Module, shape: tuple[int, ...],
                    choice: Choice = "pytorch") -> Facts:
    """The structural facts; :class:`NotModelled` (with the reason) where there are none."""
    if len(shape) < 1 or shape[0] != 1:
        raise NotModelled("an example shape (1, ...) is needed")
    return _Walk(gm, model, tuple(shape), choice).run()


class _Walk:
    """One walk over the graph (see the module docstring)."""

    def __init__(self, gm: torch.fx.GraphModule, model: nn.Module, shape: tuple[int, ...],
                 choice: Choice) -> None:
        self.gm, self.shape = gm, shape
        params = [p for _, p in model.named_parameters() if p.requires_grad]
        self.pidx = {id(p): i for i, p in enumerate(params)}
        self.dtype = next((p.dtype for _, p in model.named_parameters()
                           if p.is_floating_point()), torch.float32)
        wheres: dict[str, int] = defaultdict(int)
        for n in gm.graph.nodes:
            if n.op == "call_module":
                wheres[str(n.target)] += 1
        self.st = State(len(params), choice, {w for w, k in wheres.items() if k > 1})
        self.env: dict[Any, Any] = {}
        self.alias: dict[Any, Any] = {}
        self.roles: dict[int, set[str]] = defaultdict(set)

    def run(self) -> Facts:
        for node in self.gm.graph.nodes:
            if node.op == "output":
                res = torch.fx.node.map_arg(node.args[0], lambda n: self.env[n])
                if not isinstance(res, T):
                    raise NotModelled("the output is not one tensor")
                self.st.materialize(res.F, res.O)
                return self._facts()
            self.node = node
            v = self._eval(node)
            if isinstance(v, T) and len(node.users) > 1:
                v = share(self.st, v)
            self.env[node] = v
        raise NotModelled("no output")

    # -- the answer ---------------------------------------------------------------------

    def _facts(self) -> Facts:
        st = self.st
        both = [t for t, roles in self.roles.items() if len(roles) > 1]
        if both:
            raise NotModelled("a parameter tensor that is both a bias and a weight")
        lacking = st.lacking
        bias_network = lacking == 0 and all(st.occ[k] == 1 for k in st.kbias)
        theta_uniform = st.own_uniform and all(len(s) <= 1 for s in st.kbias.values())
        dense = lacking == 0 and all(
            f.wall and all(st.occ[g] == 1 for g in f.groups) for f in st.kforms)
        if not _acyclic(st.edges):
            raise NotModelled("a cycle in the coarse class graph (a recurrence)")
        own = (lambda f: not f.pending or f.bias is None)
        return Facts(bias_network, True, tuple(_labels(st, own)), lacking,
                     len(st.kbias) + lacking, theta_uniform, dense,
                     tuple(_labels(st, lambda f: own(f) or st.occ[f.bias] != 1)), st.smooth)

    # -- nodes ----------------------------------------------------------------------------

    def _eval(self, node: Any) -> Any:
        if node.op == "placeholder":
            if any(isinstance(v, T) for v in self.env.values()):
                if node.args:
                    return node.args[0]
                raise NotModelled("several inputs")
            f = self.st.intern(Form(node=INPUT, vid=self.st.vid()))
            return T(np.broadcast_to(np.array(f), self.shape), -1, True)
        if node.op == "get_attr":
            raise NotModelled("a tensor read from an attribute")
        args = torch.fx.node.map_arg(node.args, lambda n: self.env[n])
        kwargs = dict(torch.fx.node.map_arg(node.kwargs, lambda n: self.env[n]))
        if node.op == "call_module":
            m = self.gm.get_submodule(node.target)
            if len(args) != 1 or kwargs or not isinstance(args[0], T):
                raise NotModelled("a module called with several arguments")
            if getattr(m, "inplace", False):
                self._inplace(node)
            return self._module(m, args[0], str(node.target))
        if node.op == "call_method":
            return self._method(node, str(node.target), args, kwargs)
        if node.op == "call_function":
            return self._function(node, node.target, args, kwargs)
        raise NotModelled(f"fx node {node.op}")

    def _inplace(self, node: Any) -> None:
        """An in-place op is read out of place when nothing else reads what it modifies."""
        child, n = node, node.args[0] if node.args else None
        while isinstance(n, torch.fx.Node):
            if any(u is not child for u in n.users):
                raise NotModelled("an in-place op on a tensor read elsewhere")
            if n not in self.alias:
                break
            child, n = n, self.alias[n]
        self._view(node)  # its result is the modified tensor

    def _view(self, node: Any) -> None:
        if node.args and isinstance(node.args[0], torch.fx.Node):
            self.alias[node] = node.args[0]

    def _module(self, m: nn.Module, x: T, where: str) -> Any:
        kind = type(m)
        if kind is nn.Identity or kind in DROPOUT_MODULES:
            if kind is not nn.Identity and m.training and m.p > 0:
                raise NotModelled("dropout in training mode")
            self._view(self.node)
            return x
        if kind in MODULE_ACTS:
            act = MODULE_ACTS[kind](self._kernel, m, kind.__name__)
            return activation(self.st, x, act, where)
        if (out := smooth_module(self.st, m, x, where, self._kernel)) is not None:
            return out
        if kind is nn.Linear:
            return self._linear(x, m.weight, m.bias, where)
        if kind in (nn.Conv1d, nn.Conv2d):
            K = tuple(m.weight.shape[2:])
            geo = conv_geometry(K, m.stride, m.padding, m.dilation, m.groups)
            return conv(self.st, x, self._coef(m.weight, "weight"), self._coef(m.bias, "bias"),
                        tuple(m.weight.shape), *geo, m.groups, m.padding_mode, where)
        if kind in (nn.BatchNorm1d, nn.BatchNorm2d):
            if m.training or m.running_mean is None or m.running_var is None:
                raise NotModelled("batch norm in training mode")
            return batch_norm(self.st, x, self._bn(m), where)
        if kind is nn.Flatten:
            self._view(self.node)
            return _flatten(x, m.start_dim, m.end_dim)
        if kind in (nn.MaxPool1d, nn.MaxPool2d):
            d = 1 if kind is nn.MaxPool1d else 2
            if m.return_indices:
                raise NotModelled("return_indices")
            return self._max(x, d, m.kernel_size, m.stride, m.padding, m.dilation,
                             m.ceil_mode, where)
        if kind in (nn.AvgPool1d, nn.AvgPool2d):
            d = 1 if kind is nn.AvgPool1d else 2
            return self._avg(x, d, m.kernel_size, m.stride, m.padding, m.ceil_mode,
                             m.count_include_pad, getattr(m, "divisor_override", None), where)
        if kind in ADAPTIVE_POOLS:
            if getattr(m, "return_indices", False):
                raise NotModelled("return_indices")
            d, red = ADAPTIVE_POOLS[kind]
            return self._adaptive(x, d, m.output_size, red, where)
        raise NotModelled(f"module {kind.__name__}")

    def _method(self, node: Any, name: str, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
        if name in _INPLACE:
            self._inplace(node)
            name = name[:-1]
        elif name in _VIEWS:
            self._view(node)
        x, rest = args[0], args[1:]
        if not isinstance(x, T):
            raise NotModelled(f"method .{name}() of a non-tensor")
        if name == "size":
            (d,) = match_args(rest, kwargs, ("dim", None))
            return torch.Size(x.shape) if d is None else x.shape[d]
        if name == "dim":
            return len(x.shape)
        if name in ("view", "reshape"):
            shape = rest[0] if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else rest
            return _reshape(x, shape)
        if name == "flatten":
            s, e = match_args(rest, kwargs, ("start_dim", 0), ("end_dim", -1))
            return _flatten(x, s, e)
        if name == "contiguous":
            return x
        if name in ("transpose", "permute", "chunk", "split"):
            return _moved(x, name, rest, kwargs)
        if name == "mean":
            return self._mean(x, rest, kwargs, self._where(node))
        if name in METHOD_ACTS and not rest and not kwargs:
            return activation(self.st, x, METHOD_ACTS[name](), self._where(node))
        if name in METHOD_FUNCS:
            return self._function(node, METHOD_FUNCS[name], (x, *rest), kwargs)
        if (out := smooth_method(self.st, name, x, rest, kwargs, self._where(node))) is not None:
            return out
        if name in ("add", "sub"):
            other, alpha = match_args(rest, kwargs, ("other", None), ("alpha", 1))
            return self._add(node, x, other, alpha, name == "sub")
        if name in ("mul", "div") and not kwargs and len(rest) == 1:
            return self._scale(node, x, rest[0], name == "div")
        if name == "neg" and not rest:
            return lincomb_map(self.st, [(Fraction(-1), x)], self._where(node))
        raise NotModelled(f"method .{name}()")

    def _function(self, node: Any, fn: Any, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> Any:
        tensors = [a for a in (*args, *kwargs.values()) if isinstance(a, T)]
        if fn is getattr and isinstance(args[0], T) and args[1] == "shape":
            return torch.Size(args[0].shape)
        if fn is operator.getitem and isinstance(args[0], tuple):  # a chunk or split
            return args[0][args[1]]
        if fn is torch.mean and isinstance(args[0], T):
            return self._mean(args[0], args[1:], kwargs, self._where(node))
        if fn in (torch.transpose, torch.permute, torch.chunk, torch.split):
            return _moved(_tensor(args[0]), fn.__name__, args[1:], kwargs)
        if fn in _PY and not tensors and not any(
                isinstance(a, (list, tuple)) and any(isinstance(b, T) for b in a)
                for a in args):
            return fn(*args, **kwargs)
        where = self._where(node)
        if fn in FUNC_ACTS:
            spec = FUNC_ACTS[fn]
            vals = match_args(args[1:], kwargs, *spec.params)
            if spec.inplace or dict(zip([p for p, _ in spec.params], vals)).get("inplace"):
                self._inplace(node)
            if not isinstance(args[0], T):
                raise NotModelled("an activation of a non-tensor")
            return activation(self.st, args[0], spec.build(self._kernel, vals, "act"), where)
        if (out := smooth_function(self.st, fn, args, kwargs, where, self._kernel)) is not None:
            return out
        if fn in (operator.add, torch.add, operator.sub, torch.sub):
            other, alpha = match_args(args[1:], kwargs, ("other", None), ("alpha", 1))
            return self._add(node, args[0], other, alpha, fn in (operator.sub, torch.sub))
        if fn in (operator.mul, torch.mul, operator.truediv, torch.div) and len(args) == 2 \
                and not kwargs:
            return self._scale(node, *args, fn in (operator.truediv, torch.div))
        if fn in (operator.neg, torch.neg) and isinstance(args[0], T):
            return lincomb_map(self.st, [(Fraction(-1), args[0])], where)
        if fn is operator.pos and isinstance(args[0], T):
            return args[0]
        if fn is torch.flatten:
            self._view(node)
            s, e = match_args(args[1:], kwargs, ("start_dim", 0), ("end_dim", -1))
            return _flatten(_tensor(args[0]), s, e)
        if fn is torch.reshape:
            self._view(node)
            (shape,) = match_args(args[1:], kwargs, ("shape", None))
            return _reshape(_tensor(args[0]), shape)
        if fn is torch.cat:
            ts, dim = match_args(args, kwargs, ("tensors", None), ("dim", 0))
            nodes = node.args[0] if node.args else node.kwargs.get("tensors")
            if not isinstance(ts, (list, tuple)) or not ts or \
                    not all(isinstance(t, T) for t in ts) or len(set(nodes)) != len(nodes):
                raise NotModelled("torch.cat of these tensors")
            n = len(ts[0].shape)
            if not isinstance(dim, int) or not -n <= dim < n or dim % n == 0:
                raise NotModelled("torch.cat along the batch axis")
            return cat(self.st, ts, dim % n)
        if fn in (F.dropout, F.dropout1d, F.dropout2d):
            _x, p, training, _ip = match_args(args, kwargs, ("input", None), ("p", 0.5),
                                              ("training", True), ("inplace", False))
            if training and p > 0:
                raise NotModelled("dropout in training mode")
            self._view(node)
            return _tensor(args[0])
        pc = pool_call(fn, args, kwargs)
        if pc is not None and pc.kind == "max":
            return self._max(_tensor(pc.x), pc.d, pc.kernel, pc.stride, pc.padding,
                             pc.dilation, pc.ceil_mode, where)
        if pc is not None and pc.kind == "avg":
            return self._avg(_tensor(pc.x), pc.d, pc.kernel, pc.stride, pc.padding,
                             pc.ceil_mode, pc.count_include_pad, pc.divisor, where)
        if pc is not None:
            return self._adaptive(_tensor(pc.x), pc.d, pc.size, pc.reduce, where)
        raise NotModelled(f"function {getattr(fn, '__name__', fn)}")

    # -- layers ---------------------------------------------------------------------------

    @staticmethod
    def _where(node: Any) -> str:
        return str(node.target) if node.op == "call_module" else node.name

    def _kernel(self, x: Any, what: str) -> Fraction:
        return kernel_scalar(x, self.dtype, what)

    def _coef(self, t: torch.Tensor | None, role: str) -> tuple[str, object]:
        """A weight-like tensor: a trainable parameter (its index), else its values."""
        if t is None:
            return ("none", None)
        if id(t) in self.pidx:
            i = self.pidx[id(t)]
            self.roles[i].add(role)
            return ("param", i)
        v = t.detach().to(torch.float64).numpy()
        if not np.isfinite(v).all():
            raise NotModelled("a constant that is not finite")
        return ("const", v)

    def _linear(self, x: T, w: torch.Tensor, b: torch.Tensor | None, where: str) -> T:
        if w.dim() != 2:
            raise NotModelled("linear weight shape")
        return linear(self.st, x, self._coef(w, "weight"), self._coef(b, "bias"),
                      (int(w.shape[0]), int(w.shape[1])), where)

    def _bn(self, m: nn.Module) -> BN:
        mean = m.running_mean.detach()
        var = m.running_var.detach()
        eps = float(m.eps)
        r_approx = 1.0 / torch.sqrt(var.to(torch.float64) + eps)
        near = (r_approx - 1).abs() < 1e-3
        exact: dict[int, Fraction] = {}

        def r_exact(c: int) -> Fraction:
            if c not in exact:
                exact[c] = inv_sqrt(Fraction(float(var[c])), eps, var.dtype)
            return exact[c]

        r_one = np.array([bool(near[c]) and r_exact(c) == 1 for c in range(len(var))],
                         dtype=bool)
        return BN(r_one, (mean == 0).numpy(), r_exact, lambda c: Fraction(float(mean[c])),
                  self._coef(m.weight, "weight"), self._coef(m.bias, "bias"))

    def _max(self, x: T, d: int, k: Any, s: Any, pad: Any, dil: Any, ceil: Any,
             where: str) -> T:
        K = int_tuple(k, d, "kernel_size")
        S = K if s is None or s in ([], ()) else int_tuple(s, d, "stride")
        axes = max_axes(x.shape[-d:], K, S, int_tuple(pad, d, "padding"),
                        int_tuple(dil, d, "dilation"), bool(ceil))
        return max_pool(self.st, x, axes, where)

    def _avg(self, x: T, d: int, k: Any, s: Any, pad: Any, ceil: Any, cip: Any, div: Any,
             where: str) -> T:
        K = int_tuple(k, d, "kernel_size")
        S = K if s is None or s in ([], ()) else int_tuple(s, d, "stride")
        axes, divs = avg_axes(x.shape[-d:], K, S, int_tuple(pad, d, "padding"), bool(ceil),
                              bool(cip), div)
        return avg_pool(self.st, x, axes, divs, where)

    def _adaptive(self, x: T, d: int, size: Any, red: str, where: str) -> T:
        sizes = [size] * d if isinstance(size, int) or size is None else list(size)
        S = x.shape[-d:]
        O = [n if o is None else o for o, n in zip(sizes, S)]
        if len(O) != d or not all(isinstance(o, int) and o > 0 for o in O):
            raise NotModelled("adaptive pool size")
        axes, divs = adaptive_axes(S, O)
        if red == "max":
            return max_pool(self.st, x, axes, where)
        return avg_pool(self.st, x, axes, divs, where)

    def _mean(self, x: T, rest: tuple[Any, ...], kwargs: dict[str, Any], where: str) -> T:
        """``x.mean(dims, keepdim)`` over every axis after the first two (a global average
        pool written as a mean; the IR's neurons ``where[c,0,...]``)."""
        dim, keep, dtype = match_args(rest, kwargs, ("dim", None), ("keepdim", False),
                                      ("dtype", None))
        n = len(x.shape)
        dims = [dim] if isinstance(dim, int) else list(dim or ())
        if dtype is not None or n < 3 or sorted(d % n for d in dims) != list(range(2, n)):
            raise NotModelled("a mean over other axes than the spatial ones")
        out = self._adaptive(_reshape(x, (*x.shape[:2], 1, math.prod(x.shape[2:]))), 2,
                             (1, 1), "avg", where)
        return _reshape(out, (*x.shape[:2], *([1] * (n - 2) if keep else [])))

    def _number(self, v: Any) -> Fraction | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        return self._kernel(v, "a number")

    def _operand(self, v: Any, shape: tuple[int, ...]) -> T:
        if isinstance(v, T):
            return v
        c = self._number(v)
        if c is None:
            raise NotModelled("an operand that is neither a tensor nor a number")
        return T(np.broadcast_to(np.array(self.st.intern(const_form(c))), shape), -1, True)

    def _add(self, node: Any, a: Any, b: Any, alpha: Any, sub: bool) -> T:
        ts = [t for t in (a, b) if isinstance(t, T)]
        if not ts:
            raise NotModelled("a sum without tensors")
        if len(ts) == 2 and (a.shape != b.shape or node.args[0] is node.args[1]):
            raise NotModelled("a sum of tensors of different shapes or of one tensor")
        al = self._number(alpha)
        if al is None:
            raise NotModelled("alpha")
        shape = ts[0].shape
        c = -al if sub else al
        return lincomb_map(self.st, [(Fraction(1), self._operand(a, shape)),
                                     (c, self._operand(b, shape))], self._where(node))

    def _scale(self, node: Any, a: Any, b: Any, div: bool) -> T:
        if isinstance(a, T) and isinstance(b, T):  # a gate: product neurons
            return product(self.st, a, b, self._where(node))
        x, c = (a, self._number(b)) if isinstance(a, T) else (b, self._number(a))
        if not isinstance(x, T) or c is None or (div and not isinstance(a, T)):
            raise NotModelled("a product that is not a tensor times a number")
        if div:
            if c == 0:
                raise NotModelled("division by zero")
            c = 1 / c
        return lincomb_map(self.st, [(c, x)], self._where(node))


def _tensor(x: Any) -> T:
    if not isinstance(x, T):
        raise NotModelled("expected a tensor")
    return x


def _moved(x: T, name: str, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``transpose``/``permute`` (a T) and ``chunk``/``split`` (a tuple of T) that keep
    the batch axis first: the forms and global ids moved as the entries are."""
    n = len(x.shape)
    if name == "permute":
        order = [*(rest[0] if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else
                   rest or kwargs.get("dims", ()))]
        ok = bool(order) and isinstance(order[0], int) and order[0] % n == 0
    else:  # the axes a transpose swaps, the axis a chunk or split cuts
        dims = [*rest, *(kwargs.get(k) for k in ("dim0", "dim1"))][:2] \
            if name == "transpose" else [rest[1] if len(rest) > 1 else kwargs.get("dim", 0)]
        ok = all(isinstance(d, int) and d % n for d in dims)
    if not ok:
        raise NotModelled(f"{name} of the batch axis")
    try:
        F2, O2 = (getattr(torch.from_numpy(np.array(a)), name)(*rest, **kwargs)  # writable
                  for a in (x.F, gid_array(x.O, x.shape)))
    except (TypeError, RuntimeError, IndexError) as e:
        raise NotModelled(f"{name}: {e}") from None
    if name in ("transpose", "permute"):
        return T(F2.numpy(), O2.numpy(), x.disjoint)
    return tuple(T(a.numpy(), b.numpy(), x.disjoint) for a, b in zip(F2, O2))


def _flatten(x: T, start: int, end: int) -> T:
    n = len(x.shape)
    lo, hi = start % n, end % n
    if lo == 0 and hi > 0:
        raise NotModelled("a flatten of the batch axis")
    if lo >= hi:
        return x
    shape = (*x.shape[:lo], math.prod(x.shape[lo:hi + 1]), *x.shape[hi + 1:])
    return _reshape(x, shape)


def _reshape(x: T, shape: Any) -> T:
    if isinstance(shape, (torch.Size, list)):
        shape = tuple(shape)
    if not isinstance(shape, tuple) or not all(isinstance(v, int) for v in shape):
        raise NotModelled("a reshape to a computed shape")
    F2 = x.F.reshape(shape)
    if F2.ndim < 1 or F2.shape[0] != 1:
        raise NotModelled("a reshape across the batch axis")
    O = x.O if isinstance(x.O, int) else x.O.reshape(shape)
    return T(F2, O, x.disjoint)


def _acyclic(edges: set[tuple[int, int]]) -> bool:
    outs: dict[int, list[int]] = defaultdict(list)
    indeg: dict[int, int] = defaultdict(int)
    for a, b in edges:
        outs[a].append(b)
        indeg[b] += 1
        indeg.setdefault(a, 0)
    todo = [k for k, d in indeg.items() if d == 0]
    seen = 0
    while todo:
        a = todo.pop()
        seen += 1
        for b in outs[a]:
            indeg[b] -= 1
            if indeg[b] == 0:
                todo.append(b)
    return seen == len(indeg)


def _labels(st: State, pred: Any) -> list[str]:
    """The IR's labels of the first kinked neurons that ``pred`` (on the form of a fused
    entry; sources and max-pool ties always count) selects, in the IR's order."""
    out: list[str] = []
    lut = np.fromiter((pred(f) for f in st.forms), dtype=bool, count=len(st.forms))
    for kind, seq, data in st.blocks:
        if len(out) >= MAX_LABELS:
            break
        if kind == "act":
            F, O, where, shape = data  # type: ignore[misc]
            F = F.reshape(-1)
            gids = gid_array(O, shape).reshape(-1)
            for p in np.flatnonzero(lut[F])[:MAX_LABELS - len(out)]:
                f = st.forms[int(F[p])]
                if f.pending:
                    if gids[p] < 0:
                        raise NotModelled("an entry without a name")
                    w, suffix, idx = st.entry_name(int(gids[p]))
                else:
                    w, suffix = where, ""
                    idx = tuple(int(i) for i in np.unravel_index(int(p), shape))
                out.append(st.label(w, suffix, idx, seq))
        else:
            where, shape, sizes = data  # type: ignore[misc]
            if int(sizes.max()) < 2:
                continue
            d = sizes.ndim
            for idx in np.ndindex(*shape):
                n = int(sizes[idx[len(shape) - d:]])
                for k in range(2, n + 1):
                    out.append(st.label(where, f"/tie{k}", idx, seq))
                if len(out) >= MAX_LABELS:
                    break
    return out[:MAX_LABELS]
