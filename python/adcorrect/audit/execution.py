"""The execution audit (THEORY.md 8.3): the forward/backward as torch runs it in its
dtype, and what it did at kinks.

The model is run through a ``torch.fx`` interpreter that records the input of every
activation call (the pre-activations, in the compute dtype).  A *float kink* is an
entry exactly equal to a kink of its activation (in that dtype).  Without float kinks
no derivative choice is ever used, so the gradient cannot change with it.  With float
kinks the gradient is computed twice with ``torch.autograd.grad``: as torch computes it
(its own choice D at kinks, e.g. ``relu'(0) = 0``) and with the other one-sided slope at
every float kink (``relu'(0) = 1``; in general the right slope, or the left one where
torch's choice is the right slope).  A *bifurcation* (Bertoin et al., NeurIPS 2021) is a
difference between the two, entry by entry, exactly.

Both gradients come from one forward pass: an activation call with float kinks passes its
output through :class:`_Switch`, the identity on values; its backward hands the output's
gradient on unchanged for the first gradient (torch's own backward, exactly), and for the
second one sends ``s g`` to the input at the kinked entries (slope ``s`` there) and
``g`` to the output everywhere else (torch's own backward there).

Entries are matched with the IR's activation neurons by order: the importer creates one
neuron per entry of each activation call, in graph order and row-major (max-pool ties,
max and min reductions and ``torch.where`` are selection neurons,
:data:`~adcorrect.nets.ir.SELECTION_OPS`, not activation calls, and are not part of this
audit).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import InputError
from ..nets import activations as acts
from ..torchfx.act_table import FUNC_ACTS, METHOD_ACTS, METHOD_FUNCS, MODULE_ACTS
from ..torchfx.fxargs import int_tuple, pool_call
from ..torchfx.values import kernel_scalar
from ..torchfx.verify import autograd_nodes
from .certified import all_finite, some_at_most
from .dtypes import DType

Maker = Callable[[Callable[[float], Fraction]], acts.Activation]
Call = Callable[[torch.Tensor], torch.Tensor]


def _exact(r: Callable[[float], Fraction]) -> Callable[[Any, str], Fraction]:
    """The importer's scalar reader (value, where) from a rounder of hyper-parameters."""
    return lambda v, _where: r(v)


def _module(m: nn.Module) -> tuple[Maker, Call] | None:
    """The activation of a module (from the importer's table, built with a rounding of its
    scalars) and an out-of-place call of the module itself."""
    if isinstance(m, nn.PReLU):  # its kink at 0; the alternative to PyTorch's slope a is 1
        return (lambda r: acts.relu()), m
    build = MODULE_ACTS.get(type(m))
    if build is None:
        return None
    where = f"{type(m).__name__} module"
    call: Call = (lambda x: m(x.clone())) if getattr(m, "inplace", False) else m
    return (lambda r: build(_exact(r), m, where)), call


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], i: int, name: str, default: Any) -> Any:
    return args[i] if len(args) > i else kwargs.get(name, default)


def _function(fn: Any, a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Maker, Call] | None:
    """The activation of a functional call (from the importer's table) and an out-of-place
    call of the same function."""
    if fn is F.prelu:  # as the PReLU module
        return (lambda r: acts.relu()), (lambda x: F.prelu(x, *a[1:], **k))
    spec = FUNC_ACTS.get(fn)
    if spec is None:
        return None
    vals = [_arg(a, k, i + 1, name, default) for i, (name, default) in enumerate(spec.params)]
    inplace = spec.inplace or bool(dict(zip([n for n, _ in spec.params], vals)).get("inplace"))
    rest, kw = a[1:], k

    def call(x: torch.Tensor) -> torch.Tensor:
        return fn(x.clone() if inplace else x, *rest, **kw)  # type: ignore[no-any-return]

    return (lambda r: spec.build(_exact(r), vals, f"{getattr(fn, '__name__', fn)}")), call


def _method(name: str) -> tuple[Maker, Call] | None:
    """The activation of a tensor method (x.relu(), x.abs_()) and its out-of-place form."""
    base = name.rstrip("_")
    make = METHOD_ACTS.get(base)
    if make is None:
        return None
    return (lambda r: make()), getattr(torch, base)


def _rounder(dtype: torch.dtype) -> Callable[[float], Fraction]:
    """A scalar hyper-parameter as the kernel uses it (float64 models: the double, else
    float32), exactly."""
    return lambda v: kernel_scalar(v, dtype, "hyper-parameter")


@dataclass
class Record:
    """One activation call: its pre-activations (detached) and where they sit on kinks."""

    activation: acts.Activation
    x: torch.Tensor
    kink: torch.Tensor | None  # bool, same shape (None: no entry on a kink)
    alt: torch.Tensor | None  # the alternative slope at kinked entries (compute dtype)


def chain_ties(x: torch.Tensor, d: int, k: Any, st: Any, pad: Any, dl: Any,
               ceil: bool) -> int:
    """Entries of a max pool's windows, in float as PyTorch computes them, equal to the
    maximum of the window's entries before them (the max chain's kinks, as the exact side
    counts them: ties at the maximum and below it)."""
    from .tkernels import _max_before, windows

    K = int_tuple(k, d, "kernel_size")
    S = K if st is None or st in ([], ()) else int_tuple(st, d, "stride")
    with torch.no_grad():
        w, _ = windows(x.detach(), d, K, S, int_tuple(pad, d, "padding"),
                       int_tuple(dl, d, "dilation"), ceil, -math.inf)
        before = _max_before(w)
        tie = w == before  # -inf before a first entry: no tie with a finite one
        if not all_finite(w):
            tie &= torch.isfinite(w) & torch.isfinite(before)
    return int(tie.sum())


def adaptive_ties(x: torch.Tensor, d: int, size: Any) -> int:
    """:func:`chain_ties` of an adaptive max pool: its windows are PyTorch's,
    ``[floor(o n / m), ceil((o + 1) n / m))`` per axis, read in row-major order."""
    import itertools

    S = x.shape[x.dim() - d:]
    O = [size] * d if isinstance(size, int) else list(size)
    O = [n if o is None else int(o) for o, n in zip(O, S)]
    ties = 0
    with torch.no_grad():
        for idx in itertools.product(*(range(o) for o in O)):
            cut = tuple(slice(i * n // o, -(-(i + 1) * n // o)) for i, n, o in zip(idx, S, O))
            w = x.detach()[(..., *cut)].reshape(*x.shape[:x.dim() - d], -1)
            before = torch.cat([torch.full_like(w[..., :1], -math.inf),
                                torch.cummax(w, -1).values[..., :-1]], -1)
            ties += int(((w == before) & torch.isfinite(w)).sum())
    return ties


class _Switch(torch.autograd.Function):
    """out = act(x) on values; backward: torch's own (``state.alternative`` False) or slope
    ``alt`` at the ``kink`` entries (True)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, out: torch.Tensor, kink: torch.Tensor,
                alt: torch.Tensor, state: _Slopes) -> torch.Tensor:
        ctx.kink, ctx.alt, ctx.state = kink, alt, state
        return out.clone()  # (a view of an input would forbid in-place ops after it)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        if not ctx.state.alternative:
            return None, g, None, None, None
        zero = torch.zeros((), dtype=g.dtype)
        return torch.where(ctx.kink, g * ctx.alt, zero), torch.where(ctx.kink, zero, g), \
            None, None, None


@dataclass
class _Slopes:
    """Which slope the recorded pass's kinked entries take in its backward."""

    alternative: bool = False


class _Recorder(torch.fx.Interpreter):
    """Runs the traced model; records activation inputs; with ``switches``, the outputs of
    activation calls with float kinks go through :class:`_Switch` (``slopes`` chooses
    their backward)."""

    def __init__(self, gm: torch.fx.GraphModule, masks: list[torch.Tensor] | None = None,
                 switches: bool = False) -> None:
        super().__init__(gm)
        self.records: list[Record] = []
        self.slopes = _Slopes() if switches else None
        self.kinked_inputs: list[torch.Tensor] = []  # inputs of the switched calls
        self.masks: list[torch.Tensor] = [] if masks is None else masks  # dropout's
        self.drawn = masks is None  # draw masks (and keep them) or replay the given ones
        self.mpos = 0
        self.pool_ties = 0  # max-pool entries tied with the running maximum before them

    def _dropout(self, draw: Callable[..., torch.Tensor], x: torch.Tensor, p: float
                 ) -> torch.Tensor:
        """Dropout in training mode: x times a mask drawn as PyTorch draws it (0 or
        1/(1-p) per entry or channel), or the recorded one (the same pass, replayed)."""
        if self.drawn:
            with torch.no_grad():
                self.masks.append(draw(torch.ones_like(x), p, True))
        mask = self.masks[self.mpos]
        self.mpos += 1
        return x * mask

    def _act(self, found: tuple[Maker, Call], x: torch.Tensor) -> torch.Tensor:
        make, call = found
        key = (len(self.records), x.dtype)
        cache = self.module.__dict__.setdefault("_adcorrect_specs", {})
        spec = cache.get(key)
        if spec is None:
            act = make(_rounder(x.dtype))
            kinks = []
            for c in act.kinks:
                cv = torch.tensor(float(c), dtype=x.dtype)
                if Fraction(float(cv)) != c:
                    continue  # the kink is not a number of the dtype: never hit exactly
                d = act.derivative(c, "pytorch")
                alt = act.slope_right(c) if d != act.slope_right(c) else act.slope_left(c)
                kinks.append((cv, torch.tensor(float(alt), dtype=x.dtype)))
            spec = (act, kinks)
            cache[key] = spec
        act, kinks = spec
        xd = x.detach()
        kink = alt_t = None
        for cv, alt in kinks:
            if not some_at_most((xd if cv == 0 else xd - cv).abs(), 0.0):
                continue  # no entry at the kink (x - c is 0 exactly where x = c)
            at = xd == cv
            if bool(at.any()):
                kink = at if kink is None else kink | at
                alt_t = torch.where(at, alt, torch.zeros((), dtype=x.dtype) if alt_t is None
                                    else alt_t)
        self.records.append(Record(act, xd, kink, alt_t))
        out = call(x)
        if kink is None or self.slopes is None or not out.requires_grad:
            return out
        self.kinked_inputs.append(x)
        return _Switch.apply(x, out, kink, alt_t, self.slopes)  # type: ignore[no-any-return]

    def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
        m = self.fetch_attr(target)
        if type(m) in _DROPOUTS and m.training and m.p > 0 and args:
            return self._dropout(_DROPOUTS[type(m)], args[0], m.p)
        if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d)) and args and not m.return_indices:
            self.pool_ties += chain_ties(args[0], 1 if isinstance(m, nn.MaxPool1d) else 2,
                                         m.kernel_size, m.stride, m.padding, m.dilation,
                                         m.ceil_mode)
        if isinstance(m, (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)) and args and \
                not m.return_indices:
            self.pool_ties += adaptive_ties(args[0], 1 if isinstance(m, nn.AdaptiveMaxPool1d)
                                            else 2, m.output_size)
        found = _module(m)
        if found is not None and args and isinstance(args[0], torch.Tensor):
            return self._act(found, args[0])
        return super().call_module(target, args, kwargs)

    def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
        if target in _DROPOUTS.values():
            p, training = _arg(args, kwargs, 1, "p", 0.5), _arg(args, kwargs, 2, "training", True)
            if training and p > 0:
                return self._dropout(target, args[0], p)
        found = _function(target, args, kwargs)
        if found is not None and args and isinstance(args[0], torch.Tensor):
            return self._act(found, args[0])
        try:
            pc = pool_call(target, args, kwargs)
        except InputError:  # return_indices: not a pool the audit models
            pc = None
        if pc is not None and pc.kind == "max" and isinstance(pc.x, torch.Tensor):
            self.pool_ties += chain_ties(pc.x, pc.d, pc.kernel, pc.stride, pc.padding,
                                         pc.dilation, bool(pc.ceil_mode))
        if pc is not None and pc.reduce == "max" and isinstance(pc.x, torch.Tensor):
            self.pool_ties += adaptive_ties(pc.x, pc.d, pc.size)
        return super().call_function(target, args, kwargs)

    def call_method(self, target: Any, args: Any, kwargs: Any) -> Any:
        found = _method(target) if isinstance(target, str) else None
        if target in METHOD_FUNCS:
            found = _function(METHOD_FUNCS[target], args, kwargs)
        if found is not None and args and isinstance(args[0], torch.Tensor):
            return self._act(found, args[0])
        return super().call_method(target, args, kwargs)


_DROPOUTS: dict[type, Callable[..., torch.Tensor]] = {
    nn.Dropout: F.dropout, nn.Dropout1d: F.dropout1d, nn.Dropout2d: F.dropout2d,
    nn.Dropout3d: F.dropout3d}


def record_masks(gm: torch.fx.GraphModule, x: torch.Tensor) -> list[torch.Tensor]:
    """The dropout masks of one forward pass in training mode (in call order), drawn from
    torch's generator as the model itself would draw them."""
    rec = _Recorder(gm)
    with torch.no_grad():
        rec.run(x)
    return rec.masks


def forward_with(gm: torch.fx.GraphModule, x: torch.Tensor,
                 masks: list[torch.Tensor] | None) -> torch.Tensor:
    """The model's output with the given dropout masks (None: as the model runs)."""
    return gm(x) if masks is None else _Recorder(gm, masks=masks).run(x)


def trace(model: nn.Module) -> torch.fx.GraphModule:
    """The model traced by torch.fx (sharing its parameters); InputError if it cannot be."""
    try:
        return torch.fx.symbolic_trace(model)
    except Exception as e:  # noqa: BLE001
        raise InputError(f"torch.fx cannot trace the model ({type(e).__name__})") from None


def loss_value(out: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """The batch loss as PyTorch computes it (in the output's dtype)."""
    if loss == "ce":
        return F.cross_entropy(out, y.to(torch.int64).reshape(-1))
    if loss == "mse":
        return F.mse_loss(out, y.to(out.dtype).reshape(out.shape))
    B = out.shape[0]
    return (out.reshape(B, -1).sum(1) * y.to(out.dtype).reshape(B)).sum()


@dataclass
class ExecutionResult:
    """What torch did: float kinks per activation call, and whether the gradient bifurcates."""

    dtype: DType
    records: list[Record]
    float_kinks: int
    bifurcation: bool
    changed: int  # gradient entries that change with the kink slope
    # torch's own gradient where it was computed: the parameters upstream of a float kink
    # (the others' gradient is the same with either slope: None)
    gradient: list[torch.Tensor | None] | None
    pool_ties: int = 0  # max-pool entries tied in float (:func:`chain_ties`)

    @property
    def entries(self) -> int:
        """Activation entries per example."""
        return sum(r.x[0].numel() for r in self.records) if self.records else 0

    def kink_positions(self) -> set[tuple[int, int]]:
        """The float kinks as (activation entry in IR order, example)."""
        out: set[tuple[int, int]] = set()
        start = 0
        for r in self.records:
            n = r.x[0].numel()
            if r.kink is not None:
                out.update((start + j, i) for i, j in r.kink.reshape(r.x.shape[0], -1)
                           .nonzero().tolist())
            start += n
        return out

    def value_at(self, j: int, i: int) -> float:
        """The float pre-activation of activation entry j (IR order) in example i."""
        for r in self.records:
            n = r.x[0].numel()
            if j < n:
                return float(r.x.reshape(r.x.shape[0], -1)[i, j])
            j -= n
        raise IndexError(j)


def upstream(tensors: list[torch.Tensor], params: list[torch.Tensor]) -> list[int]:
    """The indices of the parameters the tensors depend on (autograd's graph): only their
    gradients can change with a slope at these tensors' entries."""
    want = {id(p): j for j, p in enumerate(params)}
    found = {want[id(t)] for t in tensors if t.grad_fn is None and id(t) in want}
    for node in autograd_nodes([t.grad_fn for t in tensors]):
        var = getattr(node, "variable", None)  # AccumulateGrad: a leaf
        if var is not None and id(var) in want:
            found.add(want[id(var)])
    return sorted(found)


def execution_audit(gm: torch.fx.GraphModule, params: list[torch.Tensor], x: torch.Tensor,
                    y: torch.Tensor, loss: str, dtype: DType,
                    masks: list[torch.Tensor] | None = None) -> ExecutionResult:
    """Run the traced model on the batch in its dtype; float kinks and bifurcation (with
    ``masks``, dropout replays the audited pass's masks)."""
    rec = _Recorder(gm, masks=masks, switches=True)
    with torch.enable_grad():
        out = rec.run(x)
        kinks = sum(int(r.kink.sum()) for r in rec.records if r.kink is not None)
        if kinks == 0:
            return ExecutionResult(dtype, rec.records, 0, False, 0, None, rec.pool_ties)
        value = loss_value(out, y, loss)
        up = upstream(rec.kinked_inputs, params)
        ups = [params[j] for j in up]
        g1 = torch.autograd.grad(value, ups, allow_unused=True, retain_graph=True) if ups else ()
        assert rec.slopes is not None
        rec.slopes.alternative = True
        g2 = torch.autograd.grad(value, ups, allow_unused=True) if ups else ()
    changed = 0
    for a, b in zip(g1, g2):
        if a is None and b is None:
            continue
        a = torch.zeros_like(b) if a is None else a
        b = torch.zeros_like(a) if b is None else b
        same = (a == b) | (torch.isnan(a) & torch.isnan(b))
        changed += int((~same).sum())
    grads: list[torch.Tensor | None] = [None] * len(params)
    for j, p, g in zip(up, ups, g1):
        grads[j] = torch.zeros_like(p) if g is None else g.detach()
    return ExecutionResult(dtype, rec.records, kinks, changed > 0, changed, grads,
                           rec.pool_ties)
