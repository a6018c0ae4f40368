"""Hostile inputs of issue 19, replayed: every file of tests/fuzz_corpus/hostile/ is a CLI
case that must end with exit 2 and one short line naming the problem, or with exit 0
and the expected output, and must create no file but its named outputs (its fresh
folder, the path a hostile file tries to make the solver write, and the solvers'
scratch folders are compared before and after).  Solving uses the real z3; the
interrupt tests use the fake solver (tests/smt/fakes/fake_solver.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from adcorrect.core.display import MAX_LINE
from adcorrect.smt.runners import WORKER_ENV

HOSTILE = Path(__file__).resolve().parents[1] / "fuzz_corpus" / "hostile"
FAKE = str(Path(__file__).resolve().parent / "fakes" / "fake_solver.py")
#: Seconds after which a case counts as a hang (a guard, not a performance bound).
HANG_SECONDS = 30


def _listing(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "adcorrect", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=HANG_SECONDS, check=False)


@pytest.mark.parametrize("name", sorted(p.stem for p in HOSTILE.glob("*.json")))
def test_hostile_input(name: str, tmp_path: Path) -> None:
    case = json.loads((HOSTILE / f"{name}.json").read_text(encoding="utf-8"))
    d, scratch = tmp_path / "case", tmp_path / "scratch"
    d.mkdir()
    scratch.mkdir()

    def sub(s: str) -> str:
        return s.replace("{dir}", str(d))

    for rel, text in case["files"].items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(sub(text), encoding="utf-8")
    before = _listing(d)
    untouched = [Path(sub(u)) if Path(sub(u)).is_absolute() else d / u
                 for u in case.get("untouched", [])]
    assert not any(u.exists() for u in untouched)
    env = dict(os.environ, TMPDIR=str(scratch))
    proc = _run([sub(a) for a in case["argv"]], d, env)
    assert "\x1b" not in proc.stdout + proc.stderr  # control characters never printed raw
    assert "Traceback" not in proc.stderr
    assert proc.returncode == case["rc"], proc.stderr
    if case["rc"] == 2:
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("adcorrect: error: "), proc.stderr
        assert len(lines[0]) <= MAX_LINE
        assert case["needle"] in lines[0]
    else:
        stream = case.get("stream", "stdout")
        text = proc.stdout if stream == "stdout" else (d / stream).read_text(encoding="utf-8")
        for needle in [case["needle"], *case.get("also", [])]:
            assert needle in text, text
    assert _listing(d) == sorted(set(before) | set(case.get("outputs", [])))
    assert not any(u.exists() for u in untouched)
    assert _listing(scratch) == []  # the solvers' scratch folders are gone


def test_corpus_covers_every_finding() -> None:
    """One case at least per finding of issue 19."""
    names = {p.stem for p in HOSTILE.glob("*.json")}
    for needed in ("solve-set-option-regular-output-channel", "generate-name-pipe",
                   "generate-name-non-ascii", "solve-unknown-status-z3-alone",
                   "solve-exit-first", "suite-results-is-a-folder",
                   "suite-json-out-missing-folder", "suite-results-dev-full",
                   "suite-dask-bad-scheme", "suite-dask-unreachable", "generate-huge-format",
                   "generate-name-ansi"):
        assert needed in names


# -- interrupts -----------------------------------------------------------------------------


def _start_suite(tmp_path: Path, n: int) -> tuple[subprocess.Popen[str], Path, list[int]]:
    """solve-suite over n fake files that each take 30 s, with n jobs; returns once every
    fake solver process has started (their pids)."""
    c, pids = tmp_path / "c", tmp_path / "pids"
    c.mkdir()
    pids.mkdir()
    for i in range(n):
        (c / f"f{i}.smt2").write_text(f"(set-info :status unsat)\n; fake: answer 30\n; {i}\n"
                                      "(check-sat)\n", encoding="utf-8")
    env = dict(os.environ, **{WORKER_ENV: FAKE, "FAKE_PID_DIR": str(pids)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "adcorrect", "smt", "solve-suite", "--dir", str(c), "--solver",
         "z3", "--jobs", str(n), "--timeout", "60", "--results", str(tmp_path / "r.json")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + HANG_SECONDS
    while len(list(pids.glob("*.pid"))) < n:
        assert time.monotonic() < deadline, "the fake solvers did not start"
        time.sleep(0.05)
    return proc, pids, [int(p.stem) for p in pids.glob("*.pid")]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_gone(pids: list[int]) -> list[int]:
    deadline = time.monotonic() + HANG_SECONDS
    while any(map(_alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def test_sigint_kills_running_solvers(tmp_path: Path) -> None:
    """Ctrl-C stops the run without waiting for the running jobs' time limits: the solver
    processes are killed and their scratch folders removed; exit 130."""
    proc, pids, started = _start_suite(tmp_path, 2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=HANG_SECONDS)
    assert proc.returncode == 130, err
    assert _wait_gone(started) == []
    for f in pids.glob("*.pid"):
        assert not Path(f.read_text()).exists()  # the scratch folder of that solver


def test_second_sigint_also_ends_the_run(tmp_path: Path) -> None:
    proc, _, started = _start_suite(tmp_path, 2)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=HANG_SECONDS)
    assert proc.returncode in (130, -signal.SIGINT)
    assert _wait_gone(started) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_sigkill_of_the_run_kills_its_solvers(tmp_path: Path) -> None:
    """The solvers die with the run even when it is SIGKILLed (no orphans)."""
    proc, _, started = _start_suite(tmp_path, 2)
    proc.kill()
    proc.communicate(timeout=HANG_SECONDS)
    assert _wait_gone(started) == []
