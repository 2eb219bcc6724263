"""Small Leaflet elements that Folium draws with heavier means.

* :class:`EncodedLine`: a polyline whose coordinates travel as Google encoded
  polylines (about a sixth of the JSON array), decoded in the page by ``cmDecode``
  (defined in :mod:`geo.maps.page`).
* :class:`Popup` and :class:`Label`: ``bindPopup``/``bindTooltip`` with the HTML as a
  JSON string, so no jQuery is needed to parse it and no JS template literal is
  involved (the text is still escaped HTML, see :func:`geo.maps.style.escape`).
* :class:`Spread`: the OverlappingMarkerSpiderfier plugin over a chosen list of
  markers, so stacked markers spread apart when clicked.
* :class:`Macro`: the base of these and of the page's own elements: a
  ``MacroElement`` whose rendered parts go into the page verbatim (branca would
  compile each of them as a Jinja template once more: most of a map's render time,
  and a way for text in the page to be read as template code).
"""

from __future__ import annotations

import json

import folium
from branca.element import Element, MacroElement
from folium import plugins
from folium.template import Template
from folium.vector_layers import path_options

from .display import TARGET_ZOOM, encoded_parts


def js_strings(values: list[str]) -> str:
    """A JS array of strings that is safe in a ``<script>`` (``<``, ``>`` and ``&`` as ``\\u`` escapes).

    Only for :class:`Macro` elements, whose scripts go into the page verbatim: the ``{`` and
    ``}`` that encoded polylines are full of are left as they are (a Jinja-rendered script
    would need them escaped, at six bytes each).
    """
    text = json.dumps(values)
    for char in "<>&":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


class Verbatim(Element):
    """Finished HTML or script, put in the page as it is."""

    def __init__(self, text: str):
        super().__init__()
        self._name = "Verbatim"
        self.text = text

    def render(self, **kwargs) -> str:  # noqa: ARG002 - branca's signature
        return self.text


class Macro(MacroElement):
    """A ``MacroElement`` whose ``header``, ``html`` and ``script`` macros are rendered once, into :class:`Verbatim`."""

    def render(self, **kwargs) -> None:  # type: ignore[override]  # branca's MacroElement.render returns None too
        figure = self.get_root()
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                getattr(figure, part).add_child(Verbatim(macro(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class Marker(folium.Marker, Macro):  # type: ignore[misc]  # folium's and branca's render hints disagree
    """``folium.Marker``, rendered as :class:`Macro` (with its icon setter)."""

    class SetIcon(folium.Marker.SetIcon, Macro):
        """``folium.Marker.SetIcon``, rendered as :class:`Macro`."""


class DivIcon(folium.DivIcon, Macro):
    """``folium.DivIcon``, rendered as :class:`Macro`."""


class FeatureGroup(folium.FeatureGroup, Macro):
    """``folium.FeatureGroup``, rendered as :class:`Macro`."""


#: Leaflet's defaults for path options: options equal to them are left out of the page.
LEAFLET_PATH_DEFAULTS = {
    "stroke": True, "opacity": 1.0, "lineCap": "round", "lineJoin": "round", "dashArray": None, "dashOffset": None,
    "fillOpacity": 0.2, "fillRule": "evenodd", "bubblingMouseEvents": True, "smoothFactor": 1.0, "noClip": False,
}


def compact(options: dict, defaults: dict | None = None) -> dict:
    """``options`` without the entries Leaflet would take anyway (:data:`LEAFLET_PATH_DEFAULTS`)."""
    defaults = LEAFLET_PATH_DEFAULTS if defaults is None else defaults
    return {k: v for k, v in options.items() if k not in defaults or defaults[k] != v}


class EncodedLine(Macro):
    """A Leaflet polyline (one or more parts) from a shapely line, simplified for display.

    Parameters
    ----------
    geom : shapely LineString or MultiLineString (lon, lat); or polygons with ``polygon=True``
        (every ring becomes a part of one ``L.polygon`` filled even-odd, so holes stay holes).
    zoom, ref_lat :
        The zoom the shape must look exact at, and the latitude where (see :func:`geo.maps.display.encoded_parts`).
    **options
        Leaflet path options in Folium's spelling (``color``, ``weight``, ``dash_array``, ``class_name``...).
    """

    _template = Template("""
    {% macro script(this, kwargs) %}
    var {{ this.get_name() }} = L.{{ this.kind }}(cmDecode({{ this.parts_js }}, {{ this.precision }}),
      {{ this.options|tojavascript }}).addTo({{ this._parent.get_name() }});
    {% endmacro %}
    """)

    def __init__(self, geom, *, polygon: bool = False, zoom: int = TARGET_ZOOM, ref_lat: float | None = None,
                 **options):
        super().__init__()
        self._name = "EncodedLine"
        self.parts, self.precision = encoded_parts(geom, zoom, ref_lat)
        self.parts_js = js_strings(self.parts)
        self.kind = "polygon" if polygon else "polyline"
        self.options = compact(path_options(line=not polygon, **options))

    @classmethod
    def encoded(cls, parts: list[str], decimals: int, *, polygon: bool = False, **options) -> EncodedLine:
        """An :class:`EncodedLine` of parts already encoded (:func:`geo.maps.display.encode_polyline`) at ``decimals``."""
        line = cls(None, polygon=polygon, **options)
        line.parts, line.precision = list(parts), int(decimals)
        line.parts_js = js_strings(line.parts)
        return line

    @property
    def empty(self) -> bool:
        """True when nothing is left to draw after simplification."""
        return not self.parts


class Popup(Macro):
    """``bindPopup`` on the parent layer with escaped HTML passed as a JSON string."""

    _template = Template("""
    {% macro script(this, kwargs) %}
    {{ this._parent.get_name() }}.bindPopup({{ this.html|tojson }}, {maxWidth: {{ this.max_width }}});
    {% endmacro %}
    """)

    def __init__(self, html: str, max_width: int = 360):
        super().__init__()
        self._name = "Popup"
        self.html = html
        self.max_width = int(max_width)


class Label(Macro):
    """A tooltip on the parent layer: a permanent, clickable name label, or a hover tooltip.

    Parameters
    ----------
    html : str
        Escaped HTML.
    kind : str, optional
        For permanent labels, the key of :data:`geo.maps.style.LABEL_PRIORITY`; the page's declutter
        hides or moves lower-priority labels that would overlap higher ones.
    gap : float
        Pixels between the marker's centre and the label (used to place the label on another side).
    zoom : int
        Shown from this zoom on (0: always).
    interactive : bool
        A click on the label acts as a click on its marker (opens the marker's popup).
    """

    _template = Template("""
    {% macro script(this, kwargs) %}
    {{ this._parent.get_name() }}.bindTooltip({{ this.html|tojson }}, {{ this.options|tojson }});
    {% endmacro %}
    """)

    def __init__(self, html: str, *, kind: str | None = None, priority: int = 9, gap: float = 6,
                 direction: str = "right", class_name: str = "", zoom: int = 0, interactive: bool = True):
        super().__init__()
        self._name = "Label"
        self.html = html
        if kind is None:
            self.options = {"sticky": True, "className": class_name} if class_name else {"sticky": True}
            return
        classes = ["cm-label", f"cm-label-{kind}", f"cm-pri-{priority}", f"cm-gap-{round(gap)}", class_name]
        if zoom:
            classes.append(f"cm-z{zoom}")
        offset = {"right": [gap, 0], "left": [-gap, 0], "top": [0, -gap], "bottom": [0, gap]}.get(direction, [0, 0])
        self.options = {"permanent": True, "interactive": interactive, "direction": direction, "offset": offset,
                        "className": " ".join(c for c in classes if c)}


class Spread(plugins.OverlappingMarkerSpiderfier):
    """Spread stacked markers apart on click (OverlappingMarkerSpiderfier) for the given markers only;
    labels are decluttered again once they have moved."""

    _template = Template("""
    {% macro script(this, kwargs) %}
    (function(map){
      var oms = new OverlappingMarkerSpiderfier(map, {{ this.options|tojson }});
      function relabel(){ window.requestAnimationFrame(function(){ cmDeclutter(map); }); }
      oms.addListener('spiderfy', function(){ map.closePopup(); relabel(); });
      oms.addListener('unspiderfy', relabel);
      {%- for marker in this.markers %}
      oms.addMarker({{ marker.get_name() }});
      {%- endfor %}
    })({{ this._parent.get_name() }});
    {% endmacro %}
    """)

    def __init__(self, markers: list[folium.Marker], nearby_distance: int = 24):
        super().__init__(keep_spiderfied=True, nearby_distance=nearby_distance)
        self._markers = list(markers)

    def add_to(self, parent, name=None, index=None):  # noqa: D102 - folium's signature
        folium.MacroElement.add_to(self, parent, name=name, index=index)
        self.markers = self._markers
        return self
