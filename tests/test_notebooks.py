"""The notebooks in notebooks/ run end to end on the shared data, and anywhere without it (on the bundled
example article and snapshot), and are committed without outputs."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from .conftest import REPO, require_shared

pytestmark = pytest.mark.slow  # a browser, a Dask cluster, notebooks or a live server: minutes

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = REPO / "notebooks"
NAMES = ["01_article_to_map", "02_corridors", "03_new_corridor", "04_atlas"]
TIMEOUT_S = 600


def _kernel_env(tmp_path: Path, shared: Path) -> dict[str, str]:
    """The kernel imports ``geo`` from this checkout, reads ``shared`` and caches/exports under ``tmp_path``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["CORRIDORMAP_SHARED"] = str(shared)
    env["CORRIDORMAP_CACHE"] = str(tmp_path / "cache")
    env["CORRIDORMAP_EXPORT_DIR"] = str(tmp_path / "export")
    env.pop("CORRIDORMAP_LAYERS", None)
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _execute(name: str, env: dict[str, str]):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=TIMEOUT_S, resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute(env=env)
    return nb


def _tagged(nb, tag: str):
    return [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.extend(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_end_to_end(name, tmp_path):
    shared = require_shared()
    require_shared("articles", "aliyev-moscow-2024.txt")
    require_shared("osm")
    started = time.monotonic()
    nb = _execute(name, _kernel_env(tmp_path, shared))
    print(f"{name}: {time.monotonic() - started:.1f} s")

    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    setup = _tagged(nb, "setup")[0]
    # the kernel imported this checkout's geo, not another install
    assert f"from {REPO / 'geo'}" in _text(setup)
    maps = _tagged(nb, "map")
    assert maps, f"{name} has no cell tagged 'map'"
    for cell in maps:
        html = "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)
        assert "leaflet" in html.lower() or "folium" in html.lower() or "iframe" in html.lower(), html[:300]

    if name == "01_article_to_map":
        assert "Komsomolsk-on-Amur" in "".join(_text(c) for c in nb.cells)
    elif name == "02_corridors":
        export = tmp_path / "export"
        assert {p.name for p in export.iterdir()} >= {
            "corridors.gpkg", "bam.geojson", "north-south.geojson", "ru-az-border.geojson"}
        import pyogrio

        tables = {row[0] for row in pyogrio.list_layers(export / "corridors.gpkg")}
        assert {"bam_segment", "bam_station", "ru-az-border_crossing", "article_places"} <= tables
    elif name == "03_new_corridor":
        assert "plausible:" in "".join(_text(c) for c in nb.cells)
        assert not (REPO / "layers" / "south-siberian.toml").exists()
    elif name == "04_atlas":
        text = "".join(_text(c) for c in nb.cells)
        assert "236 documents in 6 shards" in text and "Dask dashboard (local cluster, 2 workers)" in text
        assert "236 documents, " in text and "0 documents skipped" in text
        assert "atlas/atlas.html" in text and "atlas/places.csv" in text


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_anywhere_without_shared_data(name, tmp_path):
    """Without the shared folder a notebook runs on the bundled example article and snapshot, says so in
    one line, and its map cells render in Jupyter (text/html) and in nbconvert's HTML."""
    missing = tmp_path / "no-shared"
    missing.mkdir()  # an empty folder: no articles/, osm/ or geoparse/
    nb = _execute(name, _kernel_env(tmp_path, missing))
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors[:1]
    setup = _text(_tagged(nb, "setup")[0])
    assert f"no shared data at {missing}: using the bundled example article" in setup
    assert "shared/ folder would add" in setup
    maps = _tagged(nb, "map")
    for cell in maps:
        html = "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)
        assert "leaflet" in html.lower() or "iframe" in html.lower(), html[:300]
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    assert body.count("<iframe") >= len(maps) and "leaflet" in body.lower()


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: clear the outputs before committing"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
