"""Symbology and text helpers shared by the map modules: line dashes, icons, escaping, slugs, source labels."""

from __future__ import annotations

import html
import re
import unicodedata
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from ..core.place import is_area

if TYPE_CHECKING:
    from ..corridors.build import LayerResult

#: Dash pattern per segment status: in service solid, under construction dashed, planned short dashes.
STATUS_DASH = {"rail": None, "construction": "10 7", "planned": "3 7", "ferry": "1 8"}
#: In-service legs with no OSM geometry (drawn straight between stations) are dotted and faint.
SCHEMATIC_DASH = "1 7"
SCHEMATIC_OPACITY = 0.55
STATUS_LABEL = {"rail": "in service", "construction": "under construction", "planned": "planned", "ferry": "sea crossing (ferry)"}
#: Crossing marker per mode: (icon name in :data:`ICONS`, pin colour).
CROSSING_ICONS = {"rail": ("train", "#5b396b"), "road": ("car", "#436978")}
#: Inline SVG glyphs (24x24 viewBox, drawn in ``currentColor``): no icon font, no extra request.
ICONS = {
    "train": "<path d='M7 3h10a3 3 0 0 1 3 3v9a3 3 0 0 1-3 3l2 3h-2.5l-2-3h-5l-2 3H5l2-3a3 3 0 0 1-3-3V6a3 3 0 0 1 3-3Zm0 "
             "3v5h10V6Zm1.5 7.5a1.5 1.5 0 1 0 0 .01Zm7 0a1.5 1.5 0 1 0 0 .01Z'/>",
    "car": "<path d='M6.5 5h11l2.2 6H21v6h-2v2h-3v-2H8v2H5v-2H3v-6h1.3Zm1.4 2-1.4 4h11l-1.4-4ZM6.5 "
           "13.5a1.3 1.3 0 1 0 0 .01Zm11 0a1.3 1.3 0 1 0 0 .01Z'/>",
    "anchor": "<path d='M12 2a3 3 0 0 1 1 5.83V10h3v2h-3v7.9A6 6 0 0 0 18 14h-2l3-3 3 3h-2a8 8 0 0 1-16 0H2l3-3 "
              "3 3H6a6 6 0 0 0 5 5.9V12H8v-2h3V7.83A3 3 0 0 1 12 2Zm0 2a1 1 0 1 0 0 2 1 1 0 0 0 0-2Z'/>",
    "question": "<path d='M12 4a5 5 0 0 1 2 9.6V16h-4v-4h2a1.5 1.5 0 1 0-1.5-1.5h-4A5.5 5.5 0 0 1 12 4Zm-2 14h4v3h-4Z'/>",
    "expand": "<path d='M4 4h6v2H7.4l3.3 3.3-1.4 1.4L6 7.4V10H4Zm10 0h6v6h-2V7.4l-3.3 3.3-1.4-1.4L16.6 6H14ZM4 "
              "14h2v2.6l3.3-3.3 1.4 1.4L7.4 18H10v2H4Zm16 0v6h-6v-2h2.6l-3.3-3.3 1.4-1.4 3.3 3.3V14Z'/>",
}


def icon_svg(name: str, size: int = 14) -> str:
    """An inline SVG glyph from :data:`ICONS` (``aria-hidden``: the text beside it says what it is)."""
    return (f"<svg class='cm-svg' width='{size}' height='{size}' viewBox='0 0 24 24' fill='currentColor' "
            f"aria-hidden='true' focusable='false'>{ICONS.get(name, ICONS['question'])}</svg>")
#: Labels of minor stations wait for this zoom at least, so the overview stays legible.
ROLE_RADIUS = {"terminus": 5, "junction": 4.5, "border": 4, "anchor": 5, "station": 3.5}
MENTION_COLOR = "#e08214"
#: Label priority (lower wins when labels collide): the article's towns, then crossings, then a
#: border map's two countries, then stations.
LABEL_PRIORITY = {"place": 0, "crossing": 1, "country": 2, "station": 3, "area": 4}
#: Mentions of whole corridors (feature class INFRA) are not pinned: their point would be arbitrary;
#: nor are countries, divisions, regions, seas and rivers (:func:`geo.core.place.is_area`).
UNPINNED_CLASSES = ("INFRA",)


def escape(text: object) -> str:
    """Escape untrusted text for HTML that Folium puts inside a JS template literal."""
    out = html.escape("" if text is None else str(text), quote=True)
    return out.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;").replace("{", "&#123;").replace("}", "&#125;")


def slug(text: object) -> str:
    """A CSS-class-safe ASCII slug of a name (``"Komsomolsk-on-Amur"`` -> ``"komsomolsk-on-amur"``)."""
    folded = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "place"


def source_label(source: str, result: LayerResult | None = None, short: bool = False) -> str:
    """Where a feature's data came from, for legends and popups."""
    if source == "schematic":
        return "schematic" if short else "schematic (drawn through the stations, not from OSM data)"
    if source == "naturalearth":
        return "Natural Earth" if short else "Natural Earth 1:10m boundaries"
    if source in ("osm", "cache"):
        return "OpenStreetMap"
    if source == "snapshot":
        detail = getattr(result, "detail", "")
        return "OSM snapshot" if short or not detail else f"OSM snapshot ({detail})"
    if source == "gazetteer":
        return "GeoNames"
    return source


def label_zoom(row: Any) -> int:
    """The zoom from which a station's name is shown (``label_zoom`` in its layer file)."""
    return int(row.label_zoom)


def pinned(places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The places drawn as markers: all but whole corridors and areas (:func:`geo.core.place.is_area`)."""
    if places is None or places.empty or "feature_class" not in places:
        return places
    codes = places["feature_code"] if "feature_code" in places else [""] * len(places)
    areas = [is_area(c, k if isinstance(k, str) else "") for c, k in zip(places["feature_class"], codes)]
    return places[~places["feature_class"].isin(UNPINNED_CLASSES) & ~pd.Series(areas, index=places.index, dtype=bool)]
