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
