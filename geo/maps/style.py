"""Symbology and text helpers shared by the map modules: line dashes, icons, escaping, slugs, source labels."""

from __future__ import annotations

import html
import re
import unicodedata

import geopandas as gpd
import pandas as pd

from ..text.place import is_area

#: Dash pattern per segment status: in service solid, under construction dashed, planned short dashes.
STATUS_DASH = {"rail": None, "construction": "10 7", "planned": "3 7", "ferry": "1 8"}
#: In-service legs with no OSM geometry (drawn straight between stations) are dotted and faint.
SCHEMATIC_DASH = "1 7"
SCHEMATIC_OPACITY = 0.55
STATUS_LABEL = {"rail": "in service", "construction": "under construction", "planned": "planned", "ferry": "sea crossing (ferry)"}
CROSSING_ICONS = {"rail": ("train", "darkpurple"), "road": ("car", "cadetblue")}
#: Labels of minor stations wait for this zoom at least, so the overview stays legible.
ROLE_RADIUS = {"terminus": 5, "junction": 4.5, "border": 4, "anchor": 5, "station": 3.5}
MENTION_COLOR = "#e08214"
MENTION_PANE = "cmMentions"
#: Mentions of whole corridors (feature class INFRA) are not pinned: their point would be arbitrary;
#: nor are countries, divisions, regions, seas and rivers (:func:`geo.text.place.is_area`).
UNPINNED_CLASSES = ("INFRA",)


def escape(text) -> str:
    """Escape untrusted text for HTML that Folium puts inside a JS template literal."""
    out = html.escape("" if text is None else str(text), quote=True)
    return out.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;").replace("{", "&#123;").replace("}", "&#125;")


def slug(text) -> str:
    """A CSS-class-safe ASCII slug of a name (``"Komsomolsk-on-Amur"`` -> ``"komsomolsk-on-amur"``)."""
    folded = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "place"


def source_label(source: str, result=None, short: bool = False) -> str:
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


def label_zoom(row) -> int:
    """The zoom from which a station's name is shown (``label_zoom`` in its layer file)."""
    return int(row.label_zoom)


def pinned(places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The places drawn as markers: all but whole corridors and areas (:func:`geo.text.place.is_area`)."""
    if places is None or places.empty or "feature_class" not in places:
        return places
    codes = places["feature_code"] if "feature_code" in places else [""] * len(places)
    areas = [is_area(c, k if isinstance(k, str) else "") for c, k in zip(places["feature_class"], codes)]
    return places[~places["feature_class"].isin(UNPINNED_CLASSES) & ~pd.Series(areas, index=places.index, dtype=bool)]
