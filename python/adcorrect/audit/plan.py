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
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch

from ..activations import Activation, Choice, poly_deriv, poly_eval
from ..ir import Network, is_param
from .certified import ETA, F64, INFLATE, NOQ, U, fits, gamma, norm_up, quantum

DENSE_FILL = 0.25  # a level whose coefficient matrix is at least this full is dense



def _sparse(make: Any) -> torch.Tensor:
    """A sparse tensor, without torch's warnings about beta support and invariant checks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make()


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
    parts: list[tuple[int, Any]]  # the columns: (source block or -1, selection)
    full: bool  # dense, every (row, column) pair once, in row-major order
    csr: tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # crow, col, pair permutation
    diag: tuple[torch.Tensor | None] | None  # one term per row: (its column, None: the row's)
    param_slice: slice | None  # the terms are these parameters, in order
    first_pair: torch.Tensor  # a pair of each row
    few_pairs: torch.Tensor  # up to 8 pairs of each row (repeated to fill 8)
    has_pairs: torch.Tensor  # rows with at least one source
    acts: list[tuple[_ActTable, torch.Tensor]]  # activation and its row positions


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


class Forward:
    """Float64 pre-activations/outputs of every copy with radii (level blocks; full
    matrices indexed by neuron / node are assembled on demand)."""

    def __init__(self, plan: Plan, inputs: torch.Tensor, qx: torch.Tensor,
                 blocks: list[Block]) -> None:
        self.plan, self.inputs, self.qx, self.blocks = plan, inputs, qx, blocks
        self._cache: dict[str, torch.Tensor] = {}

    def _pairs(self, attr: str) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for lv, b in zip(self.plan.levels, self.blocks):
            m = getattr(b, attr)
            if m is not None and bool(m.any()):
                out += [(int(lv.rows[r]), i) for r, i in m.nonzero().tolist()]
        return sorted(out)

    def kinks(self) -> list[tuple[int, int]]:
        """Copies (neuron, example) certainly on a kink."""
        return self._pairs("kink")

    def uncertains(self) -> list[tuple[int, int]]:
        """Copies whose piece the radius does not decide."""
        return self._pairs("unc")

    def _full(self, attr: str, nodes: bool) -> torch.Tensor:
        key = f"{attr}{nodes}"
        if key not in self._cache:
            plan = self.plan
            B = self.inputs.shape[1]
            n0 = plan.n_in if nodes else 0
            dtype = torch.bool if attr in ("kink", "unc") else F64
            full = torch.zeros(n0 + plan.N, B, dtype=dtype)
            if nodes:
                full[:n0] = self.inputs if attr == "Z" else 0
            for lv, b in zip(plan.levels, self.blocks):
                v = getattr(b, attr)
                if v is not None:
                    full[lv.rows + n0] = v
            self._cache[key] = full
        return self._cache[key]

    @property
    def y(self) -> torch.Tensor:
        return self._full("Y", False)

    @property
    def ry(self) -> torch.Tensor:
        return self._full("RY", False)

    @property
    def z(self) -> torch.Tensor:
        """(n_in + N, B): inputs, then every neuron's output."""
        return self._full("Z", True)

    @property
    def rz(self) -> torch.Tensor:
        return self._full("RZ", True)

    @property
    def kink(self) -> torch.Tensor:
        return self._full("kink", False)

    @property
    def uncertain(self) -> torch.Tensor:
        return self._full("unc", False)


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
        self.level_of = level
        self.block_of: dict[int, tuple[int, int]] = {}  # neuron -> (block, position)
        self.block_size: list[int] = []
        for b, (_, ks) in enumerate(sorted(by_level.items())):
            self.block_size.append(len(ks))
            for pos, k in enumerate(ks):
                self.block_of[k] = (b, pos)
        self.levels = [self._compile(ks, tables) for _, ks in sorted(by_level.items())]
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
        # columns grouped by source block (-1: the inputs), in block order
        where: dict[int, tuple[int, int]] = {}
        for k in ks:
            for s in net.neurons[k].sources:
                node = -s - 1 if s < 0 else n_in + s
                where[node] = (-1, -s - 1) if s < 0 else self.block_of[s]
        order = sorted(where, key=lambda nd: where[nd])
        col_index = {nd: c for c, nd in enumerate(order)}
        parts: list[tuple[int, Any]] = []
        for blk in sorted({where[nd][0] for nd in order}):
            pos = [where[nd][1] for nd in order if where[nd][0] == blk]
            size = n_in if blk < 0 else self.block_size[blk]
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
        return _Level(
            diag=diag, csr=csr, full=full, param_slice=pslice, parts=parts, first_pair=first, few_pairs=few, has_pairs=torch.tensor([r in seen
                                                                   for r in range(len(ks))]),
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
        tv = w[lv.param_slice] if lv.param_slice is not None else \
            self._gather(lv.term_param, lv.term_const, w)
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
            mat = _sparse(lambda: torch.sparse_csr_tensor(crow, col, pv[perm], (nr, len(lv.cols)),
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
            err = torch.where(bad > 0, _up(er, lv.m), 0.0)
        bias = self._gather(lv.bias_param, lv.bias_const, w)
        co: dict[str, Any] = {"mat": mat, "diag": lv.diag, "bias": bias, "berr": lv.bias_err, "norm": _up(sq, lv.m),
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

    @staticmethod
    def _transposed(lv: _Level, co: dict[str, Any]) -> dict[str, Any]:
        """C^T as a coefficient dict (for the backward pass), cached in co."""
        if "t" in co:
            return co["t"]
        co["quanta"]()
        pv, perr, q = co["pv"], co["perr"], co["q"]
        nr, nc = len(lv.rows), len(lv.cols)
        if lv.dense and co["mat"] is not None:
            mat_t = co["mat"].t()
        else:
            mat_t = _sparse(lambda: torch.sparse_coo_tensor(
                torch.stack([lv.pair_col, lv.pair_row]), pv, (nc, nr), dtype=F64).to_sparse_csr())
        cnt = torch.zeros(nc, dtype=torch.int64)
        cnt.index_add_(0, lv.pair_col, torch.ones_like(lv.pair_col))
        m_t = int(cnt.max()) + 1 if nc else 1
        sq_t = torch.zeros(nc, dtype=F64)
        sq_t.index_add_(0, lv.pair_col, pv * pv)
        er_t = torch.zeros(nc, dtype=F64)
        er_t.index_add_(0, lv.pair_col, perr * perr)
        bad = torch.zeros(nc, dtype=F64).scatter_reduce(0, lv.pair_col, perr, "amax")
        err_t = torch.where(bad > 0, _up(er_t, m_t), 0.0)
        qcol = torch.full((nc,), NOQ, dtype=torch.int64).scatter_reduce(
            0, lv.pair_col, q, "amin")
        nz = (pv != 0).to(torch.float32)
        if lv.dense and co["mat"] is not None:
            pat = torch.zeros(nc, nr, dtype=torch.float32)
            pat[lv.pair_col, lv.pair_row] = nz
        else:
            pat = _sparse(lambda: torch.sparse_coo_tensor(
                torch.stack([lv.pair_col, lv.pair_row]), nz, (nc, nr)).to_sparse_csr())
        none = torch.full((nc,), NOQ, dtype=torch.int64)
        t = {"mat": mat_t, "norm": _up(sq_t, m_t), "err": err_t, "m": m_t,
             "has_err": bool((bad > 0).any()), "rows_ok": bad == 0, "has_pairs": cnt > 0,
             "quanta": lambda: (qcol, none), "few_quanta": lambda: qcol,
             "row_quanta": lambda ri: qcol[ri], "bias_quanta": lambda: none, "pat": pat}
        co["t"] = t
        return t

    # -- forward ------------------------------------------------------------------------

    def forward(self, w: torch.Tensor, x: torch.Tensor) -> Forward:
        """Certified float64 evaluation of every copy; ``w`` (W,) and ``x`` (B, n_in) hold
        exact float64 values of the parameters and inputs."""
        xt = x.t().contiguous()
        qx = quantum(xt).amin(0) if xt.shape[0] else torch.full((x.shape[0],), NOQ)
        blocks: list[Block] = []
        self._coef_cache: list[dict[str, Any]] = []
        for lv in self.levels:
            co = self._coefs(lv, w)
            self._coef_cache.append(co)
            X, rad, QXc = self._sources(lv, xt, qx, blocks)
            Y, R, Q, exact, rcol, ecols = _certified_product(co, lv.m, X, rad, QXc, co["bias"],
                                                             co["berr"])
            if len(lv.acts) == 1:
                tab = lv.acts[0][0]
                if tab.identity:
                    blocks.append(Block(Y, R, Q, Y, R, Q, exact=exact, rcol=rcol,
                                        exact_cols=ecols))
                    continue
                Z, RZ, QZ, K, UN = _activate(tab, Y, R, Q)
                if RZ is R:  # relu: the same radii
                    blocks.append(Block(Y, R, Q, Z, RZ, QZ, K, UN, exact=exact, rcol=rcol,
                                        exact_cols=ecols))
                    continue
                blocks.append(_block(Y, R, Q, Z, RZ, QZ, K, UN))
                continue
            Z, RZ = torch.empty_like(Y), torch.empty_like(R)
            K = torch.zeros(Y.shape, dtype=torch.bool)
            UN = torch.zeros(Y.shape, dtype=torch.bool)
            QZ = Q.clone()
            for tab, pos in lv.acts:
                if tab.identity:
                    Z[pos], RZ[pos] = Y[pos], R[pos]
                    continue
                Zp, RZp, QZp, Kp, UNp = _activate(tab, Y[pos], R[pos], Q)
                Z[pos], RZ[pos] = Zp, RZp
                if Kp is not None:
                    K[pos], UN[pos] = Kp, UNp
                QZ = torch.minimum(QZ, QZp)
            blocks.append(_block(Y, R, Q, Z, RZ, QZ, K, UN))
        return Forward(self, xt, qx, blocks)

    def _sources(self, lv: _Level, xt: torch.Tensor, qx: torch.Tensor, blocks: list[Block]
                 ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None, torch.Tensor]:
        """The level's source values (cols x B); None if all are exact, else upper bounds on
        the column norms of their radii and which columns are exact; a lower bound per
        example on the quanta of the exact ones."""
        parts = lv.parts
        B = xt.shape[1]
        if len(parts) == 1:
            src, sel = parts[0]
            if src < 0:
                return (xt if sel is None else xt[sel]), None, qx
            b = blocks[src]
            X = b.Z if sel is None else b.Z[sel]
            if b.exact:
                return X, None, b.qz
            return X, (b.rcol, b.exact_cols), b.qz
        X = torch.empty(len(lv.cols), B, dtype=F64)
        sq = torch.zeros(B, dtype=F64)
        ex = torch.ones(B, dtype=torch.bool)
        Q = torch.full((B,), NOQ, dtype=torch.int64)
        start = 0
        inexact = False
        for src, sel in parts:
            if src < 0:
                v, q = xt, qx
            else:
                b = blocks[src]
                v, q = b.Z, b.qz
                if not b.exact:
                    inexact = True
                    sq = sq + b.rcol * b.rcol
                    ex = ex & b.exact_cols
            v = v if sel is None else v[sel]
            n = v.shape[0]
            X[start:start + n] = v
            Q = torch.minimum(Q, q)
            start += n
        if not inexact:
            return X, None, Q
        return X, (torch.sqrt(sq) * INFLATE + 2.0 ** -536, ex), Q

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
        for b in range(len(self.levels) - 1, -1, -1):
            lv, co, blk = self.levels[b], self._coef_cache[b], fw.blocks[b]
            rows = lv.rows
            nodes = rows + n_in
            Zb, RZb, QZb = zb[nodes], rzb[nodes], qzb[nodes]
            D = torch.ones(len(rows), E, dtype=F64)
            RD = torch.zeros(len(rows), E, dtype=F64)
            QD = torch.zeros(len(rows), E, dtype=torch.int64)
            for tab, pos in lv.acts:
                if tab.identity:
                    continue
                Yp = blk.Y[pos][:, ex]
                kink = blk.kink[pos][:, ex] if blk.kink is not None else \
                    torch.zeros(Yp.shape, dtype=torch.bool)
                d, rd, qd = _derivative(tab, Yp, blk.RY[pos][:, ex],
                                        blk.qy[ex][None, :].expand(Yp.shape), kink, choice)
                D[pos], RD[pos], QD[pos] = d, rd, qd
            for k, c, yk in fixes:
                bb, r = self.block_of[k]
                if bb != b:
                    continue
                dv, de, dq = _f(self.net.neurons[k].activation.derivative(yk, choice))
                D[r, c], RD[r, c], QD[r, c] = dv, de, dq
            Yb, RYb, QYb = _certified_scale(Zb, RZb, QZb, D, RD, QD)
            if not bool((Yb != 0).any()) and not bool((RYb != 0).any()):
                continue
            t = self._transposed(lv, co)
            inexact = bool((RYb != 0).any())
            QYc = torch.where(RYb == 0, QYb, NOQ).amin(0)
            rad = (norm_up(RYb, 0), ~(RYb != 0).any(0)) if inexact else None
            S, RS, Qv, *_ = _certified_product(t, t["m"], Yb, rad, QYc, None, None)
            QS = Qv[None, :].expand(S.shape).clone()
            # structural zeros: no non-zero coefficient meets a non-zero (or uncertain) ybar
            live = ((Yb != 0) | (RYb != 0)).to(torch.float32)
            dead = (t["pat"] @ live) == 0
            RS = torch.where(dead, 0.0, RS)
            QS = torch.where(dead, NOQ, QS)
            QS = torch.where(RS == 0, QS, -NOQ)
            cols = lv.cols
            old, rold, qold = zb[cols], rzb[cols], qzb[cols]
            new, rnew, qnew = _certified_add(old, rold, qold, S, RS, QS)
            zb[cols], rzb[cols], qzb[cols] = new, rnew, qnew
        return Backward(zb[n_in:], rzb[n_in:], list(examples))

def _block(Y: torch.Tensor, R: torch.Tensor, Q: torch.Tensor, Z: torch.Tensor,
           RZ: torch.Tensor, QZ: torch.Tensor, K: torch.Tensor | None,
           UN: torch.Tensor | None) -> Block:
    """A block whose output radii are entry by entry (column norms computed)."""
    nz = RZ != 0
    return Block(Y, R, Q, Z, RZ, QZ, K, UN, exact=not bool(nz.any()),
                 rcol=norm_up(RZ, 0) if len(RZ) else torch.zeros(RZ.shape[1], dtype=F64),
                 exact_cols=~nz.any(0) if len(RZ) else torch.ones(RZ.shape[1], dtype=torch.bool))


def _range(ids: list[int]) -> slice | None:
    """ids as a slice if they are consecutive increasing integers."""
    if ids and ids == list(range(ids[0], ids[0] + len(ids))):
        return slice(ids[0], ids[0] + len(ids))
    return None


def _up(sq: torch.Tensor, m: int) -> torch.Tensor:
    return torch.sqrt(sq) * INFLATE + math.sqrt(m) * 2.0 ** -536


def _vnorm(v: torch.Tensor) -> float:
    """An upper bound on the 2-norm of a vector (fact 5)."""
    return float(norm_up(v, 0)) if len(v) else 0.0


def _exponent(v: torch.Tensor) -> torch.Tensor:
    """e with v < 2^e (int64), for v >= 0 (0 gives -NOQ)."""
    e = torch.frexp(v)[1].to(torch.int64)
    return torch.where(v > 0, e, -NOQ)


def _certified_product(co: dict[str, Any], m: int, X: torch.Tensor,
                       rad: tuple[torch.Tensor, torch.Tensor] | None, QXc: torch.Tensor,
                       bias: torch.Tensor | None, berr: torch.Tensor | None,
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool, torch.Tensor,
                                  torch.Tensor]:
    """Y = C X + bias with radius and, per column, a lower bound on the quanta of the exact
    entries (facts 1-4, 6 of :mod:`~adcorrect.audit.certified`).

    R = ||c_k|| (g ||x_i|| + ||r_i||) + ||d_k|| (||x_i|| + ||r_i||) + g |b_k| + berr_k,
    each factor inflated, g = gamma_{m+1}.  Fact 4 in logarithms: with ||c_k|| <= 2^en_k,
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
    row = torch.full_like(norm, (m + 8) * 2.0 ** -1070)
    if bias is not None:
        row = row + g * INFLATE * bias.abs()
    if berr is not None:
        row = row + berr * INFLATE
    R = torch.addr(row[:, None].expand(len(norm), X.shape[1]), ni, colv)
    ncol = _vnorm(ni) * colv + _vnorm(row)
    if co["has_err"]:
        R = R + (err * INFLATE)[:, None] * (nX if nR is None else nX + nR)[None, :]
        ncol = ncol + _vnorm(err * INFLATE) * (nX if nR is None else nX + nR)
    rcol = ncol * INFLATE
    if not bool(torch.isfinite(Y.sum())):
        R = torch.where(torch.isfinite(Y), R, math.inf)
    B = X.shape[1]
    none = torch.full((B,), -NOQ, dtype=torch.int64)
    nocol = torch.zeros(B, dtype=torch.bool)
    exact_col = torch.ones(B, dtype=torch.bool) if rad is None else rad[1]
    rows_ok = co["rows_ok"]
    if not bool(exact_col.any()) or not bool(rows_ok.any()):
        return Y, R, none, False, rcol, nocol
    hp = co["has_pairs"]
    en = _exponent(ni * INFLATE)
    ex = _exponent(nX * INFLATE)
    babs = bias.abs() * INFLATE if bias is not None else torch.zeros_like(norm)
    eb = _exponent(babs)
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
    """relu on the enclosures (1-Lipschitz; exactly 0 below -R; exact where R = 0); Q is
    per example (column) and stays a bound for the exact outputs."""
    Z = Y.clamp_min(0.0)
    RZ = R  # 1-Lipschitz
    near = Y.abs() <= R
    if not bool(near.any()):
        return Z, RZ, Q, None, None
    exact = R == 0
    return Z, RZ, Q, near & exact, near & ~exact


def _activate(tab: _ActTable, Y: torch.Tensor, R: torch.Tensor, Qv: torch.Tensor
              ) -> tuple[torch.Tensor, ...]:
    """sigma on the enclosures: values, radii, per-example quantum bounds of the exact
    outputs, certain kinks, uncertain copies."""
    if tab.act.name == "relu" and tab.act.breakpoints == (0,):
        return _relu(Y, R, Qv)
    Z, RZ, QZ, kink, unc = _activate_entries(tab, Y, R, Qv[None, :].expand(Y.shape))
    return Z, RZ, torch.where(RZ == 0, QZ, NOQ).amin(0) if len(Y) else Qv, kink, unc


def _activate_entries(tab: _ActTable, Y: torch.Tensor, R: torch.Tensor, Q: torch.Tensor
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
