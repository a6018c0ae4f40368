"""The exact side of an audit for models with smooth operations (tanh, GELU, LayerNorm,
softmax, products, ...): the batched network is decided by the certified oracle
(:mod:`adcorrect.exact.certified`) over certified values, exact where they can be and Arb
balls elsewhere.  Its answer has the keys of the exact audit's (:mod:`.run`)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..core.deadline import Deadline
from ..exact.certified import CertifiedResult, certified_oracle
from ..nets.activations import Choice
from ..nets.batch import Batch, batched
from ..nets.ir import Network
from ..numbers.cvalue import MAX_PRECISION, text, to_float


def batch_of(x: Any, y: Any, shape: tuple[int, ...]) -> Batch:
    """The exact batch (rows of x and y as sequences of Fractions)."""
    return Batch(tuple(tuple(r) for r in x), tuple(tuple(r) for r in y), shape)


def decide_batch(net: Network, batch: Batch, loss: str, w: list[Fraction], choice: Choice,
                 time_limit: float | None, max_precision: int = MAX_PRECISION
                 ) -> tuple[Network, CertifiedResult]:
    """The batched network and the certified oracle's verdict at w."""
    subject = batched(net, batch, loss)
    return subject, certified_oracle(subject, w, choice, max_precision, Deadline(time_limit))


def exact_json(subject: Network, r: CertifiedResult, rounds: int) -> dict[str, Any]:
    """The ``exact`` key of the audit's answer."""
    label = [n.label for n in subject.neurons]
    copies = []
    if r.forward is not None:
        for k in r.kinked:
            zb = r.zbar[k] if r.zbar else None
            copies.append({"neuron": label[subject.neurons[k].base],
                           "example": subject.neurons[k].example,
                           "kink": str(r.forward.y[k]),
                           "zbar": None if zb is None else text(zb, 10),
                           "zbar_approx": None if zb is None else to_float(zb)})
    return {
        "kinked": len(r.kinked),
        "kinked_examples": len({subject.neurons[k].example for k in r.kinked}),
        "ns": r.ns, "differentiable": r.differentiable, "inc": r.inc,
        "undecided": None if r.decided else r.how,
        "certificate": r.how if r.decided else None, "witness": None,
        "kinks_known": r.forward is not None, "top": None, "groups": None,
        "uncertain": 0 if r.forward is not None else None, "exact_examples": rounds,
        "copies": copies, "dead": 0, "dead_copies": [], "engine": "certified",
        "precision": r.precision,
    }
