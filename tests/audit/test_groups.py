"""The topmost group test's integer forms (:mod:`adcorrect.audit.groups`): directions are
primitive integer vectors, and the witness equals the one computed in rationals (the
earlier implementation, kept here as the reference) and is a witness: phi(v0 + s d) +
phi(v0 - s d) != 2 phi(v0) for phi(v) = sum_H C_H relu(t_H . v) computed in Fractions."""

from __future__ import annotations

import random
from fractions import Fraction as Q
from types import SimpleNamespace

from adcorrect.audit.groups import direction, witness
from hypothesis import given, settings
from hypothesis import strategies as st


def test_direction_is_primitive_with_positive_lead() -> None:
    assert direction({3: Q(1, 2), 5: Q(-3, 4)}) == (((3, 2), (5, -3)), Q(1, 2))
    assert direction({5: Q(3, 8), 3: Q(-1, 4)}) == (((3, 2), (5, -3)), Q(-1, 4))
    assert direction({7: Q(-6)}) == (((7, 1),), Q(-6))
    assert direction({0: Q(4), 1: Q(6), 2: Q(10)})[0] == ((0, 2), (1, 3), (2, 5))


def _reference(params: list[int], rows: list[dict[int, Q]], h0: dict[int, Q]
               ) -> dict[str, str | dict[int, str]]:
    """The witness as computed before, in Fractions (rows scaled to lead entry 1)."""
    rng = random.Random(20240901)
    others = [r for r in rows if r != h0]
    nn = sum((c * c for c in h0.values()), Q(0))

    def dot(r: dict[int, Q], v: dict[int, Q]) -> Q:
        return sum((c * v.get(p, Q(0)) for p, c in r.items()), Q(0))

    for _ in range(1000):
        r = {p: Q(rng.randint(-9, 9)) for p in params}
        t = dot(h0, r) / nn
        v0 = {p: r[p] - t * h0.get(p, Q(0)) for p in params}
        if all(dot(o, v0) != 0 for o in others):
            break
    d = dict(h0)
    limits = [abs(dot(o, v0)) / (2 * abs(dot(o, d))) for o in others if dot(o, d) != 0]
    s = min(limits) if limits else Q(1)
    return {"v0": {p: str(c) for p, c in v0.items() if c != 0},
            "d": {p: str(c) for p, c in d.items() if c != 0}, "s": str(s)}


vectors = st.dictionaries(st.integers(0, 5), st.fractions(max_denominator=16).filter(bool),
                          min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.lists(vectors, min_size=1, max_size=4), st.data())
def test_witness_matches_rationals_and_separates(ts: list[dict[int, Q]], data: st.DataObject
                                                  ) -> None:
    keys = list(dict.fromkeys(direction(t)[0] for t in ts))
    h = data.draw(st.sampled_from(keys))
    params = sorted({p for k in keys for p, _ in k} | {6})
    net = SimpleNamespace(param_names=list(range(7)))  # names: the indices themselves
    got = witness(net, params, keys, h)  # type: ignore[arg-type]
    lead = {k: k[0][1] for k in keys}
    scaled = [{p: Q(c, lead[k]) for p, c in k} for k in keys]
    ref = _reference(params, scaled, {p: Q(c, lead[h]) for p, c in h})
    assert {k: got[k] for k in ("v0", "d", "s")} == ref
    # a witness: the C_H of the other groups arbitrary, h's non-zero
    v0 = {p: Q(c) for p, c in got["v0"].items()}
    d = {p: Q(c) for p, c in got["d"].items()}
    s = Q(got["s"])
    coef = {k: Q(1 + i) for i, k in enumerate(keys)}

    def phi(v: dict[int, Q]) -> Q:
        return sum((coef[k] * max(Q(0), sum((c * v.get(p, Q(0)) for p, c in k), Q(0)))
                    for k in keys), Q(0))

    plus = {p: v0.get(p, Q(0)) + s * d.get(p, Q(0)) for p in params}
    minus = {p: v0.get(p, Q(0)) - s * d.get(p, Q(0)) for p in params}
    assert phi(plus) + phi(minus) != 2 * phi(v0)
