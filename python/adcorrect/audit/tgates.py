"""Smooth activations and products on certified tensors (``CT``, :mod:`.tkernels`), for
the tensor filter's interpreter (:mod:`.tinterp`): sigmoid, tanh, SiLU and GELU's tanh
form (:mod:`.tsmooth`'s enclosures), products of two computed tensors (gating,
squeeze-and-excitation) and of a parameter tensor with a computed one (layer scales).

A smooth activation has no kink: it is not an activation call (the IR makes it a smooth
neuron, which neither the exact audit's copies nor the execution audit's records count),
and a kinked activation after it names its copies after its own node, as the IR does.
Products follow the IR too (:func:`adcorrect.torchfx.tensors.times`): two computed
factors make a product neuron (no pending affine entry), a parameter or constant factor
scales the other (an affine entry named after the product's node).

Fields: values and radii by fact 1 of :mod:`.certified` (one product: ``|a| rb + |b| ra
+ ra rb`` plus its rounding, :func:`~adcorrect.audit.kernels.certified_scale`); exact
where both factors are and the product fits (fact 4), or where a factor is an exact 0;
locally constant where both factors are, or one is a locally constant exact 0 (or a
frozen 0); structural ids interned from the operands' (equal operands, equal function);
the precise pass's limb the float64 enclosure itself (``L = 0``); tangents by the chain
and product rules with rigorous radii (:mod:`.ttangent`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .certified import F64, NOQ, all_finite, quantum
from .kernels import certified_add, certified_scale
from .tdd import DD
from .tdd import scale as dd_scale
from .tdd import shift as dd_shift
from .tids import canon_const, ids_pair
from .tkernels import CT, Unsupported
from .tsmooth import derivative, enclose, softplus, softplus_derivative
from .ttangent import NoCertificate, times_enclosure
from .ttangent import add as t_add
from .ttangent import scale as t_scale

Spec = tuple[str, tuple[Any, ...]]  # a smooth function and its raw arguments (softplus' beta)


def _gelu(approximate: Any) -> Spec:
    if approximate not in ("none", "tanh"):
        raise Unsupported(f"GELU with approximate={approximate!r}")
    return ("gelu" if approximate == "none" else "gelu_tanh"), ()


#: smooth modules -> module -> (function name (:data:`.tsmooth.SMOOTH_FNS` or softplus),
#: arguments)
MODULES: dict[type, Any] = {
    nn.Sigmoid: lambda m: ("sigmoid", ()), nn.Tanh: lambda m: ("tanh", ()),
    nn.SiLU: lambda m: ("silu", ()), nn.GELU: lambda m: _gelu(m.approximate),
    nn.Softplus: lambda m: ("softplus", (m.beta,)),
}
#: smooth functions -> (arguments after the input (name, default), values -> spec)
FUNCTIONS: dict[Any, tuple[tuple[tuple[str, Any], ...], Any]] = {
    torch.sigmoid: ((), lambda v: ("sigmoid", ())), F.sigmoid: ((), lambda v: ("sigmoid", ())),
    torch.tanh: ((), lambda v: ("tanh", ())), F.tanh: ((), lambda v: ("tanh", ())),
    F.silu: ((("inplace", False),), lambda v: ("silu", ())),
    F.gelu: ((("approximate", "none"),), lambda v: _gelu(v[0])),
    F.softplus: ((("beta", 1.0), ("threshold", 20.0)), lambda v: ("softplus", (v[0],))),
}
#: tensor methods (``x.sigmoid()``, ``x.tanh()``)
METHODS = {"sigmoid", "tanh"}


def call_values(params: Sequence[tuple[str, Any]], args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> tuple[list[Any], bool]:
    """The values of a function call's arguments after its input (``params``: names and
    defaults), and whether it works in place (an ``inplace`` argument)."""
    vals = [args[i + 1] if len(args) > i + 1 else kwargs.get(nm, dv)
            for i, (nm, dv) in enumerate(params)]
    return vals, bool(dict(zip([nm for nm, _ in params], vals)).get("inplace"))


def call_args(target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
              ) -> tuple[Spec, bool]:
    """A smooth function call's spec and whether it works in place."""
    params, spec = FUNCTIONS[target]
    vals, inplace = call_values(params, args, kwargs)
    return spec(vals), inplace


def _unary_ids(ids: torch.Tensor | None) -> torch.Tensor | None:
    """Ids of an entrywise function's outputs: re-interned (non-negative, apart from the
    value ids :func:`canon_const` gives exact constants)."""
    return None if ids is None else ids_pair(ids, torch.zeros_like(ids))


def smooth_call(ip: Any, spec: Spec, x: Any) -> CT:
    """A smooth activation at the interpreter ``ip``'s node (no activation call: it has
    no kink): its arguments as the model's kernels use them (the IR's), the function's
    IR name recorded among the filter's findings, values through ``ip``'s kernel memo."""
    from ..nets.activations import smooth as ir_smooth

    if not isinstance(x, CT):
        raise Unsupported("a smooth activation of a non-tensor")
    fn, raw = spec
    args = tuple(ip.scalar(a) for a in raw)
    if any(a <= 0 for a in args):
        raise Unsupported("softplus with beta <= 0")
    ip.found.smooth.add(ir_smooth(fn, args).name)
    fa = (fn, tuple(float(a) for a in args))
    return smooth(fa, x, ip.kernel(smooth_values, fa, x), ip.dirs is not None)


def smooth_values(fa: tuple[str, tuple[float, ...]], x: CT) -> CT:
    """f on the enclosures (values, radii, quanta, local constancy); ``fa``: the
    function and its float arguments."""
    fn, args = fa
    V, R = softplus(x.V, x.R, *args) if fn == "softplus" else enclose(fn, x.V, x.R)
    exact = R == 0
    Q = torch.where(exact, quantum(V), torch.full(V.shape, -NOQ, dtype=torch.int64)) \
        if bool(exact.any()) else torch.full(V.shape, -NOQ, dtype=torch.int64)
    return CT(V, R, Q, x.C)


def smooth(fa: tuple[str, tuple[float, ...]], x: CT, out: CT, tangent: bool) -> CT:
    """The other fields of ``out = f(x)`` (its values from :func:`smooth_values`): ids,
    the precise pass's limb, the tangent ``f'(x) x'`` (f' enclosed over x's interval)."""
    out.I = _unary_ids(x.I)
    canon_const(out)
    if x.D is not None:
        out.D = float_limb(out)
    if tangent:
        if x.T is None:
            raise NoCertificate("no tangent")
        fn, args = fa
        dv, dr = softplus_derivative(x.V, x.R, *args) if fn == "softplus" else \
            derivative(fn, x.V, x.R)
        out.T = times_enclosure(x.T, dv, dr)
    return out


def float_limb(x: CT) -> DD:
    """The float64 enclosure as a double-double limb (``L = 0``)."""
    return DD(x.V, torch.zeros_like(x.V), x.R)


def _expand(x: CT, shape: torch.Size) -> CT:
    if tuple(x.V.shape) == tuple(shape):
        return x
    return x.map(lambda t: t.expand(shape))


def product(a: CT, b: CT, tangent: bool) -> CT:
    """``a * b`` of two computed tensors (batch axis first in both; broadcasting as
    PyTorch's, without new axes)."""
    if a.V.dim() != b.V.dim() or a.V.shape[0] != b.V.shape[0]:
        raise Unsupported("a product of tensors of different ranks or batches")
    try:
        shape = torch.broadcast_shapes(a.V.shape, b.V.shape)
    except RuntimeError:
        raise Unsupported("a product of shapes that do not broadcast") from None
    a, b = _expand(a, shape), _expand(b, shape)
    Y, R, Q = certified_scale(a.V, a.R, a.Q, b.V, b.R, b.Q)
    out = CT(Y, R, Q, (a.C & b.C) | a.const_zeros() | b.const_zeros(), I=ids_pair(a.I, b.I))
    canon_const(out)
    if a.D is not None and b.D is not None:
        out.D = float_limb(out)
    if tangent:
        if a.T is None or b.T is None:
            raise NoCertificate("no tangent")
        out.T = t_add(times_enclosure(a.T, b.V, b.R), times_enclosure(b.T, a.V, a.R))
    return out


def scaled(x: CT, p: torch.Tensor, pdir: torch.Tensor | None, tangent: bool) -> CT:
    """``p * x`` for a stored tensor p (a parameter, or a frozen constant: ``pdir`` None)
    without the batch axis, broadcast over x's shape."""
    pv = p.detach().to(F64)
    if not all_finite(pv):
        raise Unsupported("a factor that is not finite")
    try:
        shape = torch.broadcast_shapes(pv.shape, x.V.shape)
    except RuntimeError:
        raise Unsupported("a product of shapes that do not broadcast") from None
    if tuple(shape) != tuple(x.V.shape) or (pv.dim() == x.V.dim() and pv.shape[0] != 1):
        raise Unsupported("a stored factor that broadcasts over the batch or widens x")
    pe = pv.expand(shape)
    Y, R, Q = certified_scale(x.V, x.R, x.Q, pe, torch.zeros(1, dtype=F64),
                              quantum(pe.reshape(-1)).reshape(shape))
    C = x.C | (pe == 0) if not p.requires_grad else x.const_zeros()
    idx = torch.arange(pv.numel()).reshape(pv.shape).expand(shape)
    out = CT(Y, R, Q, C, I=None if x.I is None else ids_pair(x.I, idx.contiguous()))
    canon_const(out)
    if x.D is not None:
        out.D = dd_scale(x.D, pe)
    if tangent:
        if x.T is None:
            raise NoCertificate("no tangent")
        T = t_scale(x.T, pe)
        if pdir is not None:
            d = pdir.to(F64).expand(shape)
            T = t_add(T, times_enclosure((d, torch.zeros_like(d)), x.V, x.R))
        out.T = T
    return out


def product_call(ip: Any, a: CT, b: CT) -> CT:
    """``a * b`` at the interpreter ``ip``'s node: a factor read from an attribute (an fx
    ``get_attr``: a parameter or a constant, without the batch axis) scales the other
    (:func:`scaled`, an affine entry named after the node), else :func:`product`."""
    stored = [ip.fetch_attr(str(n.target)) if isinstance(n, torch.fx.Node)
              and n.op == "get_attr" else None for n in ip.node.args[:2]]
    tangent = ip.dirs is not None
    if all(s is None for s in stored):
        return product(a, b, tangent)
    if all(s is not None for s in stored) or not all(
            s is None or isinstance(s, torch.Tensor) for s in stored):
        raise Unsupported("a product of stored tensors")
    p, x = (stored[0], b) if stored[0] is not None else (stored[1], a)
    return ip.named(scaled(x, p, ip.direction(p) if p.requires_grad else None, tangent))


def shifted(a: Any, b: Any, sub: bool, scalar: Any) -> CT:
    """``a + b`` or ``a - b`` with one operand a Python number (``scalar``: the number as
    the model's kernels use it, an exact float): fact 1 for one sum; local constancy,
    ids and tangents are the tensor's (a constant shift), the limb shifted exactly."""
    num, x, neg_x = (b, a, False) if isinstance(a, CT) else (a, b, sub)
    if not isinstance(x, CT) or isinstance(num, bool) or not isinstance(num, (int, float)):
        raise Unsupported("a sum of tensors of different shapes or with a number")
    c = float(scalar(num))
    c = -c if sub and not neg_x else c
    if not math.isfinite(c):
        raise Unsupported("a shift that is not finite")
    if neg_x:  # c - x
        x = x.negated()
    cv = torch.tensor(c, dtype=F64)
    Y, R, Q = certified_add(x.V, x.R, x.Q, cv, torch.zeros((), dtype=F64),
                            quantum(cv.reshape(1)).reshape(()))
    out = CT(Y, R, Q, x.C, I=_unary_ids(x.I), D=None if x.D is None else dd_shift(x.D, cv),
             T=x.T)
    return canon_const(out)


def identity_call(target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """A call that returns its input unchanged: torchvision's ``stochastic_depth`` (which
    ``torch.fx`` keeps as one call) in eval mode or with ``p = 0``."""
    if getattr(target, "__module__", "") != "torchvision.ops.stochastic_depth" or \
            getattr(target, "__name__", "") != "stochastic_depth":
        return False
    p = args[1] if len(args) > 1 else kwargs.get("p")
    training = args[3] if len(args) > 3 else kwargs.get("training", True)
    return training is False or p == 0
