"""Differentiability without a quantifier: the sign-cone form (query ``inc-witness-qf``).

THEORY.md section 7: f is differentiable at w iff ``v -> phi_w(v)`` is linear.
The argument is written into every ``inc-witness-qf`` file (:data:`ARGUMENT`);
the oracle (:mod:`adcorrect.exact.oracle`) decides the same condition numerically, and
``tests/test_smtlib.py`` checks the equivalence over all of M^W.
"""

from __future__ import annotations

import re
from fractions import Fraction

from ..core.errors import InputError
from ..numbers.formats import Format
from .encode import ONE, ZERO, ExactEncoder, add, define, mul, real

#: Largest number of sign patterns 2^K written into one file.
MAX_PATTERNS = 256

ARGUMENT = """\
Why this is inc-witness without a quantifier (every network; not a theorem T1-T5):
 1. Fix a side s_k in {L, R} at every neuron k whose activation has a kink and
    run forward mode on coefficient vectors: the tangent of y_k is the linear
    form a_k^s . v (injected coefficients plus sum_j w_kj dz_j), and
    dz_k = sl_k a_k^s (side L) or sr_k a_k^s (side R).  G^s is the output's form.
 2. O_s = {v : sigma_k a_k^s . v > 0 for every k with a_k^s <> 0}, sigma_k = +1
    for R and -1 for L.  On O_s, phi_w(v) = G^s . v, and the union of the O_s is
    dense: a generic v has a non-zero tangent wherever the form is non-zero, and
    a zero form gives dz_k = 0 on either side.
 3. Hence phi_w is linear (f differentiable, f being locally Lipschitz) iff
    G^s = (phi_w(e_i))_i for every s with O_s non-empty.
 4. Gordan: O_s is empty iff some lambda >= 0 on the non-zero rows, summing to 1,
    has sum_k lambda_k sigma_k a_k^s = 0.  The lam variables are that lambda.
So "differentiable" is: for every s, emptyS (a certificate) or sameS (G^s = pe)."""

_LITERAL = re.compile(r"^(\d+\.0|\(- \d+\.0\)|\(/ \d+\.0 \d+\.0\)|\(- \(/ \d+\.0 \d+\.0\)\))$")


def float_grid(fmt: Format) -> tuple[int, int, int, Fraction] | None:
    """For a binary float format: (significand bound 2^(mbits+1), lowest exponent q0,
    number of exponents, largest value), so that M = {m 2^q : |m| < bound,
    q0 <= q < q0 + count, |m 2^q| <= largest}; None for other formats."""
    if fmt.kind not in ("ieee", "ocp"):
        return None
    lay = fmt._layout
    e_top = lay.top >> lay.mbits
    return 1 << (lay.mbits + 1), lay.emin - lay.mbits, max(e_top, 1), lay.magnitude(lay.top)


def param_lines(enc: ExactEncoder) -> list[str]:
    """Parameters w<i> as reals in M, without the FP theory where M is a float grid:
    w_i = m_i 2^q for an integer m_i, |m_i| < 2^(mbits+1), and one of the format's
    exponents q (every such value up to the largest finite one is in M, and every
    value of M has this form).  Other formats: the finite disjunction inM."""
    grid = float_grid(enc.fmt)
    if grid is None:
        return enc.membership() + enc.params()
    bound, q0, count, top = grid
    head = (f"; M = {{m 2^q : m integer, abs(m) < {bound}, {q0} <= q <= {q0 + count - 1}, "
            f"abs(m 2^q) <= {top}}}")
    lines = [head]
    for i, name in enumerate(enc.net.param_names):
        w, m = f"w{i}", f"m{i}"
        scales = [f"(= {w} (* {real(Fraction(2) ** q)} (to_real {m})))"
                  for q in sorted(range(q0, q0 + count), key=lambda q: (abs(q), q))]
        lines += [f"; parameter {i}: {name}", f"(declare-const {w} Real)",
                  f"(declare-const {m} Int)",
                  f"(assert (and (< (- {bound}) {m}) (< {m} {bound})))",
                  f"(assert (and (<= {real(-top)} {w}) (<= {w} {real(top)})))",
                  f"(assert {_disj(scales)})"]
    return lines


def kinkable(enc: ExactEncoder) -> list[int]:
    """Neurons whose activation has a kink, in topological order."""
    return [n.index for n in enc.net.neurons if n.activation.kinks]


def patterns(enc: ExactEncoder) -> list[dict[int, str]]:
    """Every assignment of a side 'L'/'R' to the kinkable neurons (InputError if too many)."""
    ks = kinkable(enc)
    if 2 ** len(ks) > MAX_PATTERNS:
        raise InputError(f"query inc-witness-qf: {len(ks)} neurons with kinks give "
                         f"2^{len(ks)} sign patterns (at most {MAX_PATTERNS}); use inc-witness")
    return [{k: "R" if bits >> b & 1 else "L" for b, k in enumerate(ks)}
            for bits in range(1 << len(ks))]


def tag_of(side: dict[int, str]) -> str:
    return "".join(side.values()) or "0"


def _disj(terms: list[str]) -> str:
    return "false" if not terms else terms[0] if len(terms) == 1 else f"(or {' '.join(terms)})"


def _conj(terms: list[str]) -> str:
    return "true" if not terms else terms[0] if len(terms) == 1 else f"(and {' '.join(terms)})"


def pattern_lines(enc: ExactEncoder, side: dict[int, str]) -> list[str]:
    """Forms a/g of one sign pattern, its certificate variables and emptyS/sameS."""
    net, W, tag = enc.net, enc.W, tag_of(side)
    lines = ["; pattern " + tag + ": " + (", ".join(
        f"neuron {k} {'right' if s == 'R' else 'left'}" for k, s in side.items()) or "no kinks")]

    def name(label: str, body: str) -> str:
        if _LITERAL.match(body):
            return body
        lines.append(define(label, "Real", body))
        return label

    dz: dict[int, list[str]] = {}
    rows: list[tuple[int, str, list[str]]] = []
    for n in net.neurons:
        k = n.index
        comps = []
        for i in range(W):
            ts = []
            if n.bias is not None and n.bias[0] == "param" and n.bias[1] == i:
                ts.append(ONE)
            for src, wt in zip(n.sources, n.weights):
                if wt[0] == "param" and wt[1] == i:
                    ts.append(enc.source(src, ""))
                if src >= 0:
                    ts.append(mul(enc.slot(wt, lambda p: f"w{p}"), dz[src][i]))
            comps.append(name(f"a{tag}_{k}_{i}", add(ts)))
        slope = enc.slope(n.activation, f"y{k}", "right" if side.get(k) == "R" else "left")
        slope = slope if _LITERAL.match(slope) else f"sr{k}" if side.get(k) == "R" else f"sl{k}"
        dz[k] = [name(f"g{tag}_{k}_{i}", mul(slope, c)) for i, c in enumerate(comps)]
        if k in side:
            rows.append((k, side[k], comps))
    out = dz[net.neurons[-1].index]
    cert, weights, live = [], [], []
    for k, s, comps in rows:
        lam = f"lam{tag}_{k}"
        lines.append(f"(declare-const {lam} Real)")
        cert.append(f"(>= {lam} 0.0)")
        nz = [f"(not (= {c} 0.0))" for c in comps if c != ZERO]
        if nz:
            weights.append(f"(ite {_disj(nz)} {lam} 0.0)")
        live.append((s, lam, comps))
    if rows:
        cert.append(f"(= {add(weights)} 1.0)")
        for i in range(W):
            pos = [mul(lam, comps[i]) for s, lam, comps in live if s == "R"]
            neg = [mul(lam, comps[i]) for s, lam, comps in live if s == "L"]
            if any(t != ZERO for t in pos + neg):
                lhs, rhs = (add(pos), add(neg)) if pos else (add(neg), ZERO)
                cert.append(f"(= {lhs} {rhs})")
    lines.append(define(f"empty{tag}", "Bool", _conj(cert) if rows else "false"))
    lines.append(define(f"same{tag}", "Bool",
                        _conj([f"(= {g} pe{i})" for i, g in enumerate(out)])))
    return lines


def differentiable_lines(enc: ExactEncoder) -> list[str]:
    """All patterns and `differentiable`, the conjunction of (emptyS or sameS)."""
    lines: list[str] = []
    tags = []
    for side in patterns(enc):
        lines += pattern_lines(enc, side)
        tags.append(tag_of(side))
    lines.append(define("differentiable", "Bool",
                        _conj([f"(or empty{t} same{t})" for t in tags])))
    return lines
