"""Exact numbers in Q(e^q : q rational) of the shape that cross-entropy adjoints take
(THEORY.md 8.2), with an exact zero test.

An :class:`ExpNum` is ::

    r + sum_g P_g / S_g

with ``r`` a Fraction and one *group* per distinct denominator
``S_g = sum_a mu_a e^{u_a}`` (a multiset of logit values: ``mu_a`` positive
integers) and a numerator ``P_g = sum_a p_a e^{u_a}`` over the same exponents
(``p_a`` Fractions).  The softmax output ``s_j = e^{l_j} / sum_i e^{l_i}`` is one
group; every adjoint of a network with cross-entropy losses is a rational linear
combination of such numbers from several examples, plus a rational.

Canonical form (kept by every operation):

* exponents are shifted so that the smallest one is 0, and multiplicities are
  divided by their gcd (numerators shifted and divided alike); so examples whose
  logits differ by a constant, or by repetition, share one group;
* ``p_0 = 0``: a group's value at exponent 0 is moved into ``r``
  (``P / S = c + (P - c S) / S`` with ``c = p_0 / mu_0``), so a group is a
  rational constant exactly when its numerator is 0, and such groups are dropped;
* groups are sorted by denominator.

Why the test is exact.  By Lindemann-Weierstrass, ``e^{u_1}, ..., e^{u_m}`` are
linearly independent over Q for distinct rationals ``u``, so
``Q[e^q : q in Q]`` is the group ring ``Q[Q]`` (formal sums ``sum c_q X^q``),
an integral domain, and a real identity between such numbers holds iff it holds
formally.  Let ``G = sum_g P_g / S_g`` be the group part and ``D = prod_g S_g``.

*Lemma (the rational part is determined).*  If ``G = c`` for a rational ``c``
then ``c = 0``.  Proof: ``sum_g P_g prod_{h != g} S_h = c D`` formally.  All
exponents are ``>= 0``; the coefficient of ``X^0`` on the right is
``c prod_g mu_{g,0}`` with every ``mu_{g,0} >= 1``; on the left it is 0, since
every ``P_g`` has coefficient 0 at ``X^0``.  So ``c = 0``.

Hence ``r + G = 0`` iff ``r = 0`` and ``G = 0``; the number is rational iff
``G = 0``; and equal numbers have equal ``r`` (so ``hash`` is ``hash(r)``).
With exactly one group, ``G = P / S = 0`` forces ``P = 0``, which the canonical
form excludes: one group is never zero, never rational.  With two or more
groups the test tries, in order, certificates that prove ``G != 0``:

* ``leading-term``: the coefficient of the top exponent of
  ``sum_g P_g prod_{h != g} S_h`` is ``prod_g mu_{g,top} * sum_g p_{g,top} / mu_{g,top}``;
  if the sum is not 0, ``G != 0``;
* ``modular``: the ring map ``X^{k/N} -> t^k`` into ``F_p`` (``p`` a Mersenne
  prime, ``t`` pseudo-random, ``N`` the common denominator of the exponents)
  sends a formal zero to zero; so a non-zero image of ``G`` (all ``S_g(t) != 0``
  and all coefficient denominators prime to ``p``) proves ``G != 0``;
* ``expansion``: otherwise ``sum_g P_g prod_{h != g} S_h`` is expanded as a sparse
  polynomial (integer exponents and coefficients); it is 0 iff ``G = 0``.  If
  the expansion would take more than ``budget`` term products,
  :class:`~adcorrect.core.errors.Undecided` is raised.  The test never guesses.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from fractions import Fraction
from itertools import pairwise
from numbers import Rational

from ..core.errors import Undecided

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_TRIALS",
    "Denominator",
    "ExpNum",
    "Group",
    "Scalar",
    "ZeroVerdict",
    "exact_is_zero",
]

DEFAULT_BUDGET = 200_000
"""Default bound on the term products of the exact expansion in the zero test."""

DEFAULT_TRIALS = 4
"""Default number of modular evaluations tried before the exact expansion."""

_PRIMES = (2**61 - 1, 2**89 - 1, 2**127 - 1)
_SEED = 20230802  # fixed: verdicts are reproducible; soundness does not depend on it


@dataclass(frozen=True, order=True, slots=True)
class Denominator:
    """``S = sum_a mu_a e^{u_a}``, normalised: exponents strictly increasing from 0,
    multiplicities positive integers with gcd 1."""

    exponents: tuple[Fraction, ...]
    multiplicities: tuple[int, ...]

    def __post_init__(self) -> None:
        u, mu = self.exponents, self.multiplicities
        if not u or len(u) != len(mu):
            raise ValueError("Denominator: need equally many (>= 1) exponents and multiplicities")
        if u[0] != 0 or any(a >= b for a, b in pairwise(u)):
            raise ValueError("Denominator: exponents must increase strictly from 0")
        if any(type(m) is not int or m <= 0 for m in mu) or math.gcd(*mu) != 1:
            raise ValueError("Denominator: multiplicities must be positive integers with gcd 1")

    def to_text(self) -> str:
        """E.g. ``2 e^{3/2} + e^{1} + 1``."""
        return _poly_text(self.exponents, tuple(Fraction(m) for m in self.multiplicities))


@dataclass(frozen=True, order=True, slots=True)
class Group:
    """``P / S``: numerator coefficients aligned with ``denominator.exponents``,
    canonical (coefficient 0 at exponent 0, not all 0)."""

    denominator: Denominator
    numerator: tuple[Fraction, ...]

    def __post_init__(self) -> None:
        p = self.numerator
        if len(p) != len(self.denominator.exponents):
            raise ValueError("Group: numerator and denominator lengths differ")
        if any(type(c) is not Fraction for c in p) or p[0] != 0 or not any(p):
            raise ValueError("Group: numerator must be Fractions, 0 at exponent 0, not all 0")

    def to_text(self) -> str:
        """E.g. ``(e^{3/2} - e^{1})/(2 e^{3/2} + e^{1} + 1)``."""
        num = _poly_text(self.denominator.exponents, self.numerator)
        return f"({num})/({self.denominator.to_text()})"


@dataclass(frozen=True, slots=True)
class ZeroVerdict:
    """Outcome of the exact zero test and the certificate that decided it: ``rational``
    (no group), ``constant-term`` (``r != 0``), ``single-group``, ``leading-term``,
    ``modular`` or ``expansion`` (see the module docstring)."""

    zero: bool
    certificate: str


def _new(cls: type, **fields: object) -> object:
    """Build a frozen slotted instance without re-validating (internal, canonical input)."""
    obj = object.__new__(cls)
    for name, value in fields.items():
        object.__setattr__(obj, name, value)
    return obj


def _fraction(q: object, what: str) -> Fraction:
    if isinstance(q, bool) or not isinstance(q, Rational):
        raise TypeError(f"{what} must be an exact rational (int or Fraction), got {q!r}")
    return q if type(q) is Fraction else Fraction(q.numerator, q.denominator)


@dataclass(frozen=True, eq=False, slots=True)
class ExpNum:
    """An exact number ``r + sum_g P_g / S_g`` (see the module docstring).

    Build with :meth:`rational`, :meth:`softmax`, :meth:`ce_grad`, then combine with
    ``+``, ``-`` and multiplication or division by ints and Fractions (either side).
    ``==`` and ``bool()`` use the exact zero test (they may raise
    :class:`~adcorrect.core.errors.Undecided`); ``hash(x) == hash(x.rational_part)``,
    consistent with ``==`` (equal numbers have equal rational parts) and with
    Fraction (``ExpNum.rational(q) == q``).  The constructor checks canonical form.
    """

    rational_part: Fraction = Fraction(0)
    groups: tuple[Group, ...] = ()

    def __post_init__(self) -> None:
        if type(self.rational_part) is not Fraction:
            raise TypeError("ExpNum: rational_part must be a Fraction")
        if any(type(g) is not Group for g in self.groups):
            raise TypeError("ExpNum: groups must be Group instances")
        dens = [g.denominator for g in self.groups]
        if any(a >= b for a, b in pairwise(dens)):
            raise ValueError("ExpNum: groups must have distinct, sorted denominators")

    # ---- construction ---------------------------------------------------------
    @classmethod
    def rational(cls, q: int | Fraction) -> ExpNum:
        """The rational number ``q``."""
        return _new(cls, rational_part=_fraction(q, "q"), groups=())

    @classmethod
    def softmax(cls, logits: Sequence[int | Fraction], j: int) -> ExpNum:
        """``s_j = e^{l_j} / sum_i e^{l_i}`` exactly."""
        return cls._softmax_all(logits)[_index(j, len(logits), "j")]

    @classmethod
    def ce_grad(
        cls, logits: Sequence[int | Fraction], target: int, scale: int | Fraction = 1
    ) -> tuple[ExpNum, ...]:
        """``dL/dl_j = scale * (s_j - [j = target])`` for ``j = 0..C-1``: the logit adjoints
        of ``scale`` times the cross-entropy ``-log s_target`` (``scale = 1/B`` for a
        mean over a batch of ``B``)."""
        s = cls._softmax_all(logits)
        t = _index(target, len(logits), "target")
        c = _fraction(scale, "scale")
        return tuple((sj - 1 if j == t else sj) * c for j, sj in enumerate(s))

    @classmethod
    def _softmax_all(cls, logits: Sequence[int | Fraction]) -> tuple[ExpNum, ...]:
        ls = [_fraction(x, "logit") for x in logits]
        if not ls:
            raise ValueError("softmax of an empty logit vector")
        low = min(ls)
        counts = Counter(x - low for x in ls)
        exps = tuple(sorted(counts))
        g = math.gcd(*counts.values())
        mus = tuple(counts[u] // g for u in exps)
        den = _new(Denominator, exponents=exps, multiplicities=mus)
        where = {u: a for a, u in enumerate(exps)}
        out = []
        for x in ls:
            p = [Fraction(0)] * len(exps)
            p[where[x - low]] += Fraction(1, g)
            r, group = _canonical_group(den, p)
            out.append(_new(cls, rational_part=r, groups=(group,) if group else ()))
        return tuple(out)

    @classmethod
    def sum(cls, terms: Iterable[ExpNum | int | Fraction]) -> ExpNum:
        """The sum of ``terms`` in time linear in their total size (``builtins.sum``
        also works, in quadratic time)."""
        r = Fraction(0)
        acc: dict[Denominator, list[Fraction]] = {}
        for t in terms:
            if isinstance(t, ExpNum):
                r += t.rational_part
                for grp in t.groups:
                    cur = acc.get(grp.denominator)
                    if cur is None:
                        acc[grp.denominator] = list(grp.numerator)
                    else:
                        for a, c in enumerate(grp.numerator):
                            cur[a] += c
            else:
                r += _fraction(t, "summand")
        groups = tuple(
            _new(Group, denominator=d, numerator=tuple(p)) for d, p in sorted(acc.items()) if any(p)
        )
        return _new(cls, rational_part=r, groups=groups)

    # ---- arithmetic -----------------------------------------------------------
    def _combine(self, other: ExpNum, k: Fraction) -> ExpNum:
        """``self + k * other``."""
        if not other.groups:
            return _new(ExpNum, rational_part=self.rational_part + k * other.rational_part,
                        groups=self.groups)
        acc = {g.denominator: g.numerator for g in self.groups}
        for g in other.groups:
            cur = acc.get(g.denominator)
            if cur is None:
                acc[g.denominator] = tuple(k * c for c in g.numerator)
            else:
                new = tuple(a + k * c for a, c in zip(cur, g.numerator, strict=True))
                if any(new):
                    acc[g.denominator] = new
                else:
                    del acc[g.denominator]
        groups = tuple(_new(Group, denominator=d, numerator=p) for d, p in sorted(acc.items()))
        return _new(ExpNum, rational_part=self.rational_part + k * other.rational_part,
                    groups=groups)

    def _scaled(self, k: Fraction) -> ExpNum:
        if k == 0:
            return ExpNum.rational(0)
        groups = tuple(
            _new(Group, denominator=g.denominator, numerator=tuple(k * c for c in g.numerator))
            for g in self.groups
        )
        return _new(ExpNum, rational_part=k * self.rational_part, groups=groups)

    def __add__(self, other: object) -> ExpNum:
        o = _coerce(other)
        return NotImplemented if o is None else self._combine(o, Fraction(1))

    __radd__ = __add__

    def __sub__(self, other: object) -> ExpNum:
        o = _coerce(other)
        return NotImplemented if o is None else self._combine(o, Fraction(-1))

    def __rsub__(self, other: object) -> ExpNum:
        o = _coerce(other)
        return NotImplemented if o is None else o._combine(self, Fraction(-1))

    def __neg__(self) -> ExpNum:
        return self._scaled(Fraction(-1))

    def __pos__(self) -> ExpNum:
        return self

    def __mul__(self, other: object) -> ExpNum:
        if isinstance(other, bool) or not isinstance(other, Rational):
            return NotImplemented
        return self._scaled(_fraction(other, "factor"))

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> ExpNum:
        if isinstance(other, bool) or not isinstance(other, Rational):
            return NotImplemented
        return self._scaled(1 / _fraction(other, "divisor"))

    # ---- exact tests ----------------------------------------------------------
    def decide_zero(
        self, *, budget: int = DEFAULT_BUDGET, trials: int = DEFAULT_TRIALS
    ) -> ZeroVerdict:
        """Whether the number is exactly 0, with the certificate that decided it.

        Raises :class:`~adcorrect.core.errors.Undecided` when two or more groups pass
        ``trials`` modular evaluations and the exact expansion would take more than
        ``budget`` term products.
        """
        if not self.groups:
            return ZeroVerdict(self.rational_part == 0, "rational")
        if self.rational_part != 0:
            return ZeroVerdict(False, "constant-term")
        return _groups_vanish(self.groups, budget, trials)

    def is_zero(self, *, budget: int = DEFAULT_BUDGET, trials: int = DEFAULT_TRIALS) -> bool:
        """Whether the number is exactly 0 (see :meth:`decide_zero`)."""
        return self.decide_zero(budget=budget, trials=trials).zero

    def is_rational(self, *, budget: int = DEFAULT_BUDGET, trials: int = DEFAULT_TRIALS) -> bool:
        """Whether the number is rational; then it equals :attr:`rational_part`."""
        if not self.groups:
            return True
        return _groups_vanish(self.groups, budget, trials).zero

    def as_fraction(
        self, *, budget: int = DEFAULT_BUDGET, trials: int = DEFAULT_TRIALS
    ) -> Fraction | None:
        """The number as a Fraction if it is rational, else None."""
        return self.rational_part if self.is_rational(budget=budget, trials=trials) else None

    def __eq__(self, other: object) -> bool:
        o = _coerce(other)
        if o is None:
            return NotImplemented
        if self.rational_part != o.rational_part:
            return False
        return self._combine(o, Fraction(-1)).is_zero()

    def __hash__(self) -> int:
        return hash(self.rational_part)

    def __bool__(self) -> bool:
        return not self.is_zero()

    # ---- output ---------------------------------------------------------------
    def approx(self, digits: int = 40, max_digits: int = 320) -> float:
        """The value as a float.

        Exponentials are evaluated relative to their group's largest exponent (the
        log-sum-exp shift: ``e^{1000}`` does not overflow, ``e^{-1000}`` does not
        vanish) in decimal arithmetic with an unbounded exponent range; ``r`` is
        folded exactly into the group of largest value, ``(P + r S) / S``, so that
        ``-1 + 1/(1 + e^{-100})`` is evaluated as ``-e^{-100}/(1 + e^{-100})``.
        The precision starts at ``digits`` significant digits and doubles (up to
        ``max_digits``) while cancellation between groups has left fewer than half
        of them, so tiny non-zero sums such as ``e^{-100}/(1+e^{-100}) -
        e^{-101}/(1+e^{-101})`` come out right; the result is rounded once to float.
        An exact 0 with two or more groups costs the evaluations up to ``max_digits``
        (about 10 ms at the default).  Values beyond the float range give ``+-inf``.
        Never use it to decide: see :meth:`is_zero`.
        """
        r = self.rational_part
        if not self.groups:
            return float(_decimal(r, Context(prec=digits, Emax=MAX_EMAX, Emin=MIN_EMIN)))
        while True:
            ctx = Context(prec=digits, Emax=MAX_EMAX, Emin=MIN_EMIN)
            parts = [_group_value(g.numerator, g, ctx) for g in self.groups]
            best = max(range(len(parts)), key=lambda i: abs(parts[i][0]))
            g = self.groups[best]
            folded = tuple(c + r * m for c, m in zip(g.numerator, g.denominator.multiplicities,
                                                     strict=True))
            parts[best] = _group_value(folded, g, ctx)
            total = size = Decimal(0)
            for value, magnitude in sorted(parts, key=lambda vm: abs(vm[0])):
                total = ctx.add(total, value)
                size = ctx.add(size, magnitude)
            if digits >= max_digits or abs(total) > ctx.scaleb(size, -(digits // 2)):
                return float(total)
            digits *= 2

    def to_text(self) -> str:
        """Exact text: ``r``, then each group ``(P)/(S)`` joined by `` + ``/`` - ``.

        Polynomials list terms by decreasing exponent, ``e^{u}`` with ``u`` an exact
        rational (after the shift that makes the smallest exponent 0), ``e^{0}`` as
        ``1``, integer coefficients as ``3 e^{u}``, others as ``(3/2) e^{u}``.  A group
        whose top coefficient is negative is written with `` - `` and negated.
        ``r`` is omitted when 0 and there are groups.  E.g.
        ``-3/4 + (3 e^{3/2} + e^{1})/(2 e^{3/2} + e^{1} + 1)``.
        """
        parts: list[str] = []
        if self.rational_part != 0 or not self.groups:
            parts.append(str(self.rational_part))
        for g in self.groups:
            lead = next(c for c in reversed(g.numerator) if c)
            text = (g if lead > 0 else _neg_group(g)).to_text()
            if parts:
                parts.append(("+ " if lead > 0 else "- ") + text)
            else:
                parts.append(text if lead > 0 else "-" + text)
        return " ".join(parts)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"ExpNum({self.to_text()!r})"


Scalar = Fraction | ExpNum
"""An exact adjoint: a Fraction, or an ExpNum when a cross-entropy loss is present."""


def exact_is_zero(x: Fraction | int | ExpNum, *, budget: int = DEFAULT_BUDGET) -> bool:
    """Exact zero test for a Fraction, int or ExpNum."""
    return x.is_zero(budget=budget) if isinstance(x, ExpNum) else x == 0


# ---- helpers ----------------------------------------------------------------------
def _index(j: int, n: int, what: str) -> int:
    if isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < n:
        raise IndexError(f"{what} = {j!r} is not a class index in 0..{n - 1}")
    return j


def _coerce(x: object) -> ExpNum | None:
    if isinstance(x, ExpNum):
        return x
    if isinstance(x, bool) or not isinstance(x, Rational):
        return None
    return ExpNum.rational(_fraction(x, "operand"))


def _decimal(q: Fraction, ctx: Context) -> Decimal:
    return ctx.divide(Decimal(q.numerator), Decimal(q.denominator))


def _group_value(
    numerator: tuple[Fraction, ...], g: Group, ctx: Context
) -> tuple[Decimal, Decimal]:
    """``sum_a p_a w_a / sum_a mu_a w_a`` and ``sum_a |p_a| w_a / sum_a mu_a w_a`` (its
    size, for the cancellation check) in ``ctx``, with ``w_a = e^{u_a - top}``."""
    top = g.denominator.exponents[-1]
    num = size = den = Decimal(0)
    for u, mu, p in zip(g.denominator.exponents, g.denominator.multiplicities, numerator,
                        strict=True):
        w = ctx.exp(_decimal(u - top, ctx))
        c = _decimal(p, ctx)
        num = ctx.fma(c, w, num)
        size = ctx.fma(abs(c), w, size)
        den = ctx.fma(Decimal(mu), w, den)
    return ctx.divide(num, den), ctx.divide(size, den)


def _canonical_group(den: Denominator, p: list[Fraction]) -> tuple[Fraction, Group | None]:
    """``P / S = c + P' / S`` with ``P'`` 0 at exponent 0; None when ``P' = 0``."""
    c = p[0] / den.multiplicities[0]
    q = tuple(pa - c * mu for pa, mu in zip(p, den.multiplicities, strict=True))
    return c, (_new(Group, denominator=den, numerator=q) if any(q) else None)


def _neg_group(g: Group) -> Group:
    return _new(Group, denominator=g.denominator, numerator=tuple(-c for c in g.numerator))


def _poly_text(exps: tuple[Fraction, ...], coeffs: tuple[Fraction, ...]) -> str:
    out: list[str] = []
    for u, c in sorted(zip(exps, coeffs, strict=True), reverse=True):
        if c == 0:
            continue
        a = abs(c)
        if u == 0:
            term = str(a)
        else:
            power = f"e^{{{u}}}"
            if a == 1:
                term = power
            elif a.denominator == 1:
                term = f"{a} {power}"
            else:
                term = f"({a}) {power}"
        if out:
            out.append(("+ " if c > 0 else "- ") + term)
        else:
            out.append(term if c > 0 else "-" + term)
    return " ".join(out)


def _groups_vanish(groups: tuple[Group, ...], budget: int, trials: int) -> ZeroVerdict:
    """Exact test of ``sum_g P_g / S_g = 0`` (canonical groups)."""
    if not groups:
        return ZeroVerdict(True, "rational")
    if len(groups) == 1:
        return ZeroVerdict(False, "single-group")
    lead = sum(
        (g.numerator[-1] / g.denominator.multiplicities[-1] for g in groups), Fraction(0)
    )
    if lead != 0:
        return ZeroVerdict(False, "leading-term")
    if _modular_nonzero(groups, trials):
        return ZeroVerdict(False, "modular")
    return ZeroVerdict(_expansion_vanishes(groups, budget, trials), "expansion")


def _exponent_scale(groups: tuple[Group, ...]) -> int:
    return math.lcm(*(u.denominator for g in groups for u in g.denominator.exponents))


def _modular_nonzero(groups: tuple[Group, ...], trials: int) -> bool:
    """True if some evaluation ``X^{k/N} -> t^k`` in ``F_p`` is defined and non-zero."""
    n = _exponent_scale(groups)
    rng = random.Random(_SEED)
    for i in range(trials):
        p = _PRIMES[i % len(_PRIMES)]
        t = rng.randrange(2, p - 1)
        if any(c.denominator % p == 0 for g in groups for c in g.numerator):
            continue
        powers: dict[Fraction, int] = {}
        total = 0
        for g in groups:
            s = v = 0
            for u, mu, c in zip(g.denominator.exponents, g.denominator.multiplicities,
                                g.numerator, strict=True):
                x = powers.get(u)
                if x is None:
                    x = powers[u] = pow(t, (u.numerator * (n // u.denominator)) % (p - 1), p)
                s += mu * x
                if c:
                    v += c.numerator * x * pow(c.denominator, -1, p)
            s %= p
            if s == 0:
                break
            total += v * pow(s, -1, p)
        else:
            if total % p:
                return True
    return False


Poly = dict[int, int]


def _mul(a: Poly, b: Poly) -> Poly:
    out: Poly = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            e = ea + eb
            out[e] = out.get(e, 0) + ca * cb
    return {e: c for e, c in out.items() if c}


def _add(a: Poly, b: Poly) -> Poly:
    out = dict(a)
    for e, c in b.items():
        out[e] = out.get(e, 0) + c
    return {e: c for e, c in out.items() if c}


def _expansion_vanishes(groups: tuple[Group, ...], budget: int, trials: int) -> bool:
    """Exact: ``N_G = 0`` where ``N_1 = P_1``, ``D_1 = S_1``,
    ``N_k = N_{k-1} S_k + P_k D_{k-1}``, ``D_k = D_{k-1} S_k`` (so ``N_k / D_k`` is the
    sum of the first ``k`` groups), over integer exponents ``N u`` and coefficients
    scaled by the common denominator ``L`` of the numerators."""
    n = _exponent_scale(groups)
    scale = math.lcm(*(c.denominator for g in groups for c in g.numerator))
    dens: list[Poly] = []
    nums: list[Poly] = []
    for g in groups:
        ks = [u.numerator * (n // u.denominator) for u in g.denominator.exponents]
        dens.append(dict(zip(ks, g.denominator.multiplicities, strict=True)))
        nums.append({k: int(c * scale) for k, c in zip(ks, g.numerator, strict=True) if c})
    num, den = nums[0], dens[0]
    work = 0
    last = len(groups) - 1
    for k in range(1, len(groups)):
        work += len(num) * len(dens[k]) + len(nums[k]) * len(den)
        if k < last:
            work += len(den) * len(dens[k])
        if work > budget:
            sizes = [len(d) for d in dens]
            raise Undecided(
                f"exact zero test: {len(groups)} exponential groups (denominators of "
                f"{min(sizes)}..{max(sizes)} terms, {sum(sizes)} in all) agree at {trials} "
                f"modular evaluations and their expansion needs more than {budget} term products"
            )
        num = _add(_mul(num, dens[k]), _mul(nums[k], den))
        if k < last:
            den = _mul(den, dens[k])
    return not num
