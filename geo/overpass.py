"""Live OpenStreetMap data through Overpass, with a disk cache (placeholder until the live path lands)."""

from __future__ import annotations

from .errors import NetworkError
from .layers import Layer


def load_cached(layer: Layer):
    """Return ``(lines, points, detail)`` from the disk cache, or None when nothing is cached."""
    return None


def fetch_layer(layer: Layer, area):
    """Fetch a layer's OSM data live."""
    raise NetworkError("live Overpass fetching is not available in this build")
