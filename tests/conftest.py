"""Shared test fixtures: the shared OSM data folder, and no network for any test."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


class NetworkBlocked(RuntimeError):
    """A test tried to reach a host other than this machine (not an OSError, so no code retries it)."""


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Refuse every connection and name lookup beyond the local machine."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def local(address) -> bool:
        return not isinstance(address, tuple) or str(address[0]) in _LOCAL_HOSTS

    def connect(self, address):
        if not local(address):
            raise NetworkBlocked(f"test tried to connect to {address!r}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not local(address):
            raise NetworkBlocked(f"test tried to connect to {address!r}")
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and str(host) not in _LOCAL_HOSTS:
            raise NetworkBlocked(f"test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def gethostbyname(host):
        raise NetworkBlocked(f"test tried to resolve {host!r}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "gethostbyname", gethostbyname)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The team's shared data folder: ``<repo>/../shared``, or env ``CORRIDORMAP_SHARED``.

    Tests using it are skipped when it is absent, and fail instead when env
    ``CORRIDORMAP_REQUIRE_SHARED=1`` (as in CI, where skipping would hide them).
    """
    folder = Path(os.environ.get("CORRIDORMAP_SHARED") or REPO.parent / "shared")
    if not (folder / "osm").is_dir():
        reason = (
            f"shared data folder {folder} (with osm/) not found: set CORRIDORMAP_SHARED to the folder "
            "holding osm/rail and osm/stations"
        )
        if os.environ.get("CORRIDORMAP_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " (CORRIDORMAP_REQUIRE_SHARED=1)")
        pytest.skip(reason)
    return folder
