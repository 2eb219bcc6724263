"""corridormap: news text about transport geopolitics -> interactive, embeddable maps.

The steps, each a function from data to data::

    text = read_article(path)                  # file -> plain text              (geo.text)
    mentions = extract_mentions(text)          # text -> mentions (spans, sentences)
    places = resolve(mentions, text)           # mentions -> places (GeoNames)
    frame = mention_frame(mentions, places)    # -> GeoDataFrame, one row per place
    result = build_layer(load_layer("bam"))    # layer file + OSM data -> LayerResult  (geo.corridors, geo.osm)
    fmap = build_map([result], relate(frame, [result]), title="BAM")   # -> folium.Map  (geo.maps)

``build(article, out_dir)`` runs them all and writes the HTML and GeoJSON files;
``geoparse_jsonl`` geoparses a corpus; ``snapshot_layers`` saves the layers' OSM data.
Every name below is imported lazily, so ``import geo`` stays fast.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

_API = {
    # reading text
    "read_article": "text.article",
    "extract_mentions": "text.mentions",
    "Mention": "text.mentions",
    "resolve": "text.resolve",
    "geocode_name": "text.resolve",
    "Place": "core.place",
    "mention_frame": "text.mention_frame",
    "geoparse_texts": "text.geoparse",
    "geoparse_jsonl": "text.geoparse",
    "fetch_gazetteer": "text.geonames_fetch",
    # corridors and OSM data
    "load_layer": "core.layers",
    "list_layers": "core.layers",
    "read_layer": "core.layers",
    "Layer": "core.layers",
    "build_layer": "corridors.build",
    "LayerResult": "corridors.build",
    "relate": "corridors.relate",
    "get_layer_data": "osm.source",
    "data_source": "osm.source",
    "Source": "osm.source",
    "snapshot_layers": "osm.source",
    "use_overpass": "osm.overpass_http",
    # maps and export
    "build_map": "maps.draw",
    "render_html": "maps.page",
    "describe": "maps.legend",
    "embed_snippet": "maps.legend",
    "to_geojson": "export",
    # the whole job
    "build": "pipeline",
    "build_layers": "corridors.build",
    "article_places": "pipeline",
    "BuildReport": "pipeline",
    "BuildOptions": "pipeline",
    # a news archive
    "geoparse_archive": "archive.parse",
    "read_toponyms": "archive.parse",
    "atlas": "archive.atlas",
    # errors
    "CorridorMapError": "errors",
    "InputError": "errors",
    "LayerError": "errors",
    "OutputError": "errors",
    "NetworkError": "errors",
    "QueryError": "errors",
    "QueryTooLarge": "errors",
    "DataError": "errors",
    "settings": None,
}

__all__ = sorted(_API)


def __getattr__(name: str):
    """Import the public API lazily, so ``import geo`` stays fast (spaCy loads on first use)."""
    if name not in _API:
        raise AttributeError(f"module 'geo' has no attribute {name!r}")
    module = import_module(f".{_API[name] or name}", __name__)
    return module if _API[name] is None else getattr(module, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
