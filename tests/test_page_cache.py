"""A warm build writes the cached pages again: the same bytes as a cold build, without drawing; any changed
input draws anew (geo.page_cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo import cli, page_cache, pipeline, settings
from geo.maps import draw
from geo.osm.source import Extract

REPO = Path(__file__).resolve().parents[1]

# Our own sentences: a line over the Samur near Yalama, on the Russia-Azerbaijan border.
ARTICLE = ("Freight trains from Derbent now cross the Samur river near Yalama every night. "
           "Officials in Baku said the Russia–Azerbaijan border crossing would stay open in winter.\n")
RAIL = {"type": "Feature", "properties": {"osm_id": 1, "railway": "rail", "name": "Samur - Yalama line"},
        "geometry": {"type": "LineString", "coordinates": [[48.52, 41.84], [48.535, 41.76]]}}


@pytest.fixture
def osm(tmp_path) -> Path:
    folder = tmp_path / "osm"
    folder.mkdir()
    (folder / "rail.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [RAIL]}),
                                         encoding="utf-8")
    return folder


@pytest.fixture
def work(monkeypatch) -> dict[str, list[str]]:
    """The layers whose OSM data is read and the maps drawn, in this test; no replay within the process."""
    seen: dict[str, list[str]] = {"reads": [], "drawn": []}
    real_read, real_draw = Extract.read, draw.build_map

    def read(self, layer, *args, **kwargs):
        seen["reads"].append(layer.id)
        return real_read(self, layer, *args, **kwargs)

    def build_map(results, *args, **kwargs):
        seen["drawn"].append(kwargs.get("title", ""))
        return real_draw(results, *args, **kwargs)

    monkeypatch.setattr(Extract, "read", read)
    monkeypatch.setattr(draw, "build_map", build_map)
    pipeline.replays.clear()
    yield seen
    pipeline.replays.clear()


def _build(article, out: Path, osm: Path, **options) -> pipeline.BuildReport:
    pipeline.replays.clear()  # the process's replay would answer first: this is about the disk
    return pipeline.build(article, out, osm_dir=osm, layer_ids=["ru-az-border"], **options)


def _same_files(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_warm_build_without_an_article_writes_the_same_bytes_without_drawing(layers_dir, osm, work, tmp_path):
    cold = _build(None, tmp_path / "cold", osm)
    drawn = len(work["drawn"])
    assert drawn and work["reads"] == ["ru-az-border"]
    warm = _build(None, tmp_path / "warm", osm)
    assert len(work["drawn"]) == drawn and work["reads"] == ["ru-az-border"]  # nothing read or drawn again
    _same_files(tmp_path / "cold", tmp_path / "warm")
    assert [p.name for p in warm.files] == [p.name for p in cold.files]
    assert all(p.parent == tmp_path / "warm" for p in warm.files)
    assert (warm.sources, warm.details, warm.chosen) == (cold.sources, cold.details, cold.chosen)


def test_warm_build_with_an_article_writes_the_same_bytes_and_prints_the_same(layers_dir, osm, work, tmp_path,
                                                                               capsys):
    article = tmp_path / "samur.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    outputs, drawn = [], []
    for name in ("cold", "warm"):
        assert cli.main(["build", str(article), "--osm-dir", str(osm), "--layer", "ru-az-border", "--embed",
                         "--out", str(tmp_path / name)]) == 0
        pipeline.replays.clear()
        outputs.append([line for line in capsys.readouterr().out.splitlines()
                        if not line.startswith(("wrote ", "done in ", "open "))])
        drawn.append(len(work["drawn"]))
    assert work["reads"] == ["ru-az-border"] and drawn[0] == drawn[1] > 0
    _same_files(tmp_path / "cold", tmp_path / "warm")
    assert outputs[0] == outputs[1]  # the same mentions, sources, places not drawn and embed snippets
    assert "mentions of" in outputs[1][0] and any("iframe" in line for line in outputs[1])
    assert "Yalama" in (tmp_path / "warm" / "ru-az-border.html").read_text(encoding="utf-8")


def test_a_changed_input_draws_the_page_anew(layers_dir, osm, work, tmp_path, monkeypatch):
    article = tmp_path / "samur.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    _build(article, tmp_path / "a", osm)
    page = (tmp_path / "a" / "ru-az-border.html").read_bytes()
    drawn = len(work["drawn"])
    _build(article, tmp_path / "tiles", osm, tiles="none")  # another option
    assert len(work["drawn"]) > drawn
    assert (tmp_path / "tiles" / "ru-az-border.html").read_bytes() != page
    monkeypatch.setattr(settings, "border_open_zoom", settings.border_open_zoom - 3)  # another setting
    _build(article, tmp_path / "zoom", osm)
    assert (tmp_path / "zoom" / "ru-az-border.html").read_bytes() != page
    layer_file = layers_dir / "ru-az-border.toml"
    layer_file.write_text(layer_file.read_text(encoding="utf-8").replace(
        'title = "Russia–Azerbaijan border"', 'title = "Samur frontier"'), encoding="utf-8")
    _build(article, tmp_path / "title", osm)  # another layer file
    assert "Samur frontier" in (tmp_path / "title" / "ru-az-border.html").read_text(encoding="utf-8")
    article.write_text(ARTICLE + "A new terminal opened in Khachmaz.\n", encoding="utf-8")
    _build(article, tmp_path / "longer", osm)  # another article
    assert "Khachmaz" in (tmp_path / "longer" / "ru-az-border.html").read_text(encoding="utf-8")
    assert "Khachmaz" not in (tmp_path / "title" / "ru-az-border.html").read_text(encoding="utf-8")


def test_a_damaged_cache_entry_is_deleted_and_the_build_runs_in_full(layers_dir, osm, work, tmp_path):
    _build(None, tmp_path / "cold", osm)
    (entry,) = page_cache.folder().glob("*.bin")
    assert entry.stat().st_mode & 0o777 == 0o600
    data = bytearray(entry.read_bytes())
    data[-10] ^= 0xFF
    entry.write_bytes(bytes(data))
    drawn = len(work["drawn"])
    _build(None, tmp_path / "again", osm)
    assert len(work["drawn"]) > drawn  # drawn again, not written from the damaged entry
    _same_files(tmp_path / "cold", tmp_path / "again")


def test_the_least_recently_used_pages_go_first(layers_dir, osm, work, tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "page_cache_entries", 2)
    for tiles in ("light", "osm", "none"):
        _build(None, tmp_path / f"out-{tiles}", osm, tiles=tiles)
    assert len(list(page_cache.folder().glob("*.bin"))) == 2
    drawn = len(work["drawn"])
    _build(None, tmp_path / "none-again", osm, tiles="none")  # kept: the newest
    assert len(work["drawn"]) == drawn
    _build(None, tmp_path / "light-again", osm, tiles="light")  # pruned: the oldest
    assert len(work["drawn"]) > drawn


def test_a_warm_command_line_build_loads_no_drawing_or_frame_library(osm, tmp_path):
    env = dict(os.environ, CORRIDORMAP_CACHE=str(tmp_path / "cache"), CORRIDORMAP_USER_LAYERS=str(tmp_path / "u"))
    build = ["build", "--osm-dir", str(osm), "--layer", "ru-az-border", "--out"]
    cold = subprocess.run([sys.executable, "-m", "geo.cli", *build, str(tmp_path / "cold")], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert cold.returncode == 0, cold.stderr
    code = ("import sys; from geo import cli; code = cli.main(sys.argv[1:]); "
            "print('loaded:', *[m for m in ('folium', 'geopandas', 'pandas', 'pyogrio', 'osmnx', 'networkx', "
            "'spacy') if m in sys.modules])")
    warm = subprocess.run([sys.executable, "-c", code, *build, str(tmp_path / "warm")], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.splitlines()[-1] == "loaded:"
    _same_files(tmp_path / "cold", tmp_path / "warm")
