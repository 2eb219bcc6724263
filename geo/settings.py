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
#: Longest wait honoured from an HTTP 429 ``Retry-After`` header; longer asks give up.
http_retry_after_max_s = 300.0

#: Overpass: the endpoint, query timeout, memory and rate limiting are osmnx's
#: (``osmnx.settings.overpass_url``, ``requests_timeout``, ``overpass_memory``,
#: ``overpass_rate_limit``), and raw responses go to ``osmnx.settings.cache_folder``
#: (when ``osmnx.settings.use_cache``). osmnx's default folder is ``./cache``, relative
#: to wherever the command runs; while it is unchanged, ``<cache_dir>/overpass`` is used
#: instead. Assembled layers are cached in ``<cache_dir>/layers``.

#: Overpass: the station line is cut into pieces this long, one query each.
overpass_piece_km = 200.0

#: Routing: the farthest a waypoint may be snapped to the rail network.
snap_limit_km = 15.0
#: Routing: dangling line ends closer than this to another line are joined.
join_gap_km = 1.5

#: Gazetteer: smallest GeoNames population loaded.
min_city_population = 500

#: Default base map for HTML output.
default_tiles = "cartodbpositron"

#: Attribution printed on every map and in every GeoJSON file.
ATTRIBUTION_OSM = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap contributors</a> (ODbL)'
ATTRIBUTION_GEONAMES = '<a href="https://www.geonames.org/">GeoNames</a> (CC BY 4.0)'
ATTRIBUTION_NE = '<a href="https://www.naturalearthdata.com/">Natural Earth</a> (public domain)'
ATTRIBUTION = " | ".join([ATTRIBUTION_OSM, ATTRIBUTION_GEONAMES, ATTRIBUTION_NE])
ATTRIBUTION_TEXT = "© OpenStreetMap contributors (ODbL); GeoNames (CC BY 4.0); Natural Earth (public domain)"

#: Largest article accepted, in bytes.
max_article_bytes = 50_000_000
