"""Counting points of M^W by z3 with blocking clauses (AllSAT): NS, ndf and inc.

- ``ns``: the models of the ``count`` query (NS(w));
- ``ndf``: the models of ``count-ndf`` (some real direction v with
  phi_w(v) <> sum_i v_i phi_w(e_i): f is not differentiable at w; THEORY.md
  section 7); the direction stays free, the blocking clauses are on w only.
  For bias networks, ``count-ndf-sides`` instead (some choice of one-sided slopes
  at the kink neurons changes a bias derivative; no v, much faster for z3);
  the two are equivalent there by an argument that uses no theorem T1-T5
  (see the header of the generated file);
- ``inc``: the models of ``count-inc`` (AD_D f(w) <> (phi_w(e_i))_i, phi_w
  axis-symmetric) are candidates; each is kept iff the ``count-ndf`` formula with
  w fixed is unsat, i.e. f is differentiable at w and AD differs from its gradient.

The count is the number of models before z3 answers unsat; ``unknown`` at any
call raises :class:`InputError` (a count is never partial).  Every counted point
is re-checked by the exact engine (NS) or the independent oracle (ndf, inc).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from ..core.errors import InputError
from ..exact.engine import backward, forward, ns
from ..exact.oracle import decide
from ..nets.activations import Choice
from ..nets.spec import Network
from ..numbers.formats import Format
from .decode import DecodeError, param_values
from .generator import Query, generate
from .meta import read_meta

QUANTITIES = ("ns", "ndf", "inc")
_FAMILY = {"ns": "count", "ndf": "count-ndf", "inc": "count-inc"}


def _load(net: Network, fmt: Format, family: str, choice: Choice,
          timeout: float) -> tuple[Any, dict[str, Any], list[Any]]:
    """A z3 solver holding the query, its metadata and the parameter constants."""
    import z3

    text = generate(Query(net, fmt, family, choice, expected="unknown"))
    meta = read_meta(text)
    assert meta is not None
    s = z3.Solver()
    s.set("timeout", int(timeout * 1000))
    s.from_string(text)
    syms = meta["decode"]["params"]
    if meta["param_kind"] == "fp":
        consts = [z3.FP(sym, z3.FPSort(*fmt.params)) for sym in syms]
    else:
        consts = [z3.Real(sym) for sym in syms]
    return s, meta, consts


def _point(model: Any, consts: list[Any], meta: dict[str, Any],
           fmt: Format) -> tuple[tuple[Fraction, ...], list[Any]]:
    """The parameter vector of a z3 model, and z3's values (for blocking / fixing)."""
    import z3

    values = [model.eval(c, model_completion=True) for c in consts]
    entries: dict[str, Any] = {}
    for sym, v in zip(meta["decode"]["params"], values):
        if isinstance(v, z3.FPNumRef):
            eb, sb = fmt.params
            bits = z3.simplify(z3.fpToIEEEBV(v)).as_long()
            entries[sym] = {"fp": [bits >> (eb + sb - 1), (bits >> (sb - 1)) & ((1 << eb) - 1),
                                   bits & ((1 << (sb - 1)) - 1)]}
        else:
            entries[sym] = {"real": str(v.as_fraction())}
    try:
        return param_values(meta, entries), values
    except DecodeError as e:
        raise InputError(f"smt count: bad model: {e}") from None


def _equal(c: Any, v: Any) -> Any:
    import z3

    return z3.fpEQ(c, v) if isinstance(v, z3.FPNumRef) else c == v


def models(solver: Any, consts: list[Any], meta: dict[str, Any], fmt: Format,
           limit: int) -> Iterator[tuple[tuple[Fraction, ...], list[Any]]]:
    """Every w satisfying the solver's assertions, once each (blocking clauses on w)."""
    import z3

    found = 0
    while True:
        r = solver.check()
        if r == z3.unsat:
            return
        if r != z3.sat:
            raise InputError(f"smt count: z3 gave up ({solver.reason_unknown()}) after "
                             f"{found} models")
        if found >= limit:
            raise InputError(f"smt count: more than {limit} models; raise --limit")
        w, values = _point(solver.model(), consts, meta, fmt)
        found += 1
        yield w, values
        block = [z3.Not(_equal(c, v)) for c, v in zip(consts, values)]
        solver.add(z3.Or(block) if len(block) > 1 else block[0])


def _differentiable_by_smt(solver: Any, consts: list[Any], values: list[Any]) -> bool:
    """Whether count-ndf (held by solver) is unsat with w fixed to values."""
    import z3

    solver.push()
    solver.add(*[_equal(c, v) for c, v in zip(consts, values)])
    r = solver.check()
    reason = solver.reason_unknown() if r == z3.unknown else ""
    solver.pop()
    if r == z3.unknown:
        raise InputError(f"smt count: z3 gave up on a differentiability check ({reason})")
    return r == z3.unsat


def count(net: Network, fmt: Format, quantity: str, choice: Choice = "pytorch",
          limit: int = 100_000, timeout: float = 600.0) -> dict[str, Any]:
    """|{w in M^W : Q(w)}| for Q = NS, not differentiable, or inc, by AllSAT with z3."""
    if quantity not in QUANTITIES:
        raise InputError(f"unknown quantity {quantity!r} (use {', '.join(QUANTITIES)})")
    t0 = time.perf_counter()
    family = _FAMILY[quantity]
    if quantity == "ndf" and net.is_bias_network:
        family = "count-ndf-sides"
    solver, meta, consts = _load(net, fmt, family, choice, timeout)
    inner = _load(net, fmt, "count-ndf", choice, timeout) if quantity == "inc" else None
    n = 0
    for w, values in models(solver, consts, meta, fmt, limit):
        if quantity == "ns":
            fw = forward(net, w)
            if not ns(net, fw, backward(net, w, fw, choice)):
                raise InputError(f"smt count: z3 model {list(map(str, w))} does not satisfy NS")
            n += 1
            continue
        if quantity == "inc":
            assert inner is not None
            if not _differentiable_by_smt(inner[0], inner[2], values):
                continue
        verdict = decide(net, w)
        fw = forward(net, w)
        ad = backward(net, w, fw, choice).grad
        ok = (not verdict.differentiable) if quantity == "ndf" else \
            (verdict.differentiable and verdict.grad != ad)
        if not ok:
            raise InputError(f"smt count: the oracle contradicts z3 at {list(map(str, w))} "
                             f"({quantity})")
        n += 1
    return {"network": net.name, "format": fmt.name, "choice": str(choice), "W": net.W,
            "M": fmt.size, "quantity": quantity, quantity: n, "count": n,
            "seconds": time.perf_counter() - t0}


def count_ns(net: Network, fmt: Format, choice: Choice = "pytorch",
             limit: int = 100_000, timeout: float = 600.0) -> dict[str, Any]:
    """The number of w in M^W with NS(w), by z3 with blocking clauses.

    Every model is re-checked with the exact engine.  InputError if there are more
    than ``limit`` models or the solver gives up.
    """
    return count(net, fmt, "ns", choice, limit, timeout)
