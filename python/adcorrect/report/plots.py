"""The report's figures (matplotlib PNG): cactus plots, solving time against W, counts
against the T2 bound.  Each function takes the report's data and a path, writes one
PNG and returns the numbers it shows, so that the report can print them too."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

SOLVER_STYLE = {"z3": ("tab:blue", "o"), "cvc5": ("tab:orange", "s"),
                "bitwuzla": ("tab:green", "^"), "best": ("black", "x")}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def cactus_data(instances: list[dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    """Per logic, per solver: the sorted times of the instances it verified."""
    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for inst in instances:
        logic = str(inst.get("logic") or "?")
        for solver, run in inst["runs"].items():
            if run["verdict"] in ("sat", "unsat") and run["verdict"] == inst["expected"] \
                    and not run.get("flag"):
                out[logic][solver].append(float(run["seconds"]))
    return {lg: {s: sorted(ts) for s, ts in sorted(by.items())} for lg, by in sorted(out.items())}


def cactus(instances: list[dict[str, Any]], path: Path, limit: float | None,
           title: str) -> dict[str, Any]:
    """SMT-COMP style: per logic, instances solved (x) against the time needed (y)."""
    plt = _pyplot()
    data = cactus_data(instances)
    totals: dict[str, int] = defaultdict(int)
    for inst in instances:
        totals[str(inst.get("logic") or "?")] += 1
    logics = list(data) or ["(none)"]
    cols = min(3, len(logics))
    rows = (len(logics) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, logic in zip(axes.flat, logics):
        for solver, times in data.get(logic, {}).items():
            color, marker = SOLVER_STYLE.get(solver, ("gray", "."))
            ax.plot(range(1, len(times) + 1), times, marker=marker, markersize=3,
                    color=color, label=f"{solver} ({len(times)})")
        ax.set_title(f"{logic} ({totals.get(logic, 0)} files)", fontsize=9)
        ax.set_xlabel("instances verified", fontsize=8)
        ax.set_ylabel("solver time (s)", fontsize=8)
        ax.set_yscale("log")
        if limit:
            ax.axhline(limit, color="gray", linestyle=":", linewidth=1)
        ax.legend(fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(logics):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    headline: dict[str, Any] = {}
    for logic, by in data.items():
        for solver, times in by.items():
            h = headline.setdefault(solver, {"verified": 0, "seconds": 0.0, "logics": {}})
            h["verified"] += len(times)
            h["seconds"] += sum(times)
            h["logics"][logic] = len(times)
    return {"files": sum(totals.values()), "by_solver": dict(sorted(headline.items())),
            "by_logic_files": dict(sorted(totals.items()))}


def time_vs_w(instances: list[dict[str, Any]], path: Path, title: str) -> dict[str, Any]:
    """Per family: the fastest verified solver time of each instance against W."""
    plt = _pyplot()
    points: dict[str, list[tuple[int, float, str]]] = defaultdict(list)
    for inst in instances:
        times = [float(r["seconds"]) for r in inst["runs"].values()
                 if r["verdict"] == inst["expected"] and r["verdict"] in ("sat", "unsat")
                 and not r.get("flag")]
        if times and inst.get("W") is not None:
            points[str(inst["query"])].append((int(inst["W"]), min(times), str(inst["format"])))
    fams = sorted(points) or ["(none)"]
    cols = min(4, len(fams))
    rows = (len(fams) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.9 * rows), squeeze=False)
    formats = sorted({f for ps in points.values() for _, _, f in ps})
    cmap = plt.get_cmap("tab10")
    for ax, fam in zip(axes.flat, fams):
        for j, fmt in enumerate(formats):
            ps = [(w, t) for w, t, f in points.get(fam, []) if f == fmt]
            if ps:
                ax.scatter([w for w, _ in ps], [t for _, t in ps], s=10, color=cmap(j % 10),
                           label=fmt)
        ax.set_title(fam, fontsize=9)
        ax.set_xlabel("W (parameters)", fontsize=8)
        ax.set_ylabel("fastest time (s)", fontsize=8)
        ax.set_yscale("log")
        ax.tick_params(labelsize=7)
    if formats:
        next(iter(axes.flat)).legend(fontsize=6)
    for ax in list(axes.flat)[len(fams):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return {fam: len(ps) for fam, ps in sorted(points.items())}


def counts_vs_bound(rows: list[dict[str, Any]], path: Path) -> dict[str, Any]:
    """NS count against the T2 bound n card(M)^(W-1): the two on log axes, and their ratio
    per network, one point per network and format."""
    plt = _pyplot()
    done = [r for r in rows if not r.get("skipped") and r.get("bound")]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1, 2]})
    formats = sorted({str(r["format"]) for r in done})
    nets = list(dict.fromkeys(str(r["network"]) for r in done))
    cmap = plt.get_cmap("tab10")
    for j, fmt in enumerate(formats):
        rs = [r for r in done if str(r["format"]) == fmt]
        ax.scatter([r["bound"] for r in rs], [max(r["ns"], 0.5) for r in rs], s=14,
                   color=cmap(j % 10), label=fmt)
        bx.scatter([nets.index(str(r["network"])) + (j - len(formats) / 2) * 0.08 for r in rs],
                   [r["ns"] / r["bound"] for r in rs], s=16, color=cmap(j % 10), label=fmt)
    if done:
        lo = min(min(r["bound"] for r in done), min(max(r["ns"], 0.5) for r in done))
        hi = max(r["bound"] for r in done)
        ax.plot([lo, hi], [lo, hi], color="gray", linestyle="--", linewidth=1,
                label="NS = bound")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("T2 bound n card(M)^(W-1)")
    ax.set_ylabel("points with NS(w) (exact count)")
    ax.legend(fontsize=7)
    bx.axhline(1.0, color="gray", linestyle="--", linewidth=1)
    bx.set_xticks(range(len(nets)))
    bx.set_xticklabels(nets, rotation=60, ha="right", fontsize=7)
    bx.set_ylabel("NS / bound")
    bx.set_ylim(0, 1.08)
    fig.suptitle("Exhaustive counts against the T2 bound (at most 1: within; 1: tight)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return {"points": len(done), "within": sum(1 for r in done if r["ns"] <= r["bound"]),
            "tight": sum(1 for r in done if r["ns"] == r["bound"])}
