"""Fuzzing helpers: mutations of valid inputs and a guarded in-process CLI run.

A case is an argv plus files to write.  :func:`run_case` runs ``adcorrect.cli.main``
in-process under an alarm and returns what happened; :func:`assert_clean` accepts
exactly two outcomes: exit 0 with output, or exit 2 with one line
``adcorrect: error: ...`` on stderr.  Anything else (a traceback, another status, a
multi-line error, a hang past the time limit) fails the test and should be added to
``tests/fuzz_corpus/`` as a regression case once fixed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CORPUS = Path(__file__).resolve().parent / "fuzz_corpus"

#: Examples per CLI entry in the default suite; ADCORRECT_FUZZ_EXAMPLES raises it.
FUZZ_EXAMPLES = int(os.environ.get("ADCORRECT_FUZZ_EXAMPLES", "2000"))
#: Seconds one case may take before it counts as a hang.
CASE_SECONDS = int(os.environ.get("ADCORRECT_FUZZ_SECONDS", "10"))


class Hang(Exception):
    """A case ran past its time limit."""


@dataclass
class Case:
    """An argv (with ``{dir}`` standing for the case's directory) and files to write."""

    argv: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"argv": self.argv, "files": {k: v if isinstance(v, str) else
                                             {"hex": v.hex()} for k, v in self.files.items()}}

    @staticmethod
    def from_json(obj: dict[str, Any]) -> Case:
        files = {k: v if isinstance(v, str) else bytes.fromhex(v["hex"])
                 for k, v in obj.get("files", {}).items()}
        return Case(list(obj["argv"]), files)


@dataclass
class Outcome:
    rc: int | None
    out: str
    err: str
    exc: BaseException | None


def _alarm(signum: int, frame: Any) -> None:
    raise Hang(f"no answer in {CASE_SECONDS} s")


def run_case(case: Case, workdir: Path) -> Outcome:
    """Write the files, run the CLI in-process under an alarm, capture everything."""
    from adcorrect.cli import main

    workdir.mkdir(parents=True, exist_ok=True)
    for name, content in case.files.items():
        p = workdir / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8", errors="surrogatepass")
    argv = [a.replace("{dir}", str(workdir)) for a in case.argv]
    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    rc: int | None = None
    exc: BaseException | None = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(argv)
    except BaseException as e:  # noqa: BLE001  (everything is a finding)
        exc = e
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return Outcome(rc, out.getvalue(), err.getvalue(), exc)


def assert_clean(case: Case, res: Outcome) -> None:
    """Exit 0 with output, or exit 2 with one `adcorrect: error:` line; nothing else."""
    where = json.dumps(case.to_json())[:2000]
    if res.exc is not None:
        raise AssertionError(f"{type(res.exc).__name__}: {res.exc} on {where}") from res.exc
    if res.rc == 0:
        return
    lines = res.err.splitlines()
    assert res.rc == 2, f"exit {res.rc}, stderr {res.err[:500]!r} on {where}"
    assert len(lines) == 1 and lines[0].startswith("adcorrect: error: "), \
        f"stderr {res.err[:500]!r} on {where}"
    assert res.out == "", f"stdout on error: {res.out[:200]!r} on {where}"


# -- strategies --------------------------------------------------------------------------------

NUMBER_TEXT = st.one_of(
    st.sampled_from(["0", "1", "-1", "1/2", "-3/4", "0.125", "1e-3", "1e1000000000",
                     "1e-1000000000", "nan", "inf", "-inf", "1/0", "", " ", "1e", "e5", "--1",
                     "1_000", "0x10", "1.5.2", "9" * 50, "9" * 5000, "1e999", "1e-999",
                     "+0", "-0", "2**3", "1,2", "true", "null", "1/-2", " 7 "]),
    st.integers(-10**6, 10**6).map(str),
    st.fractions(max_denominator=1000).map(str),
    st.text(alphabet="0123456789+-./eE _,", max_size=8),
)

JSON_LEAF = st.one_of(
    st.sampled_from([None, True, False, 0, 1, -1, 2, 3, 10**12, -(10**12), 10**40, 0.5, -0.0,
                     1e308, float("inf"), float("nan"), 1e-320, "", [], {}]),
    st.integers(-100, 100), NUMBER_TEXT, st.text(alphabet="ab_1 [](){},.:/@-\"'", max_size=6),
    st.sampled_from(["relu", "hardtanh", "leaky_relu(1/8)", "softshrink(1/2)", "hardshrink",
                     "tanh", "identity", "x", "h", "a", "b", "max", "ce", "mse", "linear"]),
)

JSON_VALUE = st.one_of(  # one level of nesting: cheap to draw, deep inputs are tested apart
    JSON_LEAF, st.lists(JSON_LEAF, max_size=3),
    st.dictionaries(st.sampled_from(["name", "units", "activation", "terms", "max", "kind",
                                     "x", "value", "bias", ""]), JSON_LEAF, max_size=3))


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, prefix + (i,))
    return out


def _replace(obj: Any, path: tuple[Any, ...], value: Any, how: str) -> Any:
    if not path:
        return value
    obj = json.loads(json.dumps(obj))
    target = obj
    for k in path[:-1]:
        target = target[k]
    last = path[-1]
    if how == "delete":
        del target[last]
    elif how == "duplicate" and isinstance(target, list):
        target.insert(last, target[last])
    else:
        target[last] = value
    return obj


@st.composite
def mutated_json(draw: st.DrawFn, base: Any) -> str:
    """A JSON text from base with a few structural mutations, sometimes made textual."""
    obj = base
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(obj)
        path = draw(st.sampled_from(paths))
        how = draw(st.sampled_from(["replace", "replace", "delete", "duplicate"]))
        if how != "replace" and not path:
            how = "replace"
        try:
            obj = _replace(obj, path, draw(JSON_VALUE), how)
        except (KeyError, IndexError, TypeError):
            pass
    text = json.dumps(obj, allow_nan=True)
    mode = draw(st.sampled_from(["json", "json", "json", "truncate", "insert"]))
    if mode == "truncate" and text:
        text = text[: draw(st.integers(0, len(text) - 1))]
    elif mode == "insert":
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.text(max_size=4)) + text[i:]
    return text


def example_objects() -> dict[str, Any]:
    """The JSON specs of examples/, v1 and v2."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))}


def corpus_cases() -> list[tuple[str, Case]]:
    """Regression cases that once failed."""
    return [(p.stem, Case.from_json(json.loads(p.read_text())))
            for p in sorted(CORPUS.glob("*.json"))]
