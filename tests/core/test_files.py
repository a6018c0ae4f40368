"""core.files: only regular files are read, within the limits; zip archives are checked from
their central directory; output paths are checked before any work."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from adcorrect.core.errors import InputError
from adcorrect.core.files import (
    check_output_path,
    check_zip,
    read_bytes,
    read_text,
    regular_size,
)
from adcorrect.core.limits import LIMITS, elide


def _raises(fn, *args, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as e:
        fn(*args)
    assert str(e.value) == match


def test_regular_file(tmp_path: Path) -> None:
    p = tmp_path / "a.json"
    p.write_bytes(b"[1]\n")
    assert regular_size(p) == 4
    assert read_bytes(p) == b"[1]\n"
    assert read_text(p) == "[1]\n"


def test_not_regular(tmp_path: Path) -> None:
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    os.symlink("/dev/zero", tmp_path / "z")
    _raises(read_bytes, fifo, match=f"{fifo}: a FIFO, not a regular file")
    _raises(read_text, tmp_path / "z", "spec file",
            match=f"{tmp_path}/z: a character device, not a regular spec file")
    _raises(regular_size, tmp_path, match=f"{tmp_path}: a directory, not a regular file")
    _raises(regular_size, tmp_path / "none", "batch file",
            match=f"{tmp_path}/none: no such batch file")


def test_size_limit_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "big"
    with open(p, "wb") as f:
        f.truncate(300 << 20)  # sparse: no disk used, never read
    _raises(read_bytes, p, match=f"{p}: bytes of an input file = 314572800 exceeds the limit "
            "268435456 (set ADCORRECT_MAX_FILE_BYTES to raise it)")
    monkeypatch.setenv("ADCORRECT_MAX_FILE_BYTES", "3")
    q = tmp_path / "q"
    q.write_bytes(b"abcd")
    _raises(read_bytes, q, match=f"{q}: bytes of an input file = 4 exceeds the limit 3 (set "
            "ADCORRECT_MAX_FILE_BYTES to raise it)")


def test_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "b"
    p.write_bytes(b"\xff\xfe")
    _raises(read_text, p, match=f"{p}: not a UTF-8 text file")


def test_zip_central_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "a.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a", b"\0" * 5000)
        z.writestr("b", b"\0" * 6000)
    assert os.path.getsize(p) < 1000
    assert [i.filename for i in check_zip(p)] == ["a", "b"]
    monkeypatch.setenv("ADCORRECT_MAX_FILE_BYTES", "10000")
    _raises(check_zip, p, match=f"{p}: decompressed members: bytes of an input file = 11000 "
            "exceeds the limit 10000 (set ADCORRECT_MAX_FILE_BYTES to raise it)")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK not really")
    _raises(check_zip, bad, match=f"{bad}: not a readable zip archive (BadZipFile)")


def test_output_paths(tmp_path: Path) -> None:
    assert check_output_path(tmp_path / "new.json") == tmp_path / "new.json"
    (tmp_path / "old.json").write_text("{}")
    assert check_output_path(tmp_path / "old.json") == tmp_path / "old.json"
    _raises(check_output_path, tmp_path, "spec",
            match=f"{tmp_path}: a directory, not a regular file for the spec")
    _raises(check_output_path, tmp_path / "no" / "x.json",
            match=f"{tmp_path}/no/x.json: no such folder '{tmp_path}/no' for the output file")
    _raises(check_output_path, "/dev/full",
            match="/dev/full: a character device, not a regular file for the output file")


def test_new_limits() -> None:
    assert LIMITS["model_params"].default == 30_000_000  # admits ResNet-50 (25.6 M)
    assert LIMITS["params"].default == 10_000_000
    assert LIMITS["exact_model_params"].default == 10**6
    assert LIMITS["batch_entries"].default == 10**6
    assert LIMITS["file"].default == 256 << 20
    assert LIMITS["spec_bytes"].default == 1 << 20


def test_elide() -> None:
    assert elide("short") == "short"
    long = "a" * 40 + "b" * 1000 + "c" * 40
    out = elide(long)
    assert out == "a" * 28 + "...(1080 characters)..." + "c" * 28
    assert len(elide("x" * 10**6, 300)) < 320


def test_a_zip64_locator_for_several_disks_is_one_line(tmp_path: Path) -> None:
    """``zipfile.is_zipfile`` raises BadZipFile on a zip64 end locator that names several
    disks (found by the fuzz test on a mutated model file): model and batch files with one
    are refused in one line."""
    import struct

    import torch
    from adcorrect.nets.batch import read_batch_file
    from adcorrect.torchfx.load import load_model

    p = tmp_path / "b.pt"
    torch.save({"x": torch.ones(3, 2), "y": torch.zeros(3, dtype=torch.long)}, p)
    data = p.read_bytes()
    end = data.rfind(b"PK\x05\x06")
    p.write_bytes(data[:end] + struct.pack("<4sIQI", b"PK\x06\x07", 0, 0, 2) + data[end:])
    with pytest.raises(zipfile.BadZipFile):
        zipfile.is_zipfile(p)
    for read in (read_batch_file, load_model):
        with pytest.raises(InputError, match="not a readable zip archive"):
            read(p)
