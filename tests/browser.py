"""Headless-Chromium harness for checking saved Folium maps without network.

Usage::

    from tests.browser import open_map, require_browser

    require_browser()  # skip (or fail on CI) when Chromium/Playwright is absent
    with open_map(html_path, screenshot_path, click_selector=".leaflet-marker-icon") as res:
        assert res.map_ready and not res.console_errors
        assert res.count("path.leaflet-interactive") == 1

Every http(s) request is intercepted: CDN assets known to
:func:`geo.maps.assets.local_asset_path` are served from disk, map tiles get a
blank PNG, anything else is aborted and listed in ``unrouted_requests``.
With ``serve_assets=False`` every http(s) request is aborted.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from geo.maps.assets import local_asset_path
from geo.maps.png import CHROMIUM_ARGS, MAPS_READY_JS

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1024, "height": 768}
READY_TIMEOUT_MS = 15_000

# .../{z}/{x}/{y}.png, optionally with a retina suffix such as @2x, or with no
# extension at all (Esri: .../MapServer/tile/{z}/{y}/{x}).
_TILE_RE = re.compile(r"/\d+/\d+/\d+(?:@\d+(?:\.\d+)?x)?(?:\.(?:png|jpe?g|webp|gif))?(?:\?.*)?$", re.I)

def is_tile_url(url: str) -> bool:
    """Return True for slippy-map tile URLs (``…/{z}/{x}/{y}.png``, ``…/tile/{z}/{y}/{x}`` and similar)."""
    return url.lower().startswith(("http://", "https://")) and bool(_TILE_RE.search(url))


def _blank_png(size: int = 256) -> bytes:
    """Return a fully transparent ``size`` x ``size`` RGBA PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x00" * (4 * size) for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


BLANK_TILE = _blank_png()


def browser_unavailable_reason() -> str | None:
    """Return why the browser harness cannot run here, or None if it can."""
    if not Path(CHROMIUM).is_file():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python package 'playwright' is not installed (pip install '.[test]')"
    return None


def browser_required() -> bool:
    """Return True when a missing browser must fail instead of skip."""
    return os.environ.get("CORRIDORMAP_REQUIRE_BROWSER") == "1" or (
        os.environ.get("CI", "").lower() == "true"
    )


def require_browser() -> None:
    """Skip the calling test if the browser is missing; fail instead on CI.

    Failing is forced by ``CORRIDORMAP_REQUIRE_BROWSER=1`` or ``CI=true``.
    """
    reason = browser_unavailable_reason()
    if reason is None:
        return
    if browser_required():
        pytest.fail(f"browser required but unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class BrowserResult:
    """What happened while a map page was open.

    The lists keep filling while the ``open_map`` block is active; ``page``
    (a Playwright ``Page``) is only usable inside that block.
    """

    page: Any
    screenshot_path: Path | None = None
    map_ready: bool = False
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    unrouted_requests: list[str] = field(default_factory=list)

    def count(self, selector: str) -> int:
        """Return how many DOM elements match a CSS selector."""
        return self.page.locator(selector).count()

    def counts(self, selectors: list[str]) -> dict[str, int]:
        """Return ``{selector: count}`` for several CSS selectors."""
        return {s: self.count(s) for s in selectors}

    def broken_images(self, selector: str = "img") -> list[str]:
        """Return the ``src`` (cut to 100 chars) of matching images that failed to load."""
        return self.page.eval_on_selector_all(
            selector,
            "imgs => imgs.filter(i => i.complete && i.naturalWidth === 0)"
            "            .map(i => i.src.slice(0, 100))",
        )

    def evaluate(self, expression: str, arg: Any = None) -> Any:
        """Evaluate a JavaScript expression or function in the page."""
        return self.page.evaluate(expression, arg)


def _route_handler(result: BrowserResult, serve_assets: bool, fail_tiles: bool = False):
    def handle(route: Any) -> None:
        url = route.request.url
        if not url.lower().startswith(("http://", "https://")):
            route.continue_()  # file:, data:, blob: never leave the machine
            return
        if serve_assets:
            local = local_asset_path(url)
            if local is not None:
                route.fulfill(path=str(local))
                return
            if is_tile_url(url) and not fail_tiles:
                route.fulfill(status=200, content_type="image/png", body=BLANK_TILE)
                return
        result.unrouted_requests.append(url)
        route.abort()

    return handle


def _console_handler(result: BrowserResult):
    def handle(msg: Any) -> None:
        if msg.type != "error":
            return
        # Chromium logs one "Failed to load resource" per aborted request;
        # those are already listed (by URL) in unrouted_requests.
        if msg.text.startswith("Failed to load resource") and (
            msg.location.get("url") in result.unrouted_requests
        ):
            return
        result.console_errors.append(msg.text)

    return handle


def _dialog_handler(result: BrowserResult):
    def handle(dialog: Any) -> None:
        result.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    return handle


@contextmanager
def open_map(
    html_path: str | os.PathLike[str],
    screenshot_path: str | os.PathLike[str] | None = None,
    *,
    click_selector: str | None = None,
    serve_assets: bool = True,
    viewport: dict[str, int] | None = None,
    fail_tiles: bool = False,
) -> Iterator[BrowserResult]:
    """Open a saved map in headless Chromium and collect what goes wrong.

    Parameters
    ----------
    html_path : path-like
        Map HTML file, loaded through a ``file://`` URL.
    screenshot_path : path-like, optional
        Where to save a PNG screenshot, taken after the optional click.
    click_selector : str, optional
        CSS selector of an element to click once the map is ready
        (e.g. ``".leaflet-marker-icon"`` to open a popup).
    serve_assets : bool, default True
        Serve CDN assets from local copies and tiles as blank PNGs; when
        False, abort every http(s) request (to test self-contained HTML).
    viewport : dict, optional
        ``{"width": ..., "height": ...}`` in CSS pixels (default :data:`VIEWPORT`).
    fail_tiles : bool, default False
        Abort tile requests (as on a machine without network) while still serving CDN assets.

    Yields
    ------
    BrowserResult
        Collected errors, dialogs and aborted URLs, plus the live page.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=viewport or VIEWPORT)
            result = BrowserResult(page=page)
            page.route("**/*", _route_handler(result, serve_assets, fail_tiles))
            page.on("console", _console_handler(result))
            page.on("pageerror", lambda err: result.page_errors.append(str(err)))
            page.on("dialog", _dialog_handler(result))

            page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
            try:
                page.wait_for_function(MAPS_READY_JS, timeout=READY_TIMEOUT_MS)
                result.map_ready = True
            except PlaywrightError:
                result.map_ready = False
            if click_selector is not None and result.map_ready:
                page.locator(click_selector).first.click()
                page.wait_for_timeout(300)  # let popups/animations settle
            if screenshot_path is not None:
                result.screenshot_path = Path(screenshot_path)
                page.screenshot(path=str(result.screenshot_path))
            yield result
        finally:
            browser.close()

