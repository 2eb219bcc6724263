"""Reading saved map pages in tests: popups, labels and the legend travel as JSON strings in the scripts."""

from __future__ import annotations

import json
import re

_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def page_strings(html: str) -> str:
    """Every JSON string literal of a page, decoded, one per line (popup, label and legend HTML among them)."""
    out = []
    for match in _JSON_STRING.finditer(html):
        try:
            out.append(json.loads(match.group(0)))
        except ValueError:
            continue
    return "\n".join(s for s in out if isinstance(s, str))


def legend_of(html: str) -> str:
    """The legend's HTML (the JSON string after the legend's title block)."""
    start = html.index("'</div>' + ") + len("'</div>' + ")
    return json.JSONDecoder().raw_decode(html, start)[0]
