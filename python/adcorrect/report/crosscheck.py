"""Coq-certified counts next to the enumerator's and z3's (issue 10, item 9).

``make check-proofs`` exports the numbers that Main.v's ``certified_*`` theorems
state to ``report/proof-status.json`` as ``"certified": [{"theorem", "network",
"format", "quantity", "value"}]`` (quantity ``ndf``, ``inc`` or ``ns``), and those of
batched and tied networks as ``"certified_batched"`` (with ``"batch"`` and ``"loss"``;
``"-"`` for a plain tied network).  :func:`crosscheck` recomputes each with two
independent tools:

- the enumerator (:func:`adcorrect.exact.counter.count` with the oracle: ``ndf_oracle``,
  ``inc_oracle``, ``ns``), which never uses T1-T5;
- z3's AllSAT count (:func:`adcorrect.smt.allsat.count`), for unbatched networks (the SMT
  encodings have no batched losses: those rows compare Coq with the enumerator, and say so).

``adcorrect crosscheck`` writes them to ``report/crosscheck.json``; the report
(:func:`compare`) shows Coq, enumerator and SMT side by side, and any two that
differ are a conflict, which fails ``make compare``.  A tool that gave up or did
not run is shown as such and never counted as agreeing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from ..nets.spec import load_network
from ..numbers.formats import parse_format

QUANTITIES = ("ndf", "inc", "ns")
#: The enumerator's key for each quantity.
ENUMERATOR_KEYS = {"ndf": "ndf_oracle", "inc": "inc_oracle", "ns": "ns"}

Key = tuple[str, str, str, str, str]  # (network, batch, loss, format, quantity)
NO_BATCH = "-"


def _key(row: dict[str, Any]) -> Key:
    return (row["network"], row.get("batch", NO_BATCH), row.get("loss", NO_BATCH),
            row["format"], row["quantity"])


def _batched(row: dict[str, Any]) -> bool:
    return row.get("batch", NO_BATCH) != NO_BATCH


def read_certified(proof_status: Path) -> list[dict[str, Any]] | None:
    """The certified rows of report/proof-status.json (None if the file is missing)."""
    if not proof_status.exists():
        return None
    try:
        data = json.loads(proof_status.read_text())
        rows = data.get("certified", []) + data.get("certified_batched", [])
    except (json.JSONDecodeError, AttributeError, TypeError):
        raise InputError(f"{proof_status}: not a proof-status file (run make check-proofs)") from None
    for r in rows:
        if not isinstance(r, dict) or r.get("quantity") not in QUANTITIES or \
                not isinstance(r.get("value"), int):
            raise InputError(f"{proof_status}: bad certified entry {r!r}")
    return rows


# -- computing the two other numbers ---------------------------------------------------------


def enumerator_counts(root: Path, network: str, fmt: str, batch: str = NO_BATCH,
                      loss: str = NO_BATCH) -> dict[str, int]:
    """ndf, inc and ns over M^W by the exhaustive counter with the oracle (PyTorch's choice),
    of the network batched over the batch file with the loss when one is given."""
    from ..exact.counter import count
    from ..nets.batch import batched, load_batch

    net = load_network(root / network)
    if batch != NO_BATCH:
        net = batched(net, load_batch(root / batch), loss)
    res = count(net, parse_format(fmt), "pytorch", oracle=True, force=True)
    return {q: int(res[k]) for q, k in ENUMERATOR_KEYS.items()}


def smt_count(root: Path, network: str, fmt: str, quantity: str, timeout: float) -> int:
    """The AllSAT count of z3 (InputError if z3 gives up)."""
    from ..smt.allsat import count

    return int(count(load_network(root / network), parse_format(fmt), quantity, "pytorch",
                     timeout=timeout)["count"])


def crosscheck(rows: Iterable[dict[str, Any]], root: Path, smt_timeout: float = 600.0,
               log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The enumerator's and z3's number for every certified row (errors recorded, not raised)."""
    out = []
    enumerated: dict[tuple[str, str], dict[str, int] | str] = {}
    for row in rows:
        network, batch, loss, fmt, quantity = _key(row)
        entry: dict[str, Any] = {"network": network, "batch": batch, "loss": loss,
                                 "format": fmt, "quantity": quantity}
        what = (network, batch, loss, fmt)
        if what not in enumerated:
            t0 = time.perf_counter()
            try:
                enumerated[what] = enumerator_counts(root, network, fmt, batch, loss)
            except InputError as e:
                enumerated[what] = str(e)
            entry["enumerator_seconds"] = round(time.perf_counter() - t0, 3)
        got = enumerated[what]
        entry["enumerator"] = got[quantity] if isinstance(got, dict) else None
        entry["enumerator_error"] = got if isinstance(got, str) else ""
        t0 = time.perf_counter()
        if _batched(row):
            entry["smt"], entry["smt_error"] = None, ""
            entry["smt_na"] = True  # no SMT encoding of batched losses
        else:
            try:
                entry["smt"], entry["smt_error"] = smt_count(root, network, fmt, quantity,
                                                             smt_timeout), ""
            except InputError as e:
                entry["smt"], entry["smt_error"] = None, str(e)
        entry["smt_seconds"] = round(time.perf_counter() - t0, 3)
        if log:
            log(f"{network} {fmt} {quantity}: enumerator {entry['enumerator']}, "
                f"smt {entry['smt']} ({entry['smt_seconds']:.1f} s)")
        out.append(entry)
    return {"rows": out}


# -- the comparison --------------------------------------------------------------------------


def compare(certified: list[dict[str, Any]] | None,
            cross: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per certified number: Coq, enumerator, SMT and the verdict.

    ``agree`` when all three are present and equal, ``CONFLICT`` when two present
    numbers differ, ``incomplete`` when a number is missing (a tool gave up or the
    cross-check did not run)."""
    found = {_key(r): r for r in (cross or {}).get("rows", [])}
    out = []
    for c in certified or []:
        other = found.get(_key(c), {})
        enum, smt = other.get("enumerator"), other.get("smt")
        values = [v for v in (c["value"], enum, smt) if v is not None]
        if len(set(values)) > 1:
            status = "CONFLICT"
        elif enum is None or (smt is None and not other.get("smt_na")):
            status = "incomplete"
        else:
            status = "agree"
        notes = "; ".join(x for x in (other.get("enumerator_error", ""), other.get("smt_error", ""))
                          if x) or ("" if other else "not cross-checked (run adcorrect crosscheck)")
        out.append({**{k: c[k] for k in ("theorem", "network", "format", "quantity")},
                    "batch": c.get("batch", NO_BATCH), "loss": c.get("loss", NO_BATCH),
                    "coq": c["value"], "enumerator": enum, "smt": smt, "status": status,
                    "note": notes, "smt_na": bool(other.get("smt_na"))})
    return out


def conflicts(rows: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """The report's conflict entries for the certified numbers."""
    return [{"file": f"certified: {r['theorem']} ({r['network']} over {r['format']}, "
                     f"{r['quantity']})",
             "why": f"Coq {r['coq']}, enumerator {r['enumerator']}, SMT {r['smt']}"}
            for r in rows if r["status"] == "CONFLICT"]


def _cell(v: int | None) -> str:
    return "-" if v is None else str(v)


def _network(r: dict[str, Any]) -> str:
    if r.get("batch", NO_BATCH) == NO_BATCH:
        return r["network"]
    return f"{r['network']} on {r['batch']} ({r['loss']})"


def table_rows(rows: Iterable[dict[str, Any]]) -> list[tuple[str, ...]]:
    """(network, format, quantity, Coq, enumerator, SMT, status) per row (SMT "n/a" for
    batched and tied networks)."""
    return [(_network(r), r["format"], r["quantity"], _cell(r["coq"]), _cell(r["enumerator"]),
             "n/a" if r.get("smt_na") else _cell(r["smt"]), r["status"]) for r in rows]


TABLE_HEAD = ["network", "format", "quantity", "Coq", "enumerator", "SMT", "status"]


def summary(rows: list[dict[str, Any]]) -> str:
    agree = sum(r["status"] == "agree" for r in rows)
    return f"{agree}/{len(rows)} certified numbers agree with the enumerator and the SMT count"


def markdown(rows: list[dict[str, Any]]) -> list[str]:
    """The report's section on the certified numbers."""
    out = ["## Certified numbers: Coq, enumerator, SMT", "",
           ("Numbers stated by the `certified_*` theorems of `coq/theories/Main.v` (proved by "
            "`vm_compute`; THEORY.md T2-T5 on the networks of `examples/`), next to the "
            "exhaustive enumerator (`adcorrect count --oracle`) and z3's AllSAT count "
            "(`adcorrect smt count --quantity ...`). ndf: points of M^W where f is not "
            "differentiable; inc: f differentiable and AD (PyTorch's choice) wrong; ns: NS(w). "
            "Batched networks (`certified_batched`, a network on a batch file with a loss) are "
            "compared with the enumerator only: the SMT encodings have no batched losses (n/a)."),
           ""]
    if not rows:
        return out + ["No certified numbers in report/proof-status.json (run make check-proofs)."]
    out += ["| " + " | ".join(TABLE_HEAD) + " |", "|" + "---|" * len(TABLE_HEAD)]
    out += ["| " + " | ".join(cells) + " |" for cells in table_rows(rows)]
    notes = [f"- {r['network']} over {r['format']} ({r['quantity']}): {r['note']}"
             for r in rows if r["note"]]
    return out + [""] + [summary(rows) + "."] + ([""] + notes if notes else [])


def cmd_crosscheck(args: Any) -> int:
    """`crosscheck`: enumerator and SMT counts for the certified numbers."""
    root = Path(args.root)
    rows = read_certified(root / "report/proof-status.json")
    if rows is None:
        print("crosscheck: report/proof-status.json is missing (run make check-proofs); "
              "nothing to cross-check")
    res = crosscheck(rows or [], root, args.smt_timeout, log=None if args.quiet else print)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {out} ({len(res['rows'])} rows)")
    return 0


def add_crosscheck_parser(subparsers: Any) -> None:
    """Register the `crosscheck` subcommand."""
    c = subparsers.add_parser("crosscheck", help="enumerator and SMT counts for the numbers "
                              "certified in Coq (report/proof-status.json)")
    c.add_argument("--root", default=".", help="the repository")
    c.add_argument("--out", default="report/crosscheck.json")
    c.add_argument("--smt-timeout", type=float, default=600.0, help="seconds per z3 call")
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(func=cmd_crosscheck)
