"""Offline copies of the JavaScript/CSS assets that Folium maps load from CDNs.

Two registry packages provide the files; no asset content lives in this
repository and nothing here downloads anything:

* ``xstatic-leaflet`` ships Leaflet's ``dist/`` folder (``leaflet.js``,
  ``leaflet.css`` and the marker/layer images) as plain files.
* ``folium-offline`` (import name ``offlinefolium``) bundles every other CDN
  file that folium 0.20 and its plugins reference, as strings keyed by the
  exact CDN URL; those are written once to a cache directory so that every
  asset can be handed out as a file.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import mimetypes
import os
import re
import tempfile
from html import escape as html_escape
from html import unescape as html_unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from ..files import write_bytes

__all__ = ["inline_assets", "known_asset_urls", "local_asset_path"]

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
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / "corridormap-assets"


def _materialise(url: str, text: str) -> Path:
    """Write ``text`` to a content-addressed cache file (once, atomically)."""
    data = text.encode("utf-8")
    name = Path(urlsplit(url).path).name or "asset"
    path = _cache_dir() / f"{hashlib.sha256(data).hexdigest()[:16]}-{name}"
    if not path.is_file():
        write_bytes(path, data)
    return path


def local_asset_path(url: str) -> Path | None:
    """Map a folium CDN URL to a local file holding the same asset.

    Leaflet's own files come straight from the xstatic-leaflet package; the
    folium-offline strings are written to ``$CORRIDORMAP_ASSET_DIR`` (default
    ``<tmp>/corridormap-assets``) on first use.

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
    path = local_asset_path(url)
    if path is None:
        return None
    name = Path(urlsplit(url).path).name
    mime = (
        _FONT_TYPES.get(Path(name).suffix.lower())
        or mimetypes.guess_type(name)[0]
        or "application/octet-stream"
    )
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


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
    path = local_asset_path(url)
    if path is None:
        return None
    text = path.read_text(encoding="utf-8")
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
