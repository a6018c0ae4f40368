"""`python -m adcorrect audit`: bad input exits 2 with one line (no traceback).  Run in
process (`adcorrect.cli.main`, which is what `python -m adcorrect` calls) to stay fast."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from adcorrect.cli import main
from torch import nn

pytestmark = pytest.mark.usefixtures("float32_default")


def _files(tmp: Path) -> dict[str, Path]:
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    torch.save(mlp, tmp / "mlp.pt")
    torch.save({"x": torch.zeros(3, 4), "y": torch.tensor([0, 1, 1])}, tmp / "ok.pt")
    torch.save({"x": torch.zeros(3, 5), "y": torch.tensor([0, 1, 1])}, tmp / "shape.pt")
    torch.save({"x": torch.zeros(3, 4), "y": torch.tensor([0, 1])}, tmp / "count.pt")
    torch.save({"x": torch.zeros(3, 4), "y": torch.tensor([0, 1, 7])}, tmp / "class.pt")
    torch.save(mlp.state_dict(), tmp / "state.pt")
    torch.save(nn.Sequential(nn.Linear(4, 3), nn.Hardshrink(), nn.Linear(3, 2)), tmp / "sig.pt")
    bad = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        bad[0].weight[1, 2] = float("nan")
    torch.save(bad, tmp / "nan.pt")
    (tmp / "junk.pt").write_bytes(b"not a model")
    return {p.stem: p for p in tmp.iterdir()}


CASES = {
    "wrong batch shape": ("mlp", "shape", ["--loss", "ce"]),
    "x and y counts differ": ("mlp", "count", ["--loss", "ce"]),
    "class out of range": ("mlp", "class", ["--loss", "ce"]),
    "not a module (state_dict)": ("state", "ok", ["--loss", "ce"]),
    "not a torch file": ("junk", "ok", ["--loss", "ce"]),
    "unsupported op": ("sig", "ok", ["--loss", "ce"]),
    "unknown dtype": ("mlp", "ok", ["--loss", "ce", "--dtype", "fp7"]),
    "bad int8 scale": ("mlp", "ok", ["--loss", "ce", "--dtype", "int8:1/3"]),
    "non-finite parameter": ("nan", "ok", ["--loss", "ce"]),
    "unknown loss": ("mlp", "ok", ["--loss", "hinge"]),
    "mse targets of the wrong shape": ("mlp", "ok", ["--loss", "mse"]),
    "missing batch file": ("mlp", "nothere", ["--loss", "ce"]),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _files(tmp_path_factory.mktemp("audit"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_2_with_one_line(files: dict[str, Path], case: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    model, batch, extra = CASES[case]
    bpath = files.get(batch, files["mlp"].parent / f"{batch}.pt")
    rc = main(["audit", str(files[model]), "--batch", str(bpath), *extra])
    out, err = capsys.readouterr()
    assert rc == 2, (case, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("adcorrect: error: "), (case, err)
    assert out == ""


def test_good_run_prints_both_audits(files: dict[str, Path]) -> None:
    res = subprocess.run([sys.executable, "-m", "adcorrect", "audit", str(files["mlp"]),
                          "--batch", str(files["ok"]), "--loss", "ce", "--dtype", "e4m3fn"],
                         check=False, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "exact (real arithmetic)" in res.stdout and "execution (torch)" in res.stdout
    assert "e4m3fn" in res.stdout
