"""Statuses of SMT-LIB tree files that no theorem or witness search of the generator settles.

A status is *established* here only by solvers, and recorded in the committed table
``smtlib_status.json`` (keyed by ``<family>/<network>--<format>``):

- ``unsat`` when at least two of z3, cvc5 and bitwuzla answer unsat and none sat;
- ``sat`` when a solver's model is re-checked exactly by adcorrect (the point is kept
  in the table and re-checked again whenever the tree is written).

Everything else stays ``unknown``; the table records such files too, with the solvers
that gave no answer in time, so that their ``:source`` says so.  ``python -m adcorrect.smt.established --tree smtlib``
runs the solvers over the tree's ``unknown`` files and updates the table.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from .decode import check_point
from .suite import Item, path_label

TABLE = Path(__file__).with_name("smtlib_status.json")
SOLVER_VERSIONS = {"z3": "z3 5.4.1", "cvc5": "cvc5 1.4.2",
                   "bitwuzla": "bitwuzla 0.10.0"}


def key(item: Item) -> str:
    q = item.query
    return f"{q.family}/{q.net.name}--{path_label(item.format_label)}"


def load(path: Path = TABLE) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _times(runs: dict[str, float]) -> str:
    return " and ".join(f"{SOLVER_VERSIONS.get(s, s)} in {t:.2f} s" for s, t in
                        sorted(runs.items()))


def reason(rec: dict[str, Any]) -> str:
    """The :source text of how the status was established."""
    runs = rec["runs"]
    if rec["status"] == "unknown":
        return (f"nothing: {', '.join(sorted(runs))} give no answer within "
                f"{rec['timeout']:g} s, no theorem applies and no structured witness was found")
    if rec["status"] == "unsat":
        text = f"two or more solvers answer unsat and none sat ({_times(runs)}, " \
               f"{rec['timeout']:g} s limit each)"
        if rec.get("argument"):
            text += f"; argument: {rec['argument']}"
        return text
    return (f"a model found by {_times(runs)} at w = ({', '.join(rec['point'])}), "
            "re-checked exactly by adcorrect (exact IEEE rounding or exact engine and oracle)")


def apply(item: Item, table: dict[str, dict[str, Any]]) -> Item:
    """The item with its established status, if the table has one (a sat point is
    re-checked; InputError if it no longer satisfies the query)."""
    rec = table.get(key(item))
    if rec is None:
        return item
    q = item.query
    if rec["status"] == "unknown":
        return replace(item, query=replace(q, expected="unknown", reason=reason(rec)))
    if rec["status"] == "sat":
        w = [Fraction(x) for x in rec["point"]]
        c = check_point(q.net, q.fmt, q.choice, q.family, w)
        if not c.ok:
            raise InputError(f"{key(item)}: the recorded model no longer satisfies the "
                             f"query ({c.message})")
    return replace(item, query=replace(q, expected=rec["status"], reason=reason(rec)))


def establish(files: list[Path], timeout: float) -> dict[str, dict[str, Any]]:
    """Run the solvers on files (tree paths ending <family>/<net>--<fmt>.smt2); the
    established records by key."""
    from .runners import run_file

    out: dict[str, dict[str, Any]] = {}
    for path in files:
        k = f"{path.parent.name}/{path.stem}"
        sat: dict[str, float] = {}
        unsat: dict[str, float] = {}
        point: list[str] = []
        tried: dict[str, float] = {}
        for solver in ("bitwuzla", "z3", "cvc5"):  # one re-checked model is enough for sat
            r = run_file(path, solver, timeout)
            if r.verdict != "skipped":
                tried[solver] = r.seconds
                print(f"{k} {solver}: {r.verdict} {r.seconds:.2f} s {r.flag}", flush=True)
            if r.verdict == "sat" and not r.flag and r.check:
                sat[solver] = r.seconds
                point = list(r.point)
                break
            if r.verdict == "unsat" and not r.flag:
                unsat[solver] = r.seconds
        if sat and not unsat:
            out[k] = {"status": "sat", "runs": sat, "point": point, "timeout": timeout}
        elif len(unsat) >= 2 and not sat:
            out[k] = {"status": "unsat", "runs": unsat, "timeout": timeout}
        elif not sat and not unsat:
            out[k] = {"status": "unknown", "runs": tried, "timeout": timeout}
    return out


_UNKNOWN = re.compile(r"\(set-info :status unknown\)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", default="smtlib")
    ap.add_argument("--timeout", type=float, default=20.0)
    args = ap.parse_args(argv)
    files = sorted(p for p in Path(args.tree, "non-incremental").rglob("*.smt2")
                   if _UNKNOWN.search(p.read_text(encoding="utf-8")))
    table = load()
    new = establish(files, args.timeout)
    for k, rec in new.items():
        rec["argument"] = table.get(k, {}).get("argument", "")
    table.update(new)
    TABLE.write_text(json.dumps(dict(sorted(table.items())), indent=1) + "\n",
                     encoding="utf-8")
    print(f"{len(files)} unknown files, {len(new)} established; table {TABLE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
