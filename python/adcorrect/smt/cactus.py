"""Solver times over the SMT-LIB tree: a cactus plot by solver and a table by logic.

``python -m adcorrect.smt.cactus --tree smtlib`` runs z3, cvc5 and bitwuzla one file
at a time (one job) on a stated sample of the tree (the files of a logic evenly
spaced in path order, at most ``--per-logic`` of them; 0: every file) and writes
``cactus.png`` (solved instances against time, one line per solver),
``solve-times.md`` (solved counts per solver and logic, and how many QF_FP files
take some solver over 1 s) and ``solve-times.json`` into the tree's top folder,
beside ``non-incremental/``.  Only verified answers count as solved: sat with a
re-checked model or unsat, never unknown, timeout or a flagged run.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from ..core.errors import InputError
from .runners import SOLVERS, RunResult, run_file

SLOW = 1.0  # seconds: "takes a solver over 1 s"


def sample(tree: Path, per_logic: int) -> list[Path]:
    """Evenly spaced files of each logic folder (all when per_logic is 0 or larger)."""
    root = tree / "non-incremental"
    if not root.is_dir():
        raise InputError(f"{root}: no such folder (run make smtlib first)")
    out: list[Path] = []
    for logic in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(logic.rglob("*.smt2"))
        if per_logic and len(files) > per_logic:
            step = len(files) / per_logic
            files = [files[int(i * step)] for i in range(per_logic)]
        out += files
    return out


def logic_of(path: Path, tree: Path) -> str:
    return path.relative_to(tree / "non-incremental").parts[0]


def table(results: list[RunResult], tree: Path, timeout: float) -> str:
    """Markdown: solved/attempted per logic and solver, and the slow QF_FP count."""
    solved: dict[tuple[str, str], int] = defaultdict(int)
    tried: dict[tuple[str, str], int] = defaultdict(int)
    files: dict[str, set[str]] = defaultdict(set)
    slowest: dict[str, float] = defaultdict(float)
    for r in results:
        logic = logic_of(Path(r.file), tree)
        files[logic].add(r.file)
        if r.verdict == "skipped":
            continue
        tried[(logic, r.solver)] += 1
        solved[(logic, r.solver)] += r.verified
        t = r.seconds if r.verdict in ("sat", "unsat") else max(r.seconds, timeout)
        slowest[r.file] = max(slowest[r.file], t)
    lines = [(f"Solved within {timeout:g} s (verified answers / files tried; - : the solver "
              "does not take the logic), one job at a time."), "",
             "| logic | files | " + " | ".join(SOLVERS) + " |",
             "|---|---|" + "---|" * len(SOLVERS)]
    for logic in sorted(files):
        cells = [f"{solved[(logic, s)]}/{tried[(logic, s)]}" if tried[(logic, s)] else "-"
                 for s in SOLVERS]
        lines.append(f"| {logic} | {len(files[logic])} | " + " | ".join(cells) + " |")
    fp = sorted(files.get("QF_FP", set()))
    slow = sum(slowest[f] > SLOW for f in fp)
    lines += ["", (f"QF_FP: {slow} of {len(fp)} files take some solver over {SLOW:g} s "
                   "(a timeout counts as over).")]
    return "\n".join(lines) + "\n"


def plot(results: list[RunResult], out: Path, timeout: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for solver in SOLVERS:
        times = sorted(r.seconds for r in results if r.solver == solver and r.verified)
        if times:
            ax.step(range(1, len(times) + 1), times, where="post", label=solver)
    ax.set_yscale("log")
    ax.set_xlabel("instances solved")
    ax.set_ylabel("time (s)")
    ax.axhline(timeout, color="grey", linestyle=":", linewidth=1)
    ax.set_title("adcorrect SMT-LIB tree (sample)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", default="smtlib")
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--per-logic", type=int, default=6)
    args = ap.parse_args(argv)
    tree = Path(args.tree)
    try:
        files = sample(tree, args.per_logic)
    except InputError as e:
        print(f"error: {e}")
        return 2
    results = []
    for path in files:
        for solver in SOLVERS:
            r = run_file(path, solver, args.timeout)
            results.append(r)
            if r.verdict != "skipped":
                print(f"{path.relative_to(tree)} {solver}: {r.verdict} {r.seconds:.2f} s"
                      f"{' ' + r.flag if r.flag else ''}", flush=True)
    (tree / "solve-times.json").write_text(
        json.dumps([r.to_json() for r in results], indent=1) + "\n", encoding="utf-8")
    text = table(results, tree, args.timeout)
    (tree / "solve-times.md").write_text(text, encoding="utf-8")
    plot(results, tree / "cactus.png", args.timeout)
    print(text + f"wrote {tree / 'cactus.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
