"""Read a news archive's shards: JSON Lines or Parquet files of ``{id, text, date?, url?, title?}``.

A shard is read whole (it is the unit of work). Each line or row becomes either a
:class:`Document` or a :class:`BadDocument` saying why it was skipped, so one bad
line never stops the rest.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import settings
from ..errors import InputError

#: Shard file suffixes read, and their formats.
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
#: Optional document fields carried to the output.
OPTIONAL_FIELDS = ("date", "url", "title")


@dataclass(frozen=True)
class Document:
    """One document of a shard; ``line`` counts from 1 (a Parquet shard's row number)."""

    line: int
    id: str
    text: str
    date: pd.Timestamp | None = None
    url: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class BadDocument:
    """A line of a shard that was skipped, and why (line 0: the whole shard)."""

    line: int
    id: str | None
    reason: str


def list_shards(inputs: str | Path | Iterable[str | Path]) -> list[Path]:
    """The shard files named by a folder, a glob pattern, a file, or a list of them, sorted.

    Raises
    ------
    InputError
        When nothing matches, or two shards share a name (their parts would collide).
    """
    items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    found: set[Path] = set()
    for item in items:
        path = Path(item)
        if path.is_dir():
            found.update(p for p in path.iterdir() if p.is_file() and shard_format(p))
        elif path.is_file():
            found.add(path)
        else:
            found.update(Path(p) for p in glob.glob(str(item), recursive=True) if shard_format(Path(p)))
    shards = sorted(p.resolve() for p in found)
    if not shards:
        raise InputError(f"no shards found in {', '.join(map(str, items))}: give a folder or glob of "
                         f"{' or '.join(sorted(SUFFIXES))} files")
    names: dict[str, Path] = {}
    for shard in shards:
        if shard_format(shard) is None:
            raise InputError(f"{shard}: not a shard ({' or '.join(sorted(SUFFIXES))})")
        other = names.setdefault(shard_name(shard), shard)
        if other != shard:
            raise InputError(f"shards {other} and {shard} have the same name; rename one so their parts differ")
    return shards


def shard_format(path: Path) -> str | None:
    """``"jsonl"``, ``"parquet"`` or None, from the file's suffix."""
    return SUFFIXES.get(path.suffix.lower())


def shard_name(path: Path) -> str:
    """The name a shard's output parts take: the file name without its suffix."""
    return path.name[: -len(path.suffix)] if path.suffix else path.name


def read_shard(path: str | Path) -> Iterator[Document | BadDocument]:
    """Yield each document of a shard, or why it was skipped, in order."""
    path = Path(path)
    try:
        if shard_format(path) == "parquet":
            records = _parquet_records(path)
        else:
            records = _jsonl_records(path)
        for line, record in records:
            yield record if isinstance(record, BadDocument) else check_document(line, record)
    except OSError as exc:
        yield BadDocument(0, None, f"cannot read the shard: {exc.strerror or exc}")


def _jsonl_records(path: Path) -> Iterator[tuple[int, dict | BadDocument]]:
    with path.open("rb") as handle:
        for line, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield line, BadDocument(line, None, "not UTF-8")
            except RecursionError:
                yield line, BadDocument(line, None, "nested too deeply to be a document")
            except ValueError as exc:
                yield line, BadDocument(line, None, f"not JSON ({exc})")
            else:
                yield line, record


def _parquet_records(path: Path) -> Iterator[tuple[int, dict | BadDocument]]:
    try:
        frame = pd.read_parquet(path)
    except OSError:  # unreadable: reported by read_shard
        raise
    except Exception as exc:  # not Parquet: pyarrow raises its own types (ArrowInvalid, ...)
        yield 0, BadDocument(0, None, f"not a readable Parquet file ({type(exc).__name__}: {exc})")
        return
    frame = frame.astype(object).where(frame.notna(), None)
    yield from enumerate(frame.to_dict("records"), 1)


def check_document(line: int, record) -> Document | BadDocument:
    """A record as a :class:`Document`, or the reason it cannot be geoparsed.

    Needs ``id`` (string or integer) and ``text`` (a string of at most
    ``settings.max_article_bytes`` bytes in UTF-8); ``date`` that does not parse is dropped.
    """
    if not isinstance(record, dict):
        return BadDocument(line, None, f"not a JSON object but {type(record).__name__}")
    doc_id = record.get("id")
    if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)) or str(doc_id) == "":
        return BadDocument(line, None, "no 'id' (a string or integer)")
    doc_id = str(doc_id)
    if "text" not in record or record["text"] is None:
        return BadDocument(line, doc_id, "no 'text'")
    text = record["text"]
    if not isinstance(text, str):
        return BadDocument(line, doc_id, f"'text' is {type(text).__name__}, not a string")
    for key in ("id", "text", "url", "title"):
        value = doc_id if key == "id" else record.get(key)
        if isinstance(value, str) and (at := _lone_surrogate(value)) is not None:
            return BadDocument(line, None if key == "id" else doc_id,
                               f"'{key}' holds a lone surrogate ({value[at]!r} at character {at}), which is not "
                               "text: fix the \\u escape")
    size = len(text.encode("utf-8"))
    if size > settings.max_article_bytes:
        return BadDocument(line, doc_id, f"text too large ({size:,} bytes; limit settings.max_article_bytes = "
                                         f"{settings.max_article_bytes:,})")
    extra = {key: _text_or_none(record.get(key)) for key in ("url", "title")}
    return Document(line, doc_id, text, date=parse_date(record.get("date")), **extra)


def _lone_surrogate(text: str) -> int | None:
    """The offset of the first lone surrogate in ``text`` (not encodable as UTF-8), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def parse_date(value) -> pd.Timestamp | None:
    """A document's date as a UTC-naive timestamp, or None when absent or unreadable."""
    if value is None or value == "":
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if pd.isna(stamp):
        return None
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def _text_or_none(value) -> str | None:
    return None if value is None else str(value)
