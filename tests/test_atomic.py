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

pytestmark = pytest.mark.slow  # a browser, a Dask cluster, notebooks or a live server: minutes


#: How many kill -9 and concurrent-build runs (the issue's loops are 20 and 10: CORRIDORMAP_KILL_RUNS=20).
RUNS = int(os.environ.get("CORRIDORMAP_KILL_RUNS", "3"))
REPO = Path(__file__).parents[1]


def _build_cmd(out: Path, tiles: str) -> list[str]:
    """A quick offline build (one border layer, no article): about a second of work after the imports."""
    return [sys.executable, "-m", "geo.cli", "build", "--layer", "ru-az-border", "--offline", "--tiles", tiles,
            "--out", str(out)]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CORRIDORMAP_CACHE": str(tmp_path / "cache")}


def _tiles_of(out: Path) -> set[str]:
    """Which build each map comes from: the --tiles osm build names the OSM tile server, the other does not."""
    return {"osm" if "tile.openstreetmap.org" in p.read_text(encoding="utf-8") else "none" for p in out.glob("*.html")}


def _assert_all_whole(out: Path) -> None:
    for path in out.glob("*.html"):
        assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), path
    for path in out.glob("*.geojson"):
        assert json.loads(path.read_text(encoding="utf-8"))["type"] == "FeatureCollection", path


def _assert_one_build(out: Path, names: list[str]) -> str:
    """The folder holds the files of exactly one build, each whole; returns which build."""
    assert sorted(p.name for p in out.iterdir()) == names
    _assert_all_whole(out)
    tiles = _tiles_of(out)
    assert len(tiles) == 1, f"maps from two builds: {tiles}"
    return tiles.pop()


@pytest.fixture(scope="module")
def previous_build(tmp_path_factory):
    """The files of an earlier build with OSM tiles (the killed builds draw none)."""
    root = tmp_path_factory.mktemp("previous")
    out = root / "out"
    subprocess.run(_build_cmd(out, "osm"), check=True, capture_output=True, cwd=REPO, env=_env(root))
    return {p.name: p.read_bytes() for p in out.iterdir()}


def _wait_for_writes(parent: Path, since_ns: int, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    """Return once any file under ``parent`` (an output, a temporary or staged file) is newer than ``since_ns``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        for path in parent.rglob("*"):
            try:
                if path.is_file() and not path.name.endswith(".lock") and path.stat().st_mtime_ns > since_ns:
                    return
            except FileNotFoundError:  # renamed or removed while we looked
                continue
        time.sleep(0.005)


@pytest.mark.parametrize("run", range(RUNS))
def test_killed_build_leaves_the_previous_or_the_new_set(tmp_path, previous_build, run):
    """kill -9 (or Ctrl-C, every third run) once the build starts writing, at a different moment each run."""
    out = tmp_path / "out"
    out.mkdir()
    for name, data in previous_build.items():
        (out / name).write_bytes(data)
    time.sleep(0.01)
    launched = time.time_ns()
    proc = subprocess.Popen(_build_cmd(out, "none"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
                            env=_env(tmp_path))
    _wait_for_writes(tmp_path, launched, proc)
    time.sleep((run % 7) * 0.03)  # 0 .. 180 ms into the writing
    sig = signal.SIGINT if run % 3 == 2 else signal.SIGKILL
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    _assert_one_build(out, sorted(previous_build))
    if sig == signal.SIGINT and proc.returncode == 130:
        assert b"interrupted" in err and b"Traceback" not in err
    # the next build cleans what the killed one left beside the folder, and writes its set whole
    subprocess.run(_build_cmd(out, "none"), check=True, capture_output=True, cwd=REPO, env=_env(tmp_path))
    assert _assert_one_build(out, sorted(previous_build)) == "none"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []  # no lock file beside it


@pytest.mark.parametrize("run", range(max(1, RUNS - 1)))
def test_concurrent_builds_into_one_folder_queue(tmp_path, run):
    """Two builds into one folder both succeed, one after the other; the folder holds one build's set."""
    out = tmp_path / "out"
    procs = [subprocess.Popen(_build_cmd(out, tiles), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
                              env=_env(tmp_path)) for tiles in ("osm", "none")]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    _assert_one_build(out, ["build.json", "index.geojson", "index.html", "ru-az-border.geojson", "ru-az-border.html"])
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []  # no lock file beside it


def test_a_build_waiting_too_long_for_the_lock_fails_clearly(tmp_path, monkeypatch, capsys):
    from geo import cli, settings

    monkeypatch.setattr(settings, "build_lock_wait_s", 0.3)
    out = tmp_path / "out"
    with output.folder_lock(out):
        assert cli.main(["build", "--layer", "ru-az-border", "--offline", "--tiles", "none", "--out", str(out)]) == 2
    assert "another corridormap run is writing" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".out.build-*"))


def test_full_disk_mid_build_keeps_the_previous_set(tmp_path, monkeypatch, capsys):
    from geo import cli

    out = tmp_path / "out"
    assert cli.main(["build", "--layer", "ru-az-border", "--offline", "--tiles", "osm", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real, calls = output.write_bytes, []

    def fill_up(path, data):
        calls.append(path)
        if len(calls) == 3:
            raise OutputError(f"cannot write {path}: No space left on device; check the output folder")
        return real(path, data)

    monkeypatch.setattr(output, "write_bytes", fill_up)
    assert cli.main(["build", "--layer", "ru-az-border", "--offline", "--tiles", "none", "--out", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not list(tmp_path.glob(".out.build-*"))


def test_files_the_build_does_not_write_are_kept(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with output.staged_dir(out) as stage:
        (stage / "index.html").write_text("<html></html>")
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"


def test_the_working_folder_is_never_replaced(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for folder in (".", str(tmp_path.parent)):
        with pytest.raises(OutputError, match="a folder of its own"):
            output.check_output_dir(folder)


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


def test_an_output_folder_behind_a_symlink_keeps_the_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "old.html").write_text("old")
    link = tmp_path / "out"
    link.symlink_to(real)
    with output.staged_dir(link) as stage:
        (stage / "index.html").write_text("<html></html>")
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert sorted(p.name for p in real.iterdir()) == ["index.html", "old.html"]


def test_a_shorter_build_leaves_no_maps_of_a_longer_one(tmp_path, capsys):
    from geo import cli

    out = tmp_path / "out"
    base = ["build", "--offline", "--tiles", "none", "--out", str(out)]
    assert cli.main([*base, "--layer", "bam", "--layer", "ru-az-border"]) == 0
    assert {"bam.html", "bam.geojson", "ru-az-border.html", "index.html", "build.json"} <= {p.name for p in out.iterdir()}
    (out / "notes.txt").write_text("mine")  # the user's own file
    (out / "bam.geojson").write_text("edited by hand")  # a build's file someone changed since
    capsys.readouterr()
    assert cli.main([*base, "--layer", "ru-az-border"]) == 0
    err = capsys.readouterr().err
    names = sorted(p.name for p in out.iterdir())
    assert names == ["bam.geojson", "build.json", "index.geojson", "index.html", "notes.txt",
                     "ru-az-border.geojson", "ru-az-border.html"], names
    assert "bam.html" in err and "an earlier build wrote" in err and "removed from" in err
    manifest = json.loads((out / "build.json").read_text(encoding="utf-8"))
    assert manifest["tool"] == "corridormap" and manifest["version"]
    assert sorted(f["name"] for f in manifest["files"]) == ["index.geojson", "index.html", "ru-az-border.geojson",
                                                            "ru-az-border.html"]
    assert [layer["id"] for layer in manifest["inputs"]["layers"]] == ["ru-az-border"]
    assert manifest["inputs"]["offline"] is True and manifest["inputs"]["article"] is None
