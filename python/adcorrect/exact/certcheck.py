"""What `check` reports for a network with smooth operations: the certified oracle's
verdict (:mod:`adcorrect.exact.certified`), the certified values of every neuron, AD as
enclosures, and the theorem over smooth pre-activations that applies."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from ..core.deadline import Deadline
from ..nets.activations import Choice
from ..nets.ir import Network
from ..nets.theorems import coverage, coverage_json
from ..numbers.cvalue import Num, is_exact, radius, text, to_float
from .certified import CertifiedResult, certified_oracle

#: the Coq theorems over smooth pre-activations that stand for T1-T4, T6 and T7
SMOOTH_THEOREMS = {
    "T1-T4": "T1_ad_correct_smooth_tau, T3_ndf_iff_NS_smooth_tau, T4_ad_in_clarke_smooth_tau",
    "T6": "T6_batch_ad_correct_smooth_tau_built",
    "T7": "T7_tied_ad_correct_smooth_tau",
}


def smooth_coverage(net: Network, batch: int, choice: Choice) -> dict[str, object]:
    """The theorem coverage of a network with smooth pre-activations."""
    return smooth_json(coverage_json(coverage(net, batch, choice)))


def smooth_json(j: dict[str, object]) -> dict[str, object]:
    """A coverage (:func:`~adcorrect.nets.theorems.coverage_json`) read for a network
    with smooth pre-activations: the Coq theorems over them, or none."""
    j = dict(j)
    name = str(j["applies"])
    if name in SMOOTH_THEOREMS:
        j["applies"] = SMOOTH_THEOREMS[name]
        j["why"] = f"{j['why']}; pre-activations are C1 (smooth operations)"
    elif name != "none":
        j["applies"] = "none"
        j["why"] = (f"{j['why']}; its smooth-pre-activation form is not proved: only the "
                    "certified oracle applies")
    return j


def _t(x: Num) -> str:
    return text(x, 10)


def certified_check(net: Network, subject: Network, w: Sequence[Fraction], choice: Choice,
                    max_precision: int, deadline: Deadline) -> tuple[dict[str, Any],
                                                                        CertifiedResult]:
    """The check dict (the keys of the exact check) and the oracle's result."""
    r = certified_oracle(subject, w, choice, max_precision, deadline)
    fw = r.forward
    kinks = set(r.kinked)
    neurons = [] if fw is None else [
        {"index": n.index, "name": n.label, "example": n.example, "layer": n.layer + 1,
         "unit": n.unit, "activation": n.activation.name + (f" [{n.op}]" if n.op else ""),
         "y": _t(fw.y[n.index]), "z": _t(fw.z[n.index]), "kink": n.index in kinks,
         "zbar": _t(r.zbar[n.index]) if r.zbar else "-"}
        for n in subject.neurons]
    ok = r.differentiable is True and r.ad_correct is True
    res: dict[str, Any] = {
        "network": net.name, "W": net.W, "params": dict(zip(net.param_names, map(str, w))),
        "choice": str(choice), "neurons": neurons,
        "f": _t(r.f) if fw is not None else "-", "f_exact": is_exact(r.f) and fw is not None,
        "layered": net.layers is not None, "kinks": sorted(kinks), "dead_kinks": [],
        "ns": r.ns, "differentiable": r.differentiable,
        "ad": [_t(a) for a in r.ad] if r.ad else None,
        "grad": [_t(a) for a in r.ad] if ok else None, "witness": None, "inc": r.inc,
        "certificate": r.how if r.decided else "undecided",
        "undecided": None if r.decided else r.how, "oracle": "certified",
        "precision": r.precision,
        "ad_approx": [to_float(a) for a in r.ad], "ad_radius": [radius(a) for a in r.ad],
        "bias_network": subject.is_bias_network,
        "no_exclusive_bias": list(dict.fromkeys(subject.neurons[k].label
                                                for k in subject.no_exclusive_bias)),
        "theorem": smooth_coverage(net, subject.batch, choice),
    }
    return res, r
