"""Selections in real models' code: max and min over a dimension (``torch.max(x, dim)``,
``x.min(dim)``, ``torch.amax``/``amin``), comparisons with constants and ``torch.where``.

- ``torch.max(x, dim)``/``min``: max nodes (at a tie the first maximal entry gets the
  gradient, PyTorch's choice, checked against autograd in the tests); the result's
  ``.values`` (or ``[0]``) is imported, its ``.indices`` are integers and refused on use.
- ``torch.amax``/``amin`` split a tie's gradient evenly among all tied entries; that is
  a max node with relu'(0) = 1/2 for two entries, and refused over more.
- ``z > c`` (``>=``, ``<``, ``<=``; c a constant) is a condition that only ``torch.where``
  may read.  ``torch.where(z > c, A, B)`` with each branch an affine function of z
  (``p z + q`` with constants: z itself, a multiple, a constant) is a piecewise-linear
  activation of z with a kink at c, and PyTorch's derivative there is the slope of the
  branch the condition selects at z = c; a discontinuous one is refused.
- ``torch.where`` with a constant boolean mask selects entries.
Anything else is refused with one line naming it.
"""

from __future__ import annotations

import operator
from collections import namedtuple
from fractions import Fraction
from typing import Any

import numpy as np
import torch

from ..core.errors import InputError
from ..nets.activations import Activation
from . import ops
from .fxargs import match_args
from .symbolic import ONE, Affine, const_entry
from .values import Sym

MaxResult = namedtuple("MaxResult", ["values", "indices"])

_COMPARE = {operator.gt: ">", torch.gt: ">", operator.ge: ">=", torch.ge: ">=",
            operator.lt: "<", torch.lt: "<", operator.le: "<=", torch.le: "<=",
            operator.eq: "==", torch.eq: "==", operator.ne: "!=", torch.ne: "!="}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}
_METHOD_COMPARE = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}
_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
        "==": operator.eq, "!=": operator.ne}


class _Refused:
    """A value the importer keeps but cannot use: any use raises its one-line error."""

    def __init__(self, message: str) -> None:
        self.message = message

    def refuse(self, *_args: Any) -> Any:
        raise InputError(self.message)

    __getitem__ = __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = refuse
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __neg__ = __pos__ = refuse
    __and__ = __or__ = __invert__ = refuse


class Cond(_Refused):
    """``z op c`` entrywise (c constants broadcast to z's shape)."""

    def __init__(self, z: Sym, op: str, c: np.ndarray, where: str) -> None:
        super().__init__(f"the comparison at {where} is used other than as the condition "
                         "of torch.where")
        self.z, self.op, self.c = z, op, c


def _side(imp: Any, v: Any) -> Sym:
    """An operand: a stored or computed constant tensor, a number, or a value."""
    return imp.params.sym(v, "operand") if isinstance(v, torch.Tensor) else imp.tensor(v, "other")


def compare(imp: Any, x: Any, other: Any, op: str, where: str) -> Cond | Sym:
    """``x op other``: a value of the network against constants (a :class:`Cond`), or
    constants against constants (a boolean constant tensor: a mask)."""
    sx, so = _side(imp, x), _side(imp, other)
    if not sx.batched:
        sx, so, op = so, sx, _FLIP[op]
    c = so.constants()
    if c is None or so.batched:
        raise InputError(f"the comparison at {where} must compare a value of the network "
                         "with a constant")
    try:
        zz, cc = np.broadcast_arrays(sx.arr, c)
    except ValueError:
        raise InputError(f"shapes {sx.arr.shape} and {c.shape} do not broadcast") from None
    if not sx.batched:
        cx = sx.constants()
        if cx is None:
            raise InputError(f"the comparison at {where} reads a parameter")
        vals = np.vectorize(_OPS[op], otypes=[bool])(*np.broadcast_arrays(cx, c))
        arr = np.vectorize(lambda v: const_entry(Fraction(int(v))), otypes=[object])(vals)
        return Sym(arr, False, torch.bool)
    if op in ("==", "!="):
        raise InputError(f"the comparison {op} at {where} of a value of the network selects "
                         "a set of measure zero; not supported")
    if zz.ndim != sx.arr.ndim:
        raise InputError("broadcasting adds axes before the batch axis")
    return Cond(Sym(zz, True, sx.dtype), op, cc, where)


def _form(e: Affine) -> list[tuple[dict[int, Any], Any]]:
    """The entry as linear forms over sources (terms, bias): pending and, once read
    through a neuron, as that source."""
    forms = [({s: c for s, c in e.terms}, e.bias)] if e.terms or e.ref is None else []
    if e.ref is not None:
        forms.append(({e.ref: ONE}, None))
    return forms


def _ratio(a: Any, b: Any) -> Fraction | None:
    if a[0] == b[0] == "const" and b[1] != 0:
        return Fraction(a[1]) / Fraction(b[1])
    return Fraction(1) if a == b else None


def _affine_in(e: Affine, z: Affine) -> tuple[Fraction, Fraction] | None:
    """(p, q) with e = p z + q (constants), or None."""
    if e.is_coef:
        v = e.coef()
        return (Fraction(0), Fraction(v[1])) if v[0] == "const" else None
    for te, be in _form(e):
        for tz, bz in _form(z):
            if set(te) != set(tz) or not tz:
                continue
            ps = {_ratio(te[s], tz[s]) for s in tz}
            if len(ps) != 1 or None in ps:
                continue
            p = ps.pop()
            assert p is not None
            if be == bz and (be is None or p == 1):
                return p, Fraction(0)
            cb = Fraction(0) if be is None else Fraction(be[1]) if be[0] == "const" else None
            cz = Fraction(0) if bz is None else Fraction(bz[1]) if bz[0] == "const" else None
            if cb is not None and cz is not None:
                return p, cb - p * cz
    return None


def _lin(p: Fraction, q: Fraction) -> str:
    s = "" if p == 0 else "x" if p == 1 else f"{p}x"
    return (f"{s}{'+' if q > 0 and s else ''}{q}" if q else s) or "0"


def _piecewise(op: str, c: Fraction, a: tuple[Fraction, Fraction],
               b: tuple[Fraction, Fraction]) -> Activation:
    """where(x op c, p_a x + q_a, p_b x + q_b) as an activation of x."""
    right, left = (a, b) if op in (">", ">=") else (b, a)
    chosen = a if op in (">=", "<=") else b  # the branch selected at x = c
    name = f"where(x{op}{c},{_lin(*a)},{_lin(*b)})"
    if left[0] * c + left[1] != right[0] * c + right[1]:
        raise InputError(f"torch.where {name} is discontinuous at {c}")
    return Activation(name, (c,), ((left[1], left[0]), (right[1], right[0])), (chosen[0],))


def where(imp: Any, cond: Any, a: Any, b: Any, where_: str) -> Sym:
    """``torch.where(cond, a, b)``."""
    branches = [_side(imp, t) for t in (a, b)]
    if isinstance(cond, Sym) and cond.dtype == torch.bool and not cond.batched:
        mask = cond.constants()
        if mask is None:
            raise InputError("torch.where's condition must be boolean")
        mask = mask != 0
        try:
            m, xa, xb = np.broadcast_arrays(mask, branches[0].arr, branches[1].arr)
        except ValueError:
            raise InputError("torch.where's arguments do not broadcast") from None
        out = np.where(m, xa, xb)
        batched = branches[0].batched or branches[1].batched
        if batched and out.ndim != max(s.arr.ndim for s in branches if s.batched):
            raise InputError("broadcasting adds axes before the batch axis")
        return Sym(out, batched)
    if not isinstance(cond, Cond):
        raise InputError(f"torch.where at {where_}: the condition must be a comparison of a "
                         "value with a constant, or a constant boolean tensor")
    try:
        z, c, xa, xb = np.broadcast_arrays(cond.z.arr, cond.c, branches[0].arr,
                                           branches[1].arr)
    except ValueError:
        raise InputError("torch.where's arguments do not broadcast") from None
    if z.ndim != cond.z.arr.ndim:
        raise InputError("broadcasting adds axes before the batch axis")
    out = ops.new_array(z.shape)
    made: dict[tuple[Any, ...], Activation] = {}
    for idx in np.ndindex(*z.shape):
        pa, pb = _affine_in(xa[idx], z[idx]), _affine_in(xb[idx], z[idx])
        if pa is None or pb is None:
            raise InputError(f"torch.where at {where_}: each branch must be an affine "
                             "function of the compared value (it, a multiple of it, a "
                             "constant)")
        if pa == pb:
            out[idx] = xa[idx]
            continue
        key = (cond.op, c[idx], pa, pb)
        if key not in made:
            made[key] = _piecewise(cond.op, c[idx], pa, pb)
        out[idx] = imp.b.activate(z[idx], made[key], ops.label(where_, idx), op="select")
    return Sym(out, True)


def _dim(arr: np.ndarray, dim: Any, batched: bool, what: str) -> int:
    if not isinstance(dim, int) or isinstance(dim, bool) or not -arr.ndim <= dim < arr.ndim:
        raise InputError(f"{what}: dim {dim!r} is not an axis of a {arr.ndim}-d tensor")
    d = dim % arr.ndim
    if batched and d == 0:
        raise InputError(f"{what} over the batch axis couples the examples")
    return d


def reduce(imp: Any, x: Any, dim: Any, keepdim: Any, kind: str, where_: str) -> Any:
    """max, min, amax or amin of x over one axis."""
    s = imp.tensor(x, "input")
    if dim is None:
        raise InputError(f"torch.{kind} over every axis includes the batch axis")
    d = _dim(s.arr, dim, s.batched, f"torch.{kind}")
    moved = np.moveaxis(s.arr, d, -1)
    n = moved.shape[-1]
    if kind in ("amax", "amin") and n > 2:
        raise InputError(f"torch.{kind} over {n} entries: PyTorch splits a tie's gradient "
                         "evenly among all tied entries, modelled for 2 entries only; "
                         f"torch.{kind[1:]}(x, dim).values gives the tie to the first")
    if n == 0:
        raise InputError(f"torch.{kind} over an empty axis")
    out = ops.new_array(moved.shape[:-1])
    for idx in np.ndindex(*out.shape):
        out[idx] = imp.b.maximum(list(moved[idx]), ops.label(where_, idx),
                                 lowest=kind in ("min", "amin"), half=kind in ("amax", "amin"))
    vals = Sym(np.expand_dims(out, d) if keepdim else out, s.batched)
    if kind in ("amax", "amin"):
        return vals
    return MaxResult(vals, _Refused(f"the indices of torch.{kind} at {where_} are not "
                                    "supported (integers: use .values)"))


def function_call(imp: Any, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                  where_: str) -> Any:
    """A selection function, or None."""
    if fn in _COMPARE:
        x, other = match_args(args, kwargs, ("input", None), ("other", None))
        return compare(imp, x, other, _COMPARE[fn], where_)
    if fn is torch.where:
        if len(args) + len(kwargs) < 3:
            raise InputError("torch.where(condition) (indices of non-zeros) is not supported")
        cond, a, b = match_args(args, kwargs, ("condition", None), ("input", None),
                                ("other", None))
        return where(imp, cond, a, b, where_)
    if fn in (torch.max, torch.min, torch.amax, torch.amin):
        name = fn.__name__
        if name in ("max", "min") and len(args) == 1 and not kwargs:
            raise InputError(f"torch.{name} over every axis includes the batch axis")
        x, dim, keep = match_args(args, kwargs, ("input", None), ("dim", None),
                                  ("keepdim", False))
        return reduce(imp, x, dim, keep, name, where_)
    return None


def method_call(imp: Any, name: str, x: Any, rest: tuple[Any, ...], kwargs: dict[str, Any],
                where_: str) -> Any:
    """A selection method (``x.max(1)``, ``x.gt(0)``), or None."""
    if hasattr(x, "refuse"):  # x.float() of a condition or of indices
        x.refuse()
    if name in _METHOD_COMPARE:
        (other,) = match_args(rest, kwargs, ("other", None))
        return compare(imp, x, other, _METHOD_COMPARE[name], where_)
    if name in ("max", "min", "amax", "amin"):
        if name in ("max", "min") and rest and isinstance(rest[0], Sym):
            return None  # x.max(other): elementwise
        dim, keep = match_args(rest, kwargs, ("dim", None), ("keepdim", False))
        return reduce(imp, x, dim, keep, name, where_)
    return None
