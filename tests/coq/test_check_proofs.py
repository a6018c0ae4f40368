"""The Coq audit (coq/check_proofs.py): hygiene scan and Print Assumptions parsing."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("check_proofs", ROOT / "coq" / "check_proofs.py")
cp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cp)


def test_comments_and_strings_are_ignored():
    code = cp.strip_comments('(* Admitted (* nested Axiom *) *) Lemma a. "Axiom" Qed.')
    assert "Admitted" not in code and "Axiom" not in code and "Lemma a." in code


def test_hygiene_flags_axioms_and_top_level_hypotheses(tmp_path, monkeypatch):
    (tmp_path / "A.v").write_text(
        "Section S.\nHypothesis h : True.\nEnd S.\nHypothesis g : True.\n"
        "Lemma l : False. Proof. admit. Admitted.\nAxiom ax : False.\n"
    )
    monkeypatch.setattr(cp, "HERE", tmp_path)
    errors = cp.hygiene_errors()
    assert [e.split(": ", 1)[1] for e in errors] == [
        "'Hypothesis' outside a Section",
        "forbidden 'admit'",
        "forbidden 'Axiom'",
    ]
    assert errors[0].startswith("A.v:4")


def test_the_real_development_is_clean():
    assert cp.hygiene_errors() == []


def test_parse_assumptions_blocks():
    out = (
        "@@THEOREM a\nAxioms:\nClassical_Prop.classic : forall P : Prop, P \\/ ~ P\n"
        "foo.bar : nat\n  -> nat\nClassicalDedekindReals.sig_forall_dec\n  : forall P : nat -> Prop,\n"
        "    True\n@@THEOREM b\nClosed under the global context\n"
    )
    assert cp.parse_assumptions(out, ["a", "b", "c"]) == {
        "a": ["Classical_Prop.classic", "foo.bar", "ClassicalDedekindReals.sig_forall_dec"],
        "b": [],
        "c": ["<no output>"],
    }


def test_assumptions_file_covers_main():
    main = cp.THEOREM.findall(cp.strip_comments((cp.THEORIES / "Main.v").read_text()))
    printed = cp.PRINTED.findall(cp.strip_comments((cp.THEORIES / "Assumptions.v").read_text()))
    assert main and sorted(main) == sorted(printed)


def test_allowlist():
    assert cp.disallowed([
        "Classical_Prop.classic", "ClassicalDedekindReals.sig_forall_dec",
        "ClassicalEpsilon.constructive_indefinite_description",
        "Description.constructive_definite_description", "foo.bar",
    ]) == ["Description.constructive_definite_description", "foo.bar"]


# -- certified numbers (issue 10, item 9) ------------------------------------------------

EXAMPLES = """(* spec: examples/a-1.json *)
Definition spec_a_1 : qspec := mk_spec [1] [].
(* format: list(-1,0,1) *)
Definition fmt_list_m1_0_1 : list Q := [(-1); 0; 1].
"""


def test_certified_rows_from_statements():
    main = """(* Theorem certified_commented : ndf_count net_a_1 M_list_m1_0_1 = 9%nat. *)
Theorem certified_a_1 :
  ndf_count net_a_1 M_list_m1_0_1 = 14%nat /\\
  inc_count net_a_1 (spec_torch spec_a_1) M_list_m1_0_1 = 2%nat /\\
  ns_count net_a_1 (spec_torch spec_a_1)
    M_list_m1_0_1 = 19%nat.
Proof. exact I. Qed.
Theorem other : True. Proof. exact I. Qed.
"""
    rows, errors = cp.certified_rows(main, EXAMPLES)
    assert errors == []
    assert rows == [
        {"theorem": "certified_a_1", "network": "examples/a-1.json", "format": "list(-1,0,1)",
         "quantity": q, "value": v} for q, v in (("ndf", 14), ("inc", 2), ("ns", 19))]


def test_certified_rows_errors():
    main = """Theorem certified_x : ndf_count net_b M_list_m1_0_1 = 1%nat.
Proof. Qed.
Theorem certified_y : inc_count net_a_1 (spec_torch spec_b) M_list_m1_0_1 = 1%nat.
Proof. Qed.
Theorem certified_z : ndf_count net_a_1 M_list_m1_0_1 <= 1%nat.
Proof. Qed.
"""
    rows, errors = cp.certified_rows(main, EXAMPLES)
    assert rows == []
    assert [e.split(":")[0] for e in errors] == ["certified_x", "certified_y", "certified_z"]
    assert "not in Computation/Examples.v" in errors[0]
    assert "(spec_torch spec_a_1)" in errors[1]
    assert "cannot read" in errors[2]


def test_certified_rows_of_the_development():
    """Main.v's certified numbers, among them the T5a counts over {-1,0,1} derived by hand:
    f(a,v1,v2) = relu(v1 a) - relu(v2 a) is not differentiable where a != 0 and v1 = 0 or
    v2 = 0 (2 * 5 = 10 points), or a = 0 and |v1| != |v2| (4 points); AD (relu'(0)=0)
    is 0 at a = 0 while the gradient is (relu v1 - relu v2, 0, 0): wrong at (0,1,-1) and
    (0,-1,1); NS holds where v1 a = 0 or v2 a = 0 (19 points)."""
    main = (cp.THEORIES / "Main.v").read_text()
    examples = (cp.THEORIES / "Computation/Examples.v").read_text()
    rows, errors = cp.certified_rows(main, examples)
    assert errors == []
    got = {(r["network"], r["format"], r["quantity"]): r["value"] for r in rows}
    assert got[("examples/t5a.json", "list(-1,0,1)", "ndf")] == 14
    assert got[("examples/t5a.json", "list(-1,0,1)", "inc")] == 2
    assert got[("examples/t5a.json", "list(-1,0,1)", "ns")] == 19
    # relu(w + b) over {-1,0,1}^2: not differentiable iff w + b = 0 (3 points)
    assert got[("examples/relu-1-1.json", "list(-1,0,1)", "ndf")] == 3
    # T2 tightness closed form |M|^N - (|M| - m)^N for N = 2 relus over fp(2,2) (|M| = 11)
    assert got[("examples/tight-relu-2.json", "fp(2,2)", "ndf")] == 11**2 - 10**2
    assert all((Path(cp.HERE.parent) / r["network"]).exists() for r in rows)
