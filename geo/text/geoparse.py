"""Geoparse a JSON Lines corpus: text -> mentions -> places, one output line per input line.

Input lines: ``{"id", "text", ...}``. Output lines:
``{"id", "toponyms": [{"start", "end", "name", "lat", "lon", "geonames_id", "country",
"feature_class", "score"}]}``. The same code path as :func:`geo.text.mentions.extract_mentions`
followed by :func:`geo.text.resolve.resolve`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Iterable, Iterator

from .. import files, settings
from ..errors import InputError
from .place import Place
from .resolve import resolve
from .mentions import Mention, extract_mentions, mentions_from_doc, nlp


def geoparse_texts(texts: Iterable[str], batch_size: int = 16) -> Iterator[tuple[list[Mention], list[Place | None]]]:
    """Yield (mentions, places) for each text, parsing in batches."""
    short: list[str] = []

    def flush():
        for doc in nlp().pipe(short, batch_size=batch_size):
            mentions = mentions_from_doc(doc) if doc.text.strip() else []
            yield mentions, resolve(mentions, doc.text)
        short.clear()

    for text in texts:
        text = text or ""
        if len(text) > settings.max_chunk_chars:  # long texts go piecewise, in order
            yield from flush()
            mentions = extract_mentions(text)
            yield mentions, resolve(mentions, text)
        else:
            short.append(text)
            if len(short) >= batch_size:
                yield from flush()
    yield from flush()


def toponyms(mentions: list[Mention], places: list[Place | None]) -> list[dict]:
    """Return the output records of one document."""
    out = []
    for m, p in zip(mentions, places):
        rec = {"start": m.start, "end": m.end, "name": m.text, "lat": None, "lon": None, "geonames_id": None,
               "country": "", "feature_class": "", "score": 0.0}
        if p is not None:
            rec.update(lat=p.lat, lon=p.lon, geonames_id=p.geonames_id, country=p.country,
                       feature_class=p.feature_class, score=p.score)
        out.append(rec)
    return out


def _read_jsonl(path: Path) -> list[dict]:
    docs = []
    for n, line in files.read_jsonl_lines(path):
        try:
            doc = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{n}: not JSON ({exc}): one JSON object per line") from exc
        if not isinstance(doc, dict) or "text" not in doc or "id" not in doc:
            raise InputError(f"{path}:{n}: needs keys 'id' and 'text'")
        docs.append(doc)
    return docs


def geoparse_jsonl(in_path, out_path, progress: bool = True) -> int:
    """Geoparse every line of ``in_path`` into ``out_path``.

    Parameters
    ----------
    in_path, out_path : str or Path
        JSON Lines in (``id``, ``text``) and out (``id``, ``toponyms``).
    progress : bool
        Show a progress bar (only when stderr is a terminal).

    Returns
    -------
    int
        Number of documents written.
    """
    docs = _read_jsonl(Path(in_path))
    show = progress and sys.stderr.isatty()
    files.prepare_dir(Path(out_path).resolve().parent)
    lines = []
    for k, (doc, (mentions, places)) in enumerate(zip(docs, geoparse_texts(d["text"] for d in docs)), 1):
        lines.append(json.dumps({"id": doc["id"], "toponyms": toponyms(mentions, places)}, ensure_ascii=False) + "\n")
        if show:
            done = int(30 * k / len(docs))
            sys.stderr.write(f"\rgeoparse [{'#' * done}{'.' * (30 - done)}] {k}/{len(docs)}")
            sys.stderr.flush()
    if show:
        sys.stderr.write("\n")
    files.write_text(out_path, "".join(lines))
    return len(docs)
