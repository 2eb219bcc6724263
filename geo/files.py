"""Write outputs atomically: a temporary file in the same folder, then rename; a whole
folder of outputs staged beside its target and swapped in under a lock.

A crash, Ctrl-C, kill -9 or full disk mid-build leaves the previous files intact,
and two builds into one folder never mix their files (:func:`staged_dir`).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from . import settings
from .errors import OutputError

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


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


def private_dir(path: str | Path) -> Path:
    """Create ``path`` if needed as a folder only the current user can enter (mode 0700), and check it.

    Caches live in such folders, so no other user can plant entries in them. A folder of
    ours that others could read is made private quietly; one that others could write is
    made private with a warning, and the entries other users own in it are removed.

    Raises
    ------
    OutputError
        When it cannot be created, is a symbolic link or not a folder, or belongs to another user.
    """
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except FileExistsError:
        pass  # a file or a dangling link: said below
    except OSError as exc:
        raise OutputError(f"cannot create cache folder {folder}: {exc.strerror or exc}; set CORRIDORMAP_CACHE to a "
                          "writable folder") from None
    try:
        info = os.lstat(folder)
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "a file"
            raise OutputError(f"cache folder {folder} is {kind}, not a folder: remove it, or set CORRIDORMAP_CACHE "
                              "to a folder of your own")
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise OutputError(f"cache folder {folder} belongs to another user: remove it, or set CORRIDORMAP_CACHE "
                              "to a folder of your own")
        if info.st_mode & 0o077:
            os.chmod(folder, 0o700)
        if info.st_mode & 0o022:
            removed = _remove_foreign(folder)
            log.warning("cache folder %s was writable by other users (mode %o): made private (0700)%s", folder,
                        stat.S_IMODE(info.st_mode),
                        f", {removed} entries of other users removed" if removed else "")
    except OSError as exc:
        raise OutputError(f"cannot use cache folder {folder}: {exc.strerror or exc}; set CORRIDORMAP_CACHE to a "
                          "writable folder") from None
    return folder


def _remove_foreign(folder: Path) -> int:
    """Remove the entries of ``folder`` owned by another user; return how many."""
    removed = 0
    for entry in folder.iterdir():
        info = os.lstat(entry)
        if info.st_uid == os.geteuid():
            continue
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed


def cache_root() -> Path:
    """The cache folder ``settings.cache_dir``, created private (0700) and checked (see :func:`private_dir`).

    Raises
    ------
    OutputError
        When it is a file or a link, or belongs to another user.
    """
    return private_dir(settings.cache_dir)


def _in_cache(path: Path) -> bool:
    """Whether ``path`` lies inside ``settings.cache_dir``."""
    try:
        path.absolute().relative_to(Path(settings.cache_dir).absolute())
    except ValueError:
        return False
    return True


def _private_parents(path: Path) -> None:
    """Create the folders from ``settings.cache_dir`` down to ``path.parent``, each private (0700)."""
    root = Path(settings.cache_dir).absolute()
    chain = [path.absolute().parent]
    while chain[-1] != root and chain[-1] != chain[-1].parent:
        chain.append(chain[-1].parent)
    for folder in reversed(chain):
        private_dir(folder)


def check_output_dir(out_dir: str | Path) -> Path:
    """Check, without creating anything, that a build can write the folder ``out_dir``.

    The folder (or its nearest existing parent) must be a writable folder, and it must
    not be the working folder or one of its parents (the build replaces the folder).

    Raises
    ------
    OutputError
    """
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output path {folder} is a file, not a folder: give a folder with --out")
    resolved = folder.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise OutputError(f"output folder {folder} is the working folder or holds it; the build replaces its --out "
                          "folder as a whole: give a folder of its own, e.g. --out output/")
    probe = resolved if folder.exists() else next((p for p in resolved.parents if p.exists()), None)
    if probe is None or not probe.is_dir():
        raise OutputError(f"cannot create output folder {folder}: {probe} is not a folder; choose another --out")
    for where in [probe, probe.parent] if folder.exists() else [probe]:
        if not os.access(where, os.W_OK | os.X_OK):
            also = "" if where == resolved else f" (the build creates it in {where}, which must be writable)"
            raise OutputError(f"output folder {folder} is not writable: fix its permissions or choose another "
                              f"--out{also}")
    return folder


@contextmanager
def staged_dir(out_dir: str | Path, keep_others: bool = True, manifest: str | None = None,
               removed: list[str] | None = None) -> Iterator[Path]:
    """Stage a folder of outputs beside ``out_dir`` and swap it in whole when the block ends.

    Files written into the yielded folder replace those of ``out_dir`` all at once;
    with ``keep_others``, files of ``out_dir`` that the block did not write are kept
    (hard-linked into the new folder), else the new folder replaces the old one. With
    ``manifest`` (a file name, see :func:`write_manifest`), the files the previous build
    listed in its manifest and this block did not write are not kept: the folder holds one
    build, and the user's own files; their names go to ``removed``. The swap runs under a lock
    (in the cache folder, see :func:`lock_path`; nothing is left beside the folder), so
    two builds into one folder queue; one waiting longer than
    ``settings.build_lock_wait_s`` fails with a message. If the block raises, or the
    process is killed, ``out_dir`` keeps its previous files; stale staging folders
    of dead processes are removed by the next build.

    Raises
    ------
    OutputError
        When the folder cannot be staged or swapped, or the lock is not free in time.
    """
    target = Path(out_dir)
    if target.is_symlink():  # swap the folder it points to, keep the link
        target = target.resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-{os.getpid()}-", dir=target.parent))
    except OSError as exc:
        raise OutputError(f"cannot create output folder {target}: {exc.strerror or exc}; choose another --out") from None
    try:
        yield stage
        with folder_lock(target):
            _remove_stale(target)
            if keep_others and target.is_dir():
                earlier = read_manifest(target / manifest) if manifest else {}
                dropped = _carry_over(target, stage, earlier)
                if removed is not None:
                    removed.extend(dropped)
            replace_dir(stage, target)
        completed.append(target)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}; check the output folder") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


#: Output folders swapped in whole by this process (:func:`staged_dir`), oldest first: the command
#: line's Ctrl-C message says whether any file was written.
completed: list[Path] = []


def lock_path(target: str | Path) -> Path:
    """The lock file of the output folder ``target``: ``<cache>/locks/<name>-<hash of its path>.lock``.

    It lives in the cache folder, not beside ``target``, so a build leaves nothing in the working tree
    but its output folder; builds by one user into one folder share it.
    """
    resolved = Path(target).resolve()
    digest = hashlib.sha256(os.fsencode(resolved)).hexdigest()[:16]
    return private_dir(Path(settings.cache_dir) / "locks") / f"{resolved.name[:64]}-{digest}.lock"


@contextmanager
def folder_lock(target: str | Path) -> Iterator[Path]:
    """Hold the lock of the folder ``target`` (a file in the cache folder, :func:`lock_path`) for the block.

    Raises
    ------
    OutputError
        When another process holds it longer than ``settings.build_lock_wait_s``.
    """
    target = Path(target)
    lock_file = lock_path(target)
    try:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)  # in the private cache folder: ours alone
    except OSError as exc:
        raise OutputError(f"cannot create the lock file {lock_file}: {exc.strerror or exc}") from None
    try:
        deadline = time.monotonic() + settings.build_lock_wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputError(
                        f"another corridormap run is writing {target} (it holds {lock_file}); wait for it to finish "
                        "or choose another --out") from None
                time.sleep(0.1)
        yield lock_file
    finally:
        os.close(fd)


_STAGE = re.compile(r"\.(?P<name>.+)\.(?:build-(?P<pid>\d+)-|old-).+")


def _remove_stale(target: Path) -> None:
    """Remove staging folders of dead processes and old folders left beside ``target`` by a kill
    (an old folder is put back when a kill came between the two renames of :func:`replace_dir`)."""
    for entry in target.parent.iterdir():
        m = _STAGE.fullmatch(entry.name)
        if not (m and m.group("name") == target.name and entry.is_dir() and not entry.is_symlink()):
            continue
        if m.group("pid") is None and not target.exists():
            os.replace(entry, target)
        elif m.group("pid") is None or not _alive(int(m.group("pid"))):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_TEMPORARY = re.compile(r"\..+\.tmp")  # a write_bytes temporary file left by a kill


def _carry_over(old: Path, new: Path, earlier: dict[str, str] | None = None) -> list[str]:
    """Hard-link (or copy) into ``new`` every entry of ``old`` that ``new`` lacks, but the files an earlier
    build wrote (``earlier``: SHA-256 by name) and nobody changed since; return the names left out, sorted."""
    earlier = earlier or {}
    dropped = []
    for entry in old.iterdir():
        dest = new / entry.name
        if dest.exists() or dest.is_symlink() or _TEMPORARY.fullmatch(entry.name):
            continue
        if entry.name in earlier and _unchanged(entry, earlier[entry.name]):
            dropped.append(entry.name)
            continue
        if entry.is_symlink():
            os.symlink(os.readlink(entry), dest)
        elif entry.is_dir():
            shutil.copytree(entry, dest, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, dest)
    return sorted(dropped)


#: The manifest a build writes into its output folder (:func:`write_manifest`).
MANIFEST = "build.json"
#: Largest manifest read back, in bytes.
_MANIFEST_BYTES = 10_000_000


def write_manifest(folder: str | Path, written: list[Path], inputs: dict, name: str = MANIFEST) -> Path:
    """Write ``name`` into ``folder``: the build's files (names, sizes, SHA-256), its inputs and the version.

    A later build into the same folder reads it back (:func:`read_manifest`) to remove the
    files of this build it does not write again.
    """
    from . import __version__

    entries = []
    for path in sorted(written, key=lambda p: p.name):
        data = Path(path).read_bytes()
        entries.append({"name": Path(path).name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    body = {"tool": "corridormap", "version": __version__, "files": entries, "inputs": inputs}
    return write_text(Path(folder) / name, json.dumps(body, indent=1, ensure_ascii=False, default=str) + "\n")


def read_manifest(path: str | Path) -> dict[str, str]:
    """SHA-256 by file name of the files a build's manifest lists (plain names in the folder); empty
    when there is no readable manifest (then no file counts as an earlier build's)."""
    from .errors import CorridorMapError
    from .reading import read_regular

    try:
        data = json.loads(read_regular(path, _MANIFEST_BYTES, "build manifest", OutputError))
    except (CorridorMapError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("tool") != "corridormap" or not isinstance(data.get("files"), list):
        return {}
    return {f["name"]: f["sha256"] for f in data["files"]
            if isinstance(f, dict) and isinstance(f.get("name"), str) and isinstance(f.get("sha256"), str)
            and f["name"] not in ("", ".", "..") and "/" not in f["name"] and "\\" not in f["name"]}


def _unchanged(path: Path, digest: str) -> bool:
    """Whether ``path`` is a regular file whose content has SHA-256 ``digest``."""
    if path.is_symlink() or not path.is_file():
        return False
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest() == digest


def _link_or_copy(src, dst) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str | Path, data: bytes | Sequence[bytes | memoryview]) -> Path:
    """Write ``data`` (bytes, or chunks written one after another) to ``path`` atomically (temporary file, fsync,
    rename).

    Inside the cache folder (``settings.cache_dir``) the file is private (0600) and the
    folders leading to it too (0700, :func:`private_dir`).
    """
    path = Path(path)
    private = _in_cache(path)
    try:
        if private:
            _private_parents(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}; check the output folder") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600 if private else 0o666 & ~_umask())
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


def write_parquet(path: str | Path, frame: pd.DataFrame) -> Path:
    """Write ``frame`` to ``path`` atomically as Parquet (GeoParquet for a GeoDataFrame), without its index."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return write_bytes(path, buffer.getvalue())


def replace_dir(tmp_dir: str | Path, target: str | Path) -> Path:
    """Move the finished folder ``tmp_dir`` to ``target``, replacing any folder there.

    On Linux the two folders are exchanged in one step (``renameat2`` with
    ``RENAME_EXCHANGE``), so ``target`` is at every moment the old or the new folder.
    Elsewhere the old folder is renamed aside first and removed only after the new
    one is in place (a gap of one rename).
    """
    tmp_dir, target = Path(tmp_dir), Path(target)
    os.chmod(tmp_dir, 0o777 & ~_umask())
    if target.is_dir() and not target.is_symlink() and _exchange(tmp_dir, target):
        shutil.rmtree(tmp_dir, ignore_errors=True)  # now the old folder
        return target
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


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False when unsupported."""
    rename = getattr(_libc(), "renameat2", None)
    if rename is None:
        return False
    rename.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, exchange = -100, 2
    if rename(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover - no C library to load
        return None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
