"""Reading what a CMS exports: encodings, HTML, Markdown, and input that is not an article."""

from __future__ import annotations

import pytest

from geo.text.article import decode_bytes, html_to_text, read_article
from geo.errors import InputError

RUSSIAN = "Президент Азербайджана Ильхам Алиев прибыл в Москву. Дербент и Махачкала лежат на пути в Баку."


def test_windows_1251_russian(tmp_path):
    path = tmp_path / "ru.txt"
    path.write_bytes(RUSSIAN.encode("cp1251"))
    assert read_article(path) == RUSSIAN


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_utf16_and_bom_russian(tmp_path, encoding):
    path = tmp_path / "ru.txt"
    path.write_bytes(RUSSIAN.encode(encoding))
    assert read_article(path) == RUSSIAN


def test_html_keeps_visible_text_only(tmp_path):
    path = tmp_path / "a.html"
    path.write_text(
        "<html><head><title>t</title><style>p{color:red}</style><script>alert('Baku')</script></head>"
        "<body><h1>Trains to Baku</h1><p>The train left <b>Derbent</b> &amp; reached Baku.</p>"
        "<noscript>enable JS</noscript><script>var x = 'Tehran';</script></body></html>",
        encoding="utf-8",
    )
    text = read_article(path)
    assert "Trains to Baku" in text and "The train left Derbent & reached Baku." in text
    assert "alert" not in text and "Tehran" not in text and "color:red" not in text and "enable JS" not in text


def test_html_without_extension_is_detected(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("<div><p>Astara is on the border.</p><script>evil()</script></div>", encoding="utf-8")
    assert read_article(path) == "Astara is on the border."


def test_markdown_syntax_is_removed(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("# Heading about **Baku**\n\nSee [the map](http://x.org) of _Derbent_.\n\n```\ncode Tehran\n```\n",
                    encoding="utf-8")
    text = read_article(path)
    assert "Heading about Baku" in text and "See the map of Derbent." in text
    assert "http://x.org" not in text and "Tehran" not in text and "#" not in text


@pytest.mark.parametrize("data, message", [
    (b"", "is empty"),
    (b" \n\t\r\n ", "is empty"),
    (b"\x00\x01\x02\x03" * 1000, "looks binary"),
    (bytes(range(256)) * 64, "looks binary"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "looks binary"),
], ids=["empty", "whitespace", "nul-bytes", "all-bytes", "png"])
def test_not_an_article(tmp_path, data, message):
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        read_article(path)


def test_folder_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        read_article(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        read_article(tmp_path / "missing.txt")


def test_twenty_megabytes_is_refused_with_a_fix(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_bytes(b"The train from Baku to Derbent runs daily. " * 500_000)  # ~21 MB
    with pytest.raises(InputError, match=r"MB, over the .* limit: split it"):
        read_article(path)


def test_decode_plain_utf8():
    assert decode_bytes("Xaçmaz, Ələt".encode("utf-8")) == "Xaçmaz, Ələt"


def test_html_to_text_entities():
    assert html_to_text("<p>Samur&nbsp;&ndash;&nbsp;Yalama</p>") == "Samur – Yalama"


# --- decoding that says what it did --------------------------------------------------------------------------


def test_a_few_bad_bytes_keep_utf8_and_name_the_first_offset(tmp_path, caplog):
    good = "The Ürümqi–Khorgos line and the Almaty–Bishkek road meet at Khorgos."
    data = good.encode("utf-8")
    broken = data[:3] + b"\xff" + data[3:] + b" \xc0"
    path = tmp_path / "a.txt"
    path.write_bytes(broken)
    text = read_article(path)
    assert "Ürümqi–Khorgos" in text and "Almaty–Bishkek" in text
    assert text.count("\ufffd") == 2
    assert "2 invalid UTF-8 byte sequences, the first at byte offset 3" in caplog.text


def test_windows_1251_only_when_the_whole_file_fits_it(caplog):
    assert decode_bytes("Поезд из Москвы в Баку.".encode("cp1251"), "a") == "Поезд из Москвы в Баку."
    assert "read as Windows-1251" in caplog.text
    caplog.clear()
    sentence = "Поезд из Москвы идёт в Баку через Дербент. "
    undefined = sentence.encode("cp1251") + b"\x98"  # 0x98 is no character of Windows-1251
    assert decode_bytes(undefined, "b") == sentence + "\ufffd"
    assert f"1 byte undefined there read as U+FFFD, the first at offset {len(sentence)}" in caplog.text


def test_control_characters_anywhere_are_removed_with_a_warning(caplog):
    text = decode_bytes(("Baku. " * 2000 + "Mos\x00cow and Der\x1bbent\x85.").encode("utf-8"), "c")
    assert text.endswith("Moscow and Derbent.")
    assert "3 control characters removed (the first, U+0000, at character 12003)" in caplog.text


def test_tag_characters_and_variation_selectors_do_not_hide_places():
    from geo.text.mentions import extract_mentions

    text = ("Freight from Baku\U000e0041\U000e007f reaches Derbent\ufe0f by rail, and Mos\U000e0020cow "
            "wants more.")
    mentions = extract_mentions(text)
    found = {m.text for m in mentions}
    assert {"Baku", "Derbent"} <= found
    assert any(m.text.startswith("Mos") and m.text.endswith("cow") for m in mentions)
    for m in mentions:
        assert text[m.start:m.end] == m.text
