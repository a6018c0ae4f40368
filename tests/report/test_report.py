"""The comparison report: built from synthetic inputs whose verdicts are known."""

import json
from pathlib import Path

from adcorrect.cli import main
from adcorrect.report.document import (
    build,
    render_markdown,
    summary_rows,
    theorem_of_coq_name,
)

HEADER = '; adcorrect-meta: {{"query": "{q}", "expected": "{e}", "format": "e2m1", ' \
         '"semantics": "exact", "network": {{"name": "n"}}}}\n(set-info :status {e})\n'


def _tree(tmp: Path, runs: list[tuple[str, str, str, str]], proofs: dict[str, str]) -> Path:
    (tmp / "coq/theories").mkdir(parents=True)
    (tmp / "coq/theories/Main.v").write_text(
        "".join(f"Theorem {n} : True.\nProof. exact I. Qed.\n" for n in proofs))
    (tmp / "report").mkdir()
    (tmp / "report/proof-status.json").write_text(json.dumps(
        {"theorems": [{"name": n, "status": s, "axioms": ["Classical_Prop.classic"]}
                      for n, s in proofs.items()], "ok": True}))
    results = []
    for file, query, expected, verdicts in runs:
        path = tmp / "smt" / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HEADER.format(q=query, e=expected))
        for solver, verdict in zip(("z3", "cvc5"), verdicts.split(",")):
            results.append({"file": str(path), "solver": solver, "verdict": verdict,
                            "expected": expected, "seconds": 0.5, "query": query,
                            "flag": "" if verdict in (expected, "unknown") else "unexpected",
                            "point": ["0", "1"] if verdict == "sat" else []})
    (tmp / "smt/results.json").write_text(json.dumps({"results": results}))
    (tmp / "report/counts.json").write_text(json.dumps({"rows": [
        {"network": "tight-relu-1", "format": "e2m1", "M": 15, "W": 1, "kink": 1, "ns": 1,
         "bound": 1, "closed_form": 1, "ratio": 1.0, "ok": True, "skipped": False}]}))
    return tmp


def test_verdicts_conflicts_and_summary(tmp_path):
    root = _tree(tmp_path, [
        ("a.smt2", "ad-correct", "unsat", "unsat,unsat"),        # T1 verified
        ("b.smt2", "ns-implies-ndf", "unsat", "unsat,unknown"),  # T3 verified by z3
        ("c.smt2", "ndf-implies-ns", "unsat", "unknown,unknown"),  # T3 not verified
        ("d.smt2", "inc-witness", "sat", "sat,unsat"),           # T5 conflict
    ], {"T2_kink_count_bound": "proved", "format_card": "proved", "T5a_x": "FAILING"})
    rep = build(root)
    rows = {r[0]: r[1:] for r in summary_rows(rep)}
    assert rows["T1"] == ("not yet formalised", "1/1", "-")
    assert rows["T2"] == ("proved (1 theorem, allowed axioms only)", "-", "1/1")
    assert rows["T3"][1] == "1/2"
    assert rows["T5"] == ("FAILING", "0/1", "-")
    assert rows["M"][0].startswith("proved")
    whys = {Path(c["file"]).name: c["why"] for c in rep["conflicts"]}
    assert whys["d.smt2"].startswith("solvers disagree")
    assert "coq: T5a_x" in whys
    assert len(rep["conflicts"]) == 2
    md = render_markdown(rep)
    assert md.index("## Conflicts") < md.index("## T1")
    assert "w = (0, 1)" in md  # the sat model of d.smt2 is listed as a witness


def test_cli_writes_files_and_fails_on_conflict(tmp_path, capsys):
    root = _tree(tmp_path, [("a.smt2", "ad-correct", "unsat", "unsat,sat")], {})
    assert main(["report", "--root", str(root), "--out", str(tmp_path / "out")]) == 1
    assert (tmp_path / "out/REPORT.md").exists()
    data = json.loads((tmp_path / "out/report.json").read_text())
    assert data["items"]["T1"]["verified"] == 0
    assert "CONFLICT" in capsys.readouterr().out


def test_missing_inputs_are_reported(tmp_path):
    rep = build(tmp_path)
    assert rep["inputs"] == {"proof_status": False, "smt_results": False, "counts": False,
                             "crosscheck": False}
    assert "Missing inputs" in render_markdown(rep)


def test_main_v_names_map_to_their_items():
    expected = {
        "T1_mlp_ad_correct": "T1", "T2_tightness_output_params": "T2",
        "T4_fails_without_bias": "T4", "T5c_ad_in_clarke_perturbable": "T5",
        "perturbable_params_distinct": "T5", "format_card_binary16": "M",
        "ad_forward_eq_reverse": "S", "hardswish_kinks_slopes": "S",
        "softshrink_kinks_slopes": "S", "nonvacuity_relu_mlp": "NV",
        "relu_not_differentiable_at_0": "NV", "relu_clarke_at_0": "NV",
        "five_not_in_clarke": "NV",
    }
    assert {n: theorem_of_coq_name(n) for n in expected} == expected
def test_theorem_items_by_name():
    assert [theorem_of_coq_name(n) for n in (
        "T1_ad_correct_C1", "T4_ad_in_clarke_C1", "T6_batch_ad_correct", "T6_fails_multi_kink",
        "C1_instance_cross_entropy", "differentiable_iff_tangent_linear", "format_card",
        "T2_ndf_count_bound")] == ["T1", "T4", "T6", "T6", "C1", "T3", "M", "T2"]


def test_issue_18_names_map_to_their_items():
    assert [theorem_of_coq_name(n) for n in (
        "T7_tied_ad_correct", "T7_conv_is_tied", "T6_dense_every_choice", "mlp_batch_bias",
        "batch_equal_inputs_collapse", "smooth_tau_instance_layernorm2", "T1_ad_correct_smooth_tau",
        "T3_ndf_iff_NS_smooth_tau", "T5d_uniform_bound_fails")] == [
        "T7", "T7", "T6", "T6", "T6", "C1", "T1", "T3", "T5"]
def test_partial_run_and_solver_errors_are_labelled(tmp_path):
    root = _tree(tmp_path, [("a.smt2", "ad-correct", "unsat", "unsat,error")], {})
    path = root / "smt/results.json"
    data = json.loads(path.read_text())
    data["results"][1]["flag"] = ""
    data["results"][1]["message"] = "solver process failed, killed by signal SIGKILL"
    path.write_text(json.dumps({"complete": False, "jobs_done": 2, "jobs_total": 6,
                                "results": data["results"]}))
    rep = build(root)
    assert rep["smt_run"]["complete"] is False
    assert {r[0]: r[2] for r in summary_rows(rep)}["T1"] == "1/1 (partial)"
    md = render_markdown(rep)
    assert "**Partial SMT run:**" in md and "2 of 6 solver jobs" in md
    assert "killed by signal SIGKILL" in md
    assert not rep["conflicts"]


def test_figures_and_their_numbers(tmp_path):
    root = _tree(tmp_path, [("a.smt2", "ad-correct", "unsat", "unsat,unsat"),
                            ("b.smt2", "ns-implies-ndf", "unsat", "unsat,unknown")], {})
    assert main(["report", "--root", str(root), "--out", str(tmp_path / "out")]) == 0
    for png in ("cactus.png", "time-vs-w.png", "counts-vs-bound.png"):
        assert (tmp_path / "out" / png).read_bytes()[:4] == b"\x89PNG"
    md = (tmp_path / "out/REPORT.md").read_text()
    assert "![cactus plot](cactus.png)" in md
    assert "| z3 | 2/2 | 1.0 | ? 2 |" in md and "| cvc5 | 1/2 | 0.5 | ? 1 |" in md
    assert "1 network/format pairs): 1 within the bound, 1 equal to it" in md
    assert "## Challenge corpus" in md and "Not run" in md
