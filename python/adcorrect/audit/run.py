"""Both audits of one training step, side by side (`python -m adcorrect audit`, the
training monitor): the model is imported once (:class:`Auditor`), every batch is then
audited at the model's current parameters."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

import torch
from torch import nn

from ..core.deadline import DEFAULT_TIME_LIMIT, Deadline, active
from ..core.errors import InputError, LimitExceeded, Undecided
from ..core.limits import limit
from ..exact.certcheck import smooth_coverage
from ..exact.oracle import DEFAULT_BUDGET
from ..nets.activations import Choice
from ..nets.ir import SELECTION_OPS, Network
from ..nets.theorems import coverage, coverage_json
from ..numbers.cvalue import MAX_PRECISION
from ..torchfx.values import CouplesExamples, NeedsMasks, ReadsInputValues
from ..torchfx.verify import check_runs_as_traced, run_model
from .certified import all_finite
from .dtypes import DType, dtype_of
from .exact import DEFAULT_EXACT_WORK, ExactResult, exact_audit
from .execution import ExecutionResult, execution_audit, forward_with, record_masks, trace
from .plan import Plan
from .rows import Rows as _Rows
from .rows import check_batch
from .tfilter import Filtered, Overflow, TensorFilter, Unsupported, ir_first
from .tresult import MAX_ROWS, compare, execution_json, structure, tensor_result


class Auditor:
    """A model's plan, built once; :meth:`audit` audits a batch at the current parameters.

    ``model`` is what torch executes (parameters already in the format ``dtype``); the
    exact audit reads its parameters exactly at every call.  The parameters are the
    trainable ones (``requires_grad``); frozen tensors are constants (``frozen``)."""

    def __init__(self, model: nn.Module, example: torch.Tensor, loss: str,
                 dtype: DType | None = None, choice: Choice = "pytorch",
                 budget: int | None = DEFAULT_BUDGET, work: int = DEFAULT_EXACT_WORK,
                 name: str | None = None, time_limit: float | None = DEFAULT_TIME_LIMIT,
                 progress: bool = False, max_precision: int = MAX_PRECISION) -> None:
        from ..torchfx.load import model_size
        from ..torchfx.values import frozen, trainable

        self.model = model
        self.loss = loss
        self.dtype = dtype or dtype_of(model)
        self.choice, self.budget, self.work = choice, budget, work
        self.time_limit, self.progress = time_limit, progress
        self.max_precision = max_precision
        self._covered: dict[int, dict[str, Any]] = {}
        t0 = time.perf_counter()
        self.name = name or type(model).__name__
        self.example_shape = (1, *example.shape[1:])  # one example, for the graph's shapes
        self.params = [p for _, p in trainable(model)]
        self.frozen = frozen(model)
        if not self.params:
            raise InputError("the model has no trainable parameter (every parameter has "
                             "requires_grad=False): its loss is a constant")
        try:
            self.tfilter: TensorFilter | None = TensorFilter(model, self.dtype.compute)
        except Unsupported:
            self.tfilter = None
        size = model_size(model)
        self.net: Network | None = None
        self.whole: dict[int, Network] = {}  # B -> whole-batch network (batch statistics)
        self.per_batch = False  # the whole-batch network depends on x's values (tokens)
        self.needs_masks = False  # and on the dropout masks the audited pass draws
        self._plan: Plan | None = None  # built on first use (13 s for a VGG-11/8)
        self.act_neurons: list[int] = []
        # batch statistics the tensor filter runs: the whole-batch network is imported
        # only for a batch the tensor filter leaves open (:meth:`_import_whole`)
        self.deferred = False
        self._found: Filtered | None = None  # the tensor filter's findings on this batch
        # an example whose IR is imported on first need (:meth:`load_net`)
        self.pending: torch.Tensor | None = None
        self.too_large: str | None = None  # why the IR cannot be imported (a size limit)
        if self.tfilter is not None and size > limit("exact_model_params"):
            self._tensor_only(example)
        elif self._can_wait(example):
            self.pending = self._cast(example[:1]).clone()
        else:
            try:
                self._import_example(example)
            except LimitExceeded as e:  # an IR too large: the tensor filter alone
                if self.tfilter is None:
                    raise
                self._tensor_only(example)
                self.too_large = f"the exact import is too large ({e})"
        self.W = sum(p.numel() for p in self.params)
        self.gm = trace(model)
        # the IR's filter first for MLPs and small networks without max pools (faster)
        self.ir_first = self.tfilter is not None and ir_first(
            self.tfilter.gm, None if self.net is None else
            sum(len(n.weights) for n in self.net.neurons))
        # the tensor filter first even where the IR's goes first (tests)
        self.tensor_first = False
        self.import_seconds = time.perf_counter() - t0

    def _tensor_only(self, example: torch.Tensor) -> None:
        """No exact import: the model must run as traced; its outputs' width."""
        check_runs_as_traced(self.model)
        with torch.no_grad(), kept_buffers(self.model):  # batch statistics: whole example
            out = run_model(self.model, self._cast(example))
        if not isinstance(out, torch.Tensor) or out.dim() < 1:
            raise InputError(f"the model returns a {type(out).__name__}, not a batch")
        self.n_out = out[0].numel()

    def _import_example(self, example: torch.Tensor) -> None:
        """The IR of one example (or of the whole example batch where batch statistics,
        tokens or dropout masks couple the examples)."""
        from ..torchfx.importer import from_module

        model, name = self.model, self.name
        try:
            self.net = from_module(model, self._cast(example[:1]), name=name)
        except CouplesExamples as e:  # batch statistics, tokens, masks: the whole batch
            self.per_batch = isinstance(e, ReadsInputValues)
            self.needs_masks = isinstance(e, NeedsMasks)
            n_out = None if self.per_batch else self._filter_output(example)
            if n_out is not None:  # batch statistics the tensor filter runs
                self.deferred, self.n_out = True, n_out
            else:
                with kept_buffers(model):
                    masks = record_masks(trace(model), self._cast(example)) \
                        if self.needs_masks else None
                    self.net = from_module(model, self._cast(example), name=name,
                                           whole_batch=True, masks=masks)
                self.whole[example.shape[0]] = self.net
        if self.net is not None:
            self._adopt(self.net)

    def _can_wait(self, example: torch.Tensor) -> bool:
        """Whether the per-example IR can wait for a batch that needs it (:meth:`load_net`):
        the tensor filter runs the example, nothing couples the examples (batch statistics,
        dropout masks, tokens), and the IR's filter would not go first (:func:`ir_first`
        on the filter's count of the IR's terms).  Measured: a 4-conv residual CNN with
        BatchNorm (eval) at 16x16 took 6.2 s to import and 1.5 s to audit."""
        if self.tfilter is None or not example.is_floating_point() or any(
                isinstance(m, nn.modules.batchnorm._BatchNorm)
                and (m.training or m.running_mean is None) for m in self.model.modules()):
            return False
        check_runs_as_traced(self.model)
        found = self._filter_example(example[:1])
        if found is None or ir_first(self.tfilter.gm, found.terms):
            return False
        self.n_out = int(found.out.shape[1])
        return True

    def load_net(self) -> Network | None:
        """The per-example IR, imported now if it was left for a batch that needs it; None
        above the exact import limit (or while only whole-batch networks exist)."""
        if self.pending is not None:
            example, self.pending = self.pending, None
            try:
                self._import_example(example)
            except Undecided:  # past the deadline: imported on the next need
                self.pending = example
                raise
            except LimitExceeded as e:  # too large: the tensor filter's answer stands
                self.too_large = f"the exact import is too large ({e})"
        return self.net

    def _filter_example(self, example: torch.Tensor) -> Filtered | None:
        """The tensor filter's findings on an example batch (the model's buffers kept; with
        infinite radii, what the pass found), or None where it cannot run it."""
        if self.tfilter is None:
            return None
        try:
            with kept_buffers(self.model):
                return self.tfilter.run(self._cast(example))
        except Overflow as e:
            return e.found
        except Unsupported:
            return None

    def _filter_output(self, example: torch.Tensor) -> int | None:
        """An example's output size if the tensor filter runs the example batch, else None."""
        found = self._filter_example(example)
        return None if found is None else int(found.out.shape[1])

    def _adopt(self, net: Network) -> None:
        """The IR network the exact routes use."""
        if not net.is_smooth:
            net.require_exact()
        self.net = net
        self.act_neurons = [n.index for n in net.neurons if n.activation.exact
                            and not n.activation.is_identity and n.op not in SELECTION_OPS]
        self.n_out = len(net.head.outputs)

    @property
    def plan(self) -> Plan | None:
        """The IR's compiled plan (exact route, IR filter), built the first time one is
        needed: a batch the tensor filter decides never pays for it."""
        if self._plan is None and self.load_net() is not None:
            assert self.net is not None
            self._plan = Plan(self.net)
        return self._plan

    def _input_dtype(self) -> torch.dtype:
        return self.dtype.compute

    def _cast(self, x: torch.Tensor) -> torch.Tensor:
        """The input in the compute dtype (integer inputs, token indices, stay integers)."""
        return x.to(self._input_dtype()) if x.is_floating_point() else x

    def weights(self) -> torch.Tensor:
        """The parameters, exactly, as one float64 vector in the IR's order."""
        if not self.params:
            return torch.zeros(0, dtype=torch.float64)
        return torch.cat([p.detach().reshape(-1).to(torch.float64) for p in self.params])

    def audit(self, x: torch.Tensor, y: torch.Tensor, *, execution: bool = True) -> dict[str, Any]:
        """Both audits of the batch (x, y) at the current parameters, as a JSON-ready dict;
        the model's buffers (BatchNorm's running statistics) are left as they were."""
        with kept_buffers(self.model):
            return self._audit(x, y, execution)

    def _audit(self, x: torch.Tensor, y: torch.Tensor, execution: bool) -> dict[str, Any]:
        check_batch(x, y, self.loss, self.n_out if not self.whole else None)
        t0 = time.perf_counter()
        xe = self._cast(x.detach())
        if not all(all_finite(p.detach()) for p in self.params):
            raise InputError("a parameter is NaN or infinite")
        rows = _Rows(xe, y, self.loss)
        masks = record_masks(self.gm, xe) if self.needs_masks else None
        self._found = None
        coupled = self._coupled(xe, y, masks, rows, execution, t0) \
            if self.whole or self.deferred else None
        if coupled is None and self.deferred and rows.size not in self.whole:
            coupled = self._import_whole(xe, y, rows, execution, t0)
        self._found = None
        if coupled is not None:
            res, t1, t2, ex_seconds = coupled
        elif self.net is not None and (self.whole or self.net.is_smooth and not (
                self.tfilter is not None and (self.tensor_first or not self.ir_first))):
            res, t1, t2 = self._certified(xe, y, rows, execution, t0, masks)
            ex_seconds = {}
        else:
            res, t1, t2, ex_seconds = self._routes(xe, y, rows, execution, t0)
        res["time_limit"] = self.time_limit
        res["seconds"] = {"exact": t1 - t0, "execution": t2 - t1, "total": t2 - t0,
                          **{f"exact_{k}": v for k, v in ex_seconds.items()}}
        res["inputs_rounded"] = 0 if xe.dtype == x.dtype else \
            int((xe.to(torch.float64) != x.detach().to(torch.float64)).sum())
        return res

    def _coupled(self, xe: torch.Tensor, y: torch.Tensor, masks: list[torch.Tensor] | None,
                 rows: _Rows, execution: bool, t0: float
                 ) -> tuple[dict[str, Any], float, float, dict[str, float]] | None:
        """A piecewise-linear model the IR imports as a whole batch (dropout in training
        mode, token inputs, batch statistics: :mod:`.tnorm`): the tensor filter (with the
        audited pass's masks), where it decides the batch (no live kinked or uncertain
        copy, or a certificate of non-differentiability); else None, and the whole batch
        goes to the certified oracle (:meth:`_certified`)."""
        if self.tfilter is None or self.net is not None and self.net.is_smooth:
            return None
        try:
            found = self.tfilter.run(xe, masks)
        except Unsupported:
            return None
        self._found = found
        witness = self._certificate(xe, y, found)
        if found.live and witness is None:
            return None
        return self._tensor_answer(xe, y, found, witness, rows, execution, t0, masks)

    def _import_whole(self, xe: torch.Tensor, y: torch.Tensor, rows: _Rows, execution: bool,
                      t0: float) -> tuple[dict[str, Any], float, float, dict[str, float]] | None:
        """The deferred whole-batch import for a batch the tensor filter left open (None:
        the exact route goes on), or, where it would be over the ``whole_terms`` limit,
        the tensor filter's answer: undecided, with the reason."""
        from ..torchfx.importer import from_module

        found = self._found
        if found is not None and found.terms > limit("whole_terms"):
            why = (f"{found.live} live kinked or uncertain copies need exact arithmetic, and "
                   f"the whole-batch network (batch statistics) would have about "
                   f"{found.terms} terms, over the limit of {limit('whole_terms')} "
                   "(ADCORRECT_MAX_WHOLE_TERMS)")
            return self._tensor_answer(xe, y, found, None, rows, execution, t0, why=why)
        with kept_buffers(self.model):
            self.whole[rows.size] = from_module(self.model, xe, name=self.name,
                                                whole_batch=True)
        if self.net is None:
            self._adopt(self.whole[rows.size])
        return None

    def _certified(self, xe: torch.Tensor, y: torch.Tensor, rows: _Rows, execution: bool,
                   t0: float, masks: list[torch.Tensor] | None
                   ) -> tuple[dict[str, Any], float, float]:
        """The certified audit of a model with smooth operations or whole-batch coupling
        (``masks``: the audited pass's dropout masks), and the execution audit."""
        import numpy as np

        from .certaudit import batch_of, decide_batch, exact_json, quick_decide

        assert self.net is not None
        whole = None
        if self.whole:
            from ..torchfx.importer import from_module

            if rows.size not in self.whole or self.per_batch:
                self.whole[rows.size] = from_module(self.model, xe, name=self.name,
                                                    whole_batch=True, masks=masks)
            whole = self.whole[rows.size]
        subject: Network | None = None
        examples = None
        quick = quick_decide(self.net, whole, (self.weights().numpy(), rows.xt.numpy()),
                             rows.size)
        if quick is not None and quick.result is not None:  # no kink: nothing exact is built
            r, outs = quick.result, quick.outs
        else:
            w = [Fraction(v) for v in self.weights().tolist()]
            batch = batch_of((rows.x[i] for i in range(rows.size)),
                             (rows.y[i] for i in range(rows.size)), tuple(xe.shape[1:]))
            got = decide_batch(self.net, batch, self.loss, w, self.choice, self.time_limit,
                               self.max_precision, whole, quick)
            subject, r, outs, examples = got.subject, got.result, got.outs, got.examples
        if outs:
            self._check_output(xe, np.array(outs), masks)
        t1 = time.perf_counter()
        run = execution_audit(self.gm, self.params, xe, y, self.loss, self.dtype, masks) \
            if execution else None
        t2 = time.perf_counter()
        net = self.net
        exact = exact_json(subject, r, rows.size, whole, examples)
        res = self._header(rows.size, exact)
        if run is not None:
            # entries of a whole-batch network are not copies: compared by verdict only
            pos_of = {} if self.whole else {k: j for j, k in enumerate(self.act_neurons)}
            ex = examples or range(rows.size)
            kinks = {} if subject is None else {
                (pos_of[subject.neurons[k].base], ex[subject.neurons[k].example]):
                str(r.forward.y[k]) for k in r.kinked  # type: ignore[union-attr]
                if subject.neurons[k].base in pos_of}
            res["execution"] = execution_json(self.dtype, run)
            res["differ"], res["verdicts"] = compare(
                kinks, lambda j: net.neurons[self.act_neurons[j]].label,
                -1 if self.whole else len(self.act_neurons),
                exact["kinks_known"], bool(r.kinked) if exact["kinks_known"] else None, r.ns,
                r.differentiable, run)
        return res, t1, t2

    def _header(self, B: int, exact: dict[str, Any]) -> dict[str, Any]:
        """What both exact routes report first: the network, its activations (computed
        once), the loss, the exact side and the structural keys."""
        net = self.net
        assert net is not None
        if "_acts" not in self.__dict__:
            self._acts = sorted({n.activation.name for n in net.neurons
                                 if not n.activation.is_identity and n.op not in SELECTION_OPS})
        return {"network": net.name, "W": net.W, "frozen": self.frozen, "batch": B,
                "activations": self._acts, "loss": self.loss, "choice": str(self.choice),
                "exact": exact, **structure(self, B)}

    def _routes(self, xe: torch.Tensor, y: torch.Tensor, rows: _Rows, execution: bool,
                t0: float
                ) -> tuple[dict[str, Any], float, float, dict[str, float]]:
        """The tensor filter's and the IR's routes (exact, or certified for smooth models)."""
        found = self._tensor_filter(xe)
        witness = self._certificate(xe, y, found)
        no_ir = self.net is None and self.pending is None
        deadline = Deadline(self.time_limit)
        why = self.too_large if no_ir else None if found is None or found.live == 0 or \
            witness is not None else self._prepare_exact(deadline)
        if found is not None and (found.live == 0 or witness is not None or no_ir or why):
            return self._tensor_answer(xe, y, found, witness, rows, execution, t0, why=why)
        try:
            return self._ir_route(xe, y, rows, execution, t0, found, deadline)
        except LimitExceeded as e:  # the batch's IR too large: the tensor filter's answer
            if found is None:  # the IR's filter went first: the tensor filter's findings
                found = self._filter_example(xe)
                if found is None:
                    raise
                witness = self._certificate(xe, y, found)
            return self._tensor_answer(xe, y, found, witness, rows, execution, t0,
                                       why=self.too_large or f"the exact batch is too large ({e})")

    def _certificate(self, xe: torch.Tensor, y: torch.Tensor, found: Filtered | None
                     ) -> dict[str, Any] | None:
        """The tensor filter's certificate of non-differentiability (:meth:`TensorFilter.
        certificate`) where its findings have live kinked copies, else None."""
        if found is None or not found.live or self.tfilter is None:
            return None
        return self.tfilter.certificate(xe, y, self.loss)

    def _ir_route(self, xe: torch.Tensor, y: torch.Tensor, rows: _Rows, execution: bool,
                  t0: float, found: Filtered | None, deadline: Deadline
                  ) -> tuple[dict[str, Any], float, float, dict[str, float]]:
        """The IR's route: certified for smooth models, else exact (asking the tensor
        filter before the oracle where the IR's filter went first)."""
        if (net := self.load_net()) is None and self.too_large:  # no IR: a size limit
            raise LimitExceeded(self.too_large)
        if net is not None and net.is_smooth:  # left open, smooth
            res, t1, t2 = self._certified(xe, y, rows, execution, t0, None)
            ex_seconds: dict[str, float] = {}
        else:
            assert self.plan is not None
            w = self.weights()  # (one vector: read only on this route)
            fwd = self.plan.decided_forward(w, rows.xt)
            self._check_forward(xe, fwd)
            tried: list[Any] = []  # the tensor filter's answer, asked before the oracle

            def shortcut() -> bool:
                tried.append(self._second_route(xe, y) if found is None else None)
                return tried[0] is not None

            with active(deadline):
                ex = exact_audit(self.plan, w, rows.xt, rows, self.loss, self.choice,
                                 self.budget, self.work, fwd=fwd, deadline=deadline,
                                 progress=self.progress, shortcut=shortcut)
            alt = (tried[0] if tried else self._second_route(xe, y)) \
                if ex.undecided and found is None else None
            if alt is not None:  # the IR's filter went first and left it open
                res, t1, t2, ex_seconds = self._tensor_answer(xe, y, *alt, rows, execution, t0)
            else:
                t1 = time.perf_counter()
                run = execution_audit(self.gm, self.params, xe, y, self.loss, self.dtype) \
                    if execution else None
                t2 = time.perf_counter()
                res = self._result(ex, run, rows)
                ex_seconds = ex.seconds
        return res, t1, t2, ex_seconds

    def _prepare_exact(self, deadline: Deadline) -> str | None:
        """The IR imported and its plan compiled within the audit's time limit, for copies
        the tensor filter leaves open: None when ready, else why not (a ResNet-sized import
        and plan took minutes before the exact work's own limit started)."""
        try:
            with active(deadline):
                if (net := self.load_net()) is not None and not net.is_smooth:
                    assert self.plan is not None
        except Undecided as e:
            return e.reason
        return self.too_large if self.net is None else None

    def _tensor_answer(self, xe: torch.Tensor, y: torch.Tensor, found: Filtered,
                       witness: dict[str, Any] | None, rows: _Rows, execution: bool,
                       t0: float, masks: list[torch.Tensor] | None = None,
                       why: str | None = None
                       ) -> tuple[dict[str, Any], float, float, dict[str, float]]:
        """The audit's result from the tensor filter's findings (decided there, or
        undecided for the reason ``why``; ``masks``: the audited pass's dropout masks,
        replayed by both checks)."""
        self._check_output(xe, found.out.numpy(), masks)
        t1 = time.perf_counter()
        run = execution_audit(self.gm, self.params, xe, y, self.loss, self.dtype, masks) \
            if execution else None
        t2 = time.perf_counter()
        return tensor_result(self, found, run, rows.size, witness, why), t1, t2, \
            {"filter": t1 - t0}

    def _second_route(self, xe: torch.Tensor, y: torch.Tensor
                      ) -> tuple[Filtered, dict[str, Any] | None] | None:
        """Where the IR went first (:func:`ir_first`) and its exact side is undecided: the
        tensor filter's findings and certificate if they decide the batch, else None."""
        if self.tfilter is None or not self.ir_first:
            return None
        try:
            found = self.tfilter.run(xe)
        except Unsupported:
            return None
        witness = self._certificate(xe, y, found)
        return (found, witness) if found.live == 0 or witness is not None else None

    def _check_forward(self, xe: torch.Tensor, fwd: Any) -> None:
        """InputError unless the imported network computes what ``model(x)`` computes
        (:func:`adcorrect.torchfx.verify.check_forward`) and autograd differentiates it
        through PyTorch's own ops (no custom autograd function)."""
        assert self.plan is not None
        self._check_output(xe, fwd.outputs_of(self.plan.outputs).t().numpy())

    def _check_output(self, xe: torch.Tensor, imported: Any,
                      masks: list[torch.Tensor] | None = None) -> None:
        """:meth:`_check_forward` on the (B, n_out) float64 outputs of either filter (with
        the audited pass's dropout masks, if any)."""
        from ..torchfx.verify import check_autograd_graph, check_forward

        with torch.enable_grad():
            out = self.model(xe) if masks is None else forward_with(self.gm, xe, masks)
        if not isinstance(out, torch.Tensor):
            raise InputError(f"the model returns a {type(out).__name__}, not a tensor")
        check_autograd_graph(out)
        check_forward(out.detach(), imported, self.dtype.compute)

    def _tensor_filter(self, xe: torch.Tensor) -> Filtered | None:
        """The tensor-level filter's findings, or None where it cannot run (the IR's filter
        then runs; without an IR, an InputError)."""
        if self.tfilter is None or (self.ir_first and not self.tensor_first):
            return None
        try:
            return self.tfilter.run(xe)
        except Overflow as e:  # above the import limit: undecided where copies stay open
            return e.found if self.net is None and self.pending is None else None
        except Unsupported as e:
            if self.net is None and self.pending is None:
                raise InputError(f"the tensor-level audit cannot run this model ({e}) and "
                                 "it is above the exact import limit") from None
            return None

    # -- the report -----------------------------------------------------------------------

    def _result(self, ex: ExactResult, run: ExecutionResult | None, rows: _Rows
                ) -> dict[str, Any]:
        net = self.net

        def label(k: int) -> str:
            return net.neurons[k].label

        exact: dict[str, Any] = {
            "kinked": len(ex.kinked), "kinked_examples": len(ex.kinked_examples),
            "ns": ex.ns, "differentiable": ex.differentiable, "inc": ex.inc,
            "undecided": ex.undecided, "certificate": ex.certificate, "witness": ex.witness,
            "kinks_known": ex.kinks_known,
            "top": label(ex.top) if ex.top is not None else None, "groups": ex.groups,
            "uncertain": ex.uncertain, "exact_examples": ex.exact_examples,
            "copies": [{"neuron": label(c.neuron), "example": c.example, "kink": str(c.kink),
                        "zbar": c.zbar, "zbar_approx": c.zbar_approx} for c in ex.kinked],
            "dead": len(ex.dead),
            "dead_copies": [{"neuron": label(c.neuron), "example": c.example,
                             "kink": str(c.kink)} for c in ex.dead[:MAX_ROWS]],
        }
        if ex.inc:
            exact["ad"] = [str(v) for v in ex.ad or ()]
            exact["grad"] = [str(v) for v in ex.grad or ()]
            wv = self.weights().tolist()
            exact["inc_table"] = [
                {"name": net.param_names[p], "w": str(Fraction(wv[p])), "ad": exact["ad"][p],
                 "grad": exact["grad"][p]} for p in range(net.W)
                if net.W <= 50 or exact["ad"][p] != exact["grad"][p]]
        res = self._header(rows.size, exact)
        if ex.subnet is not None and ex.inc:
            res["_inc_network"] = ex.subnet
            res["_inc_values"] = [Fraction(v) for v in self.weights().tolist()]
        if run is None:
            return res
        res["execution"] = execution_json(self.dtype, run)
        res["differ"], res["verdicts"] = self._compare(ex, run, rows.size)
        return res

    def _coverage(self, B: int) -> dict[str, Any]:
        """Which theorem applies at batch size B (depends on the structure only: cached)."""
        if B not in self._covered:
            self._covered[B] = smooth_coverage(self.net, B, self.choice) \
                if self.net.is_smooth else coverage_json(coverage(self.net, B, self.choice))
        return self._covered[B]

    def _compare(self, ex: ExactResult, run: ExecutionResult, B: int
                 ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        net = self.net
        assert net is not None
        copies = (*ex.kinked, *ex.dead)
        pos_of = {k: j for j, k in enumerate(self.act_neurons)} if copies else {}
        exact_kinks = {(pos_of[c.neuron], c.example): str(c.kink)
                       for c in copies if c.neuron in pos_of}
        return compare(exact_kinks, lambda j: net.neurons[self.act_neurons[j]].label,
                       len(self.act_neurons), ex.kinks_known,
                       True if ex.kinked or ex.dead else None if not ex.kinks_known else False,
                       ex.ns, ex.differentiable, run)


@contextmanager
def kept_buffers(model: nn.Module) -> Iterator[None]:
    """Run the block and put the model's buffers back as they were (a forward in training
    mode updates BatchNorm's running statistics; an audit changes nothing)."""
    saved = [(b, b.detach().clone()) for b in model.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for b, v in saved:
                b.copy_(v)


def prepared(model: nn.Module, dtype: DType) -> tuple[nn.Module, int]:
    """A copy of the model in the compute dtype with every parameter in the format, and how
    many parameter entries rounding changed."""
    m = copy.deepcopy(model).to(dtype.compute)
    changed = 0
    with torch.no_grad():
        for (_, p), (_, p0) in zip(m.named_parameters(), model.named_parameters()):
            r = dtype.round(p0.detach())
            changed += int((r.to(torch.float64) != p0.detach().to(torch.float64)).sum())
            p.copy_(r.to(p.dtype))
    return m, changed
