"""Where a layer's OSM data came from, as a typed record: its source kind, data date and detail text.

The detail text is what legends and snapshot manifests print; the date of the data and the
day it was fetched are kept beside it as values, so nothing parses them back out of the text.
This module imports nothing heavy (no osmnx, pandas or geopandas).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timezone

#: The kinds of source a layer's data can come from (``LayerData.source``, the legend's "source").
SOURCES = ("osm", "snapshot", "cache", "schematic")
#: How the detail text of live Overpass data starts.
OVERPASS_DETAIL = "OpenStreetMap via Overpass"
#: How the detail text of data from the snapshot bundled with the package starts.
BUNDLED_DETAIL = "bundled with corridormap"
#: Precisions of an OSM data date, coarsest first.
PRECISIONS = ("month", "day", "second")
_FORMATS = {"month": "%Y-%m", "day": "%Y-%m-%d", "second": "%Y-%m-%dT%H:%M:%SZ"}


@dataclass(frozen=True, order=True)
class DataDate:
    """The date of OSM data, to the precision it is known (a month, a day, or Overpass's second)."""

    when: datetime
    precision: str = "second"

    @classmethod
    def parse(cls, text: str | None) -> DataDate | None:
        """A date from ``YYYY-MM``, ``YYYY-MM-DD`` or Overpass's ``YYYY-MM-DDTHH:MM:SSZ``; None when absent.

        Raises
        ------
        ValueError
            When ``text`` is none of those forms.
        """
        if not text or text == "unknown":
            return None
        for precision in reversed(PRECISIONS):
            try:
                when = datetime.strptime(text, _FORMATS[precision])
            except ValueError:
                continue
            return cls(when.replace(tzinfo=timezone.utc), precision)
        raise ValueError(f"not an OSM data date: {text!r} (YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)")

    @property
    def text(self) -> str:
        """The date as written in details and manifests, at its precision."""
        return self.when.strftime(_FORMATS[self.precision])

    def at_least_as_recent(self, other: DataDate | None) -> bool:
        """True when this data is no older than ``other``'s, compared to the day at most (undated ``other``: True)."""
        if other is None:
            return True
        depth = min(PRECISIONS.index(self.precision), PRECISIONS.index("day")) + 2
        return _parts(self)[:depth] >= _parts(other)[:depth]


def _parts(stamp: DataDate) -> tuple[int, ...]:
    """(year, month[, day]) of ``stamp`` down to its precision."""
    parts = (stamp.when.year, stamp.when.month, stamp.when.day)
    return parts[: 2 if stamp.precision == "month" else 3]


@dataclass(frozen=True)
class Provenance:
    """Where a layer's data came from.

    Attributes
    ----------
    source : str
        One of :data:`SOURCES`.
    detail : str
        What the legend and the snapshot manifest print.
    data_date : DataDate, optional
        The date of the OSM data, when known.
    fetched : date, optional
        The day the data was fetched live from Overpass.
    """

    source: str
    detail: str
    data_date: DataDate | None = None
    fetched: date | None = None

    def newer_than(self, other: Provenance) -> bool:
        """True when this data is at least as recent as ``other``'s (an undated one is not; than undated: True)."""
        return self.data_date is not None and self.data_date.at_least_as_recent(other.data_date)

    def noted(self, note: str) -> Provenance:
        """The same record with ``; note`` added to its detail."""
        return replace(self, detail=f"{self.detail}; {note}")

    def dated(self, when: DataDate | None) -> Provenance:
        """The same record dated ``when`` when it has no date (the detail then starts with it)."""
        if when is None or self.data_date is not None:
            return self
        return replace(self, data_date=when, detail=f"OSM data as of {when.text}, {self.detail}")


def overpass_provenance(timestamps: list[str], note: str = "", fetched: datetime | None = None) -> Provenance:
    """The record of data fetched live: dated by the oldest Overpass ``timestamp_osm_base`` of its answers."""
    day = (fetched or datetime.now(timezone.utc)).date()
    oldest = min((s for s in map(_lenient, timestamps) if s is not None), default=None)
    as_of = min(t for t in timestamps if t) if any(timestamps) else "unknown"
    detail = f"{OVERPASS_DETAIL}, data as of {as_of}, fetched {day.isoformat()}"
    return Provenance("osm", f"{detail}; {note}" if note else detail, oldest, day)


def _lenient(text: str) -> DataDate | None:
    """:meth:`DataDate.parse`, None for a stamp it cannot read (a server's odd answer is no reason to fail)."""
    try:
        return DataDate.parse(text)
    except ValueError:
        return None


def schematic(why: str) -> Provenance:
    """The record of a layer drawn through its geocoded stations, saying why."""
    return Provenance("schematic", f"schematic: drawn through the geocoded stations ({why})")
