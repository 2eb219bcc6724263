"""The page around the map: title box, legend control, fitted view (Leaflet templates), and stable HTML."""

from __future__ import annotations

import re

import folium
from branca.element import MacroElement, Template

from .. import settings
from .style import escape


def fit(fmap: folium.Map, bounds) -> None:
    """Fit the map view to (minx, miny, maxx, maxy), keeping clear of the layer control and legend."""
    fmap.add_child(Fit(bounds))


class Fit(MacroElement):
    """fitBounds with padding for the controls, scaled to the map's size (so small embeds still fit)."""

    _template = Template("""
    {% macro script(this, kwargs) %}
    (function(map){
      var s = map.getSize();
      map.fitBounds({{ this.bounds|tojson }}, {animate: false,
        paddingTopLeft: [Math.min(250, s.x * 0.22), Math.min(70, s.y * 0.1)],
        paddingBottomRight: [Math.min(300, s.x * 0.25), Math.min(30, s.y * 0.05)]});
    })({{ this._parent.get_name() }});
    {% endmacro %}
    """)

    def __init__(self, bounds):
        super().__init__()
        self._name = "CorridorMapFit"
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        self.bounds = [[miny, minx], [maxy, maxx]]


class Chrome(MacroElement):
    """Title box, data attribution and zoom-dependent station labels."""

    _template = Template("""
    {% macro header(this, kwargs) %}
    <style>
      .cm-title{background:rgba(255,255,255,.94);padding:6px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
        font:14px/1.3 system-ui,sans-serif;max-width:min(60vw,520px)}
      .cm-title h1{font-size:16px;margin:0}.cm-title p{margin:2px 0 0;font-size:12px;color:#444}
      .cm-legend{background:rgba(255,255,255,.94);padding:6px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
        font:12px/1.35 system-ui,sans-serif;max-width:300px;max-height:45vh;overflow:auto}
      .cm-legend div{margin:3px 0}.cm-legend small{color:#444}.cm-legend svg{vertical-align:middle}
      .cm-swatch{display:inline-block;width:22px;height:5px;margin-right:6px;vertical-align:middle;border-radius:2px}
      .cm-dot{display:inline-block;width:8px;height:8px;border:2px solid #555;border-radius:50%;background:#fff;
        vertical-align:middle;margin:0 8px 0 8px}
      .cm-circle{display:inline-block;width:12px;height:12px;border-radius:50%;background:rgba(224,130,20,.5);
        border:1.5px solid #e08214;vertical-align:middle;margin:0 7px}
      .cm-port-icon{box-sizing:border-box;width:16px;height:16px;border:2px solid #555;border-radius:50%;background:#fff;
        color:#555;font-size:8px;line-height:12px;text-align:center}
      .cm-legend-port{display:inline-block;vertical-align:middle;margin:0 5px}
      .cm-pin{display:inline-block;width:18px;height:18px;border-radius:50% 50% 50% 0;color:#fff;font-size:9px;
        line-height:18px;text-align:center;margin:0 4px;vertical-align:middle}
      .cm-pin-darkpurple{background:#5b396b}.cm-pin-cadetblue{background:#436978}.cm-pin-gray{background:#575757}
      .cm-quote{margin:4px 0;padding-left:6px;border-left:3px solid #e08214}
      .cm-label{background:transparent;border:0;box-shadow:none;padding:0 2px;font:600 11px system-ui,sans-serif;
        color:#222;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff}
      .cm-label::before{display:none}
      {% for z in range(1, 19) %}.leaflet-container:not(.cm-zoom-ge-{{z}}) .cm-z{{z}}{display:none}
      {% endfor %}
    </style>
    {% endmacro %}
    {% macro script(this, kwargs) %}
    (function(map){
      var title = L.control({position: 'topright'});
      title.onAdd = function(){ var d = L.DomUtil.create('div', 'cm-title');
        d.innerHTML = {{ this.title_html|tojson }}; return d; };
      title.addTo(map);
      map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
      map.attributionControl.addAttribution({{ this.attribution|tojson }});
      function zoomClasses(){ var z = map.getZoom(), c = map.getContainer();
        for (var k = 0; k <= 20; k++) { c.classList.toggle('cm-zoom-ge-' + k, z >= k); } }
      map.on('zoomend', zoomClasses); map.whenReady(zoomClasses);
    })({{ this._parent.get_name() }});
    {% endmacro %}
    """)

    def __init__(self, title: str, subtitle: str):
        super().__init__()
        self._name = "CorridorMapChrome"
        self.title_html = f"<h1>{escape(title)}</h1>" + (f"<p>{escape(subtitle)}</p>" if subtitle else "")
        self.attribution = settings.ATTRIBUTION


class LegendControl(MacroElement):
    _template = Template("""
    {% macro script(this, kwargs) %}
    (function(map){
      var legend = L.control({position: 'bottomright'});
      legend.onAdd = function(){ var d = L.DomUtil.create('div', 'cm-legend');
        d.setAttribute('role', 'region'); d.setAttribute('aria-label', 'Legend');
        d.innerHTML = {{ this.body|tojson }}; L.DomEvent.disableScrollPropagation(d);
        L.DomEvent.disableClickPropagation(d); return d; };
      legend.addTo(map);
    })({{ this._parent.get_name() }});
    {% endmacro %}
    """)

    def __init__(self, body: str):
        super().__init__()
        self._name = "CorridorMapLegend"
        self.body = body


_ELEMENT_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")


def render_html(fmap: folium.Map) -> str:
    """The map as one HTML page, with Folium's random element ids renumbered in order.

    The same map always gives the same bytes, so a map rebuilt from a snapshot
    is identical to the published one and two builds can be diffed.
    """
    html = fmap.get_root().render()
    ids: dict[str, str] = {}
    return _ELEMENT_ID.sub(lambda m: ids.setdefault(m.group(0), f"{len(ids):032x}"), html)
