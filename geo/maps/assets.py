"""Offline copies of the JavaScript/CSS assets that Folium maps load from CDNs.

Two registry packages provide the files; no asset content lives in this
repository and nothing here downloads anything:

* ``xstatic-leaflet`` ships Leaflet's ``dist/`` folder (``leaflet.js``,
  ``leaflet.css`` and the marker/layer images) as plain files.
* ``folium-offline`` (import name ``offlinefolium``) bundles every other CDN
  file that folium 0.20 and its plugins reference, as strings keyed by the
  exact CDN URL; those are written once to a cache directory so that every
  asset can be handed out as a file.

The cache directory (``<settings.cache_dir>/assets``, or ``$CORRIDORMAP_ASSET_DIR``)
is created for the current user alone (mode 0700). Its files are named by the
SHA-256 of their content and checked against it on every read: a file planted or
changed there is replaced by the packaged copy, never inlined into a page.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import mimetypes
import os
import re
import shutil
from html import escape as html_escape
from html import unescape as html_unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from .. import settings
from ..errors import DataError
from ..files import private_dir, write_bytes
from ..reading import open_regular

__all__ = ["inline_assets", "known_asset_urls", "local_asset_path", "read_asset"]

log = logging.getLogger(__name__)

#: Environment variable naming the cache directory for bundled assets.
ASSET_DIR_ENV = "CORRIDORMAP_ASSET_DIR"

_FONT_TYPES = {
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
    ".svg": "image/svg+xml",
}


def _normalise(url: str) -> str:
    """Return ``url`` as ``https://…`` without fragment or query string."""
    url = url.strip().split("#")[0].split("?")[0]
    if url.startswith("//"):
        url = "https:" + url
    elif url.startswith("http://"):
        url = "https://" + url[len("http://") :]
    return url


@functools.cache
def _leaflet_dists() -> dict[str, Path]:
    """Return ``{cdn_dist_prefix: local_dist_dir}`` for xstatic-leaflet."""
    try:
        from xstatic.pkg import leaflet
    except ImportError:
        return {}
    base = Path(leaflet.BASE_DIR)
    return {
        f"https://cdn.jsdelivr.net/npm/leaflet@{leaflet.VERSION}/dist/": base,
        f"https://unpkg.com/leaflet@{leaflet.VERSION}/dist/": base,
    }


@functools.cache
def _bundle() -> dict[str, str]:
    """Return ``{cdn_url: file_text}`` from folium-offline, or ``{}`` if absent."""
    try:
        from offlinefolium.elements import _res
        from offlinefolium.features import _vres
    except ImportError:
        return {}
    return {_normalise(url): text for url, text in {**_res, **_vres}.items()}


def known_asset_urls() -> frozenset[str]:
    """Return the CDN URLs that have a local copy.

    Returns
    -------
    frozenset of str
        Normalised ``https://`` URLs.
    """
    urls = set(_bundle())
    for prefix, base in _leaflet_dists().items():
        urls.update(prefix + p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())
    return frozenset(urls)


def _cache_dir() -> Path:
    configured = os.environ.get(ASSET_DIR_ENV)
    folder = Path(configured) if configured else Path(settings.cache_dir) / "assets"
    if not configured:
        private_dir(settings.cache_dir)
    return private_dir(folder)


def _materialise(url: str, text: str) -> Path:
    """Write ``text`` to a content-addressed cache file, rewriting it when its content is not ``text``."""
    data = text.encode("utf-8")
    name = Path(urlsplit(url).path).name or "asset"
    digest = hashlib.sha256(data).hexdigest()
    path = _cache_dir() / f"{digest[:_HASH_CHARS]}-{name}"
    if _content_hash(path) != digest:
        if path.exists() or path.is_symlink():
            log.warning("asset cache file %s did not match its content hash; replaced with the packaged copy", path)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        write_bytes(path, data)
    return path


_HASH_CHARS = 16
_HASHED_NAME = re.compile(rf"(?P<hash>[0-9a-f]{{{_HASH_CHARS}}})-.+")


def _content_hash(path: Path) -> str | None:
    """SHA-256 of a regular file's content (not following a symlink), or None when there is none."""
    try:
        with open_regular(path, "asset cache file", DataError) as handle:
            if os.path.islink(path):
                return None
            return hashlib.sha256(handle.read()).hexdigest()
    except DataError:
        return None


def read_asset(url: str) -> bytes | None:
    """The bytes of the local copy of a CDN asset, or None when there is none (see :func:`local_asset_path`).

    A copy from the cache directory is checked against the content hash in its name
    as it is read; a mismatch (a file changed after :func:`local_asset_path` checked
    it) counts as no copy.
    """
    path = local_asset_path(url)
    if path is None:
        return None
    data = path.read_bytes()
    m = _HASHED_NAME.fullmatch(path.name)
    if m and path.parent == _cache_dir() and hashlib.sha256(data).hexdigest()[:_HASH_CHARS] != m.group("hash"):
        log.warning("asset cache file %s changed while being read; %s left as a link", path, url)
        return None
    return data


def local_asset_path(url: str) -> Path | None:
    """Map a folium CDN URL to a local file holding the same asset.

    Leaflet's own files come straight from the xstatic-leaflet package; the
    folium-offline strings are written to ``$CORRIDORMAP_ASSET_DIR`` (default
    ``<settings.cache_dir>/assets``, mode 0700) on first use, and the file is
    checked against them on every call (rewritten when it differs).

    Parameters
    ----------
    url : str
        CDN URL used by folium or one of its plugins (``https:``, ``http:``
        or protocol-relative; query string and fragment are ignored).

    Returns
    -------
    pathlib.Path or None
        Path of the local file, or None if no local copy is installed.
    """
    url = _normalise(url)
    for prefix, base in _leaflet_dists().items():
        if url.startswith(prefix):
            path = (base / url[len(prefix) :]).resolve()
            if path.is_relative_to(base.resolve()) and path.is_file():
                return path
    text = _bundle().get(url)
    return None if text is None else _materialise(url, text)


# --- inlining -------------------------------------------------------------

# Whole <script>…</script>, <style>…</style> and comments are matched as one
# token so that tag-like text inside them is never rewritten.
_TOKEN_RE = re.compile(
    r"<!--.*?-->"
    r"|<script\b(?P<script_attrs>[^>]*)>(?P<script_body>.*?)</script\s*>"
    r"|<style\b[^>]*>.*?</style\s*>"
    r"|<link\b(?P<link_attrs>[^>]*?)/?>",
    re.IGNORECASE | re.DOTALL,
)
_ATTR_RE = re.compile(r"""([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_CSS_URL_RE = re.compile(r"""url\(\s*(?P<q>["']?)(?P<ref>[^"')]*?)(?P=q)\s*\)""", re.IGNORECASE)


def _attrs(text: str) -> dict[str, str]:
    return {
        m.group(1).lower(): html_unescape(next((g for g in m.groups()[1:] if g is not None), ""))
        for m in _ATTR_RE.finditer(text)
    }


def _is_remote(url: str) -> bool:
    return url.lower().startswith(("http://", "https://", "//"))


def _escape_js(text: str) -> str:
    # HTML spec, "restrictions for contents of script elements": neutralise
    # sequences that end the element or enter the escaped script states.
    return re.sub(r"<(?=/script|!--)", r"\\x3C", text, flags=re.IGNORECASE)


def _escape_css(text: str) -> str:
    return re.sub(r"</(?=style)", r"<\\/", text, flags=re.IGNORECASE)


def _data_uri(url: str) -> str | None:
    data = read_asset(url)
    if data is None:
        return None
    name = Path(urlsplit(url).path).name
    mime = (
        _FONT_TYPES.get(Path(name).suffix.lower())
        or mimetypes.guess_type(name)[0]
        or "application/octet-stream"
    )
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _inline_css_urls(css: str, base_url: str) -> str:
    """Rewrite the ``url()`` references of a stylesheet that moves into the page.

    References with a local copy become data: URIs; other relative
    references are made absolute against the stylesheet's CDN URL so they
    keep pointing at the same resource.
    """

    def replace(m: re.Match[str]) -> str:
        ref = m.group("ref")
        if not ref or ref.startswith(("data:", "#")):
            return m.group(0)
        absolute = urljoin(base_url, ref)
        return f'url("{_data_uri(absolute) or absolute}")'

    return _CSS_URL_RE.sub(replace, css)


def _leaflet_icon_shim(leaflet_url: str) -> str:
    """Return a script pointing L.Icon.Default at data: URIs, or ``""``.

    Leaflet finds its marker images through the URL of ``leaflet.css``,
    which no longer exists once the stylesheet is inlined.
    """
    if not urlsplit(leaflet_url).path.endswith(("/leaflet.js", "/leaflet-src.js")):
        return ""
    names = {
        "iconUrl": "marker-icon.png",
        "iconRetinaUrl": "marker-icon-2x.png",
        "shadowUrl": "marker-shadow.png",
    }
    uris = {key: _data_uri(urljoin(leaflet_url, "images/" + name)) for key, name in names.items()}
    if None in uris.values():
        return ""
    options = ", ".join(f'{key}: "{uri}"' for key, uri in uris.items())
    return (
        "<script>if (window.L && L.Icon && L.Icon.Default) {"
        f' L.Icon.Default.imagePath = ""; L.Icon.Default.mergeOptions({{{options}}}); }}</script>'
    )


def _inline_tag(url: str, kind: str, extra_attrs: str) -> str | None:
    """Return the inline replacement for one script/stylesheet tag, or None."""
    data = read_asset(url)
    if data is None:
        return None
    text = data.decode("utf-8", errors="replace")
    if kind == "script":
        shim = _leaflet_icon_shim(_normalise(url))
        return f"<script{extra_attrs}>{_escape_js(text)}</script>{shim}"
    css = _inline_css_urls(text, _normalise(url))
    return f"<style{extra_attrs}>{_escape_css(css)}</style>"


def inline_assets(html: str) -> tuple[str, list[str]]:
    """Replace CDN ``<script src>`` and stylesheet ``<link>`` tags by inline copies.

    Parameters
    ----------
    html : str
        HTML as produced by ``folium.Map.save`` or ``get_root().render()``.

    Returns
    -------
    tuple of (str, list of str)
        The rewritten HTML, and the remote URLs (in document order, without
        duplicates) that have no local copy and were left untouched.
    """
    missing: list[str] = []

    def replace(m: re.Match[str]) -> str:
        if m.group("script_attrs") is not None:
            attrs = _attrs(m.group("script_attrs"))
            url, kind, keep = attrs.get("src"), "script", "type"
            if m.group("script_body").strip():
                return m.group(0)
        elif m.group("link_attrs") is not None:
            attrs = _attrs(m.group("link_attrs"))
            url, kind, keep = attrs.get("href"), "style", "media"
            if "stylesheet" not in attrs.get("rel", "").lower().split():
                return m.group(0)
        else:
            return m.group(0)
        if url is None or not _is_remote(url):
            return m.group(0)
        extra = f' {keep}="{html_escape(attrs[keep])}"' if keep in attrs else ""
        inlined = _inline_tag(url, kind, extra)
        if inlined is None:
            if url not in missing:
                missing.append(url)
            return m.group(0)
        return inlined

    return _TOKEN_RE.sub(replace, html), missing
