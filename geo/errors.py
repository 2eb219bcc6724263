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


class DataError(CorridorMapError):
    """Local OSM data (``--osm-dir``, cache, snapshot) is unreadable or corrupt."""
