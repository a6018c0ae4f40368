"""The audit's filter at tensor level (issue 16, item 2): the model's own ``torch.fx``
graph run on certified float64 tensors, without building per-neuron objects.

Every tensor of the forward pass is carried as ``CT``: float64 values ``V`` (batch axis
first), radii ``R`` (the exact value lies in ``[V - R, V + R]``; ``R = 0``: ``V`` is
exact), quantum bounds ``Q`` (where ``R = 0`` the exact value is a multiple of ``2^Q``)
and ``C``, entries that are *locally constant* in the trainable parameters (tangent zero
in every direction: inputs, frozen constants, relu of a certainly negative value, ...).
The bounds are those of :mod:`adcorrect.audit.certified` (facts 1, 4, 6, 7, 8), applied
to whole convolutions and matrix products: one float64 product for the values, one for
the radii (``|W| (g |X| + R)``), one more for exactness only where a window is exact.

Each activation call classifies its copies (entry, example) as in the IR's filter:
*kinked* (input exactly a kink), *uncertain* (the radius does not decide the piece) or
decided; a max pool the same with ties (two window entries that can both be the max).
A kinked or uncertain copy whose input is locally constant is *dead*: no kink for
differentiability and no choice point for AD (the output is locally constant whatever
the piece).  With no live kinked and no live uncertain copy, every copy sits inside a
smooth piece near w (dead ones are locally constant), so the loss is C^1 near w and its
gradient is AD's (the chain rule): the audit is decided without exact arithmetic.
Anything else goes to the exact audit on the IR (:mod:`adcorrect.audit.exact`).

Supported: ``Linear``, ``Conv1d/2d`` (zeros padding), ``BatchNorm1d/2d`` in eval mode,
the kinked activations of :mod:`adcorrect.torchfx.act_table` (modules, functions and
methods such as ``x.clamp``), max, average and adaptive pools, ``+``/``-``/negation,
scaling by Python numbers, ``flatten``/``view``/``reshape``/``squeeze``/``unsqueeze``/
``transpose``/``permute``/``expand``/``repeat`` keeping the batch axis, ``torch.cat``
and ``torch.stack``, constant padding, nearest-neighbour upsampling, ``Embedding`` on
token indices, ``Dropout`` (in training mode with the audited pass's masks:
:mod:`.tmoves`), ``Identity``; sigmoid, tanh, SiLU, GELU's tanh form and softplus
(certified enclosures, :mod:`.tsmooth`), products of computed tensors and of a parameter with one,
sums with a number (:mod:`.tgates`).  Anything else raises :class:`Unsupported` and the
audit uses the IR (same verdicts, slower).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import torch
from torch import nn

from ..torchfx.act_table import FUNC_ACTS, METHOD_ACTS, MODULE_ACTS
from ..torchfx.fxargs import first_line
from ..torchfx.importer import DROPOUT_MODULES
from ..torchfx.values import kernel_scalar
from .certified import F64, all_finite
from .floatact import ActTable
from .tfound import ActCall, Filtered, PoolTies
from .tinterp import Interp
from .tkernels import CT, Unsupported
from .ttangent import NoCertificate, derivative_at, one_sided
from .ttangent import add as t_add

__all__ = ["ActCall", "Filtered", "Overflow", "PoolTies", "TensorFilter", "Unsupported"]


class Overflow(Unsupported):
    """The outputs' radii are infinite (float64 overflowed); ``found``: what the pass
    found, every copy an infinite radius reached left uncertain."""

    def __init__(self, message: str, found: Filtered) -> None:
        super().__init__(message)
        self.found = found


def _interval(t: tuple[torch.Tensor, torch.Tensor]) -> str:
    """``v +- r`` in short decimals that still enclose the certified interval: v to 10
    significant digits, r widened by the rounding of v and rounded up to 2 digits."""
    v, r = Fraction(float(t[0])), Fraction(float(t[1]))
    vd = Fraction(f"{float(v):.10g}")
    rr = r + abs(v - vd)
    if rr == 0:
        return f"{float(vd):.10g} +- 0"
    e = math.floor(math.log10(float(rr))) - 1  # two significant digits: units of 10^e
    unit = Fraction(10) ** e
    rd = math.ceil(rr / unit) * unit
    return f"{float(vd):.10g} +- {float(rd):.2g}"


def _open(found: Filtered) -> bool:
    """Live copies or max-pool windows that the radii leave undecided.  Chain ties below a
    window's strict maximum (``pool_sub_unc``) do not count: they change no verdict (only
    the count of kinked copies is then a lower bound), and a precise pass for them alone
    cost LeNet-5 (trained, fp32) twice its filter time on every audit."""
    return bool(found.open_rows().any())


_DENSE_MODULES = (nn.Linear, nn.Flatten, nn.Identity, *DROPOUT_MODULES)
_DENSE_METHODS = {"view", "reshape", "flatten"}
_DENSE_FUNCTIONS = (torch.flatten, torch.nn.functional.linear)


def _dense_chain(gm: torch.fx.GraphModule) -> bool:
    """Only dense layers, activations and reshapes (an MLP): the IR's filter decides these
    faster than the tensor filter (measured: 2x in fp32, 4x in e4m3fn on a 64-256-256-10
    MLP), with the same answers; convolutions, BatchNorm, pools and sums need this one."""
    mods = dict(gm.named_modules())
    for n in gm.graph.nodes:
        t = type(mods[n.target]) if n.op == "call_module" else None
        dense = (n.op in ("placeholder", "output", "get_attr")
                 or (t is not None and (issubclass(t, _DENSE_MODULES) or t in MODULE_ACTS))
                 or (n.op == "call_function" and (n.target in FUNC_ACTS
                                                   or n.target in _DENSE_FUNCTIONS))
                 or (n.op == "call_method" and (n.target in METHOD_ACTS
                                                 or n.target in _DENSE_METHODS)))
        if not dense:
            return False
    return True


_MAX_POOL_MODULES = (nn.MaxPool1d, nn.MaxPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)
IR_FIRST_TERMS = 100_000  # IR terms (weights of all neurons) up to which the IR goes first


def _max_pools(gm: torch.fx.GraphModule) -> bool:
    """Whether the graph has a max pool (module, function or method)."""
    mods = dict(gm.named_modules())
    for n in gm.graph.nodes:
        if n.op == "call_module" and isinstance(mods[n.target], _MAX_POOL_MODULES):
            return True
        if n.op in ("call_function", "call_method") and "max_pool" in str(
                getattr(n.target, "__name__", n.target)):
            return True
    return False


def ir_first(gm: torch.fx.GraphModule, terms: int | None) -> bool:
    """Whether the IR's filter goes first: an MLP (:func:`_dense_chain`), or a network
    without max pools whose IR has at most IR_FIRST_TERMS terms (``terms``; None: no IR).
    Measured, audits repeated on one model: the bench's conv-BN-conv+res CNN (41,504
    terms, batch 256) 32 ms through the IR against 109 ms through this filter;
    MobileNetV2-style (723,560 terms) 0.6 s against 0.8 s, but 5 s to compile the IR's
    plan on first use; LeNet-5 (435,432 terms, max pools) 2 s against 0.12 s, its
    max-pool ties going to exact arithmetic in the IR.  A rule of the structure alone,
    so the route (the JSON's ``filter``) repeats from run to run."""
    if terms is None:
        return False
    return _dense_chain(gm) or (terms <= IR_FIRST_TERMS and not _max_pools(gm))


class TensorFilter:
    """The tensor-level filter of one model (traced once); :meth:`run` on a batch."""

    def __init__(self, model: nn.Module, compute: torch.dtype) -> None:
        try:
            self.gm = torch.fx.symbolic_trace(model)
        except Exception as e:  # noqa: BLE001
            raise Unsupported(f"trace ({type(e).__name__})") from None
        self.compute = compute
        self.tables: dict[Any, ActTable] = {}
        self.hint = (0, False)  # where the last batch ended: (ids up to pool, precise)
        self.limb = False  # the last batch's findings came from a precise pass
        # the kernel results of the last batch's float64 pass, for its certificate
        self.memo: tuple[torch.Tensor, dict[tuple[str, int], Any]] | None = None
        # dropout in training mode: the masks of the pass being audited (set by run)
        self.masks: list[torch.Tensor] | None = None


    def scalar(self, v: Any) -> Fraction:
        return kernel_scalar(v, self.compute, "a Python number")

    def run(self, x: torch.Tensor, masks: list[torch.Tensor] | None = None) -> Filtered:
        """The certified forward pass on the batch x (any float dtype, read exactly); a
        second pass with structural ids (up to the last max pool that needs them) where
        the first leaves max-pool ties or windows at their maximum (interning costs more
        than the pass itself); a precise pass with the double-double limb (:mod:`.tdd`)
        where copies are still uncertain (deep networks, whose float64 radii outgrow the
        values), on the examples that have them where nothing couples the examples (batch
        statistics, dropout masks) and they are at most half the batch.  A repeated
        audit (the Monitor, a bench) starts at the pass the last batch ended with; the
        answer is the same (see :meth:`_from_hint`).  ``masks``: the dropout masks of
        the audited pass (dropout in training mode), for this batch and its
        :meth:`certificate`."""
        self.memo = None
        self.masks = masks
        self.limb = False
        if self.hint != (0, False):
            found = self._from_hint(x)
            if found is not None:
                return found
        found = self._run(x, 0, record=True)
        ids = found.last_open_pool
        if ids:
            found = self._run(x, ids)
        self.hint = (ids, False)
        return self._precise(x, ids, found) if _open(found) else found

    def _precise(self, x: torch.Tensor, ids: int, found: Filtered) -> Filtered:
        """The precise pass after a float64 pass that left copies open: on the open
        examples alone where nothing couples them and they are at most half the batch (the
        others keep the float64 findings: the precise pass decides only what the float64
        radii leave open), else on the whole batch (and the next batch starts there)."""
        rows = found.open_rows() if not found.coupled and self.masks is None else None
        sub = rows is not None and 2 * int(rows.sum()) <= len(rows)
        try:
            precise = self._run(x[rows] if sub else x, ids, True)
        except Unsupported:
            return found
        if sub:
            assert rows is not None
            if precise.live <= int(found.live_rows()[rows].sum()):
                found.replace_rows(rows, precise)
                self.limb, self.memo = True, None  # (no certificate: its memo released)
            return found
        if precise.live <= found.live:
            found = precise
            self.hint = (ids, True)
            self.limb, self.memo = True, None
        return found

    def _from_hint(self, x: torch.Tensor) -> Filtered | None:
        """The passes from the hint (ids up to pool ``h``, precise or not), or None where
        it does not apply.  Same answer as :meth:`run`'s sequence: ids at a pool change
        nothing unless the pool has live ties or open windows, and a pool beyond ``h``
        with either sends the batch through the whole sequence; the precise pass only
        decides copies the float64 radii leave open, so where none are open it finds what
        the float64 pass finds."""
        ids, precise = self.hint
        try:
            found = self._run(x, ids, precise, record=not precise)
        except Unsupported:
            return None
        if found.last_open_pool > ids:
            return None
        self.limb = precise
        if not precise and _open(found):
            return self._precise(x, ids, found)
        return found

    def certificate(self, x: torch.Tensor, y: torch.Tensor, loss: str,
                    seeds: tuple[int, ...] = (1, 2, 3)) -> dict[str, Any] | None:
        """A proof that the loss is not differentiable at w (:mod:`.ttangent`): a
        direction d with certified ``L'(w; d) + L'(w; -d) != 0``; None if none of the
        seeded directions gives one (or the batch needed the precise pass)."""
        if self.limb:
            return None
        params = [(n, p) for n, p in self.gm.named_parameters() if p.requires_grad]
        # this batch's float64 values, radii and classes, computed once (by run)
        memo = self.memo[1] if self.memo is not None and self.memo[0] is x else None
        self.memo = None  # used once: its tensors are released with this call
        for seed in seeds:
            g = torch.Generator().manual_seed(seed)
            # odd integers below 2^21: a tangent exactly 0 at a kinked copy is unlikely
            dirs = {id(p): (torch.randint(-2 ** 20, 2 ** 20, p.shape, generator=g) * 2 + 1)
                    .to(F64) for _, p in params}
            try:
                shared: dict[Any, Any] = {}  # terms along d alone, for both passes
                plus = self._run(x, 0, dirs=dirs, memo=memo, shared=shared)
                minus = self._run(x, 0, dirs={k: -v for k, v in dirs.items()}, memo=memo,
                                  shared=shared, sign=-1)
            except (NoCertificate, Unsupported):
                return None
            assert plus.out_t is not None and minus.out_t is not None
            assert plus.out_r is not None
            dl = derivative_at(plus.out, plus.out_r, loss, y)
            lp, lm = one_sided(plus.out_t, dl), one_sided(minus.out_t, dl)
            sv, sr = t_add(lp, lm)
            if abs(float(sv)) > float(sr):
                return {"kind": "L'(w; d) + L'(w; -d) != 0",
                        "d": "per entry of the trainable parameters, in "
                             "named_parameters() order: torch.randint(-2**20, 2**20, shape, "
                             f"generator=torch.Generator().manual_seed({seed})) * 2 + 1",
                        "one_sided": [_interval(lp), _interval(lm)]}
        return None

    def _run(self, x: torch.Tensor, id_pools: int, precise: bool = False,
             dirs: dict[int, torch.Tensor] | None = None,
             memo: dict[tuple[str, int], Any] | None = None, record: bool = False,
             shared: dict[Any, Any] | None = None, sign: int = 1) -> Filtered:
        """One pass (see :class:`Interp`); ``record``: keep its kernel results for the
        certificate on x (float64 passes only); ``shared``, ``sign``: the tangent passes
        along d (1) and -d (-1) on x."""
        if record:
            memo = {}
        run = Interp(self.gm, self.scalar, self.tables, id_pools, precise, dirs, memo,
                     self.masks, shared, sign)
        with torch.no_grad():
            try:
                out = run.run(x.detach())
            except (Unsupported, NoCertificate):
                raise
            except Exception as e:  # noqa: BLE001  (anything unexpected: use the IR)
                raise Unsupported(f"{type(e).__name__}: {first_line(e)}") from None
        if not isinstance(out, CT):
            raise Unsupported("the output is not a tensor")
        B = out.V.shape[0]
        run.found.out = out.V.reshape(B, -1)
        run.found.out_r = out.R.reshape(B, -1)
        if out.T is not None:
            run.found.out_t = (out.T[0].reshape(B, -1), out.T[1].reshape(B, -1))
        if not all_finite(out.R):
            raise Overflow("an infinite radius", run.found)
        if record and run.found.live:  # a certificate may be asked for
            self.memo = (x, memo)  # type: ignore[assignment]
        return run.found
