"""Coq's certified numbers beside the enumerator and z3 (adcorrect.report.crosscheck, the report).

Synthetic inputs for the three-way comparison (agreement, a conflict, missing
numbers); the real tools on the smallest certified networks, against counts derived
by hand."""

import json
from pathlib import Path

import pytest
from adcorrect.cli import main
from adcorrect.nets.spec import load_network
from adcorrect.numbers.formats import parse_format
from adcorrect.report import crosscheck as cert
from adcorrect.report.document import build, render_markdown, summary_rows
from adcorrect.smt.allsat import count as smt_count

ROOT = Path(__file__).resolve().parents[2]
T5A, LIST = "examples/t5a.json", "list(-1,0,1)"


def _row(net, fmt, q, v, thm="certified_x"):
    return {"theorem": thm, "network": net, "format": fmt, "quantity": q, "value": v}


def _cross(net, fmt, q, enum, smt, smt_error=""):
    return {"network": net, "format": fmt, "quantity": q, "enumerator": enum,
            "enumerator_error": "", "smt": smt, "smt_error": smt_error}


def test_compare_agree_conflict_incomplete():
    certified = [_row("a.json", "e2m1", "ndf", 5), _row("a.json", "e2m1", "inc", 1),
                 _row("b.json", "e2m1", "ndf", 7), _row("c.json", "e2m1", "ns", 2)]
    cross = {"rows": [_cross("a.json", "e2m1", "ndf", 5, 5), _cross("a.json", "e2m1", "inc", 1, 2),
                      _cross("b.json", "e2m1", "ndf", 7, None, "z3 gave up")]}
    rows = cert.compare(certified, cross)
    assert [r["status"] for r in rows] == ["agree", "CONFLICT", "incomplete", "incomplete"]
    assert rows[2]["note"] == "z3 gave up"
    assert "not cross-checked" in rows[3]["note"]
    (c,) = cert.conflicts(rows)
    assert c["why"] == "Coq 1, enumerator 1, SMT 2" and "a.json over e2m1, inc" in c["file"]
    assert cert.summary(rows).startswith("1/4 ")


def test_compare_conflict_with_coq_alone():
    rows = cert.compare([_row("a.json", "e2m1", "ndf", 5)],
                        {"rows": [_cross("a.json", "e2m1", "ndf", 4, None)]})
    assert rows[0]["status"] == "CONFLICT"


def _tree(tmp: Path, certified, cross) -> Path:
    (tmp / "coq/theories").mkdir(parents=True)
    (tmp / "coq/theories/Main.v").write_text(
        "Theorem certified_x : True.\nProof. exact I. Qed.\n")
    (tmp / "report").mkdir()
    (tmp / "report/proof-status.json").write_text(json.dumps({
        "theorems": [{"name": "certified_x", "status": "proved", "axioms": []}], "ok": True,
        "certified": certified}))
    if cross is not None:
        (tmp / "report/crosscheck.json").write_text(json.dumps(cross))
    return tmp


def test_report_shows_three_numbers_and_fails_on_conflict(tmp_path, capsys):
    root = _tree(tmp_path, [_row(T5A, LIST, "ndf", 14), _row(T5A, LIST, "inc", 2)],
                 {"rows": [_cross(T5A, LIST, "ndf", 14, 14), _cross(T5A, LIST, "inc", 2, 3)]})
    rep = build(root)
    assert [r["status"] for r in rep["certified"]] == ["agree", "CONFLICT"]
    assert any(c["file"].startswith("certified: certified_x") for c in rep["conflicts"])
    assert {r[0]: r[3] for r in summary_rows(rep)}["C"] == \
        "1/2 agree (Coq, enumerator, SMT)"
    md = render_markdown(rep)
    assert "| examples/t5a.json | list(-1,0,1) | ndf | 14 | 14 | 14 | agree |" in md
    assert "| examples/t5a.json | list(-1,0,1) | inc | 2 | 2 | 3 | CONFLICT |" in md
    assert main(["report", "--root", str(root), "--out", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert "CONFLICT certified: certified_x" in out and "1/2 certified numbers agree" in out


def test_report_agreement_passes(tmp_path):
    root = _tree(tmp_path, [_row(T5A, LIST, "ndf", 14)],
                 {"rows": [_cross(T5A, LIST, "ndf", 14, 14)]})
    assert main(["report", "--root", str(root), "--out", str(tmp_path / "out")]) == 0


def test_report_without_crosscheck(tmp_path):
    rep = build(_tree(tmp_path, [_row(T5A, LIST, "ndf", 14)], None))
    assert rep["inputs"]["crosscheck"] is False
    assert rep["certified"][0]["status"] == "incomplete"
    assert not rep["conflicts"]


# -- the real tools, on counts derived by hand --------------------------------------------

# t5a over {-1,0,1}^3 (see tests/test_check_proofs.py): ndf 14, inc 2, ns 19.
# relu(w + b) over {-1,0,1}^2: w + b = 0 at 3 points, each NS and not differentiable.
HAND = {(T5A, "ndf"): 14, (T5A, "inc"): 2, (T5A, "ns"): 19,
        ("examples/relu-1-1.json", "ndf"): 3, ("examples/relu-1-1.json", "inc"): 0}


@pytest.mark.parametrize("net, quantity", sorted(HAND))
def test_smt_allsat_counts(net, quantity):
    res = smt_count(load_network(ROOT / net), parse_format(LIST), quantity)
    assert res["count"] == res[quantity] == HAND[(net, quantity)]


def test_crosscheck_command(tmp_path):
    rows = [_row(net, LIST, q, v) for (net, q), v in sorted(HAND.items())]
    (tmp_path / "report").mkdir()
    (tmp_path / "report/proof-status.json").write_text(json.dumps({"certified": rows}))
    for net in {r["network"] for r in rows}:
        (tmp_path / net).parent.mkdir(exist_ok=True)
        (tmp_path / net).write_text((ROOT / net).read_text())
    out = tmp_path / "report/crosscheck.json"
    assert main(["crosscheck", "--root", str(tmp_path), "--out", str(out), "--quiet"]) == 0
    res = cert.compare(rows, json.loads(out.read_text()))
    assert [r["status"] for r in res] == ["agree"] * len(rows)


def test_crosscheck_without_proof_status(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(["crosscheck", "--root", str(tmp_path), "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == {"rows": []}
    assert "missing" in capsys.readouterr().out


def test_crosscheck_bad_proof_status(tmp_path, capsys):
    (tmp_path / "report").mkdir()
    (tmp_path / "report/proof-status.json").write_text("{not json")
    assert main(["crosscheck", "--root", str(tmp_path), "--out", str(tmp_path / "c.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("adcorrect: error: ") and len(err.strip().splitlines()) == 1
    (tmp_path / "report/proof-status.json").write_text(
        json.dumps({"certified": [_row(T5A, LIST, "grad", 1)]}))
    assert main(["crosscheck", "--root", str(tmp_path), "--out", str(tmp_path / "c.json")]) == 2
    assert "bad certified entry" in capsys.readouterr().err


def test_crosscheck_of_batched_and_tied_rows(tmp_path):
    # Coq's certified_t6_hardtanh_batch and certified_conv1d_hardtanh (BatchExamples.v):
    # L(b) = hardtanh(b - 1) + hardtanh(b + 1) over fp(2,2): not differentiable at b = -2
    # and 2, inc at 0; the tied convolution: ndf 4, inc 1 over fp(2,2)
    batched_rows = [
        {"theorem": "certified_t6_hardtanh_batch", "network": "examples/t6-hardtanh.json",
         "batch": "examples/t6-hardtanh-batch.npz", "loss": "sum", "format": "fp(2,2)",
         "quantity": q, "value": v} for q, v in (("ndf", 2), ("inc", 1))] + [
        {"theorem": "certified_conv1d_hardtanh", "network": "tests/specs/conv1d-hardtanh.json",
         "batch": "-", "loss": "-", "format": "fp(2,2)", "quantity": q, "value": v}
        for q, v in (("ndf", 4), ("inc", 1))]
    (tmp_path / "report").mkdir()
    (tmp_path / "report/proof-status.json").write_text(
        json.dumps({"certified": [], "certified_batched": batched_rows}))
    for f in ("examples/t6-hardtanh.json", "examples/t6-hardtanh-batch.npz",
              "tests/specs/conv1d-hardtanh.json"):
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_bytes((ROOT / f).read_bytes())
    out = tmp_path / "report/crosscheck.json"
    assert main(["crosscheck", "--root", str(tmp_path), "--out", str(out), "--quiet"]) == 0
    res = cert.compare(cert.read_certified(tmp_path / "report/proof-status.json"),
                       json.loads(out.read_text()))
    assert [(r["enumerator"], r["smt"], r["status"]) for r in res] == \
        [(2, None, "agree"), (1, None, "agree"), (4, 4, "agree"), (1, 1, "agree")]
    cells = cert.table_rows(res)
    assert cells[0][0] == "examples/t6-hardtanh.json on examples/t6-hardtanh-batch.npz (sum)"
    assert cells[0][5] == "n/a" and cells[2][5] == "4"
