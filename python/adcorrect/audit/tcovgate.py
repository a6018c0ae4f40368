"""Products and quotients of two tensors for :mod:`.tcoverage` (gates: squeeze-and-
excitation, GLU, ``x * sigmoid(x)``), and the smooth elementwise functions the importer
builds as activation neurons, on tensors of forms (:mod:`.tcovform`).

As ``adcorrect.torchfx.tensors.mul`` and ``div`` build them: with numpy broadcasting,
each factor's pending entries become identity neurons (``Builder.source``), then every
output entry is a neuron of its own (identity activation, no bias: kinkless, so it needs
no bias of its own) reading the two sources.  A factor with an entry that is a constant
or a lone parameter (the importer scales by it instead) is :class:`NotModelled`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from ..nets import activations as acts
from ..torchfx.fxargs import match_args
from ..torchfx.smooth import FUNC_FNS, METHOD_FNS, MODULE_FNS
from .tcovform import Form, NotModelled, State, compact
from .tcovops import T, activation

__all__ = ["product", "smooth_function", "smooth_method", "smooth_module"]


def product(st: State, a: T, b: T, where: str) -> T:
    """``a * b`` or ``a / b`` of two tensors (the same neurons either way)."""
    if where in st.reused:
        raise NotModelled("a product under a reused name")
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise NotModelled("factors that do not broadcast") from None
    fa = _sources(st, a)
    fb = fa if b is a else _sources(st, b)
    own, vid = st.own(), st.vid()
    st.smooth = True
    reads = {st.forms[int(i)].node for f in (fa, fb) for i in np.unique(compact(f)[0][0])}
    st.edge({n for n in reads if n >= 0}, own)
    out = st.intern(Form(node=own, vid=vid))
    return T(np.broadcast_to(np.array(out), shape), -1, True)


def _sources(st: State, x: T) -> np.ndarray:
    """x's form ids with its pending entries made identity neurons (NotModelled for an
    entry without terms: a constant or a lone parameter)."""
    (Fc,), _ = compact(x.F)
    ids = np.unique(Fc)
    if any(st.forms[int(i)].pending and st.forms[int(i)].nterms == 0 for i in ids):
        raise NotModelled("a product with a constant or parameter entry")
    return st.materialize(x.F, x.O)


def smooth_module(st: State, m: nn.Module, x: T, where: str, scalar: Any) -> T | None:
    """A smooth activation module (``nn.Tanh``, ``nn.GELU``, ...), or None."""
    build = MODULE_FNS.get(type(m))
    if build is None:
        return None
    fn, args = build(scalar, m)
    return activation(st, x, acts.smooth(fn, args), where)


def smooth_function(st: State, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                    where: str, scalar: Any) -> T | None:
    """A smooth function (``torch.sigmoid``, ``F.silu``, ...) of a tensor, or None."""
    if fn not in FUNC_FNS or not args or not isinstance(args[0], T):
        return None
    params, build = FUNC_FNS[fn]
    name, a = build(scalar, match_args(args[1:], kwargs, *params))
    return activation(st, args[0], acts.smooth(name, a), where)


def smooth_method(st: State, name: str, x: T, rest: tuple[Any, ...], kwargs: dict[str, Any],
                  where: str) -> T | None:
    """A smooth tensor method (``x.sigmoid()``, ``x.tanh()``, ...), or None."""
    if name not in METHOD_FNS or rest or kwargs:
        return None
    return activation(st, x, acts.smooth(name, ()), where)
