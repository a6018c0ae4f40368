"""The levels of the audit filter: a single-example IR network compiled once.

Level ``L`` holds the neurons whose sources all lie in earlier levels (inputs are level
0), so its pre-activations are ``Y = C X + b`` with ``X`` the sources' values.
:func:`compile_level` fixes the structure (terms, coalesced (row, column) pairs, CSR
order, dense or sparse, the activations' row positions) as index tensors;
:func:`coefficients` gathers ``C`` and ``b`` from a parameter vector at every evaluation,
with the representation errors and quantum bounds the certified kernels need.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch

from ..core.deadline import tick
from ..nets.activations import Activation
from ..nets.ir import Network, is_param
from .certified import F64, FLOOR, INFLATE, NOQ, gamma, quantum
from .floatact import ActTable, act_table, float_const
from .kernels import index_range, sparse, up_bound

DENSE_FILL = 0.25  # a level whose coefficient matrix is at least this full is dense


@dataclass
class Level:
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
    parts: list[tuple[int, Any]]  # the columns: (source block or -1, selection)
    full: bool  # dense, every (row, column) pair once, in row-major order
    csr: tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # crow, col, pair permutation
    diag: tuple[torch.Tensor | None] | None  # one term per row: (its column, None: the row's)
    param_slice: slice | None  # the terms are these parameters, in order
    first_pair: torch.Tensor  # a pair of each row
    few_pairs: torch.Tensor  # up to 8 pairs of each row (repeated to fill 8)
    has_pairs: torch.Tensor  # rows with at least one source
    acts: list[tuple[ActTable, torch.Tensor]]  # activation and its row positions



def compile_level(net: Network, n_in: int, block_of: dict[int, tuple[int, int]],
                  block_size: list[int], ks: list[int],
                  tables: dict[Activation, ActTable]) -> Level:
    """The level of the neurons ks (earlier levels' blocks are placed by block_of and
    block_size): its terms, pairs, columns and activations as index tensors."""
    # columns grouped by source block (-1: the inputs), in block order
    where: dict[int, tuple[int, int]] = {}
    for k in ks:
        for s in net.neurons[k].sources:
            node = -s - 1 if s < 0 else n_in + s
            where[node] = (-1, -s - 1) if s < 0 else block_of[s]
    order = sorted(where, key=lambda nd: where[nd])
    col_index = {nd: c for c, nd in enumerate(order)}
    parts: list[tuple[int, Any]] = []
    for blk in sorted({where[nd][0] for nd in order}):
        pos = [where[nd][1] for nd in order if where[nd][0] == blk]
        size = n_in if blk < 0 else block_size[blk]
        if pos == list(range(size)):
            sel: Any = None
        elif pos == list(range(pos[0], pos[0] + len(pos))):
            sel = slice(pos[0], pos[0] + len(pos))
        else:
            sel = torch.tensor(pos, dtype=torch.int64)
        parts.append((blk, sel))
    pairs: dict[tuple[int, int], int] = {}
    t_pair, t_param, t_const, t_err = [], [], [], []
    b_param, b_const, b_err = [], [], []
    m = 1
    acts: dict[Activation, list[int]] = {}
    for r, k in enumerate(ks):
        if r % 4096 == 0:
            tick("compiling the network's plan")
        n = net.neurons[k]
        m = max(m, len(n.sources) + 1)
        acts.setdefault(n.activation, []).append(r)
        for s, wt in zip(n.sources, n.weights):
            node = -s - 1 if s < 0 else n_in + s
            c = col_index[node]
            p = pairs.setdefault((r, c), len(pairs))
            t_pair.append(p)
            if is_param(wt):
                t_param.append(wt[1])
                t_const.append(0.0)
                t_err.append(0.0)
            else:
                v, e, _ = float_const(wt[1])
                t_param.append(-1)
                t_const.append(v)
                t_err.append(e)
        if is_param(n.bias):
            b_param.append(n.bias[1])  # type: ignore[index]
            b_const.append(0.0)
            b_err.append(0.0)
        else:
            v, e, _ = float_const(n.bias[1] if n.bias is not None else Fraction(0))
            b_param.append(-1)
            b_const.append(v)
            b_err.append(e)
    for act in acts:
        if act not in tables:
            tables[act] = act_table(act)
    cols = order
    pr = torch.tensor([rc[0] for rc in pairs], dtype=torch.int64)
    pc = torch.tensor([rc[1] for rc in pairs], dtype=torch.int64)
    tp = torch.tensor(t_pair, dtype=torch.int64)
    counts = torch.zeros(len(pairs), dtype=torch.int64)
    if len(tp):
        counts.index_add_(0, tp, torch.ones_like(tp))
    dense = len(pairs) >= DENSE_FILL * max(1, len(ks) * len(cols))
    keys = list(pairs)
    perm = sorted(range(len(keys)), key=lambda i: keys[i])
    crow = torch.zeros(len(ks) + 1, dtype=torch.int64)
    for r, _ in keys:
        crow[r + 1] += 1
    crow = torch.cumsum(crow, 0)
    csr = (crow, torch.tensor([keys[i][1] for i in perm], dtype=torch.int64),
           torch.tensor(perm, dtype=torch.int64))
    simple = len(t_pair) == len(pairs) and t_pair == list(range(len(pairs)))
    full = simple and len(pairs) == len(ks) * len(order) and all(
        rc == (i // max(1, len(order)), i % max(1, len(order))) for i, rc in enumerate(pairs))
    pslice = None
    if simple and t_param and t_param[0] >= 0 and \
            t_param == list(range(t_param[0], t_param[0] + len(t_param))):
        pslice = slice(t_param[0], t_param[0] + len(t_param))
    rows_nodes = [n_in + k for k in ks]
    few_lists: list[list[int]] = [[] for _ in ks]  # up to 8 pairs of each row
    for pi, (r, _) in enumerate(pairs):
        if len(few_lists[r]) < 8:
            few_lists[r].append(pi)
    seen = {r for r, fl in enumerate(few_lists) if fl}
    few = torch.tensor([(fl * 8)[:8] if fl else [0] * 8 for fl in few_lists],
                       dtype=torch.int64).reshape(len(ks), 8)
    first = few[:, 0]
    diag = None
    if len(keys) == len(ks) and all(r == i for i, (r, _) in enumerate(keys)):
        dc = [c for _, c in keys]
        diag = None if dc == list(range(len(order))) else torch.tensor(dc, dtype=torch.int64)
        diag = (diag,)
    return Level(
        diag=diag, csr=csr, full=full, param_slice=pslice, parts=parts, first_pair=first, few_pairs=few, has_pairs=torch.tensor([r in seen
                                                               for r in range(len(ks))]),
        simple=simple, exact_consts=all(e == 0 for e in t_err),
        row_slice=index_range(rows_nodes), col_slice=index_range(cols),
        rows=torch.tensor(ks, dtype=torch.int64), cols=torch.tensor(cols, dtype=torch.int64),
        pair_row=pr, pair_col=pc, term_pair=tp,
        term_param=torch.tensor(t_param, dtype=torch.int64),
        term_const=torch.tensor(t_const, dtype=F64), term_cerr=torch.tensor(t_err, dtype=F64),
        pair_terms=counts, bias_param=torch.tensor(b_param, dtype=torch.int64),
        bias_const=torch.tensor(b_const, dtype=F64), bias_err=torch.tensor(b_err, dtype=F64),
        m=m, dense=dense,
        acts=[(tables[a], torch.tensor(rs, dtype=torch.int64)) for a, rs in acts.items()])




def gather(param: torch.Tensor, const: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    if not len(param):
        return const.clone()
    vals = w[param.clamp_min(0)]
    return torch.where(param >= 0, vals, const)

def coefficients(lv: Level, w: torch.Tensor) -> dict[str, Any]:
    tv = w[lv.param_slice] if lv.param_slice is not None else \
        gather(lv.term_param, lv.term_const, w)
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
                multi, gamma(int(lv.pair_terms.max())) * pabs * INFLATE + FLOOR, 0.0)
    nr = len(lv.rows)
    if lv.diag is not None:
        mat = None
        sq = pv.square()
    elif lv.full:
        mat = pv.reshape(nr, len(lv.cols))
        sq = mat.square().sum(1)
    elif lv.dense:
        mat = torch.zeros(nr, len(lv.cols), dtype=F64)
        mat[lv.pair_row, lv.pair_col] = pv
        sq = mat.square().sum(1)
    else:
        crow, col, perm = lv.csr
        mat = sparse(lambda: torch.sparse_csr_tensor(crow, col, pv[perm], (nr, len(lv.cols)),
                                                      dtype=F64))
        sq = torch.zeros(nr, dtype=F64)
        sq.index_add_(0, lv.pair_row, pv * pv)
    exact_consts = lv.simple and lv.exact_consts
    if exact_consts:
        err = torch.zeros(nr, dtype=F64)
    else:
        er = torch.zeros(nr, dtype=F64)
        er.index_add_(0, lv.pair_row, perr * perr)
        bad = torch.zeros(nr, dtype=F64).scatter_reduce(0, lv.pair_row, perr, "amax")
        err = torch.where(bad > 0, up_bound(er, lv.m), 0.0)
    bias = gather(lv.bias_param, lv.bias_const, w)
    co: dict[str, Any] = {"mat": mat, "diag": lv.diag, "bias": bias, "berr": lv.bias_err, "norm": up_bound(sq, lv.m),
                          "err": err, "pv": pv, "perr": perr, "has_err": not exact_consts,
                          "rows_ok": (err == 0) & (lv.bias_err == 0),
                          "has_pairs": lv.has_pairs}

    def quanta() -> tuple[torch.Tensor, torch.Tensor]:
        if "q" not in co:
            q = quantum(pv)
            if not exact_consts:
                q = torch.where(perr > 0, -NOQ, q)
            co["q"] = q
            if lv.full:
                co["qrow"] = q.reshape(nr, -1).amin(1) if len(lv.cols) else \
                    torch.full((nr,), NOQ, dtype=torch.int64)
            else:
                co["qrow"] = torch.full((nr,), NOQ, dtype=torch.int64).scatter_reduce(
                    0, lv.pair_row, q, "amin")
        return co["qrow"], bias_quanta()

    def bias_quanta() -> torch.Tensor:
        if "qb" not in co:
            co["qb"] = torch.where(lv.bias_err > 0, -NOQ, quantum(bias))
        return co["qb"]

    def few_quanta() -> torch.Tensor:
        """An upper bound per row on its coefficients' least quantum."""
        if not len(pv):
            return torch.full((nr,), NOQ, dtype=torch.int64)
        q = quantum(pv[lv.few_pairs])
        if not exact_consts:
            q = torch.where(perr[lv.few_pairs] > 0, -NOQ, q)
        return q.amin(1)

    def row_quanta(ri: torch.Tensor) -> torch.Tensor:
        if lv.diag is not None:
            q = quantum(pv[ri])
            return q if exact_consts else torch.where(perr[ri] > 0, -NOQ, q)
        if lv.full and len(lv.cols):
            q = quantum(mat[ri])
            return q.amin(1)
        return quanta()[0][ri]

    co["quanta"], co["few_quanta"], co["row_quanta"] = quanta, few_quanta, row_quanta
    co["bias_quanta"] = bias_quanta
    return co

def transposed(lv: Level, co: dict[str, Any]) -> dict[str, Any]:
    """C^T as a coefficient dict (for the backward pass), cached in co."""
    if "t" in co:
        return co["t"]
    if lv.full and co["mat"] is not None:
        return _transposed_full(lv, co)
    pv, perr = co["pv"], co["perr"]
    nr, nc = len(lv.rows), len(lv.cols)
    if lv.dense and co["mat"] is not None:
        mat_t = co["mat"].t()
    else:
        mat_t = sparse(lambda: torch.sparse_coo_tensor(
            torch.stack([lv.pair_col, lv.pair_row]), pv, (nc, nr), dtype=F64).to_sparse_csr())
    cnt = torch.zeros(nc, dtype=torch.int64)
    cnt.index_add_(0, lv.pair_col, torch.ones_like(lv.pair_col))
    m_t = int(cnt.max()) + 1 if nc else 1
    sq_t = torch.zeros(nc, dtype=F64)
    sq_t.index_add_(0, lv.pair_col, pv * pv)
    er_t = torch.zeros(nc, dtype=F64)
    er_t.index_add_(0, lv.pair_col, perr * perr)
    bad = torch.zeros(nc, dtype=F64).scatter_reduce(0, lv.pair_col, perr, "amax")
    err_t = torch.where(bad > 0, up_bound(er_t, m_t), 0.0)
    t = {"mat": mat_t, "norm": up_bound(sq_t, m_t), "err": err_t, "m": m_t,
         "has_err": bool((bad > 0).any()), "rows_ok": bad == 0, "has_pairs": cnt > 0}
    t.update(_column_quanta(co, nc, lambda q: torch.full(
        (nc,), NOQ, dtype=torch.int64).scatter_reduce(0, lv.pair_col, q, "amin")))
    co["t"] = t
    return t


def _column_quanta(co: dict[str, Any], nc: int, reduce: Any) -> dict[str, Any]:
    """The quantum functions of a transpose: each column's least coefficient quantum,
    computed on first use (a backward pass whose adjoints are all inexact never asks)."""
    memo: list[torch.Tensor] = []

    def qcol() -> torch.Tensor:
        if not memo:
            co["quanta"]()
            memo.append(reduce(co["q"]))
        return memo[0]

    none = torch.full((nc,), NOQ, dtype=torch.int64)
    return {"quanta": lambda: (qcol(), none), "few_quanta": qcol,
            "row_quanta": lambda ri: qcol()[ri], "bias_quanta": lambda: none}

# -- forward ------------------------------------------------------------------------


def _transposed_full(lv: Level, co: dict[str, Any]) -> dict[str, Any]:
    """:func:`transposed` of a full level (every (row, column) pair once, row-major): the
    column reductions of the coefficient matrix instead of scatters over the pairs."""
    nr, nc = len(lv.rows), len(lv.cols)
    mat = co["mat"]
    m_t = nr + 1 if nr else 1
    perr = co["perr"]
    bad = perr.reshape(nr, nc).amax(0) if nr and co["has_err"] else torch.zeros(nc, dtype=F64)
    has_err = bool((bad > 0).any())
    err_t = torch.where(bad > 0, up_bound(perr.reshape(nr, nc).square().sum(0), m_t), 0.0) \
        if has_err else torch.zeros(nc, dtype=F64)
    t = {"mat": mat.t(), "norm": up_bound(mat.square().sum(0), m_t), "err": err_t, "m": m_t,
         "has_err": has_err, "rows_ok": bad == 0,
         "has_pairs": torch.full((nc,), nr > 0, dtype=torch.bool)}
    t.update(_column_quanta(co, nc, lambda q: q.reshape(nr, nc).amin(0) if nr else
                            torch.full((nc,), NOQ, dtype=torch.int64)))
    co["t"] = t
    return t

