"""Read input files safely: regular files only, and never more than a limit.

A FIFO, a device such as ``/dev/zero`` or a socket passed as an article, a layer file
or a snapshot manifest would otherwise hang the command or exhaust memory (their
size is 0, so a size check passes). The file is opened without blocking and checked
with ``fstat`` on the open descriptor, so it cannot be swapped between check and read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from . import settings
from .errors import CorridorMapError, InputError

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def open_regular(path: str | Path, what: str = "file", error: type[CorridorMapError] = InputError) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file (symlinks to one are fine).

    Parameters
    ----------
    path : path
    what : str
        How the message names the file ("article", "layer file", ...).
    error : CorridorMapError subclass
        Raised with a one-line message naming the file.

    Raises
    ------
    error
        When the file is missing, unreadable, or not a regular file.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist: check the path") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise error(f"{what} {path} is {kind}, not a regular file: give the path of a file")
        _check_cache_entry(path, os.fstat(fd), what, error)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _check_cache_entry(path: Path, info: os.stat_result, what: str, error: type[CorridorMapError]) -> None:
    """Refuse a file inside the cache folder that another user owns or could write (it may be planted)."""
    try:
        Path(path).absolute().relative_to(Path(settings.cache_dir).absolute())
    except ValueError:
        return
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise error(f"{what} {path} belongs to another user: not trusted")
    if info.st_mode & 0o022:
        raise error(f"{what} {path} is writable by other users (mode {info.st_mode & 0o777:o}): not trusted")


def read_regular(path: str | Path, limit: int, what: str = "file",
                 error: type[CorridorMapError] = InputError, fix: str = "give a smaller file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (reads at most ``limit + 1``).

    ``fix`` ends the message when the file is too large.

    Raises
    ------
    error
        When the file is missing, unreadable, not a regular file, or over ``limit`` bytes.
    """
    with open_regular(path, what, error) as handle:
        try:
            data = handle.read(limit + 1)
            size = max(len(data), os.fstat(handle.fileno()).st_size)
        except OSError as exc:
            raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise error(f"{what} {path} is {size_text(size)}, over the {size_text(limit)} limit: {fix}")
    return data


def size_text(n: int) -> str:
    """A byte count for messages: "50 GB", "5 MB", "120 KB", "12 bytes"."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"
