"""The README stays true: its Python example runs, and CI runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", (REPO / "README.md").read_text(encoding="utf-8"), flags=re.S)


def test_python_api_example_runs(example_article, osm_dir, monkeypatch, tmp_path):
    """The example article; the BAM from the bundled snapshot; the other calls with ``osm_dir``."""
    import json

    import folium

    (code,) = _blocks("python")
    code = code.replace('"article.txt"', repr(str(example_article))).replace('"../shared/osm"', repr(str(osm_dir)))
    monkeypatch.chdir(tmp_path)
    docs = [{"id": "a", "text": "Trains from Baku reach Derbent."}, {"id": "b", "text": "No places here."}]
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    import osmnx as ox

    from geo import settings

    monkeypatch.setattr(settings, "overpass_url", [])  # the example points live fetches elsewhere: restored after
    monkeypatch.setattr(ox.settings, "overpass_url", ox.settings.overpass_url)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert settings.overpass_url == ["http://localhost:12345/api"] == [ox.settings.overpass_url]
    assert isinstance(scope["m"], folium.Map)
    assert "Komsomolsk-on-Amur" in set(scope["frame"]["name"])
    assert 4100 <= scope["bam"].length_km <= 4500 and scope["bam"].source == "snapshot"
    assert (tmp_path / "output" / "index.html").is_file() and scope["report"].sources["bam"] == "osm"
    toponyms = [json.loads(line) for line in (tmp_path / "toponyms.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [d["id"] for d in toponyms] == ["a", "b"] and {t["name"] for t in toponyms[0]["toponyms"]} >= {"Baku", "Derbent"}
    assert (tmp_path / "snap" / "manifest.json").is_file()


def test_ci_runs_the_readme_test_command():
    commands = [b.strip() for b in _blocks("") if b.strip().startswith(".venv/bin/python -m pytest")]
    assert commands, "README names its test command in a code block"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[0] in ci
    assert "CORRIDORMAP_REQUIRE_SHARED=1" in ci
