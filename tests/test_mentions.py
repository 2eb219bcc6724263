"""Recognition: place mentions in the source article and in small texts."""

from __future__ import annotations

from hypothesis import given, settings as hsettings, strategies as st

from geo.text.mentions import Mention, extract_mentions


def _by_text(mentions: list[Mention]) -> dict[str, Mention]:
    out: dict[str, Mention] = {}
    for m in mentions:
        out.setdefault(m.text, m)
    return out


def _no_overlap_but_infrastructure(mentions: list[Mention]) -> None:
    """Mentions do not overlap, except the towns inside an infrastructure phrase ("Rasht–Astara railway")."""
    places = [m for m in mentions if m.label != "INFRA"]
    for a, b in zip(places, places[1:]):
        assert a.end <= b.start
    infra = [m for m in mentions if m.label == "INFRA"]
    for a, b in zip(infra, infra[1:]):
        assert a.end <= b.start
    for i in infra:
        for p in places:
            assert p.end <= i.start or p.start >= i.end or (i.start <= p.start and p.end <= i.end)


def test_source_article_mentions(source_article):
    mentions = extract_mentions(source_article)
    found = _by_text(mentions)
    for name in ["Komsomolsk-on-Amur", "Moscow", "Baku", "Azerbaijan", "Iran", "Armenia", "Persian Gulf",
                 "Russia", "Caucasus", "Middle East", "Turkey"]:
        assert name in found, name
    assert found["BAM"].label == "INFRA" and found["BAM"].layer_id == "bam"
    assert found["Baikal-Amur Mainline"].label == "INFRA" and found["Baikal-Amur Mainline"].layer_id == "bam"
    assert found["Trans-Siberian Railway"].label == "INFRA"
    assert found["North-South corridor"].layer_id == "north-south"
    assert found["Azerbaijani"].label == "NORP"
    # The model alone calls "Baikal-Amur Mainline" ORG and misses most "BAM"s.
    assert sum(m.text == "BAM" for m in mentions) >= 6


def test_mentions_are_sorted_spans(source_article):
    mentions = extract_mentions(source_article)
    assert [m.start for m in mentions] == sorted(m.start for m in mentions)
    _no_overlap_but_infrastructure(mentions)
    for m in mentions:
        assert source_article[m.start:m.end] == m.text
        assert m.text in m.sentence


def test_model_person_labels_are_fixed():
    # The model alone labels Ust-Kut ORG/PERSON and Samur PERSON.
    text = "The line runs from Ust-Kut to the Samur river near Derbent and on to the Trans-Siberian Railway."
    found = _by_text(extract_mentions(text))
    assert found["Ust-Kut"].label == "GPE"
    assert "Derbent" in found
    assert found["Trans-Siberian Railway"].label == "INFRA"


def test_compound_demonyms_split():
    text = "The Russian-Azerbaijani roadmap was signed in Baku."
    found = _by_text(extract_mentions(text))
    assert found["Russian"].label == "NORP" and found["Azerbaijani"].label == "NORP"


def test_apostrophe_and_cyrillic_forms():
    for text, name in [("Barges leave Ust'-Kut in May.", "Ust'-Kut"), ("Barges leave Ust’-Kut in May.", "Ust’-Kut"),
                       ("Поезд прибыл в Усть-Кут.", "Усть-Кут")]:
        assert name in _by_text(extract_mentions(text)), text


def test_empty_and_blank_text():
    assert extract_mentions("") == []
    assert extract_mentions("   \n\t") == []


@hsettings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
       | st.lists(st.sampled_from(["Moscow", "BAM", "Ust'-Kut", "the", "Persian Gulf", ",", "-", "’", "\n", "Iran",
                                   "Russian-Azerbaijani", "U.S.", " ", "North-South corridor", "Дербент"]),
                  max_size=40).map(" ".join))
def test_random_text_never_crashes(text):
    mentions = extract_mentions(text)
    for m in mentions:
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start:m.end] == m.text
    _no_overlap_but_infrastructure(mentions)


def test_long_text_is_parsed_in_pieces(monkeypatch):
    from geo import settings

    monkeypatch.setattr(settings, "max_chunk_chars", 60)
    para = "Trucks wait at the border near Derbent.\n\nThe ferry from Baku reached Aktau.\n\n"
    text = para * 5
    mentions = extract_mentions(text)
    assert [m.text for m in mentions].count("Baku") == 5
    for m in mentions:
        assert text[m.start:m.end] == m.text
    from geo.text.geoparse import geoparse_texts

    (got, _), = list(geoparse_texts([text]))
    assert got == mentions
