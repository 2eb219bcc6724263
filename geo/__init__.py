"""corridormap: news text about transport geopolitics -> interactive, embeddable maps.

The steps, each a function from data to data::

    text = read_article(path)                  # file -> plain text
    mentions = extract_mentions(text)          # text -> mentions (spans, sentences)
    places = resolve(mentions, text)           # mentions -> places (GeoNames)
    frame = mention_frame(mentions, places)    # -> GeoDataFrame, one row per place
    result = build_layer(load_layer("bam"))    # layer file + OSM data -> GeoDataFrame
    fmap = build_map([result], relate(frame, [result]), title="BAM")   # -> folium.Map

``build(article, out_dir)`` runs them all and writes the HTML and GeoJSON files.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

_API = {
    "read_article": "text.article",
    "extract_mentions": "text.mentions",
    "Mention": "text.mentions",
    "resolve": "text.resolve",
    "geocode_name": "text.resolve",
    "Place": "text.resolve",
    "mention_frame": "text.mention_frame",
    "load_layer": "corridors.layers",
    "list_layers": "corridors.layers",
    "build_layer": "corridors.build",
    "relate": "corridors.relate",
    "build_map": "maps.draw",
    "build": "pipeline",
    "article_places": "pipeline",
    "geoparse_archive": "text.archive",
    "read_toponyms": "text.archive",
    "atlas": "news_atlas",
    "settings": None,
}

__all__ = sorted(_API)


def __getattr__(name: str):
    """Import the public API lazily, so ``import geo`` stays fast (spaCy loads on first use)."""
    if name not in _API:
        raise AttributeError(f"module 'geo' has no attribute {name!r}")
    module = import_module(f".{_API[name] or name}", __name__)
    return module if _API[name] is None else getattr(module, name)
