"""Read an article file into plain text: encodings, HTML and Markdown.

The text returned is what a reader sees; mention offsets refer to it.
"""

from __future__ import annotations

import codecs
import html
import logging
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

from .. import settings
from ..errors import InputError
from ..reading import read_regular

log = logging.getLogger(__name__)

_HTML_HINT = re.compile(r"<\s*(html|body|p|div|article|h[1-6]|span|br|script|head)\b", re.I)
_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
_BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "blockquote", "figcaption", "header", "footer"}


def read_article(path: str | Path) -> str:
    """Read an article (plain text, Markdown or HTML, any common encoding) as plain text; ``"-"`` reads stdin.

    Raises
    ------
    InputError
        When the file is missing, not a regular file (a folder, FIFO or device), binary,
        over ``settings.max_article_bytes`` (at most that plus one byte is read) or empty.
    """
    if str(path) == "-":
        return _read_stdin()
    path = Path(path)
    data = read_regular(path, settings.max_article_bytes, "article", InputError, "split it")
    text = decode_bytes(data, str(path))
    if path.suffix.lower() in (".html", ".htm") or _HTML_HINT.search(text[:5000]):
        text = html_to_text(text)
    elif path.suffix.lower() in (".md", ".markdown"):
        text = markdown_to_text(text)
    if not text.strip():
        raise InputError(f"article {path} is empty: give a file with the article's text")
    return text


def decode_bytes(data: bytes, where: str = "input") -> str:
    """Decode article bytes: UTF-8 (with or without BOM), UTF-16 (BOM or clear byte pattern) or Windows-1251.

    Says what it did, as a logged warning: UTF-8 with a few invalid bytes stays UTF-8,
    each bad byte a U+FFFD, the first bad offset named; Windows-1251 is used only when the
    bytes are not UTF-8 yet fit it whole (and they hold fewer valid UTF-8 characters than bad
    bytes); control characters anywhere (C0 and C1, but tab, newlines and form feed) are removed.

    Raises
    ------
    InputError
        When the bytes look binary (NUL bytes or control characters) rather than text.
    """
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _check_text(data.decode(enc, errors="replace"), where)
    endian = _utf16_endianness(data)
    if endian:
        return _check_text(data.decode(endian, errors="replace"), where)
    if b"\0" in data[:8192]:
        raise InputError(f"{where} looks binary, not text: give a plain text, Markdown or HTML file")
    try:
        return _check_text(data.decode("utf-8"), where)
    except UnicodeDecodeError as exc:
        first = exc.start
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode("utf-8"))
    multibyte = sum(1 for ch in text if ord(ch) > 0x7F) - text.count("\ufffd")
    if multibyte < bad:
        try:
            other = data.decode("cp1251")
        except UnicodeDecodeError as exc:
            other = data.decode("cp1251", errors="replace")
            undefined = other.count("\ufffd") - text.count("\ufffd") + bad
            if undefined < bad:  # still far closer to Windows-1251 than to UTF-8
                log.warning("%s is not UTF-8 (an invalid byte at offset %d): read as Windows-1251 (Cyrillic), "
                            "%d byte%s undefined there read as U+FFFD, the first at offset %d", where, first,
                            undefined, "" if undefined == 1 else "s", exc.start)
                return _check_text(other, where)
        else:
            log.warning("%s is not UTF-8 (an invalid byte at offset %d): read as Windows-1251 (Cyrillic); "
                        "save it as UTF-8 if that is wrong", where, first)
            return _check_text(other, where)
    log.warning("%s: %d invalid UTF-8 byte sequence%s, the first at byte offset %d, read as U+FFFD (\ufffd)", where,
                bad, "" if bad == 1 else "s", first)
    return _check_text(text, where)


#: Control characters removed from text (C0 and C1 controls but tab, line feed, carriage return, form feed).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _utf16_endianness(data: bytes) -> str | None:
    """Detect UTF-16 without a BOM: in text of one script, the high bytes take very few values.

    Latin text has high byte 0x00, Cyrillic 0x04 (plus 0x00 for spaces and digits),
    while the low bytes vary. Returns the codec name, or None.
    """
    sample = data[:8192]
    if len(sample) < 16 or len(data) % 2:
        return None

    def top2(values: bytes) -> float:
        counts = sorted((values.count(v) for v in set(values)), reverse=True)
        return sum(counts[:2]) / len(values)

    even, odd = top2(sample[0::2]), top2(sample[1::2])
    if odd > 0.9 and even < 0.6 and 0 in sample[1::2]:
        return "utf-16-le"
    if even > 0.9 and odd < 0.6 and 0 in sample[0::2]:
        return "utf-16-be"
    return None


def _check_text(text: str, where: str) -> str:
    """``text`` with its control characters removed (with a warning) and its newlines made ``\\n``.

    Raises
    ------
    InputError
        When the start of the text is more than 5 % control or replacement characters (binary).
    """
    sample = text[:8192]
    if not sample:
        return text
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    bad = sample.count("\ufffd") + controls
    if bad / len(sample) > 0.05:
        raise InputError(f"{where} looks binary, not text: give a plain text, Markdown or HTML file")
    first = _CONTROLS.search(text)
    if first is not None:
        count = len(_CONTROLS.findall(text))
        log.warning("%s: %d control character%s removed (the first, U+%04X, at character %d)", where, count,
                    "" if count == 1 else "s", ord(first.group()), first.start())
        text = _CONTROLS.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


#: A "<" and what follows up to the next "<" or ">" (quoted attribute values included): a tag when a ">" ends it.
_TAG_START = re.compile(r"""<((?:[^<>"']|"[^"<]*"|'[^'<]*')*)(>?)""")


def _bounded_markup(markup: str) -> str:
    """``markup`` that :class:`html.parser.HTMLParser` reads in linear time.

    The parser scans ahead from each unclosed ``<`` or ``<!--`` to the end of the text, so
    60 KB of ``<a `` or ``<!--`` would take minutes. Here, in one pass each: comments are
    removed (an unclosed one hides the rest, as in a browser), and a ``<`` that starts no
    tag (no ``>`` before the next ``<``) becomes ``&lt;``, which the parser reads back as text.
    """
    parts, pos = [], 0
    while (start := markup.find("<!--", pos)) >= 0:
        parts.append(markup[pos:start])
        end = markup.find("-->", start + 4)
        if end < 0:
            pos = len(markup)
            break
        pos = end + 3
    parts.append(markup[pos:])
    text = "".join(parts)
    return _TAG_START.sub(lambda m: m.group() if m.group(2) else "&lt;" + m.group(1), text)


def html_to_text(markup: str) -> str:
    """Return the visible text of an HTML document (no scripts, styles or tags)."""
    parser = _TextExtractor()
    parser.feed(_bounded_markup(markup))
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return re.sub(r"\n\s*\n\s*", "\n\n", text).strip()


def markdown_to_text(markup: str) -> str:
    """Strip Markdown syntax (links, emphasis, headings, images, code fences) from text."""
    # Linear time on any text: no pattern scans past the next opener of its own kind ("[", "(", "**",
    # "_" ...), so a long run of openers without closers costs one pass, not one pass per opener.
    text = re.sub(r"```.*?```", "", markup, flags=re.S)
    text = re.sub(r"!\[([^\[\]]*)\]\([^()]*\)", r"\1", text)
    text = re.sub(r"\[([^\[\]]+)\]\([^()]*\)", r"\1", text)
    text = re.sub(r"^[ \t]{0,3}#{1,6}[ \t]*", "", text, flags=re.M)
    text = re.sub(r"^[ \t]{0,3}>[ \t]?", "", text, flags=re.M)
    text = re.sub(r"^[ \t]*[-*+][ \t]+", "", text, flags=re.M)
    text = re.sub(r"(\*\*|__)((?:(?!\1).)+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])([*_])(?!\s)((?:(?!\1).)+?)(?<!\s)\1(?![\w*])", r"\2", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    return html.unescape(text)


def _read_stdin() -> str:
    """The article piped to standard input (same checks as a file)."""
    data = sys.stdin.buffer.read(settings.max_article_bytes + 1)
    if len(data) > settings.max_article_bytes:
        raise InputError(f"the article on standard input is over the {settings.max_article_bytes / 1e6:.0f} MB limit: "
                         "split it")
    text = decode_bytes(data, "standard input")
    if _HTML_HINT.search(text[:5000]):
        text = html_to_text(text)
    if not text.strip():
        raise InputError("the article on standard input is empty: pipe the article's text, or give a file")
    return text
