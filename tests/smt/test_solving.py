"""Solver runs at scale (issue 11 item 6, issue 12 items 3-4): faults of a solver process
give `error` for that job only, results are journaled and written atomically, an
interrupted run resumes to the same results file, and a Dask LocalCluster gives the same
results as the local pool.  Solvers are faked (tests/fakes/fake_solver.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from adcorrect.cli import main
from adcorrect.smt.executor import ExecutorSpec, parse_executor
from adcorrect.smt.results import Journal, journal_path
from adcorrect.smt.runners import WORKER_ENV, run_file
from adcorrect.smt.solving import solve

FAKE = str(Path(__file__).resolve().parent / "fakes" / "fake_solver.py")


def _file(tmp: Path, name: str, behaviour: str, status: str = "unsat") -> Path:
    path = tmp / f"{name}.smt2"
    path.write_text(f"(set-info :status {status})\n; fake: {behaviour}\n; {name}\n"
                    "(check-sat)\n(exit)\n", encoding="utf-8")
    return path


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKER_ENV, FAKE)


@pytest.mark.parametrize("behaviour,needle", [
    ("crash", "SIGABRT"),
    ("kill", "SIGKILL"),
    ("memory", "memory limit 256 MiB"),
    ("garbage", "unreadable solver output"),
    ("badjson", "unreadable solver output"),
    ("silent", "unreadable solver output"),
])
def test_fault_is_an_error_for_that_job_only(tmp_path: Path, fake: None, behaviour: str,
                                             needle: str) -> None:
    r = run_file(_file(tmp_path, "f", behaviour), "z3", 10, memory_mb=256)
    assert r.verdict == "error" and needle in r.message, r
    assert not r.flag and not r.verified  # counted as not verified, not as a conflict


def test_run_goes_on_after_faults(tmp_path: Path, fake: None) -> None:
    files = [_file(tmp_path, "a", "crash"), _file(tmp_path, "b", "answer"),
             _file(tmp_path, "c", "memory"), _file(tmp_path, "d", "garbage"),
             _file(tmp_path, "e", "answer", "sat")]
    out = solve(files, ["z3", "cvc5"], 10, jobs=2, memory_mb=256,
                results_path=tmp_path / "r.json")
    verdicts = [(Path(r.file).stem, r.solver, r.verdict) for r in out.results]
    assert verdicts == [(s, v, x) for s, x in (("a", "error"), ("b", "unsat"), ("c", "error"),
                                               ("d", "error"), ("e", "sat"))
                        for v in ("z3", "cvc5")]
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["complete"] and data["jobs_done"] == data["jobs_total"] == 10
    assert not journal_path(tmp_path / "r.json").exists()


def _corpus(tmp: Path, n: int, delay: float) -> list[Path]:
    (tmp / "c").mkdir()
    return [_file(tmp / "c", f"q{i:02d}", f"answer {delay}", "sat" if i % 2 else "unsat")
            for i in range(n)]


def test_interrupted_then_resumed_equals_uninterrupted(tmp_path: Path, fake: None) -> None:
    files = _corpus(tmp_path, 8, 0.0)
    full = tmp_path / "full.json"
    solve(files, ["z3", "cvc5"], 10, jobs=2, results_path=full)
    part = tmp_path / "part.json"
    seen = []

    def interrupt(r: object, done: int, total: int) -> None:
        seen.append(done)
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        solve(files, ["z3", "cvc5"], 10, jobs=2, results_path=part, progress=interrupt)
    partial = json.loads(part.read_text())
    assert partial["complete"] is False and partial["jobs_done"] == 5
    assert len(Journal(journal_path(part)).load()) == 5
    # a torn last line (a killed machine) is ignored
    with journal_path(part).open("a") as fh:
        fh.write('{"key": "abc", "res')
    out = solve(files, ["z3", "cvc5"], 10, jobs=2, results_path=part)
    assert out.resumed == 5 and out.complete
    assert part.read_bytes() == full.read_bytes()
    assert not journal_path(part).exists()


def test_changed_file_or_options_are_not_reused(tmp_path: Path, fake: None) -> None:
    files = _corpus(tmp_path, 2, 0.0)
    res = tmp_path / "r.json"
    journal = Journal(journal_path(res))
    with pytest.raises(KeyboardInterrupt):
        solve(files, ["z3"], 10, results_path=res,
              progress=lambda r, d, t: (_ for _ in ()).throw(KeyboardInterrupt))
    assert len(journal.load()) == 1
    assert solve(files, ["z3"], 5, results_path=res).resumed == 0  # another timeout
    with pytest.raises(KeyboardInterrupt):
        solve(files, ["z3"], 10, results_path=res,
              progress=lambda r, d, t: (_ for _ in ()).throw(KeyboardInterrupt))
    files[0].write_text(files[0].read_text() + "; edited\n")
    assert solve(files, ["z3"], 10, results_path=res).resumed == 0  # another file hash


def test_ctrl_c_on_the_cli_resumes(tmp_path: Path) -> None:
    """`smt solve-suite` in a child process: SIGINT mid-run exits 130 with a partial
    results file; the same command again finishes with the uninterrupted run's file."""
    _corpus(tmp_path, 6, 0.4)
    env = dict(os.environ, **{WORKER_ENV: FAKE})
    cmd = [sys.executable, "-m", "adcorrect", "smt", "solve-suite", "--dir",
           str(tmp_path / "c"), "--solver", "z3", "--jobs", "1", "--timeout", "10"]
    full, part = tmp_path / "full.json", tmp_path / "part.json"
    subprocess.run(cmd + ["--results", str(full)], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(cmd + ["--results", str(part)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(Journal(journal_path(part)).load()) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    data = json.loads(part.read_text())
    assert data["complete"] is False and 2 <= data["jobs_done"] < 6
    done = subprocess.run(cmd + ["--results", str(part)], env=env, check=True,
                          capture_output=True, text=True)
    assert "resumed from an interrupted run" in done.stdout
    assert part.read_bytes() == full.read_bytes()


def test_dask_local_cluster_gives_the_same_results(tmp_path: Path, fake: None) -> None:
    files = _corpus(tmp_path, 4, 0.0) + [_file(tmp_path / "c", "zz", "crash")]
    local, dask = tmp_path / "local.json", tmp_path / "dask.json"
    solve(files, ["z3", "cvc5"], 10, jobs=2, results_path=local)
    out = solve(files, ["z3", "cvc5"], 10, jobs=2, executor=ExecutorSpec("dask"),
                results_path=dask)
    assert out.complete

    def norm(path: Path) -> dict:  # a crash's seconds are wall-clock time
        data = json.loads(path.read_text())
        for r in data["results"]:
            if r["verdict"] == "error":
                r["seconds"] = None
        return data

    assert norm(dask) == norm(local)
    assert [r["verdict"] for r in norm(dask)["results"]][-2:] == ["error", "error"]


def test_executor_option(tmp_path: Path, fake: None) -> None:
    assert parse_executor("dask:tcp://10.0.0.1:8786") == ExecutorSpec("dask", "tcp://10.0.0.1:8786")
    f = _file(tmp_path, "a", "answer")
    assert main(["smt", "solve", str(f), "--executor", "spark"]) == 2
    assert main(["smt", "solve", str(f), "--memory", "-1"]) == 2
    assert main(["smt", "solve", str(f), "--jobs", "0"]) == 2
    assert main(["smt", "solve", str(f), "--solver", "z3", "--executor", "local"]) == 0
