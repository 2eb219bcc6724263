"""Exception types that carry a message a person can act on.

Every error the command line shows to a user is a :class:`CorridorMapError`;
the CLI prints its ``message`` on one line and exits with code 2.
"""

from __future__ import annotations


class CorridorMapError(Exception):
    """Base class: an error with a one-line, user-facing message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class InputError(CorridorMapError):
    """The article (or another input file) cannot be used."""


class LayerError(CorridorMapError):
    """A layer definition in ``layers/`` is missing, malformed or unknown."""


class OutputError(CorridorMapError):
    """An output file or folder cannot be written."""


class NetworkError(CorridorMapError):
    """A live fetch (Overpass, Nominatim) failed after its retries."""


class NetworkUnreachable(NetworkError):
    """No network, or the server cannot be reached at all: the build's other requests would fail the same way."""


class QueryError(CorridorMapError):
    """An Overpass server refused a query (HTTP 400, or a runtime error it reports).

    Not a network failure: the server answered, so other queries may still work.
    ``query`` is the query refused, ``server_text`` the server's own words.
    """

    def __init__(self, message: str, query: str = "", server_text: str = ""):
        super().__init__(message)
        self.query = query
        self.server_text = server_text


class QueryTooLarge(QueryError):
    """Overpass ran out of memory or time on a query (a smaller query may succeed)."""


class DataError(CorridorMapError):
    """Local OSM data (``--osm-dir``, cache, snapshot) is unreadable or corrupt."""
