"""Geoparse a news archive on Dask: one task per shard, one output part per shard, resumable.

Output folder::

    toponyms/<shard>.parquet    GeoParquet, one row per toponym (id, date, title, url, start, end,
                                name, place, geonames_id, country, feature_class, score, point)
    documents/<shard>.parquet   one row per line of the shard: line, id, toponyms, error
    errors.csv                  the lines skipped (shard, line, id, reason), over all shards

A shard's task reads it, geoparses it with :func:`geo.text.geoparse.geoparse_texts`
(the same code as ``geoparse IN.jsonl``) and writes its two parts atomically, the
documents part last: a shard whose documents part exists (and is newer than the
shard) is finished, and a rerun skips it. A worker that dies mid-shard leaves no
part; Dask gives the shard to another worker, which writes it whole.
"""

from __future__ import annotations

import glob
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from .. import files as output
from .. import settings
from ..errors import InputError
from ..text.geoparse import geoparse_texts, toponyms
from .shards import BadDocument, Document, list_shards, read_shard, shard_name

TOPONYMS_DIR = "toponyms"
DOCUMENTS_DIR = "documents"
ERRORS_FILE = "errors.csv"

#: Columns of a toponyms part and their dtypes (every part has them all, even when empty).
TOPONYM_COLUMNS = {
    "id": "str", "date": "datetime64[ms]", "title": "str", "url": "str", "start": "int64", "end": "int64",
    "name": "str", "place": "str", "geonames_id": "Int64", "country": "str", "feature_class": "str",
    "score": "float64",
}
DOCUMENT_COLUMNS = {"line": "int64", "id": "str", "toponyms": "Int64", "error": "str"}


@dataclass
class ShardResult:
    """What one shard's task wrote."""

    shard: str
    documents: int
    toponyms: int
    errors: int
    seconds: float


@dataclass
class ArchiveReport:
    """What :func:`geoparse_archive` did, with totals over the whole output folder."""

    out_dir: Path
    shards: int
    computed: list[ShardResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # shards finished by an earlier run
    failed: dict[str, str] = field(default_factory=dict)  # shard -> why its task failed
    documents: int = 0
    toponyms: int = 0
    errors: int = 0  # documents skipped (see errors.csv)
    errors_path: Path | None = None
    seconds: float = 0.0
    first_part_seconds: float | None = None
    dashboard: str | None = None

    @property
    def complete(self) -> bool:
        """True when every shard and every document was geoparsed."""
        return not self.failed and not self.errors


def part_paths(out_dir: str | Path, shard: str | Path) -> tuple[Path, Path]:
    """(toponyms part, documents part) of a shard."""
    name = shard_name(Path(shard))
    return (Path(out_dir) / TOPONYMS_DIR / f"{name}.parquet", Path(out_dir) / DOCUMENTS_DIR / f"{name}.parquet")


def is_finished(out_dir: str | Path, shard: str | Path) -> bool:
    """Whether a shard's parts are written, after the shard was last changed."""
    topo, docs = part_paths(out_dir, shard)
    try:
        return topo.is_file() and docs.stat().st_mtime >= Path(shard).stat().st_mtime
    except OSError:
        return False


def geoparse_shard(shard: str | Path, out_dir: str | Path) -> ShardResult:
    """Geoparse one shard and write its parts (the task each Dask worker runs)."""
    start = time.perf_counter()
    shard = Path(shard)
    items = list(read_shard(shard))
    docs = [d for d in items if isinstance(d, Document)]
    parsed, failed = _geoparse_each(docs)
    if failed:
        items = [BadDocument(d.line, d.id, failed[d.line]) if isinstance(d, Document) and d.line in failed else d
                 for d in items]
        docs = [d for d in docs if d.line not in failed]
    rows, counts = [], {}
    for doc, (mentions, places) in zip(docs, parsed):
        counts[doc.line] = len(mentions)
        for record, place in zip(toponyms(mentions, places), places):
            rows.append(toponym_row(doc, record, place.name if place is not None else None))
    topo_path, docs_path = part_paths(out_dir, shard)
    output.write_parquet(topo_path, toponym_frame(rows))
    output.write_parquet(docs_path, document_frame(items, counts))
    return ShardResult(str(shard), len(docs), len(rows), len(items) - len(docs), time.perf_counter() - start)


def _geoparse_each(docs: list[Document]) -> tuple[list, dict[int, str]]:
    """(results of the documents geoparsed, in order; reason by line of those that failed).

    The shard is geoparsed in batches; when a batch fails, its documents are geoparsed one
    by one, so a document that breaks the geoparser costs only itself.
    """
    size = max(1, int(settings.archive_batch_size))
    results, failed = [], {}
    for k in range(0, len(docs), size):
        batch = docs[k:k + size]
        try:
            results += list(geoparse_texts((d.text for d in batch), batch_size=size))
            continue
        except Exception:  # noqa: BLE001 - found out below, document by document
            pass
        for doc in batch:
            try:
                results += list(geoparse_texts([doc.text], batch_size=1))
            except Exception as exc:  # noqa: BLE001 - the reason goes to errors.csv
                failed[doc.line] = f"not geoparsed ({type(exc).__name__}: {str(exc)[:200]})"
    return results, failed


def toponym_row(doc: Document, record: dict, place: str | None) -> dict:
    """One output row: a toponym record of :func:`geo.text.geoparse.toponyms` with its document's fields."""
    point = Point(record["lon"], record["lat"]) if record["lat"] is not None else None
    return {"id": doc.id, "date": doc.date, "title": doc.title, "url": doc.url, "start": record["start"],
            "end": record["end"], "name": record["name"], "place": place, "geonames_id": record["geonames_id"],
            "country": record["country"], "feature_class": record["feature_class"], "score": record["score"],
            "geometry": point}


def toponym_frame(rows: list[dict]) -> gpd.GeoDataFrame:
    """The toponyms part: a GeoDataFrame (EPSG:4326) with :data:`TOPONYM_COLUMNS` and point geometry."""
    frame = pd.DataFrame(rows, columns=[*TOPONYM_COLUMNS, "geometry"])
    geometry = gpd.GeoSeries(frame.pop("geometry").tolist(), crs=4326)
    return gpd.GeoDataFrame(frame.astype(TOPONYM_COLUMNS), geometry=geometry)


def document_frame(items: list[Document | BadDocument], counts: dict[int, int]) -> pd.DataFrame:
    """The documents part: every line read, with its toponym count or the reason it was skipped."""
    rows = [{"line": d.line, "id": d.id, "toponyms": counts.get(d.line) if isinstance(d, Document) else None,
             "error": d.reason if isinstance(d, BadDocument) else None} for d in items]
    return pd.DataFrame(rows, columns=list(DOCUMENT_COLUMNS)).astype(DOCUMENT_COLUMNS)


def geoparse_archive(
    inputs: str | Path | Iterable[str | Path],
    out_dir: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
    on_part: Callable[[ShardResult], None] | None = None,
) -> ArchiveReport:
    """Geoparse every shard of an archive on Dask into GeoParquet parts in ``out_dir``.

    Parameters
    ----------
    inputs : path, glob or list of them
        A folder, glob pattern or files of JSON Lines / Parquet shards with ``id``, ``text``
        and optional ``date``, ``url``, ``title``.
    out_dir : path
        Output folder (see the module docstring); shards already finished there are skipped.
    workers : int, optional
        Size of the local cluster (default: one process per core).
    scheduler : str, optional
        Address of an existing Dask scheduler to use instead of a local cluster.
    progress : bool
        Show a progress bar when stderr is a terminal.
    echo : callable, optional
        Receives the dashboard address when the cluster is up.
    on_part : callable, optional
        Called with each shard's :class:`ShardResult` as it is written.

    Returns
    -------
    ArchiveReport
    """
    from .cluster import dask_client

    start = time.perf_counter()
    shards = list_shards(inputs)
    folder = output.prepare_dir(out_dir)
    report = ArchiveReport(folder, len(shards))
    todo = [s for s in shards if not is_finished(folder, s)]
    report.skipped = [str(s) for s in shards if s not in todo]
    if todo:
        with dask_client(workers, scheduler, echo) as client:
            report.dashboard = client.dashboard_link
            _run(client, todo, folder, report, start, progress, on_part)
    _totals(folder, shards, report)
    report.seconds = time.perf_counter() - start
    return report


def _run(client, todo: list[Path], folder: Path, report: ArchiveReport, start: float, progress: bool,
         on_part: Callable[[ShardResult], None] | None) -> None:
    from distributed import as_completed
    from tqdm import tqdm

    futures = client.map(geoparse_shard, [str(s) for s in todo], out_dir=str(folder), pure=False)
    shard_of = {f.key: str(s) for f, s in zip(futures, todo)}
    bar = tqdm(total=len(todo), unit="shard", desc="geoparse", disable=not (progress and sys.stderr.isatty()))
    try:
        for future in as_completed(futures):
            bar.update()
            if future.status != "finished":
                exc = future.exception()
                report.failed[shard_of[future.key]] = f"{type(exc).__name__}: {exc}"
                continue
            result = future.result()
            if report.first_part_seconds is None:
                report.first_part_seconds = time.perf_counter() - start
            report.computed.append(result)
            if on_part is not None:
                on_part(result)
    finally:
        bar.close()
        client.cancel(futures)


def _totals(folder: Path, shards: list[Path], report: ArchiveReport) -> None:
    """Count documents, toponyms and errors over all finished shards; write errors.csv."""
    errors = []
    for shard in shards:
        if str(shard) in report.failed:
            errors.append({"shard": str(shard), "line": 0, "id": None,
                           "reason": f"shard not geoparsed: {report.failed[str(shard)]}; rerun to retry it"})
            continue
        docs = read_documents(folder, shard)
        if docs is None:
            continue
        ok = docs["error"].isna()
        report.documents += int(ok.sum())
        report.toponyms += int(docs["toponyms"].sum())
        errors += [{"shard": str(shard), "line": int(r.line), "id": r.id, "reason": r.error}
                   for r in docs[~ok].itertuples()]
    report.errors = len(errors) - len(report.failed)
    frame = pd.DataFrame(errors, columns=["shard", "line", "id", "reason"])
    report.errors_path = output.write_text(folder / ERRORS_FILE, frame.to_csv(index=False))


def read_documents(out_dir: str | Path, shard: str | Path) -> pd.DataFrame | None:
    """A shard's documents part, or None when the shard is not finished."""
    path = part_paths(out_dir, shard)[1]
    return pd.read_parquet(path) if path.is_file() else None


def read_toponyms(parts: str | Path | Iterable[str | Path]) -> gpd.GeoDataFrame:
    """All toponym rows of a geoparsed archive, from its output folder or toponym part files.

    Raises
    ------
    InputError
        When no part is found.
    """
    items = [parts] if isinstance(parts, (str, Path)) else list(parts)
    paths: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            folder = path / TOPONYMS_DIR if (path / TOPONYMS_DIR).is_dir() else path
            paths += sorted(folder.glob("*.parquet"))
        else:
            paths += sorted(p for p in map(Path, glob.glob(str(item))) if p.suffix == ".parquet" and p.is_file())
    if not paths:
        raise InputError(f"no toponym parts in {', '.join(map(str, items))}: give the folder written by "
                         "`corridormap geoparse` (or its toponyms/*.parquet files)")
    frames = []
    for path in paths:
        try:
            frame = gpd.read_parquet(path)
        except Exception as exc:  # pyarrow and geopandas raise several types for a file that is not GeoParquet
            frame, why = None, f"{type(exc).__name__}: {exc}"
        else:
            missing = [c for c in TOPONYM_COLUMNS if c not in frame]
            why = f"no column {', '.join(missing)}" if missing else ""
        if why:
            raise InputError(f"{path} is not a toponyms part ({why}); give the folder written by "
                             "`corridormap geoparse`")
        frames.append(frame)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=4326)
