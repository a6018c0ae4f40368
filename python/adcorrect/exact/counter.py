"""Exhaustive counter over M^W (issue section 6; THEORY.md T2 and section 7 "count").

:func:`count` enumerates every w in M^W exactly, block by block, with the
vectorised evaluator of :mod:`adcorrect.exact.vectorised`, and reports

- ``total`` = |M|^W, ``kink`` = #{w : K(w) non-empty}, ``ns`` = #{w : NS(w)},
- ``n`` = sum_k |ndf(sigma_k)| and the T2 bound ``bound`` = n |M|^(W-1),
- with ``oracle=True``: ``ndf_oracle`` (points the independent oracle finds
  non-differentiable), ``inc_oracle`` (differentiable points where AD_D differs
  from the oracle's gradient) and ``disagreements`` (points where NS(w) and
  "not differentiable" differ).

The oracle is only consulted where K(w) is non-empty: with no neuron at a kink,
every neuron is off its breakpoints or at a breakpoint where its activation is C1,
so f is C1 near w by the chain rule, and AD (which then uses the true slopes
everywhere) is its gradient; that argument does not use T1-T5.

:func:`count_naive` is the plain reference: a Python loop over
``itertools.product`` with the exact Fraction engine.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from ..core.errors import InputError
from ..core.limits import LIMITS, magnitude
from ..core.progress import Progress
from ..core.tables import render
from ..nets.activations import Choice
from ..nets.spec import Network
from ..numbers.formats import Format
from .engine import backward, forward, kink_neurons, ns
from .oracle import decide, same_vector
from .vectorised import Evaluator, block_evaluator, choose_dtype, evaluate_block

#: Largest number of elements in one block.
BLOCK_ELEMENTS = 1 << 22
#: Memory budget for the arrays of one block (bytes); well under 1 GiB.
MEMORY_BUDGET = 1 << 29

COUNT_KEYS = ("total", "kink", "ns", "n", "bound", "M", "W", "format")
ORACLE_KEYS = ("ndf_oracle", "inc_oracle", "disagreements")

Slices = list[tuple[int, int]]


def block_elements(net: Network, dtype: Any) -> int:
    """Elements per block so that the live arrays stay within MEMORY_BUDGET.

    A block keeps at most a handful of full-size arrays per neuron (y, z, D sigma,
    zbar and masks); object arrays cost a pointer plus a Python int each."""
    per_element = 8 if np.dtype(dtype) == np.int64 else 72
    live = 6 * len(net.neurons) + 8
    return max(1, min(BLOCK_ELEMENTS, MEMORY_BUDGET // (per_element * live)))


def blocks(sizes: Sequence[int], limit: int) -> Iterator[Slices]:
    """Cover prod_p {0..sizes[p]-1} by blocks of at most ``limit`` points (or, if
    the last W-1 axes alone exceed it, slabs): axes 0..t-1 take one index, axis t a
    range, the others everything.  Row-major order."""
    W = len(sizes)
    if W == 0:
        yield []
        return
    t = 0
    while t < W - 1 and math.prod(sizes[t + 1:]) > limit:
        t += 1
    inner = math.prod(sizes[t + 1:])
    step = max(1, limit // inner)
    full = [(0, n) for n in sizes[t + 1:]]
    for outer in itertools.product(*(range(n) for n in sizes[:t])):
        head = [(i, i + 1) for i in outer]
        for lo in range(0, sizes[t], step):
            yield head + [(lo, min(sizes[t], lo + step))] + full


def spanned_axes(net: Network, values: Sequence[Fraction], dtype: Any,
                 choice: Choice) -> set[int]:
    """The parameter axes the kink and NS masks depend on structurally.

    The shapes of the broadcast arrays depend only on the network, the choice and
    the static bounds (never on the data), so a probe block with two values per
    axis shows which parameters the masks can depend on at all; the others are
    counted by multiplication."""
    probe = [(0, min(2, len(values)))] * net.W
    out = evaluate_block(net, values, probe, dtype, choice)
    axes: set[int] = set()
    for mask in (out.kink, out.ns):
        if mask is not False:
            shape = np.shape(mask)
            axes |= {p for p, n in enumerate(shape) if n > 1}
    if len(values) < 2:
        axes = set(range(net.W))
    return axes


def _count_mask(mask: Any, shape: tuple[int, ...], factor: bool = True) -> int:
    """Number of true entries of a mask broadcast over a block of the given shape.

    With ``factor`` the count of the mask's own (smaller) array is multiplied by the
    extent of the axes it does not span; without, every point is visited."""
    if mask is False:
        return 0
    m = np.asarray(mask)
    if not factor:
        return int(np.count_nonzero(np.broadcast_to(m, shape)))
    return int(np.count_nonzero(m)) * (math.prod(shape) // m.size)


def check_size(total: int, force: bool) -> None:
    """Refuse more points than the `points` limit (10^10 by default) unless forced."""
    cap = LIMITS["points"].value
    if total > cap and not force:
        raise InputError(f"M^W has {magnitude(total)} points, more than {magnitude(cap)}; pass "
                         f"--force (or set {LIMITS['points'].env})")


def local_data_params(net: Network) -> list[int]:
    """Parameters that act as weights on neuron-to-neuron edges.

    At a point w the oracle's verdict, its gradient, AD_D f(w) and NS(w) depend on w
    only through the pre-activations y_k (kinks, slopes, outputs z_k, and the input
    coefficients of weight parameters) and the values of these parameters (the
    coefficients of tangent and adjoint propagation between neurons): biases and
    weights on inputs enter through y_k alone.  So points with equal local data get
    the same answers, and the oracle runs once per distinct local data."""
    return sorted({wt[1] for n in net.neurons for src, wt in zip(n.sources, n.weights)
                   if src >= 0 and wt[0] == "param"})


def _local_keys(ev: Evaluator, net: Network, slices: Slices, idx: tuple[Any, ...]) -> Any:
    """One row of local data (integer numerators and value indices) per point of idx."""
    cols = []
    for k in range(len(net.neurons)):
        y = ev.y(k)
        full = np.broadcast_to(np.asarray(y.num), tuple(hi - lo for lo, hi in slices))
        cols.append(full[idx])
    for p in local_data_params(net):
        cols.append(idx[p] + slices[p][0])
    return np.stack([np.asarray(c, dtype=object if ev.ar.dtype == object else np.int64)
                     for c in cols], axis=1)


def _unique_rows(keys: Any) -> tuple[list[int], list[int]]:
    """(first index, multiplicity) of each distinct row."""
    if keys.dtype != object:
        _, first, counts = np.unique(keys, axis=0, return_index=True, return_counts=True)
        return [int(i) for i in first], [int(c) for c in counts]
    seen: dict[tuple[Any, ...], int] = {}
    firsts: list[int] = []
    mult: list[int] = []
    for i, row in enumerate(map(tuple, keys)):
        j = seen.get(row)
        if j is None:
            seen[row] = len(firsts)
            firsts.append(i)
            mult.append(1)
        else:
            mult[j] += 1
    return firsts, mult


def witness_axes(net: Network) -> list[int]:
    """The axes tried for vectorised witnesses: biases of neurons with kinks (topmost first:
    for a bias network the topmost kink neuron with a non-zero adjoint always has one,
    THEORY.md section 6), then every other parameter."""
    biases = [n.bias[1] for n in reversed(net.neurons)  # type: ignore[index]
              if n.activation.kinks and n.bias is not None and n.bias[0] == "param"]
    first = list(dict.fromkeys(biases))
    return first + [p for p in range(net.W) if p not in first]


def _fast_block(net: Network, values: Sequence[Fraction], slices: Slices, ev: Evaluator,
                kink: Any, ns_mask: Any, choice: Choice, tally: dict[str, Any]) -> None:
    """The fast oracle's counts over one block, vectorised where a certificate applies:
    kink points without NS are differentiable with gradient AD (T5b); NS points with an
    axis witness (phi(e_p) + phi(-e_p) != 0, exact) are not differentiable; the rest go
    to the oracle, once per distinct local data."""
    shape = tuple(hi - lo for lo, hi in slices)
    if kink is False:
        return
    kink_b = np.broadcast_to(np.asarray(kink), shape)
    ns_b = np.zeros(shape, dtype=bool) if ns_mask is False else \
        np.broadcast_to(np.asarray(ns_mask), shape) & kink_b
    t5b = int(np.count_nonzero(kink_b)) - int(np.count_nonzero(ns_b))
    _tally_cert(tally, "no kink neuron with a non-zero adjoint (T5b)", t5b)
    n_ns = int(np.count_nonzero(ns_b))
    if n_ns == 0:
        return
    wit: Any = np.zeros(shape, dtype=bool)
    for p in witness_axes(net):
        m = ev.ar.nonzero(ev.ar.add(ev.axis_phi(p, 1), ev.axis_phi(p, -1)))
        if m is not False:
            wit = wit | (np.broadcast_to(np.asarray(m), shape) & ns_b)
        if int(np.count_nonzero(wit)) == n_ns:
            break
    n_wit = int(np.count_nonzero(wit))
    tally["ndf_oracle"] += n_wit
    _tally_cert(tally, "witness on an axis", n_wit)
    rest = ns_b & ~wit
    if n_wit < n_ns:
        _oracle_block(net, values, slices, ev, rest, ns_b, choice, "fast", tally)


def _tally_cert(tally: dict[str, Any], cert: str, m: int) -> None:
    if m:
        tally["certificates"][cert] = tally["certificates"].get(cert, 0) + m


def _oracle_block(net: Network, values: Sequence[Fraction], slices: Slices, ev: Evaluator,
                  kink: Any, ns_mask: Any, choice: Choice, mode: str,
                  tally: dict[str, Any]) -> None:
    """Add the oracle's counts over the kink points of one block to tally (one oracle call
    per distinct local data)."""
    shape = tuple(hi - lo for lo, hi in slices)
    if kink is False:
        return
    idx = np.nonzero(np.broadcast_to(np.asarray(kink), shape))
    if len(idx[0]) == 0:
        return
    ns_at = (np.zeros(len(idx[0]), dtype=bool) if ns_mask is False
             else np.broadcast_to(np.asarray(ns_mask), shape)[idx])
    firsts, mult = _unique_rows(_local_keys(ev, net, slices, idx))
    for i, m in zip(firsts, mult):
        w = tuple(values[slices[p][0] + int(idx[p][i])] for p in range(net.W))
        verdict = decide(net, w, choice, mode=mode, budget=None)
        _tally_cert(tally, verdict.certificate, m)
        tally["calls"] += 1
        if verdict.differentiable is None:
            tally["undecided"] += m
            continue
        if verdict.differentiable:
            ad = backward(net, w, forward(net, w), choice).grad
            tally["inc_oracle"] += m * (not same_vector(ad, verdict.grad or ()))
        else:
            tally["ndf_oracle"] += m
        tally["disagreements"] += m * (bool(ns_at[i]) != (not verdict.differentiable))


def count(net: Network, fmt: Format, choice: Choice = "pytorch", oracle: bool | str = False,
          force: bool = False, progress: bool = False, factor: bool = True) -> dict[str, Any]:
    """Exact counts over all of M^W (see the module docstring for the keys).

    With ``factor`` (the default) parameters that the masks structurally do not
    depend on, and broadcast axes of the masks, are counted by multiplication
    instead of being visited; ``factor=False`` visits every point (for
    benchmarking the plain enumeration).  The results are the same.  ``oracle`` is
    False, True (the fast oracle) or a mode of :func:`adcorrect.exact.oracle.decide`."""
    net.require_exact()
    net.require_linear_head("count")
    mode = "fast" if oracle is True else oracle or None
    size, W = fmt.size, net.W
    total = size**W
    check_size(total, force)
    values = fmt.values()
    n = net.n_kinks
    res: dict[str, Any] = {
        "total": total, "kink": 0, "ns": 0, "n": n,
        "bound": n * size ** (W - 1) if W > 0 else n,
        "M": size, "W": W, "format": fmt.name,
    }
    tally: dict[str, Any] = {"ndf_oracle": 0, "inc_oracle": 0, "disagreements": 0,
                             "undecided": 0, "calls": 0, "certificates": {}}
    dtype = choose_dtype(net, values, choice, witness_axes(net) if mode == "fast" else ())
    # Without the oracle, parameters the masks provably do not depend on are not
    # enumerated: every block stands for size**len(free) points.
    axes = set(range(W)) if oracle or not factor else spanned_axes(net, values, dtype, choice)
    sizes = [size if p in axes else 1 for p in range(W)]
    mult = size ** (W - len(axes))
    bar = Progress(total, label=f"count {net.name} over {fmt.name}", enabled=progress)
    done = 0
    for slices in blocks(sizes, block_elements(net, dtype)):
        shape = tuple(hi - lo for lo, hi in slices)
        npoints = math.prod(shape)
        ev = block_evaluator(net, values, slices, dtype, choice)
        out = ev.evaluate()
        res["kink"] += _count_mask(out.kink, shape, factor) * mult
        res["ns"] += _count_mask(out.ns, shape, factor) * mult
        if mode == "fast":
            _fast_block(net, values, slices, ev, out.kink, out.ns, choice, tally)
        elif mode:
            _oracle_block(net, values, slices, ev, out.kink, out.ns, choice, mode, tally)
        done += npoints * mult
        bar.update(done)
    bar.close()
    if mode:
        res.update({k: tally[k] for k in ORACLE_KEYS})
        res.update(oracle=mode, undecided=tally["undecided"], oracle_calls=tally["calls"],
                   certificates=dict(sorted(tally["certificates"].items())))
    return res


def naive_point(net: Network, w: Sequence[Fraction], choice: Choice) -> tuple[bool, bool]:
    """(K(w) non-empty, NS(w)) at one point with the exact Fraction engine."""
    fw = forward(net, w)
    bw = backward(net, w, fw, choice)
    return bool(kink_neurons(net, fw)), ns(net, fw, bw)


def naive_counts(net: Network, points: Iterable[Sequence[Fraction]],
                 choice: Choice = "pytorch") -> tuple[int, int, int]:
    """(points, kink, ns) counted by a plain Python loop over the given points."""
    npts = kink = nsc = 0
    for w in points:
        k, s = naive_point(net, w, choice)
        npts += 1
        kink += k
        nsc += s
    return npts, kink, nsc


def count_naive(net: Network, fmt: Format, choice: Choice = "pytorch",
                limit: int | None = None) -> dict[str, int]:
    """The reference count: a Python loop over itertools.product(M, repeat=W) with
    fractions (the first ``limit`` points only, if given)."""
    net.require_exact()
    pts: Iterable[Sequence[Fraction]] = itertools.product(fmt.values(), repeat=net.W)
    if limit is not None:
        pts = itertools.islice(pts, limit)
    npts, kink, nsc = naive_counts(net, pts, choice)
    return {"points": npts, "kink": kink, "ns": nsc}


def _ratio(a: int, b: int) -> str:
    return "-" if b == 0 else f"{a / b:.6g}"


def render_count(res: dict[str, Any]) -> str:
    """The counts as a table for people, with the ratios count/bound."""
    rows: list[tuple[str, object]] = [
        ("format", res["format"]), ("|M|", res["M"]), ("W", res["W"]),
        ("total = |M|^W", res["total"]),
        ("kink: K(w) non-empty", res["kink"]), ("ns: NS(w)", res["ns"]),
        ("n = sum of kinks", res["n"]), ("bound = n |M|^(W-1)", res["bound"]),
        ("ratio ns/bound", _ratio(res["ns"], res["bound"])),
        ("ratio kink/bound", _ratio(res["kink"], res["bound"])),
        ("ns/total", _ratio(res["ns"], res["total"])),
    ]
    if "ndf_oracle" in res:
        rows += [
            ("oracle mode", res["oracle"]),
            ("ndf_oracle: not differentiable", res["ndf_oracle"]),
            ("inc_oracle: differentiable, AD wrong", res["inc_oracle"]),
            ("disagreements NS vs oracle", res["disagreements"]),
            ("ratio ndf_oracle/bound", _ratio(res["ndf_oracle"], res["bound"])),
            ("undecided (budget)", res["undecided"]),
            ("oracle calls (distinct local data)", res["oracle_calls"]),
        ] + [(f"decided by: {c}", m) for c, m in res["certificates"].items()]
    return render(["quantity", "value"], rows)
