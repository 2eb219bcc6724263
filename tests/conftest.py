"""Shared fixtures: the location of the team's shared data (``<repo>/../shared``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_path() -> Path:
    """Return the shared data folder: env ``CORRIDORMAP_SHARED`` or ``<repo>/../shared``."""
    env = os.environ.get("CORRIDORMAP_SHARED")
    return Path(env) if env else (REPO / ".." / "shared").resolve()


def need_shared(relative: str) -> Path:
    """Return ``shared/<relative>``; skip the test when absent, or fail if CORRIDORMAP_REQUIRE_SHARED=1."""
    path = shared_path() / relative
    if not path.exists():
        reason = f"shared data {path} is absent (set CORRIDORMAP_SHARED or place shared/ next to the repo)"
        if os.environ.get("CORRIDORMAP_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " and CORRIDORMAP_REQUIRE_SHARED=1")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared data folder (skips or fails when absent, see :func:`need_shared`)."""
    return need_shared("")


@pytest.fixture(scope="session")
def source_article() -> str:
    """The source article: Aliyev's visit to Moscow, April 2024."""
    return need_shared("articles/aliyev-moscow-2024.txt").read_text(encoding="utf-8")
