"""The exact side of an audit for models with smooth operations (tanh, GELU, LayerNorm,
softmax, products, ...): the batched network is decided by the certified oracle
(:mod:`adcorrect.exact.certified`) over certified values, exact where they can be and Arb
balls elsewhere.  Its answer has the keys of the exact audit's (:mod:`.run`)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..core.deadline import Deadline
from ..exact.certified import NO_KINK, CertifiedResult, certified_oracle
from ..exact.certquick import balls, quick_forward
from ..exact.certvec import quick_batch
from ..nets.activations import Choice
from ..nets.batch import Batch, batched, whole_batched
from ..nets.ir import Network
from ..numbers.cvalue import MAX_PRECISION, START_PRECISION, precision, text, to_float
from ..torchfx.ops import example_of


def batch_of(x: Any, y: Any, shape: tuple[int, ...]) -> Batch:
    """The exact batch (rows of x and y as sequences of Fractions)."""
    return Batch(tuple(tuple(r) for r in x), tuple(tuple(r) for r in y), shape)


def quick_decide(net: Network, whole: Network | None, floats: tuple[Any, Any], B: int
                 ) -> tuple[CertifiedResult, list[list[float]]] | None:
    """The vectorised quick pass alone (nothing exact is built): differentiable, with the
    outputs per example, when no copy meets a kink; else None.  ``floats``: the parameters
    and the inputs (B, n_in) as float64 arrays holding their exact values."""
    wv, xs = floats
    vec = quick_batch(net, wv, xs) if whole is None else quick_batch(whole, wv,
                                                                      xs.reshape(1, -1))
    if vec is None:
        return None
    return CertifiedResult(True, True, NO_KINK, 53, (), ns=False), \
        vec[0].reshape(B, -1).tolist()


def decide_batch(net: Network, batch: Batch, loss: str, w: list[Fraction], choice: Choice,
                 time_limit: float | None, max_precision: int = MAX_PRECISION,
                 whole: Network | None = None
                 ) -> tuple[Network | None, CertifiedResult, list[list[float]]]:
    """The certified oracle's verdict at w on the batch (copies of net, or the whole-batch
    network ``whole``) where :func:`quick_decide` declined, the batched network it decided
    (None where the ball pass ran copy by copy and found no kink), and the outputs per
    example (floats, for the forward check)."""
    if whole is None:
        quick = _quick_copies(net, batch, w)
        if quick is not None:
            return None, *quick
        subject = batched(net, batch, loss)  # the ball pass has run: straight to the oracle
    else:
        subject = whole_batched(whole, batch, loss)
    r = certified_oracle(subject, w, choice, max_precision, Deadline(time_limit),
                         quick=whole is not None)
    outs = [] if r.forward is None else [to_float(r.forward.z[o]) for o in subject.head.outputs]
    n = len(outs) // max(batch.size, 1)
    return subject, r, [outs[i * n:(i + 1) * n] for i in range(batch.size)] if outs else []


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
               whole: Network | None = None) -> dict[str, Any]:
    """The ``exact`` key of the audit's answer (``whole``: the whole-batch network)."""
    copies = []
    if r.forward is not None and subject is not None:
        label = [n.label for n in subject.neurons]
        for k in r.kinked:
            zb = r.zbar[k] if r.zbar else None
            n = subject.neurons[k]
            ex = n.example if whole is None else example_of(n.label)
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
