"""Which proved theorem covers a network at hand (THEORY.md sections 3, 8.1 and tied
networks; Coq: ``bias_network``, ``tied_bias``, ``kinked_dense``).

- **Bias network** (T1-T4): every neuron with a kinked activation has a bias parameter of
  its own (identity neurons exempt, :attr:`~adcorrect.nets.ir.Network.is_bias_network`).
- **Tied-bias network** (T7; batches are T6): the neurons fall into classes, here the
  classes of the bias parameter: every neuron whose activation has a kink has a bias
  parameter ``p`` that enters each neuron of its class (the neurons with bias ``p``) with
  coefficient 1 and no weight slot anywhere; classes are *ordered*: a neuron never reads
  a neuron of its own class, and the class graph has no cycle (unrolled recurrences
  read their own class: ``T7_recurrent_fails``).  Convolutions with bias (the positions
  of a channel) and batches of bias networks are tied.  A neuron without a kink forms a
  class of its own.
- **Theta-uniform choice**: within a class, one theta with D = sl + theta (sr - sl) at
  every kink of every activation (always for one-kink activations; PyTorch's hardtanh,
  relu6, hardsigmoid, hardswish, softshrink are not: their thetas at the two kinks
  differ).
- **Dense kinked neurons** (``T6_dense_every_choice``): in the single-example network
  every kinked neuron has a parameter bias and parameter weights only, each occurring in
  no other neuron; then T6 holds for every choice function.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from .activations import Activation, Choice
from .ir import Network, is_param


@dataclass(frozen=True)
class Coverage:
    """The structural facts and the theorem that applies (``theorem``, with ``why``)."""

    bias_network: bool
    tied: bool
    ordered: bool
    lacking: tuple[str, ...]  # kinked neurons without a class bias of their own (labels)
    classes: int  # classes with a kinked activation
    theta_uniform: bool
    dense: bool
    theorem: str  # "T1-T4", "T6", "T6_dense_every_choice", "T7" or "none"
    why: str
    lacking_count: int = -1  # how many lack one, when ``lacking`` lists only the first ones

    @property
    def n_lacking(self) -> int:
        """How many kinked neurons lack a class bias of their own."""
        return len(self.lacking) if self.lacking_count < 0 else self.lacking_count


@lru_cache(maxsize=256)
def kinked(act: Activation) -> bool:
    """Whether the activation has a kink (smooth activations included: elu(alpha != 1))."""
    return bool(act.kink_table())


@lru_cache(maxsize=256)
def thetas(act: Activation, choice: Choice) -> frozenset[Fraction]:
    """The thetas of ``choice`` at the activation's kinks: D = sl + theta (sr - sl)."""
    out = set()
    for _c, sl, sr, tc in act.kink_table():
        out.add((act.chosen(sl, sr, tc, choice) - sl) / (sr - sl))
    return frozenset(out)


def coverage(net: Network, batch: int, choice: Choice = "pytorch") -> Coverage:
    """What the theorems say about ``net`` (a single-example network) batched over
    ``batch`` examples with derivative choice ``choice``."""
    neurons = net.neurons
    weight_params = {v[1] for n in neurons for v in n.weights if is_param(v)}
    cls: dict[int, object] = {}
    members: dict[object, list[int]] = defaultdict(list)
    lacking: list[str] = []
    for n in neurons:
        b = n.bias
        key: object = ("bias", b[1]) if is_param(b) else ("own", n.index)  # type: ignore[index]
        cls[n.index] = key
        members[key].append(n.index)
        if kinked(n.activation) and (not is_param(b) or b[1] in weight_params):  # type: ignore[index]
            lacking.append(n.label)
    # ordered: no neuron reads its own class, and the class graph is acyclic
    edges: dict[object, set[object]] = defaultdict(set)
    ordered = True
    for n in neurons:
        for s in n.sources:
            if s >= 0:
                if cls[s] == cls[n.index]:
                    ordered = False
                edges[cls[s]].add(cls[n.index])
    if ordered:
        ordered = _acyclic(list(members), edges)
    kinked_classes = [k for k, ms in members.items()
                      if any(kinked(neurons[m].activation) for m in ms)]
    theta_uniform = all(len(set().union(*(thetas(neurons[m].activation, choice)
                                          for m in members[k]
                                          if kinked(neurons[m].activation)))) <= 1
                        for k in kinked_classes)
    dense = _dense(net)
    tied = not lacking and ordered
    bias = net.is_bias_network
    thm, why = theorem_for(bias, tied, len(lacking), len(kinked_classes), theta_uniform,
                           dense, batch)
    return Coverage(bias, tied, ordered, tuple(dict.fromkeys(lacking)), len(kinked_classes),
                    theta_uniform, dense, thm, why)


def theorem_for(bias: bool, tied: bool, lacking: int, classes: int, theta_uniform: bool,
                dense: bool, batch: int) -> tuple[str, str]:
    """The theorem that applies and why, from the structural facts of the single-example
    network (``lacking``: how many kinked neurons lack a class bias of their own,
    ``classes``: classes with a kinked neuron) batched over ``batch`` examples."""
    if bias and batch == 1:
        return "T1-T4", "a bias network (every kinked neuron has a bias of its own)"
    if bias and theta_uniform:
        return "T6", f"a batch of {batch} copies of a bias network, theta-uniform choice"
    if bias and dense:
        return "T6_dense_every_choice", (
            f"a batch of {batch} copies of a bias network whose kinked neurons are dense "
            "(every weight a trainable parameter)")
    if bias:
        return "none", ("a batched bias network, but the choice is not theta-uniform and "
                        "some kinked neuron is not dense (T6_needs_theta_uniform, "
                        "T6_skip_counterexample, T6_frozen_counterexample)")
    if tied and theta_uniform:
        return "T7", (f"tied biases: {classes} class(es) of kinked neurons, "
                      "each with a bias of its own; theta-uniform choice")
    if tied:
        return "none", "tied biases, but the choice is not theta-uniform (T7 needs it)"
    if lacking:
        return "none", (f"{lacking} kinked neuron(s) without a bias of their own "
                        "(only T5(b) and the oracle apply)")
    return "none", ("a neuron reads its own class (a recurrence): "
                    "T7_recurrent_fails; only T5(b) and the oracle apply")


def coverage_json(c: Coverage) -> dict[str, object]:
    """The coverage as JSON (the ``theorem`` key of check and audit)."""
    return {"applies": c.theorem, "why": c.why, "bias_network": c.bias_network,
            "tied_bias": c.tied, "classes_ordered": c.ordered,
            "kinked_classes": c.classes, "without_own_bias": list(c.lacking[:20]),
            "without_own_bias_count": c.n_lacking, "theta_uniform": c.theta_uniform,
            "dense": c.dense}


def theorem_line(j: dict[str, object]) -> str:
    """One line for people: which theorem applies and why."""
    return f"theorem that applies: {j['applies']} ({j['why']})"


def _dense(net: Network) -> bool:
    """Every kinked neuron: parameter bias, parameter weights, each parameter in no other
    neuron (Coq's ``kinked_dense``)."""
    owner: dict[int, set[int]] = defaultdict(set)
    for n in net.neurons:
        for v in (*n.weights, n.bias):
            if is_param(v):
                owner[v[1]].add(n.index)  # type: ignore[index]
    for n in net.neurons:
        if not kinked(n.activation):
            continue
        if not is_param(n.bias) or not all(is_param(v) for v in n.weights):
            return False
        if any(owner[v[1]] != {n.index} for v in (*n.weights, n.bias)):  # type: ignore[index]
            return False
    return True


def _acyclic(nodes: list[object], edges: dict[object, set[object]]) -> bool:
    indeg: dict[object, int] = {k: 0 for k in nodes}
    for a, outs in edges.items():
        for b in outs:
            if b != a:
                indeg[b] += 1
    todo = [k for k, d in indeg.items() if d == 0]
    seen = 0
    while todo:
        a = todo.pop()
        seen += 1
        for b in edges.get(a, ()):
            if b != a:
                indeg[b] -= 1
                if indeg[b] == 0:
                    todo.append(b)
    return seen == len(nodes)
