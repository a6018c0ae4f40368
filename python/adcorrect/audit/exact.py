"""The exact audit of one mini-batch (THEORY.md 8.3): the batch loss at the stored
parameter values in real arithmetic.

Pipeline (each step exact; floats only where :mod:`~adcorrect.audit.plan` certifies them):

1. The filter evaluates every copy in float64 with a rigorous radius; copies whose
   radius does not decide their piece are evaluated exactly (the exact engine on that
   example).  Result: the kinked copies, exactly.
   Kinked copies whose input is locally constant (:mod:`adcorrect.exact.dead`: e.g. a
   max-pool tie of relu outputs of negative values) are *dead*: set aside, reported,
   and no kink for what follows (no choice at them changes AD).
2. No kinked copy: L is C^1 near w, differentiable, gradient = AD.
3. Adjoints of the kinked examples, in float64 with radii, under the AD choice D; a
   copy's adjoint is certified non-zero (|zbar| > radius), certified zero (a structural
   zero), or else computed exactly (exact engine, ExpNum for cross-entropy).
4. ``k*`` = the largest neuron index with a kinked copy whose adjoint is non-zero.  None:
   no kinked copy has a non-zero adjoint, so L is differentiable with gradient AD_D
   (T5(b), every network; also NS is false).
5. *Topmost group test* (the topmost-witness argument of THEORY.md section 6 applied to
   groups of copies).  Every kinked copy above ``k*`` has a zero adjoint, and by
   induction from the top its adjoint is zero for every choice of slopes above it, so
   its side changes no directional derivative and the adjoints of the copies of ``k*``
   do not depend on any choice.  Let ``V`` be the span of the parameters exclusive to
   neuron ``k*`` (occurring in its slots only, in every copy).  Along ``v in V`` only the
   copies of ``k*`` and what lies downstream move, so
   ``phi(v) = a.v + sum_i zbar_i (sr_i - sl_i) relu(t_i . v)`` over the kinked copies
   ``i`` of ``k*``, with ``t_i`` the tangent of ``y_{k*,i}`` in ``V`` (bias coefficient 1,
   weight coefficient the source value).  Grouping the ``t_i`` by direction
   (``t_i = lam_i t_H``), ``phi|V`` is linear iff every ``C_H = sum_{i in H} zbar_i
   (sr_i - sl_i) |lam_i|`` is 0 (the ``relu(t_H . v)`` of distinct directions are
   linearly independent modulo linear functions).  A non-zero ``C_H`` proves L not
   differentiable, with a witness: ``phi(v0 + s d) + phi(v0 - s d) != 2 phi(v0)``.
6. Otherwise (every group cancels, or ``k*`` has no exclusive parameter): the oracle
   (:func:`adcorrect.exact.oracle.decide`, fast mode, with its budget) on the batched network of
   the kinked examples only, with the batch's loss scale: L minus that network's loss is
   C^1 near w with gradient = AD, so the verdict, the gradient and ``inc`` are the
   same.  An ``inc`` point is returned with that network (saved as a v2 spec).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import torch

from ..core.deadline import NO_DEADLINE, Deadline
from ..core.errors import Undecided
from ..core.progress import Progress
from ..exact.dead import LocalConstancy, flat_around, flat_near
from ..exact.engine import Backward as ExactBackward
from ..exact.engine import Forward as ExactForward
from ..exact.engine import backward, forward, is_zero
from ..exact.oracle import DEFAULT_BUDGET, decide, same_vector
from ..nets.activations import Choice
from ..nets.batch import Batch, batched
from ..nets.ir import Network
from .certified import F64, INFLATE, U
from .groups import Copy, group_test
from .plan import Plan

#: Largest number of examples the exact fallbacks evaluate in one audit (times the
#: network's size in terms: see DEFAULT_EXACT_WORK).
DEFAULT_EXACT_WORK = 20_000_000


@dataclass
class ExactResult:
    """The exact audit's answer (see the module docstring)."""

    kinked: list[Copy]
    kinked_examples: list[int]
    ns: bool | None
    differentiable: bool | None
    inc: bool | None
    undecided: str | None
    certificate: str
    witness: dict[str, Any] | None = None
    top: int | None = None  # k*
    groups: int = 0
    uncertain: int = 0  # copies the filter left to exact arithmetic
    dead: list[Copy] = field(default_factory=list)  # kinks with a locally constant input
    kinks_known: bool = True  # False: undecided before every uncertain copy was resolved
    exact_examples: int = 0  # examples evaluated exactly
    ad: tuple[Any, ...] | None = None  # AD and gradient of the kinked examples' loss
    grad: tuple[Any, ...] | None = None
    subnet: Network | None = None  # the kinked examples' network (when the oracle ran)
    seconds: dict[str, float] = field(default_factory=dict)


def sub_network(net: Network, batch: Batch, examples: Sequence[int], loss: str,
                B: int) -> Network:
    """The batched network of the given examples with the full batch's loss scale."""
    sub = batched(net, Batch(tuple(batch.x[i] for i in examples),
                             tuple(batch.y[i] for i in examples)), loss)
    h = sub.head
    if loss == "ce":
        h = replace(h, scale=Fraction(1, B))
    elif loss == "mse":
        h = replace(h, scale=Fraction(1, B * len(net.head.outputs)))
    return replace(sub, head=h, name=f"{net.name}[examples {','.join(map(str, examples))} "
                                     f"of {B}, {loss}]")


class _Exact:
    """Exact evaluations of single examples (the exact engine), cached."""

    def __init__(self, net: Network, batch: Batch, loss: str, B: int, w: torch.Tensor,
                 choice: Choice, work: int, deadline: Deadline = NO_DEADLINE) -> None:
        self.net, self.batch, self.loss, self.B, self.choice = net, batch, loss, B, choice
        self.deadline = deadline
        self.progress = False
        self.shortcut: Callable[[], bool] | None = None
        self.split: tuple[list[Copy], list[Copy]] | None = None  # (kinked, dead), once known
        self._w = w
        self._wq: list[Fraction] | None = None
        self.fw: dict[int, tuple[Network, ExactForward]] = {}
        self.bw: dict[int, ExactBackward] = {}
        self.work_left = work

    @functools.cached_property
    def size(self) -> int:
        """Terms of the network per example (the exact work of one example)."""
        return sum(len(n.sources) + 1 for n in self.net.neurons)

    @property
    def wq(self) -> list[Fraction]:
        if self._wq is None:
            self._wq = [Fraction(v) for v in self._w.tolist()]
        return self._wq

    def _forward(self, i: int) -> tuple[Network, ExactForward]:
        if i not in self.fw:
            self.deadline.check(f"exact arithmetic on example {i}, {len(self.fw)} done")
            self.work_left -= self.size
            if self.work_left < 0:
                raise Undecided(f"exact arithmetic on more examples than the work limit allows "
                                f"(network of {self.size} terms per example)")
            sub = sub_network(self.net, self.batch, [i], self.loss, self.B)
            self.fw[i] = (sub, forward(sub, self.wq, lambda: self.deadline.check(
                f"exact values of example {i}")))
        return self.fw[i]

    def y(self, i: int, k: int) -> Fraction:
        return self._forward(i)[1].y[k]

    def z(self, i: int, s: int) -> Fraction:
        if s < 0:
            return self.batch.x[i][-s - 1]
        return self._forward(i)[1].z[s]

    def zbar(self, i: int, k: int) -> Any:
        if i not in self.bw:
            sub, fw = self._forward(i)
            self.deadline.check(f"exact adjoints of example {i}")
            self.work_left -= self.size
            self.bw[i] = backward(sub, self.wq, fw, self.choice, tick=lambda: self.deadline.check(
                f"exact adjoints of example {i}"))
        return self.bw[i].zbar[k]


def _constancy(plan: Plan, fwd: Any, ex: _Exact) -> LocalConstancy:
    """Local constancy (:mod:`adcorrect.exact.dead`) read off the certified float64 values,
    with exact values where the radius does not decide."""
    net, n_in = plan.net, plan.n_in
    z, rz = fwd.reader("Z", True), fwd.reader("RZ", True)
    y, ry = fwd.reader("Y", False), fwd.reader("RY", False)

    def zero(src: int, i: int) -> bool:
        node = -src - 1 if src < 0 else n_in + src
        v, r = z(node, i), rz(node, i)
        if r == 0:
            return v == 0
        if abs(v) > r:
            return False
        return ex.z(i, src) == 0

    def flat(j: int, i: int) -> bool:
        act = net.neurons[j].activation
        v, r = y(j, i), ry(j, i)
        known = flat_near(act, v, r)
        if known is not None:
            return known
        return flat_around(act, Fraction(v) if r == 0 else ex.y(i, j))  # r = 0: v exact

    def sign(j: int, i: int) -> int | None:
        v, r = y(j, i), ry(j, i)
        return (v > 0) - (v < 0) if r == 0 or abs(v) > r else None

    return LocalConstancy(net, zero, flat, sign)


def _linear_pieces(act: Any) -> bool:
    """Whether every piece of an exact activation is affine (its slope constant)."""
    return act.exact and all(all(c == 0 for c in p[2:]) for p in act.pieces)


def _users(plan: Plan) -> list[list[tuple[int, int]]]:
    """Per neuron, the (user, slot) pairs reading it (cached on the plan)."""
    if "_users" not in plan.__dict__:
        users: list[list[tuple[int, int]]] = [[] for _ in range(plan.N)]
        for n in plan.net.neurons:
            for j, src in enumerate(n.sources):
                if src >= 0:
                    users[src].append((n.index, j))
        plan._users = users  # type: ignore[attr-defined]
    return plan._users  # type: ignore[attr-defined]


def locally_zero(plan: Plan, fwd: Any, w: list[float], k: int, i: int,
                 exact_y: dict[tuple[int, int], Fraction], choice: Choice,
                 limit: int = 20_000) -> bool:
    """Whether the adjoint of copy (k, i) is exactly 0 because AD's tangent from it dies
    out: forward mode from a unit tangent at neuron k's output, with the derivatives AD
    uses (exact: certain pieces of affine-piece activations, chosen derivatives at
    kinks), reaches no output (the adjoint is the transpose of that map).  This is what
    cancels along a max pool's chain ``m + relu(s - m)`` below the window's maximum,
    where certified adjoints carry radii (they add); False where it cannot say (a smooth
    activation, an undecided piece, an output reached, more than ``limit`` neurons)."""
    import heapq

    net = plan.net
    outputs = set(plan.outputs)
    users = _users(plan)
    y, ry = fwd.y, fwd.ry
    tan: dict[int, Fraction] = {k: Fraction(1)}
    heap = sorted({u for u, _ in users[k]})
    seen = set(heap)
    if k in outputs:
        return False
    while heap:
        u = heapq.heappop(heap)
        limit -= 1
        n = net.neurons[u]
        if limit < 0 or n.op not in ("", "max") or not _linear_pieces(n.activation):
            return False
        t = sum((Fraction(w[n.weights[j][1]]) if n.weights[j][0] == "param"
                 else n.weights[j][1]) * tan[s]
                for j, s in enumerate(n.sources) if s in tan)
        if t == 0:
            continue
        act = n.activation
        if (u, i) in exact_y:
            d = act.derivative(exact_y[(u, i)], choice)
        else:
            yv, rv = float(y[u, i]), float(ry[u, i])
            if rv == 0:
                d = act.derivative(Fraction(yv), choice)
            elif all(abs(yv - float(c)) > rv for c in act.breakpoints):
                d = act.slope_left(Fraction(yv))  # the exact value's piece: affine
            else:
                return False
        if d == 0:
            continue
        if u in outputs:
            return False
        tan[u] = t * d
        for v, _ in users[u]:
            if v not in seen:
                seen.add(v)
                heapq.heappush(heap, v)
    return True


def _seeds(plan: Plan, fwd: Any, examples: list[int], batch: Batch, loss: str, B: int
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """dL/dz at the outputs for the examples (n_out, E), float64 with radii."""
    net = plan.net
    ex = torch.tensor(examples, dtype=torch.int64)
    z = fwd.outputs_of(plan.outputs)[:, ex]
    rz = fwd.outputs_of(plan.outputs, radii=True)[:, ex]
    n_out = len(plan.outputs)
    if loss == "sum":
        g = torch.empty(n_out, len(examples), dtype=F64)
        r = torch.zeros(n_out, len(examples), dtype=F64)
        for j, c in enumerate(net.head.coefs):
            for e, i in enumerate(examples):
                q = c * batch.y[i][0]
                g[j, e] = float(q)
                if Fraction(float(q)) != q:
                    r[j, e] = 4 * U * abs(float(q)) + 2.0 ** -1070
        return g, r
    if loss == "mse":
        t = torch.tensor([[float(v) for v in batch.y[i]] for i in examples], dtype=F64).t()
        s = 2.0 / (B * n_out)
        diff = z - t
        g = diff * s
        r = ((rz + 2 * U * (z.abs() + t.abs())) * s + 4 * U * g.abs()) * INFLATE + 2.0 ** -1070
        return g, r
    logits = z
    m = logits.amax(0, keepdim=True)
    e = torch.exp(logits - m)
    sm = e / e.sum(0, keepdim=True)
    yt = getattr(batch, "yt", None)  # the audited rows' targets as a tensor
    cls = yt[ex, 0].to(torch.int64) if yt is not None else \
        torch.tensor([int(batch.y[i][0]) for i in examples], dtype=torch.int64)
    onehot = torch.zeros_like(sm)
    onehot[cls, torch.arange(len(examples))] = 1.0
    g = (sm - onehot) / B
    # softmax is 1/2-Lipschitz in the max norm; exp within 2^-40 relative (libm) is
    # covered by the 2^-36 margin
    r = ((0.5 * rz.amax(0, keepdim=True) + 2.0 ** -36) / B) * INFLATE
    return g, r.expand_as(g).clone()


def exact_audit(plan: Plan, w: torch.Tensor, x: torch.Tensor, batch: Batch, loss: str,
                choice: Choice = "pytorch", budget: int | None = DEFAULT_BUDGET,
                work: int = DEFAULT_EXACT_WORK, fwd: Any = None,
                deadline: Deadline = NO_DEADLINE, progress: bool = False,
                shortcut: Callable[[], bool] | None = None) -> ExactResult:
    """The exact audit at parameters ``w`` (float64, exact) on the batch (``x`` its inputs
    as a float64 (B, n_in) tensor, exact; ``batch`` the same inputs and the targets).
    Past ``work`` or the ``deadline``: undecided with the reason.  ``progress``: a bar
    on a terminal while copies are evaluated exactly.  ``shortcut``: asked before the
    oracle runs; True (another certificate decides the batch) ends the audit undecided."""
    t0 = time.perf_counter()
    net = plan.net
    B = x.shape[0]
    fwd = fwd if fwd is not None else plan.forward(w, x)
    t_filter = time.perf_counter() - t0
    ex = _Exact(net, batch, loss, B, w, choice, work, deadline)
    ex.progress = progress
    ex.shortcut = shortcut
    secs = {"filter": t_filter}
    try:
        return _audit(plan, w, x, batch, loss, choice, budget, fwd, ex, secs, t0)
    except Undecided as e:
        if ex.split is not None:  # every kink known and the dead ones set aside
            kinked, dead = ex.split
        else:
            kinked = [Copy(int(k), int(i), Fraction(float(fwd.y[k, i])))
                      for k, i in fwd.kink.nonzero().tolist()]
            dead = []
        return ExactResult(kinked, sorted({c.example for c in kinked}), None, None, None,
                           e.reason, "undecided", uncertain=int(fwd.uncertain.sum()),
                           dead=dead, kinks_known=ex.split is not None,
                           exact_examples=len(ex.fw),
                           seconds={**secs, "total": time.perf_counter() - t0})


def _audit(plan: Plan, w: torch.Tensor, x: torch.Tensor, batch: Batch, loss: str,
           choice: Choice, budget: int | None, fwd: Any, ex: _Exact,
           secs: dict[str, float], t0: float) -> ExactResult:
    net = plan.net
    B = x.shape[0]
    y = fwd.reader("Y", False)
    kinked: list[Copy] = [Copy(k, i, Fraction(y(k, i))) for k, i in fwd.kinks()]
    exact_y: dict[tuple[int, int], Fraction] = {}
    unc = fwd.uncertains()
    bar = Progress(len(unc), "exact copies", enabled=ex.progress and len(unc) > 1,
                   unit="copies")
    try:
        for done, (k, i) in enumerate(unc):
            bar.update(done)
            yk = ex.y(i, k)
            exact_y[(k, i)] = yk
            if net.neurons[k].activation.is_kink(yk):
                kinked.append(Copy(k, i, yk))
    finally:
        bar.close()
    kinked.sort(key=lambda c: (c.example, c.neuron))
    if kinked:
        lc = _constancy(plan, fwd, ex)
        dead = [c for c in kinked if lc.y_constant(c.neuron, c.example)]
        kinked = [c for c in kinked if not lc.y_constant(c.neuron, c.example)]
    else:
        dead = []
    ex.split = (kinked, dead)
    examples = sorted({c.example for c in kinked})

    def result(**kw: Any) -> ExactResult:
        secs["total"] = time.perf_counter() - t0
        base: dict[str, Any] = {
            "kinked": kinked, "kinked_examples": examples, "uncertain": len(unc), "dead": dead,
            "exact_examples": len(ex.fw), "seconds": secs, "witness": None, "undecided": None}
        base.update(kw)
        return ExactResult(**base)

    if not kinked:
        return result(ns=False, differentiable=True, inc=False,
                      certificate="no kinked copy (L is C^1 near w)" if not dead else
                      "every kinked copy's input is locally constant (dead kinks: no kink "
                      "for differentiability, no choice point for AD)")
    t1 = time.perf_counter()
    g, rg = _seeds(plan, fwd, examples, batch, loss, B)
    bw = plan.backward(fwd, examples, g, rg, choice, exact_y)
    secs["backward"] = time.perf_counter() - t1
    col = {e: c for c, e in enumerate(examples)}

    wl = functools.cache(w.tolist)  # the parameters as floats, read once if need be

    def status(c: Copy, need: bool) -> str | None:
        v, r = float(bw.zbar[c.neuron, col[c.example]]), float(bw.rzbar[c.neuron, col[c.example]])
        c.zbar_approx = v
        if abs(v) > r:
            c.zbar = "non-zero"
        elif v == 0 and r == 0 or need and locally_zero(plan, fwd, wl(), c.neuron, c.example, exact_y, choice):
            c.zbar = "zero"
        elif need:
            c.zbar = "zero" if is_zero(ex.zbar(c.example, c.neuron)) else "non-zero"
        return c.zbar

    by_neuron: dict[int, list[Copy]] = {}
    for c in kinked:
        by_neuron.setdefault(c.neuron, []).append(c)
    top = None
    for k in sorted(by_neuron, reverse=True):
        sts = [status(c, need=False) for c in by_neuron[k]]
        if "non-zero" in sts:
            top = k
            break
        if any(s is None for s in sts) and any(
                status(c, need=True) == "non-zero" for c in by_neuron[k] if c.zbar is None):
            top = k
            break
    for c in kinked:
        if c.zbar is None:
            status(c, need=False)
    if top is None:
        return result(ns=False, differentiable=True, inc=False,
                      certificate="no kinked copy with a non-zero adjoint (T5b)")
    t2 = time.perf_counter()
    found = _group_test(plan, fwd, ex, by_neuron[top], top, col, bw,
                        lambda c: status(c, need=True))
    secs["groups"] = time.perf_counter() - t2
    groups, witness = found
    if witness is not None:
        return result(ns=True, differentiable=False, inc=False, top=top, groups=groups,
                      witness=witness,
                      certificate=f"topmost group test at {net.neurons[top].label}: "
                                  f"{groups} group(s), one does not cancel")
    # fallback: the oracle on the kinked examples (unless a cheaper certificate decides)
    if ex.shortcut is not None and ex.shortcut():
        raise Undecided("another certificate decides the batch")
    t3 = time.perf_counter()
    size = len(examples) * ex.size
    if size > ex.work_left:
        raise Undecided(f"the oracle would run on {len(examples)} kinked examples of "
                        f"{ex.size} terms each, beyond the work limit")
    sub = sub_network(net, batch, examples, loss, B)
    verdict = decide(sub, ex.wq, choice, mode="fast", budget=budget, deadline=ex.deadline)
    secs["oracle"] = time.perf_counter() - t3
    cert = f"oracle on the {len(examples)} kinked example(s): {verdict.certificate}"
    if verdict.differentiable is None:
        return result(ns=True, differentiable=None, inc=None, top=top, groups=groups,
                      undecided=verdict.reason, certificate=cert, subnet=sub)
    if not verdict.differentiable:
        wit = {"kind": "phi(v) != sum_i v_i phi(e_i)",
               "v": {net.param_names[p]: str(c) for p, c in enumerate(verdict.witness or ())
                     if c != 0}}
        return result(ns=True, differentiable=False, inc=False, top=top, groups=groups,
                      witness=wit, certificate=cert, subnet=sub)
    sfw = forward(sub, ex.wq)
    ad = backward(sub, ex.wq, sfw, choice).grad
    try:
        inc = not same_vector(ad, verdict.grad or ())
    except Undecided as e:
        return result(ns=True, differentiable=True, inc=None, top=top, groups=groups,
                      undecided=f"comparing AD with the gradient: {e.reason}",
                      certificate=cert, subnet=sub)
    return result(ns=True, differentiable=True, inc=inc, top=top, groups=groups,
                  certificate=cert, ad=ad, grad=verdict.grad, subnet=sub)


def _group_test(plan: Plan, fwd: Any, ex: _Exact, copies: list[Copy], top: int,
                col: dict[int, int], bw: Any, resolve: Any
                ) -> tuple[int, dict[str, Any] | None]:
    """:func:`~adcorrect.audit.groups.group_test` at neuron k* = ``top``, with the certified
    float64 values (exact ones where the radius is 0, else the exact engine's)."""
    slots = plan.exclusive[top]
    n_in = plan.n_in
    srcs = [s for p in sorted(slots) for s in slots[p]]
    nodes = [0 if s is None else -s - 1 if s < 0 else n_in + s for s in srcs]
    z, rz = fwd.reader("Z", True), fwd.reader("RZ", True)

    def source_values(c: Copy) -> list[Fraction]:
        i = c.example
        return [Fraction(1) if s is None else Fraction(z(k, i)) if rz(k, i) == 0 else ex.z(i, s)
                for s, k in zip(srcs, nodes)]

    def adjoint(c: Copy) -> tuple[float, float]:
        j = col[c.example]
        return float(bw.zbar[c.neuron, j]), float(bw.rzbar[c.neuron, j])

    return group_test(plan.net, slots, copies, source_values, adjoint,
                      lambda c: ex.zbar(c.example, c.neuron), resolve)
