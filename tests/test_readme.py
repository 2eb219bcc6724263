"""The README stays true: its Python example runs, and CI runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", (REPO / "README.md").read_text(encoding="utf-8"), flags=re.S)


def test_python_api_example_runs(example_article, monkeypatch):
    """As printed: the example article, and the BAM from the bundled snapshot."""
    import folium

    (code,) = _blocks("python")
    code = code.replace('"article.txt"', repr(str(example_article)))
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert isinstance(scope["m"], folium.Map)
    assert "Komsomolsk-on-Amur" in set(scope["frame"]["name"])
    assert 4100 <= scope["bam"].length_km <= 4500 and scope["bam"].source == "snapshot"


def test_ci_runs_the_readme_test_command():
    commands = [b.strip() for b in _blocks("") if b.strip().startswith(".venv/bin/python -m pytest")]
    assert commands, "README names its test command in a code block"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[0] in ci
    assert "CORRIDORMAP_REQUIRE_SHARED=1" in ci
