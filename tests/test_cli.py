"""The command line: bad input gives one line, exit code 2, and earlier outputs stay intact."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from geo import cli, settings

REPO_LAYERS = Path(__file__).resolve().parents[1] / "layers"


def run(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def earlier_output(tmp_path):
    """An output folder holding a map from an earlier build."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "bam.html").write_text("<html>earlier map</html>", encoding="utf-8")
    return out


def _assert_one_line_error(code, err, *needles):
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("corridormap: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]


def test_missing_article(capsys, tmp_path, earlier_output):
    code, _, err = run(capsys, "build", tmp_path / "nope.txt", "--out", earlier_output, "--offline")
    _assert_one_line_error(code, err, "nope.txt", "does not exist")
    assert (earlier_output / "bam.html").read_text() == "<html>earlier map</html>"


@pytest.mark.parametrize("content, needle", [(b"", "is empty"), (b"  \n\t \n", "is empty"),
                                             (bytes(range(256)) * 40, "looks binary")],
                         ids=["empty", "whitespace", "binary"])
def test_unusable_article(capsys, tmp_path, earlier_output, content, needle):
    article = tmp_path / "article.txt"
    article.write_bytes(content)
    code, _, err = run(capsys, "build", article, "--out", earlier_output, "--offline")
    _assert_one_line_error(code, err, needle)
    assert sorted(p.name for p in earlier_output.iterdir()) == ["bam.html"]


def test_unknown_layer(capsys, earlier_output):
    code, _, err = run(capsys, "build", "--layer", "atlantis", "--out", earlier_output, "--offline")
    _assert_one_line_error(code, err, "unknown layer 'atlantis'", "bam")
    assert (earlier_output / "bam.html").read_text() == "<html>earlier map</html>"


def test_malformed_layer_file(capsys, tmp_path, earlier_output, monkeypatch):
    folder = tmp_path / "layers"
    shutil.copytree(REPO_LAYERS, folder)
    path = folder / "north-south.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('kind = "corridor"', 'kind = 7'), encoding="utf-8")
    monkeypatch.setattr(settings, "layers_dir", folder)
    code, _, err = run(capsys, "build", "--out", earlier_output, "--offline")
    _assert_one_line_error(code, err, "north-south.toml", "'kind'")
    assert (earlier_output / "bam.html").read_text() == "<html>earlier map</html>"


def test_output_path_is_a_file(capsys, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("keep me")
    code, _, err = run(capsys, "build", "--out", target, "--offline")
    _assert_one_line_error(code, err, "is a file")
    assert target.read_text() == "keep me"


def test_missing_osm_dir(capsys, tmp_path):
    code, _, err = run(capsys, "build", "--osm-dir", tmp_path / "no-such-dir", "--out", tmp_path / "out")
    _assert_one_line_error(code, err, "--osm-dir", "is not a folder")


def test_layers_command_lists_the_layers(capsys):
    code, out, _ = run(capsys, "layers")
    assert code == 0
    for layer_id in ("bam", "north-south", "ru-az-border"):
        assert layer_id in out
    assert "Baikal-Amur Mainline" in out


def test_build_without_article_writes_the_corridor_maps(capsys, tmp_path, osm_dir):
    out = tmp_path / "out"
    code, stdout, _ = run(capsys, "build", "--osm-dir", osm_dir, "--out", out, "--tiles", "none")
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    every = [p.stem for p in sorted(settings.layers_dir.glob("*.toml"))] + ["index"]
    assert names == sorted([f"{n}.{ext}" for n in every for ext in ("html", "geojson")] + ["build.json"])
    assert "bam: osm" in stdout
    index = json.loads((out / "index.geojson").read_text(encoding="utf-8"))
    kinds = {f["properties"]["kind"] for f in index["features"]}
    assert kinds == {"segment", "station", "crossing", "border"}
    for feature in index["features"]:
        assert {"layer", "kind", "name", "source"} <= set(feature["properties"])
    assert "OpenStreetMap contributors" in index["attribution"]


def test_mentions_json_has_the_documented_fields(capsys, example_article):
    code, out, _ = run(capsys, "mentions", example_article, "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert rows and all(set(r) == {"text", "start", "end", "sentence", "name", "country", "lat", "lon",
                                   "geonames_id", "score", "flags"} for r in rows)
    text = example_article.read_text(encoding="utf-8")
    assert all(text[r["start"]:r["end"]] == r["text"] for r in rows)
    derbent = next(r for r in rows if r["text"] == "Derbent")
    assert derbent["country"] == "RU" and abs(derbent["lat"] - 42.07) < 0.1


def test_mentions_json_says_how_named_infrastructure_was_placed(capsys, tmp_path):
    article = tmp_path / "line.txt"
    article.write_text("Traffic on the Karymskaya–Zabaikalsk line doubled, officials in Chita said, and the "
                       "Baikal Tunnel near Severobaykalsk reopened.", encoding="utf-8")
    code, out, _ = run(capsys, "mentions", str(article), "--format", "json")
    assert code == 0
    rows = {r["text"]: r for r in json.loads(out)}
    line = rows["Karymskaya–Zabaikalsk line"]
    assert line["placed"] == "line" and [e["text"] for e in line["ends"]] == ["Karymskaya", "Zabaikalsk"]
    assert min(e["lat"] for e in line["ends"]) < line["lat"] < max(e["lat"] for e in line["ends"])
    tunnel = rows["Baikal Tunnel"]
    assert tunnel["placed"] == "named" and tunnel["ends"][0]["name"] == "Lake Baikal"
    assert "placed" not in rows["Chita"]


def test_mentions_table(capsys, example_article):
    code, out, _ = run(capsys, "mentions", example_article)
    assert code == 0
    assert "Severobaykal" in out and "resolved" in out.splitlines()[-1]


def test_geoparse_command(capsys, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Trains run from Baku to Derbent in Dagestan, Russia."}) + "\n",
                   encoding="utf-8")
    code, out, _ = run(capsys, "geoparse", src, "--out", tmp_path / "pred.jsonl")
    assert code == 0 and "geoparsed 1 documents" in out
    pred = json.loads((tmp_path / "pred.jsonl").read_text(encoding="utf-8"))
    names = {t["name"]: t for t in pred["toponyms"]}
    assert {"Baku", "Derbent"} <= set(names)
    assert names["Derbent"]["country"] == "RU"
    for key in ("start", "end", "name", "lat", "lon", "geonames_id", "country", "feature_class", "score"):
        assert key in names["Baku"]


def test_geoparse_bad_line_names_file_and_line(capsys, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "Baku"}\nnot json\n', encoding="utf-8")
    code, _, err = run(capsys, "geoparse", src, "--out", tmp_path / "pred.jsonl")
    assert code == 2 and "Traceback" not in err
    warning, error = [line for line in err.splitlines() if line.strip()]
    assert warning.startswith("corridormap: warning: ") and "in.jsonl:2: not JSON" in warning
    assert error.startswith("corridormap: error: 1 documents of") and "skipped" in error
    assert [json.loads(x)["id"] for x in (tmp_path / "pred.jsonl").read_text().splitlines()] == ["a"]


def test_mentions_into_a_closed_pipe_ends_quietly(tmp_path):
    """`corridormap mentions ... | head -1`: no traceback, no "internal error" once the reader has gone."""
    import subprocess
    import sys

    article = tmp_path / "a.txt"
    article.write_text(" ".join(["Trains run from Baku to Derbent and on to Astrakhan."] * 200), encoding="utf-8")
    repo = Path(__file__).resolve().parents[1]
    cmd = f"{sys.executable} -m geo.cli mentions {article} | head -1"
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, cwd=repo, timeout=300)
    assert proc.stdout.startswith("mention"), proc.stdout
    assert "error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


# --- a CLI that talks, stdin, corrections ------------------------------------------------------

def test_version_and_help_with_examples(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("corridormap ")
    with pytest.raises(SystemExit):
        cli.main(["build", "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and "--self-contained" in out and "--fixes" in out and "build -" in out


def test_fixes_file_errors_are_one_line(capsys, tmp_path):
    bad = tmp_path / "fixes.toml"
    for text, needle in (('[[fix]]\nmention = "Baku"\n', "give geonames_id"),
                         ('[[fix]]\nmention = "Baku"\nlat = 95\nlon = 10\n', "not on Earth"),
                         ('[[fix]]\nmention = "Baku"\ngeonames_id = 1\ncolour = "red"\n', "unknown key colour"),
                         ("[[fix]\n", "not valid TOML")):
        bad.write_text(text, encoding="utf-8")
        code, _, err = run(capsys, "build", "--fixes", bad, "--out", tmp_path / "out")
        _assert_one_line_error(code, err, needle)
    code, _, err = run(capsys, "build", "--fixes", tmp_path / "none.toml", "--out", tmp_path / "out")
    _assert_one_line_error(code, err, "does not exist")
    assert not (tmp_path / "out").exists()  # refused before anything was written


ARTICLE_FOR_FIXES = ("Freight from Moscow reaches Derbent and then Baku. Officials in Baku said the Samur bridge "
                     "matters. Lenin would have approved.")


def test_mentions_from_stdin_apply_fixes_and_flag_picks(capsys, monkeypatch, tmp_path):
    import io
    import sys

    fixes = tmp_path / "fixes.toml"
    fixes.write_text('[[fix]]\nmention = "baku"\nlat = 40.5\nlon = 50.0\n\n[[fix]]\nmention = "Moscow"\ndrop = true\n',
                     encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ARTICLE_FOR_FIXES.encode("utf-8"))))
    monkeypatch.setattr(settings, "progress_always", True)  # stderr is no terminal here
    code, out, err = run(capsys, "mentions", "-", "--format", "json", "--fixes", fixes)
    assert code == 0
    rows = json.loads(out)
    assert "Moscow" not in {r["text"] for r in rows}
    baku = [r for r in rows if r["text"] == "Baku"]
    assert len(baku) == 2 and all((r["lat"], r["lon"], r["flags"]) == (40.5, 50.0, ["set by hand"]) for r in baku)
    assert "finding the places" in err  # progress on stderr, the JSON alone on stdout
    assert all(isinstance(r["flags"], list) for r in rows)


def test_build_talks_applies_fixes_and_says_what_to_open(capsys, tmp_path, osm_dir, monkeypatch):
    monkeypatch.setattr(settings, "progress_always", True)
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE_FOR_FIXES, encoding="utf-8")
    fixes = tmp_path / "fixes.toml"
    fixes.write_text('[[fix]]\nmention = "Derbent"\nlat = 42.0\nlon = 48.3\n', encoding="utf-8")
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "build", article, "--layer", "north-south", "--osm-dir", osm_dir, "--out", out_dir,
                         "--fixes", fixes)
    assert code == 0
    steps = [line for line in err.splitlines() if line.startswith("corridormap: [")]
    assert any("building layer north-south" in s for s in steps) and any("drawing the maps" in s for s in steps)
    closing = out.strip().splitlines()[-2:]
    assert closing[0] == f"open {out_dir / 'index.html'} in a browser (one map per layer beside it)"
    assert "--self-contained" in closing[1]
    features = json.loads((out_dir / "north-south.geojson").read_text())["features"]
    derbent = next(f for f in features if f["properties"]["kind"] == "mention" and f["properties"]["name"] == "Derbent")
    assert derbent["geometry"]["coordinates"] == [48.3, 42.0] and derbent["properties"]["set_by_hand"] is True
    from tests.pages import page_strings

    assert "Position set by hand" in page_strings((out_dir / "north-south.html").read_text())


# --- issue 23: a CLI without rough edges -------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--quiet", "layers"], ["layers", "--quiet"], ["--debug", "layers", "--quiet"]])
def test_global_options_are_accepted_before_or_after_the_command(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 0 and "bam" in out and not err
    args = cli._parser().parse_args(["--quiet", "build", "article.txt"])
    assert args.quiet is True  # given before the command, not reset by the command's own option
    assert cli._parser().parse_args(["build", "article.txt", "--quiet"]).quiet is True


def test_each_command_shows_its_own_examples(capsys):
    with pytest.raises(SystemExit):
        cli.main(["mentions", "--help"])
    out = capsys.readouterr().out
    assert "corridormap mentions article.txt --format json" in out
    assert "corridormap build" not in out
    with pytest.raises(SystemExit):
        cli.main(["build", "--help"])
    out = capsys.readouterr().out
    assert "corridormap build article.txt --self-contained" in out and "corridormap mentions" not in out
    assert "bundled in the package" in out  # --offline says where offline data comes from


def test_version_names_the_bundled_snapshot_date(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    out = capsys.readouterr().out
    from geo import __version__

    assert out.strip() == f"corridormap {__version__} (bundled OSM snapshot: data as of 2026-04)"


def test_layers_table_stays_aligned_for_a_long_id_and_says_where_data_comes_from(capsys, tmp_path, monkeypatch):
    folder = tmp_path / "layers"
    shutil.copytree(REPO_LAYERS, folder)
    long_id = "a-corridor-with-a-rather-long-identifier"
    text = (folder / "instc-east.toml").read_text(encoding="utf-8").replace('id = "instc-east"', f'id = "{long_id}"')
    (folder / f"{long_id}.toml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(settings, "layers_dir", folder)
    code, out, _ = run(capsys, "layers")
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines() if line and not line.startswith((" ", "("))}
    assert long_id in rows and "bam" in rows
    # every column starts at the same place on every row
    for column in ("kind", "offline data"):
        starts = {rows["id"].index(column)}
        value = {"kind": ("corridor", "border"), "offline data": ("bundled OSM", "schematic")}[column]
        for layer_id, line in rows.items():
            if layer_id != "id":
                starts.add(min(line.index(f" {v} ") + 1 for v in value if f" {v} " in line))
        assert len(starts) == 1, out
    assert "bundled OSM 2026-04" in rows["bam"] and "bundled OSM 2026-04" in rows["ru-az-border"]
    assert "schematic" in rows[long_id]


def test_ctrl_c_before_anything_is_written_says_so(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "layers", interrupted)
    monkeypatch.setattr(cli.files, "completed", [])
    code, _, err = run(capsys, "layers")
    assert code == 130
    assert "interrupted before any file was written" in err and "complete" not in err


def test_ctrl_c_after_the_output_folder_was_swapped_in_names_it(capsys, monkeypatch, tmp_path):
    out = tmp_path / "out"

    def interrupted(args):
        with cli.files.staged_dir(out) as stage:
            (stage / "index.html").write_text("<html></html>", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "layers", interrupted)
    monkeypatch.setattr(cli.files, "completed", [])
    code, _, err = run(capsys, "layers")
    assert code == 130 and f"the files in {out} are complete" in err


def test_a_build_leaves_nothing_beside_its_output_folder(capsys, tmp_path):
    code, _, err = run(capsys, "build", "--layer", "ru-az-border", "--offline", "--tiles", "none",
                       "--out", tmp_path / "out")
    assert code == 0, err
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no .out.lock, no staging folder
    assert list((Path(settings.cache_dir) / "locks").glob("out-*.lock"))  # the lock lives in the cache folder


def test_the_first_gazetteer_build_says_what_it_builds_and_that_it_happens_once(capsys, tmp_path, monkeypatch):
    from geo import progress
    from geo.text import gazetteer

    class Stop(Exception):
        pass

    def build(layers=None):
        raise Stop

    monkeypatch.setattr(settings, "cache_dir", tmp_path / "empty-cache")
    monkeypatch.setattr(gazetteer, "build", build)
    monkeypatch.setattr(gazetteer, "shipped_file", lambda: tmp_path / "none.npz.zst")  # inputs the shipped one lacks
    gazetteer._load_folder.cache_clear()  # an earlier test of this process may have loaded the gazetteer
    progress.enable(True)
    try:
        with pytest.raises(Stop):
            gazetteer.load()
    finally:
        progress.enable(False)
    err = capsys.readouterr().err
    assert "building the place-name gazetteer" in err and "once" in err and str(tmp_path / "empty-cache") in err
