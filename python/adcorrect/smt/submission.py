"""The SMT-LIB submission tree (``make smtlib``).

``smtlib/non-incremental/<LOGIC>/<YYYYMMDD>-adcorrect/<family>/<network>--<format>.smt2``
and nothing but ``.smt2`` files under ``non-incremental/`` (the submission rule); the
description of each family folder goes to ``descriptions/<LOGIC>/<family>.md`` beside
the tree.  From the suite (:mod:`adcorrect.smt.suite`) it
leaves out what would be trivial or a near-duplicate for a benchmark library:

- networks with a single neuron (every query on them is a one-line case split);
- ``bias-unique`` (unsat by one rewriting step: y_k is affine in its own bias);
- ``float-kink`` and ``float-bifurcation`` (sat at w = 0, where every pre-activation
  is at the kink 0), and the ``float-bifurcation-nz`` files that are sat (at a point
  whose parameters underflow): only its unsat members are kept;
- ``count`` files whose number of models is not known (card(M)^W above
  :data:`COUNT_POINTS`): a count file is a plain sat query, so it is kept only
  with its exact model count in ``:source``.

In their place the QF_FP part has the ``float-kink-range`` and
``float-bifurcation-range`` queries (:mod:`adcorrect.smt.fprange`: parameters in
1/16 <= |p| <= 16 with pairwise different magnitudes) in fp16 and fp32 on
:data:`RANGE_NETWORKS`, chosen to differ in difficulty.  Statuses that no theorem or
witness search settles come from :mod:`adcorrect.smt.established` (two solvers agree on
unsat, or a solver's model re-checked exactly).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import established
from .generator import DESCRIPTIONS, GENERATOR_DATE, RANGE_FAMILIES, Query, generate
from .smtlib import check_tree
from .suite import Item, dense, items, path_label, t5a

#: Largest card(M)^W for which a count file's models are counted (vectorised counter).
COUNT_POINTS = 200_000_000
SET_NAME = GENERATOR_DATE.replace("-", "") + "-adcorrect"
EXCLUDED_FAMILIES = ("bias-unique", "float-kink", "float-bifurcation")
#: (architecture, activation) of the range queries (with t5a, whose range files are
#: unsat), from quick to hard for bitwuzla.
RANGE_NETWORKS = (("1-2-1", "hardtanh"), ("1-2-1", "relu"), ("2-2-1", "leaky_relu(1/8)"),
                  ("1-3-1", "hardtanh"), ("1-2-2-1", "relu"), ("1-2-2-1", "hardtanh"),
                  ("1-2-2-1", "leaky_relu(1/8)"))
RANGE_FORMATS = ("fp16", "fp32")


@dataclass(frozen=True)
class Entry:
    """One file of the tree."""

    item: Item
    text: str
    logic: str

    @property
    def relpath(self) -> Path:
        q = self.item.query
        return Path("non-incremental", self.logic, SET_NAME, q.family,
                    f"{q.net.name}--{path_label(self.item.format_label)}.smt2")


def _count_note(item: Item) -> str | None:
    """The :source sentence with the exact model count, or None if too many points."""
    q = item.query
    total = q.fmt.size ** q.net.W
    if total > COUNT_POINTS:
        return None
    from ..exact.counter import count

    ns = count(q.net, q.fmt, q.choice, force=True, progress=False)["ns"]
    return (f"Models: exactly {ns} of the card(M)^W = {total} points w satisfy this file "
            "(NS(w)), counted exhaustively by adcorrect's exact counter.")


def range_items() -> list[Item]:
    """The float-*-range queries of the tree."""
    from ..numbers.formats import parse_format

    return [Item(Query(net, parse_format(f), family), f)
            for family in RANGE_FAMILIES
            for net in [*(dense(arch, act) for arch, act in RANGE_NETWORKS), t5a()]
            for f in RANGE_FORMATS]


def selected(all_items: list[Item] | None = None,
             table: dict[str, dict[str, Any]] | None = None) -> list[Item]:
    """The items that go into the tree (count items carry their count, statuses from
    the established table; default: the suite's items and the range queries)."""
    from .generator import default_expected

    table = established.load() if table is None else table
    out = []
    for item in [*items(), *range_items()] if all_items is None else all_items:
        q = item.query
        if len(q.net.neurons) == 1 or q.family in EXCLUDED_FAMILIES:
            continue
        if q.family == "float-bifurcation-nz" and default_expected(
                q.net, q.fmt, q.family, q.choice)[0] == "sat":
            continue
        item = established.apply(item, table)
        if q.family == "count":
            note = _count_note(item)
            if note is None:
                continue
            item = replace(item, query=replace(item.query, note=note))
        out.append(item)
    return out


def entries(chosen: list[Item]) -> list[Entry]:
    out = []
    for item in chosen:
        text = generate(item.query)
        logic = text.split("(set-logic ", 1)[1].split(")", 1)[0]
        out.append(Entry(item, text, logic))
    return out


def _reason_class(text: str) -> str:
    """How a file's status was established, without the file's particulars."""
    status = text.split("(set-info :status ", 1)[1].split(")", 1)[0]
    reason = text.split("established by: ", 1)[1].split("\n", 1)[0].rstrip(".")
    if reason.startswith("holds at the structured point"):
        reason = "a witness point w (a structured guess), re-checked exactly by adcorrect"
    elif reason.startswith("holds at w = ("):
        reason = "a witness point w found by exhaustive enumeration of M^W"
    elif reason.startswith("exhaustive enumeration"):
        reason = "exhaustive enumeration of all of M^W (exact engine and oracle, or exact " \
                 "IEEE rounding)"
    elif reason.startswith("two or more solvers answer unsat"):
        reason = "two or more of z3, cvc5 and bitwuzla answer unsat and none sat (the " \
                 "solvers and their times are in :source)"
    elif reason.startswith("a model found by"):
        reason = "a solver's model w, re-checked exactly by adcorrect"
    elif reason.startswith("no theorem applies"):
        reason = "nothing: no theorem applies, no witness was found and M^W is too large to " \
                 "enumerate"
    return f"{status}: {reason}"


def _readme(family: str, logic: str, group: list[Entry]) -> str:
    statuses = Counter(e.text.split("(set-info :status ", 1)[1].split(")", 1)[0]
                       for e in group)
    nets = sorted({e.item.query.net.name for e in group})
    fmts = sorted({e.item.format_label for e in group})
    reasons = sorted({_reason_class(e.text) for e in group})
    lines = [
        f"# {family} ({logic})", "",
        f"Generated by adcorrect (smt generator) on {GENERATOR_DATE}; license CC BY 4.0.",
        ("Lee, Park & Aiken, *On the Correctness of Automatic Differentiation for Neural "
        "Networks with Machine-Representable Parameters* (ICML 2023)."), "",
        f"**Query.** {DESCRIPTIONS[family]}.", "",
        f"**Files.** {len(group)}: " + ", ".join(f"{n} {s}" for s, n in sorted(
            statuses.items())) + ".", "",
        f"**Networks.** {', '.join(nets)}.", "",
        f"**Formats.** {', '.join(fmts)}.", "",
        "**How the statuses were established** (each file's `:source` says which applies):",
        "",
        *[f"- {r}" for r in reasons], "",
        ("Every file's header comments carry the network, the format, the query and a "
        "machine-readable `adcorrect-meta` line from which the adcorrect tool rebuilds the "
        "network and re-checks any model exactly."), "",
        ("Left out of the whole set as trivial or near-duplicates: networks with a single "
        "neuron, `bias-unique`, `float-kink` and `float-bifurcation` (sat at w = 0), the sat "
        "`float-bifurcation-nz` files (sat where parameters underflow), and `count` files "
        f"whose number of models is not known (more than {COUNT_POINTS} points)."), "",
    ]
    return "\n".join(lines)


def description_path(logic: str, family: str) -> Path:
    """Where the description of a family folder goes (outside non-incremental/)."""
    return Path("descriptions", logic, f"{family}.md")


def write_tree(out: Path, chosen: list[Item] | None = None) -> list[Entry]:
    """Write the tree under out (stale files from earlier runs are removed)."""
    es = entries(selected() if chosen is None else chosen)
    wanted = {e.relpath for e in es}
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for e in es:
        groups[(e.logic, e.item.query.family)].append(e)
    for (logic, family), group in groups.items():
        wanted.add(description_path(logic, family))
    if out.exists():
        for p in sorted(out.rglob("*")):
            if p.is_file() and p.relative_to(out) not in wanted:
                p.unlink()
    for e in es:
        path = out / e.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != e.text:
            path.write_text(e.text, encoding="utf-8")
    for (logic, family), group in sorted(groups.items()):
        path = out / description_path(logic, family)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_readme(family, logic, group), encoding="utf-8")
    for d in sorted((p for p in out.rglob("*") if p.is_dir()), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()
    return es


def logic_counts(es: list[Entry]) -> dict[str, Counter[str]]:
    """Per logic: the number of files by status."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for e in es:
        status = e.text.split("(set-info :status ", 1)[1].split(")", 1)[0]
        out[e.logic][status] += 1
    return dict(sorted(out.items()))


__all__ = ["Entry", "check_tree", "entries", "logic_counts", "selected", "write_tree"]
