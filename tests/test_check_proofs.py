"""The Coq audit (coq/check_proofs.py): hygiene scan and Print Assumptions parsing."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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
