"""Geoparse a JSON Lines corpus: text -> mentions -> places, one output line per input line.

Input lines: ``{"id", "text", ...}``. Output lines:
``{"id", "toponyms": [{"start", "end", "name", "lat", "lon", "geonames_id", "country",
"feature_class", "score"}]}``. The same code path as :func:`geo.text.mentions.extract_mentions`
followed by :func:`geo.text.resolve.resolve`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import files, settings
from ..core.place import Place
from ..errors import InputError
from ..reading import open_regular, size_text
from .invisible import visible
from .mentions import Mention, extract_mentions, mentions_from_doc, nlp
from .resolve import resolve


def geoparse_texts(texts: Iterable[str], batch_size: int = 16) -> Iterator[tuple[list[Mention], list[Place | None]]]:
    """Yield (mentions, places) for each text, parsing in batches."""
    short: list[str] = []

    def flush():
        sources = [visible(text) for text in short]
        for doc, source in zip(nlp().pipe((s.text for s in sources), batch_size=batch_size), sources):
            mentions = mentions_from_doc(doc, source) if doc.text.strip() else []
            yield mentions, resolve(mentions, source.original)
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


def document(value: Any, where: str) -> tuple[str | int, str]:
    """Check one parsed input line: an object with an ``id`` (string or number) and a ``text`` string.

    The text must be encodable as UTF-8 (no lone surrogates such as ``"\\ud800"``) and
    at most ``settings.max_article_bytes`` long, like an article.

    Raises
    ------
    InputError
        Naming ``where`` (file and line) and what to fix.
    """
    if not isinstance(value, dict) or "text" not in value or "id" not in value:
        raise InputError(f"{where}: needs keys 'id' and 'text' (one JSON object per line)")
    doc_id, text = value["id"], value["text"]
    if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):
        raise InputError(f"{where}: 'id' must be a string or a whole number, not {type(doc_id).__name__}")
    if not isinstance(text, str):
        raise InputError(f"{where}: 'text' must be a string, not {type(text).__name__}")
    for key, field in (("id", doc_id), ("text", text)):
        if isinstance(field, str):
            try:
                field.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InputError(f"{where}: '{key}' holds a lone surrogate ({field[exc.start]!r} at character "
                                 f"{exc.start}), which is not text: fix the \\u escape") from None
    size = len(text.encode("utf-8"))
    if size > settings.max_article_bytes:
        raise InputError(f"{where}: 'text' is {size_text(size)}, over the {size_text(settings.max_article_bytes)} "
                         "limit: split the document")
    return doc_id, text


def read_documents(path: str | Path) -> Iterator[tuple[str, tuple[str | int, str] | InputError]]:
    """Each non-blank line of a JSON Lines file as (``file:line``, (id, text)), or with the line's error.

    Lines are read one at a time and at most ``2 * settings.max_article_bytes`` bytes
    of each are kept (JSON escapes take room); a longer line is reported, not read whole.

    Raises
    ------
    InputError
        When the file is missing or not a regular file.
    """
    limit = 2 * settings.max_article_bytes
    with open_regular(path, "geoparse input", InputError) as handle:
        for n, line, whole in _lines(handle, limit):
            where = f"{path}:{n}"
            if not whole:
                yield where, InputError(f"{where}: the line is over {size_text(limit)}, longer than any document "
                                        f"of at most {size_text(settings.max_article_bytes)}: split the document")
                continue
            if not line.strip():
                continue
            try:
                yield where, document(json.loads(line.decode("utf-8")), where)
            except UnicodeDecodeError as exc:
                yield where, InputError(f"{where}: not UTF-8 (byte {line[exc.start]:#04x} at column {exc.start + 1}): "
                                        "save the file as UTF-8")
            except RecursionError:
                yield where, InputError(f"{where}: nested too deeply to be a document: one {{id, text}} object")
            except ValueError as exc:
                yield where, InputError(f"{where}: not JSON ({exc}): one JSON object per line")
            except InputError as exc:
                yield where, exc


def _lines(handle, limit: int) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, bytes, whole) for each line; a line over ``limit`` bytes is skipped to its end."""
    n = 0
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        n += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = handle.readline(1 << 20)
            yield n, b"", False
            continue
        yield n, line, True


def geoparse_jsonl(in_path, out_path, progress: bool = True, errors: list[str] | None = None) -> int:
    """Geoparse every document of ``in_path`` into ``out_path``.

    A bad line (not JSON, not UTF-8, no string ``text``, a lone surrogate, over the
    size limit) is skipped; the others are written, in order.

    Parameters
    ----------
    in_path, out_path : str or Path
        JSON Lines in (``id``, ``text``) and out (``id``, ``toponyms``).
    progress : bool
        Show a progress bar (only when stderr is a terminal).
    errors : list of str, optional
        Receives one message (``file:line: ...``) per skipped line. Without it, any
        skipped line raises :class:`InputError` once the others are written.

    Returns
    -------
    int
        Number of documents written.
    """
    docs, skipped = [], []
    for _where, got in read_documents(Path(in_path)):
        if isinstance(got, InputError):
            skipped.append(got.message + " (skipped)")
        else:
            docs.append(got)
    show = progress and sys.stderr.isatty()
    files.prepare_dir(Path(out_path).resolve().parent)
    lines = []
    for k, ((doc_id, _), (mentions, places)) in enumerate(zip(docs, geoparse_texts(t for _, t in docs)), 1):
        lines.append(json.dumps({"id": doc_id, "toponyms": toponyms(mentions, places)}, ensure_ascii=False) + "\n")
        if show:
            done = int(30 * k / len(docs))
            sys.stderr.write(f"\rgeoparse [{'#' * done}{'.' * (30 - done)}] {k}/{len(docs)}")
            sys.stderr.flush()
    if show:
        sys.stderr.write("\n")
    files.write_text(out_path, "".join(lines))
    if errors is not None:
        errors.extend(skipped)
    elif skipped:
        raise InputError(f"{len(skipped)} of {len(docs) + len(skipped)} documents skipped ({skipped[0]}"
                         f"{'; ...' if len(skipped) > 1 else ''}); the others are in {out_path}")
    return len(docs)
