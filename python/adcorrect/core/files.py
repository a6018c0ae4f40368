"""Input and output files that may be hostile: only regular files are read (a FIFO, a
device or a symlink to one such as ``/dev/zero`` is refused before anything blocks or
grows), within the file-size limit, and zip archives are checked from their central
directory (member count and decompressed size) before any member is decompressed.
Outputs are written atomically: readers see the old file or the new one, never a part.
Every failure is a one-line :class:`InputError`.
"""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
from pathlib import Path

from .errors import InputError
from .limits import check, check_file, limit

__all__ = ["atomic_write_text", "check_output_path", "check_zip", "read_bytes", "read_text",
           "regular_size"]

#: Most members of a zip archive (a torch.save file holds one per tensor storage).
MAX_ZIP_MEMBERS = 100_000


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def regular_size(path: str | Path, what: str = "file") -> int:
    """The size of a regular file within the file limit (symlinks followed); InputError for
    a missing file, a directory, a FIFO, a device or a socket."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise InputError(f"{path}: no such {what}" if isinstance(e, FileNotFoundError)
                         else f"{path}: cannot read ({e.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: {_kind(st.st_mode)}, not a regular {what}")
    check_file(path, st.st_size)
    return st.st_size


def read_bytes(path: str | Path, what: str = "file") -> bytes:
    """The bytes of a regular file within the file limit.  Opened without blocking (a path
    swapped for a FIFO after the check does not hang) and checked again on the open file;
    at most limit + 1 bytes are read, whatever the file claims."""
    regular_size(path, what)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: {_kind(st.st_mode)}, not a regular {what}")
        cap = limit("file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(cap + 1)
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    finally:
        os.close(fd)
    check_file(path, len(data))
    return data


def read_text(path: str | Path, what: str = "file") -> str:
    """A regular UTF-8 text file within the file limit (see :func:`read_bytes`)."""
    try:
        return read_bytes(path, what).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file") from None


def is_zip(path: str | Path) -> bool:
    """Whether the file looks like a zip archive (``zipfile.is_zipfile``, which raises
    BadZipFile on a damaged zip64 end record: that is a zip archive, which
    :func:`check_zip` then refuses in one line)."""
    try:
        return zipfile.is_zipfile(path)
    except zipfile.BadZipFile:
        return True


def check_zip(path: str | Path, what: str = "file") -> list[zipfile.ZipInfo]:
    """The members of a zip archive, refused before decompression if there are too many or
    their decompressed sizes (from the central directory) add up beyond the file limit;
    InputError for a file that is not a zip archive."""
    regular_size(path, what)
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise InputError(f"{path}: not a readable zip archive ({type(e).__name__})") from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise InputError(f"{path}: a zip archive of {len(infos)} members (at most "
                         f"{MAX_ZIP_MEMBERS})")
    check("file", sum(i.file_size for i in infos), f"{path}: decompressed members")
    return infos


def check_output_path(path: str | Path, what: str = "output file") -> Path:
    """A path a result may be written to: its folder exists and the path is absent or a
    regular file (never a directory, a device such as ``/dev/full``, or a FIFO)."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        if not p.parent.is_dir():
            raise InputError(f"{path}: no such folder {str(p.parent)!r} for the "
                             f"{what}") from None
        if not os.access(p.parent, os.W_OK | os.X_OK):
            raise InputError(f"{path}: the folder {str(p.parent)!r} is not writable for the "
                             f"{what}") from None
        return p
    except OSError as e:
        raise InputError(f"{path}: cannot write the {what} ({e.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: {_kind(st.st_mode)}, not a regular file for the {what}")
    if not os.access(p.parent, os.W_OK | os.X_OK):
        raise InputError(f"{path}: the folder {str(p.parent)!r} is not writable for the "
                         f"{what}")
    return p


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write text to path atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; results and reports are for everyone
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
