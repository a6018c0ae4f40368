"""The certified oracle: differentiability and AD correctness at one parameter vector of a
network with smooth operations (THEORY.md section 8: C1 pre-activations, activations C1
between kinks; Coq: `T1_ad_correct_smooth_tau`, `T3_ndf_iff_NS_smooth_tau`,
`smooth_tau_differentiable_iff_linearised`).

Values are certified (:mod:`adcorrect.exact.certval`).  Every decision is exact, certified
by an enclosure, or `undecided` with its reason:

* no neuron on a kink (every enclosure excludes the kinks): f is C1 near w, so it is
  differentiable and AD is its gradient (every choice);
* kinks on one level (no kinked neuron's pre-activation depends on another kinked one):
  the one-sided derivative is ``phi(v) = c.v + sum_k J_k relu(a_k . v)`` with ``a_k`` the
  tangent form of kinked neuron k and ``J_k = zbar_k (sigma'_+ - sigma'_-)`` its jump.
  - every ``J_k`` or ``a_k`` exactly zero: phi is linear; f is differentiable and AD
    equals the gradient (the difference is ``sum_k zbar_k (D_k - sigma'_-) a_k = 0``);
  - a kinked neuron whose jump is certified non-zero and whose tangent form is certified
    parallel to no other active one: its crease ``a_k . v = 0`` cannot be cancelled, so f
    is not differentiable;
  - otherwise (parallel creases, whose jumps may cancel): undecided, exact cancellation
    of transcendental numbers is not decided here;
* kinks on several levels: undecided.

The precision starts at 64 bits and doubles while an enclosure is ambiguous, up to
``max_precision`` (``--precision``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from ..core.deadline import NO_DEADLINE, Deadline
from ..core.errors import Undecided
from ..nets.activations import Choice
from ..nets.ir import Network
from ..numbers.cvalue import (
    MAX_PRECISION,
    START_PRECISION,
    ZERO,
    Num,
    add,
    is_zero,
    mul,
    nonzero,
    precision,
    sign,
    sub,
)
from .certquick import quick_forward
from .certval import Ambiguous, CBackward, CForward, backward, forward, head_grad, head_value


@dataclass
class CertifiedResult:
    """What the certified oracle decided at one point (None: undecided)."""

    differentiable: bool | None
    ad_correct: bool | None
    how: str  # the certificate, or why undecided
    precision: int
    kinked: tuple[int, ...] = ()
    ns: bool | None = None
    f: Num = ZERO
    ad: tuple[Num, ...] = ()
    jumps: dict[int, Num] = field(default_factory=dict)
    forward: CForward | None = None
    zbar: tuple[Num, ...] = ()

    @property
    def decided(self) -> bool:
        return self.differentiable is not None

    @property
    def inc(self) -> bool | None:
        """Differentiable with AD wrong (never, where this oracle decides)."""
        if self.differentiable is False:
            return False
        if self.differentiable is None or self.ad_correct is None:
            return None
        return not self.ad_correct


def _tangent(net: Network, w: Sequence[Num], fw: CForward, k: int, choice: Choice,
             deadline: Deadline = NO_DEADLINE) -> CBackward:
    return backward(net, w, fw, choice, {}, stop=k, deadline=deadline)


def _support(a: Sequence[Num]) -> list[int]:
    """The indices of the entries that are not exact zeros."""
    return [j for j, v in enumerate(a) if not is_zero(v)]


def _parallel_unknown(a: Sequence[Num], b: Sequence[Num], sa: list[int], sb: list[int]
                      ) -> bool:
    """False when a and b are certified not parallel; True otherwise (maybe parallel).
    ``sa``, ``sb``: their supports (:func:`_support`); where both are exact zeros the
    cross products a_i b_j - a_j b_i are exact zeros, so only the supports are read."""
    i = next((j for j in sa if nonzero(a[j])), None)
    if i is None:
        return True
    for j in sorted(set(sa) | set(sb)):
        if nonzero(sub(mul(a[i], b[j]), mul(a[j], b[i]))):
            return False
    return True


NO_KINK = "no neuron on a kink (every enclosure excludes the kinks): f is C1 near w"


def _total(xs: Sequence[Num]) -> Num:
    acc: Num = ZERO
    for x in xs:
        acc = add(acc, x)
    return acc


def _decide(net: Network, w: Sequence[Num], choice: Choice, deadline: Deadline,
            bits: int) -> CertifiedResult:
    fw = forward(net, w, deadline)
    bw = backward(net, w, fw, choice, head_grad(net.head, fw.z), deadline=deadline)
    f = head_value(net.head, fw.z)
    K = fw.kinked

    def result(d: bool | None, ok: bool | None, how: str, **kw: object) -> CertifiedResult:
        return CertifiedResult(d, ok, how, bits, K, f=f, ad=bw.grad, forward=fw,  # type: ignore[arg-type]
                               zbar=bw.zbar, **kw)

    if not K:
        return result(True, True, NO_KINK, ns=False)
    tangents: dict[int, tuple[Num, ...]] = {}
    for k in K:
        deadline.check("tangent forms of the kinked neurons")
        t = _tangent(net, w, fw, k, choice, deadline)
        above = [j for j in K if j < k and not is_zero(t.zbar[j])]
        if above:
            return result(None, None, f"kinks on several levels (neuron {net.neurons[k].label}"
                          f" depends on kinked neuron {net.neurons[above[0]].label})")
        tangents[k] = t.grad
    jumps: dict[int, Num] = {}
    for k in K:
        kk = fw.sides[k].kink
        assert kk is not None
        jumps[k] = mul(bw.zbar[k], kk.right - kk.left)
    ns_known = all(is_zero(bw.zbar[k]) or nonzero(bw.zbar[k]) for k in K)
    ns = any(nonzero(bw.zbar[k]) for k in K) if ns_known else None
    # kinked neurons with one activation computing the same function (equal value
    # numbers) are one crease: their jumps add (and one theta: AD stays right where the
    # sum is 0)
    crease: dict[tuple[int, object, Fraction], list[int]] = {}
    for k in K:
        kk = fw.sides[k].kink
        crease.setdefault((fw.ykeys[k], net.neurons[k].activation, kk.at),  # type: ignore[union-attr]
                          []).append(k)
    merged = {ks[0]: _total([jumps[j] for j in ks]) for ks in crease.values()}
    active = [k for k, jk in merged.items()
              if not is_zero(jk) and not all(map(is_zero, tangents[k]))]
    jumps = {**jumps, **merged}
    if not active:
        return result(True, True, "every kinked neuron has a zero jump or a zero tangent "
                      "form: phi is linear", ns=ns, jumps=jumps)
    for k in active:
        if sign(jumps[k]) is None or not any(nonzero(v) for v in tangents[k]):
            raise Ambiguous(f"the jump or the tangent form of kinked neuron "
                            f"{net.neurons[k].label} is not certified non-zero")
    supp = {k: _support(tangents[k]) for k in active}
    for k in active:
        deadline.check("comparing crease directions")
        if all(not _parallel_unknown(tangents[k], tangents[j], supp[k], supp[j])
               for j in active if j != k):
            return result(False, None, f"a crease no other kink can cancel: neuron "
                          f"{net.neurons[k].label} is on a kink with jump certified non-zero "
                          "and a tangent form parallel to no other kinked neuron's",
                          ns=ns, jumps=jumps)
    return result(None, None, "kinked neurons with parallel tangent forms: whether their "
                  "jumps cancel needs an exact comparison of transcendental numbers",
                  ns=ns, jumps=jumps)


def certified_oracle(net: Network, w: Sequence[Fraction], choice: Choice = "pytorch",
                     max_precision: int = MAX_PRECISION,
                     deadline: Deadline = NO_DEADLINE, quick: bool = False) -> CertifiedResult:
    """Decide differentiability and AD correctness of f at w, raising the precision while
    an enclosure is ambiguous; undecided (with the reason) beyond ``max_precision`` bits.
    With ``quick``, the balls-only pass (:mod:`.certquick`) goes first and answers alone
    when no enclosure meets a kink (AD is then not computed: ``ad`` is empty)."""
    bits = min(START_PRECISION, max_precision)
    if quick:
        with precision(bits):
            fw = quick_forward(net, w)
            if fw is not None:
                return CertifiedResult(True, True, NO_KINK, bits, (), ns=False,
                                       f=head_value(net.head, fw.z), forward=fw)
    while True:
        with precision(bits):
            try:
                return _decide(net, w, choice, deadline, bits)
            except Ambiguous as e:
                if bits * 2 > max_precision:
                    return CertifiedResult(None, None, f"{e.reason} at {bits} bits (the "
                                           "precision limit; raise it with --precision)",
                                           bits)
            except Undecided as e:
                if "precision" not in e.reason or bits * 2 > max_precision:
                    return CertifiedResult(None, None, e.reason, bits)
        bits *= 2
