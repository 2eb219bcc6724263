"""Shared fixtures: where ../shared is, and skipping (or failing) when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_path() -> Path:
    """The team's shared data folder: env CORRIDORMAP_SHARED, else ``<repo>/../shared``."""
    return Path(os.environ.get("CORRIDORMAP_SHARED", REPO.parent / "shared")).resolve()


def require_shared(*parts: str) -> Path:
    """Return ``shared/<parts>``; skip the test when absent, fail when CORRIDORMAP_REQUIRE_SHARED=1."""
    path = shared_path().joinpath(*parts)
    if not path.exists():
        reason = f"shared data {path} is absent (set CORRIDORMAP_SHARED to the folder holding articles/, osm/, geoparse/)"
        if os.environ.get("CORRIDORMAP_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " and CORRIDORMAP_REQUIRE_SHARED=1")
        pytest.skip(reason)
    return path


def need_shared(relative: str) -> Path:
    """Return ``shared/<relative>`` (a path relative to shared/); skips or fails like :func:`require_shared`."""
    return require_shared(*Path(relative).parts)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return require_shared()


@pytest.fixture(scope="session")
def osm_dir() -> Path:
    return require_shared("osm")


@pytest.fixture(scope="session")
def article_path() -> Path:
    return require_shared("articles", "aliyev-moscow-2024.txt")


@pytest.fixture(scope="session")
def source_article() -> str:
    """The source article: Aliyev's visit to Moscow, April 2024."""
    return need_shared("articles/aliyev-moscow-2024.txt").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Each test gets its own empty cache folder; no test reads the user's cache."""
    from geo import settings

    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
