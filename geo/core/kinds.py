"""Layer kinds: what each kind of layer (a corridor, a border...) is, stated once for every room.

A :class:`LayerKind` is the declarative description of one kind: where its waypoints are,
what a layer file of that kind must give, whether its stations make its line, whether a map
of it opens on its crossings. The rooms ask the kind (:func:`kind_of`) instead of comparing
its name, and keep their per-kind functions in one registry each, keyed by the kind's name:
``geo.osm.queries.QUERIES`` (its Overpass queries), ``geo.osm.fetch.FETCHERS`` (its live
fetch), ``geo.corridors.build.BUILDERS`` (its features) and ``geo.maps.draw.DRAWERS`` (what its
drawing adds to the features). ``tests/test_kinds.py`` checks that every kind in :data:`KINDS`
has an entry in each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import LayerError

#: Example ISO codes for a message on the ``countries`` key.
_EXAMPLE_CODES = ("RU", "AZ", "KZ", "CN")
_COUNT_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}


@dataclass(frozen=True)
class LayerKind:
    """The facts about one kind of layer that every room may ask for."""

    #: The value of ``kind`` in a layer file.
    name: str
    #: The layer attribute holding its waypoints in order: ``"stations"`` or ``"crossings"``
    #: (a layer without stations falls back on its crossings).
    waypoints: str
    #: Its size for ``corridormap layers`` counts this attribute (``"stations"``, ``"crossings"``).
    counts: str
    #: The fewest ``[[stations]]`` a layer file of this kind gives.
    min_stations: int = 0
    #: How many ISO codes its ``countries`` key lists (None: any number).
    countries: int | None = None
    #: Its stations, joined in order, make its line (places near that line count as on the layer).
    station_line: bool = False
    #: Its line is a border with crossings: a map of only such layers opens on the crossings,
    #: and its legend and text alternative tell the border line and its crossings.
    on_crossings: bool = False
    #: It is chosen when the article speaks of the border between its ``countries``.
    chosen_on_border_talk: bool = False

    def problem(self, stations: int, countries: int) -> str | None:
        """What a layer file of this kind with that many stations and countries lacks (with the fix), or None."""
        if stations < self.min_stations:
            return (f"a {self.name} needs at least {_COUNT_WORDS.get(self.min_stations, self.min_stations)} "
                    "[[stations]] in route order: add them")
        if self.countries is not None and countries != self.countries:
            example = ", ".join(f'"{code}"' for code in _EXAMPLE_CODES[:self.countries])
            return (f"key 'countries' must list the {_COUNT_WORDS.get(self.countries, self.countries)} ISO codes "
                    f"of the {self.name}, e.g. [{example}]")
        return None

    def waypoint_items(self, layer: Any) -> tuple:
        """The layer's stations or crossings that are its waypoints, in order."""
        return getattr(layer, self.waypoints) or layer.crossings

    def size(self, layer: Any) -> str:
        """E.g. "5 stations", for ``corridormap layers``."""
        return f"{len(getattr(layer, self.counts))} {self.counts}"


CORRIDOR = LayerKind(name="corridor", waypoints="stations", counts="stations", min_stations=2, station_line=True)
BORDER = LayerKind(name="border", waypoints="crossings", counts="crossings", countries=2, on_crossings=True,
                   chosen_on_border_talk=True)

#: The registered kinds by name (a layer file's ``kind`` is one of these).
KINDS: dict[str, LayerKind] = {kind.name: kind for kind in (CORRIDOR, BORDER)}


def kind_of(layer: Any) -> LayerKind:
    """The :class:`LayerKind` of ``layer`` (a :class:`geo.core.layers.Layer`).

    Raises
    ------
    LayerError
        When no kind of that name is registered.
    """
    try:
        return KINDS[layer.kind]
    except KeyError:
        raise LayerError(f"{layer.path}: kind {layer.kind!r} is not a registered layer kind: use one of "
                         f"{', '.join(KINDS)}") from None
