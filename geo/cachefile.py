"""Checked cache files: a versioned JSON header line, then a payload whose size and SHA-256 it records.

Layout: ``{"format": ..., "key": ..., "bytes": n, "sha256": ..., "meta": {...}}\\n<payload>``.
A file whose header or checksum does not match is never trusted: :func:`read` deletes it and
returns None, so the caller rebuilds it. Arrays travel as an uncompressed NumPy ``.npz``
payload read with ``allow_pickle=False``: nothing in a cache file is ever executed.
Files are replaced atomically (:func:`geo.files.write_bytes`).
"""

from __future__ import annotations

import io
import json
import logging
from hashlib import sha256
from pathlib import Path
from typing import Any

import numpy as np

from . import files
from .errors import OutputError

log = logging.getLogger(__name__)


def write(path: str | Path, fmt: str, key: str, payload: bytes, meta: dict[str, Any] | None = None) -> Path | None:
    """Write a checked cache file atomically; return its path, or None when the cache folder is not writable."""
    header = {"format": fmt, "key": key, "bytes": len(payload), "sha256": sha256(payload).hexdigest(),
              "meta": meta or {}}
    try:
        return files.write_bytes(path, json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n" + payload)
    except OutputError as exc:  # a read-only cache: keep going without it
        log.info("not caching %s: %s", path, exc.message)
        return None


def read(path: str | Path, fmt: str, key: str) -> tuple[bytes, dict[str, Any]] | None:
    """The ``(payload, meta)`` of a checked cache file, or None when absent, stale or corrupt.

    A file for another key (stale) or failing its checks (corrupt) is deleted.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cache file %s is unreadable (%s): rebuilding it", path, exc)
        return None
    head, sep, payload = raw.partition(b"\n")
    try:
        header = json.loads(head)
    except ValueError:
        header = None
    problem = None
    if not isinstance(header, dict) or header.get("format") != fmt or not sep:
        problem = f"not a {fmt} file"
    elif header.get("key") != key:
        path.unlink(missing_ok=True)  # written for other inputs: stale, not corrupt
        return None
    elif len(payload) != header.get("bytes"):
        problem = f"truncated: {len(payload)} of {header.get('bytes')} bytes"
    elif sha256(payload).hexdigest() != header.get("sha256"):
        problem = "checksum mismatch"
    if problem:
        log.warning("cache file %s is corrupt (%s): deleted, rebuilding it", path, problem)
        path.unlink(missing_ok=True)
        return None
    meta = header.get("meta")
    return payload, meta if isinstance(meta, dict) else {}


def write_arrays(path: str | Path, fmt: str, key: str, arrays: dict[str, np.ndarray],
                 meta: dict[str, Any] | None = None) -> Path | None:
    """Write NumPy arrays (no object arrays) as a checked cache file."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return write(path, fmt, key, buffer.getvalue(), meta)


def read_arrays(path: str | Path, fmt: str, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """The ``(arrays, meta)`` written by :func:`write_arrays`, or None (see :func:`read`)."""
    got = read(path, fmt, key)
    if got is None:
        return None
    payload, meta = got
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}, meta
    except (ValueError, OSError, EOFError) as exc:  # a checked payload that is not an .npz: written by a bug
        log.warning("cache file %s holds no arrays (%s): deleted, rebuilding it", path, exc)
        Path(path).unlink(missing_ok=True)
        return None


def text_array(values: list[str]) -> np.ndarray:
    """Strings as one UTF-8 JSON byte array (compact, and loads without pickle)."""
    return np.frombuffer(json.dumps(values, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)


def array_text(array: np.ndarray) -> Any:
    """Inverse of :func:`text_array`."""
    return json.loads(array.tobytes().decode("utf-8"))
