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
