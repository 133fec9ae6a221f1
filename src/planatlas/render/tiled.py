"""The interactive map of one large layer drawn from vector tiles (Leaflet.VectorGrid on canvas).

A GeoJSON layer puts every feature into the page (PERF_NOTES: ~20k features is the comfortable
limit); here the browser fetches MVT tiles for the view only, from the app's tile server
(:mod:`planatlas.tiles.server`), so a million footprints cost what the visible tiles cost. Colours
come from the layer's catalogue style (one colour, or a colour per value of its categorical column,
which the tiles carry). A click fetches the feature's attributes by its key and shows them as text.
Every asset is vendored (Leaflet, Leaflet.VectorGrid); nothing comes from a CDN.
"""

from __future__ import annotations

import html
from typing import Any

import folium
from branca.element import MacroElement
from folium.template import Template

from planatlas.catalog import LayerSpec
from planatlas.i18n import t
from planatlas.maps.style import Style
from planatlas.render.assets import asset_data_uri
from planatlas.render.leaflet import HtmlControl, MapClass, stable_ids, use_package_assets

__all__ = ["VECTORGRID_JS", "VectorTileLayer", "build_tiled_map", "tile_style", "vectorgrid_asset"]

VECTORGRID_JS = "vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"


def vectorgrid_asset(asset_base_url: str | None) -> str:
    """Leaflet.VectorGrid's URL: inline (``data:``) by default, else under ``asset_base_url``."""
    if asset_base_url is None:
        return asset_data_uri(VECTORGRID_JS)
    return f"{asset_base_url.rstrip('/')}/{VECTORGRID_JS}"


def tile_style(spec: LayerSpec) -> dict[str, Any]:
    """The palette the browser colours tile features with: a colour, or a colour per value."""
    style = Style.from_hints(spec.style)
    colors = {str(c.value): c.color for c in style.categories} if style.kind == "categorical" else {}
    return {
        "color": style.color,
        "column": style.column if colors else None,
        "colors": colors,
        "weight": 0.6,
        "fillOpacity": style.fill_opacity,
        "radius": 3,
    }


class VectorTileLayer(MacroElement):
    """A Leaflet.VectorGrid protobuf layer of one catalogue layer, clickable through its key."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            // VectorGrid 1.3 calls L.DomEvent.fakeStop, which Leaflet 1.8 removed.
            if (!L.DomEvent.fakeStop) { L.DomEvent.fakeStop = function(e) { e._stopped = true; return true; }; }
            var map = {{ this._parent.get_name() }};
            var s = {{ this.style|tojson }};
            var styles = {};
            styles[{{ this.layer|tojson }}] = function(p, z) {
                var c = (s.column && s.colors[String(p[s.column])]) || s.color;
                return {fill: true, fillColor: c, fillOpacity: s.fillOpacity, color: c, weight: s.weight,
                        radius: s.radius};
            };
            var layer = L.vectorGrid.protobuf({{ this.url|tojson }}, {
                rendererFactory: L.canvas.tile, vectorTileLayerStyles: styles, interactive: true,
                minZoom: {{ this.min_zoom }}, maxNativeZoom: {{ this.max_zoom }}, maxZoom: 19,
                getFeatureId: function(f) { return f.properties[{{ this.key|tojson }}]; },
                attribution: ''
            }).addTo(map);
            window.paTileLayer = layer;
            layer.on('click', function(e) {
                var id = e.layer && e.layer.properties && e.layer.properties[{{ this.key|tojson }}];
                if (id === undefined || id === null) { return; }
                fetch({{ this.feature_url|tojson }} + encodeURIComponent(String(id)))
                  .then(function(r) { return r.ok ? r.json() : null; })
                  .then(function(d) {
                    if (!d) { return; }
                    var box = document.createElement('div');
                    box.className = 'pa-popup';
                    var h = document.createElement('h4');
                    h.textContent = String(id);
                    box.appendChild(h);
                    var table = document.createElement('table');
                    Object.keys(d.properties).forEach(function(k) {
                        var v = d.properties[k];
                        if (v === null) { return; }
                        var tr = document.createElement('tr');
                        var th = document.createElement('th'); th.textContent = k;
                        var td = document.createElement('td'); td.textContent = v;
                        tr.appendChild(th); tr.appendChild(td); table.appendChild(tr);
                    });
                    box.appendChild(table);
                    L.popup({maxWidth: 360}).setLatLng(e.latlng).setContent(box).openOn(map);
                  });
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, *, layer: str, key: str, url: str, feature_url: str, style: dict[str, Any], min_zoom: int, max_zoom: int
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's Element.__init__ is not annotated
        self._name = "VectorTileLayer"
        self.layer, self.key, self.url, self.feature_url = layer, key, url, feature_url
        self.style, self.min_zoom, self.max_zoom = style, min_zoom, max_zoom


def build_tiled_map(
    spec: LayerSpec,
    *,
    bounds: tuple[float, float, float, float],
    count: int,
    tile_url: str,
    feature_url: str,
    min_zoom: int,
    max_zoom: int,
    lang: str = "zh",
    asset_base_url: str | None = None,
) -> folium.Map:
    """The map of layer ``spec`` drawn from tiles at ``tile_url`` (``{z}/{x}/{y}``), fitted to ``bounds``.

    ``bounds`` are lon/lat (west, south, east, north); ``count`` is the layer's feature count, shown
    in the title; the map opens at the extent but no further out than ``min_zoom``.
    """
    west, south, east, north = bounds
    m = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=max(min_zoom, 13),
        tiles=None,
        control_scale=False,
        prefer_canvas=True,
        max_zoom=19,
        min_zoom=min_zoom,
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    use_package_assets(m, asset_base_url)
    m.default_js = [*m.default_js, ("vectorgrid", vectorgrid_asset(asset_base_url))]
    extent = [[south, west], [north, east]]
    MapClass(html.escape(f"planatlas · {spec.title_in(lang)}"), fit=extent).add_to(m)
    VectorTileLayer(
        layer=spec.name,
        key=spec.key,
        url=tile_url,
        feature_url=feature_url,
        style=tile_style(spec),
        min_zoom=min_zoom,
        max_zoom=max_zoom,
    ).add_to(m)
    title = (
        f'<div class="pa-t">{html.escape(spec.title_in(lang))}</div>'
        f'<div class="pa-s">{html.escape(t("tiled_layer_note", lang, count=f"{count:,}"))}</div>'
    )
    HtmlControl(title, position="topleft", css_class="pa-title").add_to(m)
    stable_ids(m)
    return m
