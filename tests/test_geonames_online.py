"""GeoNames country dumps and Nominatim, online, against small servers of our own on 127.0.0.1.

The dumps are made up here (a country code no country has, "XQ", and towns no map has), and so are
Nominatim's answers: no test reaches beyond this machine.
"""

from __future__ import annotations

import io
import json
import os
import stat
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from geo import cli, settings
from geo.core.place import Place
from geo.geodesy import haversine_km
from geo.text import geonames_dumps, geonames_fetch, nominatim

FAKE = "XQ"
#: A made-up town, a made-up station and a made-up hamlet of the made-up country.
TOWN = ("Zorvanetsk", 51.2345, 97.6543)
STATION = ("Ulbrechtovo", 51.61, 98.02)


def _row(gid: int, name: str, lat: float, lon: float, fclass: str = "P", fcode: str = "PPL", population: int = 0,
         alts: str = "", country: str = FAKE) -> str:
    cols = [str(gid), name, name, alts, f"{lat}", f"{lon}", fclass, fcode, country, "", "07", "", "", "",
            str(population), "", "250", "Asia/Irkutsk", "2024-01-01"]
    return "\t".join(cols)


def dump_zip(rows: list[str], country: str = FAKE) -> bytes:
    """A GeoNames country dump: a zip holding ``XX.txt`` (and the readme, as GeoNames ships it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{country}.txt", "".join(r + "\n" for r in rows))
        archive.writestr("readme.txt", "made up for corridormap's tests\n")
    return buffer.getvalue()


GOOD_ROWS = [
    _row(49_000_001, TOWN[0], TOWN[1], TOWN[2], population=1200, alts="Зорванецк,Zorvanetsk-1"),
    _row(49_000_002, STATION[0], STATION[1], STATION[2], "S", "RSTN"),
    _row(49_000_003, "Xq Upland", 52.0, 99.0, "T", "UPLD"),  # a feature the gazetteer does not take
]


class _Server:
    """A threaded HTTP server on 127.0.0.1: ``routes`` maps a path to a handler ``(request) -> None``."""

    def __init__(self) -> None:
        self.routes: dict[str, object] = {}
        self.requests: list[tuple[float, str, dict, str]] = []  # (monotonic time, path, query, User-Agent)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                server.requests.append((time.monotonic(), url.path, parse_qs(url.query),
                                        self.headers.get("User-Agent", "")))
                route = server.routes.get(url.path)
                if route is None:
                    self.send_error(404)
                    return
                try:
                    route(self, parse_qs(url.query))
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


def send(body: bytes, content_type: str = "application/zip", length: bool = True):
    def route(handler, _query):
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        if length:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    return route


@pytest.fixture
def geonames(server, monkeypatch):
    """The made-up country's dump served at ``<server>/dump/XQ.zip``; settings point there."""
    monkeypatch.setattr(settings, "geonames_dump_url", server.url + "/dump")
    server.routes[f"/dump/{FAKE}.zip"] = send(dump_zip(GOOD_ROWS))
    geonames_dumps.forget()
    yield server
    geonames_dumps.forget()


def _nothing_cached() -> bool:
    folder = geonames_dumps.dumps_dir()
    return not folder.exists() or not [p for p in folder.iterdir() if not p.name.endswith(".failed.json")]


def test_gazetteer_command_downloads_a_dump_and_mentions_finds_its_town(geonames, tmp_path, capsys):
    code = cli.main(["gazetteer", "--countries", FAKE.lower()])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{FAKE}: 2 places" in out  # the town and the station; not the upland
    path = geonames_dumps.dump_path(FAKE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(geonames_dumps.dumps_dir().stat().st_mode) == 0o700
    assert [r[3] for r in geonames.requests] == [settings.user_agent]

    article = tmp_path / "article.txt"
    article.write_text(f"The new branch line ends at the town of {TOWN[0]}, where a coal terminal is planned.\n",
                       encoding="utf-8")
    assert cli.main(["mentions", str(article), "--format", "json"]) == 0
    rows = {r["text"]: r for r in json.loads(capsys.readouterr().out)}
    town = rows[TOWN[0]]
    assert town["country"] == FAKE
    assert haversine_km(town["lat"], town["lon"], TOWN[1], TOWN[2]) < 1.0
    assert cli.main(["gazetteer"]) == 0 and FAKE in capsys.readouterr().out


def test_dump_places_are_found_by_their_other_names_and_the_base_is_not_rebuilt(geonames):
    from geo.text import gazetteer

    base = gazetteer._load_folder()
    before = len(gazetteer.load().entries)
    geonames_fetch.fetch_gazetteer(FAKE)
    gaz = gazetteer.load()
    assert len(gaz.entries) == before + 2 and gazetteer._load_folder() is base
    for name in ("Зорванецк", "zorvanetsk", STATION[0]):
        hits = [gaz.entries[i] for i, _ in gazetteer.candidates(name)]
        assert [(e.country, e.geonames_id is not None) for e in hits] == [(FAKE, True)], name
    assert gaz.entries[gazetteer.candidates(STATION[0])[0][0]].feature_code == "STN"
    # the index is a file of its own beside the dumps, read back in a new process's way
    index = list(geonames_dumps.dumps_dir().glob("index-*.bin"))
    assert len(index) == 1
    geonames_dumps.forget()
    index[0].write_bytes(index[0].read_bytes()[:-10])  # damaged: rebuilt, never trusted
    assert gazetteer.candidates(TOWN[0]) and len(gazetteer.load().entries) == before + 2


@pytest.mark.parametrize("served, why", [
    (lambda: send(b"PK\x03\x04 this is not a zip at all" * 20), "not a zip"),
    (lambda: send(dump_zip(GOOD_ROWS)[:-40]), "zip"),  # truncated
    (lambda: send(dump_zip(["too\tfew\tcolumns"] * 5)), "malformed rows"),
    (lambda: send(dump_zip(GOOD_ROWS, country="XR")), f"no {FAKE}.txt"),
    (lambda: send(b"\0" * 200_000, length=False), "over the"),  # more than the cap, no Content-Length
    (lambda: send(b"\0" * 200_000), "over the"),  # more than the cap, says so up front
])
def test_a_bad_download_is_a_clear_error_and_nothing_is_cached(geonames, served, why, capsys, monkeypatch):
    monkeypatch.setattr(settings, "max_geonames_zip_bytes", 100_000)
    geonames.routes[f"/dump/{FAKE}.zip"] = served()
    assert cli.main(["gazetteer", "--countries", FAKE]) == 2
    err = capsys.readouterr().err
    assert err.startswith("corridormap: error: ") and why in err and len(err.splitlines()) == 1, err
    assert _nothing_cached()
    assert geonames_dumps.cached_countries() == []


def test_a_slow_server_is_cut_off_at_the_deadline(geonames, capsys, monkeypatch):
    body = dump_zip(GOOD_ROWS)

    def trickle(handler, _query):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        for byte in body:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.05)

    geonames.routes[f"/dump/{FAKE}.zip"] = trickle
    monkeypatch.setattr(settings, "geonames_deadline_s", 1.0)
    start = time.monotonic()
    assert cli.main(["gazetteer", "--countries", FAKE]) == 2
    assert time.monotonic() - start < 4.0
    assert "took too long" in capsys.readouterr().err
    assert _nothing_cached()


def test_a_server_that_never_answers_and_a_missing_country(geonames, capsys, monkeypatch):
    geonames.routes[f"/dump/{FAKE}.zip"] = lambda handler, _q: time.sleep(5)
    monkeypatch.setattr(settings, "geonames_deadline_s", 1.0)
    start = time.monotonic()
    assert cli.main(["gazetteer", "--countries", FAKE]) == 2
    assert time.monotonic() - start < 3.0
    assert cli.main(["gazetteer", "--countries", "XZ"]) == 2  # 404
    assert "HTTP 404" in capsys.readouterr().err
    assert cli.main(["gazetteer", "--countries", "Russia"]) == 2
    assert "not a country code" in capsys.readouterr().err
    assert _nothing_cached()


def test_a_planted_or_damaged_dump_is_not_used(geonames, caplog):
    from geo.text import gazetteer

    geonames_fetch.fetch_gazetteer(FAKE)
    path = geonames_dumps.dump_path(FAKE)
    path.write_bytes(dump_zip([_row(49_000_009, "Plantedgrad", 10.0, 10.0)]))
    os.chmod(path, 0o666)  # writable by others: not ours to trust
    geonames_dumps.forget()
    assert not gazetteer.candidates("Plantedgrad")
    assert "not trusted" in caplog.text


def test_an_online_build_fetches_the_dumps_of_the_articles_countries_once(server, monkeypatch):
    from geo.text.resolve import resolve
    from geo.text.mentions import Mention

    kz_town = ("Qaratobe-Zholy", 49.91, 51.02)
    server.routes["/dump/KZ.zip"] = send(dump_zip([_row(49_000_101, kz_town[0], kz_town[1], kz_town[2],
                                                        country="KZ")], country="KZ"))
    monkeypatch.setattr(settings, "geonames_dump_url", server.url + "/dump")
    geonames_dumps.forget()
    text = "Kazakhstan plans a railway."
    places = resolve([Mention("Kazakhstan", 0, 10, text, "GPE")], text)
    fetched, notes = geonames_fetch.fetch_article_dumps(places)
    assert [f.country for f in fetched] == ["KZ"] and "fetched the GeoNames dump of KZ" in notes[0]
    assert geonames_fetch.fetch_article_dumps(places) == ([], [])  # cached: not asked again
    assert len(server.requests) == 1
    server.routes.pop("/dump/KZ.zip")
    geonames_dumps.dump_path("KZ").unlink()
    geonames_dumps.forget()
    fetched, notes = geonames_fetch.fetch_article_dumps(places)  # 404: noted, and not tried again soon
    assert fetched == [] and "not fetched" in notes[0]
    assert geonames_fetch.fetch_article_dumps(places) == ([], []) and len(server.requests) == 2


# --------------------------------------------------------------------------- Nominatim


def _nominatim_answers(server, answers: dict[str, dict | None]):
    """Nominatim's /search on the test server: ``answers`` by query text (a missing one: no result)."""

    def search(handler, query):
        hit = answers.get(query.get("q", [""])[0])
        codes = query.get("countrycodes", [""])[0].upper().split(",")
        body = json.dumps([hit] if hit and (not codes[0] or hit["address"]["country_code"].upper() in codes)
                          else []).encode()
        send(body, "application/json")(handler, query)

    server.routes["/search"] = search


def _answer(name: str, lat: float, lon: float, country: str, cls: str = "place", kind: str = "town") -> dict:
    return {"lat": str(lat), "lon": str(lon), "display_name": name, "class": cls, "type": kind,
            "address": {"country_code": country.lower()}}


@pytest.fixture
def fake_nominatim(server, monkeypatch):
    monkeypatch.setattr(settings, "nominatim_url", server.url)
    monkeypatch.setattr(settings, "nominatim_min_delay_s", 0.4)
    return server


def test_nominatim_keeps_its_rate_and_its_cache(fake_nominatim):
    _nominatim_answers(fake_nominatim, {"Kyzyl-Tash": _answer("Kyzyl-Tash", 42.1, 75.2, "KG"),
                                        "Ak-Bulun": _answer("Ak-Bulun", 42.4, 76.1, "KG"),
                                        "Tash-Bulak": _answer("Tash-Bulak", 42.5, 74.1, "KG")})
    found = nominatim.place_names(["Kyzyl-Tash", "Ak-Bulun", "Tash-Bulak"], {"KG"})
    assert {n: (p.lat, p.country) for n, p in found.items()} == {
        "Kyzyl-Tash": (42.1, "KG"), "Ak-Bulun": (42.4, "KG"), "Tash-Bulak": (42.5, "KG")}
    times = [t for t, path, _, _ in fake_nominatim.requests if path == "/search"]
    assert len(times) == 3 and all(b - a >= 0.4 for a, b in zip(times, times[1:])), times
    queries = [q for _, _, q, _ in fake_nominatim.requests]
    assert all(q["countrycodes"][0].lower() == "kg" for q in queries)
    assert {ua for _, _, _, ua in fake_nominatim.requests} == {settings.user_agent}
    assert "corridormap" in settings.user_agent
    again = nominatim.place_names(["Kyzyl-Tash", "Ak-Bulun"], {"KG"})
    assert again["Kyzyl-Tash"].lat == 42.1 and len(fake_nominatim.requests) == 3, "a cached name was asked again"
    assert stat.S_IMODE(nominatim.cache_path().stat().st_mode) == 0o600


def test_nominatim_refuses_answers_outside_the_articles_countries_or_not_places(fake_nominatim):
    _nominatim_answers(fake_nominatim, {"Amber Hill": _answer("Amber Hill", 52.9, -0.1, "GB"),
                                        "Sunny Bar": _answer("Sunny Bar", 40.4, 49.8, "AZ", "amenity", "bar")})
    # a server that ignores countrycodes: the answer outside the article's countries is refused all the same
    fake_nominatim.routes["/search"] = send(json.dumps([_answer("Amber Hill", 52.9, -0.1, "GB")]).encode(),
                                            "application/json")
    assert nominatim.place_names(["Amber Hill"], {"AZ", "RU"}) == {"Amber Hill": None}
    _nominatim_answers(fake_nominatim, {"Sunny Bar": _answer("Sunny Bar", 40.4, 49.8, "AZ", "amenity", "bar")})
    assert nominatim.place_names(["Sunny Bar"], {"AZ"}) == {"Sunny Bar": None}
    asked = len(fake_nominatim.requests)
    assert nominatim.place_names(["Amber Hill"], set()) == {} and len(fake_nominatim.requests) == asked


def test_nominatim_asks_at_most_its_count_per_article_and_retries(fake_nominatim, monkeypatch):
    monkeypatch.setattr(settings, "nominatim_max_per_article", 2)
    monkeypatch.setattr(settings, "nominatim_min_delay_s", 0.05)
    failures = [2]

    def flaky(handler, query):
        if failures[0]:
            failures[0] -= 1
            handler.send_error(503)
            return
        send(json.dumps([_answer(query["q"][0], 41.0, 45.0, "GE")]).encode(), "application/json")(handler, query)

    fake_nominatim.routes["/search"] = flaky
    found = nominatim.place_names(["Aaa-Kari", "Bbb-Kari", "Ccc-Kari"], {"GE"})
    assert list(found) == ["Aaa-Kari", "Bbb-Kari"] and found["Aaa-Kari"].lat == 41.0
    assert len(fake_nominatim.requests) == 4  # two refusals, then one answer per name; the third name not asked


def test_resolve_online_places_an_unknown_name_inside_the_articles_countries(fake_nominatim):
    from geo.text.mentions import Mention
    from geo.text.resolve import resolve

    _nominatim_answers(fake_nominatim, {"Qqqxx-Aul": _answer("Qqqxx-Aul", 43.3, 76.9, "KZ", "place", "village")})
    text = "Kazakhstan opened a depot in Qqqxx-Aul."
    mentions = [Mention("Kazakhstan", 0, 10, text, "GPE"), Mention("Qqqxx-Aul", 28, 37, text, "GPE")]
    offline = resolve(mentions, text)
    assert offline[1] is None and not fake_nominatim.requests
    online = resolve(mentions, text, online=True)
    assert (online[1].lat, online[1].country) == (43.3, "KZ")
    assert fake_nominatim.requests[0][2]["countrycodes"][0].lower() == "kz"
    assert isinstance(online[1], Place)


def test_an_online_build_reads_the_article_again_with_the_dumps_it_fetched(server, monkeypatch):
    from geo.osm.source import Live
    from geo.pipeline import BuildOptions, _find_and_resolve

    town = ("Qaratobe-Zholy", 49.91, 51.02)
    server.routes["/dump/KZ.zip"] = send(dump_zip([_row(49_000_101, *town, country="KZ")], country="KZ"))
    monkeypatch.setattr(settings, "geonames_dump_url", server.url + "/dump")
    geonames_dumps.forget()
    text = f"Kazakhstan will open a grain terminal at the town of {town[0]} next year.\n"
    offline = _find_and_resolve(text, BuildOptions(source=Live(offline=True)))
    assert town[0] not in {m.text for m, p in zip(offline[0], offline[1]) if p is not None} and not server.requests
    monkeypatch.setattr(settings, "geonames_auto_fetch", True)
    mentions, places, _, notes = _find_and_resolve(text, BuildOptions(source=Live()))
    placed = {m.text: p for m, p in zip(mentions, places) if p is not None}
    assert haversine_km(placed[town[0]].lat, placed[town[0]].lon, town[1], town[2]) < 1.0
    assert "fetched the GeoNames dump of KZ" in notes[0] and len(server.requests) == 1


def test_a_dump_whose_text_is_over_its_cap_is_refused(geonames, capsys, monkeypatch):
    monkeypatch.setattr(settings, "max_geonames_text_bytes", 300)  # the text of GOOD_ROWS is longer (a zip bomb's is)
    assert cli.main(["gazetteer", "--countries", FAKE]) == 2
    err = capsys.readouterr().err
    assert f"{FAKE}.txt in GeoNames dump" in err and "over the 300 bytes limit" in err, err
    assert _nothing_cached()


def test_mentions_online_asks_nominatim_for_a_place_the_model_sees_and_nothing_offline_knows(fake_nominatim, tmp_path,
                                                                                           capsys):
    from geo.text.mentions import extract_mentions

    text = "Freight trains from Moscow now run to Zyxtrograd in Russia every week.\n"
    assert "Zyxtrograd" not in {m.text for m in extract_mentions(text)}
    assert "Zyxtrograd" in {m.text for m in extract_mentions(text, keep_unknown=True)}
    _nominatim_answers(fake_nominatim, {"Zyxtrograd": _answer("Zyxtrograd", 55.1, 61.4, "RU", "place", "town")})
    article = tmp_path / "article.txt"
    article.write_text(text, encoding="utf-8")
    assert cli.main(["mentions", str(article), "--format", "json"]) == 0
    assert "Zyxtrograd" not in {r["text"] for r in json.loads(capsys.readouterr().out)}
    assert not fake_nominatim.requests, "offline: no request"
    assert cli.main(["mentions", str(article), "--format", "json", "--online-geocoding"]) == 0
    rows = {r["text"]: r for r in json.loads(capsys.readouterr().out)}
    assert (rows["Zyxtrograd"]["lat"], rows["Zyxtrograd"]["country"]) == (55.1, "RU")
    assert len(fake_nominatim.requests) == 1


def test_without_a_network_one_dump_is_tried_and_the_build_goes_on_offline(monkeypatch):
    """A refused connection ends the dumps' downloads at the first country, notes no failure against the countries
    (a build tries them again once online), and says the build goes on offline."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(settings, "geonames_dump_url", f"http://127.0.0.1:{port}/dump")
    geonames_dumps.forget()
    tried = []
    real = geonames_fetch.fetch_dump
    monkeypatch.setattr(geonames_fetch, "fetch_dump", lambda country, deadline=None: tried.append(country)
                        or real(country, deadline))
    fetched, failed = geonames_fetch.fetch_dumps(["KZ", "TM", "UZ"])
    assert fetched == [] and tried == ["KZ"] and set(failed) == {"KZ", "TM", "UZ"}
    assert not geonames_fetch.recently_failed("KZ")
    text = "Kazakhstan and Turkmenistan plan a railway."
    from geo.text.mentions import Mention
    from geo.text.resolve import resolve

    places = resolve([Mention("Kazakhstan", 0, 10, text, "GPE"), Mention("Turkmenistan", 15, 27, text, "GPE")], text)
    _, notes = geonames_fetch.fetch_article_dumps(places)
    assert len(notes) == 1 and notes[0].startswith(geonames_fetch.UNREACHABLE_NOTE) and "offline" in notes[0]
