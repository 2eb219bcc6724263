"""Layer kinds as a protocol: every registered kind provides every room's member, and a new kind
registered in one place (here, this test) builds and draws without touching other modules."""

from __future__ import annotations

import pytest

from geo.core import kinds
from geo.core.kinds import KINDS, LayerKind, kind_of
from geo.core.layers import list_layers, read_layer
from geo.core.stations import layer_points
from geo.corridors import build
from geo.errors import LayerError
from geo.maps import draw, legend, view
from geo.osm import fetch, queries
from geo.osm.source import data_source

#: Each room's per-kind registry: a registered kind needs an entry in every one.
REGISTRIES = {
    "osm.queries.QUERIES": queries.QUERIES,
    "osm.fetch.FETCHERS": fetch.FETCHERS,
    "corridors.build.BUILDERS": build.BUILDERS,
    "maps.draw.DRAWERS": draw.DRAWERS,
}

ROUTE = LayerKind(name="route", waypoints="stations", counts="stations", min_stations=2)

TOY_LAYER = """\
id = "toy-route"
kind = "route"
title = "Toy ferry route"

[style]
color = "#123456"

[[stations]]
name = "Northharbour"
country = "AZ"
lat = 41.0
lon = 49.0

[[stations]]
name = "Midisle"
country = "AZ"
lat = 40.5
lon = 49.5

[[stations]]
name = "Southquay"
country = "AZ"
lat = 40.0
lon = 50.0
"""


@pytest.mark.parametrize("registry", sorted(REGISTRIES))
def test_every_registered_kind_provides_every_member(registry):
    entries = REGISTRIES[registry]
    assert set(entries) == set(KINDS), f"{registry} must hold exactly the kinds of geo.core.kinds.KINDS"
    assert all(callable(entries[name]) for name in KINDS)


def test_every_shipped_layer_has_a_registered_kind_with_waypoints_and_a_size():
    for layer in list_layers():
        kind = kind_of(layer)
        assert len(layer_points(layer)) >= 2, layer.id
        count, what = kind.size(layer).split()
        assert int(count) == len(getattr(layer, what)) > 0, layer.id


def test_the_kinds_facts_tell_corridors_from_borders():
    assert KINDS["corridor"].station_line and not KINDS["corridor"].on_crossings
    assert KINDS["border"].on_crossings and KINDS["border"].chosen_on_border_talk
    assert KINDS["border"].problem(stations=0, countries=3).startswith("key 'countries' must list the two ISO codes")
    assert KINDS["corridor"].problem(stations=1, countries=0).startswith("a corridor needs at least two [[stations]]")


@pytest.fixture
def route_kind(monkeypatch):
    """The toy kind, registered only here: its facts, and an entry in each room's registry."""
    monkeypatch.setitem(kinds.KINDS, "route", ROUTE)
    monkeypatch.setitem(queries.QUERIES, "route", queries.corridor_queries)
    monkeypatch.setitem(fetch.FETCHERS, "route", fetch.fetch_corridor)
    monkeypatch.setitem(build.BUILDERS, "route",
                        lambda layer, data: build.station_frame(layer, data.points, data.source))
    monkeypatch.setitem(draw.DRAWERS, "route", lambda group, layer, frame, labels=None: None)
    return ROUTE


def test_a_layer_file_of_an_unregistered_kind_is_refused_with_the_known_kinds(tmp_path):
    path = tmp_path / "toy-route.toml"
    path.write_text(TOY_LAYER, encoding="utf-8")
    with pytest.raises(LayerError, match="kind' is 'route': use one of corridor, border"):
        read_layer(path)


def test_a_registered_kind_states_what_its_layer_file_must_give(tmp_path, route_kind):
    path = tmp_path / "toy-route.toml"
    path.write_text(TOY_LAYER.split("[[stations]]")[0] + "[[stations]]" + TOY_LAYER.split("[[stations]]")[1],
                    encoding="utf-8")
    with pytest.raises(LayerError, match="a route needs at least two \\[\\[stations\\]\\] in route order"):
        read_layer(path)


def test_a_toy_kind_registered_in_the_test_builds_and_draws(tmp_path, route_kind, no_bundle):
    path = tmp_path / "toy-route.toml"
    path.write_text(TOY_LAYER, encoding="utf-8")
    layer = read_layer(path)
    assert layer_points(layer) == [(49.0, 41.0), (49.5, 40.5), (50.0, 40.0)]
    assert queries.layer_queries(layer, layer_points(layer)) == []  # no [osm] selectors: nothing to ask

    result = build.build_layer(layer, data_source(offline=True))
    assert list(result.frame["kind"]) == ["station"] * 3
    assert list(result.frame["name"]) == ["Northharbour", "Midisle", "Southquay"]

    html = draw.build_map([result], title="Toy", tiles="none").get_root().render()
    assert all(name in html for name in ("Northharbour", "Midisle", "Southquay"))
    assert "cm-segment" not in html and "cm-border" not in html  # just its stations: no line
    assert "The Toy ferry route runs from Northharbour to Southquay through 3 stations" in legend.describe([result])
    assert view.opening_view([result]).framed_on == "whole"
