"""Overpass endpoint URLs as users type them, normalised (no osmnx: a live source's value is built from these)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from ..errors import InputError

__all__ = ["normalise_endpoint", "split_endpoints"]


def normalise_endpoint(url: str) -> str:
    """An Overpass API base URL (``https://host/api``) from what a user typed.

    A trailing ``/`` or ``/interpreter`` is dropped.

    Raises
    ------
    InputError
        When ``url`` is not an http(s) URL with a host.
    """
    text = str(url).strip().rstrip("/")
    if text.endswith("/interpreter"):
        text = text[: -len("/interpreter")]
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"Overpass URL {url!r} is not an http(s) URL: give the API base, e.g. https://overpass-api.de/api "
            "(--overpass-url or CORRIDORMAP_OVERPASS_URL)"
        )
    return text


def split_endpoints(urls: str | Sequence[str]) -> list[str]:
    """Endpoints from a comma list or a list of (comma lists of) URLs, normalised, in order, once each."""
    items = [urls] if isinstance(urls, str) else list(urls)
    out: list[str] = []
    for item in items:
        for url in str(item).split(","):
            if url.strip() and normalise_endpoint(url) not in out:
                out.append(normalise_endpoint(url))
    return out
