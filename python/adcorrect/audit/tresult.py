"""The audit's answer from the tensor-level filter (:mod:`.tfilter`), in the same JSON
shape as the IR path's, and the comparison of exact and float kinks both paths share."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from ..exact.certcheck import smooth_json
from ..nets.theorems import coverage_json
from .execution import ExecutionResult
from .tcoverage import graph_facts
from .tfound import Filtered, PoolTies

MAX_ROWS = 50  # rows of a table kept in the result
#: IR terms (the tensor filter's count) above which the IR is not imported for the
#: structure keys alone (a 4-block ViT of width 64: 40 s for a decided batch)
STRUCTURE_TERMS = 1_000_000


def _index(shape: tuple[int, ...], flat: int) -> str:
    """A flat per-example index as the IR's neuron label index: ``[c,i,j]``."""
    idx = []
    for n in reversed(shape):
        idx.append(flat % n)
        flat //= n
    return ",".join(map(str, reversed(idx)))


def _copies(found: Filtered, attr: str, limit: int = MAX_ROWS) -> list[dict[str, Any]]:
    """Up to ``limit`` copies flagged ``attr`` (kink or dead) in the IR's order (example,
    then graph order, then entry): activation copies and max-pool ties of that kind (dead
    ties; sub-maximum ties are kinked copies)."""
    kinds = ("dead",) if attr == "dead" else ("submax", "ident")
    items: list[Any] = [c for c in found.calls if bool(getattr(c, attr).any())]
    items = sorted(items + [pt for pt in found.pools if pt.kind in kinds],
                   key=lambda it: it.seq)
    out: list[dict[str, Any]] = []
    B = found.out.shape[0]
    for i in range(B):
        for it in items:
            if len(out) >= limit:
                return out
            if isinstance(it, PoolTies):
                out += [{"neuron": label, "example": i, "kink": "0"}
                        for label, _ in it.copies(limit - len(out), example=i)]
                continue
            zero = it.zadj if attr == "kink" else None
            for (e,) in getattr(it, attr)[i].nonzero()[:limit - len(out)].tolist():
                out.append({"neuron": f"{it.where}[{_index(it.shape, e)}]", "example": i,
                            "kink": str(Fraction(float(it.y[i, e])))})
                if zero is not None and bool(zero[i, e]):  # a zero adjoint (below maxima)
                    out[-1]["zero"] = True
    return out


def _count(found: Filtered, attr: str) -> int:
    """Activation copies flagged ``attr`` plus the max-pool ties of that kind."""
    kinds = ("dead",) if attr == "dead" else ("submax", "ident")
    return sum(int(getattr(c, attr).sum()) for c in found.calls) + \
        sum(pt.count() for pt in found.pools if pt.kind in kinds)


def execution_json(dtype: Any, run: ExecutionResult) -> dict[str, Any]:
    """The ``execution`` key of an audit's answer."""
    return {"dtype": dtype.name, "computation": dtype.computation,
            "float_kinks": run.float_kinks, "pool_ties": run.pool_ties,
            "bifurcation": run.bifurcation, "changed_gradient_entries": run.changed}


def structure(aud: Any, B: int, terms: int = 0) -> dict[str, Any]:
    """The structural keys at batch size B (cached on the auditor): from the fx graph
    (:mod:`.tcoverage`, the IR's answer) where examples are separate, else from the IR
    (batch statistics: once a batch of size B has been imported whole; or where the graph
    walk has no answer), else said to be unknown.
    A batched network (B >= 2) never is a bias network (THEORY.md 8.1); B = 1 is the
    network itself.  ``terms``: the IR's size by the tensor filter's count (above
    :data:`STRUCTURE_TERMS`, a per-example IR left for later is not imported for these
    keys, and an imported one is not analysed: its coverage takes as long as its import)."""
    cache = aud.__dict__.setdefault("_structures", {})
    if aud.deferred and B not in aud.whole:  # analysed once a whole-batch import is made
        return _structure_of(aud, B, terms)
    if B not in cache:
        cache[B] = _structure_of(aud, B, terms)
    return cache[B]


def _structure_of(aud: Any, B: int, terms: int) -> dict[str, Any]:
    # per-example networks: the graph's facts first (the IR's answer, tested equal; the
    # IR's coverage took 39 s on a SqueezeNet at 64x64, the graph walk 0.3 s)
    facts = None if aud.whole or aud.deferred else _graph_facts(aud)
    # a per-example IR above the size rule: neither imported nor analysed for these keys
    large = terms > STRUCTURE_TERMS and not aud.deferred and not aud.whole
    if facts is None and aud.net is None and aud.pending is not None and not large and \
            _graph_facts(aud) is None:
        aud.load_net()  # the IR left for later is the structure's only source
    if facts is None and aud.net is not None and (not aud.deferred or B in aud.whole) and \
            not large:
        net = aud.net
        label = [n.label for n in net.neurons]
        return {"bias_network": B == 1 and net.is_bias_network,
                "single_bias_network": net.is_bias_network,
                "no_exclusive_bias": list(dict.fromkeys(label[k] for k in
                                                        net.no_exclusive_bias))[:20],
                "theorem": aud._coverage(B)}
    facts = facts or _graph_facts(aud)
    if facts is not None:
        return {"bias_network": B == 1 and facts.bias_network,
                "single_bias_network": facts.bias_network,
                "no_exclusive_bias": list(facts.no_exclusive),
                "theorem": smooth_json(coverage_json(facts.coverage(B))) if facts.smooth
                else coverage_json(facts.coverage(B))}
    why = (f"structure not analysed: {_not_analysed(aud, terms, large)}; the verdict needs "
           "no theorem where no copy is on a live kink (the loss is C^1 near w)")
    return {"bias_network": None, "single_bias_network": None, "no_exclusive_bias": [],
            "theorem": {"applies": None, "why": why, "bias_network": None, "tied_bias": None,
                        "classes_ordered": None, "kinked_classes": None,
                        "without_own_bias": [], "without_own_bias_count": None,
                        "theta_uniform": None, "dense": None}}


def _not_analysed(aud: Any, terms: int, large: bool) -> str:
    """Why the structure keys have no answer."""
    if aud.deferred:
        return ("batch statistics couple the examples, and the whole-batch network is "
                "imported only for batches the tensor filter leaves open")
    if aud.too_large:
        return str(aud.too_large)
    if large:
        return (f"the fx graph has an op whose neuron structure is not modelled, and the IR "
                f"(about {terms:,} terms) is " + (
                    "imported only for batches the tensor filter leaves open"
                    if aud.pending is not None else "too large to analyse for these keys"))
    return "the model is above the exact import limit"


def _graph_facts(aud: Any) -> Any:
    """The structural facts from the fx graph (:mod:`.tcoverage`), once per auditor."""
    if "_graph_facts" not in aud.__dict__:
        aud._graph_facts = graph_facts(aud.gm, aud.model, aud.example_shape, aud.choice)
    return aud._graph_facts


def tensor_result(aud: Any, found: Filtered, run: ExecutionResult | None, B: int,
                  witness: dict[str, Any] | None = None, why: str | None = None
                  ) -> dict[str, Any]:
    """The audit's JSON-ready answer where the tensor filter decided: no live kinked or
    uncertain copy, or a ``witness`` of non-differentiability (one-sided derivatives,
    :meth:`.tfilter.TensorFilter.certificate`); else undecided (live copies and no IR to
    resolve them; ``why``: the reason, if not the exact import limit)."""
    submax = sum(pt.count() for pt in found.pools if pt.kind == "submax")
    ident = sum(pt.count() for pt in found.pools if pt.kind == "ident")
    submax += ident + sum(int(c.zadj.sum()) for c in found.calls if c.zadj is not None)
    live_kinks = _count(found, "kink") - submax + found.pool_kinks
    unc = sum(int(c.unc.sum()) for c in found.calls) + found.pool_unc
    dead = _count(found, "dead")
    decided = live_kinks == 0 and unc == 0
    if witness is not None:
        cert = ("one-sided derivatives along a direction d and along -d do not cancel: "
                "L'(w; d) + L'(w; -d) != 0, so L is not differentiable at w (and NS holds, "
                "by T5b)")
        verdict = {"ns": True, "differentiable": False, "inc": False, "undecided": None}
    elif decided:
        cert = ("every kinked copy is a max-pool tie between candidates that are one "
                "function of the parameters (structurally identical: the maximum is that "
                "function near w) or below a strict window maximum (zero adjoint)" if ident
                else "no kinked copy with a non-zero adjoint (T5b)" if submax else
                "no kinked copy (L is C^1 near w)" if not dead else
                "every kinked copy's input is locally constant (dead kinks: no kink for "
                "differentiability, no choice point for AD)")
        # identical ties: the tie's adjoint (NS's criterion) is not computed here
        verdict: dict[str, Any] = {"ns": None if ident else False, "differentiable": True,
                                   "inc": False, "undecided": None}
    else:
        cert = "none"
        verdict = {"ns": None, "differentiable": None, "inc": None,
                   "undecided": why or f"{live_kinks} live kinked and {unc} uncertain "
                                "copies need exact arithmetic, and the model is above the "
                                "exact import limit (ADCORRECT_MAX_EXACT_MODEL_PARAMS)"}
    live_kinks += submax
    kinked_copies = _copies(found, "kink")
    sub_unc = found.pool_sub_unc
    known = unc == 0 and sub_unc == 0
    exact: dict[str, Any] = {
        "kinked": live_kinks,
        "kinked_examples": len({c["example"] for c in kinked_copies}) if live_kinks else 0,
        **verdict, "certificate": cert, "witness": witness, "kinks_known": known,
        "top": None, "groups": 0, "uncertain": unc, "exact_examples": 0,
        "copies": [{**{k: v for k, v in c.items() if k != "zero"},
                    "zbar": "zero" if c.get("zero") or
                    c["neuron"].rpartition("/")[2].startswith("tie") else None,
                    "zbar_approx": None} for c in kinked_copies],
        "dead": dead, "dead_copies": _copies(found, "dead"), "filter": "tensor",
        "submax_uncertain": sub_unc, "identical_ties": ident,
    }
    res: dict[str, Any] = {
        "network": aud.name if aud.net is None else aud.net.name, "W": aud.W,
        "frozen": aud.frozen, "batch": B,
        "activations": sorted({c.act.name for c in found.calls} | found.smooth), "loss": aud.loss,
        "choice": str(aud.choice), "exact": exact, **structure(aud, B, found.terms),
    }
    if run is None:
        return res
    res["execution"] = execution_json(aud.dtype, run)
    sizes = [c.kink.shape[1] for c in found.calls]
    offsets = [sum(sizes[:k]) for k in range(len(sizes))]
    exact_kinks: dict[tuple[int, int], str] = {}
    if known:
        for off, call in zip(offsets, found.calls):
            for i, e in (call.kink | call.dead).nonzero().tolist():
                exact_kinks[(off + e, i)] = str(Fraction(float(call.y[i, e])))

    def label(j: int) -> str:
        k = max(k for k, o in enumerate(offsets) if o <= j)
        return f"{found.calls[k].where}[{_index(found.calls[k].shape, j - offsets[k])}]"

    any_kink = True if live_kinks or dead else None if not known else False
    res["differ"], res["verdicts"] = compare(
        exact_kinks, label, sum(sizes), known, any_kink, verdict["ns"],
        verdict["differentiable"], run)
    return res


def compare(exact_kinks: dict[tuple[int, int], str], label: Callable[[int], str],
            n_act: int, kinks_known: bool, any_kink: bool | None, ns: bool | None,
            differentiable: bool | None, run: ExecutionResult
            ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Exact against float kinks, entry by entry (activation entries in graph order,
    ``exact_kinks`` keyed by (entry, example)), and the three verdicts side by side."""
    diff: dict[str, Any] = {"exact_only": 0, "float_only": 0, "rows": [],
                            "matched": run.entries == n_act and kinks_known,
                            "kinks_known": kinks_known}
    if diff["matched"] and (exact_kinks or run.float_kinks):
        fpos = run.kink_positions()
        epos = set(exact_kinks)
        for j, i in sorted(fpos ^ epos, key=lambda p: (p[1], p[0])):
            in_exact = (j, i) in epos
            diff["exact_only" if in_exact else "float_only"] += 1
            if len(diff["rows"]) < MAX_ROWS:
                diff["rows"].append({
                    "neuron": label(j), "example": i,
                    "exact_y": exact_kinks[(j, i)] if in_exact else "not a kink",
                    "float_y": repr(run.value_at(j, i)), "exact_kink": in_exact,
                    "float_kink": not in_exact})
    verdicts = [
        {"question": "some copy on a kink", "exact": any_kink,
         "execution": run.float_kinks > 0 or run.pool_ties > 0},
        {"question": "derivative choice matters (exact: NS; float: bifurcation)",
         "exact": ns, "execution": run.bifurcation},
        {"question": "loss not differentiable / gradient bifurcates",
         "exact": None if differentiable is None else not differentiable,
         "execution": run.bifurcation},
    ]
    for v in verdicts:
        v["agree"] = None if v["exact"] is None else v["exact"] == v["execution"]
    return diff, verdicts

