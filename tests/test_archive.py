"""Archive geoparsing on a local Dask cluster (2 worker processes): same toponyms as the single-process path,
every document exactly once when a worker is killed, bad documents recorded, interrupted runs resumed."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest

from geo import settings
from geo.cli import EXIT_PARTIAL, main
from geo.errors import InputError
from geo.archive.parse import geoparse_archive, part_paths, read_toponyms
from geo.text.geoparse import geoparse_texts, toponyms
from geo.archive.shards import BadDocument, Document, check_document, list_shards, read_shard

from .conftest import need_shared

pytestmark = pytest.mark.slow  # a browser, a Dask cluster, notebooks or a live server: minutes

distributed = pytest.importorskip("distributed")

DOCS_PER_CORPUS = 40
SHARDS = 4


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory):
    """One gazetteer cache for the module, so the driver and workers build it once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _shared_model_cache(model_cache, monkeypatch):
    monkeypatch.setattr(settings, "cache_dir", model_cache)


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    """The first documents of each dev corpus in ../shared/geoparse, with a date on every other one."""
    docs = []
    for name in ("gwn-dev.jsonl", "lgl-dev.jsonl"):
        lines = need_shared(f"geoparse/{name}").read_text(encoding="utf-8").splitlines()[:DOCS_PER_CORPUS]
        docs += [json.loads(line) for line in lines]
    for k, doc in enumerate(docs):
        doc.pop("toponyms", None), doc.pop("toponyms_no_coords", None)
        if k % 2:
            doc["date"] = f"2024-{1 + k % 12:02d}-15"
    return docs


@pytest.fixture(scope="module")
def reference(corpus, model_cache) -> dict[str, list[tuple]]:
    """The single-process result (geoparse_texts + toponyms, as `geoparse IN.jsonl`), per document."""
    old = settings.cache_dir
    settings.cache_dir = model_cache
    try:
        return {doc["id"]: _records(toponyms(m, p))
                for doc, (m, p) in zip(corpus, geoparse_texts(d["text"] for d in corpus))}
    finally:
        settings.cache_dir = old


def _records(recs: list[dict]) -> list[tuple]:
    return sorted((r["start"], r["end"], r["name"], r["geonames_id"], r["country"], round(r["score"], 6),
                   None if r["lat"] is None else round(r["lat"], 5), None if r["lon"] is None else round(r["lon"], 5))
                  for r in recs)


def _write_shards(folder, docs: list[dict], n: int = SHARDS) -> list:
    """n shards: JSON Lines, and the last one Parquet."""
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(docs) // n)
    paths = []
    for k in range(n):
        part = docs[k * size:(k + 1) * size]
        if k == n - 1:
            path = folder / f"shard-{k}.parquet"
            pd.DataFrame(part).to_parquet(path)
        else:
            path = folder / f"shard-{k}.jsonl"
            path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in part), encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def cluster():
    """A local cluster of 2 single-threaded worker processes, shared by the tests of this module."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0") as local, distributed.Client(local) as client:
        yield local.scheduler_address, client


def _output(out) -> dict[str, list[tuple]]:
    frame = read_toponyms(out)
    got: dict[str, list[dict]] = {}
    for row in frame.itertuples():
        point = row.geometry
        got.setdefault(row.id, []).append({
            "start": row.start, "end": row.end, "name": row.name,
            "geonames_id": None if pd.isna(row.geonames_id) else int(row.geonames_id), "country": row.country,
            "score": row.score, "lat": None if point is None else point.y, "lon": None if point is None else point.x})
    return {doc_id: _records(recs) for doc_id, recs in got.items()}


def _documents(out) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in sorted((out / "documents").glob("*.parquet"))], ignore_index=True)


def _assert_complete(out, corpus, reference):
    """Every document exactly once, with the single-process path's toponyms."""
    docs = _documents(out)
    ok = docs[docs["error"].isna()]
    assert sorted(ok["id"]) == sorted(d["id"] for d in corpus)  # each document once, none lost
    got = _output(out)
    for doc in corpus:
        assert got.get(doc["id"], []) == reference[doc["id"]], doc["id"]
    frame = read_toponyms(out)
    assert not frame.duplicated(["id", "start"]).any()


def test_archive_matches_single_process(cluster, corpus, reference, tmp_path):
    shards = _write_shards(tmp_path / "in", corpus)
    out = tmp_path / "out"
    report = geoparse_archive(tmp_path / "in", out, scheduler=cluster[0], progress=False)
    assert report.complete and report.documents == len(corpus) and not report.skipped
    assert report.toponyms == sum(len(v) for v in reference.values())
    _assert_complete(out, corpus, reference)
    for shard in shards:  # one GeoParquet part per shard
        topo, _ = part_paths(out, shard)
        assert b"geo" in pq.read_schema(topo).metadata
    frame = read_toponyms(out)
    dated = {d["id"]: d["date"] for d in corpus if "date" in d}
    rows = frame[frame["id"].isin(dated)]
    assert len(rows) and (rows["date"].dt.strftime("%Y-%m-%d") == rows["id"].map(dated)).all()
    assert frame[~frame["id"].isin(dated)]["date"].isna().all()
    titles = dict(zip(frame["id"], frame["title"]))
    assert titles[corpus[0]["id"]] == corpus[0]["title"]


def test_killed_worker_loses_and_doubles_nothing(cluster, corpus, reference, tmp_path):
    address, client = cluster
    _write_shards(tmp_path / "in", corpus, n=6)
    out = tmp_path / "out"
    result: dict = {}
    run = threading.Thread(target=lambda: result.update(
        report=geoparse_archive(tmp_path / "in", out, scheduler=address, progress=False)))
    run.start()
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items() if any("geoparse_shard" in str(k) for k in keys)]
        if busy:
            pids = client.run(os.getpid, workers=busy[:1])
            victim = pids[busy[0]]
            os.kill(victim, signal.SIGKILL)  # the worker process dies with a shard in flight
        else:
            time.sleep(0.02)
    run.join(timeout=300)
    assert victim is not None, "no shard was ever in flight"
    assert victim not in client.run(os.getpid).values()  # the worker really died (its nanny started a new one)
    report = result["report"]
    assert report.complete and report.documents == len(corpus)
    _assert_complete(out, corpus, reference)


def test_bad_documents_are_recorded_and_the_rest_go_on(cluster, corpus, reference, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(settings, "max_article_bytes", 20_000)  # the workers get the driver's settings
    good = [d for d in corpus[:6] if len(d["text"].encode()) <= 20_000]
    folder = tmp_path / "in"
    folder.mkdir()
    lines = [json.dumps(good[0]), "this is not JSON", json.dumps({"id": "no-text"}),
             json.dumps({"id": "number", "text": 42}), json.dumps({"id": "huge", "text": "Baku. " * 5000}),
             json.dumps(good[1]), json.dumps(["a", "list"])]
    (folder / "mixed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pd.DataFrame([{"id": d["id"], "text": d["text"]} for d in good[2:]] + [{"id": "null-text", "text": None}]
                 ).to_parquet(folder / "table.parquet")
    out = tmp_path / "out"
    code = main(["geoparse", str(folder), "--out", str(out), "--scheduler", cluster[0]])
    captured = capsys.readouterr()
    assert code == EXIT_PARTIAL
    assert "6 documents skipped" in captured.err and "errors.csv" in captured.err
    errors = pd.read_csv(out / "errors.csv")
    got = {(os.path.basename(r.shard), int(r.line)): r.reason for r in errors.itertuples()}
    assert got[("mixed.jsonl", 2)].startswith("not JSON")
    assert got[("mixed.jsonl", 3)] == "no 'text'"
    assert got[("mixed.jsonl", 4)] == "'text' is int, not a string"
    assert got[("mixed.jsonl", 5)].startswith("text too large (30,000 bytes")
    assert got[("mixed.jsonl", 7)].startswith("not a JSON object")
    assert got[("table.parquet", len(good) - 1)] == "no 'text'"
    assert len(got) == 6
    found = _output(out)
    for doc in good:
        assert found.get(doc["id"], []) == reference[doc["id"]]


def test_resume_after_interrupted_run(cluster, corpus, reference, tmp_path):
    _write_shards(tmp_path / "in", corpus, n=6)
    out = tmp_path / "out"

    def stop(result):
        raise KeyboardInterrupt  # Ctrl-C once the first part is written

    with pytest.raises(KeyboardInterrupt):
        geoparse_archive(tmp_path / "in", out, scheduler=cluster[0], progress=False, on_part=stop)
    # finished: both parts written (a shard whose documents part is not there yet is computed again)
    finished = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / "toponyms").glob("*.parquet")
                if (out / "documents" / p.name).is_file()}
    assert 1 <= len(finished) < 6
    report = geoparse_archive(tmp_path / "in", out, scheduler=cluster[0], progress=False)
    for path, stat in finished.items():  # a finished part is neither recomputed nor rewritten
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == stat
    assert len(report.skipped) >= len(finished) and len(report.skipped) + len(report.computed) == 6
    assert report.complete and report.documents == len(corpus)
    _assert_complete(out, corpus, reference)
    again = geoparse_archive(tmp_path / "in", out, scheduler=cluster[0], progress=False)
    assert len(again.skipped) == 6 and not again.computed and again.dashboard is None


def test_cli_local_cluster_prints_dashboard(corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(settings, "dask_dashboard_address", "127.0.0.1:0")
    _write_shards(tmp_path / "in", corpus[:4], n=2)
    code = main(["geoparse", str(tmp_path / "in" / "*"), "--out", str(tmp_path / "out"), "--workers", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Dask dashboard (local cluster, 1 workers): http://127.0.0.1:" in out
    assert "4 documents" in out and len(list((tmp_path / "out" / "toponyms").glob("*.parquet"))) == 2


# --- no cluster needed ---------------------------------------------------------------------------------------

def test_check_document_reasons(monkeypatch):
    monkeypatch.setattr(settings, "max_article_bytes", 10)
    assert check_document(1, {"id": 7, "text": "Baku", "date": "2024-03-01T10:00:00+02:00"}) == Document(
        1, "7", "Baku", date=pd.Timestamp("2024-03-01 08:00"))
    assert check_document(2, {"id": "a", "text": "x", "date": "not a date"}).date is None
    assert check_document(3, {"text": "x"}) == BadDocument(3, None, "no 'id' (a string or integer)")
    assert check_document(4, {"id": "b", "text": ["x"]}).reason == "'text' is list, not a string"
    assert check_document(5, {"id": "c", "text": "Кабардино"}).reason.startswith("text too large (18 bytes")
    assert check_document(6, "text").reason == "not a JSON object but str"


def test_unreadable_shards_are_one_bad_line(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    (bad,) = read_shard(tmp_path / "broken.parquet")
    assert bad.line == 0 and bad.reason.startswith("not a readable Parquet file")
    (missing,) = read_shard(tmp_path / "gone.jsonl")
    assert missing.line == 0 and missing.reason.startswith("cannot read the shard")
    (tmp_path / "latin1.jsonl").write_bytes(b'{"id": 1, "text": "Ba\xefku"}\n{"id": 2, "text": "Baku"}\n')
    first, second = read_shard(tmp_path / "latin1.jsonl")
    assert first == BadDocument(1, None, "not UTF-8") and second == Document(2, "2", "Baku")


def test_shard_listing(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "news.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "a" / "notes.txt").write_text("", encoding="utf-8")
    assert [p.name for p in list_shards(tmp_path / "a")] == ["news.jsonl"]
    with pytest.raises(InputError, match="same name"):
        list_shards(str(tmp_path / "*" / "*.jsonl"))
    with pytest.raises(InputError, match="no shards found"):
        list_shards(tmp_path / "missing-*.jsonl")


def test_cli_jsonl_out_needs_one_file(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    assert main(["geoparse", str(tmp_path / "in"), "--out", str(tmp_path / "pred.jsonl")]) == 2
    assert "give --out a folder" in capsys.readouterr().err


def test_a_lone_surrogate_costs_only_its_own_document(cluster, corpus, reference, tmp_path, capsys):
    good = corpus[0]
    folder = tmp_path / "in"
    folder.mkdir()
    bad = '{"id":"s","text":"Baku \\ud800 Moscow"}'
    (folder / "one.jsonl").write_text(json.dumps(good) + "\n" + bad + "\n", encoding="utf-8")
    out = tmp_path / "out"
    for _ in range(2):  # a rerun gives the same answer
        code = main(["geoparse", str(folder), "--out", str(out), "--scheduler", cluster[0]])
        err = capsys.readouterr().err
        assert code == EXIT_PARTIAL, err
        assert "Traceback" not in err and "skipped" in err and "errors.csv" in err, err
        errors = pd.read_csv(out / "errors.csv")
        assert list(errors["id"]) == ["s"] and list(errors["line"]) == [2]
        assert "lone surrogate" in errors["reason"][0] and "'\\ud800'" in errors["reason"][0]
        assert _output(out).get(good["id"], []) == reference[good["id"]]


def test_a_document_that_breaks_the_geoparser_costs_only_itself(monkeypatch):
    from geo.archive import parse

    def fragile(texts, batch_size=16):
        texts = list(texts)
        if any("BREAK" in t for t in texts):
            raise ValueError("cannot parse this one")
        return [([], []) for _ in texts]

    monkeypatch.setattr(parse, "geoparse_texts", fragile)
    monkeypatch.setattr(settings, "archive_batch_size", 4)
    docs = [Document(k, str(k), "BREAK" if k == 3 else "Baku") for k in range(1, 7)]
    results, failed = parse._geoparse_each(docs)
    assert len(results) == 5 and set(failed) == {3}
    assert failed[3] == "not geoparsed (ValueError: cannot parse this one)"
