"""The IR's neuron structure as the theorems' coverage sees it, per *form* of a tensor entry
(:mod:`.tcoverage` walks the fx graph with these): no neuron objects, only what decides
classes, biases, density and the class graph.

An entry of a tensor the importer computes (:mod:`adcorrect.torchfx.symbolic`) is either a
*source* (it equals an input or a neuron already built) or *pending*: an affine form
``sum_j c_j s_j + b`` not yet a neuron.  A :class:`Form` keeps of a pending entry its bias
(a trainable parameter, or a constant), how many terms it has, the class nodes and values
its terms read, whether its coefficients are parameters and which parameter groups it
holds; of a source entry, the class node and value of its neuron.  Entries of one tensor
are arrays of form ids (numpy), so a layer costs a few array operations and a loop over
its distinct forms (about one per channel).

Class nodes are coarse: the classes of one bias tensor are one node (its index), the own
classes made by one step of one op are one node.  A coarse graph without cycles, whose
bias nodes never read themselves, says the IR's class graph is ordered; otherwise the
structure is :class:`NotModelled` (a recurrence: decided by the IR only).

*Values* (``vid``) name the neurons one step builds; a lincomb whose summands read one
value with constant coefficients might merge terms (``x + x``): not modelled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from ..nets.activations import Activation, Choice
from ..nets.theorems import kinked, thetas
from ..torchfx.ops import label

PENDING, INPUT = -2, -1
ZERO, ONE = 0, 1  # exact numbers are Fractions or ints (cheaper to hash)
MAX_LABELS = 20
Num = Fraction | int


class NotModelled(Exception):
    """The graph has something whose neuron structure this module does not model."""


Group = tuple[int, int]  # (trainable tensor, unit): the parameters of one channel or row


class Form(NamedTuple):
    """What the coverage needs of one tensor entry (see the module docstring)."""

    node: int = PENDING  # a source: the class node of its neuron (INPUT for an input)
    vid: int = -1  # a source: the value its neuron belongs to
    bias: Group | None = None  # pending: the bias parameter (tensor, index), if one
    cval: Num = ZERO  # pending without a bias parameter: the constant term
    nterms: int = 0  # pending: 0, 1 or 2 (two or more) terms
    coef1: Num | None = None  # one constant-coefficient term: its coefficient
    t1: tuple[int, int] = (INPUT, -1)  # one term: (class node, value) of its source
    reads: frozenset[int] = frozenset()  # class nodes of the terms' neurons
    cread: frozenset[int] = frozenset()  # values read with constant coefficients
    pcoef: bool = False  # some coefficient is a parameter
    wall: bool = True  # every coefficient is a parameter
    groups: frozenset[Group] = frozenset()  # parameter groups in its slots

    @property
    def pending(self) -> bool:
        return self.node == PENDING

    @property
    def has_param(self) -> bool:
        return self.bias is not None or self.pcoef

    @property
    def contributes(self) -> frozenset[int]:
        """Values this entry adds to a lincomb with constant coefficients."""
        return self.cread if self.pending else frozenset((self.vid,))


def const_form(c: Num) -> Form:
    """A constant entry."""
    return Form(cval=c)


@dataclass
class Creator:
    """Entries built by one op: names ``where[idx]suffix``, global ids from ``base``."""

    base: int
    where: str
    suffix: str
    shape: tuple[int, ...]

    def name(self, flat: int) -> tuple[str, str, tuple[int, ...]]:
        idx = tuple(int(i) for i in np.unravel_index(flat, self.shape))
        return self.where, self.suffix, idx


@dataclass
class Event:
    """Neurons named under a reused ``where`` (their names may repeat: ``/dupN``)."""

    seq: int
    kind: str  # "entries" (gids: global entry ids), "grid" (where[idx] at flat), "pool"
    where: str = ""
    shape: tuple[int, ...] = ()
    flat: np.ndarray | None = None
    sizes: np.ndarray | None = None  # pool: cells per window (spatial shape)


@dataclass
class State:
    """Everything one walk learns: forms, class graph, parameter occurrences, kinked
    neurons (classes, thetas, dense candidates, label blocks) and neuron names."""

    n_tensors: int
    choice: Choice
    reused: set[str]
    forms: list[Form] = field(default_factory=list)
    ids: dict[Form, int] = field(default_factory=dict)
    edges: set[tuple[int, int]] = field(default_factory=set)
    occ: Counter[Group] = field(default_factory=Counter)
    kbias: dict[Group, set[Fraction]] = field(default_factory=dict)
    kforms: set[Form] = field(default_factory=set)
    lacking: int = 0
    smooth: bool = False  # a smooth activation or product (``Network.is_smooth``)
    own_uniform: bool = True
    blocks: list[tuple[str, int, tuple[object, ...]]] = field(default_factory=list)
    creators: list[Creator] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    next_gid: int = 0
    seq: int = 0
    nodes: int = 0
    values: int = 0
    luts: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.nodes = self.n_tensors

    # -- ids ------------------------------------------------------------------------------

    def intern(self, f: Form) -> int:
        i = self.ids.get(f)
        if i is None:
            i = self.ids[f] = len(self.forms)
            self.forms.append(f)
        return i

    def lut(self, key: str, fn: Callable[[Form], bool]) -> np.ndarray:
        """``fn`` on every form so far, as a boolean array by form id (cached by ``key``;
        forms never change, new ones are appended)."""
        old = self.luts.get(key, np.zeros(0, dtype=bool))
        if len(old) < len(self.forms):
            new = np.fromiter((fn(f) for f in self.forms[len(old):]), dtype=bool,
                              count=len(self.forms) - len(old))
            old = self.luts[key] = np.concatenate([old, new])
        return old

    def own(self) -> int:
        """A new class node for own classes."""
        self.nodes += 1
        return self.nodes - 1

    def vid(self) -> int:
        """A new value."""
        self.values += 1
        return self.values - 1

    def tick(self) -> int:
        self.seq += 1
        return self.seq

    def creator(self, where: str, suffix: str, shape: tuple[int, ...]) -> int:
        """Register the entries of a new tensor; returns their base global id."""
        base = self.next_gid
        self.creators.append(Creator(base, where, suffix, shape))
        self.next_gid += int(np.prod(shape))
        return base

    def class_of(self, f: Form, own: int) -> int:
        return f.bias[0] if f.bias is not None else own

    def edge(self, reads: frozenset[int] | set[int], node: int) -> None:
        for r in reads:
            if r == node:
                if node < self.n_tensors:
                    raise NotModelled("a neuron reads a neuron of its own bias class")
                continue
            self.edges.add((r, node))

    def thetas(self, act: Activation) -> frozenset[Fraction]:
        """The activation's thetas (NotModelled if it has no kink)."""
        if not kinked(act):
            raise NotModelled(f"activation {act.name} without a kink")
        return thetas(act, self.choice)

    def kinked(self, th: frozenset[Fraction], f: Form | None, count: int) -> None:
        """``count`` kinked neurons with thetas ``th`` and the slots of pending form ``f``
        (None: a neuron reading a source, without a bias)."""
        if f is not None and f.bias is not None:
            self.kbias.setdefault(f.bias, set()).update(th)
            self.kforms.add(f)
        else:
            self.lacking += count
            self.own_uniform &= len(th) <= 1

    # -- building neurons -----------------------------------------------------------------

    def materialize(self, F: np.ndarray, O: np.ndarray | int, mask: np.ndarray | None = None
                    ) -> np.ndarray:
        """The pending entries of F (where ``mask``) become identity neurons; returns the
        new form ids (sources; a broadcast view where F and mask are)."""
        (Fc, Mc), mult = compact(F, F if mask is None else mask)
        sel = Fc if mask is None else Fc[Mc]
        counts = np.bincount(sel.reshape(-1), minlength=len(self.forms)) * mult
        todo = [int(i) for i in np.flatnonzero(counts) if self.forms[i].pending]
        if not todo:
            return F
        own, vid = self.own(), self.vid()
        lut = np.arange(len(self.forms))
        for i in todo:
            f = self.forms[i]
            node = self.class_of(f, own)
            self.edge(f.reads, node)
            for g in f.groups:
                self.occ[g] += int(counts[i])
            lut[i] = self.intern(Form(node=node, vid=vid))
        self.entry_event(F, O, mask, todo)
        new = lut[Fc]
        return np.broadcast_to(new if mask is None else np.where(Mc, new, Fc), F.shape)

    def entry_event(self, F: np.ndarray, O: np.ndarray | int, mask: np.ndarray | None,
                    todo: list[int]) -> None:
        """Record neurons named after pending entries (ids ``todo``) under reused names."""
        if not self.reused or not any(c.where in self.reused for c in self.creators):
            return
        sel = np.isin(F, todo)
        if mask is not None:
            sel &= mask
        gids = gid_array(O, F.shape)[sel]
        self.events.append(Event(self.tick(), "entries", flat=gids[gids >= 0]))

    def grid_event(self, where: str, shape: tuple[int, ...], flat: np.ndarray) -> None:
        if where in self.reused:
            self.events.append(Event(self.tick(), "grid", where, shape, flat))

    # -- names ----------------------------------------------------------------------------

    def creator_of(self, gid: int) -> Creator:
        lo, hi = 0, len(self.creators) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.creators[mid].base <= gid:
                lo = mid
            else:
                hi = mid - 1
        return self.creators[lo]

    def entry_name(self, gid: int) -> tuple[str, str, tuple[int, ...]]:
        c = self.creator_of(gid)
        return c.name(gid - c.base)

    def prior(self, where: str, suffix: str, idx: tuple[int, ...], seq: int) -> int:
        """How many neurons named ``where[idx]suffix`` were built before step ``seq``."""
        if where not in self.reused:
            return 0
        n = 0
        for e in self.events:
            if e.seq >= seq:
                break
            if e.kind == "entries":
                assert e.flat is not None
                for c in self.creators:
                    if (c.where, c.suffix) == (where, suffix) and _inside(idx, c.shape):
                        n += int(np.count_nonzero(
                            e.flat == c.base + int(np.ravel_multi_index(idx, c.shape))))
            elif e.where == where and _inside(idx, e.shape):
                flat = int(np.ravel_multi_index(idx, e.shape))
                if e.kind == "grid" and suffix == "":
                    assert e.flat is not None
                    n += int(np.count_nonzero(e.flat == flat))
                elif e.kind == "pool":
                    assert e.sizes is not None
                    n += _pool_names(int(e.sizes.reshape(-1)[
                        flat % e.sizes.size]), suffix)
        return n

    def label(self, where: str, suffix: str, idx: tuple[int, ...], seq: int) -> str:
        """The IR's label of a neuron built at step ``seq`` (``/dupN`` when repeated)."""
        k = self.prior(where, suffix, idx, seq)
        base = label(where, idx) + suffix
        return base if k == 0 else f"{base}/dup{k + 1}"


def _inside(idx: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    return len(idx) == len(shape) and all(0 <= i < n for i, n in zip(idx, shape))


def _pool_names(n: int, suffix: str) -> int:
    """How many neurons of a max node over n cells have the name suffix ``suffix``."""
    if n < 2:
        return 0
    if suffix == "":
        return 1
    tail = suffix.removeprefix("/tie") if suffix.startswith("/tie") else \
        suffix.removeprefix("/")
    return int(tail.isdigit() and (2 <= int(tail) <= n if suffix.startswith("/tie")
                                   else 2 <= int(tail) < n))


def compact(*arrays: np.ndarray) -> tuple[list[np.ndarray], int]:
    """Arrays of one shape without the axes along which all of them are broadcast (zero
    strides): the slices at index 0 there, and how many entries each slice entry stands
    for."""
    shape = arrays[0].shape
    keep = [any(a.strides[i] != 0 for a in arrays) or n == 1 for i, n in enumerate(shape)]
    idx = tuple(slice(None) if k else slice(0, 1) for k in keep)
    mult = 1
    for n, k in zip(shape, keep):
        mult *= 1 if k else n
    return [a[idx] for a in arrays], mult


def gid_array(O: np.ndarray | int, shape: tuple[int, ...]) -> np.ndarray:
    """Global entry ids of a tensor (-1: an entry without a name of its own)."""
    if isinstance(O, np.ndarray):
        return O
    if O < 0:
        return np.full(shape, -1, dtype=np.int64)
    return np.arange(O, O + int(np.prod(shape)), dtype=np.int64).reshape(shape)


# -- lincombs ------------------------------------------------------------------------------


def plan(items: list[tuple[Num, Form]]) -> list[bool]:
    """Which summands of ``sum c_i a_i`` the importer reads through their neurons
    (``Builder.lincomb``): pending ones scaled by c != 1 with a parameter, and all but the
    first expanded one with a bias parameter."""
    keep, out = False, []
    for c, f in items:
        expand = c != 0 and f.pending and not (c != 1 and f.has_param)
        if expand and f.bias is not None:
            if keep:
                expand = False
            keep = True
        out.append(c != 0 and f.pending and not expand)
    return out


def combine(st: State, items: list[tuple[Num, Form]], const: Num,
            const_node: int, distinct: bool = False) -> Form:
    """The form of ``sum c_i a_i + const`` where :func:`plan` sources nothing (sourced
    summands already replaced by their neurons); ``const_node``: the class node of an
    identity neuron holding a constant next to a bias parameter; ``distinct``: the
    summands are distinct entries of one tensor whose entries read distinct neurons (no
    merged terms, although they read one value)."""
    n, reads, cread, groups = 0, set(), set(), set()
    pcoef, wall, bias, total = False, True, None, const
    coef1: Num | None = None
    t1 = (INPUT, -1)
    for c, f in items:
        if c == 0:
            continue
        mine = f.contributes
        if mine & cread and not distinct:
            raise NotModelled("a sum of terms that read the same values")
        cread |= mine
        if not f.pending:
            n += 1
            coef1, t1, wall = c, (f.node, f.vid), False
            if f.node >= 0:
                reads.add(f.node)
            continue
        if c != 1 and f.has_param:
            raise AssertionError("plan() sources this summand")
        n += f.nterms
        if f.nterms == 1:
            t1 = f.t1
            coef1 = None if f.coef1 is None else c * f.coef1
        reads |= f.reads
        pcoef |= f.pcoef
        wall &= f.wall
        groups |= f.groups
        if f.bias is not None:
            bias = f.bias
        else:
            total += c * f.cval
    if bias is not None:
        if total != 0:
            n += 1
            reads.add(const_node)
            cread.add(st.vid())
            wall = False
        return Form(bias=bias, nterms=min(n, 2), reads=frozenset(reads),
                    cread=frozenset(cread), pcoef=pcoef, wall=wall, groups=frozenset(groups))
    if total == 0 and n == 1 and not pcoef:
        if coef1 is None:
            raise NotModelled("a single term with an untracked coefficient")
        if coef1 == 1:
            return Form(node=t1[0], vid=t1[1])
    return Form(cval=total, nterms=min(n, 2), coef1=coef1 if n == 1 else None,
                t1=t1 if n == 1 else (INPUT, -1), reads=frozenset(reads),
                cread=frozenset(cread), pcoef=pcoef, wall=wall, groups=frozenset(groups))
