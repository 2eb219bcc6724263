"""Static images of saved maps, taken with headless Chromium through Playwright.

CDN assets are served from the local copies in :mod:`geo.assets`, so a map
renders the same with or without a network; tiles are fetched when the
network allows (``blank_tiles=True`` skips them, e.g. for timing).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .. import settings
from ..errors import CorridorMapError
from .assets import local_asset_path

#: Chromium executable (env ``CORRIDORMAP_CHROMIUM``; else the first of these found).
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
#: Headless flags; the background-networking ones keep Chromium from calling home on closed networks.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Image size in CSS pixels, and pixels per CSS pixel (2 gives print-quality images).
PNG_SIZE = (1200, 800)
PNG_SCALE = 2
READY_TIMEOUT_MS = 20_000
#: How long to wait for tiles once the map is drawn.
TILE_TIMEOUT_MS = 8_000

# Controls a reader cannot use on a still image; the legend shown whole (never cut or scrolled); the title takes
# the top-left corner the controls leave, so the legend has the whole right side.
STATIC_CSS = (".leaflet-control-zoom,.leaflet-control-layers,.leaflet-control-fullscreen,.cm-whole,.cm-legend-toggle"
              "{display:none!important}"
              ".cm-legend .cm-legend-body{display:block!important;max-height:none!important;overflow:visible!important}"
              ".leaflet-top.leaflet-right{right:auto;left:0}"
              ".leaflet-top.leaflet-right .leaflet-control{float:left;clear:left;margin:10px 0 0 10px}")
#: A legend taller than the room below the boxes above it (the title) is scaled down (from its bottom-right corner)
#: until it fits; then the map frames its story again in the part the title and legend leave free.
FIT_LEGEND_JS = """() => {
  const legend = document.querySelector('.cm-legend');
  let k = 1;
  if (legend) {
    const r = legend.getBoundingClientRect();
    let top = 8;
    for (const e of document.querySelectorAll('.leaflet-control, .cm-title')) {
      if (e === legend || e.offsetParent === null) continue;
      const q = e.getBoundingClientRect();
      if (q.left < r.right && q.right > r.left && q.top < r.top + r.height / 2) top = Math.max(top, q.bottom + 8);
    }
    const room = r.bottom - top;
    if (r.height > room) {
      k = room / r.height;
      legend.style.transformOrigin = 'bottom right';
      legend.style.transform = `scale(${k})`;
    }
  }
  for (const c of document.querySelectorAll('.leaflet-container')) c.dispatchEvent(new Event('cm-layout'));
  return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(k))));
}"""
#: The legend's box lies wholly inside the image.
LEGEND_INSIDE_JS = """() => {
  const legend = document.querySelector('.cm-legend');
  if (!legend) return true;
  const r = legend.getBoundingClientRect();
  return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
}"""
#: Tile images that loaded (a map whose tiles all failed falls back to the offline base map).
FELL_BACK_JS = "() => !!document.querySelector('.cm-offline-base')"  # see geo.maps.basemap.TileFallback
TILES_LOADED_JS = """() => {
  const tiles = [...document.querySelectorAll('.leaflet-tile-pane img')];
  return [tiles.length, tiles.filter((i) => i.complete && i.naturalWidth > 0).length];
}"""

#: True once every Leaflet map on the page has a view (``map._loaded``).
MAPS_READY_JS = """() => {
  if (!window.L || !L.Map) return false;
  const maps = Object.values(window).filter((v) => v instanceof L.Map);
  return maps.length > 0 && maps.every((m) => m._loaded);
}"""


class RenderError(CorridorMapError):
    """Headless Chromium (or Playwright) is missing, or a page failed to render."""


def chromium_path() -> str:
    """The Chromium executable to use.

    Raises
    ------
    RenderError
        When none is installed, with what to install.
    """
    configured = os.environ.get("CORRIDORMAP_CHROMIUM")
    candidates = [configured] if configured else [*CHROMIUM_CANDIDATES, shutil.which("chromium") or ""]
    for path in candidates:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    where = configured or ", ".join(CHROMIUM_CANDIDATES)
    raise RenderError(
        f"--png needs headless Chromium, not found at {where}: install it (Debian: apt-get install chromium) "
        "or set CORRIDORMAP_CHROMIUM to its path"
    )


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise RenderError("--png needs the Python package 'playwright': pip install playwright") from None
    return sync_playwright


@dataclass
class Rendered:
    """One rendered page: the image path and how long the map took to draw."""

    path: Path | None
    seconds_to_map: float
    console_errors: list[str]
    #: The page asked for tiles and none arrived (no network, or the tile server is down).
    tiles_failed: bool = False
    #: The whole legend is in the image.
    legend_inside: bool = True


@contextmanager
def browser_session(*, blank_tiles: bool = False, fetch_tiles: bool | None = None) -> Iterator[_Session]:
    """A headless Chromium that opens saved maps with assets served locally.

    Parameters
    ----------
    blank_tiles : bool
        Answer tile requests with an empty image (for timing).
    fetch_tiles : bool, optional
        False: refuse every request that is not a local asset (as without a network).
        Default: :data:`geo.settings.png_fetch_tiles`.
    """
    fetch_tiles = settings.png_fetch_tiles if fetch_tiles is None else fetch_tiles
    executable = chromium_path()
    sync_playwright = _playwright()
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:  # Playwright raises its own Error types
            raise RenderError(f"cannot start Chromium at {executable}: {str(exc).splitlines()[0]}") from None
        try:
            yield _Session(browser, blank_tiles, fetch_tiles)
        finally:
            browser.close()


class _Session:
    def __init__(self, browser, blank_tiles: bool, fetch_tiles: bool = True):
        self.browser = browser
        self.blank_tiles = blank_tiles
        self.fetch_tiles = fetch_tiles

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("http://", "https://")):
            local = local_asset_path(url)
            if local is not None:
                route.fulfill(path=str(local))
                return
            if self.blank_tiles and route.request.resource_type == "image":
                route.fulfill(status=204, body=b"")
                return
            if not self.fetch_tiles:
                route.abort("internetdisconnected")
                return
        route.continue_()

    def render(self, html_path: str | Path, png_path: str | Path | None = None, *,
               size: tuple[int, int] = PNG_SIZE, scale: float = PNG_SCALE) -> Rendered:
        """Open ``html_path``, wait for the map (and tiles), and save a PNG of it to ``png_path``."""
        from playwright.sync_api import Error as PlaywrightError

        page = self.browser.new_page(viewport={"width": size[0], "height": size[1]}, device_scale_factor=scale)
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        try:
            page.route("**/*", self._route)
            start = time.perf_counter()
            page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
            try:
                page.wait_for_function(MAPS_READY_JS, timeout=READY_TIMEOUT_MS, polling=10)
            except PlaywrightError:
                raise RenderError(f"{html_path}: the map did not draw within {READY_TIMEOUT_MS / 1000:.0f} s") from None
            seconds = time.perf_counter() - start
            if png_path is None:
                return Rendered(None, seconds, errors)
            page.add_style_tag(content=STATIC_CSS)
            page.evaluate(FIT_LEGEND_JS)  # the legend below the title, the story framed in what they leave free
            try:
                page.wait_for_load_state("networkidle", timeout=TILE_TIMEOUT_MS)
            except PlaywrightError:
                pass  # slow or unreachable tile server: judged below by the tiles that arrived
            requested, loaded = page.evaluate(TILES_LOADED_JS)
            fell_back = page.evaluate(FELL_BACK_JS)  # the page swapped its failing tiles for its own base map
            if (requested and not loaded) or fell_back:
                return Rendered(None, seconds, errors, tiles_failed=True)
            legend_inside = page.evaluate(LEGEND_INSIDE_JS)
            png = page.screenshot(type="png")
        finally:
            page.close()
        from ..files import write_bytes

        return Rendered(write_bytes(png_path, png), seconds, errors, legend_inside=legend_inside)


def render_pngs(html_paths: list[Path], offline_html: Callable[[Path], Path] | None = None,
                warn: Callable[[str], None] | None = None, **options) -> list[Path]:
    """Save ``<name>.png`` beside each map HTML file; one browser for all of them.

    Parameters
    ----------
    offline_html : callable, optional
        Given a map's HTML path, writes the same map on the offline base map (``--tiles none``)
        and returns its path: used, with a warning, when no tile loads.
    warn : callable, optional
        Receives the warning.
    """
    written = []
    with browser_session() as session:
        for html_path in html_paths:
            html_path = Path(html_path)
            png_path = html_path.with_suffix(".png")
            rendered = session.render(html_path, png_path, **options)
            if rendered.tiles_failed:
                if offline_html is None:
                    raise RenderError(f"{html_path.name}: no map tile could be loaded: use --tiles none")
                if warn:
                    warn(f"{png_path.name}: no map tile could be loaded (offline, or the tile server is down): "
                         "drawn on the offline Natural Earth base map instead")
                rendered = session.render(offline_html(html_path), png_path, **options)
            if not rendered.legend_inside and warn:
                warn(f"{png_path.name}: the legend does not fit in the image; see the HTML map for all of it")
            if rendered.path is None:  # a PNG path was given: only a page without tiles writes none
                raise RenderError(f"{png_path.name}: no image was written")
            written.append(rendered.path)
    return written
