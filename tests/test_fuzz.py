"""Fuzzing every CLI entry (hostile input): mutated specs (v1 and v2), parameter strings,
choices, format strings, dtypes, batch files and model files through `formats`, `check`,
`count`, `audit` and `smt generate`.  Every case must end with exit 0, or exit 2 and one line, within the
time limit: never a traceback, another status or a hang.  ADCORRECT_FUZZ_EXAMPLES
(default 2000) sets the examples per entry; failures found once are kept in
tests/fuzz_corpus/ and replayed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fuzzing import (
    FUZZ_EXAMPLES,
    NUMBER_TEXT,
    Case,
    assert_clean,
    corpus_cases,
    example_objects,
    mutated_json,
    run_case,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SPECS = example_objects()
SETTINGS = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck), database=None)
WORK = Path(tempfile.mkdtemp(prefix="adcorrect-fuzz-",
                             dir="/dev/shm" if Path("/dev/shm").is_dir() else None))


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    # keep every accepted case small: the point is the parsers, not long enumerations
    monkeypatch.setenv("ADCORRECT_MAX_POINTS", "3000")
    monkeypatch.setenv("ADCORRECT_MAX_NEURONS", "400")


PARAMS = st.one_of(
    st.lists(NUMBER_TEXT, max_size=8).map(",".join),
    st.lists(st.integers(-3, 3).map(str), min_size=1, max_size=14).map(",".join),
    st.text(alphabet="0123456789,-+/.eE xa", max_size=20),
)
CHOICE = st.one_of(st.sampled_from(["pytorch", "left", "right", "1/2", "0", "nan", "middle",
                                    "1e999999999", "", "-1"]), NUMBER_TEXT)
FORMAT = st.one_of(
    st.sampled_from(["fp(2,2)", "fp(3,3)", "e2m1", "int(3,1)", "list(-1,0,1)", "fp16", "bf16",
                     "e4m3fn", "int8", "fp(2,1000)", "fp(30,3)", "int(0,1)", "list()",
                     "list(1e1000000000)", "fp(2)", "int(3,1/0)", "FP(2, 2)", "list(1,1,1)",
                     "list(-1,-1/2,0,1/2,1)", "fp(-1,2)", "fp(2,2", "e5m2", "binary32"]),
    st.builds(lambda a, b: f"fp({a},{b})", st.integers(-2, 25), st.integers(-2, 30)),
    st.builds(lambda a, b: f"int({a},{b})", st.integers(-2, 70), NUMBER_TEXT),
    st.lists(NUMBER_TEXT, max_size=5).map(lambda xs: f"list({','.join(xs)})"),
    st.text(alphabet="fpintlse0123456789(),./-+ ", max_size=15),
)
SPEC_TEXT = st.sampled_from(sorted(SPECS)).flatmap(lambda k: st.one_of(
    mutated_json(SPECS[k]), st.just(__import__("json").dumps(SPECS[k]))))


@st.composite
def batch_bytes(draw: st.DrawFn) -> bytes:
    """An .npz batch: mostly plausible shapes and values, sometimes broken."""
    import io

    B = draw(st.integers(0, 3))
    d = draw(st.integers(0, 3))
    pool = np.array([0.0, 1.0, -1.0, 0.5, 2.0, np.nan, np.inf, -0.0, 1e308])
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.choice(pool, size=(B, d)) if draw(st.booleans()) else rng.choice(pool[:5], (B, d))
    y = rng.choice(pool[:5], size=(draw(st.integers(0, 3)), draw(st.integers(0, 2))))
    buf = io.BytesIO()
    kind = draw(st.sampled_from(["ok", "ok", "no_y", "garbage", "object"]))
    if kind == "garbage":
        return draw(st.binary(max_size=64))
    if kind == "no_y":
        np.savez(buf, x=x)
    elif kind == "object":
        np.savez(buf, x=np.array([["1", "a"]]), y=y)
    else:
        np.savez(buf, x=x, y=y)
    return buf.getvalue()


def _run(case: Case) -> None:
    assert_clean(case, run_case(case, WORK))


@SETTINGS
@given(st.lists(st.sampled_from(["--json", "--bogus", "-h", "x", "--json=1"]), max_size=2))
def test_fuzz_formats(extra: list[str]) -> None:
    if "-h" in extra:
        return  # argparse's help exits 0 through SystemExit by design
    _run(Case(["formats", *extra]))


@SETTINGS
@given(spec=SPEC_TEXT, params=st.one_of(st.none(), PARAMS), choice=st.one_of(st.none(), CHOICE),
       oracle=st.sampled_from([None, "fast", "independent", "bogus"]),
       budget=st.one_of(st.none(), st.sampled_from(["1", "0", "-5", "x", "100"])),
       batch=st.one_of(st.none(), batch_bytes()),
       loss=st.sampled_from([None, "mse", "ce", "sum", "hinge"]))
def test_fuzz_check(spec: str, params: str | None, choice: str | None, oracle: str | None,
                    budget: str | None, batch: bytes | None, loss: str | None) -> None:
    argv = ["check", "{dir}/spec.json"]
    files: dict[str, str | bytes] = {"spec.json": spec}
    if params is not None:
        argv.append(f"--params={params}")
    if choice is not None:
        argv.append(f"--choice={choice}")
    if oracle is not None:
        argv.append(f"--oracle={oracle}")
    if budget is not None:
        argv.append(f"--budget={budget}")
    if batch is not None:
        files["b.npz"] = batch
        argv += ["--batch", "{dir}/b.npz"]
    if loss is not None:
        argv.append(f"--loss={loss}")
    _run(Case(argv + ["--json"], files))


@SETTINGS
@given(spec=SPEC_TEXT, fmt=FORMAT, oracle=st.sampled_from([None, "fast", "independent"]),
       choice=st.one_of(st.none(), CHOICE))
def test_fuzz_count(spec: str, fmt: str, oracle: str | None, choice: str | None) -> None:
    # (no --force: it lifts the point limit on purpose, so a long count is by design)
    argv = ["count", "{dir}/spec.json", f"--format={fmt}", "--quiet", "--json"]
    if oracle:
        argv.append(f"--oracle={oracle}")
    if choice is not None:
        argv.append(f"--choice={choice}")
    _run(Case(argv, {"spec.json": spec}))


QUERIES = st.sampled_from(["ns-implies-ndf", "ndf-implies-ns", "ndf-implies-ns-sides",
                           "ad-correct", "inc-witness", "count", "clarke-combination",
                           "bias-unique", "float-kink", "float-bifurcation", "nope", ""])


@SETTINGS
@given(spec=SPEC_TEXT, fmt=FORMAT, query=QUERIES, choice=st.one_of(st.none(), CHOICE),
       semantics=st.sampled_from([None, "exact", "ieee", "quantum"]),
       expect=st.sampled_from([None, "sat", "unsat", "unknown", "maybe"]))
def test_fuzz_smt_generate(spec: str, fmt: str, query: str, choice: str | None,
                           semantics: str | None, expect: str | None) -> None:
    argv = ["smt", "generate", "{dir}/spec.json", f"--format={fmt}", f"--query={query}",
            "-o", "{dir}/q.smt2"]
    if choice is not None:
        argv.append(f"--choice={choice}")
    if semantics is not None:
        argv.append(f"--semantics={semantics}")
    if expect is not None:
        argv.append(f"--expect={expect}")
    _run(Case(argv, {"spec.json": spec}))


@pytest.mark.parametrize("name,case", corpus_cases() or [("none", None)])
def test_fuzz_corpus(name: str, case: Any) -> None:
    if case is None:
        pytest.skip("empty corpus")
    _run(case)


MODEL = (Path(__file__).resolve().parents[1] / "examples/torch-mlp.pt").read_bytes()
BATCH = (Path(__file__).resolve().parents[1] / "examples/torch-batch.pt").read_bytes()


@st.composite
def mutated_bytes(draw: st.DrawFn, base: bytes) -> bytes:
    """base with a few byte flips, a truncation or an insertion."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "flip", "truncate", "insert", "zero"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[i:]
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        else:
            data[i:i + 16] = bytes(len(data[i:i + 16]))
    return bytes(data)


@SETTINGS
@given(model=st.one_of(mutated_bytes(MODEL), st.just(MODEL)),
       batch=st.one_of(mutated_bytes(BATCH), st.just(BATCH)),
       loss=st.sampled_from(["ce", "mse", "sum"]))
def test_fuzz_model_files(model: bytes, batch: bytes, loss: str) -> None:
    # never with --trust-model: unpickling a mutated pickle with code allowed could run
    # anything; the point is that the default (weights_only) loader refuses cleanly
    argv = ["check", "{dir}/m.pt", "--batch", "{dir}/b.pt", f"--loss={loss}", "--json"]
    _run(Case(argv, {"m.pt": model, "b.pt": batch}))


DTYPE = st.one_of(st.sampled_from(["fp32", "bf16", "fp16", "fp64", "e4m3fn", "e5m2", "int8:1/128",
                                   "int8:0", "int8:-1", "int8:1e1000000000", "int8:", "fp8",
                                   "int8:x", "", "FP32", "int8:1/3"]),
                  st.text(alphabet="fpintbe0123456789:/.", max_size=10))


@SETTINGS
@given(model=st.one_of(mutated_bytes(MODEL), st.just(MODEL)),
       batch=st.one_of(mutated_bytes(BATCH), st.just(BATCH)),
       loss=st.sampled_from(["ce", "mse", "sum", "hinge"]), dtype=st.one_of(st.none(), DTYPE),
       choice=st.one_of(st.none(), CHOICE),
       budget=st.one_of(st.none(), st.sampled_from(["1", "0", "x", "100"])))
def test_fuzz_audit(model: bytes, batch: bytes, loss: str, dtype: str | None,
                    choice: str | None, budget: str | None) -> None:
    argv = ["audit", "{dir}/m.pt", "--batch", "{dir}/b.pt", f"--loss={loss}", "--json",
            "--inc-out", "{dir}/inc.json"]
    if dtype is not None:
        argv.append(f"--dtype={dtype}")
    if choice is not None:
        argv.append(f"--choice={choice}")
    if budget is not None:
        argv.append(f"--budget={budget}")
    _run(Case(argv, {"m.pt": model, "b.pt": batch}))


SAMPLE = sorted((Path(__file__).resolve().parents[1] / "smt/sample").glob("*.smt2"))


@st.composite
def smt_text(draw: st.DrawFn) -> str:
    """A sample SMT file with a few textual mutations (its metadata line included)."""
    text = SAMPLE[draw(st.integers(0, len(SAMPLE) - 1))].read_text()
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, max(0, len(text) - 1)))
        kind = draw(st.sampled_from(["delete", "insert", "truncate", "meta"]))
        if kind == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 40)):]
        elif kind == "insert":
            text = text[:i] + draw(st.sampled_from(["(", ")", "(check-sat)", "\x00", "é",
                                                    '"', "{", "}", "; adcorrect-meta: {",
                                                    "(assert false)", "1e999"])) + text[i:]
        elif kind == "truncate":
            text = text[:i]
        else:
            j = text.find("adcorrect-meta:")
            if j >= 0:
                text = text[:j + 15] + draw(mutated_json({"query": "count", "expected": "sat",
                                                          "format": "fp(3,3)"})) + \
                    text[text.find("\n", j):]
    return text


@SETTINGS
@given(text=smt_text(), solver=st.sampled_from(["z3", "cvc5", "bitwuzla", "all", "nope", ""]),
       timeout=st.sampled_from(["0.2", "0", "-1", "x", "1e999", "0.5"]),
       jobs=st.sampled_from(["1", "2", "0", "x"]),
       memory=st.sampled_from([None, "0", "512", "-5", "x"]))
def test_fuzz_smt_solve(text: str, solver: str, timeout: str, jobs: str,
                        memory: str | None) -> None:
    # an accepted case starts solver processes (about 0.1 s each); most cases are refused
    # before that, by the options or the file
    argv = ["smt", "solve", "{dir}/q.smt2", f"--solver={solver}", f"--timeout={timeout}",
            f"--jobs={jobs}", "--json"]
    if memory is not None:
        argv.append(f"--memory={memory}")
    res = run_case(Case(argv, {"q.smt2": text}), WORK)
    if res.rc == 1 and res.exc is None:
        return  # a flagged run (e.g. a mutated status contradicted by the solver) is exit 1
    assert_clean(Case(argv, {"q.smt2": text}), res)
