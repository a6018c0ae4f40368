"""Resource limits (issue: hostile input): every reproducer gives one line and exit 2 at
once, naming the limit and how to raise it; raising the limit lets the input through."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from adcorrect.cli import main
from adcorrect.core.limits import LIMITS, limit, magnitude

ROOT = Path(__file__).resolve().parents[2]
T5A = str(ROOT / "examples/t5a.json")
R121 = str(ROOT / "examples/relu-1-2-1.json")


def write(tmp: Path, name: str, text: str) -> str:
    p = tmp / name
    p.write_text(text)
    return str(p)


def cases(tmp: Path) -> dict[str, tuple[list[str], str]]:
    """case -> (argv, the environment variable the message must name)."""
    units = '{"input": ["1"], "layers": [{"units": %d, "activation": "relu"}]}'
    return {
        "units_1e8": (["check", write(tmp, "u8.json", units % 10**8), "--params=1"],
                      "ADCORRECT_MAX_NEURONS"),
        "units_1e12": (["check", write(tmp, "u12.json", units % 10**12), "--params=1"],
                       "ADCORRECT_MAX_NEURONS"),
        "params_1e1000000000": (["check", T5A, "--params=1e1000000000,1,1"],
                                "ADCORRECT_MAX_EXPONENT"),
        "params_1e-1000000000": (["check", T5A, "--params=1e-1000000000,1,1"],
                                 "ADCORRECT_MAX_EXPONENT"),
        "choice_1e999999999": (["check", T5A, "--params=0,1,-1", "--choice", "1e999999999"],
                               "ADCORRECT_MAX_EXPONENT"),
        "format_list_1e1000000000": (["count", T5A, "--format", "list(1e1000000000)"],
                                     "ADCORRECT_MAX_EXPONENT"),
        "json_int_5000_digits": (["check", write(tmp, "d.json", '{"input": [%s], "layers": '
                                                 '[{"units": 1, "activation": "relu"}]}'
                                                 % ("7" * 5000)), "--params=1,1"],
                                 "ADCORRECT_MAX_DIGITS"),
        "json_input_100000_deep": (["check", write(tmp, "deep.json", '{"input": '
                                                   + "[" * 100000 + "]" * 100000
                                                   + ', "layers": []}'), "--params=1"],
                                   "ADCORRECT_MAX_JSON_DEPTH"),
        "json_layers_5000_deep": (["check", write(tmp, "deepl.json", '{"input": ["1"], '
                                                  '"layers": ' + "[" * 5000 + "]" * 5000 + "}"),
                                   "--params=1"], "ADCORRECT_MAX_JSON_DEPTH"),
        "count_fp_2_1000": (["count", R121, "--format", "fp(2,1000)"], "ADCORRECT_MAX_POINTS"),
        "params_long_numerator": (["check", T5A, f"--params={'9' * 5000},1,1"],
                                  "ADCORRECT_MAX_DIGITS"),
    }


@pytest.fixture(scope="module")
def argvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[str], str]]:
    return cases(tmp_path_factory.mktemp("limits"))


CASE_NAMES = ["units_1e8", "units_1e12", "params_1e1000000000", "params_1e-1000000000",
              "choice_1e999999999", "format_list_1e1000000000", "json_int_5000_digits",
              "json_input_100000_deep", "json_layers_5000_deep", "count_fp_2_1000",
              "params_long_numerator"]


def test_case_names(argvs: dict[str, tuple[list[str], str]]) -> None:
    assert sorted(argvs) == sorted(CASE_NAMES)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_reproducer(case: str, argvs: dict[str, tuple[list[str], str]],
                    capsys: pytest.CaptureFixture[str]) -> None:
    argv, env = argvs[case]
    t0 = time.perf_counter()
    rc = main(argv)
    dt = time.perf_counter() - t0
    out, err = capsys.readouterr()
    assert rc == 2 and out == "", (rc, out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("adcorrect: error: ")
    assert env in lines[0] or case == "count_fp_2_1000" and "--force" in lines[0]
    assert len(lines[0]) < 300  # no thousands of digits in a message
    assert dt < 5, dt  # a hang guard; measured well under a second (see the issue note)


def test_reproducers_as_processes(argvs: dict[str, tuple[list[str], str]]) -> None:
    """Two reproducers as real processes: no traceback, one line."""
    for case in ("units_1e8", "params_1e1000000000"):
        res = subprocess.run([sys.executable, "-m", "adcorrect", *argvs[case][0]],
                             capture_output=True, text=True, timeout=60, check=False)
        assert res.returncode == 2 and len(res.stderr.splitlines()) == 1, res.stderr
        assert "Traceback" not in res.stderr


def test_raising_a_limit_lets_input_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ADCORRECT_MAX_EXPONENT", "2000")
    assert main(["check", T5A, "--params=1e1500,1,-1", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["params"]["w1[0][0]"] == "1" + "0" * 1500
    monkeypatch.setenv("ADCORRECT_MAX_NEURONS", "2")
    assert main(["check", R121, "--params=1,1,1,1,1,1,1"]) == 2
    assert "ADCORRECT_MAX_NEURONS" in capsys.readouterr().err
    monkeypatch.setenv("ADCORRECT_MAX_NEURONS", "nope")
    assert main(["check", R121, "--params=1,1,1,1,1,1,1"]) == 2
    assert "expected a positive integer" in capsys.readouterr().err


def test_limits_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["limits", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert set(res) == set(LIMITS)
    assert res["points"]["value"] == 10**10 == limit("points")
    assert magnitude(10**2170) == "10^2170" and magnitude(11**2170) == "about 10^2259"
    assert magnitude(12345) == "12345" and magnitude(10**10) == "10^10"
