"""Checked cache files: a versioned JSON header line, then a payload whose size and SHA-256 it records.

Layout: ``{"format": ..., "key": ..., "bytes": n, "sha256": ..., "meta": {...}}\\n<payload>``.
A file whose header or checksum does not match is never trusted: the readers delete it and
return None, so the caller rebuilds it. A file for another key is stale: deleted, None.

Arrays (:func:`write_arrays`) are stored raw, one after another, their dtype, shape and offset
in the header; :func:`read_arrays` memory-maps the file and returns views into it, so loading
costs little more than the checksum. Only plain numeric dtypes are accepted: nothing in a cache
file is ever unpickled or executed. Files are replaced atomically (:func:`geo.files.write_bytes`).
"""

from __future__ import annotations

import json
import logging
import mmap
import os
from collections.abc import Sequence
from hashlib import sha256
from pathlib import Path
from typing import Any

import numpy as np

from . import files
from .errors import OutputError

log = logging.getLogger(__name__)

_ALIGN = 16
_KINDS = "biuf"  # bool, signed and unsigned integers, floats: never objects


def write(path: str | Path, fmt: str, key: str, payload: bytes | Sequence[bytes | memoryview],
          meta: dict[str, Any] | None = None) -> Path | None:
    """Write a checked cache file atomically (``payload``: bytes, or chunks that make it, never joined in memory);
    return its path, or None when the cache folder is not writable."""
    chunks = [payload] if isinstance(payload, (bytes, bytearray, memoryview)) else list(payload)
    digest = sha256()
    for chunk in chunks:
        digest.update(chunk)
    header = {"format": fmt, "key": key, "bytes": sum(memoryview(c).nbytes for c in chunks),
              "sha256": digest.hexdigest(), "meta": meta or {}}
    head = json.dumps(header, ensure_ascii=False).encode("utf-8")
    head += b" " * (-(len(head) + 1) % _ALIGN)  # the payload starts aligned, so arrays map in place
    try:
        return files.write_bytes(path, [head + b"\n", *chunks])
    except OutputError as exc:  # a read-only cache: keep going without it
        log.info("not caching %s: %s", path, exc.message)
        return None


def write_arrays(path: str | Path, fmt: str, key: str, arrays: dict[str, np.ndarray],
                 meta: dict[str, Any] | None = None) -> Path | None:
    """Write numeric NumPy arrays as a checked cache file (see :func:`read_arrays`)."""
    parts: list[bytes | memoryview] = []
    specs, offset = [], 0
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        if array.dtype.kind not in _KINDS:
            raise TypeError(f"cache array {name!r} has dtype {array.dtype}: only numbers are stored")
        pad = -offset % _ALIGN
        parts.append(b"\0" * pad)
        offset += pad
        specs.append([name, array.dtype.str, list(array.shape), offset])
        parts.append(array.reshape(-1).view(np.uint8).data)  # the array's own bytes: no copy
        offset += array.nbytes
    return write(path, fmt, key, parts, {**(meta or {}), "arrays": specs})


def read_arrays(path: str | Path, fmt: str, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """The ``(arrays, meta)`` written by :func:`write_arrays` (read-only views of the mapped file), or None."""
    path = Path(path)
    opened = _open(path, fmt, key)
    if opened is None:
        return None
    buffer, start, meta = opened
    arrays = {}
    try:
        for name, dtype, shape, offset in meta.pop("arrays"):
            dtype = np.dtype(dtype)
            if dtype.kind not in _KINDS:
                raise ValueError(f"dtype {dtype}")
            count = int(np.prod(shape, dtype=np.int64))
            arrays[name] = np.frombuffer(buffer, dtype, count, start + int(offset)).reshape(shape)
    except (KeyError, ValueError, TypeError) as exc:  # checked, yet not what write_arrays writes: a bug
        _corrupt(path, f"unreadable arrays ({exc})")
        return None
    return arrays, meta


def _open(path: Path, fmt: str, key: str):
    """(buffer, payload offset, meta) of a valid file; None when absent, stale (deleted) or corrupt (deleted)."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cache file %s is unreadable (%s): rebuilding it", path, exc)
        return None
    with f:
        try:
            return _check(path, f, fmt, key)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("cache file %s is unreadable (%s): rebuilding it", path, exc)
            return None


def _check(path: Path, f, fmt: str, key: str):
    """:func:`_open` on the open file ``f``: the mapped buffer is hashed through ``f`` itself.

    A file another user owns or could write is never trusted, whatever its checksum.
    """
    info = os.fstat(f.fileno())
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return _corrupt(path, "owned by another user")
    if info.st_mode & 0o022:
        return _corrupt(path, f"writable by other users (mode {info.st_mode & 0o777:o})")
    buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(f.fileno()).st_size else b""
    end = buffer.find(b"\n")
    try:
        header = json.loads(buffer[:end]) if end >= 0 else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != fmt:
        return _corrupt(path, f"not a {fmt} file")
    if header.get("key") != key:
        path.unlink(missing_ok=True)  # written for other inputs: stale, not corrupt
        return None
    start = end + 1
    size = len(buffer) - start
    if size != header.get("bytes"):
        return _corrupt(path, f"truncated: {size} of {header.get('bytes')} bytes")
    if _file_sha256(f, start) != header.get("sha256"):
        return _corrupt(path, "checksum mismatch")
    meta = header.get("meta")
    return buffer, start, dict(meta) if isinstance(meta, dict) else {}


def _file_sha256(f, start: int) -> str:
    """SHA-256 of the open file ``f`` from byte ``start`` on, read through the page cache.

    Not through the mapping: the pages hashed are then not counted in the process's
    memory, and only those the arrays are read from are.
    """
    digest = sha256()
    f.seek(start)
    while chunk := f.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def _corrupt(path: Path, why: str) -> None:
    log.warning("cache file %s is corrupt (%s): deleted, rebuilding it", path, why)
    path.unlink(missing_ok=True)
    return None


#: The shipped data files' frame: this magic, the payload's size (8 bytes, little-endian), its SHA-256, then the
#: payload compressed with Zstandard (pyarrow's codec: fast to unpack, as small as LZMA within a tenth).
_PACKED = b"corridormap-zstd/1\n"


def pack(payload: bytes, level: int = 19) -> bytes:
    """``payload`` compressed, with its size and checksum (see :func:`unpack`)."""
    import pyarrow as pa

    compressed = pa.Codec("zstd", compression_level=level).compress(payload, asbytes=True)
    return _PACKED + len(payload).to_bytes(8, "little") + sha256(payload).digest() + compressed


def unpack(data: bytes) -> bytes | None:
    """The payload :func:`pack` packed into ``data``; None when ``data`` is not such a frame or is damaged."""
    import pyarrow as pa

    head = len(_PACKED) + 8 + 32
    if not data.startswith(_PACKED) or len(data) < head:
        return None
    size = int.from_bytes(data[len(_PACKED):len(_PACKED) + 8], "little")
    if size > 1 << 32:
        return None
    try:
        payload = pa.Codec("zstd").decompress(data[head:], decompressed_size=size, asbytes=True)
    except (pa.ArrowException, ValueError):
        return None
    return payload if len(payload) == size and sha256(payload).digest() == data[head - 32:head] else None
