"""The exact side of an audit for models with smooth operations (tanh, GELU, LayerNorm,
softmax, products, ...): the batched network is decided by the certified oracle
(:mod:`adcorrect.exact.certified`) over certified values, exact where they can be and Arb
balls elsewhere.  Its answer has the keys of the exact audit's (:mod:`.run`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np

from ..core.deadline import Deadline
from ..exact.certified import NO_KINK, CertifiedResult, certified_oracle
from ..exact.certquick import balls, quick_forward
from ..exact.certvec import quick_copies
from ..nets.activations import Choice
from ..nets.batch import Batch, batched, whole_batched
from ..nets.ir import Network
from ..numbers.cvalue import MAX_PRECISION, START_PRECISION, precision, text, to_float
from ..torchfx.ops import example_of


def batch_of(x: Any, y: Any, shape: tuple[int, ...]) -> Batch:
    """The exact batch (rows of x and y as sequences of Fractions)."""
    return Batch(tuple(tuple(r) for r in x), tuple(tuple(r) for r in y), shape)


@dataclass
class Quick:
    """The vectorised quick pass's answer: a verdict (no copy meets a kink), or the
    examples whose copies may meet one (``open_rows``, to be decided exactly); the
    outputs per example (those of open rows mean nothing)."""

    result: CertifiedResult | None
    outs: list[list[float]]
    open_rows: list[int]


def quick_decide(net: Network, whole: Network | None, floats: tuple[Any, Any], B: int
                 ) -> Quick | None:
    """The vectorised quick pass alone (nothing exact is built): differentiable, with the
    outputs per example, when no copy meets a kink; the examples left open when some do;
    None when it cannot tell (a whole-batch network that meets a kink, a function it
    declines).  ``floats``: the parameters and the inputs (B, n_in) as float64 arrays
    holding their exact values."""
    wv, xs = floats
    got = quick_copies(net, wv, xs) if whole is None else quick_copies(whole, wv,
                                                                        xs.reshape(1, -1))
    if got is None or (whole is not None and got[2].any()):
        return None
    mid, _, bad = got
    outs = mid.reshape(B, -1).tolist()
    if bad.any():
        return Quick(None, outs, [int(i) for i in np.flatnonzero(bad)])
    return Quick(CertifiedResult(True, True, NO_KINK, 53, (), ns=False), outs, [])


@dataclass
class Decided:
    """The certified oracle's verdict: the batched network it decided (None where the
    ball pass ran copy by copy and found no kink), the result, the outputs per example
    (floats, for the forward check) and, where only some examples were decided, their
    places in the batch (``examples[i]`` for the decided network's example i)."""

    subject: Network | None
    result: CertifiedResult
    outs: list[list[float]]
    examples: list[int] | None = None


def decide_batch(net: Network, batch: Batch, loss: str, w: list[Fraction], choice: Choice,
                 time_limit: float | None, max_precision: int = MAX_PRECISION,
                 whole: Network | None = None, quick: Quick | None = None) -> Decided:
    """The certified oracle's verdict at w on the batch (copies of net, or the whole-batch
    network ``whole``) where :func:`quick_decide` gave no verdict.  Given its open rows,
    only those examples are decided: every other copy is C1 near w, so the loss is
    differentiable iff the open examples' part is, and AD is correct iff it is there; the
    part keeps the batch's loss scale, so adjoints are the batch's."""
    if quick is not None and whole is None and quick.open_rows:
        rows = quick.open_rows
        sub = Batch(tuple(batch.x[i] for i in rows), tuple(batch.y[i] for i in rows),
                    batch.shape)
        subject = batched(net, sub, loss)
        if loss in ("mse", "ce"):
            n = len(net.head.outputs) if loss == "mse" else 1
            subject = replace(subject, head=replace(subject.head,
                                                    scale=Fraction(1, batch.size * n)))
        r = certified_oracle(subject, w, choice, max_precision, Deadline(time_limit))
        outs = [list(o) for o in quick.outs]
        for i, o in zip(rows, _outputs(subject, r, len(rows))):
            outs[i] = o
        return Decided(subject, r, outs if r.forward is not None else [], rows)
    if whole is None:
        quick_balls = _quick_copies(net, batch, w)
        if quick_balls is not None:
            return Decided(None, *quick_balls)
        subject = batched(net, batch, loss)  # the ball pass has run: straight to the oracle
    else:
        subject = whole_batched(whole, batch, loss)
    r = certified_oracle(subject, w, choice, max_precision, Deadline(time_limit),
                         quick=whole is not None)
    return Decided(subject, r, _outputs(subject, r, batch.size))


def _outputs(subject: Network, r: CertifiedResult, B: int) -> list[list[float]]:
    """The decided network's outputs per example (floats), or [] without a forward pass."""
    if r.forward is None:
        return []
    outs = [to_float(r.forward.z[o]) for o in subject.head.outputs]
    n = len(outs) // B
    return [outs[i * n:(i + 1) * n] for i in range(B)]


def _quick_copies(net: Network, batch: Batch, w: list[Fraction]
                  ) -> tuple[CertifiedResult, list[list[float]]] | None:
    """The quick pass in balls copy by copy (no batched network is built): differentiable
    when no copy meets a kink, else None."""
    bits = min(START_PRECISION, MAX_PRECISION)
    outs = []
    with precision(bits):
        wb = balls(w)
        for row in batch.x:
            fw = quick_forward(net, wb, row)
            if fw is None:
                return None
            outs.append([to_float(fw.z[o]) for o in net.head.outputs])
    return CertifiedResult(True, True, NO_KINK, bits, (), ns=False), outs


def exact_json(subject: Network | None, r: CertifiedResult, rounds: int,
               whole: Network | None = None, examples: list[int] | None = None
               ) -> dict[str, Any]:
    """The ``exact`` key of the audit's answer (``whole``: the whole-batch network;
    ``examples``: the decided examples' places in the batch, see :class:`Decided`)."""
    copies = []
    if r.forward is not None and subject is not None:
        label = [n.label for n in subject.neurons]
        for k in r.kinked:
            zb = r.zbar[k] if r.zbar else None
            n = subject.neurons[k]
            ex = n.example if whole is None else example_of(n.label)
            ex = ex if examples is None or ex is None else examples[ex]
            copies.append({"neuron": label[n.base] if whole is None else n.label.split("#")[0],
                           "example": ex,
                           "kink": str(r.forward.y[k]),
                           "zbar": None if zb is None else text(zb, 10),
                           "zbar_approx": None if zb is None else to_float(zb)})
    return {
        "kinked": len(r.kinked),
        "kinked_examples": len({c["example"] for c in copies}),
        "ns": r.ns, "differentiable": r.differentiable, "inc": r.inc,
        "undecided": None if r.decided else r.how,
        "certificate": r.how if r.decided else None, "witness": None,
        "kinks_known": r.decided or r.forward is not None, "top": None, "groups": None,
        "uncertain": 0 if r.decided or r.forward is not None else None,
        "exact_examples": rounds,
        "copies": copies, "dead": 0, "dead_copies": [], "engine": "certified",
        "precision": r.precision,
    }
