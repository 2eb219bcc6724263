"""Outputs are written atomically: a build killed part way leaves every map whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geo import files as output
from geo.errors import OutputError


def _build_cmd(out: Path, osm_dir: Path) -> list[str]:
    return [sys.executable, "-m", "geo.cli", "build", "--osm-dir", str(osm_dir), "--out", str(out), "--tiles", "none"]


def _assert_all_whole(out: Path) -> None:
    for path in out.glob("*.html"):
        assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), path
    for path in out.glob("*.geojson"):
        assert json.loads(path.read_text(encoding="utf-8"))["type"] == "FeatureCollection", path


@pytest.fixture(scope="module")
def previous_build(tmp_path_factory, osm_dir):
    out = tmp_path_factory.mktemp("previous")
    subprocess.run(_build_cmd(out, osm_dir), check=True, capture_output=True, cwd=Path(__file__).parents[1])
    return {p.name: p.read_bytes() for p in out.iterdir()}


@pytest.mark.parametrize("sig, delay", [(signal.SIGINT, 3.0), (signal.SIGKILL, 3.5), (signal.SIGKILL, 5.0)],
                         ids=["ctrl-c", "kill-early", "kill-late"])
def test_killed_build_leaves_previous_or_complete_maps(tmp_path, osm_dir, previous_build, sig, delay):
    out = tmp_path / "out"
    out.mkdir()
    for name, data in previous_build.items():
        (out / name).write_bytes(data)
    proc = subprocess.Popen(_build_cmd(out, osm_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=Path(__file__).parents[1])
    time.sleep(delay)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(previous_build)
    _assert_all_whole(out)
    if sig == signal.SIGINT and proc.returncode == 130:
        assert b"interrupted" in err and b"Traceback" not in err
        assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_write_failure_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "map.html"
    target.write_text("old map")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OutputError, match="No space left on device"):
        output.write_text(target, "new map")
    assert target.read_text() == "old map"
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


def test_read_only_output_folder(tmp_path, capsys):
    from geo import cli

    if os.geteuid() == 0:  # root writes through file modes; /proc/self is read-only for everyone
        folder = Path("/proc/self")
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
    with pytest.raises(OutputError, match="not writable"):
        output.prepare_dir(folder)
    assert cli.main(["build", "--layer", "bam", "--offline", "--out", str(folder)]) == 2
    assert "is not writable: fix its permissions or choose another --out" in capsys.readouterr().err


def test_output_folder_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot create output folder"):
        output.prepare_dir(blocker / "sub")
