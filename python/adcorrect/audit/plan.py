"""The filter of the exact audit (THEORY.md 8.3): a single-example IR network compiled
once into levels of sparse or dense coefficient matrices, evaluated on a whole batch in
float64 with a rigorous radius per pre-activation (:mod:`adcorrect.audit.certified`).

Level ``L`` holds the neurons whose sources all lie in earlier levels (inputs are level
0), so its pre-activations are ``Y = C X + b`` with ``X`` the sources' values; ``C`` is
gathered from the parameter vector at every evaluation (the structure is fixed).  Each
copy (neuron, example) gets a float64 value, a radius (0: the value is exact, fact 4 of
:mod:`~adcorrect.audit.certified`) and a quantum bound; a copy is *kinked* when its
exact pre-activation is a kink, *uncertain* when the radius does not decide it (only
those need exact arithmetic).

The backward pass (:meth:`Plan.backward`) propagates one float64 adjoint per example
with the same bounds, seeded with ``dL/dz`` of the outputs and its error radius, with
the AD derivative choice at kinked copies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch

from ..activations import Activation, Choice, poly_deriv, poly_eval
from ..ir import Network, is_param
from .certified import ETA, F64, INFLATE, NOQ, U, fits, gamma, norm_up, quantum

DENSE_FILL = 0.25  # a level whose coefficient matrix is at least this full is dense


def _f(x: Fraction) -> tuple[float, float, int]:
    """(float value, representation error bound, quantum) of an exact rational."""
    v = float(x)
    if Fraction(v) == x:
        q = int(quantum(torch.tensor([v], dtype=F64))[0])
        return v, 0.0, q
    return v, 2 * U * abs(v) + ETA, -NOQ


@dataclass
class _ActTable:
    """Float data of one activation: breakpoints, kinks, pieces and their derivatives."""

    act: Activation
    bps: list[tuple[float, float]]  # (float, error) of each breakpoint
    kink_idx: list[int]  # indices of the breakpoints that are kinks
    pieces: list[list[tuple[float, float, int]]]  # per piece: coefficients (value, err, q)
    dpieces: list[list[tuple[float, float, int]]]  # derivative polynomials
    lip: float  # global Lipschitz bound
    identity: bool


def _act_table(act: Activation) -> _ActTable:
    bps = [(_f(c)[0], _f(c)[1]) for c in act.breakpoints]
    kinks = [i for i, c in enumerate(act.breakpoints) if act.is_kink(c)]
    pieces = [[_f(c) for c in p] for p in act.pieces]
    dpieces = [[_f(c) for c in poly_deriv(p)] for p in act.pieces]
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
    return _ActTable(act, bps, kinks, pieces, dpieces,
                     math.inf if lip is None else float(lip) * INFLATE + ETA,
                     act.is_identity)


@dataclass
class _Level:
    rows: torch.Tensor  # neuron indices
    cols: torch.Tensor  # node ids (inputs 0..n_in-1, neuron k is n_in + k)
    pair_row: torch.Tensor  # coalesced (row, col) pairs: positions in rows / cols
    pair_col: torch.Tensor
    term_pair: torch.Tensor  # for every term: its pair
    term_param: torch.Tensor  # parameter index or -1
    term_const: torch.Tensor  # float constant (where not a parameter)
    term_cerr: torch.Tensor  # representation error of the constant
    pair_terms: torch.Tensor  # number of terms of each pair
    bias_param: torch.Tensor  # parameter index or -1 per row
    bias_const: torch.Tensor
    bias_err: torch.Tensor
    m: int  # most terms of a row (+1 for the bias)
    dense: bool
    simple: bool  # one term per (row, source) pair, terms in pair order
    exact_consts: bool  # every constant coefficient is a float64 number
    row_slice: slice | None  # rows / cols as a contiguous range, if they are
    col_slice: slice | None
    acts: list[tuple[_ActTable, torch.Tensor]]  # activation and its row positions


@dataclass
class Forward:
    """Float64 pre-activations/outputs of every copy with radii and quantum bounds."""

    y: torch.Tensor  # (N, B) pre-activations
    ry: torch.Tensor
    qy: torch.Tensor
    z: torch.Tensor  # (n_in + N, B) node values (inputs first)
    rz: torch.Tensor
    qz: torch.Tensor
    kink: torch.Tensor  # (N, B) bool: certainly on a kink
    uncertain: torch.Tensor  # (N, B) bool: the radius does not decide


@dataclass
class Backward:
    """Float64 adjoints zbar (N, E) of the selected examples, with radii."""

    zbar: torch.Tensor
    rzbar: torch.Tensor
    examples: list[int]


class Plan:
    """A single-example IR network compiled for batched certified float64 evaluation."""

    def __init__(self, net: Network) -> None:
        if net.batch != 1:
            raise ValueError("Plan: expects a single-example network")
        self.net = net
        self.n_in = len(net.input)
        N = len(net.neurons)
        self.N = N
        level = [0] * N
        for n in net.neurons:
            level[n.index] = 1 + max((level[s] if s >= 0 else 0 for s in n.sources), default=0)
        by_level: dict[int, list[int]] = {}
        for k, lv in enumerate(level):
            by_level.setdefault(lv, []).append(k)
        tables: dict[Activation, _ActTable] = {}
        self.tables = tables
        self.levels = [self._compile(ks, tables) for _, ks in sorted(by_level.items())]
        self.level_of = level
        self.table_of = [tables[n.activation] for n in net.neurons]
        self.outputs = list(net.head.outputs)
        # exclusive parameters of each neuron: p -> list of slots ("bias" or a source)
        uses: dict[int, set[int]] = {}
        for n in net.neurons:
            for v in (*n.weights, n.bias):
                if is_param(v):
                    uses.setdefault(v[1], set()).add(n.index)  # type: ignore[index]
        self.exclusive: list[dict[int, list[int | None]]] = [{} for _ in range(N)]
        for n in net.neurons:
            slots: dict[int, list[int | None]] = {}
            if is_param(n.bias) and uses[n.bias[1]] == {n.index}:  # type: ignore[index]
                slots.setdefault(n.bias[1], []).append(None)  # type: ignore[index]
            for s, wt in zip(n.sources, n.weights):
                if is_param(wt) and uses[wt[1]] == {n.index}:  # type: ignore[index]
                    slots.setdefault(wt[1], []).append(s)  # type: ignore[index]
            self.exclusive[n.index] = slots
        for n in net.neurons:
            if not n.activation.exact:
                n.activation.require_exact()

    def _compile(self, ks: list[int], tables: dict[Activation, _ActTable]) -> _Level:
        net, n_in = self.net, self.n_in
        col_index: dict[int, int] = {}
        pairs: dict[tuple[int, int], int] = {}
        t_pair, t_param, t_const, t_err = [], [], [], []
        b_param, b_const, b_err = [], [], []
        m = 1
        acts: dict[Activation, list[int]] = {}
        for r, k in enumerate(ks):
            n = net.neurons[k]
            m = max(m, len(n.sources) + 1)
            acts.setdefault(n.activation, []).append(r)
            for s, wt in zip(n.sources, n.weights):
                node = -s - 1 if s < 0 else n_in + s
                c = col_index.setdefault(node, len(col_index))
                p = pairs.setdefault((r, c), len(pairs))
                t_pair.append(p)
                if is_param(wt):
                    t_param.append(wt[1])
                    t_const.append(0.0)
                    t_err.append(0.0)
                else:
                    v, e, _ = _f(wt[1])
                    t_param.append(-1)
                    t_const.append(v)
                    t_err.append(e)
            if is_param(n.bias):
                b_param.append(n.bias[1])  # type: ignore[index]
                b_const.append(0.0)
                b_err.append(0.0)
            else:
                v, e, _ = _f(n.bias[1] if n.bias is not None else Fraction(0))
                b_param.append(-1)
                b_const.append(v)
                b_err.append(e)
        for act in acts:
            if act not in tables:
                tables[act] = _act_table(act)
        cols = sorted(col_index, key=col_index.get)  # type: ignore[arg-type]
        pr = torch.tensor([rc[0] for rc in pairs], dtype=torch.int64)
        pc = torch.tensor([rc[1] for rc in pairs], dtype=torch.int64)
        tp = torch.tensor(t_pair, dtype=torch.int64)
        counts = torch.zeros(len(pairs), dtype=torch.int64)
        if len(tp):
            counts.index_add_(0, tp, torch.ones_like(tp))
        dense = len(pairs) >= DENSE_FILL * max(1, len(ks) * len(cols))
        simple = len(t_pair) == len(pairs) and t_pair == list(range(len(pairs)))
        rows_nodes = [n_in + k for k in ks]
        return _Level(
            simple=simple, exact_consts=all(e == 0 for e in t_err),
            row_slice=_range(rows_nodes), col_slice=_range(cols),
            rows=torch.tensor(ks, dtype=torch.int64), cols=torch.tensor(cols, dtype=torch.int64),
            pair_row=pr, pair_col=pc, term_pair=tp,
            term_param=torch.tensor(t_param, dtype=torch.int64),
            term_const=torch.tensor(t_const, dtype=F64), term_cerr=torch.tensor(t_err, dtype=F64),
            pair_terms=counts, bias_param=torch.tensor(b_param, dtype=torch.int64),
            bias_const=torch.tensor(b_const, dtype=F64), bias_err=torch.tensor(b_err, dtype=F64),
            m=m, dense=dense,
            acts=[(tables[a], torch.tensor(rs, dtype=torch.int64)) for a, rs in acts.items()])

    # -- coefficients at w --------------------------------------------------------------

    @staticmethod
    def _gather(param: torch.Tensor, const: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if not len(param):
            return const.clone()
        vals = w[param.clamp_min(0)]
        return torch.where(param >= 0, vals, const)

    def _coefs(self, lv: _Level, w: torch.Tensor) -> dict[str, Any]:
        tv = self._gather(lv.term_param, lv.term_const, w)
        npairs = len(lv.pair_row)
        if lv.simple:  # one term per pair, in pair order
            pv, perr = tv, lv.term_cerr
        else:
            pv = torch.zeros(npairs, dtype=F64)
            pv.index_add_(0, lv.term_pair, tv)
            perr = torch.zeros(npairs, dtype=F64)
            perr.index_add_(0, lv.term_pair, lv.term_cerr)
            multi = lv.pair_terms > 1
            if bool(multi.any()):
                pabs = torch.zeros(npairs, dtype=F64)
                pabs.index_add_(0, lv.term_pair, tv.abs())
                perr = perr + torch.where(
                    multi, gamma(int(lv.pair_terms.max())) * pabs * INFLATE + ETA, 0.0)
        nr = len(lv.rows)
        if lv.dense:
            mat = torch.zeros(nr, len(lv.cols), dtype=F64)
            mat[lv.pair_row, lv.pair_col] = pv
            sq = (mat * mat).sum(1)
        else:
            mat = torch.sparse_coo_tensor(torch.stack([lv.pair_row, lv.pair_col]), pv,
                                          (nr, len(lv.cols)), dtype=F64).to_sparse_csr()
            sq = torch.zeros(nr, dtype=F64)
            sq.index_add_(0, lv.pair_row, pv * pv)
        exact_consts = lv.simple and lv.exact_consts
        if exact_consts:
            err = torch.zeros(nr, dtype=F64)
        else:
            er = torch.zeros(nr, dtype=F64)
            er.index_add_(0, lv.pair_row, perr * perr)
            bad = torch.zeros(nr, dtype=F64).scatter_reduce(0, lv.pair_row, perr, "amax")
            err = torch.where(bad > 0, _up(er, lv.m), 0.0)
        bias = self._gather(lv.bias_param, lv.bias_const, w)
        co: dict[str, Any] = {"mat": mat, "bias": bias, "berr": lv.bias_err, "norm": _up(sq, lv.m),
                              "err": err, "pv": pv, "perr": perr}

        def quanta() -> tuple[torch.Tensor, torch.Tensor]:
            if "q" not in co:
                q = quantum(pv)
                if not exact_consts:
                    q = torch.where(perr > 0, -NOQ, q)
                co["q"] = q
                co["qrow"] = torch.full((nr,), NOQ, dtype=torch.int64).scatter_reduce(
                    0, lv.pair_row, q, "amin")
                co["qb"] = torch.where(lv.bias_err > 0, -NOQ, quantum(bias))
            return co["qrow"], co["qb"]

        co["quanta"] = quanta
        return co

    @staticmethod
    def _transposed(lv: _Level, co: dict[str, Any]) -> dict[str, Any]:
        """C^T with its row norms, errors and quanta (for the backward pass)."""
        if "mat_t" in co:
            return co
        co["quanta"]()
        pv, perr, q = co["pv"], co["perr"], co["q"]
        nr, nc = len(lv.rows), len(lv.cols)
        if lv.dense:
            co["mat_t"] = co["mat"].t()
        else:
            co["mat_t"] = torch.sparse_coo_tensor(torch.stack([lv.pair_col, lv.pair_row]), pv,
                                                  (nc, nr), dtype=F64).to_sparse_csr()
        cnt = torch.zeros(nc, dtype=torch.int64)
        cnt.index_add_(0, lv.pair_col, torch.ones_like(lv.pair_col))
        m_t = int(cnt.max()) + 1 if nc else 1
        sq_t = torch.zeros(nc, dtype=F64)
        sq_t.index_add_(0, lv.pair_col, pv * pv)
        er_t = torch.zeros(nc, dtype=F64)
        er_t.index_add_(0, lv.pair_col, perr * perr)
        bad = torch.zeros(nc, dtype=F64).scatter_reduce(0, lv.pair_col, perr, "amax")
        co["norm_t"], co["m_t"] = _up(sq_t, m_t), m_t
        co["err_t"] = torch.where(bad > 0, _up(er_t, m_t), torch.zeros_like(er_t))
        co["qcol"] = torch.full((nc,), NOQ, dtype=torch.int64).scatter_reduce(
            0, lv.pair_col, q, "amin")
        nz = (pv != 0).to(torch.float32)
        if lv.dense:
            pat = torch.zeros(nc, nr, dtype=torch.float32)
            pat[lv.pair_col, lv.pair_row] = nz
        else:
            pat = torch.sparse_coo_tensor(torch.stack([lv.pair_col, lv.pair_row]), nz,
                                          (nc, nr)).to_sparse_csr()
        co["pat_t"] = pat
        return co

    # -- forward ------------------------------------------------------------------------

    def forward(self, w: torch.Tensor, x: torch.Tensor) -> Forward:
        """Certified float64 evaluation of every copy; ``w`` (W,) and ``x`` (B, n_in) hold
        exact float64 values of the parameters and inputs."""
        B = x.shape[0]
        n_in, N = self.n_in, self.N
        z = torch.empty(n_in + N, B, dtype=F64)
        rz = torch.zeros(n_in + N, B, dtype=F64)
        qz = torch.empty(n_in + N, B, dtype=torch.int64)
        z[:n_in] = x.t()
        qz[:n_in] = quantum(z[:n_in])
        y = torch.empty(N, B, dtype=F64)
        ry = torch.zeros(N, B, dtype=F64)
        qy = torch.empty(N, B, dtype=torch.int64)
        kink = torch.zeros(N, B, dtype=torch.bool)
        unc = torch.zeros(N, B, dtype=torch.bool)
        self._coef_cache: list[dict[str, Any]] = []
        for lv in self.levels:
            co = self._coefs(lv, w)
            self._coef_cache.append(co)
            cs = lv.col_slice if lv.col_slice is not None else lv.cols
            X, RX, QX = z[cs], rz[cs], qz[cs]
            Y, R, Q = _certified_product(co["mat"], co["norm"], co["err"], co["quanta"], lv.m,
                                         X, RX, QX, co["bias"], co["berr"])
            rows = lv.rows
            if lv.row_slice is not None:
                ys = slice(lv.row_slice.start - n_in, lv.row_slice.stop - n_in)
                y[ys], ry[ys], qy[ys] = Y, R, Q
            else:
                y[rows], ry[rows], qy[rows] = Y, R, Q
            if len(lv.acts) == 1 and lv.row_slice is not None:
                tab = lv.acts[0][0]
                if tab.identity:
                    Z, RZ, QZ = Y, R, Q
                else:
                    Z, RZ, QZ, K, UN = _activate(tab, Y, R, Q)
                    kink[ys], unc[ys] = K, UN
                z[lv.row_slice], rz[lv.row_slice], qz[lv.row_slice] = Z, RZ, QZ
                continue
            for tab, pos in lv.acts:
                Yp, Rp, Qp = Y[pos], R[pos], Q[pos]
                if tab.identity:
                    Z, RZ, QZ = Yp, Rp, Qp
                else:
                    Z, RZ, QZ, K, UN = _activate(tab, Yp, Rp, Qp)
                    kink[rows[pos]], unc[rows[pos]] = K, UN
                nodes = rows[pos] + n_in
                z[nodes], rz[nodes], qz[nodes] = Z, RZ, QZ
        return Forward(y, ry, qy, z, rz, qz, kink, unc)

    # -- backward -----------------------------------------------------------------------

    def backward(self, fw: Forward, examples: Sequence[int], seeds: torch.Tensor,
                 rseeds: torch.Tensor, choice: Choice,
                 exact_y: dict[tuple[int, int], Fraction]) -> Backward:
        """Adjoints zbar of every neuron for the given examples (columns), from the
        seeds dL/dz at the outputs (shape (n_out, E)) with radii; derivative ``choice`` at
        kinked copies; ``exact_y`` gives the exact pre-activation of copies whose radius
        did not decide their piece."""
        n_in, N = self.n_in, self.N
        ex = torch.tensor(list(examples), dtype=torch.int64)
        E = len(examples)
        zb = torch.zeros(n_in + N, E, dtype=F64)
        rzb = torch.zeros(n_in + N, E, dtype=F64)
        qzb = torch.full((n_in + N, E), NOQ, dtype=torch.int64)
        outs = torch.tensor(self.outputs, dtype=torch.int64) + n_in
        for j in range(len(self.outputs)):  # outputs may repeat
            zb[outs[j]] += seeds[j]
            rzb[outs[j]] += rseeds[j]
        qzb[outs] = torch.where(rzb[outs] == 0, quantum(zb[outs]),
                                torch.full_like(qzb[outs], -NOQ))
        col_of = {int(e): c for c, e in enumerate(examples)}
        fixes = [(k, col_of[i], y) for (k, i), y in exact_y.items() if i in col_of]
        for lv, co in zip(reversed(self.levels), reversed(self._coef_cache)):
            rows = lv.rows
            nodes = rows + n_in
            Zb, RZb, QZb = zb[nodes], rzb[nodes], qzb[nodes]
            D = torch.ones(len(rows), E, dtype=F64)
            RD = torch.zeros(len(rows), E, dtype=F64)
            QD = torch.zeros(len(rows), E, dtype=torch.int64)
            for tab, pos in lv.acts:
                if tab.identity:
                    continue
                d, rd, qd = _derivative(tab, fw.y[rows[pos]][:, ex], fw.ry[rows[pos]][:, ex],
                                        fw.qy[rows[pos]][:, ex], fw.kink[rows[pos]][:, ex],
                                        choice)
                D[pos], RD[pos], QD[pos] = d, rd, qd
            for k, c, yk in fixes:
                if self.level_of[k] != self._level_index(lv):
                    continue
                r = int((rows == k).nonzero()[0])
                dv, de, dq = _f(self.net.neurons[k].activation.derivative(yk, choice))
                D[r, c], RD[r, c], QD[r, c] = dv, de, dq
            Yb, RYb, QYb = _certified_scale(Zb, RZb, QZb, D, RD, QD)
            if not bool((Yb != 0).any()) and not bool((RYb != 0).any()):
                continue
            co = self._transposed(lv, co)
            qcol = co["qcol"]
            S, RS, QS = _certified_product(co["mat_t"], co["norm_t"], co["err_t"],
                                           lambda q=qcol: (q, None), co["m_t"], Yb, RYb, QYb,
                                           None, None)
            # structural zeros: no non-zero coefficient meets a non-zero (or uncertain) ybar
            live = ((Yb != 0) | (RYb != 0)).to(torch.float32)
            dead = (co["pat_t"] @ live) == 0
            RS = torch.where(dead, torch.zeros_like(RS), RS)
            QS = torch.where(dead, torch.full_like(QS, NOQ), QS)
            cols = lv.cols
            old, rold, qold = zb[cols], rzb[cols], qzb[cols]
            new, rnew, qnew = _certified_add(old, rold, qold, S, RS, QS)
            zb[cols], rzb[cols], qzb[cols] = new, rnew, qnew
        return Backward(zb[n_in:], rzb[n_in:], list(examples))

    def _level_index(self, lv: _Level) -> int:
        return self.level_of[int(lv.rows[0])]


def _range(ids: list[int]) -> slice | None:
    """ids as a slice if they are consecutive increasing integers."""
    if ids and ids == list(range(ids[0], ids[0] + len(ids))):
        return slice(ids[0], ids[0] + len(ids))
    return None


def _up(sq: torch.Tensor, m: int) -> torch.Tensor:
    return torch.sqrt(sq) * INFLATE + math.sqrt(m) * 2.0 ** -536


def _certified_product(mat: torch.Tensor, norm: torch.Tensor, err: torch.Tensor,
                       quanta: Any, m: int, X: torch.Tensor, RX: torch.Tensor,
                       QX: torch.Tensor, bias: torch.Tensor | None, berr: torch.Tensor | None,
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Y = mat @ X + bias with radius and quantum bound (facts 1-4, 6).

    R = norm (g nX + nR) + err (nX + nR) + g |b| + berr, each factor already inflated,
    with g = gamma_{m+1}, nX and nR the column norms of X and of its radii (upper bounds);
    R = 0 where fact 4 certifies the float result exact."""
    Y = mat @ X
    if bias is not None:
        Y = Y + bias[:, None]
    nX = norm_up(X, 0)
    exact_src = (RX == 0).all(0) if RX.numel() else torch.ones(X.shape[1], dtype=torch.bool)
    all_exact = bool(exact_src.all())
    g = gamma(m + 1)
    ni = norm * INFLATE
    col = g * nX
    nR = None
    if not all_exact:
        nR = norm_up(RX, 0)
        col = col + nR
    R = ni[:, None] * col[None, :]
    has_err = bool((err > 0).any())
    if has_err:
        R = R + (err * INFLATE)[:, None] * (nX if nR is None else nX + nR)[None, :]
    row = torch.full_like(norm, (m + 8) * 2.0 ** -1070)
    if bias is not None:
        row = row + g * INFLATE * bias.abs()
    if berr is not None:
        row = row + berr * INFLATE
    R = R + row[:, None]
    if not bool(torch.isfinite(Y).all()):
        R = torch.where(torch.isfinite(Y), R, math.inf)
    Q = torch.full(Y.shape, -NOQ, dtype=torch.int64)
    rows_ok = ~(err > 0) if berr is None else ~(err > 0) & ~(berr > 0)
    if not bool(exact_src.any()) or not bool(rows_ok.any()):
        return Y, R, Q
    QXc = torch.where(RX == 0, QX, NOQ).amin(0) if len(QX) else \
        torch.full((X.shape[1],), NOQ, dtype=torch.int64)
    babs = bias.abs() if bias is not None else torch.zeros_like(norm)
    # no entry can pass fact 4 if even the smallest bound needs more bits than the largest
    # Q can be (a row's quantum is at most that of its smallest non-zero coefficient)
    if len(norm) and mat.layout == torch.strided:
        small = torch.where(mat != 0, mat.abs(), math.inf).amin(1)
        top = float(small.max())
        if 0 < top < math.inf:
            qmax = math.frexp(top)[1] - 1 + int(QXc.max())
            amin = float(norm.min() * nX.min())
            if qmax < NOQ // 2 and amin > 0 and math.log2(amin) >= 53 + qmax + 1:
                return Y, R, Q
    qrow, qb = quanta()
    A = (ni[:, None] * nX[None, :] + babs[:, None]) * INFLATE
    Qc = (qrow[:, None] + QXc[None, :]).clamp(max=NOQ)
    if qb is not None:
        Qc = torch.minimum(Qc, qb[:, None])
    ok = fits(A, Qc) & rows_ok[:, None]
    if not all_exact:
        ok &= exact_src[None, :]
    R = torch.where(ok, 0.0, R)
    Q = torch.where(ok, Qc, Q)
    return Y, R, Q


def _certified_scale(Z: torch.Tensor, RZ: torch.Tensor, QZ: torch.Tensor, D: torch.Tensor,
                     RD: torch.Tensor, QD: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Elementwise Z * D with radius and quantum bound."""
    Y = Z * D
    R = (D.abs() * RZ + (Z.abs() + RZ) * RD + U * Y.abs()) * INFLATE + 4 * ETA
    Q = (QZ + QD).clamp(-NOQ, NOQ)
    Q = torch.where((Y == 0) & (RZ == 0) & (RD == 0), torch.full_like(Q, NOQ), Q)
    ok = (RZ == 0) & (RD == 0) & fits(Y.abs() * INFLATE, Q)
    ok = ok | ((Y == 0) & (((Z == 0) & (RZ == 0)) | ((D == 0) & (RD == 0))))
    R = torch.where(ok, torch.zeros_like(R), R)
    Q = torch.where(ok, Q, torch.full_like(Q, -NOQ))
    return Y, torch.where(torch.isfinite(Y), R, torch.full_like(R, math.inf)), Q


def _certified_add(A: torch.Tensor, RA: torch.Tensor, QA: torch.Tensor, Bv: torch.Tensor,
                   RB: torch.Tensor, QB: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Elementwise A + B with radius and quantum bound."""
    S = A + Bv
    R = (RA + RB + U * S.abs()) * INFLATE + 2 * ETA
    Q = torch.minimum(QA, QB)
    ok = (RA == 0) & (RB == 0) & fits((A.abs() + Bv.abs()) * INFLATE, Q)
    R = torch.where(ok, torch.zeros_like(R), R)
    Q = torch.where(ok, Q, torch.full_like(Q, -NOQ))
    return S, torch.where(torch.isfinite(S), R, torch.full_like(R, math.inf)), Q


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
        RZ = (lip * R + gamma(2) * size + e1 * (Y.abs() + R) + e0) * INFLATE + 4 * ETA
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
    RZ = (lip * R + gamma(2 * deg) * size + cerr) * INFLATE + 4 * deg * ETA
    return Z, RZ, torch.full_like(Q, -NOQ)


def _relu(Y: torch.Tensor, R: torch.Tensor, Q: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """relu on the enclosures (1-Lipschitz; exactly 0 below -R; exact where R = 0)."""
    Z = Y.clamp_min(0.0)
    dead = Y < -R
    RZ = torch.where(dead, 0.0, R)
    QZ = torch.where(dead, NOQ, Q)
    exact = R == 0
    kink = exact & (Y == 0)
    unc = ~exact & (Y.abs() <= R)
    return Z, RZ, QZ, kink, unc


def _activate(tab: _ActTable, Y: torch.Tensor, R: torch.Tensor, Q: torch.Tensor
              ) -> tuple[torch.Tensor, ...]:
    """sigma on the enclosures: values, radii, quanta, certain kinks, uncertain copies."""
    if tab.act.name == "relu" and tab.act.breakpoints == (0,):
        return _relu(Y, R, Q)
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


def _derivative(tab: _ActTable, Y: torch.Tensor, R: torch.Tensor, Q: torch.Tensor,
                kink: torch.Tensor, choice: Choice
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """AD's derivative of sigma at copies whose piece is certain (or which are certainly
    on a kink: the choice D there)."""
    idx = torch.zeros(Y.shape, dtype=torch.int64)
    for c, _ in tab.bps:
        idx += (Y > c).to(torch.int64)
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
    if bool(kink.any()):
        for b in tab.kink_idx:
            c = tab.act.breakpoints[b]
            at = kink & (Y == tab.bps[b][0])
            if bool(at.any()):
                dv, de, dq = _f(tab.act.derivative(c, choice))
                D[at], RD[at], QD[at] = dv, de, dq
    return D, RD, QD
