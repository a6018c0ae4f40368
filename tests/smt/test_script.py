"""Solver inputs as data (issue 19): the benchmark-script checker, name escaping in
generated files, and "verified" only with an established status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from adcorrect.core.errors import InputError
from adcorrect.core.files import check_output_path
from adcorrect.smt.executor import CONNECT_TIMEOUT, ExecutorSpec, parse_executor
from adcorrect.smt.generator import Query, generate
from adcorrect.smt.runners import WORKER_ENV, RunResult, mark_disagreements, run_file
from adcorrect.smt.script import ScriptError, Token, check_script, tokens
from adcorrect.smt.smtlib import smt_text, string_literal
from adcorrect.smt.solving import solve
from adcorrect.smt.suite import sample_items
from hypothesis import given, settings
from hypothesis import strategies as st

FAKE = str(Path(__file__).resolve().parent / "fakes" / "fake_solver.py")


def test_tokens_strings_quoted_symbols_comments() -> None:
    text = '(a "x"")(y" |p q;r| ; (set-option)\n b)'
    assert [(t.kind, t.text) for t in tokens(text)] == [
        ("(", "("), ("atom", "a"), ("string", '"x"")(y"'), ("quoted", "|p q;r|"),
        ("atom", "b"), (")", ")")]
    assert list(tokens("x")) == [Token("atom", "x", 0, 1)]


@pytest.mark.parametrize("text,needle", [
    ('(set-option :regular-output-channel "/tmp/x")\n(check-sat)', "(set-option ...)"),
    ("(check-sat)\n(get-model)", "(get-model ...)"),
    ('(echo "hi")(check-sat)', "(echo ...)"),
    ("(push 1)(check-sat)", "(push ...)"),
    ("(reset)(check-sat)", "(reset ...)"),
    ("(declare-datatypes ((L 0)) (((nil))))(check-sat)", "(declare-datatypes ...)"),
    ("(exit)(check-sat)", "(exit) before check-sat"),
    ("(assert true)", "no check-sat"),
    ("(check-sat)(check-sat)", "more than one check-sat"),
    ("(check-sat)(assert true)", "(assert ...) after check-sat"),
    ("(check-sat true)", "check-sat takes no arguments"),
    ("(set-info :status maybe)(check-sat)", "must be sat, unsat or unknown"),
    ("(set-info :status sat)(set-info :status unsat)(check-sat)", "more than one"),
    ("(set-logic A)(set-logic B)(check-sat)", "more than one set-logic"),
    ("assert (check-sat)", "outside a command"),
    ("((check-sat))", "must start with its name"),
    ('(set-info :source "abc)(check-sat)', "unterminated string"),
    ("(set-info :source |abc)(check-sat)", "unterminated quoted symbol"),
    ("(set-info :source |a\\b|)(check-sat)", "backslash"),
    ("(check-sat))", "unbalanced ')'"),
    ("((check-sat)", "must start with its name"),
    ("(assert (and true)(check-sat)", "unbalanced '('"),
    ("(assert tru\x1be)(check-sat)", "character '\\x1b'"),
])
def test_non_benchmarks_are_refused(text: str, needle: str) -> None:
    with pytest.raises(ScriptError) as e:
        check_script(text)
    assert needle in str(e.value)
    assert "\n" not in str(e.value)


def test_commands_inside_strings_comments_and_symbols_are_data() -> None:
    text = ('(set-info :source |(set-option :regular-output-channel "x")|)\n'
            '; (exit) (set-option :x 1)\n(set-logic QF_S)\n(set-info :status sat)\n'
            '(declare-const s String)\n(assert (= s "(get-model)"))\n(check-sat)\n(exit)\n')
    s = check_script(text)
    assert (s.status, s.logic, s.commands) == ("sat", "QF_S", 7)
    assert s.body == text[:text.index("(check-sat)") + len("(check-sat)")] + "\n"


def test_every_sample_file_is_a_benchmark() -> None:
    for item in sample_items():
        s = check_script(generate(item.query))
        assert s.status in ("sat", "unsat", "unknown") and s.logic


def test_smt_text_escapes_or_refuses() -> None:
    assert smt_text("relu-1-2-1 (x)") == "relu-1-2-1 (x)"
    assert smt_text("réseau λ") == "r<U+00E9>seau <U+03BB>"
    for bad in ("a|b", "a\\b", "a\nb", "a\x1bb", "a\rb"):
        with pytest.raises(ValueError):
            smt_text(bad)
    assert string_literal('say "hi"') == '"say ""hi"""'


def _spec(tmp: Path, name: str) -> Path:
    p = tmp / "n.json"
    p.write_text(json.dumps({"name": name, "input": ["1"],
                             "layers": [{"units": 1, "activation": "relu"}]}))
    return p


def test_generated_names_are_escaped(tmp_path: Path) -> None:
    from adcorrect.nets.spec import load_network
    from adcorrect.numbers.formats import parse_format

    fmt = parse_format("fp(3,3)")
    plain = generate(Query(load_network(str(_spec(tmp_path, "net-a"))), fmt, "count"))
    odd = generate(Query(load_network(str(_spec(tmp_path, "net-é"))), fmt, "count"))
    # the name appears in :source and in a comment, escaped; the metadata JSON has \u00e9
    assert odd.replace("net-<U+00E9>", "net-a").replace("net-\\u00e9", "net-a") == plain
    assert odd.isascii()
    for name in ("a|b", 'x\n(set-option :regular-output-channel "p")\n'):
        with pytest.raises(InputError, match="cannot be written into an SMT file"):
            generate(Query(load_network(str(_spec(tmp_path, name))), fmt, "count"))


# -- verified needs an established status ---------------------------------------------------


def _file(tmp: Path, name: str, status: str, extra: str = "") -> Path:
    p = tmp / f"{name}.smt2"
    p.write_text(f"(set-info :status {status})\n; fake: answer\n{extra}(check-sat)\n")
    return p


def test_unknown_status_answers_are_not_verified(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKER_ENV, FAKE)  # the fake answers the file's :status ...
    f = _file(tmp_path, "u", "unknown")
    r = run_file(f, "z3", 5)
    assert (r.verdict, r.verified, r.state, r.established) == ("unknown", False, "unknown", "")
    r = RunResult(str(f), "z3", "sat", "unknown", 0.1)  # ... so a sat answer is made here
    assert (r.verified, r.state) == (False, "not established")
    assert r.to_json()["state"] == "not established"
    assert RunResult.from_json(r.to_json()) == r
    s = run_file(_file(tmp_path, "s", "unsat"), "z3", 5)  # a bare :status is a claim
    assert (s.verdict, s.established, s.verified, s.state) == ("unsat", "", False,
                                                              "not established")
    both = solve([_file(tmp_path, "b", "unsat")], ["z3", "cvc5"], 5).results
    assert [(r.established, r.state) for r in both] == [("solvers agree", "verified")] * 2


def test_two_solvers_agreeing_establish_the_status() -> None:
    rs = [RunResult("f", "z3", "sat", "unknown", 1.0), RunResult("f", "cvc5", "sat",
                                                                 "unknown", 1.0),
          RunResult("g", "z3", "unsat", "unknown", 1.0), RunResult("g", "cvc5", "timeout",
                                                                   "unknown", 1.0)]
    mark_disagreements(rs)
    assert [r.established for r in rs] == ["solvers agree", "solvers agree", "", ""]
    assert [r.state for r in rs] == ["verified", "verified", "not established", "timeout"]


def test_meta_and_status_must_agree(tmp_path: Path) -> None:
    text = generate(sample_items()[0].query)
    status = check_script(text).status
    other = "unsat" if status == "sat" else "sat"
    f = tmp_path / "q.smt2"
    f.write_text(text.replace(f"(set-info :status {status})", f"(set-info :status {other})"))
    with pytest.raises(InputError, match="differ"):
        run_file(f, "z3", 5)


# -- outputs and executors ------------------------------------------------------------------


def test_output_paths_checked(tmp_path: Path) -> None:
    assert check_output_path(tmp_path / "r.json", "--results") == tmp_path / "r.json"
    for bad, needle in ((tmp_path, "a directory"), (tmp_path / "no" / "r.json", "no such folder"),
                        (Path("/dev/full"), "not a regular file")):
        with pytest.raises(InputError, match=needle):
            check_output_path(bad, "--results")


@pytest.mark.parametrize("text", ["dask:foo://bar", "dask:tcp://", "dask:tcp://host",
                                  "dask:tcp://host:0", "dask:tcp://host:99999",
                                  "dask:tcp://h:1/path", "dask:tcp://a b:1", "dask:scheduler:8786",
                                  "dask:inproc://"])
def test_bad_dask_addresses_refused_before_connecting(text: str) -> None:
    with pytest.raises(InputError):
        parse_executor(text)


def test_good_dask_addresses() -> None:
    assert parse_executor("dask:tcp://10.0.0.1:8786") == ExecutorSpec(
        "dask", "tcp://10.0.0.1:8786", CONNECT_TIMEOUT)
    assert parse_executor("dask:tls://sched.example:8786", 2).connect_timeout == 2
    assert parse_executor("dask:tcp://[::1]:8786").address == "tcp://[::1]:8786"
    assert CONNECT_TIMEOUT == 5.0


# -- any text: a checked script or one ScriptError line -------------------------------------

_PIECES = st.sampled_from(["(", ")", " ", "\n", '"', '""', "|", ";", "check-sat", "exit",
                           "set-option", "assert", "set-info", ":status", "sat", "x", "\\",
                           "\x1b", "é", "(check-sat)", "(assert x)"])


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_any_text_is_a_script_or_one_error_line(text: str) -> None:
    try:
        s = check_script(text)
    except ScriptError as e:
        assert "\n" not in str(e) and str(e)
        return
    again = check_script(s.body)  # the solver's copy is a benchmark with the same header
    assert (again.status, again.logic, again.body) == (s.status, s.logic, s.body)
    assert s.body.rstrip("\n").endswith(")")
