"""The default counting suite (`python -m adcorrect suite`): T2 on concrete networks.

Every row enumerates M^W exactly with :func:`adcorrect.exact.counter.count` and compares
with the T2 bound n |M|^(W-1) and, where one exists, the closed form of
:mod:`adcorrect.nets.families`.  Rows whose enumeration would exceed the work budget
are listed as skipped, so the suite stays well under two minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..core.tables import render
from ..exact.counter import count, spanned_axes
from ..exact.vectorised import choose_dtype
from ..nets.families import mlp_spec, network, one_hidden_closed_form, tight_closed_form, tight_spec
from ..nets.spec import Network
from ..numbers.formats import Format, parse_format

SUITE_FORMATS = ("fp(2,2)", "fp(3,3)", "e2m1", "int(3,1)")
#: Largest number of array elements one row may enumerate (|M|^(spanned axes)).
#: relu-1-2-1 over fp(3,3) (55^6 elements, about 40 s) is the largest row that fits.
WORK_BUDGET = 3 * 10**10

ClosedForm = Callable[[Format], int | None]


@dataclass(frozen=True)
class Case:
    """One suite network with its closed form for the NS count (or None)."""

    net: Network
    closed: ClosedForm
    formats: tuple[str, ...] | None = None  # None: all suite formats


def _m_in(net: Network, fmt: Format) -> int:
    """Number of kinks of the (single) kinked activation that lie in M."""
    acts = {n.activation for n in net.neurons if n.activation.kinks}
    (act,) = acts
    return sum(1 for c in act.kinks if fmt.contains(c))


def _tight(activation: str, N: int, output_params: bool) -> Case:
    net = network(tight_spec(activation, N, output_params))

    def closed(fmt: Format) -> int | None:
        if output_params and not fmt.contains(0):
            return None
        return tight_closed_form(fmt.size, _m_in(net, fmt), N, output_params)

    return Case(net, closed)


def _one_hidden(activation: str, H: int, name: str | None = None,
                formats: tuple[str, ...] | None = None) -> Case:
    net = network(mlp_spec([1, H, 1], activation, name=name))

    def closed(fmt: Format) -> int | None:
        kinks = net.neurons[0].activation.kinks
        return one_hidden_closed_form(fmt.values(), Fraction(1), kinks, H)[1]

    return Case(net, closed, formats)


def suite_cases() -> list[Case]:
    """The networks of the default suite."""
    cases = [_tight(act, N, False) for act in ("relu", "hardtanh") for N in (1, 2, 3)]
    cases += [_tight(act, N, True) for act in ("relu", "hardtanh") for N in (1, 2)]
    cases += [_one_hidden("relu", 2),
              _one_hidden("leaky_relu(1/8)", 2, name="leaky-1-2-1",
                          formats=("fp(2,2)", "e2m1", "int(3,1)"))]
    return cases


def work(net: Network, fmt: Format) -> int:
    """Array elements the counter enumerates for net over fmt (without the oracle)."""
    values = fmt.values()
    axes = spanned_axes(net, values, choose_dtype(net, values, "pytorch"), "pytorch")
    return fmt.size ** len(axes)


def run_case(case: Case, fmt: Format, budget: int = WORK_BUDGET,
             progress: bool = False) -> dict[str, Any]:
    """One suite row as a JSON-ready dict."""
    net = case.net
    row: dict[str, Any] = {"network": net.name, "format": fmt.name, "M": fmt.size, "W": net.W,
                           "total": fmt.size**net.W, "bias_network": net.is_bias_network}
    if work(net, fmt) > budget:
        row.update(skipped=True)
        return row
    start = time.perf_counter()
    res = count(net, fmt, force=True, progress=progress)
    row.update(
        skipped=False, kink=res["kink"], ns=res["ns"], n=res["n"], bound=res["bound"],
        closed_form=case.closed(fmt), seconds=round(time.perf_counter() - start, 3),
    )
    row["ratio"] = res["ns"] / res["bound"] if res["bound"] else None
    row["within_bound"] = res["ns"] <= res["bound"]
    row["matches_closed_form"] = None if row["closed_form"] is None else (
        row["closed_form"] == res["ns"])
    row["ok"] = row["within_bound"] and row["matches_closed_form"] is not False
    return row


def run_suite(formats: tuple[str, ...] = SUITE_FORMATS, budget: int = WORK_BUDGET,
              progress: bool = False) -> dict[str, Any]:
    """All rows, with the total time."""
    start = time.perf_counter()
    rows = [run_case(case, parse_format(f), budget, progress) for case in suite_cases() for f in formats
            if case.formats is None or f in case.formats]
    done = [r for r in rows if not r["skipped"]]
    return {
        "rows": rows,
        "ok": all(r["ok"] for r in done),
        "rows_run": len(done),
        "rows_skipped": len(rows) - len(done),
        "seconds": round(time.perf_counter() - start, 3),
    }


def render_suite(res: dict[str, Any]) -> str:
    """The suite as a table for people."""
    table = []
    for r in res["rows"]:
        if r["skipped"]:
            table.append((r["network"], r["format"], r["M"], r["W"], r["total"], "skipped",
                          "", "", "", "", "over budget", ""))
            continue
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.4f}"
        closed = "-" if r["closed_form"] is None else r["closed_form"]
        check = "ok" if r["ok"] else "FAIL"
        table.append((r["network"], r["format"], r["M"], r["W"], r["total"], r["kink"],
                      r["ns"], r["bound"], closed, ratio, check, f"{r['seconds']:.2f}"))
    head = ["network", "format", "|M|", "W", "points", "kink", "ns", "T2 bound n|M|^(W-1)",
            "closed form", "ns/bound", "check", "s"]
    summary = (f"{res['rows_run']} rows run, {res['rows_skipped']} skipped over budget, "
               f"{'all ok' if res['ok'] else 'FAILURES'}, {res['seconds']:.1f} s")
    return render(head, table) + "\n" + summary
