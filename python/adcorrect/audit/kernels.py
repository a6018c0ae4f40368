"""Certified float64 kernels of the audit filter: products of a level's coefficient
matrix (sparse or dense) with a block of values, scalings and sums, each with a
rigorous error radius and a quantum bound (facts of :mod:`adcorrect.audit.certified`),
and the index helpers of the levels.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import torch

from .certified import ETA, F64, FLOOR, INFLATE, NOQ, U, all_finite, fits, gamma, norm_up, normal_up


@dataclass
class Block:
    """One level's copies: pre-activations Y and outputs Z (rows x B) with radii, and
    per-example lower bounds on the quanta of their exact entries."""

    Y: torch.Tensor
    RY: torch.Tensor
    qy: torch.Tensor  # (B,)
    Z: torch.Tensor
    RZ: torch.Tensor
    qz: torch.Tensor
    kink: torch.Tensor | None = None  # bool (rows x B): certainly on a kink
    unc: torch.Tensor | None = None  # bool: the radius does not decide the piece
    exact: bool = False  # every Z is exact (RZ = 0)
    rcol: torch.Tensor | None = None  # (B,) upper bounds on the column norms of RZ
    exact_cols: torch.Tensor | None = None  # (B,) bool: columns of RZ that are 0


def sparse(make: Any) -> torch.Tensor:
    """A sparse tensor, without torch's warnings about beta support and invariant checks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make()



def make_block(Y: torch.Tensor, R: torch.Tensor, Q: torch.Tensor, Z: torch.Tensor,
           RZ: torch.Tensor, QZ: torch.Tensor, K: torch.Tensor | None,
           UN: torch.Tensor | None) -> Block:
    """A block whose output radii are entry by entry (column norms computed)."""
    nz = RZ != 0
    return Block(Y, R, Q, Z, RZ, QZ, K, UN, exact=not bool(nz.any()),
                 rcol=norm_up(RZ, 0) if len(RZ) else torch.zeros(RZ.shape[1], dtype=F64),
                 exact_cols=~nz.any(0) if len(RZ) else torch.ones(RZ.shape[1], dtype=torch.bool))


def index_range(ids: list[int]) -> slice | None:
    """ids as a slice if they are consecutive increasing integers."""
    if ids and ids == list(range(ids[0], ids[0] + len(ids))):
        return slice(ids[0], ids[0] + len(ids))
    return None


def up_bound(sq: torch.Tensor, m: int) -> torch.Tensor:
    return torch.sqrt(sq) * INFLATE + math.sqrt(m) * 2.0 ** -536


def vnorm(v: torch.Tensor) -> float:
    """An upper bound on the 2-norm of a vector (fact 5)."""
    return float(norm_up(v, 0)) if len(v) else 0.0


def exponent(v: torch.Tensor) -> torch.Tensor:
    """e with v < 2^e (int64), for v >= 0 (0 gives -NOQ)."""
    e = torch.frexp(v)[1].to(torch.int64)
    return torch.where(v > 0, e, -NOQ)


def abs_product(co: dict[str, Any], V: torch.Tensor) -> torch.Tensor:
    """fl(|C| V) for the level's float coefficients C (|C| built once per evaluation)."""
    if co.get("diag") is not None:
        (dcol,) = co["diag"]
        return co["pv"].abs()[:, None] * (V if dcol is None else V[dcol])
    if "absmat" not in co:
        mat = co["mat"]
        if mat.layout == torch.strided:
            co["absmat"] = mat.abs()
        else:
            co["absmat"] = sparse(lambda: torch.sparse_csr_tensor(
                mat.crow_indices(), mat.col_indices(), mat.values().abs(), mat.shape,
                dtype=F64))
    return co["absmat"] @ V


def _exact_zeros(co: dict[str, Any], X: torch.Tensor, rent: torch.Tensor, Y: torch.Tensor,
                 R: torch.Tensor, bias: torch.Tensor | None, berr: torch.Tensor | None
                 ) -> torch.Tensor:
    """R with 0 at the entries that are exactly 0 (fact 8): no bias (exactly), exact
    float coefficients, and every source with a non-zero coefficient exactly 0."""
    if co["has_err"]:
        return R
    zero_row = torch.ones(len(R), dtype=torch.bool)
    if bias is not None:
        zero_row &= bias == 0
    if berr is not None:
        zero_row &= berr == 0
    cand = (Y == 0) & (R > 0) & zero_row[:, None]
    if not bool(cand.any()):
        return R
    live = ((X != 0) | (rent != 0)).to(F64)
    dead = abs_product(co, live) == 0  # a sum of non-negative floats is 0 iff every term is
    return R.masked_fill(cand & dead, 0.0)


def certified_product(co: dict[str, Any], m: int, X: torch.Tensor,
                       rad: tuple[torch.Tensor, torch.Tensor] | None, QXc: torch.Tensor,
                       bias: torch.Tensor | None, berr: torch.Tensor | None,
                       rent: torch.Tensor | None = None,
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool, torch.Tensor,
                                  torch.Tensor]:
    """Y = C X + bias with radius and, per column, a lower bound on the quanta of the exact
    entries (facts 1-4, 6, 7 of :mod:`~adcorrect.audit.certified`).

    Without ``rent`` (the sources' radii entry by entry):
    R = ||c_k|| (g ||x_i|| + ||r_i||) + ||d_k|| (||x_i|| + ||r_i||) + g |b_k| + berr_k,
    each factor inflated, g = gamma_{m+1} (facts 1-3).  With ``rent`` (fact 7):
    R = (fl(|C| (g |X| + rent)) + m eta) (1 + 2 gamma_{m+3}) + sqrt(m) ||c_k|| eta
    + ||d_k|| (||x_i|| + ||r_i||) + g |b_k| + berr_k, inflated: the radii of a row's own
    sources, weighted by its own coefficients, so radii grow additively through
    diagonal levels (BatchNorm), sums (residuals, pools) and max chains instead of by the
    square root of the level's width.  Fact 4 in logarithms: with ||c_k|| <= 2^en_k,
    ||x_i|| <= 2^ex_i and |b_k| <= 2^eb_k, the bound A_ki is below
    2^(max(en_k + ex_i, eb_k) + 1), so entry (k, i) is exact when RX's column is 0, row k's
    constants are floats and that exponent is at most 53 + min(qrow_k + QX_i, qb_k)."""
    mat, norm, err = co["mat"], co["norm"], co["err"]
    if co.get("diag") is not None:  # one term per row: y_k = c_k x_{col(k)} (+ b_k)
        (dcol,) = co["diag"]
        Xs = X if dcol is None else X[dcol]
        Y = co["pv"][:, None] * Xs
        if bias is not None:
            Y = Y + bias[:, None]
    elif bias is not None and mat.layout == torch.strided:
        Y = torch.addmm(bias[:, None], mat, X)
    else:
        Y = mat @ X
        if bias is not None:
            Y = Y + bias[:, None]
    nX = norm_up(X, 0)
    g = gamma(m + 1)
    ni = norm * INFLATE
    colv = g * nX
    nR = None
    if rad is not None:
        nR = rad[0]
        colv = colv + nR
    row = torch.full_like(norm, normal_up((m + 8) * 2.0 ** -1070))
    if bias is not None:
        row = row + g * INFLATE * bias.abs()
    if berr is not None:
        row = row + berr * INFLATE
    if rent is None:
        R = torch.addr(row[:, None].expand(len(norm), X.shape[1]), ni, colv)
        ncol = vnorm(ni) * colv + vnorm(row)
        if co["has_err"]:
            R = R + (err * INFLATE)[:, None] * (nX if nR is None else nX + nR)[None, :]
            ncol = ncol + vnorm(err * INFLATE) * (nX if nR is None else nX + nR)
        rcol = ncol * INFLATE
    else:
        V = X.abs().mul_(g).add_(rent)
        R = abs_product(co, V).add_(normal_up(m * ETA)).mul_(1.0 + 2.0 * gamma(m + 3))
        R.add_((row + ni * (math.sqrt(m) * ETA))[:, None])
        if co["has_err"]:
            R.add_((err * INFLATE)[:, None] * (nX if nR is None else nX + nR)[None, :])
        R.mul_(INFLATE)
        rcol = norm_up(R, 0) if len(R) else torch.zeros(X.shape[1], dtype=F64)
        R = _exact_zeros(co, X, rent, Y, R, bias, berr)
    if not all_finite(R):  # 0 * inf: a radius of nan means no bound
        R = torch.nan_to_num(R, nan=math.inf)
    R = _infinite_radius(Y, R)
    B = X.shape[1]
    none = torch.full((B,), -NOQ, dtype=torch.int64)
    nocol = torch.zeros(B, dtype=torch.bool)
    exact_col = torch.ones(B, dtype=torch.bool) if rad is None else rad[1]
    rows_ok = co["rows_ok"]
    if not bool(exact_col.any()) or not bool(rows_ok.any()):
        return Y, R, none, False, rcol, nocol
    hp = co["has_pairs"]
    en = exponent(ni * INFLATE)
    ex = exponent(nX * INFLATE)
    babs = bias.abs() * INFLATE if bias is not None else torch.zeros_like(norm)
    eb = exponent(babs)
    qb = co["bias_quanta"]()
    # candidates first: a row's quantum is at most that of a few of its coefficients
    u_lo = torch.where(hp, en - co["few_quanta"](), -NOQ)
    v = ex - QXc
    cand_c = exact_col & (v + int(u_lo.min()) <= 52)
    if not bool(cand_c.any()):
        return Y, R, none, False, rcol, nocol
    cand_r = rows_ok & (u_lo + int(v[cand_c].min()) <= 52)
    if not bool(cand_r.any()):
        return Y, R, none, False, rcol, nocol
    ri = cand_r.nonzero().squeeze(1)
    ci = cand_c.nonzero().squeeze(1)
    qrow = co["row_quanta"](ri)
    hp_r, en_r, eb_r, qb_r = hp[ri], en[ri], eb[ri], qb[ri]
    v_c, ex_c, q_c = v[ci], ex[ci], QXc[ci]
    u = torch.where(hp_r, en_r - qrow, -NOQ)
    if len(ri) == len(norm) and len(ci) == B:  # the whole block at once, from its extremes
        qr = torch.where(hp_r, qrow, NOQ)
        ok_all = int(u.max()) + int(v_c.max()) <= 52 and \
            (not bool(hp_r.any()) or int(qr.min()) + int(q_c.min()) >= -1074)
        if ok_all and bias is not None:
            nzb = bias != 0
            if bool(nzb.any()):
                ok_all = (int(torch.where(nzb, en_r - qb_r, -NOQ).max()) + int(ex_c.max()) <= 52
                          and int(torch.where(nzb, eb_r - qrow, -NOQ).max()) - int(q_c.min())
                          <= 52 and bool(((eb_r + 1 <= 53 + qb_r) & (qb_r >= -1074))[nzb].all()))
        if ok_all:
            Qv = (int(qr.min()) + q_c).clamp(max=NOQ)
            if bias is not None:
                Qv = torch.minimum(Qv, qb_r.min())
            return Y, torch.zeros_like(Y), Qv, True, torch.zeros(B, dtype=F64), ~nocol
    ok = (u[:, None] + v_c[None, :] <= 52) & \
        ((qrow[:, None] + q_c[None, :] >= -1074) | ~hp_r[:, None])
    if bias is not None:
        b_r = bias[ri]
        b_ok = (en_r - qb_r)[:, None] + ex_c[None, :] <= 52
        c_ok = (eb_r - qrow)[:, None] - q_c[None, :] <= 52
        d_ok = (eb_r + 1 <= 53 + qb_r) & (qb_r >= -1074)
        ok &= (b_ok | (qb_r >= NOQ)[:, None]) & (c_ok | (b_r == 0)[:, None]) & \
            (d_ok | (b_r == 0))[:, None]
    Qk = torch.where(hp_r[:, None], qrow[:, None] + q_c[None, :], NOQ)
    if bias is not None:
        Qk = torch.minimum(Qk, qb_r[:, None])
    Qsub = torch.where(ok, Qk, NOQ).amin(0)
    if len(ri) == len(norm) and len(ci) == B and bool(ok.all()):
        return Y, torch.zeros_like(Y), Qsub, True, torch.zeros(B, dtype=F64), ~nocol
    Rsub = R[ri][:, ci]
    R[ri[:, None], ci[None, :]] = torch.where(ok, 0.0, Rsub)
    Q = torch.full((B,), NOQ, dtype=torch.int64)
    Q[ci] = Qsub
    exact_cols = nocol.clone()
    if len(ri) == len(norm):
        exact_cols[ci] = ok.all(0)
    return Y, R, Q, False, rcol, exact_cols


def certified_scale(Z: torch.Tensor, RZ: torch.Tensor, QZ: torch.Tensor, D: torch.Tensor,
                     RD: torch.Tensor, QD: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Elementwise Z * D with radius and quantum bound (D, RD, QD may broadcast)."""
    Y = Z * D
    inexact_d = bool((RD != 0).any())
    R = D.abs() * RZ
    if inexact_d:
        R = R + (Z.abs() + RZ) * RD
    R = (R + U * Y.abs()) * INFLATE + FLOOR
    exact = (RZ == 0) & (RD == 0) if inexact_d else RZ == 0
    zero_d = (D == 0) & (RD == 0)
    if bool(exact.any()):
        Q = (QZ + QD).clamp(-NOQ, NOQ)
        Q = torch.where((Y == 0) & exact, torch.full_like(Q, NOQ), Q)
        ok = exact & fits(Y.abs() * INFLATE, Q)
        ok = ok | ((Y == 0) & (((Z == 0) & (RZ == 0)) | zero_d))
    elif inexact_d or bool(zero_d.any()):  # no exact factors: only an exact 0 factor
        ok = (Y == 0) & (((Z == 0) & (RZ == 0)) | zero_d)
        Q = (QZ + QD).clamp(-NOQ, NOQ)
    else:  # every RZ > 0 and no D is 0: no product is exact
        ok = None
        Q = torch.full(Y.shape, -NOQ, dtype=QZ.dtype)
    if ok is not None:
        R = torch.where(ok, torch.zeros_like(R), R)
        Q = torch.where(ok, Q, torch.full_like(Q, -NOQ))
    return Y, _infinite_radius(Y, R), Q


def _infinite_radius(Y: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
    """R, infinite where Y is not finite."""
    if all_finite(Y):
        return R
    return torch.where(torch.isfinite(Y), R, torch.full_like(R, math.inf))


def certified_add(A: torch.Tensor, RA: torch.Tensor, QA: torch.Tensor, Bv: torch.Tensor,
                   RB: torch.Tensor, QB: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Elementwise A + B with radius and quantum bound (B, RB, QB may broadcast)."""
    S = A + Bv
    R = (RA + RB + U * S.abs()) * INFLATE + FLOOR
    exact = (RA == 0) & (RB == 0)
    if bool(exact.any()):
        Q = torch.minimum(QA, QB)
        ok = exact & fits((A.abs() + Bv.abs()) * INFLATE, Q)
        R = torch.where(ok, torch.zeros_like(R), R)
        Q = torch.where(ok, Q, torch.full_like(Q, -NOQ))
    else:
        Q = torch.full(S.shape, -NOQ, dtype=QA.dtype)
    return S, _infinite_radius(S, R), Q
