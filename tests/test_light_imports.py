"""Light modules stay light: reading the bundled snapshot, the layer model, the data source values, the
CLI's start and the pipeline (whose warm builds write cached pages) load no osmnx, folium, spaCy or networkx
(each costs a noticeable part of a second or more)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("osmnx", "folium", "spacy", "networkx")


@pytest.mark.parametrize("module", ["geo.osm.bundle", "geo.core.layers", "geo.cli", "geo.osm.source",
                                    "geo.osm.provenance", "geo.pipeline"])
def test_importing_a_light_module_loads_no_heavy_package(module):
    code = f"import {module}, sys; print(' '.join(n for n in {HEAVY!r} if n in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [], f"import {module} loaded {proc.stdout.strip()}"


def test_the_check_itself_sees_a_heavy_import():
    code = f"import geo.osm.fetch, sys; print(' '.join(n for n in {HEAVY!r} if n in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "osmnx" in proc.stdout.split()
