"""geoparse_jsonl, failure cases found on the dev corpora (in our own words), and the targets."""

from __future__ import annotations

import importlib.util
import json

import pytest

from geo.errors import InputError
from geo.text.resolve import resolve
from geo.text.geoparse import geoparse_jsonl, geoparse_texts
from geo.text.mentions import extract_mentions
from geo.geodesy import haversine_km

from .conftest import need_shared


def _places(text: str) -> dict:
    mentions = extract_mentions(text)
    out = {}
    for m, p in zip(mentions, resolve(mentions, text)):
        out.setdefault(m.text, p)
    return out


def test_geoparse_jsonl_roundtrip(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Trains run from Moscow to Baku."}) + "\n\n"
                   + json.dumps({"id": "b", "text": ""}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert geoparse_jsonl(src, out, progress=False) == 2
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["a", "b"]
    names = [t["name"] for t in lines[0]["toponyms"]]
    assert names == ["Moscow", "Baku"]
    t = lines[0]["toponyms"][0]
    assert set(t) == {"start", "end", "name", "lat", "lon", "geonames_id", "country", "feature_class", "score"}
    assert lines[1]["toponyms"] == []


def test_geoparse_jsonl_bad_input(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(InputError, match="needs keys"):
        geoparse_jsonl(src, tmp_path / "out.jsonl", progress=False)
    src.write_text("not json\n", encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        geoparse_jsonl(src, tmp_path / "out.jsonl", progress=False)
    with pytest.raises(InputError, match="does not exist"):
        geoparse_jsonl(tmp_path / "missing.jsonl", tmp_path / "out.jsonl", progress=False)


def test_same_path_as_extract_and_resolve():
    text = "Azerbaijan and Russia met in Moscow; the BAM was discussed."
    (mentions, places), = list(geoparse_texts([text]))
    assert mentions == extract_mentions(text)
    assert places == resolve(mentions, text)


# --- Failure cases found on the dev corpora, rewritten as our own short texts -----------------

def test_country_named_in_an_organisation_is_found():
    # Was missed: the model tags the whole organisation ORG.
    found = _places("The Kenya Tourism Board said bookings rose.")
    assert "Kenya" in found and found["Kenya"].country == "KE"


def test_demonym_in_an_organisation_is_found():
    found = _places("The Canadian Blood Services agency asked for donors.")
    assert "Canadian" in found and found["Canadian"].country == "CA"


def test_country_beats_its_same_named_state():
    # Was the State of Mexico (an admin division) instead of the country.
    p = _places("Inflation in Mexico slowed in March, the central bank said.")["Mexico"]
    assert haversine_km(p.lat, p.lon, 23.0, -102.0) < 50


def test_washington_is_the_capital():
    # Was Washington State.
    p = _places("Officials in Washington said the talks would resume.")["Washington"]
    assert haversine_km(p.lat, p.lon, 38.895, -77.036) < 20


def test_uk_is_the_united_kingdom_at_its_geonames_point():
    # Was a village in Russia whose alternate name folds to "uk".
    p = _places("Exports to the UK fell.")["UK"]
    assert p.country == "GB" and haversine_km(p.lat, p.lon, 54.75844, -2.69531) < 10


def test_dotted_state_abbreviation_and_plain_words():
    found = _places("The fair opened in Decatur, Ga., on Friday. Miss Smith And her sister came.")
    assert "Ga." in found and found["Ga."].country == "US"
    assert found["Decatur"].country == "US" and haversine_km(found["Decatur"].lat, found["Decatur"].lon, 33.77, -84.30) < 30
    assert "Miss" not in found and "And" not in found


def test_town_and_county_support_each_other():
    # Paris (Tennessee) and Henry County (Tennessee): each alone is ambiguous; one state mention settles both.
    text = ("The museum in Paris will host a class. Henry County schools and Paris officials joined. "
            "It is the largest museum in Henry County, Tennessee.")
    found = _places(text)
    assert found["Paris"].country == "US" and haversine_km(found["Paris"].lat, found["Paris"].lon, 36.30, -88.33) < 30
    assert haversine_km(found["Henry County"].lat, found["Henry County"].lon, 36.33, -88.32) < 60


def test_georgia_in_a_us_article_is_the_state():
    text = "Gainesville police said the sewer spill reached a creek. Georgia regulators were told."
    found = _places(text)
    assert found["Georgia"].country == "US"
    assert haversine_km(found["Gainesville"].lat, found["Gainesville"].lon, 34.30, -83.82) < 30


# --- The dev corpora (shared data) ------------------------------------------------------------

TARGETS = {"gwn-dev.jsonl": (0.80, 0.90, 0.70), "lgl-dev.jsonl": (0.70, 0.80, 0.55)}


@pytest.mark.parametrize("corpus", sorted(TARGETS))
def test_dev_targets(corpus, tmp_path):
    folder = need_shared("geoparse")
    spec = importlib.util.spec_from_file_location("geoparse_score", folder / "score.py")
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    out = tmp_path / "pred.jsonl"
    geoparse_jsonl(folder / corpus, out, progress=False)
    res = scorer.score(scorer.load(folder / corpus), scorer.load(out))
    f1, found, e2e = TARGETS[corpus]
    assert res["recognition"]["f1"] >= f1, res
    assert res["resolved_found"]["acc161"] >= found, res
    assert res["end_to_end"]["acc161"] >= e2e, res


def test_json_lines_split_only_at_newlines(tmp_path):
    """U+2028, U+0085 and form feeds inside JSON strings are text, not line breaks."""
    docs = [{"id": "a", "text": "Freight left Baku\u2028for Derbent.\u0085Then Astrakhan\x0c."}, {"id": "b", "text": "Moscow."}]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(d, ensure_ascii=False) + "\r\n" for d in docs), encoding="utf-8")
    assert geoparse_jsonl(src, tmp_path / "out.jsonl", progress=False) == 2
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [d["id"] for d in out] == ["a", "b"]
    assert {t["name"] for t in out[0]["toponyms"]} >= {"Baku", "Derbent", "Astrakhan"}
