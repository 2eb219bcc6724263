"""Write outputs atomically: a temporary file in the same folder, then rename.

A crash or Ctrl-C mid-build leaves the previous file intact.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


from .errors import InputError, OutputError


def prepare_dir(out_dir: str | Path) -> Path:
    """Create ``out_dir`` if needed and check it is a writable folder.

    Raises
    ------
    OutputError
        When the path is a file, cannot be created, or is not writable.
    """
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output path {folder} is a file, not a folder: give a folder with --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {folder}: {exc.strerror or exc}; choose another --out") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {folder} is not writable: fix its permissions or choose another --out")
    return folder


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}; check the output folder") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}; check the output folder") from None
        raise
    return path


def replace_dir(tmp_dir: str | Path, target: str | Path) -> Path:
    """Move the finished folder ``tmp_dir`` to ``target``, replacing any folder there.

    The old folder is renamed aside first and removed only after the new one is
    in place, so ``target`` is at every moment either the old or the new folder
    (apart from the instant between two renames).
    """
    tmp_dir, target = Path(tmp_dir), Path(target)
    os.chmod(tmp_dir, 0o777 & ~_umask())
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rmdir(old)
        os.replace(target, old)
    try:
        os.replace(tmp_dir, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_jsonl_lines(path: str | Path) -> list[tuple[int, str]]:
    """The non-blank lines of a JSON Lines file as (line number, text), split at ``"\n"`` only.

    JSON strings may hold U+2028, U+0085 or a form feed, which :meth:`str.splitlines` would
    also split at; JSON Lines separates records by ``"\n"`` alone (a ``"\r"`` before it is dropped).

    Raises
    ------
    InputError
        When the file cannot be read or is not UTF-8.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}: check the path") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}): save it as UTF-8 JSON Lines") from None
    return [(n, line.rstrip("\r")) for n, line in enumerate(text.split("\n"), 1) if line.strip()]

