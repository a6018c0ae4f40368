"""The precise pass's activations (:mod:`.tdd`, issue 16): copies the float64 radii leave
uncertain, decided on the double-double limb of a piecewise-linear activation with float
breakpoints and coefficients; elsewhere the limb carries the float64 enclosure."""

from __future__ import annotations

import torch

from .certified import F64, NOQ, quantum
from .floatact import ActTable, is_relu
from .tdd import DD
from .tdd import piecewise_linear as dd_piecewise_linear
from .tdd import relu as dd_relu
from .tgates import float_limb
from .tkernels import CT, linear_spec


def act_limb(tab: ActTable, x: CT, out: CT, unc: torch.Tensor) -> torch.Tensor:
    """Sets ``out.D`` for ``out = sigma(x)`` and moves the uncertain copies ``unc`` that
    the limb decides onto their piece (a constant piece: exact, locally constant);
    returns the copies still uncertain."""
    if x.D is not None and is_relu(tab):
        return _relu_limb(x.D, out, unc)
    spec = linear_spec(tab)
    if spec is None or x.D is None:
        out.D = float_limb(out)  # hardswish: no finer limb
        return unc
    bps, pieces = spec
    y, idx, known = dd_piecewise_linear(x.D, bps, pieces)
    new = unc & known
    if bool(new.any()):
        for p, (a0, a1) in enumerate(pieces):
            if a1 != 0:
                continue
            flat = new & (idx == p)  # certainly on a constant piece: exactly a0
            out.V = out.V.masked_fill(flat, a0)
            out.R = out.R.masked_fill(flat, 0.0)
            out.Q = torch.where(flat, quantum(torch.tensor([a0], dtype=F64)), out.Q)
            out.C = out.C | flat
    z = torch.zeros_like(out.V)
    out.D = DD(torch.where(known, y.H, out.V), torch.where(known, y.L, z),
               torch.where(known, y.R, out.R))
    return unc & ~known


def _relu_limb(d: DD, out: CT, unc: torch.Tensor) -> torch.Tensor:
    """:func:`act_limb` for relu: the limb's input where it is certainly positive, an
    exact 0 where certainly negative, the float64 enclosure elsewhere."""
    y, above, below = dd_relu(d)
    new = unc & below  # certainly negative: exactly 0, locally constant
    if bool(new.any()):
        out.V = out.V.masked_fill(new, 0.0)
        out.R = out.R.masked_fill(new, 0.0)
        out.Q = out.Q.masked_fill(new, NOQ)
        out.C = out.C | new
    open_ = ~(above | below)
    if bool(open_.any()):
        y = DD(torch.where(open_, out.V, y.H), y.L, torch.where(open_, out.R, y.R))
    out.D = y
    return unc & open_
