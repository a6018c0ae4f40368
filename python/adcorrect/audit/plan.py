"""The filter of the exact audit (THEORY.md 8.3): a single-example IR network compiled
once into levels of sparse or dense coefficient matrices (:mod:`.levels`), evaluated on a
whole batch in float64 with a rigorous radius per pre-activation (:mod:`.kernels`,
:mod:`.floatact`, :mod:`adcorrect.audit.certified`).

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch

from ..core.deadline import tick
from ..nets.activations import Activation, Choice
from ..nets.ir import Network, is_param
from .certified import F64, INFLATE, NOQ, norm_up, quantum, some_at_most
from .floatact import ActTable, activate, derivative, float_const, is_relu
from .kernels import (
    Block,
    abs_product,
    certified_add,
    certified_product,
    certified_scale,
    make_block,
)
from .levels import Level, coefficients, compile_level, transposed


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

    def y_at(self, k: int, i: int) -> float:
        """The float64 pre-activation of neuron k in example i (many reads: :meth:`reader`)."""
        return self.reader("Y", False)(k, i)

    def reader(self, attr: str, nodes: bool) -> Callable[[int, int], float]:
        """read(k, i): entry (k, i) of :attr:`y`, :attr:`ry` (``nodes`` False, k a neuron)
        or of :attr:`z`, :attr:`rz` (k a node) from the level blocks, without assembling
        the full matrix (a few scalar reads per audit)."""
        plan = self.plan
        arrays = [getattr(b, attr).numpy() for b in self.blocks]
        block_of, n0 = plan.block_of, plan.n_in if nodes else 0
        inputs = self.inputs.numpy() if attr == "Z" else None

        def read(k: int, i: int) -> float:
            if k < n0:
                return 0.0 if inputs is None else float(inputs[k, i])
            b, pos = block_of[k - n0]
            return float(arrays[b][pos, i])
        return read

    def outputs_of(self, neurons: Sequence[int], radii: bool = False) -> torch.Tensor:
        """(len(neurons), B): the outputs z of the given neurons (their radii if
        ``radii``)."""
        at = [self.plan.block_of[k] for k in neurons]
        if at and len({b for b, _ in at}) == 1:
            blk = self.blocks[at[0][0]]
            return (blk.RZ if radii else blk.Z)[torch.tensor([p for _, p in at])]
        full = self.rz if radii else self.z
        return full[torch.tensor(list(neurons), dtype=torch.int64) + self.plan.n_in]

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



def _open(blk: Block) -> bool:
    """Whether a block has a copy on a kink or one its radius leaves open (its quick pass
    fails)."""
    return any(t is not None and bool(t.any()) for t in (blk.kink, blk.unc))


class Plan:
    """A single-example IR network compiled for batched certified float64 evaluation."""

    def __init__(self, net: Network) -> None:
        if net.batch != 1:
            raise ValueError("Plan: expects a single-example network")
        self.net = net
        self.n_in = len(net.input)
        N = len(net.neurons)
        self.N = N
        self._opened: set[int] = set()  # levels whose quick pass failed at the last call
        level = [0] * N
        for n in net.neurons:
            level[n.index] = 1 + max((level[s] if s >= 0 else 0 for s in n.sources), default=0)
        by_level: dict[int, list[int]] = {}
        for k, lv in enumerate(level):
            by_level.setdefault(lv, []).append(k)
        tables: dict[Activation, ActTable] = {}
        self.tables = tables
        self.level_of = level
        self.block_of: dict[int, tuple[int, int]] = {}  # neuron -> (block, position)
        self.block_size: list[int] = []
        for b, (_, ks) in enumerate(sorted(by_level.items())):
            self.block_size.append(len(ks))
            for pos, k in enumerate(ks):
                self.block_of[k] = (b, pos)
        self.levels = []
        for _, ks in sorted(by_level.items()):
            tick("compiling the network's plan")
            self.levels.append(compile_level(net, self.n_in, self.block_of, self.block_size,
                                             ks, tables))
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



    def forward(self, w: torch.Tensor, x: torch.Tensor) -> Forward:
        """Certified float64 evaluation of every copy; ``w`` (W,) and ``x`` (B, n_in) hold
        exact float64 values of the parameters and inputs."""
        fwd = self._evaluate(w, x, len(self.levels), False)[0]
        assert fwd is not None
        return fwd

    def quick_forward(self, w: torch.Tensor, x: torch.Tensor) -> Forward | None:
        """:meth:`forward` with radii from norms alone (facts 1-3: one outer product per
        level) and no value proved exact: a Forward where every copy's piece is decided
        (no copy needs exact arithmetic; the full pass would prove exact what no verdict
        then reads), else None, as soon as a copy is uncertain."""
        return self._evaluate(w, x, 0, False)[0]

    def decided_forward(self, w: torch.Tensor, x: torch.Tensor) -> Forward:
        """:meth:`forward` with values proved exact (quanta) only in the levels up to the
        last one whose pieces the norms' radii leave open, quick levels after it: the
        same kinked and uncertain copies, without the quanta no verdict reads (a level
        left open is evaluated again with quanta, and where its sources came from quick
        levels, every level up to it).  A level left open at the last call whose kinks
        or open copies remain goes to quanta without the quick attempt (the next audit of
        a training run meets the same exact zeros)."""
        full = 0
        while True:
            fwd, failed = self._evaluate(w, x, full, True)
            if fwd is not None:
                return fwd
            full = failed + 1

    def _evaluate(self, w: torch.Tensor, x: torch.Tensor, full: int, retry: bool
                  ) -> tuple[Forward | None, int]:
        """The levels below ``full`` with quanta, the others quick; (the Forward, -1), or
        (None, L) for the first quick level L whose pieces its radii leave open (with
        ``retry``, L is first evaluated again with quanta where its sources allow)."""
        xt = x.t().contiguous()
        B = xt.shape[1]
        qx = torch.full((B,), -NOQ, dtype=torch.int64)  # no quanta: what quick levels read
        read_qx = False
        blocks: list[Block] = []
        quanta: list[bool] = []  # per block: evaluated with quanta
        self._coef_cache: list[dict[str, Any]] = []
        opened: set[int] = set()
        for L, lv in enumerate(self.levels):
            co = coefficients(lv, w)
            self._coef_cache.append(co)
            retried = retry and all(src < 0 or quanta[src] for src, _ in lv.parts)
            quick = L >= full
            # a level left open at the last call goes straight to quanta where it may
            skip = quick and retried and L in self._opened
            blk = self._level(lv, co, xt, qx, blocks, True) if quick and not skip else None
            if blk is None and (not quick or retried):
                if not read_qx:  # the inputs' quanta, once a level reads them
                    qx = quantum(xt).amin(0) if xt.shape[0] else torch.full((B,), NOQ)
                    read_qx = True
                blk = self._level(lv, co, xt, qx, blocks, False)
                if quick and blk is not None and (not skip or _open(blk)):
                    opened.add(L)  # its quick pass failed (or would have)
                quick = False  # with quanta (its sources have them)
            if blk is None:
                return None, L
            blocks.append(blk)
            quanta.append(not quick)
        if retry:
            self._opened = opened
        return Forward(self, xt, qx, blocks), -1

    def _level(self, lv: Level, co: dict[str, Any], xt: torch.Tensor, qx: torch.Tensor,
               blocks: list[Block], quick: bool) -> Block | None:
        """One level's block (quick: radii from norms, no quanta; None if a copy's piece is
        left open)."""
        X, rad, QXc, RX = self._sources(lv, xt, qx, blocks)
        if quick:  # exact sources as inexact ones of radius 0: no quanta are read
            B = xt.shape[1]
            rad = rad or (torch.zeros(B, dtype=F64), torch.zeros(B, dtype=torch.bool))
            RX = None
        Y, R, Q, exact, rcol, ecols = certified_product(co, lv.m, X, rad, QXc, co["bias"],
                                                         co["berr"], RX)
        if len(lv.acts) == 1:
            tab = lv.acts[0][0]
            if tab.identity:
                return Block(Y, R, Q, Y, R, Q, exact=exact, rcol=rcol, exact_cols=ecols)
            if quick and is_relu(tab):  # 1-Lipschitz: R bounds the outputs' radii
                if some_at_most(Y.abs(), R):
                    return None
                return Block(Y, R, Q, Y.clamp_min(0.0), R, Q, rcol=rcol, exact_cols=ecols)
            Z, RZ, QZ, K, UN = activate(tab, Y, R, Q, exact)
            if quick and (K is not None and bool(K.any()) or
                          UN is not None and bool(UN.any())):
                return None
            if is_relu(tab):  # radii at most the inputs': their column bounds hold
                return Block(Y, R, Q, Z, RZ, QZ, K, UN, exact=exact, rcol=rcol,
                             exact_cols=ecols)
            return make_block(Y, R, Q, Z, RZ, QZ, K, UN)
        Z, RZ = torch.empty_like(Y), torch.empty_like(R)
        K = torch.zeros(Y.shape, dtype=torch.bool)
        UN = torch.zeros(Y.shape, dtype=torch.bool)
        QZ = Q.clone()
        for tab, pos in lv.acts:
            if tab.identity:
                Z[pos], RZ[pos] = Y[pos], R[pos]
                continue
            Zp, RZp, QZp, Kp, UNp = activate(tab, Y[pos], R[pos], Q)
            Z[pos], RZ[pos] = Zp, RZp
            if quick and Kp is not None and bool((Kp | UNp).any()):
                return None
            if Kp is not None:
                K[pos], UN[pos] = Kp, UNp
            QZ = torch.minimum(QZ, QZp)
        return make_block(Y, R, Q, Z, RZ, QZ, K, UN)

    def _sources(self, lv: Level, xt: torch.Tensor, qx: torch.Tensor, blocks: list[Block]
                 ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None, torch.Tensor,
                            torch.Tensor | None]:
        """The level's source values (cols x B); None if all are exact, else upper bounds on
        the column norms of their radii and which columns are exact; a lower bound per
        example on the quanta of the exact ones; the radii entry by entry (None: all 0)."""
        parts = lv.parts
        B = xt.shape[1]
        if len(parts) == 1:
            src, sel = parts[0]
            if src < 0:
                return (xt if sel is None else xt[sel]), None, qx, None
            b = blocks[src]
            X = b.Z if sel is None else b.Z[sel]
            if b.exact:
                return X, None, b.qz, None
            return X, (b.rcol, b.exact_cols), b.qz, b.RZ if sel is None else b.RZ[sel]
        X = torch.empty(len(lv.cols), B, dtype=F64)
        RX = torch.zeros(len(lv.cols), B, dtype=F64)
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
                    rv = b.RZ if sel is None else b.RZ[sel]
                    RX[start:start + len(rv)] = rv
            v = v if sel is None else v[sel]
            n = v.shape[0]
            X[start:start + n] = v
            Q = torch.minimum(Q, q)
            start += n
        if not inexact:
            return X, None, Q, None
        return X, (torch.sqrt(sq) * INFLATE + 2.0 ** -536, ex), Q, RX

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
        zb.index_add_(0, outs, seeds)  # outputs may repeat
        rzb.index_add_(0, outs, rseeds)
        qzb[outs] = torch.where(rzb[outs] == 0, quantum(zb[outs]),
                                torch.full_like(qzb[outs], -NOQ))
        col_of = {int(e): c for c, e in enumerate(examples)}
        fixes = [(k, col_of[i], y) for (k, i), y in exact_y.items() if i in col_of]
        for b in range(len(self.levels) - 1, -1, -1):
            lv, co, blk = self.levels[b], self._coef_cache[b], fw.blocks[b]
            if all(src < 0 for src, _ in lv.parts):  # only inputs' adjoints would follow
                continue
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
                d, rd, qd = derivative(tab, Yp, blk.RY[pos][:, ex],
                                        blk.qy[ex][None, :].expand(Yp.shape), kink, choice)
                D[pos], RD[pos], QD[pos] = d, rd, qd
            for k, c, yk in fixes:
                bb, r = self.block_of[k]
                if bb != b:
                    continue
                dv, de, dq = float_const(self.net.neurons[k].activation.derivative(yk, choice))
                D[r, c], RD[r, c], QD[r, c] = dv, de, dq
            Yb, RYb, QYb = certified_scale(Zb, RZb, QZb, D, RD, QD)
            if not bool((Yb != 0).any()) and not bool((RYb != 0).any()):
                continue
            t = transposed(lv, co)
            inexact = bool((RYb != 0).any())
            QYc = torch.where(RYb == 0, QYb, NOQ).amin(0)
            rad = (norm_up(RYb, 0), ~(RYb != 0).any(0)) if inexact else None
            # radii entry by entry (fact 7): a level's norm would spread one large radius
            # over every adjoint of the level (10x per max node along a pool's chain)
            S, RS, Qv, *_ = certified_product(t, t["m"], Yb, rad, QYc, None, None,
                                              RYb if inexact else None)
            QS = Qv[None, :].expand(S.shape).clone()
            # structural zeros: no non-zero coefficient meets a non-zero (or uncertain) ybar
            live = ((Yb != 0) | (RYb != 0)).to(F64)
            dead = abs_product(t, live) == 0  # non-negative terms: 0 iff each term is
            RS = torch.where(dead, 0.0, RS)
            QS = torch.where(dead, NOQ, QS)
            QS = torch.where(RS == 0, QS, -NOQ)
            cols = lv.cols
            old, rold, qold = zb[cols], rzb[cols], qzb[cols]
            new, rnew, qnew = certified_add(old, rold, qold, S, RS, QS)
            zb[cols], rzb[cols], qzb[cols] = new, rnew, qnew
        return Backward(zb[n_in:], rzb[n_in:], list(examples))
