"""The comparison report: theorem by theorem, the Coq status next to the solver
verdicts and the exhaustive counts (`python -m adcorrect report`, `make compare`).

Inputs, each optional (a missing one is reported as missing, never as passing):
- `report/proof-status.json`, written by `make check-proofs` (coq/check_proofs.py);
- `coq/theories/Main.v`, for the theorem names;
- `smt/results.json`, written by `make solve`;
- `report/counts.json`, written by `make suite`;
- `report/crosscheck.json`, written by `adcorrect crosscheck` (`make compare`): the
  enumerator's and z3's counts for the numbers certified in Coq (see
  :mod:`adcorrect.report.crosscheck`, which also renders that section).
Outputs: `report/REPORT.md` and `report/report.json`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..smt.meta import MetaError, read_meta
from . import crosscheck as cert

THEOREMS: dict[str, str] = {
    "M": "|M| for IEEE-style formats (THEORY.md section 1)",
    "T1": "AD is correct wherever a bias network is differentiable",
    "T2": "|ndf_M| <= n |M|^(W-1) for bias networks, and the bound is tight",
    "T3": "a bias network is non-differentiable at w iff NS(w)",
    "T4": "AD returns a Clarke subderivative (choices between the one-sided slopes)",
    "T5": "beyond bias parameters: inc can be non-empty (T5a); not NS => correct (T5b)",
    "T6": "mini-batch losses (THEORY.md 8.1): batched T2 bound; AD correct iff theta-uniform choice",
    "T7": "tied-bias networks (convolutions, batches): AD correct for choices theta-uniform per "
          "class, count bound; ordered classes needed",
    "C1": "C1 outputs and C1 pre-activations (MSE, cross-entropy, LayerNorm): instances and the "
          "linearisation at w",
    "IEEE": "beyond the paper: when IEEE execution actually meets a kink",
    "S": "the activations of the table; forward mode equals reverse mode (sections 2 and 4)",
    "NV": "the hypotheses of T1-T4 are satisfiable and their conclusions not vacuous",
    "C": "certified numbers: computable versions over Q, counts proved by computation",
}

QUERY_THEOREM: dict[str, str] = {
    "bias-unique": "T2",
    "count": "T2",
    "ad-correct": "T1",
    "ns-implies-ndf": "T3",
    "ndf-implies-ns": "T3",
    "ndf-implies-ns-sides": "T3",
    "clarke-combination": "T4",
    "inc-witness": "T5",
    "inc-witness-qf": "T5",
    "float-kink": "IEEE",
    "float-bifurcation": "IEEE",
    "float-bifurcation-nz": "IEEE",
}

_THEOREM_RE = re.compile(r"^\s*(?:Theorem|Lemma|Corollary)\s+([A-Za-z_][\w']*)", re.MULTILINE)


# Main.v names that do not start with their item, by prefix
_ITEM_OF_PREFIX: dict[str, str] = {
    "format_card": "M",
    "ad_forward": "S", "hardswish": "S", "softshrink": "S",
    "nonvacuity": "NV", "relu_": "NV", "five_not_in_clarke": "NV",
    "perturbable": "T5",
    "certified_": "C", "computable_": "C",
    "C1_": "C1", "smooth_tau": "C1",
    "mlp_": "T6", "batch_": "T6",
    "differentiable_iff_tangent_linear": "T3",  # the exact test of THEORY.md section 7
}


def theorem_of_coq_name(name: str) -> str:
    """Which THEORY.md item a Main.v theorem belongs to, by its name."""
    m = re.match(r"T([1-7])", name)
    if m:
        return f"T{m.group(1)}"
    for prefix, item in _ITEM_OF_PREFIX.items():
        if name.startswith(prefix):
            return item
    return "T2"


def coq_theorems(main_v: Path, status_json: Path) -> dict[str, list[dict[str, Any]]]:
    """Main.v theorems per item, with the status make check-proofs reported."""
    names = _THEOREM_RE.findall(main_v.read_text()) if main_v.exists() else []
    status: dict[str, dict[str, Any]] = {}
    if status_json.exists():
        status = {t["name"]: t for t in json.loads(status_json.read_text())["theorems"]}
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name in names:
        st = status.get(name)
        out[theorem_of_coq_name(name)].append({
            "name": name,
            "status": st["status"] if st else "not checked (run make check-proofs)",
            "axioms": [a.rsplit(".", 1)[-1] for a in st["axioms"]] if st else [],
        })
    return out


@dataclass
class Instance:
    """One SMT file with every solver's run."""

    file: str
    meta: dict[str, Any]
    runs: dict[str, dict[str, Any]]

    @property
    def expected(self) -> str:
        return str(self.meta.get("expected", "unknown"))

    @property
    def decided(self) -> set[str]:
        return {r["verdict"] for r in self.runs.values() if r["verdict"] in ("sat", "unsat")}

    @property
    def conflict(self) -> str:
        """Why the instance is a conflict ('' if none)."""
        if len(self.decided) > 1:
            return "solvers disagree: " + ", ".join(
                f"{s} {r['verdict']}" for s, r in sorted(self.runs.items()))
        flags = [f"{s}: {r['flag']}" for s, r in sorted(self.runs.items()) if r.get("flag")]
        return "; ".join(flags)

    @property
    def verified(self) -> bool:
        """Some solver decided the expected status, nobody disagreed or was flagged."""
        return not self.conflict and self.decided == {self.expected}


def smt_progress(results_json: Path) -> tuple[bool, int, int]:
    """(complete, jobs done, jobs in the run) of a results file (old files: complete)."""
    if not results_json.exists():
        return True, 0, 0
    payload = json.loads(results_json.read_text())
    if not isinstance(payload, dict) or "complete" not in payload:
        runs = payload["results"] if isinstance(payload, dict) else payload
        return True, len(runs), len(runs)
    return bool(payload["complete"]), int(payload["jobs_done"]), int(payload["jobs_total"])


def smt_instances(results_json: Path) -> list[Instance]:
    """The solver runs of `make solve`, grouped by file, with each file's metadata."""
    if not results_json.exists():
        return []
    payload = json.loads(results_json.read_text())
    runs = payload["results"] if isinstance(payload, dict) else payload
    by_file: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in runs:
        by_file[r["file"]][r["solver"]] = r
    out = []
    for file, solver_runs in sorted(by_file.items()):
        path = Path(file)
        try:
            meta = read_meta(path.read_text()) if path.exists() else None
        except MetaError:
            meta = None
        if meta is None:
            first = next(iter(solver_runs.values()))
            meta = {"query": first.get("query", ""), "expected": first.get("expected")}
        out.append(Instance(file, meta, solver_runs))
    return out


def _width(meta: dict[str, Any]) -> int | None:
    """W of the file's network (from its adcorrect-meta record), or None."""
    net = meta.get("network")
    if not isinstance(net, dict) or "layers" not in net:
        return None
    try:
        from ..nets.spec import parse_network

        return parse_network(net).W
    except Exception:  # noqa: BLE001  (a record from another version: no W)
        return None


def _net_name(meta: dict[str, Any]) -> str:
    net = meta.get("network")
    return net.get("name", "?") if isinstance(net, dict) else str(net or "?")


def _cell(run: dict[str, Any] | None) -> str:
    if run is None:
        return "-"
    if run["verdict"] == "skipped":
        return "skipped"
    return f"{run['verdict']} {run['seconds']:.2f}s" + (" !" if run.get("flag") else "")


def _md_table(headers: list[str], rows: Iterable[Iterable[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def build(root: Path) -> dict[str, Any]:
    """Everything the report says, as a JSON-ready dict."""
    coq = coq_theorems(root / "coq/theories/Main.v", root / "report/proof-status.json")
    instances = smt_instances(root / "smt/results.json")
    counts_path = root / "report/counts.json"
    counts = json.loads(counts_path.read_text()) if counts_path.exists() else None
    solvers = sorted({s for i in instances for s in i.runs})
    items: dict[str, Any] = {}
    for key, title in THEOREMS.items():
        mine = [i for i in instances if QUERY_THEOREM.get(str(i.meta.get("query")), "") == key]
        witnesses = [
            {"file": i.file, "solver": s, "query": i.meta.get("query"), "point": r["point"],
             "check": r.get("check", "")}
            for i in mine for s, r in sorted(i.runs.items())
            if r["verdict"] == "sat" and r.get("point")
        ]
        items[key] = {
            "title": title,
            "coq": coq.get(key, []),
            "formal_status": ("n/a (beyond the paper)" if key == "IEEE"
                              else _formal_status(coq.get(key, []))),
            "smt": [{"file": i.file, "network": _net_name(i.meta),
                     "format": i.meta.get("format"), "semantics": i.meta.get("semantics"),
                     "logic": i.meta.get("logic"), "W": _width(i.meta),
                     "query": i.meta.get("query"), "expected": i.expected,
                     "runs": i.runs, "verified": i.verified, "conflict": i.conflict}
                    for i in mine],
            "verified": sum(i.verified for i in mine),
            "instances": len(mine),
            "witnesses": witnesses,
        }
    conflicts = [{"file": i.file, "why": i.conflict} for i in instances if i.conflict]
    conflicts += [{"file": f"coq: {t['name']}", "why": t["status"]}
                  for ts in coq.values() for t in ts if t["status"] == "FAILING"]
    if counts:
        conflicts += [{"file": f"count: {r['network']} over {r['format']}",
                       "why": "count above the T2 bound or off its closed form"}
                      for r in counts["rows"] if not r.get("skipped") and not r.get("ok")]
    certified, cross_ok = certified_numbers(root)
    conflicts += cert.conflicts(certified)
    complete, done, total = smt_progress(root / "smt/results.json")
    challenge = _challenge(root / "smt/results-challenge.json")
    if challenge:
        conflicts += [{"file": c["file"], "why": "challenge run: " + c["why"]}
                      for c in challenge["conflicts"]]
    return {"items": items, "solvers": solvers, "counts": counts, "conflicts": conflicts,
            "certified": certified, "challenge": challenge,
            "smt_run": {"complete": complete, "jobs_done": done, "jobs_total": total,
                        "timeout": _options(root / "smt/results.json").get("timeout"),
                        "errors": [{"file": i.file, "solver": sv, "message": r.get("message", "")}
                                   for i in instances for sv, r in sorted(i.runs.items())
                                   if r["verdict"] == "error" and not r.get("flag")]},
            "inputs": {"proof_status": (root / "report/proof-status.json").exists(),
                       "smt_results": (root / "smt/results.json").exists(),
                       "counts": counts is not None, "crosscheck": cross_ok}}


def certified_numbers(root: Path) -> tuple[list[dict[str, Any]], bool]:
    """Coq's certified numbers beside the enumerator and SMT counts (adcorrect.report.crosscheck)."""
    rows = cert.read_certified(root / "report/proof-status.json")
    cross_path = root / "report/crosscheck.json"
    cross = json.loads(cross_path.read_text()) if cross_path.exists() else None
    return cert.compare(rows, cross), cross is not None


def _options(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    payload = json.loads(path.read_text())
    return payload.get("options", {}) if isinstance(payload, dict) else {}


def _challenge(path: Path) -> dict[str, Any] | None:
    """The challenge run (make challenge): per item verified/decided/total, and instances."""
    if not path.exists():
        return None
    instances = smt_instances(path)
    complete, done, total = smt_progress(path)
    payload = json.loads(path.read_text())
    rows = []
    for key in THEOREMS:
        mine = [i for i in instances if QUERY_THEOREM.get(str(i.meta.get("query")), "") == key]
        if mine:
            rows.append({"item": key, "instances": len(mine),
                         "verified": sum(i.verified for i in mine),
                         "expected_unknown": sum(i.expected == "unknown" for i in mine),
                         "conflicts": sum(bool(i.conflict) for i in mine)})
    return {"complete": complete, "jobs_done": done, "jobs_total": total,
            "timeout": payload.get("options", {}).get("timeout"), "rows": rows,
            "smt": [{"file": i.file, "network": _net_name(i.meta), "format": i.meta.get("format"),
                     "query": i.meta.get("query"), "expected": i.expected, "runs": i.runs,
                     "logic": i.meta.get("logic"), "W": _width(i.meta),
                     "verified": i.verified, "conflict": i.conflict} for i in instances],
            "conflicts": [{"file": i.file, "why": i.conflict} for i in instances if i.conflict]}


def _formal_status(ts: list[dict[str, Any]]) -> str:
    if not ts:
        return "not yet formalised"
    if any(t["status"] == "FAILING" for t in ts):
        return "FAILING"
    if all(t["status"] == "proved" for t in ts):
        return f"proved ({len(ts)} theorem{'s' * (len(ts) > 1)}, allowed axioms only)"
    return "not checked"


def summary_rows(rep: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(item, formal status, instances verified/total, counts within bound)."""
    rows = []
    counts = rep["counts"]
    for key, it in rep["items"].items():
        within = "-"
        if key == "T2" and counts:
            run = [r for r in counts["rows"] if not r.get("skipped")]
            within = f"{sum(1 for r in run if r.get('ok'))}/{len(run)}"
        if key == "C" and rep.get("certified"):
            agree = sum(r["status"] == "agree" for r in rep["certified"])
            within = f"{agree}/{len(rep['certified'])} agree (Coq, enumerator, SMT)"
        smt = f"{it['verified']}/{it['instances']}" if it["instances"] else "-"
        if it["instances"] and not rep.get("smt_run", {}).get("complete", True):
            smt += " (partial)"
        rows.append((key, it["formal_status"], smt, within))
    return rows


def render_markdown(rep: dict[str, Any]) -> str:
    """REPORT.md."""
    out = ["# adcorrect: proofs, solvers and counts side by side", "",
           ("Lee, Park & Aiken, *On the Correctness of Automatic Differentiation for Neural "
           "Networks with Machine-Representable Parameters* (ICML 2023). Statements: "
           "THEORY.md. Produced by `make compare` from `report/proof-status.json` "
           "(`make check-proofs`), `smt/results.json` (`make solve`) and "
           "`report/counts.json` (`make suite`)."), ""]
    missing = [k for k, v in rep["inputs"].items() if not v]
    if missing:
        out += [f"**Missing inputs:** {', '.join(missing)} (their rows say so).", ""]
    run = rep.get("smt_run", {"complete": True})
    if not run["complete"]:
        out += [(f"**Partial SMT run:** `smt/results.json` holds {run['jobs_done']} of "
                f"{run['jobs_total']} solver jobs (an interrupted `make solve`; run it again "
                "to resume). The SMT column counts the finished jobs only."), ""]
    out += ["## Summary", ""]
    out += _md_table(["item", "formal status", "SMT instances verified/total",
                      "counts within bound"], summary_rows(rep))
    out += ["", "## Conflicts", ""]
    out += [f"- `{c['file']}`: {c['why']}" for c in rep["conflicts"]] or ["None."]
    if run.get("errors"):
        out += ["", "## Solver process errors (not verified)", ""]
        out += [f"- `{e['file']}` [{e['solver']}]: {e['message'][:200]}" for e in run["errors"]]
    out += _figures_md(rep)
    out += _challenge_md(rep)
    solvers = rep["solvers"]
    for key, it in rep["items"].items():
        out += ["", f"## {key}: {it['title']}", "", "### Coq", ""]
        if it["coq"]:
            out += _md_table(["theorem (Main.v)", "status", "axioms"],
                             [(f"`{t['name']}`", t["status"], ", ".join(t["axioms"]) or "none")
                              for t in it["coq"]])
        else:
            out += ["Not yet formalised."]
        out += ["", "### SMT instances", ""]
        if it["smt"]:
            out += _md_table(
                ["network", "format", "semantics", "query", "expected", *solvers, "verified"],
                [(s["network"], s["format"], s["semantics"], s["query"], s["expected"],
                  *(_cell(s["runs"].get(sv)) for sv in solvers),
                  "yes" if s["verified"] else ("CONFLICT" if s["conflict"] else "no"))
                 for s in it["smt"]])
        else:
            out += ["None in smt/results.json."]
        if key == "T2" and rep["counts"]:
            out += ["", "### Exhaustive counts (exact enumeration of M^W)", ""]
            out += _md_table(
                ["network", "format", "|M|", "W", "kink", "NS", "T2 bound", "closed form",
                 "NS/bound", "ok"],
                [(r["network"], r["format"], r["M"], r["W"], r.get("kink", "-"),
                  r.get("ns", "-"), r.get("bound", "-"),
                  r.get("closed_form") if r.get("closed_form") is not None else "-",
                  f"{r['ratio']:.4f}" if r.get("ratio") is not None else "-",
                  "skipped" if r.get("skipped") else ("ok" if r.get("ok") else "FAIL"))
                 for r in rep["counts"]["rows"]])
        if it["witnesses"]:
            out += ["", "### Witnesses (exact parameter values, re-checked)", ""]
            out += [f"- {w['query']} ({'/'.join(Path(w['file']).parts[-3:-1])}, "
                    f"{w['solver']}): w = ({', '.join(w['point'])}) {w['check']}"
                    for w in it["witnesses"][:20]]
    out += [""] + cert.markdown(rep["certified"])
    return "\n".join(out) + "\n"


def make_figures(rep: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """The PNG figures next to REPORT.md, and the numbers they show."""
    from . import plots

    figs: dict[str, Any] = {}
    default = [s for it in rep["items"].values() for s in it["smt"]]
    limit = rep.get("smt_run", {}).get("timeout")
    if default:
        figs["cactus"] = plots.cactus(default, out_dir / "cactus.png", limit,
                                      "make solve (default corpus): cactus per logic")
        figs["time_vs_w"] = plots.time_vs_w(default, out_dir / "time-vs-w.png",
                                            "make solve: fastest verified time against W")
    ch = rep.get("challenge")
    if ch and ch["smt"]:
        figs["cactus_challenge"] = plots.cactus(
            ch["smt"], out_dir / "cactus-challenge.png", ch.get("timeout"),
            "make challenge: cactus per logic")
    if rep.get("counts"):
        figs["counts_vs_bound"] = plots.counts_vs_bound(rep["counts"]["rows"],
                                                        out_dir / "counts-vs-bound.png")
    return figs


def _headline(c: dict[str, Any]) -> list[str]:
    rows = [(solver, f"{h['verified']}/{c['files']}", f"{h['seconds']:.1f}",
             ", ".join(f"{lg} {n}" for lg, n in h["logics"].items()))
            for solver, h in c["by_solver"].items()]
    return _md_table(["solver", "verified/files", "total time of those (s)",
                      "verified per logic"], rows)


def _figures_md(rep: dict[str, Any]) -> list[str]:
    figs = rep.get("figures") or {}
    if not figs:
        return []
    out = ["", "## Figures", ""]
    if "cactus" in figs:
        out += ["### Cactus plot (make solve)", "",
                ("Per logic, every solver's verified instances sorted by solver time (x: "
                "instances verified, y: time; dotted: the time limit)."), "",
                "![cactus plot](cactus.png)", ""]
        out += _headline(figs["cactus"])
    if "time_vs_w" in figs:
        out += ["", "### Solving time against W", "",
                ("Per query family, the fastest verified solver time of each instance "
                "against the number of parameters W, by format."), "",
                "![time against W](time-vs-w.png)"]
    if "counts_vs_bound" in figs:
        c = figs["counts_vs_bound"]
        out += ["", "### Counts against the T2 bound", "",
                (f"Every exhaustive count of `make suite` ({c['points']} network/format "
                f"pairs): {c['within']} within the bound, {c['tight']} equal to it."), "",
                "![counts against the T2 bound](counts-vs-bound.png)"]
    return out


def _challenge_md(rep: dict[str, Any]) -> list[str]:
    ch = rep.get("challenge")
    if not ch:
        return ["", "## Challenge corpus", "",
                ("Not run (`make challenge` solves the instances left out of the default "
                "corpus, with a longer time limit).")]
    out = ["", "## Challenge corpus (make challenge)", "",
           f"The instances that no solver verified within a quarter of the default limit in "
           f"three measured runs, solved with a {ch['timeout']} s limit. Unknown stays "
           "unknown: an instance whose status no theorem, witness or enumeration establishes "
           "is listed with expected `unknown` and is never counted as verified."
           + ("" if ch["complete"] else f" **Partial run:** {ch['jobs_done']} of "
              f"{ch['jobs_total']} jobs."), ""]
    out += _md_table(["item", "instances", "verified", "expected unknown", "conflicts"],
                     [(r["item"], r["instances"], r["verified"], r["expected_unknown"],
                       r["conflicts"]) for r in ch["rows"]])
    figs = rep.get("figures") or {}
    if "cactus_challenge" in figs:
        out += ["", "![cactus plot of the challenge run](cactus-challenge.png)", ""]
        out += _headline(figs["cactus_challenge"])
    return out


def write_report(root: Path, out_dir: Path, figures: bool = True) -> dict[str, Any]:
    """Write REPORT.md, report.json and the figures (atomically); return the report."""
    from ..core.files import atomic_write_text

    rep = build(root)
    out_dir.mkdir(parents=True, exist_ok=True)
    rep["figures"] = make_figures(rep, out_dir) if figures else {}
    atomic_write_text(out_dir / "report.json", json.dumps(rep, indent=1) + "\n")
    atomic_write_text(out_dir / "REPORT.md", render_markdown(rep) + _study_section(out_dir))
    return rep


def _study_section(out_dir: Path) -> str:
    """"Real training" (written by `make study` into report/study/), if present."""
    from .study import section_markdown

    return section_markdown(out_dir / "study")


def cmd_report(args: Any) -> int:
    """`report`: write the files, print the summary table; status 1 on conflicts."""
    from ..core.tables import render

    rep = write_report(Path(args.root), Path(args.out))
    print(render(["item", "formal status", "SMT verified/total", "counts within bound"],
                 summary_rows(rep)))
    if rep["certified"]:
        print()
        print(render(cert.TABLE_HEAD, cert.table_rows(rep["certified"])))
        print(cert.summary(rep["certified"]))
    for c in rep["conflicts"]:
        print(f"CONFLICT {c['file']}: {c['why']}")
    print(f"\nwrote {Path(args.out) / 'REPORT.md'} and {Path(args.out) / 'report.json'}")
    return 1 if rep["conflicts"] else 0


def add_report_parser(subparsers: Any) -> None:
    """Register the `report` subcommand."""
    r = subparsers.add_parser("report", help="the proof/solver/count comparison report")
    r.add_argument("--root", default=".", help="the repository (inputs are read from here)")
    r.add_argument("--out", default="report")
    r.set_defaults(func=cmd_report)
