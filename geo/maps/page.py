"""The page around the map (Leaflet templates) and stable HTML.

* :class:`Chrome`: styles, the title box, attribution, zoom-dependent station labels, the label
  declutter (no overlap, no label cut at the map's edge, one label per name) and the line decoder;
  a phone layout below :data:`NARROW_PX`.
* :class:`LegendControl`: the legend, behind a button on phones.
* :class:`StoryView`: the opening view on the story, with a button for the whole extent.
* :func:`slim`: only Leaflet from Folium's default assets (no jQuery, Bootstrap or Font Awesome).
"""

from __future__ import annotations

import re

import folium
from branca.element import Template

from .. import settings
from .elements import Macro
from .style import escape, icon_svg

#: Below this map width (CSS px) the page switches to its phone layout.
NARROW_PX = 600
#: Below this map width (CSS px) the layer list starts closed, behind its button (it would hide the story).
LAYERS_OPEN_PX = 1000
#: Folium's default assets the maps need: Leaflet alone (markers are DivIcons with inline SVG,
#: popups are bound as strings, so jQuery, Bootstrap, Font Awesome and awesome-markers go).
KEEP_ASSETS = ("leaflet", "leaflet_css")
#: Space (CSS px) kept between the legend and the box above it (the title) or the map's top edge.
LEGEND_GAP_PX = 8
#: The legend's list is never folded below this height (CSS px): a few lines stay readable.
LEGEND_MIN_BODY_PX = 60


def slim(fmap: folium.Map) -> None:
    """Keep only Leaflet among Folium's default JS/CSS links of ``fmap``."""
    fmap.default_js = [(name, url) for name, url in fmap.default_js if name in KEEP_ASSETS]
    fmap.default_css = [(name, url) for name, url in fmap.default_css if name in KEEP_ASSETS]


class StoryView(Macro):
    """Open on the story's bounds (clear of the controls); a button shows the whole extent.

    Parameters
    ----------
    story, whole : (minx, miny, maxx, maxy)
        The opening view and the map's whole extent (the same when there is no story to frame).
    max_zoom : int, optional
        Closest opening zoom (e.g. 12 for a border map's crossings, a few km apart).
    """

    _template = Template("""
    {% macro script(this, kwargs) %}
    (function(map){
      var story = {{ this.story|tojson }}, whole = {{ this.whole|tojson }};
      // the boxes over the map: controls, the title and the legend (the attribution and scale too)
      function boxes(){ var c = map.getContainer(), o = c.getBoundingClientRect();
        return Array.prototype.slice.call(c.querySelectorAll('.leaflet-control, .cm-title'))
          .filter(function(e){ return e.offsetParent !== null; })
          .map(function(e){ var r = e.getBoundingClientRect();
            return {l: r.left - o.left, t: r.top - o.top, r: r.right - o.left, b: r.bottom - o.top}; })
          .filter(function(r){ return r.r > r.l && r.b > r.t; }); }
      // the free rectangle of the map in which ``bounds`` shows largest, as fitBounds padding
      function padding(bounds){ var s = map.getSize(), bs = boxes();
        var m = Math.min({{ this.margin }}, Math.round(Math.min(s.x, s.y) / 20));  // less on a phone
        var a = map.project(L.latLng(bounds[0]), 0), b = map.project(L.latLng(bounds[1]), 0);
        var bw = Math.max(Math.abs(b.x - a.x), 1e-9), bh = Math.max(Math.abs(b.y - a.y), 1e-9);
        var cap = Math.pow(2, {{ this.max_zoom or 30 }});  // fits at the closest zoom anywhere: then the largest part
        var xs = [0, s.x], ys = [0, s.y];
        bs.forEach(function(r){ xs.push(r.l, r.r); ys.push(r.t, r.b); });
        xs = xs.filter(function(x){ return x >= 0 && x <= s.x; });
        ys = ys.filter(function(y){ return y >= 0 && y <= s.y; });
        var best = null, score = -1;
        xs.forEach(function(l){ xs.forEach(function(r){ if (r - l < 4 * m) return;
          ys.forEach(function(t){ ys.forEach(function(bt){ if (bt - t < 4 * m) return;
            for (var i = 0; i < bs.length; i++) { var q = bs[i];
              if (l < q.r && r > q.l && t < q.b && bt > q.t) return; }
            var k = Math.min((r - l - 2 * m) / bw, (bt - t - 2 * m) / bh, cap), area = (r - l) * (bt - t);
            if (k > score + 1e-12 || (Math.abs(k - score) <= 1e-12 && area > best.area)) {
              score = k; best = {l: l, t: t, r: r, b: bt, area: area}; } }); }); }); });
        if (!best) return {paddingTopLeft: [m, m], paddingBottomRight: [m, m]};
        return {paddingTopLeft: [best.l + m, best.t + m], paddingBottomRight: [s.x - best.r + m, s.y - best.b + m]}; }
      function fit(bounds){ var opts = padding(bounds); opts.animate = false;
        {% if this.max_zoom %}opts.maxZoom = {{ this.max_zoom }};{% endif %}
        map.fitBounds(bounds, opts); }
      function open(){ fit(story); }
      open();
      Promise.resolve().then(open);  // again once every control of the page is on it (the layer list comes later)
      map.getContainer().addEventListener('cm-layout', open);  // the page's furniture moved (e.g. a static image)
      var Whole = L.Control.extend({options: {position: 'topleft'}, onAdd: function(){
        var d = L.DomUtil.create('div', 'leaflet-bar cm-whole');
        var a = L.DomUtil.create('a', '', d); a.href = '#'; a.setAttribute('role', 'button');
        a.title = {{ this.whole_label|tojson }}; a.setAttribute('aria-label', a.title);
        a.innerHTML = {{ this.icon|tojson }};
        L.DomEvent.on(a, 'click', function(e){ L.DomEvent.preventDefault(e); L.DomEvent.stopPropagation(e);
          var o = padding(whole); o.animate = false; map.fitBounds(whole, o); });
        return d; }});
      new Whole().addTo(map);
    })({{ this._parent.get_name() }});
    {% endmacro %}
    """)

    def __init__(self, story, whole, max_zoom: int | None = None, whole_label: str = "Show the whole map"):
        super().__init__()
        self._name = "CorridorMapView"
        self.story, self.whole = _latlng_bounds(story), _latlng_bounds(whole)
        self.max_zoom = max_zoom
        self.margin = settings.view_margin_px
        self.whole_label = whole_label
        self.icon = icon_svg("expand", 18)


def _latlng_bounds(bounds) -> list[list[float]]:
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    return [[round(miny, 5), round(minx, 5)], [round(maxy, 5), round(maxx, 5)]]


class Chrome(Macro):
    """Styles, title box, attribution, zoom-dependent labels, label declutter and the line decoder."""

    _template = Template("""
    {% macro header(this, kwargs) %}
    <style>
      .folium-map.leaflet-container{font:12px/1.4 system-ui,sans-serif}
      .leaflet-control-layers-expanded{padding:4px 8px}.leaflet-control-layers label{margin:1px 0}
      .folium-map .leaflet-control-attribution{font-size:11px}
      .cm-legend-title h1{font-size:14px;margin:0}.cm-legend-title p{margin:2px 0 4px;color:#444}
      .cm-title{background:rgba(255,255,255,.94);padding:6px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
        font:14px/1.3 system-ui,sans-serif;max-width:min(60vw,520px)}
      .cm-title h1{font-size:16px;margin:0}.cm-title p{margin:2px 0 0;font-size:12px;color:#444}
      .cm-legend{background:rgba(255,255,255,.94);border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
        font:12px/1.35 system-ui,sans-serif;max-width:300px}
      .cm-legend-body{box-sizing:border-box;padding:6px 10px;max-height:45vh;overflow:auto}
      .cm-legend-toggle{display:none;min-height:32px;min-width:32px;padding:0 12px;border:0;border-radius:4px;background:#fff;
        font:600 13px system-ui,sans-serif;color:#222;cursor:pointer}
      .cm-legend div{margin:3px 0}.cm-legend small{color:#444}.cm-legend svg{vertical-align:middle}
      .cm-legend-title{display:none}
      .cm-swatch{display:inline-block;width:22px;height:5px;margin-right:6px;vertical-align:middle;border-radius:2px}
      .cm-dot{display:inline-block;width:8px;height:8px;border:2px solid #555;border-radius:50%;background:#fff;
        vertical-align:middle;margin:0 8px 0 8px}
      .cm-circle,.cm-place-dot{display:inline-block;box-sizing:border-box;border-radius:50%;background:rgba(224,130,20,.5);
        border:1.5px solid #e08214}
      .cm-circle{width:12px;height:12px;vertical-align:middle;margin:0 7px}
      .cm-marker{display:flex;align-items:center;justify-content:center;background:none;border:0}
      .cm-port-icon{box-sizing:border-box;width:18px;height:18px;border:2px solid #555;border-radius:50%;background:#fff;
        color:#555;display:flex;align-items:center;justify-content:center}
      .cm-legend-port{display:inline-flex;vertical-align:middle;margin:0 5px}
      .cm-pin{display:inline-flex;align-items:center;justify-content:center;width:22px;height:22px;
        border-radius:50% 50% 50% 0;transform:rotate(-45deg);color:#fff;border:1.5px solid #fff;
        box-shadow:0 1px 3px rgba(0,0,0,.4);vertical-align:middle;margin:0 3px}
      .cm-pin .cm-svg{transform:rotate(45deg)}
      .cm-quote{margin:4px 0;padding-left:6px;border-left:3px solid #e08214}
      .cm-label{background:transparent;border:0;box-shadow:none;padding:0 2px;font:600 11px system-ui,sans-serif;
        color:#222;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff;cursor:pointer}
      .cm-label::before{display:none}
      .cm-label-place{font-size:12px;color:#7a3d00}
      .cm-label-country{font:italic 600 12px system-ui,sans-serif;color:#555;letter-spacing:.06em;
        text-transform:uppercase}
      .cm-label-area{font:italic 600 11px system-ui,sans-serif;color:#6b5b45;letter-spacing:.04em}
      .cm-label-area.cm-area-water{color:#2a6f97;font-weight:500}
      .cm-label-crossing{color:#3c2547}
      .cm-legend-area{font:italic 600 11px system-ui,sans-serif;color:#555;text-transform:uppercase;letter-spacing:.06em}
      .cm-legend-area.cm-legend-region{color:#6b5b45;text-transform:none}
      .cm-label.cm-hidden{visibility:hidden!important;pointer-events:none!important}
      .cm-whole a{display:flex!important;align-items:center;justify-content:center}
      {% for z in range(1, 19) %}.leaflet-container:not(.cm-zoom-ge-{{z}}) .cm-z{{z}}{display:none}
      {% endfor %}
      .cm-narrow .cm-title{display:none}
      .cm-narrow .cm-legend{max-width:calc(100vw - 70px)}
      .cm-narrow .cm-legend-toggle{display:block}
      .cm-narrow .cm-legend.cm-closed .cm-legend-body{display:none}
      .cm-narrow .cm-legend-body{max-height:calc(100vh - 110px)}
      .cm-narrow .cm-legend-title{display:block}
      .cm-narrow .leaflet-control-zoom a,.cm-narrow .cm-whole a,.cm-narrow .leaflet-control-zoom-fullscreen{
        width:32px!important;height:32px!important;line-height:32px!important}
      .cm-narrow .leaflet-control-layers-toggle{width:32px;height:32px;background-size:20px}
      .cm-narrow .leaflet-control-scale{display:none}
      .cm-narrow .leaflet-control-attribution{max-width:calc(100vw - 12px);white-space:nowrap;overflow:hidden;
        text-overflow:ellipsis;font-size:9px}
      .cm-narrow .leaflet-control-attribution:hover,.cm-narrow .leaflet-control-attribution:focus-within{white-space:normal}
      .cm-narrow .leaflet-left .leaflet-control{margin-left:6px}.cm-narrow .leaflet-top .leaflet-control{margin-top:6px}
      .cm-narrow .leaflet-right .leaflet-control{margin-right:6px}
    </style>
    <script>
    function cmDecode(parts, precision){
      var f = Math.pow(10, precision);
      function next(s, pos){ var r = 0, k = 1, b; do { b = s.charCodeAt(pos.i++) - 63; r += (b & 31) * k; k *= 32; }
        while (b >= 32); return r % 2 ? -(r + 1) / 2 : r / 2; }
      return parts.map(function(s){ var pos = {i: 0}, lat = 0, lng = 0, out = [];
        while (pos.i < s.length) { lat += next(s, pos); lng += next(s, pos); out.push([lat / f, lng / f]); }
        return out; });
    }
    function cmDeclutter(map){
      var c = map.getContainer(), view = c.getBoundingClientRect(), kept = [], said = {};
      var labels = Array.prototype.slice.call(c.querySelectorAll('.leaflet-tooltip.cm-label'));
      function num(el, prefix, dflt){ var m = el.className.match(new RegExp(prefix + '(\\\\d+)')); return m ? +m[1] : dflt; }
      labels.forEach(function(el, i){ el.classList.remove('cm-hidden'); el.style.translate = ''; el._cmOrder = i; });
      labels.sort(function(a, b){ return num(a, 'cm-pri-', 9) - num(b, 'cm-pri-', 9) || a._cmOrder - b._cmOrder; });
      // no label under the title, the legend or a control: it moves beside its marker, or hides
      Array.prototype.forEach.call(c.querySelectorAll('.leaflet-control, .cm-title'), function(e){
        if (e.offsetParent === null) return;
        var q = e.getBoundingClientRect(); if (q.width && q.height) kept.push(q); });
      // a label moved off its place never covers another marker's centre (it would take that marker's clicks)
      var pins = Array.prototype.map.call(c.querySelectorAll('.leaflet-marker-pane .leaflet-marker-icon'), function(e){
        var q = e.getBoundingClientRect(); return [(q.left + q.right) / 2, (q.top + q.bottom) / 2]; });
      function covers(b){ return pins.some(function(p){
        return p[0] > b.left && p[0] < b.right && p[1] > b.top && p[1] < b.bottom; }); }
      function hits(r){ for (var j = 0; j < kept.length; j++) { var k = kept[j];
        if (r.left < k.right + 2 && r.right + 2 > k.left && r.top < k.bottom + 1 && r.bottom + 1 > k.top) return true; }
        return false; }
      labels.forEach(function(el){
        var r = el.getBoundingClientRect();
        if (!r.width || r.right < view.left || r.left > view.right || r.bottom < view.top || r.top > view.bottom) return;
        var text = el.textContent.trim().toLowerCase();
        if (said[text]) { el.classList.add('cm-hidden'); return; }  // one label per name on the screen
        function fits(b){ return b.left >= view.left && b.right <= view.right && b.top >= view.top && b.bottom <= view.bottom; }
        var g = num(el, 'cm-gap-', 6), w = r.width, h = r.height;
        var right = el.classList.contains('leaflet-tooltip-right');
        var moves = right ? [[0, 0], [-(w + 2 * g), 0], [-(w / 2 + g), -(h / 2 + g)], [-(w / 2 + g), h / 2 + g]]
                          : [[0, 0], [0, -(h / 2 + 4)], [0, h / 2 + 4], [w / 2 + 6, 0], [-(w / 2 + 6), 0]];
        for (var m = 0; m < moves.length; m++) {
          var dx = moves[m][0], dy = moves[m][1];
          var moved = {left: r.left + dx, right: r.right + dx, top: r.top + dy, bottom: r.bottom + dy};
          if (!hits(moved) && fits(moved) && !((dx || dy) && covers(moved))) { if (dx || dy) el.style.translate = dx + 'px ' + dy + 'px';
            kept.push(moved); said[text] = true; return; }
        }
        el.classList.add('cm-hidden');
      });
    }
    </script>
    {% endmacro %}
    {% macro script(this, kwargs) %}
    (function(map){
      var c = map.getContainer();
      function layout(){ c.classList.toggle('cm-narrow', map.getSize().x < {{ this.narrow }}); }
      layout();
      var title = L.control({position: 'topright'});
      title.onAdd = function(){ var d = L.DomUtil.create('div', 'cm-title');
        d.innerHTML = {{ this.title_html|tojson }}; return d; };
      title.addTo(map);
      map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
      map.attributionControl.addAttribution({{ this.attribution|tojson }});
      function zoomClasses(){ var z = map.getZoom();
        for (var k = 0; k <= 20; k++) { c.classList.toggle('cm-zoom-ge-' + k, z >= k); } }
      var pending = null;
      function declutter(){ if (pending) return;
        pending = window.requestAnimationFrame(function(){ pending = null; cmDeclutter(map); }); }
      map.on('zoomend', function(){ zoomClasses(); declutter(); });
      map.on('overlayadd overlayremove layeradd', declutter);
      map.on('resize', function(){ layout(); declutter(); });
      c.addEventListener('cm-layout', declutter);
      map.whenReady(function(){ zoomClasses(); cmDeclutter(map); });
    })({{ this._parent.get_name() }});
    {% endmacro %}
    """)

    def __init__(self, title: str, subtitle: str):
        super().__init__()
        self._name = "CorridorMapChrome"
        self.title_html = title_html(title, subtitle)
        self.attribution = settings.ATTRIBUTION
        self.narrow = NARROW_PX


def title_html(title: str, subtitle: str = "") -> str:
    """The title box's escaped HTML."""
    return f"<h1>{escape(title)}</h1>" + (f"<p>{escape(subtitle)}</p>" if subtitle else "")


class LegendControl(Macro):
    """The legend (bottom right); on phones it starts closed behind a "Legend" button, with the title inside."""

    _template = Template("""
    {% macro script(this, kwargs) %}
    (function(map){
      var legend = L.control({position: 'bottomright'});
      legend.onAdd = function(){ var d = L.DomUtil.create('div', 'cm-legend');
        d.setAttribute('role', 'region'); d.setAttribute('aria-label', 'Legend');
        var b = L.DomUtil.create('button', 'cm-legend-toggle', d); b.type = 'button'; b.textContent = 'Legend';
        var body = L.DomUtil.create('div', 'cm-legend-body', d); body.id = {{ this.get_name()|tojson }};
        b.setAttribute('aria-controls', body.id);
        body.innerHTML = '<div class="cm-legend-title">' + {{ this.title_html|tojson }} + '</div>' + {{ this.body|tojson }};
        function set(open){ d.classList.toggle('cm-closed', !open); b.setAttribute('aria-expanded', String(open));
          b.textContent = open ? 'Close legend' : 'Legend'; fold(); }
        // never taller than the room below the boxes above it (the title): the rest scrolls
        function fold(){ if (!d.parentNode) return;
          body.style.maxHeight = '';
          var css = parseFloat(getComputedStyle(body).maxHeight), c = map.getContainer();
          var r = d.getBoundingClientRect(), top = c.getBoundingClientRect().top + {{ this.gap }};
          Array.prototype.forEach.call(c.querySelectorAll('.leaflet-control, .cm-title'), function(e){
            if (e === d || e.offsetParent === null) return;
            var q = e.getBoundingClientRect();
            if (q.left < r.right && q.right > r.left && q.top < r.top + r.height / 2) top = Math.max(top, q.bottom + {{ this.gap }}); });
          var rest = r.height - (d.classList.contains('cm-closed') ? 0 : body.getBoundingClientRect().height);
          var room = Math.max(r.bottom - top - rest, {{ this.min_body }});
          body.style.maxHeight = Math.min(isNaN(css) ? room : css, room) + 'px'; }
        set(map.getSize().x >= {{ this.narrow }});
        L.DomEvent.on(b, 'click', function(){ set(d.classList.contains('cm-closed')); });
        L.DomEvent.disableScrollPropagation(d); L.DomEvent.disableClickPropagation(d);
        map.on('resize', fold); map.getContainer().addEventListener('cm-layout', fold);
        Promise.resolve().then(fold);  // once the title and the other controls are on the map
        return d; };
      legend.addTo(map);
    })({{ this._parent.get_name() }});
    {% endmacro %}
    """)

    def __init__(self, body: str, title: str = "", subtitle: str = ""):
        super().__init__()
        self._name = "CorridorMapLegend"
        self.body = body
        self.title_html = title_html(title, subtitle) if title else ""
        self.narrow = NARROW_PX
        self.gap = LEGEND_GAP_PX
        self.min_body = LEGEND_MIN_BODY_PX


_ELEMENT_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")
#: Template indentation and blank lines (no template literal or <pre> spans lines in these pages).
_INDENT = re.compile(r"\n[ \t]*(?:\n[ \t]*)*")


def render_html(fmap: folium.Map) -> str:
    """The map as one HTML page, with Folium's random element ids renumbered in order and no indentation.

    The same map always gives the same bytes, so a map rebuilt from a snapshot
    is identical to the published one and two builds can be diffed.
    """
    html = fmap.get_root().render()
    ids: dict[str, str] = {}
    html = _ELEMENT_ID.sub(lambda m: ids.setdefault(m.group(0), f"{len(ids):032x}"), html)
    return _INDENT.sub("\n", html)
