"""Overpass tag selectors (``["railway"="rail"]["usage"="main"]``): parsed and checked, without pandas."""

from __future__ import annotations

import re

_FILTER = re.compile(r'\[\s*"([^"]+)"\s*(?:(=|~|!=)\s*"([^"]*)")?\s*\]')


def parse_filter(selector: str) -> list[tuple[str, str | None, str | None]]:
    """Parse an Overpass tag selector such as ``'["railway"="rail"]["usage"="main"]'``.

    Returns
    -------
    list of (key, op, value)
        ``op`` is ``"="``, ``"!="``, ``"~"`` (regex) or None (key present).
    """
    parts = _FILTER.findall(selector or "")
    return [(k, op or None, v if op else None) for k, op, v in parts]


def filter_problem(selector: str) -> str | None:
    """What is wrong with an Overpass tag selector, or None when it is well formed.

    A selector is one or more ``["key"]``, ``["key"="value"]``, ``["key"!="value"]`` or
    ``["key"~"regex"]`` clauses and nothing else; each regex must compile.
    """
    rest = _FILTER.sub("", selector).strip()
    if not selector.strip() or rest:
        return f"{selector!r} is not a tag selector like '[\"railway\"=\"rail\"]'"
    for key, op, value in parse_filter(selector):
        if op == "~" and value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                return f"the regular expression {value!r} of {key!r} is malformed ({exc})"
    return None
