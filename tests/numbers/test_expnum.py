"""Tests for adcorrect.numbers.expnum: exact cross-entropy adjoints and their zero test (THEORY.md 8.2).

Expected values are derived by hand in the comments (closed forms of softmax), or
computed independently in float64 with math.exp / math.fsum.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from adcorrect.core.errors import Undecided
from adcorrect.numbers.expnum import Denominator, ExpNum, Group, exact_is_zero
from hypothesis import given, settings
from hypothesis import strategies as st

F = Fraction
E = math.e


def softmax_sum(logits: list[Fraction], js: list[int]) -> ExpNum:
    return ExpNum.sum(ExpNum.softmax(logits, j) for j in js)


# e/(1+e) written in two denominators: logits (0, 1) give s_1 = e/(1+e); logits
# (0, 1, 1, 2) give S = 1 + 2e + e^2 = (1+e)^2 and s_1 + s_3 = (e + e^2)/(1+e)^2 = e/(1+e).
def e_over_1_plus_e_twice() -> tuple[ExpNum, ExpNum]:
    return ExpNum.softmax([0, 1], 1), softmax_sum([0, 1, 1, 2], [1, 3])


# ---- construction, canonical form -------------------------------------------------
@pytest.mark.parametrize(
    "logits",
    [[F(0), F(1, 2), F(-3), F(1, 2)], [F(7)], [F(-5, 3), F(2, 7)], [0, 0, 1, 2, 3, -100]],
)
def test_softmax_sums_to_one(logits: list[Fraction]) -> None:
    total = softmax_sum(logits, list(range(len(logits))))
    assert total == 1
    assert total.as_fraction() == Fraction(1)
    assert total.groups == ()  # one denominator: the sum collapses to a rational
    assert sum(ExpNum.softmax(logits, j) for j in range(len(logits))) == 1  # builtins.sum


def test_ce_grad_symmetric_logits_is_rational() -> None:
    # logits (0, 0): s = (1/2, 1/2); target 0: (1/2 - 1, 1/2) = (-1/2, 1/2)
    g = ExpNum.ce_grad([F(0), F(0)], 0, F(1))
    assert [x.as_fraction() for x in g] == [F(-1, 2), F(1, 2)]
    assert all(x.groups == () and x.is_rational() for x in g)
    # logits (5, 5, 5), target 2, scale 1/4: (1/12, 1/12, (1/3 - 1)/4 = -1/6)
    g = ExpNum.ce_grad([5, 5, 5], 2, F(1, 4))
    assert [x.as_fraction() for x in g] == [F(1, 12), F(1, 12), F(-1, 6)]


def test_adjoint_zero_by_symmetry_across_two_examples() -> None:
    # example 1: logits (a, b), target 0: dL/dl_0 = s_0(a,b) - 1 = -e^b/(e^a + e^b)
    # example 2: logits (b, a), target 1: dL/dl_0 = s_0(b,a) = e^b/(e^a + e^b); the sum is 0
    a, b = F(1, 3), F(-2)
    half = F(1, 2)  # mean over the batch of 2
    g1 = ExpNum.ce_grad([a, b], 0, half)
    g2 = ExpNum.ce_grad([b, a], 1, half)
    # shifted by -b: g1[0] = (e^{7/3}/(e^{7/3} + 1) - 1)/2, rational part -1/2
    assert g1[0].rational_part == F(-1, 2)
    assert g1[0].to_text() == "-1/2 + ((1/2) e^{7/3})/(e^{7/3} + 1)"
    assert not g1[0].is_zero()
    assert g1[0].decide_zero().certificate == "constant-term"
    total = g1[0] + g2[0]
    assert total.is_zero()
    assert total == 0
    assert total.decide_zero().certificate == "rational"
    assert (g1[1] + g2[1]).is_zero()
    # the same with the second example's logits shifted by 7: still one group
    g3 = ExpNum.ce_grad([b + 7, a + 7], 1, half)
    assert (g1[0] + g3[0]).is_zero()


def test_logits_differing_by_a_constant_share_a_group() -> None:
    # s_1(0,1) = s_1(5,6) = e/(1+e): the sum is 2e/(1+e), one group
    x = ExpNum.softmax([0, 1], 1) + ExpNum.softmax([5, 6], 1)
    assert len(x.groups) == 1
    assert x.to_text() == "(2 e^{1})/(e^{1} + 1)"
    # s_1(0,1) + s_0(5,6) = (e + 1)/(1 + e) = 1
    assert (ExpNum.softmax([0, 1], 1) + ExpNum.softmax([5, 6], 0)).as_fraction() == 1
    # repeated logits (0,1,0,1): s_1 + s_3 = 2e/(2 + 2e) = e/(1+e): the same group
    y = softmax_sum([0, 1, 0, 1], [1, 3])
    assert y.groups == ExpNum.softmax([0, 1], 1).groups
    assert y.groups[0].denominator == Denominator((F(0), F(1)), (1, 1))


def test_text_forms() -> None:
    # 1/4 + s_0 - s_2 at logits (1/2, 1/2, -1, 0) = 1/4 + (e^{1/2} - e^{-1})/(2e^{1/2} + e^{-1} + 1);
    # shifted by +1: P = e^{3/2} - 1, S = 2e^{3/2} + e + 1; moving -1 = p_0/mu_0 into r:
    # r = -3/4, P' = P + S = 3e^{3/2} + e.
    logits = [F(1, 2), F(1, 2), F(-1), F(0)]
    x = F(1, 4) + ExpNum.softmax(logits, 0) - ExpNum.softmax(logits, 2)
    assert str(x) == "-3/4 + (3 e^{3/2} + e^{1})/(2 e^{3/2} + e^{1} + 1)"
    assert x.rational_part == F(-3, 4)
    assert repr(x) == "ExpNum('-3/4 + (3 e^{3/2} + e^{1})/(2 e^{3/2} + e^{1} + 1)')"
    assert x.approx() == pytest.approx(
        0.25 + (math.exp(0.5) - math.exp(-1)) / (2 * math.exp(0.5) + math.exp(-1) + 1), rel=1e-14
    )
    # 1/4 + s_0 at (1/2, -1, 0): shift +1 gives e^{3/2}/(e^{3/2} + e + 1), p_0 = 0
    y = F(1, 4) + ExpNum.softmax([F(1, 2), F(-1), F(0)], 0)
    assert y.to_text() == "1/4 + (e^{3/2})/(e^{3/2} + e^{1} + 1)"
    z = -ExpNum.softmax([0, 1], 1) / 3
    assert z.to_text() == "-((1/3) e^{1})/(e^{1} + 1)"
    assert (2 - z).to_text() == "2 + ((1/3) e^{1})/(e^{1} + 1)"
    assert (F(1, 2) - ExpNum.softmax([0, 1], 1)).to_text() == "1/2 - (e^{1})/(e^{1} + 1)"
    assert ExpNum.rational(F(-2, 3)).to_text() == "-2/3"
    assert ExpNum.rational(0).to_text() == "0"


# ---- zero test: certificates ------------------------------------------------------
def test_nonzero_below_float64_resolution() -> None:
    # s_0 - 1 at logits (0, -100) = 1/(1 + e^{-100}) - 1 = -e^{-100}/(1 + e^{-100})
    x = ExpNum.ce_grad([F(0), F(-100)], 0, F(1))[0]
    e0, e1 = math.exp(0.0), math.exp(-100.0)
    assert e0 / (e0 + e1) - 1.0 == 0.0  # float64 softmax loses it entirely
    assert not x.is_zero()
    assert x != 0
    assert x.decide_zero().certificate == "constant-term"
    assert x.to_text() == "-1 + (e^{100})/(e^{100} + 1)"
    assert x.approx() == pytest.approx(-math.exp(-100) / (1 + math.exp(-100)), rel=1e-14)
    # two examples: s_0(0,-100) - s_0(0,-101) = e^{-101} - e^{-100} + O(e^{-200}), two groups
    y = ExpNum.softmax([0, -100], 0) - ExpNum.softmax([0, -101], 0)
    assert y.rational_part == 0
    assert len(y.groups) == 2
    assert y.decide_zero().certificate == "modular"
    assert not y.is_zero()
    assert abs(y.approx()) < 1e-30
    assert y.approx() == pytest.approx(math.exp(-101) - math.exp(-100), rel=1e-14)


def test_cancellation_only_after_cross_multiplication() -> None:
    a, b = e_over_1_plus_e_twice()
    assert a.groups[0].denominator != b.groups[0].denominator
    verdict = (a - b).decide_zero()
    assert verdict.zero
    assert verdict.certificate == "expansion"
    assert a == b
    assert hash(a) == hash(b)
    assert (a - b).is_rational() and (a - b).as_fraction() == 0
    # shifted logits: s_1(3/2, 5/2) = e/(1+e); logits (-1, 0, 0, 1): s_1 + s_3 = e/(1+e)
    c = ExpNum.softmax([F(3, 2), F(5, 2)], 1)
    d = softmax_sum([F(-1), F(0), F(0), F(1)], [1, 3])
    assert c == d
    # a number equal to x, written with an extra zero made of two groups
    x = F(1, 3) + ExpNum.softmax([0, 2, 5], 1)
    assert x + (a - b) == x
    assert (x + (a - b)).as_fraction() is None


def test_modular_certificate_with_distinct_denominators() -> None:
    # e/(1+e) - e^2/(1+e^2) = e(1-e)/((1+e)(1+e^2)) != 0; top coefficients 1 - 1 cancel,
    # so the leading-term certificate does not apply and the modular one must.
    x = ExpNum.softmax([0, 1], 1) - ExpNum.softmax([0, 2], 1)
    verdict = x.decide_zero()
    assert verdict == type(verdict)(False, "modular")
    assert x.approx() == pytest.approx(E * (1 - E) / ((1 + E) * (1 + E * E)), rel=1e-14)
    assert not x.is_rational()
    assert x.as_fraction() is None
    # a coefficient denominator divisible by the first prime 2^61 - 1: that prime is skipped
    y = x * F(1, 2**61 - 1)
    assert y.decide_zero().certificate == "modular"


def test_leading_term_and_single_group_certificates() -> None:
    # e/(1+e) + e^2/(1+e^2): top coefficients 1 + 1 != 0
    x = ExpNum.softmax([0, 1], 1) + ExpNum.softmax([0, 2], 1)
    assert x.decide_zero().certificate == "leading-term"
    assert not x.is_zero()
    one = ExpNum.softmax([0, 1], 1)
    assert one.decide_zero().certificate == "single-group"
    assert not one.is_rational()


def test_undecided_with_tiny_budget() -> None:
    a, b = e_over_1_plus_e_twice()
    with pytest.raises(Undecided) as info:
        (a - b).is_zero(budget=1)
    reason = info.value.reason
    assert "\n" not in reason
    assert "2 exponential groups" in reason
    assert "more than 1 term products" in reason
    with pytest.raises(Undecided):
        (a - b).as_fraction(budget=1)
    # certificates before the expansion do not need the budget
    assert not (ExpNum.softmax([0, 1], 1) - ExpNum.softmax([0, 2], 1)).is_zero(budget=1)


def test_many_groups_expansion_and_undecided() -> None:
    # sum over k of (s_1(0, k) - s_1(0, k)) written once per k with doubled logits:
    # s_1(0,k) = e^k/(1+e^k) = (s_1 + s_3)(0, k, k, 2k); three such zeros added up
    zero = ExpNum.sum(
        ExpNum.softmax([0, k], 1) - softmax_sum([0, k, k, 2 * k], [1, 3]) for k in (1, 2, 3)
    )
    assert len(zero.groups) == 6
    assert zero.decide_zero() == type(zero.decide_zero())(True, "expansion")
    with pytest.raises(Undecided):
        zero.is_zero(budget=50)


# ---- arithmetic with Fractions ------------------------------------------------------
def test_mixed_arithmetic() -> None:
    s = ExpNum.softmax([0, 1], 1)  # e/(1+e), r = 0
    t = ExpNum.softmax([0, 1], 0)  # 1/(1+e) = 1 - e/(1+e)
    assert s + t == 1 and 1 == s + t and F(1) == s + t
    assert F(1, 2) + s == s + F(1, 2)
    assert (1 - s) == t
    assert 2 * s == s * 2 == s + s == s / F(1, 2)
    assert (F(3, 4) * s - s * F(3, 4)).groups == ()
    neg = -s
    assert -neg == s and neg + s == 0
    assert +s is s
    assert 0 * s == 0 and (0 * s).groups == ()
    assert sum([s, t, F(1)]) == 2
    assert ExpNum.sum([s, 1, F(1, 2), t]) == F(5, 2)
    assert hash(ExpNum.rational(F(2, 3))) == hash(F(2, 3))
    assert {ExpNum.rational(F(2, 3)): 1}[F(2, 3)] == 1
    assert exact_is_zero(F(0)) and exact_is_zero(0) and not exact_is_zero(s)
    assert exact_is_zero(s + t - 1)
    assert bool(s) and not bool(s - s)
    assert s != "e/(1+e)"
    with pytest.raises(TypeError):
        s + 0.5  # floats are not exact
    with pytest.raises(TypeError):
        s * s  # only rational scaling
    with pytest.raises(TypeError):
        s * True


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        ExpNum.softmax([0.5, 1], 0)
    with pytest.raises(ValueError):
        ExpNum.softmax([], 0)
    with pytest.raises(IndexError):
        ExpNum.softmax([0, 1], 2)
    with pytest.raises(IndexError):
        ExpNum.ce_grad([0, 1], -1, F(1))
    with pytest.raises(TypeError):
        ExpNum.ce_grad([0, 1], 0, 0.5)
    with pytest.raises(ValueError):
        Denominator((F(1), F(2)), (1, 1))  # smallest exponent must be 0
    with pytest.raises(ValueError):
        Denominator((F(0), F(1)), (2, 2))  # gcd of multiplicities must be 1
    den = Denominator((F(0), F(1)), (1, 1))
    with pytest.raises(ValueError):
        Group(den, (F(1), F(1)))  # coefficient at exponent 0 must be 0
    with pytest.raises(ValueError):
        ExpNum(F(0), (Group(den, (F(0), F(1))), Group(den, (F(0), F(2)))))  # duplicate group
    built = ExpNum(F(0), (Group(den, (F(0), F(1))),))
    assert built == ExpNum.softmax([0, 1], 1)


def test_approx_without_overflow() -> None:
    assert ExpNum.softmax([-1000, 0, 1000], 2).approx() == 1.0
    assert ExpNum.softmax([700, 0], 1).approx() == pytest.approx(math.exp(-700), rel=1e-14)
    assert ExpNum.softmax([F(-10**6), 0], 0).approx() == 0.0  # e^{-10^6}: below float range
    assert ExpNum.rational(F(10) ** 400).approx() == math.inf
    a, b = e_over_1_plus_e_twice()
    assert (a - b).approx() == 0.0


# ---- properties -------------------------------------------------------------------
small_q = st.builds(F, st.integers(-12, 12), st.integers(1, 4))
logit_vectors = st.lists(small_q, min_size=1, max_size=4)
coefficients = st.builds(F, st.integers(-6, 6), st.integers(1, 5))


@st.composite
def terms(draw: st.DrawFn) -> tuple[Fraction, list[tuple[Fraction, list[Fraction], int]]]:
    r = draw(coefficients)
    items = []
    for _ in range(draw(st.integers(0, 3))):
        logits = draw(logit_vectors)
        j = draw(st.integers(0, len(logits) - 1))
        items.append((draw(coefficients), logits, j))
    return r, items


def build(spec: tuple[Fraction, list[tuple[Fraction, list[Fraction], int]]]) -> ExpNum:
    r, items = spec
    return r + ExpNum.sum(c * ExpNum.softmax(logits, j) for c, logits, j in items)


def float_reference(spec: tuple[Fraction, list[tuple[Fraction, list[Fraction], int]]]) -> float:
    r, items = spec
    parts = [float(r)]
    for c, logits, j in items:
        exps = [math.exp(float(x)) for x in logits]
        parts.append(float(c) * exps[j] / math.fsum(exps))
    return math.fsum(parts)


@settings(max_examples=150, deadline=None)
@given(terms(), terms(), coefficients, coefficients)
def test_ring_laws(sx: tuple, sy: tuple, a: Fraction, b: Fraction) -> None:
    x, y = build(sx), build(sy)
    back = x + y - y
    assert back == x
    assert (back.rational_part, back.groups) == (x.rational_part, x.groups)  # canonical
    assert x - x == 0
    assert (x + y) - (y + x) == 0
    assert a * (x + y) == a * x + a * y
    assert (a + b) * x == a * x + b * x
    assert (a * b) * x == a * (b * x)
    assert 0 + x == x
    assert hash(back) == hash(x)
    assert ExpNum.sum([x, y]) == x + y == sum([x, y])


@settings(max_examples=150, deadline=None)
@given(terms())
def test_approx_matches_float64(spec: tuple) -> None:
    x = build(spec)
    scale = 1 + float(abs(spec[0])) + sum(float(abs(c)) for c, _, _ in spec[1])
    assert x.approx() == pytest.approx(float_reference(spec), abs=1e-12 * scale)


@settings(max_examples=100, deadline=None)
@given(terms(), terms())
def test_zero_test_agrees_with_high_precision_value(sx: tuple, sy: tuple) -> None:
    # nonzero by a wide margin in 80-digit evaluation => the exact test says non-zero
    x = build(sx) - build(sy)
    value = x.approx(digits=80, max_digits=80)
    if abs(value) > 1e-30:
        assert not x.is_zero()
    if x.is_zero():
        assert abs(value) < 1e-60


@settings(max_examples=60, deadline=None)
@given(logit_vectors, small_q, st.permutations(range(4)))
def test_zero_by_construction(logits: list[Fraction], shift: Fraction, perm: list[int]) -> None:
    # sum_j s_j = 1, in any order and with shifted logits; and s_j(l) = s_{pi(j)}(l o pi^-1)
    n = len(logits)
    shifted = [x + shift for x in logits]
    total = ExpNum.sum(ExpNum.softmax(shifted, j) for j in reversed(range(n)))
    assert total.as_fraction() == 1
    order = [p for p in perm if p < n]  # a permutation of range(n)
    permuted = [logits[p] for p in order]
    for k, p in enumerate(order):
        assert ExpNum.softmax(permuted, k) == ExpNum.softmax(shifted, p)
