"""Leaflet pieces of the interactive map: the JavaScript feature styling and the controls folium lacks.

Features are coloured in the browser from a per-feature class number (``_k``, plus ``_w`` for
width-by-class) and one palette per layer, never with folium's ``style_function`` (which compiles a
per-feature ``switch`` and is O(N²) in the browser). The ``MacroElement`` classes add the legend
and title boxes, the map's CSS class, scale bar and attribution, and the visibility report
streamlit-folium reads; :func:`use_package_assets` keeps every map off the CDNs and :func:`stable_ids` makes the same inputs give the same HTML.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import folium
from branca.element import Element, MacroElement
from folium.template import Template
from folium.utilities import JsCode

from planatlas.render.assets import map_assets


def use_package_assets(m: folium.Map, asset_base_url: str | None, *, draw: bool = False) -> folium.Map:
    """Make ``m`` load Leaflet and the map CSS from the package instead of folium's CDN defaults.

    ``asset_base_url`` is where ``planatlas/static`` is served; ``None`` inlines the assets as
    ``data:`` URIs so the page works offline and inside mainland China. ``draw`` adds Leaflet.draw.
    """
    m.default_js, m.default_css = map_assets(asset_base_url, draw=draw)
    return m


def js_style(palette: Mapping[str, Any]) -> JsCode:
    """The Leaflet ``style`` function: colour and width from ``_k``/``_w`` and the layer palette ``palette``."""
    pal = json.dumps(palette, ensure_ascii=True).replace("<", "\\u003c")
    return JsCode(
        f"""function(feature) {{
  var s = {pal};
  var p = feature.properties || {{}};
  var k = (p._k === undefined) ? 0 : p._k;
  var c = (k >= 0 && k < s.colors.length) ? s.colors[k] : s.fallback;
  var w = (p._w !== undefined && p._w >= 0) ? s.widths[p._w]
        : ((k >= 0 && k < s.weights.length) ? s.weights[k] : s.weight);
  return {{color: s.stroke || c, weight: w, opacity: s.opacity, fillColor: c,
          fillOpacity: s.fill ? s.fillOpacity : 0, fill: s.fill, stroke: s.strokeOn,
          dashArray: s.dash, radius: s.radius}};
}}"""
    )


def point_to_layer(layer_id: str, radius: float) -> JsCode:
    """The Leaflet ``pointToLayer`` function: points as SVG circle markers classed by layer."""
    return JsCode(
        "function(feature, latlng) { return L.circleMarker(latlng, "
        f"{{radius: {float(radius)}, className: 'pa-f pa-l-{layer_id}'}}); }}"
    )


#: Binds the pre-escaped tooltip (``_t``; a permanent label when ``_lbl``) and popup (``_p``).
ON_EACH_FEATURE = JsCode(
    """function(feature, layer) {
  var p = feature.properties || {};
  if (p._t) {
    if (p._lbl) { layer.bindTooltip(p._t, {permanent: true, direction: 'center', className: 'pa-label'}); }
    else { layer.bindTooltip(p._t, {sticky: true}); }
  }
  if (p._p) { layer.bindPopup(p._p, {maxWidth: 360}); }
}"""
)


class HtmlControl(MacroElement):
    """A Leaflet control holding escaped HTML (legend, title); follows overlay visibility."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function() {
                var div = L.DomUtil.create('div', {{ this.css_class|tojson }});
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo({{ this._parent.get_name() }});
            {%- if this.follow_layers %}
            {{ this._parent.get_name() }}.on('overlayadd overlayremove', function(e) {
                var id = e.layer && e.layer.options && e.layer.options.paId;
                if (!id) { return; }
                var secs = ctl.getContainer().querySelectorAll('.pa-sec');
                for (var i = 0; i < secs.length; i++) {
                    if (secs[i].getAttribute('data-layer') === id) {
                        secs[i].classList.toggle('pa-hidden', e.type === 'overlayremove');
                    }
                }
            });
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, position: str, css_class: str, follow_layers: bool = False) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's Element.__init__ is not annotated
        self._name = "HtmlControl"
        self.html = html_text
        self.position = position
        self.css_class = css_class
        self.follow_layers = follow_layers


class ReportVisibility(MacroElement):
    """Make an overlay visible to streamlit-folium's layer tracking.

    streamlit-folium (0.2x) reports overlays switched on in the layer control as
    ``selected_layers`` only for WMS layers (it looks for ``_url`` and ``wmsParams.layers``);
    giving each GeoJSON overlay those two fields makes the app see which layers are on, by id.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}._url = {{ ("planatlas-layer:" ~ this.layer_id)|tojson }};
        {{ this._parent.get_name() }}.wmsParams = {layers: {{ this.layer_id|tojson }}};
        {% endmacro %}
        """
    )

    def __init__(self, layer_id: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's Element.__init__ is not annotated
        self._name = "ReportVisibility"
        self.layer_id = layer_id


class MapClass(MacroElement):
    """Adds the ``pa-map`` CSS class (offline background, CJK font) to the map container."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.DomUtil.addClass({{ this._parent.get_name() }}.getContainer(), 'pa-map');
        L.control.scale({imperial: false, position: 'bottomleft'}).addTo({{ this._parent.get_name() }});
        {{ this._parent.get_name() }}.attributionControl.setPrefix(
            '<a href="https://leafletjs.com" title="Leaflet">Leaflet</a>');
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.attribution|tojson }});
        {%- if this.fit %}
        // Embedded maps (Streamlit's iframe) get their final size after this script runs:
        // fit the extent again on resize until the user first touches the map.
        (function() {
            var m = {{ this._parent.get_name() }};
            var extent = {{ this.fit|tojson }};
            var touched = false;
            var el = m.getContainer();
            el.addEventListener('mousedown', function() { touched = true; });
            el.addEventListener('wheel', function() { touched = true; });
            el.addEventListener('touchstart', function() { touched = true; });
            var refit = function() {
                if (touched || !el.clientWidth || !el.clientHeight) { return; }
                m.invalidateSize();
                // keep the features clear of the legend when the map is wide enough
                var legend = el.querySelector('.pa-legend');
                var w = legend ? legend.offsetWidth : 0;
                var right = (w + 20 < el.clientWidth * 0.45) ? w + 16 : 10;
                m.fitBounds(extent, {paddingTopLeft: [10, 10], paddingBottomRight: [right, 10], animate: false});
            };
            [50, 300, 1000].forEach(function(ms) { setTimeout(refit, ms); });
            if (window.ResizeObserver) { new ResizeObserver(refit).observe(el); }
        })();
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, attribution: str, fit: list[list[float]] | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's Element.__init__ is not annotated
        self._name = "MapClass"
        self.attribution = attribution
        self.fit = fit


def stable_ids(m: folium.Map) -> None:
    """Replace folium's random element ids with positional ones: the same inputs give the same
    HTML, so Streamlit does not remount (flicker) an unchanged map and exports diff cleanly."""
    counter = 0

    def visit(el: Element) -> None:
        nonlocal counter
        el._id = f"pa{counter:04d}"
        counter += 1
        for child in list(el._children.values()):
            visit(child)

    visit(m)
