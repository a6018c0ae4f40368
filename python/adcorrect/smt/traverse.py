"""What the SMT encoders (:mod:`.encode`) and the float replay (:mod:`.fpexec`) share.

The adjoint seeds of a linear head, the consumers of every neuron (the order in
which both backward passes add up contributions), and the Horner plan of a
polynomial piece (the operation order both the float encoding and its replay
follow, so that they round identically).
"""

from __future__ import annotations

from fractions import Fraction

from ..nets.activations import Poly
from ..nets.ir import Network, Value
from .fparith import FPFormat


def output_seeds(net: Network) -> dict[int, Fraction]:
    """The adjoint injected at each output neuron: f = sum_o c_o z_o (linear heads only)."""
    net.require_linear_head("the SMT encoding")
    seeds: dict[int, Fraction] = {}
    for o, c in zip(net.head.outputs, net.head.coefs):
        seeds[o] = seeds.get(o, Fraction(0)) + c
    return seeds


def consumers(net: Network) -> dict[int, list[tuple[int, Value]]]:
    """For each neuron k, the (consumer j, weight slot) pairs with k among j's sources."""
    out: dict[int, list[tuple[int, Value]]] = {n.index: [] for n in net.neurons}
    for n in net.neurons:
        for src, wt in zip(n.sources, n.weights):
            if src >= 0:
                out[src].append((n.index, wt))
    return out


def horner_plan(p: Poly, fp: FPFormat) -> list[tuple[str, Fraction | None]]:
    """Steps evaluating p at y: ('const', c) | ('y', None) | ('mul_y', None) | ('add', c)."""
    coeffs = list(p)
    while coeffs and coeffs[-1] == 0:
        coeffs.pop()
    if not coeffs:
        return [("const", Fraction(0))]
    d = len(coeffs) - 1
    if d == 0:
        return [("const", coeffs[0])]
    plan: list[tuple[str, Fraction | None]] = (
        [("y", None)] if coeffs[d] == 1 else [("const", coeffs[d]), ("mul_y", None)])
    if coeffs[d - 1] != 0:
        plan.append(("add", coeffs[d - 1]))
    for i in range(d - 2, -1, -1):
        plan.append(("mul_y", None))
        if coeffs[i] != 0:
            plan.append(("add", coeffs[i]))
    return plan
