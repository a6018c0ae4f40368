"""Hostile inputs of issue 19 (items 4-6), replayed: each case's files are built here (many
are binary), the CLI runs in-process under an alarm of ADCORRECT_HOSTILE_SECONDS (default
2) seconds, and the case must end with exit 2 and one line naming the problem (or exit 0
with the exact answer); no file may appear in the case's folder or the working folder
beyond the named output paths.  A few cases also run as ``python -m adcorrect``.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import fuzzing
import numpy as np
import pytest
import torch
from fuzzing import Case, run_case
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
SECONDS = int(os.environ.get("ADCORRECT_HOSTILE_SECONDS", "2"))

#: explicit dtypes: other tests may change torch's default dtype
F32 = torch.float32
SPEC = {"input": ["1", "2"], "layers": [{"units": 1, "activation": "relu"}]}


# -- builders: each writes its files into the case folder --------------------------------


def _spec(d: Path) -> None:
    (d / "spec.json").write_text(json.dumps(SPEC))


def _small_batch(d: Path) -> None:
    np.savez(d / "b.npz", x=np.array([[1.0, 2.0]]), y=np.array([[1.0]]))


def _linear(d: Path, name: str = "m.pt") -> None:
    torch.manual_seed(0)
    torch.save(nn.Linear(2, 1, dtype=F32), d / name)


def _recompressed(data: bytes) -> bytes:
    """A zip archive's members written again with deflate (a torch.save file stores them)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zi, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zo:
        for info in zi.infolist():
            zo.writestr(info.filename, zi.read(info.filename))
    return out.getvalue()


def _saved(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _laughs(d: Path) -> None:
    """40 levels of a Sequential holding the same child twice: 10 KB, 2^40 module uses."""
    m: nn.Module = nn.Linear(2, 1, dtype=F32)
    for _ in range(40):
        m = nn.Sequential(m, m)
    torch.save(m, d / "m.pt")


def _cycle(d: Path) -> None:
    m = nn.Sequential(nn.Linear(2, 1, dtype=F32))
    m.add_module("again", m)
    torch.save(m, d / "m.pt")


def _zip_bomb_model(d: Path) -> None:
    """A zero Linear(2_500_000, 2) in a 21 KB deflated archive (5 M parameters)."""
    lin = nn.Linear(2_500_000, 2, dtype=F32)
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.zero_()
    (d / "m.pt").write_bytes(_recompressed(_saved(lin)))


def _conv1000(d: Path) -> None:
    conv = nn.Conv2d(1, 1, kernel_size=1000, dtype=F32)
    with torch.no_grad():
        conv.weight.zero_()
    torch.save(conv, d / "m.pt")
    np.savez(d / "b.npz", x=np.zeros((1, 1, 2, 2)), y=np.zeros((1, 1)))


def _model_param(make: Callable[[], torch.Tensor], requires_grad: bool = True
                 ) -> Callable[[Path], None]:
    def build(d: Path) -> None:
        lin = nn.Linear(2, 1, dtype=F32)
        lin.weight = nn.Parameter(make(), requires_grad=requires_grad)
        torch.save(lin, d / "m.pt")
        _small_batch(d)
    return build


def _int_model(d: Path) -> None:
    lin = nn.Linear(2, 1, dtype=F32)
    lin.weight = nn.Parameter(torch.tensor([[1, 2]]), requires_grad=False)
    lin.bias = nn.Parameter(torch.tensor([0]), requires_grad=False)
    torch.save(lin, d / "m.pt")
    _small_batch(d)


def _batch_tensor(make: Callable[[], torch.Tensor]) -> Callable[[Path], None]:
    def build(d: Path) -> None:
        _spec(d)
        torch.save({"x": make(), "y": torch.tensor([[1.0]], dtype=F32)}, d / "b.pt")
    return build


class _Sub(torch.Tensor):
    pass


def _zeros_npz(d: Path) -> None:
    """5 M zeros in a 40 KB compressed .npz."""
    _spec(d)
    np.savez_compressed(d / "b.npz", x=np.zeros((1, 5_000_000)), y=np.zeros((1, 1)))


def _fifo(name: str) -> Callable[[Path], None]:
    def build(d: Path) -> None:
        _spec(d)
        _linear(d)
        _small_batch(d)
        os.mkfifo(d / name)
    return build


def _link(name: str, target: str) -> Callable[[Path], None]:
    def build(d: Path) -> None:
        _spec(d)
        _linear(d)
        _small_batch(d)
        os.symlink(target, d / name)
    return build


def _sparse_file(name: str, size: int) -> Callable[[Path], None]:
    def build(d: Path) -> None:
        _spec(d)
        _small_batch(d)
        with open(d / name, "wb") as f:
            f.truncate(size)
    return build


def _text(name: str, text: str) -> Callable[[Path], None]:
    def build(d: Path) -> None:
        (d / name).write_text(text)
    return build


def _longdouble(d: Path) -> None:
    x = np.array([[np.longdouble(1) + np.longdouble(2) ** -60, 0]], dtype=np.longdouble)
    np.savez(d / "b.npz", x=x, y=np.array([[1.0]]))
    _spec(d)


def _audit_files(d: Path) -> None:
    _linear(d)
    _small_batch(d)


def _check(*extra: str) -> list[str]:
    return ["check", "{dir}/spec.json", "--params=1,1,1", *extra]


def _check_model() -> list[str]:
    return ["check", "{dir}/m.pt", "--batch", "{dir}/b.npz", "--loss", "mse"]


def _audit(*extra: str) -> list[str]:
    return ["audit", "{dir}/m.pt", "--batch", "{dir}/b.npz", "--loss", "mse", *extra]


DUPLICATE = '{"input": ["1"], "input": ["2"], "layers": [{"units": 1, "activation": "relu"}]}'
V2_HUGE_BATCH = json.dumps({"version": 2, "inputs": ["x"], "params": ["a"], "batch": 10**18,
                            "nodes": [{"name": "h", "terms": [["a", "x"]]}], "outputs": ["h"]})
TENSORS = {
    "meta": (lambda: torch.empty(1, 2, device="meta", dtype=F32), "a meta tensor (it has no values)"),
    "coo": (lambda: torch.tensor([[1.0, 2.0]], dtype=F32).to_sparse(), "a sparse tensor (sparse_coo)"),
    "csr": (lambda: torch.tensor([[1.0, 2.0]], dtype=F32).to_sparse_csr(), "a sparse tensor (sparse_csr)"),
    "quantized": (lambda: torch.quantize_per_tensor(torch.tensor([[1.0, 2.0]], dtype=F32), 0.5, 0,
                                                    torch.qint8), "a quantized tensor (qint8)"),
    "complex": (lambda: torch.tensor([[1.0 + 1j, 2.0]], dtype=torch.complex64),
                "a complex tensor (complex64)"),
}

#: name -> (builder, argv, environment, expected status, the error after "{dir}/")
CASES: dict[str, tuple[Callable[[Path], None], list[str], dict[str, str], int, str]] = {
    "model-shared-children-40-deep": (
        lambda d: (_laughs(d), _small_batch(d)), _check_model(), {}, 2,
        "m.pt: the model calls more than 100000 modules (shared children counted at each use)"),
    "model-shared-children-audit": (
        lambda d: (_laughs(d), _small_batch(d)), _audit(), {}, 2,
        "m.pt: the model calls more than 100000 modules (shared children counted at each use)"),
    "model-contains-itself": (
        lambda d: (_cycle(d), _small_batch(d)), _check_model(), {}, 2,
        "m.pt: a Sequential module contains itself"),
    "model-zip-bomb-5M-zero-weights": (
        lambda d: (_zip_bomb_model(d), _small_batch(d)), _check_model(), {}, 2,
        ("!model: parameters and buffers of a PyTorch model imported as an exact network = "
        "5000002 exceeds the limit 10^6 (set ADCORRECT_MAX_EXACT_MODEL_PARAMS to raise it)")),
    "model-zip-members-beyond-file-limit": (
        lambda d: (_zip_bomb_model(d), _small_batch(d)), _check_model(),
        {"ADCORRECT_MAX_FILE_BYTES": "1000000"}, 2,
        "m.pt: decompressed members: bytes of an input file = 2000"),
    "model-params-limit": (
        lambda d: (_linear(d), _small_batch(d)), _check_model(),
        {"ADCORRECT_MAX_MODEL_PARAMS": "2"}, 2,
        ("m.pt: parameters and buffers: parameters and buffers of a PyTorch model file = 3 "
        "exceeds the limit 2 (set ADCORRECT_MAX_MODEL_PARAMS to raise it)")),
    "conv-kernel-1000-on-2x2": (
        _conv1000, _check_model(), {}, 2,
        ("!model: parameters and buffers of a PyTorch model imported as an exact network = "
        "1000001 exceeds the limit 10^6 (set ADCORRECT_MAX_EXACT_MODEL_PARAMS to raise it)")),
    "model-int64-weights": (
        _int_model, _check_model(), {}, 2,
        ("m.pt: parameter weight has dtype int64; PyTorch runs layers only with floating-point "
        "weights")),
    "batch-npz-5M-zeros": (
        _zeros_npz, _check("--batch", "{dir}/b.npz", "--loss", "mse"), {}, 2,
        ("b.npz: x: entries of a batch file's x or y = 5000000 exceeds the limit 10^6 (set "
        "ADCORRECT_MAX_BATCH_ENTRIES to raise it)")),
    "batch-npz-members-beyond-file-limit": (
        _zeros_npz, _check("--batch", "{dir}/b.npz", "--loss", "mse"),
        {"ADCORRECT_MAX_FILE_BYTES": "1000000"}, 2,
        "b.npz: decompressed members: bytes of an input file = 40000264 exceeds the limit 10^6 "),
    "batch-longdouble-exact": (
        _longdouble, _check("--batch", "{dir}/b.npz", "--loss", "sum", "--json"), {}, 0, ""),
    "audit-longdouble-batch": (
        lambda d: (_linear(d), _longdouble(d)), _audit(), {}, 2,
        "b.npz: x has dtype float128 (long double), which torch cannot run; `check` reads it "),
    "spec-fifo": (_fifo("f.json"), ["check", "{dir}/f.json", "--params=1,1,1"], {}, 2,
                  "f.json: a FIFO, not a regular spec file"),
    "batch-fifo": (_fifo("f.npz"), _check("--batch", "{dir}/f.npz", "--loss", "mse"), {}, 2,
                   "f.npz: a FIFO, not a regular batch file"),
    "batch-pt-fifo": (_fifo("f.pt"), _check("--batch", "{dir}/f.pt", "--loss", "mse"), {}, 2,
                      "f.pt: a FIFO, not a regular batch file"),
    "model-fifo": (_fifo("f.pt"), ["check", "{dir}/f.pt", "--batch", "{dir}/b.npz", "--loss",
                                   "mse"], {}, 2, "f.pt: a FIFO, not a regular model file"),
    "spec-symlink-dev-zero": (
        _link("z.json", "/dev/zero"), ["check", "{dir}/z.json", "--params=1,1,1"], {}, 2,
        "z.json: a character device, not a regular spec file"),
    "batch-symlink-dev-zero": (
        _link("z.npz", "/dev/zero"), _check("--batch", "{dir}/z.npz", "--loss", "mse"), {}, 2,
        "z.npz: a character device, not a regular batch file"),
    "model-symlink-dev-zero": (
        _link("z.pt", "/dev/zero"), ["check", "{dir}/z.pt", "--batch", "{dir}/b.npz", "--loss",
                                     "mse"], {}, 2,
        "z.pt: a character device, not a regular model file"),
    "spec-directory": (
        _link("d.json", "/tmp"), ["check", "{dir}/d.json", "--params=1,1,1"], {}, 2,
        "d.json: a directory, not a regular spec file"),
    "spec-beyond-spec-limit": (
        _sparse_file("big.json", 20 << 20), ["check", "{dir}/big.json", "--params=1"], {}, 2,
        ("big.json: bytes of a JSON spec = 20971520 exceeds the limit 1048576 (set "
        "ADCORRECT_MAX_SPEC_BYTES to raise it)")),
    "model-beyond-file-limit": (
        _sparse_file("big.pt", 300 << 20), ["check", "{dir}/big.pt", "--batch", "{dir}/b.npz",
                                            "--loss", "mse"], {}, 2,
        ("big.pt: bytes of an input file = 314572800 exceeds the limit 268435456 (set "
        "ADCORRECT_MAX_FILE_BYTES to raise it)")),
    "spec-duplicate-key": (_text("dup.json", DUPLICATE), ["check", "{dir}/dup.json"], {}, 2,
                           "dup.json: the key 'input' occurs twice in one object"),
    "v2-spec-10^18-examples": (
        _text("v2.json", V2_HUGE_BATCH), ["check", "{dir}/v2.json", "--params=1"], {}, 2,
        ("!batch: examples in a batch = 10^18 exceeds the limit 100000 (set ADCORRECT_MAX_BATCH "
        "to raise it)")),
    "format-100000-digits": (
        _spec, ["count", "{dir}/spec.json", "--format", f"fp({'9' * 100_000},2)"], {}, 2,
        ("!format 'fp(9999999999999999999999999...(100006 characters)...9999999999999999999999999"
        ",2)': a bit count of more than 9 digits")),
    "inc-out-directory": (
        _audit_files, _audit("--inc-out", "{dir}"), {}, 2,
        ": a directory, not a regular file for the --inc-out spec"),
    "inc-out-missing-folder": (
        _audit_files, _audit("--inc-out", "{dir}/no/such/x.json"), {}, 2,
        "no/such/x.json: no such folder"),
    "inc-out-dev-full": (
        _audit_files, _audit("--inc-out", "/dev/full"), {}, 2,
        "!/dev/full: a character device, not a regular file for the --inc-out spec"),
}
for _kind, (_make, _why) in TENSORS.items():
    CASES[f"batch-{_kind}-tensor"] = (
        _batch_tensor(_make), _check("--batch", "{dir}/b.pt", "--loss", "mse"), {}, 2,
        f"b.pt: x is {_why}, which is not supported")
    CASES[f"model-{_kind}-parameter"] = (
        _model_param(_make, requires_grad=_kind not in ("quantized",)), _check_model(), {}, 2,
        f"m.pt: parameter weight is {_why}, which is not supported")
CASES["batch-tensor-subclass"] = (
    _batch_tensor(lambda: torch.tensor([[1.0, 2.0]], dtype=F32).as_subclass(_Sub)),
    _check("--batch", "{dir}/b.pt", "--loss", "mse"), {}, 2,
    "b.pt: not a readable torch file (UnpicklingError)")


def _listing(d: Path) -> set[str]:
    return {str(p.relative_to(d)) for p in d.rglob("*")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build, argv, env, status, expected = CASES[name]
    case_dir, cwd = tmp_path / "case", tmp_path / "cwd"
    case_dir.mkdir()
    cwd.mkdir()
    build(case_dir)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(fuzzing, "CASE_SECONDS", SECONDS)
    before = _listing(tmp_path)
    res = run_case(Case(argv), case_dir)
    assert res.exc is None, f"{type(res.exc).__name__}: {res.exc}"
    assert _listing(tmp_path) == before
    assert res.rc == status, res.err
    if status == 0:
        return
    lines = res.err.splitlines()
    assert res.out == "" and len(lines) == 1 and len(lines[0]) <= 320, res.err
    want = (f"adcorrect: error: {expected[1:]}" if expected.startswith("!") else
            f"adcorrect: error: {case_dir}/{expected}" if not expected.startswith(":") else
            f"adcorrect: error: {case_dir}{expected}")
    assert lines[0].startswith(want), (lines[0], want)


def test_longdouble_batch_is_exact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """x = (1 + 2^-60, 0), w = (1, 0, 0): f = relu(x_0) = 1 + 2^-60 exactly (sum loss, y = 1),
    which a float64 would round to 1."""
    if np.finfo(np.longdouble).nmant < 60:
        pytest.skip("long double is float64 here")
    from adcorrect.cli import main

    _longdouble(tmp_path)
    assert main(["check", f"{tmp_path}/spec.json", "--params=1,0,0", "--batch",
                 f"{tmp_path}/b.npz", "--loss", "sum", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["f"] == f"{2**60 + 1}/{2**60}"


@pytest.mark.parametrize("name", ["spec-fifo", "spec-symlink-dev-zero", "inc-out-dev-full",
                                  "model-shared-children-40-deep"])
def test_hostile_subprocess(name: str, tmp_path: Path) -> None:
    """The same cases as `python -m adcorrect` (a hang would hit the timeout)."""
    build, argv, env, status, expected = CASES[name]
    build(tmp_path)
    before = _listing(tmp_path)
    res = subprocess.run([sys.executable, "-m", "adcorrect",
                          *(a.replace("{dir}", str(tmp_path)) for a in argv)],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False,
                         env={**os.environ, **env, "PYTHONPATH": str(ROOT / "python")})
    assert _listing(tmp_path) == before
    assert res.returncode == status and res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("adcorrect: error: ")
    assert expected.lstrip("!").split(": ", 1)[-1] in lines[0]
