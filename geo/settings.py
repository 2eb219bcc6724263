"""All settings in one place.

Values can be overridden with environment variables (named in each comment)
or by assigning to the module attribute before calling the API, as with
``osmnx.settings``.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Root of the source checkout (holds ``layers/`` next to ``geo/``).
PACKAGE_ROOT = Path(__file__).resolve().parent.parent

#: Folder of declarative layer files (env ``CORRIDORMAP_LAYERS``).
layers_dir = Path(os.environ.get("CORRIDORMAP_LAYERS", PACKAGE_ROOT / "layers"))

#: Disk cache for live fetches (env ``CORRIDORMAP_CACHE``).
cache_dir = Path(os.environ.get("CORRIDORMAP_CACHE", Path.home() / ".cache" / "corridormap"))

#: User agent sent to Overpass and Nominatim (their usage policies ask for one).
user_agent = "corridormap/0.1 (+https://github.com/corridormap/corridormap)"

#: Live-fetch behaviour.
http_timeout_s = 180
http_max_retries = 4
http_backoff_s = 2.0
nominatim_min_delay_s = 1.0  # Nominatim usage policy: at most 1 request per second

#: Routing: the farthest a waypoint may be snapped to the rail network.
snap_limit_km = 15.0
#: Routing: dangling line ends closer than this to another line are joined.
join_gap_km = 1.5

#: Gazetteer: smallest GeoNames population loaded.
min_city_population = 500

#: Default base map for HTML output.
default_tiles = "light"

#: Attribution printed on every map and in every GeoJSON file.
ATTRIBUTION_OSM = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap contributors</a> (ODbL)'
ATTRIBUTION_GEONAMES = '<a href="https://www.geonames.org/">GeoNames</a> (CC BY 4.0)'
ATTRIBUTION_NE = '<a href="https://www.naturalearthdata.com/">Natural Earth</a> (public domain)'
ATTRIBUTION = " | ".join([ATTRIBUTION_OSM, ATTRIBUTION_GEONAMES, ATTRIBUTION_NE])
ATTRIBUTION_TEXT = "© OpenStreetMap contributors (ODbL); GeoNames (CC BY 4.0); Natural Earth (public domain)"

#: Largest article accepted, in bytes.
max_article_bytes = 50_000_000
