"""The SMT-LIB tree's range queries, established statuses and solve-time table."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from adcorrect.numbers.formats import parse_format
from adcorrect.smt import established, submission, suite
from adcorrect.smt.cactus import sample, table
from adcorrect.smt.decode import check_point
from adcorrect.smt.fprange import violation
from adcorrect.smt.generator import Query, generate
from adcorrect.smt.runners import RunResult
from adcorrect.smt.smtlib import check_text

F = Fraction


@pytest.mark.parametrize("w,why", [
    ((F(1, 16), F(-16), F(3, 2)), None),
    ((F(1, 32), F(1)), "|w0| = 1/32 is outside [1/16, 16]"),
    ((F(1), F(17)), "|w1| = 17 is outside [1/16, 16]"),
    ((F(0), F(1)), "|w0| = 0 is outside [1/16, 16]"),
    ((F(2), F(3), F(-2)), "|w0| = |w2|"),
])
def test_range_violation(w: tuple[Fraction, ...], why: str | None) -> None:
    assert violation(w) == why


def test_range_file_text() -> None:
    """A range file of relu-1-2-1 (W = 7) in fp16: QF_FP, compliant, 7 bounds and 21
    pairwise magnitude constraints; without an upper bound where 16 overflows."""
    net = suite.dense("1-2-1", "relu")
    text = generate(Query(net, parse_format("fp16"), "float-kink-range", expected="unknown"))
    assert "(set-logic QF_FP)" in text and check_text(text) == []
    assert text.count("(fp.leq k1d16 (fp.abs p") == 7 and text.count("k16)))") == 7
    assert text.count("(assert (not (fp.eq (fp.abs p") == 21
    small = generate(Query(net, parse_format("fp(3,3)"), "float-kink-range",
                           expected="unknown"))
    assert "k16" not in small and small.count("(assert (fp.leq k1d16 (fp.abs p") == 7


def test_range_point_check() -> None:
    """relu-1-2-1 at x = 1, parameters (a0, a1, b0, b1, c0, c1, d): a0 = 2, b0 = -1 give
    z0 = 1; a1 = 3, b1 = -1/2 give z1 = 5/2; then c0 z0 + c1 z1 + d = 4 - 20 + 16 = 0
    exactly in fp16: the output neuron is at its kink, magnitudes 2, 3, 1, 1/2, 4, 8, 16
    all different.  a0 = 1/2, b0 = -1/2 puts neuron 0 at its kink, but |a0| = |b0|."""
    net = suite.dense("1-2-1", "relu")
    fmt = parse_format("fp16")
    good = [F(2), F(3), F(-1), F(-1, 2), F(4), F(-8), F(16)]
    assert check_point(net, fmt, "pytorch", "float-kink", good).ok
    assert check_point(net, fmt, "pytorch", "float-kink-range", good).ok
    sym = [F(1, 2), F(3), F(-1, 2), F(5), F(7), F(9), F(11)]
    assert check_point(net, fmt, "pytorch", "float-kink", sym).ok
    c = check_point(net, fmt, "pytorch", "float-kink-range", sym)
    assert not c.ok and c.message.startswith("|w0| = |w2|")


def test_established_table_entries() -> None:
    """Every recorded status is sat, unsat or unknown; sat points satisfy their query
    exactly and lie in the range; unsat ones were answered by at least two solvers;
    unknown ones were tried by every solver that takes the file, each up to the limit."""
    table = established.load()
    assert table
    items = {established.key(it): it for it in
             [*suite.items(), *submission.range_items()]}
    for k, rec in table.items():
        assert rec["status"] in ("sat", "unsat", "unknown"), k
        assert k in items, k
        if rec["status"] == "unsat":
            assert len(rec["runs"]) >= 2
        elif rec["status"] == "unknown":
            assert set(rec["runs"]) == {"z3", "cvc5", "bitwuzla"}
            assert min(rec["runs"].values()) >= rec["timeout"]
        else:
            q = items[k].query
            w = [Fraction(x) for x in rec["point"]]
            assert check_point(q.net, q.fmt, q.choice, q.family, w).ok, k


def test_established_unsat_agrees_with_z3() -> None:
    """z3, in process, on the small (bf-relu-1-2-1) files whose unsat status the table
    establishes: it answers unsat too."""
    import z3

    table = established.load()
    items = {established.key(it): it for it in suite.items()}
    small = [k for k, rec in table.items() if "bf-relu-1-2-1" in k and rec["status"] == "unsat"]
    assert len(small) == 9
    for k in small:
        text = generate(established.apply(items[k], table).query)
        assert "(set-info :status unsat)" in text and "answer unsat" in text
        s = z3.Solver()
        s.set("timeout", 20_000)
        s.from_string(text)
        assert str(s.check()) == "unsat", k


def test_apply_refuses_a_wrong_point() -> None:
    item = next(it for it in submission.range_items()
                if established.key(it) == "float-kink-range/relu-1-2-1--fp16")
    bad = {"float-kink-range/relu-1-2-1--fp16": {
        "status": "sat", "runs": {"bitwuzla": 0.1}, "timeout": 20.0,
        "point": ["1", "1", "1", "1", "1", "1", "1"]}}
    from adcorrect.core.errors import InputError

    with pytest.raises(InputError, match="no longer satisfies"):
        established.apply(item, bad)


def test_reason_text() -> None:
    assert established.reason({"status": "unknown", "runs": {"z3": 21.0, "cvc5": 25.0},
                               "timeout": 20.0}) == (
        "nothing: cvc5, z3 give no answer within 20 s, no theorem applies and no structured "
        "witness was found")
    rec = {"status": "unsat", "runs": {"z3": 0.125, "cvc5": 0.3}, "timeout": 20.0,
           "argument": "f = relu(w0) - relu(w1)"}
    assert established.reason(rec) == (
        "two or more solvers answer unsat and none sat (cvc5 1.4.2 in 0.30 s and z3 5.4.1 "
        "in 0.12 s, 20 s limit each); argument: f = relu(w0) - relu(w1)")


def _result(file: str, solver: str, verdict: str, seconds: float, flag: str = "") -> RunResult:
    # the tree's statuses are established (two solvers or a re-checked model)
    return RunResult(file, solver, verdict, "sat", seconds, flag=flag,
                     established="solvers agree")


def test_solve_table(tmp_path: Path) -> None:
    """Solved = verified sat/unsat; skipped runs are not tried; a QF_FP file is slow
    when some solver takes over 1 s or times out."""
    t = tmp_path
    a = str(t / "non-incremental/QF_FP/s/f/a.smt2")
    b = str(t / "non-incremental/QF_FP/s/f/b.smt2")
    c = str(t / "non-incremental/QF_LRA/s/f/c.smt2")
    rs = [_result(a, "z3", "sat", 0.5), _result(a, "cvc5", "timeout", 20.0),
          _result(a, "bitwuzla", "sat", 0.1),
          _result(b, "z3", "sat", 0.2), _result(b, "cvc5", "unsat", 0.3, "DISAGREE"),
          _result(b, "bitwuzla", "sat", 0.9),
          _result(c, "z3", "unsat", 2.0), _result(c, "cvc5", "unknown", 0.1),
          _result(c, "bitwuzla", "skipped", 0.0)]
    text = table(rs, t, 20.0)
    assert "| QF_FP | 2 | 2/2 | 0/2 | 2/2 |" in text
    assert "| QF_LRA | 1 | 1/1 | 0/1 | - |" in text
    assert "QF_FP: 1 of 2 files take some solver over 1 s" in text


def test_sample_is_evenly_spaced(tmp_path: Path) -> None:
    for i in range(10):
        p = tmp_path / "non-incremental" / "QF_FP" / "s" / f"f{i}.smt2"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("")
    got = [p.name for p in sample(tmp_path, 4)]
    assert got == ["f0.smt2", "f2.smt2", "f5.smt2", "f7.smt2"]
    assert len(sample(tmp_path, 0)) == 10


@pytest.mark.parametrize("text,folded", [
    ("(assert (= (* (- 1 0) (- 1 0) x) x))", "(assert (= (* 1 x) x))"),
    ("(assert (= (+ x 2.0 (* 3 x) (- 1.0)) x))", "(assert (= (+ 1.0 x (* 3 x)) x))"),
    ("(assert (= (* (- 1.0 0.0) x) 1.0))", "(assert (= (* 1.0 x) 1.0))"),
    ("(define-fun t0 () Real 0.0)\n(define-fun w () Real (* (- 1.0 t0) (- 1.0 t0)))",
     "(define-fun t0 () Real 0.0)\n(define-fun w () Real 1.0)"),
    ("(define-fun c () Real (- (/ 3.0 2.0)))\n(define-fun d () Real (* c (- 2.0) x))",
     "(define-fun c () Real (- (/ 3.0 2.0)))\n(define-fun d () Real (* 3.0 x))"),
    ("(define-fun c () Real (* 3.0 (- 0.5)))", "(define-fun c () Real (- (/ 3.0 2.0)))"),
    ("(assert (= (/ 1.0 (- 1.0 1.0)) x))", "(assert (= (/ 1.0 0.0) x))"),
    ("(define-fun t () Real 2.0)\n(define-fun g ((t Real)) Real (* t t))",
     "(define-fun t () Real 2.0)\n(define-fun g ((t Real)) Real (* t t))"),
    ("; (* 2.0 3.0) in a comment\n(assert (< x (+ 1.0 2.0 (- 3))))",
     "; (* 2.0 3.0) in a comment\n(assert (< x 0.0))"),
])
def test_fold_text(text: str, folded: str) -> None:
    from adcorrect.smt.fold import fold_text

    assert fold_text(text) == folded


def test_folded_file_is_linear_for_z3() -> None:
    """The clarke-combination file of bf-relu-1-2-1 in e2m1 has weights (1 - t0)(1 - t1)
    with t_k = 0: folded, it is QF_LRA and z3 accepts it in that logic (unsat)."""
    import z3

    text = generate(Query(suite.bf121(), parse_format("e2m1"), "clarke-combination"))
    assert "(set-logic QF_LRA)" in text and "(define-fun weightsLL () Real 1.0)" in text
    s = z3.Solver()
    s.from_string(text)
    assert str(s.check()) == "unsat"
