"""The tensor filter's interpreter: the model's ``torch.fx`` graph run node by node on
certified tensors (``CT``, :mod:`.tkernels`), classifying every activation copy and
max-pool window (kinked, uncertain, dead, decided) and carrying, on request, structural
ids, the double-double limb (:mod:`.tdd`) and one-sided tangents (:mod:`.ttangent`).
:mod:`.tfilter` chooses the passes; the rules of each op are here."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import InputError
from ..nets.activations import Activation
from ..torchfx.act_table import FUNC_ACTS, METHOD_ACTS, METHOD_FUNCS, MODULE_ACTS
from ..torchfx.fxargs import ADAPTIVE_POOLS, int_tuple, pool_call
from ..torchfx.importer import DROPOUT_MODULES
from ..torchfx.layers import CONSTANT_PADS, unflattened, upsample_kwargs
from .certified import F64, quantum
from .floatact import ActTable, act_table
from .kernels import certified_add, certified_scale
from .tattn import attention_call, divided, softmax
from .tconv import CONVS, TRANSPOSED, conv_call, linear_call
from .tdd import DD
from .tdd import add as dd_add
from .tdd import exact as dd_exact
from .tdd import global_mean as dd_global_mean
from .tdd import pin as dd_pin
from .tdd import scale as dd_scale
from .tfound import TIE_KINDS, ActCall, Filtered, PoolTies
from .tgates import FUNCTIONS as SMOOTH_FUNCTIONS
from .tgates import METHODS as SMOOTH_METHODS
from .tgates import MODULES as SMOOTH_MODULES
from .tgates import (
    call_args,
    call_values,
    identity_call,
    product_call,
    shifted,
    smooth_call,
)
from .tids import canon_const, ids_max, ids_pair
from .tkernels import (
    CT,
    Unsupported,
    activation,
    avg,
    below_maxima,
    exact_tensor,
    max_pool,
    windows,
)
from .tlimb import act_limb
from .tmoves import (
    VIEW_FUNCTIONS,
    axes_mean,
    embedding,
    flattened,
    indexed,
    method_move,
    moved_entries,
    pieces,
    reshaped,
    scale_entries,
    upsample,
    view_method,
)
from .tmoves import pad as t_pad
from .tnorm import layer_norm_fn, norm_call
from .ttangent import NoCertificate, affine_along
from .ttangent import activation as t_activation
from .ttangent import add as t_add
from .ttangent import avg as t_avg
from .ttangent import max_windows as t_max_windows
from .ttangent import scale as t_scale
from .ttangent import slopes as t_slopes
from .ttangent import zero as t_zero

# -- the interpreter ----------------------------------------------------------------------

_ADAPTIVE_AVG = {k: d for k, (d, kind) in ADAPTIVE_POOLS.items() if kind == "avg"}


def _fresh(res: Any) -> Any:
    """A kernel's result with new CT shells (the interpreter sets their ids, names and
    tangents; the tensors are shared and never changed in place)."""
    if isinstance(res, CT):
        return CT(res.V, res.R, res.Q, res.C)
    if isinstance(res, tuple):
        return tuple(_fresh(r) for r in res)
    return res


def _tuple(v: Any, d: int) -> list[int]:
    return int_tuple(v, d, "geometry")


class Interp(torch.fx.Interpreter):
    """One certified forward pass of the traced model."""

    def __init__(self, gm: torch.fx.GraphModule, scalar: Callable[[Any], Fraction],
                 tables: dict[Any, ActTable], id_pools: int = 0,
                 precise: bool = False, dirs: dict[int, torch.Tensor] | None = None,
                 memo: dict[tuple[str, int], Any] | None = None,
                 masks: list[torch.Tensor] | None = None,
                 shared: dict[Any, Any] | None = None, sign: int = 1) -> None:
        super().__init__(gm)
        self.shared, self.sign = shared, sign  # the passes along d and -d share terms
        # dropout in training mode: the audited pass's masks, in call order
        self.masks = None if masks is None else list(masks)
        # kernel results of a value pass (recorded there), replayed by the tangent passes
        # over the same batch: their values, radii and classes are the recorded ones
        self.memo, self.replay = memo, memo is not None and dirs is not None
        self.kidx = 0
        self.dirs = dirs  # the tangent pass: direction entries of trainable parameters
        self.with_ids = id_pools > 0
        self.id_pools = id_pools  # structural ids until this max-pool call (they serve
        self.npool = 0  # only the pools' ties), then none
        self.precise = precise
        self.scalar = scalar
        self.tables = tables
        self.found = Filtered(torch.zeros(0))
        self.pos = 0
        self.seq = 0

    # values ---------------------------------------------------------------------------

    def run_node(self, n: torch.fx.Node) -> Any:
        self.node = n
        self.kidx = 0
        if n.op == "placeholder":
            return super().run_node(n)
        if n.op == "get_attr":
            obj = self.fetch_attr(str(n.target))
            if isinstance(obj, torch.Tensor):
                ct = self.limb(exact_tensor(obj, not obj.requires_grad))
                if self.dirs is not None:
                    d = self.dirs.get(id(obj))
                    ct.T = t_zero(ct.V) if d is None else (d.clone(), torch.zeros_like(d))
                return ct
            return obj
        out = super().run_node(n)
        if self.dirs is not None and isinstance(out, CT):
            if out.T is None:
                raise NoCertificate(f"no tangent rule for {n.op} {n.target}")
            if bool(out.C.any()):  # locally constant: tangent 0
                out.T = (out.T[0].masked_fill(out.C, 0.0), out.T[1].masked_fill(out.C, 0.0))
        if isinstance(out, CT) and self.npool >= self.id_pools:
            out.I = None
        if isinstance(out, CT) and out.name is not None and len(n.users) > 1:
            out = CT(out.V, out.R, out.Q, out.C, I=out.I, D=out.D, T=out.T)  # read twice
        if isinstance(out, CT) and out.D is not None:
            out.D = dd_pin(out.D, out.V, out.R == 0)
        return out

    def kernel(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` (a kernel: values, radii, classes), through the memo if any."""
        if self.memo is None:
            return fn(*args)
        key = (self.node.name, self.kidx)
        self.kidx += 1
        if not self.replay:
            self.memo[key] = fn(*args)
        elif key not in self.memo:
            raise Unsupported("a kernel call the value pass did not make")
        return _fresh(self.memo[key])

    def limb(self, x: CT) -> CT:
        """An exact tensor with its double-double limb (in the precise pass)."""
        if self.precise:
            x.D = dd_exact(x.V)
        return x

    def named(self, x: CT) -> CT:
        """x as an affine result of this node (see ``CT.name``)."""
        x.name = (self.where(), tuple(x.V.shape[1:]))
        return x

    def inplace_ok(self, inplace: bool) -> None:
        """An in-place activation is read out of place: nothing else may read its input."""
        src = self.node.args[0] if self.node.args else None
        if inplace and isinstance(src, torch.fx.Node) and len(src.users) > 1:
            raise Unsupported("an in-place op on a tensor read elsewhere")

    def placeholder(self, target: Any, args: Any, kwargs: Any) -> Any:
        v = super().placeholder(target, args, kwargs)
        if isinstance(v, torch.Tensor):
            ct = self.limb(exact_tensor(v, True))
            if self.dirs is not None:
                ct.T = t_zero(ct.V)
            if not self.with_ids:
                return ct
            ct.I = torch.zeros(ct.V.shape, dtype=torch.int64)
            return canon_const(ct)  # inputs are constants: one id per value
        return v

    def where(self) -> str:
        n = self.node
        return str(n.target) if n.op == "call_module" else n.name

    def act(self, key: Any, make: Callable[[], Activation], x: CT) -> CT:
        if not isinstance(x, CT):
            raise Unsupported("an activation of a non-tensor")
        tab = self.tables.get((self.pos, key))
        if tab is None:
            tab = self.tables[(self.pos, key)] = act_table(make())
        self.pos += 1
        out, kink, unc = self.kernel(activation, tab, x)
        if x.D is not None:
            unc = act_limb(tab, x, out, unc)
        if self.dirs is not None:
            if x.T is None or x.D is not None or bool((unc & ~x.C).any()):
                raise NoCertificate("an uncertain copy")
            out.T = t_activation(tab, x.V, x.R, kink, x.C, x.T, lambda: t_slopes(
                self.shared, ("slopes", self.pos), tab, x.V, x.R))
        out.I = x.I  # the same function of the same input
        canon_const(out)
        B = x.V.shape[0]
        flat = (lambda t: t.reshape(B, -1))
        c = flat(x.C)
        self.seq += 1
        if x.name is not None:
            where, shape = x.name
        else:
            where, shape = self.where(), tuple(x.V.shape[1:])
        self.found.calls.append(ActCall(self.seq, where, shape, tab.act,
                                        flat(kink) & ~c, flat(kink) & c, flat(unc) & ~c,
                                        flat(x.V)))
        out.A = (len(self.found.calls) - 1, self.node)
        return out

    def smooth(self, spec: Any, x: Any) -> CT:
        """A smooth activation (:mod:`.tgates`): no activation call (it has no kink)."""
        return smooth_call(self, spec, x)

    def pool_max(self, x: CT, d: int, k: Any, st: Any, pad: Any, dl: Any, ceil: bool) -> CT:
        K = _tuple(k, d)
        S = K if st is None or st in ([], ()) else _tuple(st, d)
        P, D = _tuple(pad, d), _tuple(dl, d)
        out, m = self.kernel(max_pool, x, d, K, S, P, D, ceil)
        if x.D is not None:  # the precise pass: the maximum of the limbs
            wh, _ = windows(x.D.H, d, K, S, P, D, ceil, -math.inf)
            wl, _ = windows(x.D.L, d, K, S, P, D, ceil, 0.0)
            wr, _ = windows(x.D.R, d, K, S, P, D, ceil, 0.0)
            mh = wh.amax(2, keepdim=True)
            ml = torch.where(wh == mh, wl, torch.full_like(wl, -math.inf)).amax(2)
            out.D = DD(mh.squeeze(2).reshape(out.V.shape), ml.reshape(out.V.shape),
                           wr.amax(2).reshape(out.V.shape))
        out.I = ids_max(x.I, m["cand"], d, K, S, P, D, ceil, tuple(out.V.shape))
        if self.dirs is not None:
            if x.T is None or bool(m["unc"].any()):
                raise NoCertificate("a max-pool window with an open maximum")
            wt, _ = windows(x.T[0], d, K, S, P, D, ceil, 0.0)
            wtr, _ = windows(x.T[1], d, K, S, P, D, ceil, 0.0)
            tv, tr = t_max_windows(wt, wtr, m["cand"])
            out.T = (tv.reshape(out.V.shape), tr.reshape(out.V.shape))
        # (a tangent pass's findings are not read: no zero adjoints to find there)
        call = self.found.calls[x.A[0]] if x.A is not None and self.dirs is None else None
        if call is not None and list(x.A[1].users) == [self.node] and bool(call.kink.any()):
            call.zadj = call.kink & below_maxima(x.V, m["cand"], d, K, S, P, D, ceil)
        self.found.add_pool(m)
        self.npool += 1
        if bool(m["live"].any()) or bool(m["unc"].any()):
            self.found.last_open_pool = self.npool
        shape = tuple(int(v) for v in m["shape"])
        for kind in TIE_KINDS:
            if bool(m[kind].any()):
                self.found.pools.append(PoolTies(self.seq, self.where(), shape, kind,
                                                 m[kind], m["num"]))
        self.seq += 1
        return out

    def poolavg(self, x: CT, d: int, k: Any, st: Any, pad: Any, ceil: bool, cip: bool,
                 div: Any) -> CT:
        K = _tuple(k, d)
        S = K if st is None or st in ([], ()) else _tuple(st, d)
        P = _tuple(pad, d)
        fn = F.avg_pool1d if d == 1 else F.avg_pool2d
        kw: dict[str, Any] = {"ceil_mode": ceil, "count_include_pad": cip}
        if d == 2:
            kw["divisor_override"] = div
        elif div is not None:
            raise Unsupported("divisor_override")
        out = self.kernel(avg, x, lambda t: fn(t, K, S, P, **kw), math.prod(K))
        if x.T is not None:
            out.T = t_avg(x.T, lambda t: fn(t, K, S, P, **kw), math.prod(K))
        return self.named(out)

    def pool_adaptive(self, x: CT, d: int, size: Any) -> CT:
        fn = F.adaptive_avg_pool1d if d == 1 else F.adaptive_avg_pool2d
        sizes = [size] * d if isinstance(size, int) else list(size or ())
        if len(sizes) != d or not all(isinstance(s, int) and s > 0 for s in sizes):
            raise Unsupported("adaptive pool size")
        kmax = math.prod(-(-n // o) + 1 for n, o in zip(x.V.shape[2:], sizes))
        out = self.kernel(avg, x, lambda t: fn(t, sizes if d == 2 else sizes[0]), kmax)
        if x.T is not None:
            out.T = t_avg(x.T, lambda t: fn(t, sizes if d == 2 else sizes[0]), kmax)
        if x.D is not None and all(s == 1 for s in sizes):
            out.D = dd_global_mean(x.D)
        return self.named(out)

    def adaptive_max(self, x: CT, d: int, size: Any) -> CT:
        """An adaptive max pool whose windows tile the input evenly: a max pool."""
        sizes = [size] * d if isinstance(size, int) else list(size or ())
        n = x.V.shape[2:]
        sizes = [m if s is None else s for s, m in zip(sizes, n)]
        if len(sizes) != d or len(n) != d or not all(
                isinstance(s, int) and s > 0 and m % s == 0 for s, m in zip(sizes, n)):
            raise Unsupported("an adaptive max pool with uneven windows")
        k = [m // s for s, m in zip(sizes, n)]
        return self.pool_max(x, d, k, k, 0, 1, False)

    def linear(self, x: CT, w: Any, b: Any) -> CT:
        out, terms = linear_call(x, self.param(w), self.param(b), self.kernel,
                                 self.tangent_affine)
        self.found.terms += terms
        return self.named(out)

    def tangent_affine(self, x: CT, w: torch.Tensor, b: torch.Tensor | None, op: Any,
                       m: int) -> Any:
        """The tangent of ``op(x, w) + b`` along this pass's direction."""
        return affine_along(self.shared, (self.node.name, id(w)), self.sign, x.V, x.R, x.T,
                            w, self.direction(w), self.direction(b), op, m)

    def direction(self, p: torch.Tensor | None) -> torch.Tensor | None:
        """The tangent pass's direction entries of a trainable parameter (None: none)."""
        return None if p is None or self.dirs is None else self.dirs.get(id(p))

    def param(self, t: Any) -> torch.Tensor | None:
        if t is None:
            return None
        if isinstance(t, CT):
            raise Unsupported("a computed weight")
        if not isinstance(t, torch.Tensor):
            raise Unsupported("a non-tensor weight")
        return t

    # fx dispatch ----------------------------------------------------------------------

    def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
        m = self.fetch_attr(target)
        kind = type(m)
        if len(args) != 1 or kwargs or not isinstance(args[0], CT):
            raise Unsupported(f"module {kind.__name__} call")
        x = args[0]
        if kind is nn.Identity or kind in DROPOUT_MODULES and (not m.training or m.p == 0):
            return x
        if kind in (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d):
            self.inplace_ok(m.inplace)
            return self.dropout(x)
        if isinstance(m, CONSTANT_PADS):
            return t_pad(x, list(m.padding), float(self.scalar(m.value)))
        if isinstance(m, nn.Upsample):
            return upsample(x, upsample_kwargs(m))
        if kind is nn.Embedding and m.max_norm is None and not m.scale_grad_by_freq:
            return embedding(x, m.weight, m.padding_idx, self.direction(m.weight), self.precise)
        if kind in SMOOTH_MODULES:
            self.inplace_ok(bool(getattr(m, "inplace", False)))
            return self.smooth(SMOOTH_MODULES[kind](m), x)
        if kind in MODULE_ACTS:
            self.inplace_ok(bool(getattr(m, "inplace", False)))
            return self.act(kind, lambda: MODULE_ACTS[kind](
                lambda v, _w: self.scalar(v), m, kind.__name__), x)
        if kind is nn.Linear:
            return self.linear(x, m.weight, m.bias)
        if kind in CONVS or kind in TRANSPOSED:
            if len(args) > 1 or kwargs:
                raise Unsupported(f"{kind.__name__} with an output size")
            out, terms = conv_call(x, m, self.kernel, self.tangent_affine)
            self.found.terms += terms
            return self.named(out)
        if (out := norm_call(x, m, self.scalar, self.kernel, self.direction,
                             self.found)) is not None:
            return self.named(out)
        if kind is nn.Softmax:
            return softmax(x, m.dim, self.found)
        if kind is nn.Flatten:
            return flattened(x, m.start_dim, m.end_dim)
        if kind in (nn.PixelShuffle, nn.PixelUnshuffle) and x.V.dim() == 4:
            out = x.map(lambda t: m(t))  # entries moved, each field alike
            out.name = None  # not in row-major order: the activation names its copies
            return out
        if kind is nn.Unflatten:
            try:
                return reshaped(x, unflattened(tuple(x.V.shape), m.dim,
                                                   m.unflattened_size))
            except InputError as e:
                raise Unsupported(str(e)) from None
        if kind in (nn.MaxPool1d, nn.MaxPool2d):
            if m.return_indices:
                raise Unsupported("return_indices")
            return self.pool_max(x, 1 if kind is nn.MaxPool1d else 2, m.kernel_size,
                                 m.stride, m.padding, m.dilation, m.ceil_mode)
        if kind in (nn.AvgPool1d, nn.AvgPool2d):
            return self.poolavg(x, 1 if kind is nn.AvgPool1d else 2, m.kernel_size, m.stride,
                                 m.padding, m.ceil_mode, m.count_include_pad,
                                 getattr(m, "divisor_override", None))
        if kind in _ADAPTIVE_AVG:
            return self.pool_adaptive(x, _ADAPTIVE_AVG[kind], m.output_size)
        if kind in ADAPTIVE_POOLS and not m.return_indices:
            return self.adaptive_max(x, ADAPTIVE_POOLS[kind][0], m.output_size)
        raise Unsupported(f"module {kind.__name__}")

    def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
        cts = [a for v in (*args, *kwargs.values())
               for a in (v if isinstance(v, (list, tuple)) else (v,)) if isinstance(a, CT)]
        if not cts:
            if target in (operator.add, operator.sub, operator.mul, operator.floordiv,
                          operator.truediv, operator.getitem):
                return target(*args, **kwargs)
            raise Unsupported(f"function {getattr(target, '__name__', target)}")
        if target in FUNC_ACTS:
            spec = FUNC_ACTS[target]
            vals, inplace = call_values(spec.params, args, kwargs)
            self.inplace_ok(spec.inplace or inplace)
            return self.act(target, lambda: spec.build(lambda v, _w: self.scalar(v), vals,
                                                       getattr(target, "__name__", "")),
                            args[0])
        if target is operator.getitem and isinstance(args[0], (tuple, list)):
            return args[0][args[1]]
        if target is operator.getitem:
            return indexed(args[0], args[1])
        if target in (torch.chunk, torch.split):
            return pieces(args[0], target.__name__, args[1:], kwargs)
        if identity_call(target, args, kwargs):
            return args[0]
        if target in SMOOTH_FUNCTIONS:
            fn, inplace = call_args(target, args, kwargs)
            self.inplace_ok(inplace)
            return self.smooth(fn, args[0])
        if target is F.layer_norm:
            return self.named(layer_norm_fn(args, kwargs, self.scalar, self.kernel,
                                            self.direction, self.found))
        if target is torch.mean and isinstance(args[0], CT):
            return self.axis_mean(args[0], *args[1:], **kwargs)
        if target in (operator.add, torch.add, operator.sub, torch.sub) and len(args) == 2 \
                and not kwargs:
            return self.add(args[0], args[1], target in (operator.sub, torch.sub))
        if target in (operator.mul, torch.mul, operator.truediv, torch.div) and \
                len(args) == 2 and not kwargs:
            return self.mul(args[0], args[1], target in (operator.truediv, torch.div))
        if target in (operator.neg, torch.neg) and len(args) == 1:
            return self.named(args[0].negated())
        moved = moved_entries(target, args, kwargs, self.scalar)  # cat, stack, pad, ...
        if moved is not None:
            return moved
        if target in VIEW_FUNCTIONS:  # torch.squeeze, torch.transpose, ...
            return view_method(args[0], target.__name__, args[1:], kwargs)
        if target is torch.flatten:
            s = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
            e = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
            return flattened(args[0], s, e)
        pc = pool_call(target, args, kwargs)
        if pc is not None and pc.kind == "max":
            return self.pool_max(pc.x, pc.d, pc.kernel, pc.stride, pc.padding, pc.dilation,
                                 bool(pc.ceil_mode))
        if pc is not None and pc.kind == "avg":
            return self.poolavg(pc.x, pc.d, pc.kernel, pc.stride, pc.padding,
                                bool(pc.ceil_mode), bool(pc.count_include_pad), pc.divisor)
        if pc is not None and pc.reduce == "avg":
            return self.pool_adaptive(pc.x, pc.d, pc.size)
        if pc is not None and pc.reduce == "max" and not kwargs.get("return_indices"):
            return self.adaptive_max(pc.x, pc.d, pc.size)
        if target is F.linear:
            return self.linear(args[0], args[1] if len(args) > 1 else kwargs.get("weight"),
                               args[2] if len(args) > 2 else kwargs.get("bias"))
        if target in (F.dropout, F.dropout1d, F.dropout2d, F.dropout3d):
            p = args[1] if len(args) > 1 else kwargs.get("p", 0.5)
            if not (args[2] if len(args) > 2 else kwargs.get("training", True)) or p == 0:
                return args[0]
            return self.dropout(args[0])
        if (out := attention_call(target, args, kwargs, self.found)) is not None:
            return out
        raise Unsupported(f"function {getattr(target, '__name__', target)}")

    def call_method(self, target: Any, args: Any, kwargs: Any) -> Any:
        x = args[0]
        if not isinstance(x, CT):
            raise Unsupported(f"method {target}")
        name = str(target)
        if name in ("relu_", "abs_"):
            self.inplace_ok(True)
            name = name[:-1]
        if name in METHOD_ACTS and len(args) == 1 and not kwargs:
            return self.act(name, METHOD_ACTS[name], x)
        if name in METHOD_FUNCS:
            return self.call_function(METHOD_FUNCS[name], args, kwargs)
        if name in SMOOTH_METHODS and len(args) == 1 and not kwargs:
            return self.smooth((name, ()), x)
        moved = method_move(x, name, args[1:], kwargs)
        if moved is not None:
            return moved
        if name in ("add", "sub") and len(args) == 2 and not kwargs:
            return self.add(x, args[1], name == "sub")
        if name in ("mul", "div") and len(args) == 2 and not kwargs:
            return self.mul(x, args[1], name == "div")
        if name == "mean":
            return self.axis_mean(x, *args[1:], **kwargs)
        if (out := attention_call(name, args, kwargs, self.found)) is not None:
            return out
        raise Unsupported(f"method .{name}()")

    def axis_mean(self, x: CT, *args: Any, **kwargs: Any) -> CT:
        """``x.mean(dims)`` over axes other than the batch axis (:func:`.tmoves.axes_mean`:
        the kept axes as channels, the adaptive average pool to 1 over the others)."""
        flat, shape, kshape = axes_mean(x, *args, **kwargs)
        out = self.pool_adaptive(flat, 1, 1).map(lambda t: t.reshape(shape))
        out.name = (self.where(), kshape[1:])  # the IR's names: keepdim's shape
        return out

    # shapes and arithmetic -------------------------------------------------------------

    def add(self, a: Any, b: Any, sub: bool) -> CT:
        if not isinstance(a, CT) or not isinstance(b, CT):
            return self.named(shifted(a, b, sub, self.scalar))
        if a.V.shape != b.V.shape:
            raise Unsupported("a sum of tensors of different shapes or with a number")
        bv = -b.V if sub else b.V
        Y, R, Q = certified_add(a.V, a.R, a.Q, bv, b.R, b.Q)
        D = None if a.D is None or b.D is None else dd_add(a.D, b.D, sub)
        T = None if a.T is None or b.T is None else t_add(a.T, b.T, sub)
        return self.named(CT(Y, R, Q, a.C & b.C, I=ids_pair(a.I, b.I), D=D, T=T))

    def dropout(self, x: CT) -> CT:
        """Dropout in training mode: x times the audited pass's next mask (entries 0 and
        1/(1-p) as PyTorch rounds it), exactly, as the IR imports it
        (:mod:`adcorrect.torchfx.masks`); dropped entries are exact zeros, locally
        constant."""
        if not self.masks:
            raise Unsupported("dropout in training mode without the audited pass's masks")
        mask = self.masks.pop(0)
        if tuple(mask.shape) != tuple(x.V.shape):
            raise Unsupported("a dropout mask of another shape")
        return self.named(scale_entries(x, mask.detach().to(F64)))

    def mul(self, x: Any, c: Any, div: bool) -> CT:
        if isinstance(x, CT) and isinstance(c, CT) and not div:
            return product_call(self, x, c)
        if isinstance(c, CT) or not isinstance(x, CT) or isinstance(c, bool) or \
                not isinstance(c, (int, float)):
            raise Unsupported("a product of tensors")
        cv = self.scalar(c)
        if div:
            if cv == 0:
                raise Unsupported("division by zero")
            cv = 1 / cv
        f = float(cv)
        if div and Fraction(f) != cv:  # 1/c is no float: a certified division by c
            return self.named(divided(x, float(1 / cv)))
        if Fraction(f) != cv or not math.isfinite(f):
            raise Unsupported("a scaling that is not a float")
        D = torch.full_like(x.V, f)
        Y, R, Q = certified_scale(x.V, x.R, x.Q, D, torch.zeros_like(D),
                                  quantum(D.reshape(-1)).reshape(D.shape))
        dd = None if x.D is None else dd_scale(x.D, torch.tensor(f, dtype=torch.float64))
        T = None if x.T is None else t_scale(x.T, f)
        return self.named(CT(Y, R, Q, x.C, I=x.I, D=dd, T=T))
