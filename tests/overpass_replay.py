"""A small Overpass emulator for tests: answers corridormap's queries from real OSM data.

The data (``../shared/osm``, else the bundled snapshot: the ``osm_dir`` fixture) is turned into Overpass ``out geom`` JSON elements
at test time; nothing derived from it is stored in the repository. Requests
are intercepted at ``requests.Session.send``, the last step before the socket,
so the HTTP code under test (``geo.osm.overpass_http``) runs unchanged.
"""

from __future__ import annotations

import html
import io
import json
import re
import socket
import socketserver
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import requests
import shapely
import urllib3
from requests.structures import CaseInsensitiveDict
from shapely.geometry import LineString, Point, Polygon

from geo.osm.schema import parse_filter

TIMESTAMP = "2024-06-01T12:00:00Z"
BAM_RELATION_ID = 1_000_001
BAM_NAME = "Байкало-Амурская магистраль"
_SELECT = re.compile(r'(way|node)((?:\[[^\]]*\])+)\(poly:"([^"]+)"\)')


def way_element(osm_id: int, line: LineString, tags: dict[str, str]) -> dict[str, Any]:
    """An Overpass ``out geom`` way element."""
    xs, ys = line.xy
    return {
        "type": "way",
        "id": int(osm_id),
        "bounds": {"minlat": min(ys), "minlon": min(xs), "maxlat": max(ys), "maxlon": max(xs)},
        "nodes": [int(osm_id) * 10_000 + i for i in range(len(xs))],
        "geometry": [{"lat": y, "lon": x} for x, y in zip(xs, ys)],
        "tags": tags,
    }


def node_element(osm_id: int, point: Point, tags: dict[str, str]) -> dict[str, Any]:
    """An Overpass node element."""
    return {"type": "node", "id": int(osm_id), "lat": point.y, "lon": point.x, "tags": tags}


def cut_line(line: LineString, vertices_per_way: int) -> list[LineString]:
    """Cut one long line into consecutive ways sharing their end vertices (like OSM ways)."""
    coords = list(line.coords)
    step = vertices_per_way - 1
    return [LineString(coords[i : i + vertices_per_way]) for i in range(0, len(coords) - 1, step)]


def tags_match(tags: dict[str, str], selector: str) -> bool:
    """Does an element with ``tags`` match an Overpass tag selector?"""
    for key, op, value in parse_filter(selector):
        have = tags.get(key)
        if op is None and have is None:
            return False
        if op == "=" and have != value:
            return False
        if op == "!=" and have == value:
            return False
        if op == "~" and (have is None or re.search(value, have) is None):
            return False
    return True


def parse_poly(text: str) -> Polygon:
    nums = [float(v) for v in text.split()]
    return Polygon(list(zip(nums[1::2], nums[0::2])))


@dataclass
class FakeOverpass:
    """Answers relation, way-in-polygon and shared-boundary queries from element lists."""

    ways: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)  # {"id", "tags", "members": [way ids]}
    boundary_ways: list[dict[str, Any]] = field(default_factory=list)
    timestamp: str = TIMESTAMP
    script: list[Any] = field(default_factory=list)  # served first: exceptions or (status, headers, body)
    queries: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)  # every interpreter URL asked, in order
    #: Fault injection beyond the script: hosts refusing connections, hosts that do not resolve, a 400
    #: page with ``refuse`` as its error for queries containing ``refuse_when``, and the real server's
    #: out-of-memory remark for ``poly:`` areas larger than ``max_area`` (square degrees).
    down: set[str] = field(default_factory=set)
    unresolved: set[str] = field(default_factory=set)
    refuse: str | None = None
    refuse_when: str = ""
    max_area: float | None = None

    def __post_init__(self):
        self._index()

    def _index(self):
        self._by_id = {w["id"]: w for w in self.ways}
        self._lines = [LineString([(g["lon"], g["lat"]) for g in w["geometry"]]) for w in self.ways]
        self._tree = shapely.STRtree(self._lines) if self._lines else None

    # ------------------------------------------------------------------ answering
    def answer(self, query: str) -> dict[str, Any]:
        if "way.wa.wb" in query:
            elements = list(self.boundary_ways)
        elif "->.top" in query:
            elements = self._relation(query)
        else:
            elements = self._in_polygons(query)
        return {
            "version": 0.6,
            "generator": "Overpass API (test replay)",
            "osm3s": {"timestamp_osm_base": self.timestamp, "copyright": "© OpenStreetMap contributors, ODbL"},
            "elements": elements,
        }

    def _relation(self, query: str) -> list[dict[str, Any]]:
        name = re.search(r'\["name"="((?:[^"\\]|\\.)*)"\]', query)
        rid = re.search(r"rel\((\d+)\)->\.top", query)
        found = [
            r for r in self.relations
            if (name and r["tags"].get("name") == name.group(1)) or (rid and r["id"] == int(rid.group(1)))
        ]
        out = [{"type": "relation", "id": r["id"], "tags": r["tags"]} for r in found]
        for r in found:
            out.extend(self._by_id[i] for i in r["members"])
        return out

    def _in_polygons(self, query: str) -> list[dict[str, Any]]:
        out = []
        for kind, selector, poly_text in _SELECT.findall(query):
            poly = parse_poly(poly_text)
            if kind == "way" and self._tree is not None:
                for i in self._tree.query(poly, predicate="intersects"):
                    way = self.ways[i]
                    if tags_match(way["tags"], selector):
                        out.append(way)
            elif kind == "node":
                out.extend(n for n in self.nodes if tags_match(n["tags"], selector) and poly.intersects(Point(n["lon"], n["lat"])))
        return out

    # ------------------------------------------------------------------ HTTP
    def send(self, session, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        """Stand-in for ``requests.Session.send``."""
        if request.method == "GET" and request.url.endswith("/status"):
            return make_response(request, 200, {}, b"Connected as: 1\nCurrent time: x\nAnnounced endpoint: none\n"
                                 b"Rate limit: 2\n2 slots available now.\nCurrently running queries:\n")
        host = urlsplit(request.url).hostname
        self.urls.append(request.url)
        if host in self.unresolved:
            raise requests.exceptions.ConnectionError(socket.gaierror(-2, "Name or service not known"))
        if host in self.down:
            raise requests.exceptions.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        query = parse_qs(body)["data"][0]
        self.queries.append(query)
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, BaseException):
                raise step
            status, headers, content = step
            return make_response(request, status, headers, content)
        if self.refuse is not None and self.refuse_when in query:
            return make_response(request, 400, {"Content-Type": "text/html"}, error_page(self.refuse))
        if self.max_area is not None and any(parse_poly(p).area > self.max_area for _, _, p in _SELECT.findall(query)):
            remark = ('runtime error: Query ran out of memory in "query" at line 1. '
                      "It would need at least 0 MB of RAM to continue.")
            payload = json.dumps({"osm3s": {"timestamp_osm_base": self.timestamp}, "elements": [], "remark": remark})
            return make_response(request, 200, {"Content-Type": "application/json"}, payload.encode())
        payload = json.dumps(self.answer(query)).encode("utf-8")
        return make_response(request, 200, {"Content-Type": "application/json"}, payload)


def error_page(*errors: str) -> bytes:
    """The Overpass interpreter's HTML error page (as 0.7.62 sends it), one ``Error:`` line per error."""
    lines = "".join(f'<p><strong style="color:#FF0000">Error</strong>: {html.escape(e)} </p>\n' for e in errors)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n'
        '<head>\n  <meta http-equiv="content-type" content="text/html; charset=utf-8" lang="en"/>\n'
        "  <title>OSM3S Response</title>\n</head>\n<body>\n\n<p>The data included in this document is from "
        "www.openstreetmap.org. The data is made available under ODbL.</p>\n" + lines + "\n</body>\n</html>\n"
    ).encode("utf-8")


def make_response(request, status: int, headers: dict[str, str], content: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.reason = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error",
                       502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "")
    response.headers = CaseInsensitiveDict(headers)
    response.raw = urllib3.HTTPResponse(io.BytesIO(content), headers=headers, status=status, preload_content=False)
    response.encoding = "utf-8"
    response.url = request.url
    response.request = request
    return response


# ---------------------------------------------------------------------- data from ../shared/osm (or the bundle)


def caucasus_ways(osm_dir: Path) -> list[dict[str, Any]]:
    """The real railway ways with OSM ids (Caucasus) under ``osm_dir``, with ``railway`` tags, as elements."""
    from geo.osm.local import read_local

    lines, _ = read_local(osm_dir)
    lines = lines[lines["osm_id"].notna() & lines["railway"].notna()].drop_duplicates("osm_id")
    return [
        way_element(int(osm_id), geom, {"railway": railway})
        for osm_id, railway, geom in zip(lines["osm_id"], lines["railway"], lines.geometry)
        if geom is not None and geom.geom_type == "LineString"
    ]


def bam_line(osm_dir: Path) -> LineString:
    """The BAM as one traced line (``Taishet-Sovgavan``) under ``osm_dir``."""
    from geo.osm.local import read_local

    lines, _ = read_local(osm_dir)
    return lines.loc[lines["name"] == "Taishet-Sovgavan"].geometry.iloc[0]


def bam_relation(osm_dir: Path, vertices_per_way: int = 250) -> tuple[list[dict], dict]:
    """The BAM line cut into fake member ways, and a route relation holding them (shuffled)."""
    ways = [
        way_element(900_000_000 + i, part, {"railway": "rail", "usage": "main", "name": "БАМ"})
        for i, part in enumerate(cut_line(bam_line(osm_dir), vertices_per_way))
    ]
    members = [w["id"] for w in ways]
    members = members[1::2] + members[0::2]  # relations list members in any order
    relation = {"id": BAM_RELATION_ID, "tags": {"type": "route", "route": "railway", "name": BAM_NAME}, "members": members}
    return ways, relation


# ---------------------------------------------------------------------- slow servers on 127.0.0.1 (real sockets)


@contextmanager
def _serve(handler: type, stop: threading.Event) -> Iterator[str]:
    """Serve ``handler`` on a free port of 127.0.0.1 in a thread; yield its API base URL; ``stop`` ends its waits."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


@contextmanager
def slow_server(mode: str, interval: float = 1.0) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that answers too slowly; yields its API base URL.

    ``mode``: ``"silent"`` accepts, reads the request and never answers;
    ``"trickle"`` sends its headers at once, then a 4 kB JSON body one byte every
    ``interval`` seconds; ``"trickle-all"`` sends the status line and headers
    that way too. Every connection is closed when the block ends.
    """
    stop = threading.Event()
    body = json.dumps({"osm3s": {"timestamp_osm_base": TIMESTAMP}, "elements": []}).encode() + b" " * 4096
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.recv(65536)
            if mode == "silent":
                stop.wait()
                return
            if mode == "trickle":
                self.request.sendall(head)
            for byte in (head + body if mode == "trickle-all" else body):
                if stop.wait(interval):
                    return
                try:
                    self.request.sendall(bytes([byte]))
                except OSError:  # the client gave up
                    return

    with _serve(Handler, stop) as url:
        yield url


@contextmanager
def status_server(status: bytes | None) -> Iterator[str]:
    """An Overpass stand-in on 127.0.0.1 whose ``/status`` page is ``status`` (None: it never answers)
    and whose interpreter answers HTTP 504; yields its API base URL."""
    stop = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            request = self.request.recv(65536)
            if request.startswith(b"GET") and b"/status" in request.split(b"\r\n", 1)[0]:
                if status is None:
                    stop.wait()
                    return
                head, body = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain", status
            else:
                head, body = b"HTTP/1.1 504 Gateway Timeout\r\nContent-Type: text/html", b"<html>busy</html>"
            try:
                self.request.sendall(head + b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            except OSError:
                return

    with _serve(Handler, stop) as url:
        yield url
