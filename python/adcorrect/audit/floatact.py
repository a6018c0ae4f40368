"""Activations in certified float64 (the filter of the exact audit, THEORY.md 8.3).

An activation's breakpoints, kinks and polynomial pieces as floats with their
representation errors (:class:`ActTable`), and the elementwise evaluation of an
activation and of its AD derivative on tensors of pre-activations with radii and
quantum bounds (:func:`activate`, :func:`derivative`): a copy whose radius does not
decide its piece is marked uncertain, never guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import torch

from ..nets.activations import Activation, Choice, poly_deriv, poly_eval
from .certified import (
    ETA,
    F64,
    FLOOR,
    INFLATE,
    NOQ,
    U,
    fits,
    gamma,
    normal_up,
    quantum_of,
    some_at_most,
)


def float_const(x: Fraction) -> tuple[float, float, int]:
    """(float value, representation error bound, quantum) of an exact rational."""
    v = float(x)
    if Fraction(v) == x:
        return v, 0.0, quantum_of(v)
    return v, 2 * U * abs(v) + ETA, -NOQ



@dataclass
class ActTable:
    """Float data of one activation: breakpoints, kinks, pieces and their derivatives."""

    act: Activation
    bps: list[tuple[float, float]]  # (float, error) of each breakpoint
    kink_idx: list[int]  # indices of the breakpoints that are kinks
    pieces: list[list[tuple[float, float, int]]]  # per piece: coefficients (value, err, q)
    dpieces: list[list[tuple[float, float, int]]]  # derivative polynomials
    lip: float  # global Lipschitz bound
    identity: bool
    # piecewise linear: per piece, the derivative's value, error and quantum (else None)
    dconst: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None


def act_table(act: Activation) -> ActTable:
    bps = [(float_const(c)[0], float_const(c)[1]) for c in act.breakpoints]
    kinks = [i for i, c in enumerate(act.breakpoints) if act.is_kink(c)]
    pieces = [[float_const(c) for c in p] for p in act.pieces]
    dpieces = [[float_const(c) for c in poly_deriv(p)] for p in act.pieces]
    lip = Fraction(0)
    for i, p in enumerate(act.pieces):
        d = poly_deriv(p)
        if len(d) <= 1 or all(c == 0 for c in d[1:]):
            lip = max(lip, abs(d[0]))
            continue
        lo = act.breakpoints[i - 1] if i > 0 else None
        hi = act.breakpoints[i] if i < len(act.breakpoints) else None
        if lo is None or hi is None or len(d) > 2:
            lip = None  # type: ignore[assignment]
            break
        lip = max(lip, abs(poly_eval(d, lo)), abs(poly_eval(d, hi)))
    consts = _constant_pieces(dpieces)
    return ActTable(act, bps, kinks, pieces, dpieces,
                     math.inf if lip is None else float(lip) * INFLATE + ETA,
                     act.is_identity,
                     None if consts is None else tuple(  # type: ignore[arg-type]
                         torch.tensor(t, dtype=dt)
                         for t, dt in zip(consts, (F64, F64, torch.int64), strict=True)))



def _poly(coefs: list[tuple[float, float, int]], Y: torch.Tensor, R: torch.Tensor,
          Q: torch.Tensor, lip: torch.Tensor | float
          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A polynomial piece at Y (radius R, quantum Q): value, radius, quantum.  ``lip``
    bounds |p'| over the enclosure of the exact argument."""
    deg = len(coefs) - 1
    while deg > 0 and coefs[deg][0] == 0 and coefs[deg][1] == 0:
        deg -= 1
    c0, e0, q0 = coefs[0]
    if deg == 0:
        Z = torch.full_like(Y, c0)
        RZ = torch.full_like(Y, e0)
        QZ = torch.full_like(Q, q0 if e0 == 0 and c0 != 0 else (NOQ if c0 == 0 else -NOQ))
        return Z, RZ, QZ
    if deg == 1:
        c1, e1, q1 = coefs[1]
        Z = Y * c1 + c0 if c0 != 0 else Y * c1
        size = (Y * c1).abs() + abs(c0)
        RZ = (lip * R + gamma(2) * size + e1 * (Y.abs() + R) + e0) * INFLATE + FLOOR
        Qc = torch.minimum((Q + q1).clamp(-NOQ, NOQ), torch.full_like(Q, q0 if c0 else NOQ))
        ok = (R == 0) & (e1 == 0) & (e0 == 0) & fits(size * INFLATE, Qc)
        if c1 == 1 and c0 == 0:
            ok = R == 0
            Qc = Q
        RZ = torch.where(ok, torch.zeros_like(RZ), RZ)
        QZ = torch.where(ok, Qc, torch.full_like(Q, -NOQ))
        return Z, RZ, QZ
    Z = torch.full_like(Y, coefs[deg][0])
    size = torch.full_like(Y, abs(coefs[deg][0]))
    cerr = torch.full_like(Y, coefs[deg][1])
    ay = Y.abs() + R
    for i in range(deg - 1, -1, -1):
        Z = Z * Y + coefs[i][0]
        size = size * Y.abs() + abs(coefs[i][0])
        cerr = cerr * ay + coefs[i][1]
    RZ = (lip * R + gamma(2 * deg) * size + cerr) * INFLATE + normal_up(4 * deg * ETA)
    return Z, RZ, torch.full_like(Q, -NOQ)


def is_relu(tab: ActTable) -> bool:
    """Whether the table is relu (its outputs' radii are at most its inputs')."""
    return tab.act.name == "relu" and tab.act.breakpoints == (0,)


def _relu(Y: torch.Tensor, R: torch.Tensor, Q: torch.Tensor, exact: bool
          ) -> tuple[torch.Tensor, ...]:
    """relu on the enclosures (1-Lipschitz; exactly 0, radius 0, where Y < -R: the exact
    input is negative; exact where R = 0); Q is per example (column) and stays a bound for
    the exact outputs (the new exact ones are 0).  ``exact``: R is 0 everywhere (the
    kinks are the zeros of Y, no copy is uncertain)."""
    Z = Y.clamp_min(0.0)
    if exact:
        if not some_at_most(Y.abs(), 0.0):
            return Z, R, Q, None, None
        return Z, R, Q, Y == 0, None
    RZ = R.masked_fill(Y < -R, 0.0)  # 1-Lipschitz
    if not some_at_most(Y.abs(), R):
        return Z, RZ, Q, None, None
    near = Y.abs() <= R
    exact = R == 0
    return Z, RZ, Q, near & exact, near & ~exact


def activate(tab: ActTable, Y: torch.Tensor, R: torch.Tensor, Qv: torch.Tensor,
             exact: bool = False) -> tuple[torch.Tensor, ...]:
    """sigma on the enclosures: values, radii, per-example quantum bounds of the exact
    outputs, certain kinks, uncertain copies (``exact``: every radius is 0)."""
    if is_relu(tab):
        return _relu(Y, R, Qv, exact)
    Z, RZ, QZ, kink, unc = _activate_entries(tab, Y, R, Qv[None, :].expand(Y.shape))
    return Z, RZ, torch.where(RZ == 0, QZ, NOQ).amin(0) if len(Y) else Qv, kink, unc


def _activate_entries(tab: ActTable, Y: torch.Tensor, R: torch.Tensor, Q: torch.Tensor
                      ) -> tuple[torch.Tensor, ...]:
    """sigma entry by entry (Q per entry)."""
    idx = torch.zeros(Y.shape, dtype=torch.int64)
    straddle = torch.zeros(Y.shape, dtype=torch.bool)
    kink = torch.zeros(Y.shape, dtype=torch.bool)
    unc = torch.zeros(Y.shape, dtype=torch.bool)
    for b, (c, e) in enumerate(tab.bps):
        idx += (Y > c).to(torch.int64)
        near = (Y - c).abs() <= R + e
        on = (R == 0) & (Y == c) & (e == 0)
        strad = near & ~((R == 0) & (e == 0))
        straddle |= strad
        unc |= strad
        if b in tab.kink_idx:
            kink |= on
    Z = torch.empty_like(Y)
    RZ = torch.empty_like(Y)
    QZ = torch.empty_like(Q)
    bp_err = max((e for _, e in tab.bps), default=0.0)
    for p, coefs in enumerate(tab.pieces):
        mask = idx == p
        if not bool(mask.any()):
            continue
        Yp, Rp, Qp, Sp = Y[mask], R[mask], Q[mask], straddle[mask]
        Rp = torch.where(Sp, Rp + bp_err, Rp)
        dcoefs = tab.dpieces[p]
        local = torch.zeros_like(Yp)
        ay = Yp.abs() + Rp
        for i, (c, e, _) in enumerate(dcoefs):
            local = local + (abs(c) + e) * ay ** i
        lip = torch.where(Sp, torch.full_like(Yp, tab.lip), local * INFLATE)
        z, rz, qz = _poly(coefs, Yp, Rp, Qp, lip)
        Z[mask], RZ[mask], QZ[mask] = z, rz, qz
    return Z, RZ, QZ, kink, unc


def derivative(tab: ActTable, Y: torch.Tensor, R: torch.Tensor, Q: torch.Tensor,
                kink: torch.Tensor, choice: Choice
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """AD's derivative of sigma at copies whose piece is certain (or which are certainly
    on a kink: the choice D there)."""
    idx = torch.zeros(Y.shape, dtype=torch.int64)
    for c, _ in tab.bps:
        idx += (Y > c).to(torch.int64)
    if tab.dconst is not None:  # piecewise linear: one lookup, no masks
        D, RD, QD = (t[idx] for t in tab.dconst)
    else:
        D, RD, QD = _pieces(tab, Y, R, Q, idx)
    if bool(kink.any()):
        for b in tab.kink_idx:
            c = tab.act.breakpoints[b]
            at = kink & (Y == tab.bps[b][0])
            if bool(at.any()):
                dv, de, dq = float_const(tab.act.derivative(c, choice))
                D[at], RD[at], QD[at] = dv, de, dq
    return D, RD, QD


def _constant_pieces(dpieces: list[list[tuple[float, float, int]]]
                     ) -> tuple[list[float], list[float], list[int]] | None:
    """(values, errors, quanta) of the derivative pieces if each is a constant, else
    None (as :func:`_poly` gives them for degree 0)."""
    if any(any(c or e for c, e, _ in d[1:]) for d in dpieces):
        return None
    vals = [d[0] if d else (0.0, 0.0, NOQ) for d in dpieces]
    return ([v for v, _, _ in vals], [e for _, e, _ in vals],
            [q if e == 0 and v != 0 else (NOQ if v == 0 else -NOQ) for v, e, q in vals])


def _pieces(tab: ActTable, Y: torch.Tensor, R: torch.Tensor, Q: torch.Tensor,
            idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The derivative pieces of degree up to 1, each where ``idx`` selects it."""
    D = torch.zeros_like(Y)
    RD = torch.zeros_like(Y)
    QD = torch.zeros_like(Q)
    for p, dcoefs in enumerate(tab.dpieces):
        mask = idx == p
        if not bool(mask.any()):
            continue
        if len(dcoefs) > 2 and any(c or e for c, e, _ in dcoefs[2:]):
            raise ValueError(f"{tab.act.name}: pieces of degree > 2 are not supported")
        lip = (abs(dcoefs[1][0]) + dcoefs[1][1]) * INFLATE if len(dcoefs) > 1 else 0.0
        d, rd, qd = _poly(dcoefs, Y[mask], R[mask], Q[mask], lip)
        D[mask], RD[mask], QD[mask] = d, rd, qd
    return D, RD, QD
