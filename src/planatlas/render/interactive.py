"""Interactive maps: a preset and its data -> ``folium.Map`` (pure: returns the map, writes nothing).

What the map does, and why:

* Every JS/CSS asset comes from the installed package (:mod:`planatlas.render.assets`), inline as
  ``data:`` URIs by default, so the map draws offline and inside mainland China; folium's CDN
  defaults are replaced on the map instance.
* Features are coloured in JavaScript from a per-feature class number (``_k``, plus ``_w`` for
  width-by-class) and a per-layer palette, never with folium's ``style_function`` (which compiles a
  per-feature ``switch`` and is O(N²) in the browser).
* Coordinates are rounded to 6 decimals (~0.1 m); polygon outlines are simplified per preset.
* Tooltips and popups are built here as HTML with every value escaped (Leaflet inserts them as
  HTML). Each feature carries ``_l`` (preset layer id) and ``_id`` (catalogue key) so a click can
  be looked up in the store.
* Layer control and legend in zh/en; layers with schematic geometry say so in both.
* Basemaps: ``none`` (default, offline), ``osm``, ``positron``, ``tianditu`` (key needed;
  CGCS2000, no offset) and ``amap`` (GCJ-02: the data are shifted to GCJ-02 for display only).

Example::

    m = interactive_map(get_preset("metro"), load_frames(preset, store), lang="en")
    m.get_root().render()   # the caller decides where the HTML goes
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template
from folium.utilities import JsCode

from planatlas.catalog import PROVENANCE_FIELDS
from planatlas.crs import to_gcj02_frame
from planatlas.maps.frames import PreparedLayer, prepare_preset, prepared_bounds
from planatlas.maps.presets import (
    PRECISION_LABELS,
    Preset,
    field_title,
    schematic_note,
    value_label,
)
from planatlas.maps.style import LegendEntry, text_in
from planatlas.render.assets import map_assets

COORD_DECIMALS = 6
#: Features one Folium map draws comfortably (first paint <= 2 s, pan/zoom <= 0.5 s in
#: headless Chromium on a 2-core machine; see PERF_NOTES). Above it, aggregate or query first.
MAX_FEATURES = 20_000


@dataclass(frozen=True)
class Basemap:
    """A tile basemap: URL template, attribution (HTML) and the datum its tiles are drawn in."""

    name: str
    title: Mapping[str, str]
    url: str | None = None
    attribution: str = ""
    subdomains: str = "abc"
    max_zoom: int = 18
    #: "wgs84" (no offset; CGCS2000 within cm) or "gcj02" (Chinese web-map offset)
    datum: str = "wgs84"
    needs_key: bool = False
    overlay_url: str | None = None


_TDT = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
    "&TILECOL={{x}}&tk={key}"
)

BASEMAPS: Mapping[str, Basemap] = {
    "none": Basemap("none", {"zh": "无底图（离线）", "en": "No basemap (offline)"}),
    "osm": Basemap(
        "osm",
        {"zh": "OpenStreetMap", "en": "OpenStreetMap"},
        url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        attribution='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        max_zoom=19,
    ),
    "positron": Basemap(
        "positron",
        {"zh": "CartoDB Positron", "en": "CartoDB Positron"},
        url="https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png",
        attribution='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
        'contributors &copy; <a href="https://carto.com/attributions">CARTO</a>',
        subdomains="abcd",
        max_zoom=20,
    ),
    "tianditu": Basemap(
        "tianditu",
        {"zh": "天地图（CGCS2000）", "en": "Tianditu (CGCS2000)"},
        url=_TDT,
        overlay_url=_TDT,
        attribution='&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a> 国家地理信息公共服务平台',
        subdomains="01234567",
        max_zoom=18,
        needs_key=True,
    ),
    "amap": Basemap(
        "amap",
        {"zh": "高德地图（GCJ-02）", "en": "AMap (GCJ-02)"},
        url="https://webrd0{s}.is.autonavi.com/appmaptile?lang={lang}&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        attribution='&copy; <a href="https://www.amap.com/">高德地图 AutoNavi</a>',
        subdomains="1234",
        max_zoom=18,
        datum="gcj02",
    ),
}


@dataclass(frozen=True)
class View:
    """Map centre (lat, lon in the storage datum) and zoom."""

    lat: float
    lon: float
    zoom: float


def _js_style(palette: Mapping[str, Any]) -> JsCode:
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


def _point_to_layer(layer_id: str, radius: float) -> JsCode:
    return JsCode(
        "function(feature, latlng) { return L.circleMarker(latlng, "
        f"{{radius: {float(radius)}, className: 'pa-f pa-l-{layer_id}'}}); }}"
    )


_ON_EACH = JsCode(
    """function(feature, layer) {
  var p = feature.properties || {};
  if (p._t) {
    if (p._lbl) { layer.bindTooltip(p._t, {permanent: true, direction: 'center', className: 'pa-label'}); }
    else { layer.bindTooltip(p._t, {sticky: true}); }
  }
  if (p._p) { layer.bindPopup(p._p, {maxWidth: 360}); }
}"""
)


def _fmt_value(value: Any, lang: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value) if lang == "zh" else ", ".join(map(str, value))
    text = str(value)
    return text if text.strip() else None


def popup_html(
    row: Mapping[str, Any],
    *,
    fields: Collection[str],
    lang: str,
    label: str | None,
    layer_title: str,
    field_titles: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """Escaped HTML of a feature's popup: name, plan attributes, then provenance."""
    esc = html.escape
    name = _fmt_value(row.get(label), lang) if label else None
    parts = ['<div class="pa-popup">', f"<h4>{esc(name or layer_title)}</h4>", "<table>"]
    for f in fields:
        value = _fmt_value(row.get(f), lang)
        if value is None or f == label:
            continue
        if f == "precision":
            value = text_in(PRECISION_LABELS.get(value), lang, default=value)
        else:
            value = value_label(f, value, lang)
        parts.append(f"<tr><th>{esc(field_title(f, lang, field_titles))}</th><td>{esc(value)}</td></tr>")
    parts.append("</table>")
    prov = []
    precision = _fmt_value(row.get("precision"), lang)
    if precision:
        cls = ' class="pa-schematic"' if precision == "schematic" else ""
        label_text = text_in(PRECISION_LABELS.get(precision), lang, default=precision)
        prov.append(f"<span{cls}>{esc(field_title('precision', lang))}: {esc(label_text)}</span>")
    src = _fmt_value(row.get("source_file"), lang)
    if src:
        lines = _fmt_value(row.get("source_lines"), lang)
        where = f"{src} {('行 ' if lang == 'zh' else 'lines ')}{lines}" if lines else src
        prov.append(f"<span>{esc(field_title('source_file', lang))}: {esc(where)}</span>")
    if prov:
        parts.append('<div class="pa-prov">' + " · ".join(prov) + "</div>")
    parts.append("</div>")
    return "".join(parts)


def _round(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.round(c, COORD_DECIMALS))


def feature_collection(
    prepared: PreparedLayer,
    *,
    lang: str,
    field_titles: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """GeoJSON of a prepared layer: rounded geometry and only what the browser needs."""
    pl = prepared.layer
    frame = prepared.frame
    rs = prepared.resolved
    classes = rs.class_index(frame)
    widths = rs.width_index(frame)
    has_widths = bool(rs.style.width_column and rs.style.widths)
    label_col = prepared.label_column(lang)
    key = prepared.key if prepared.key and prepared.key in frame else None
    fields = [f for f in (*pl.fields, *PROVENANCE_FIELDS) if f in frame and f != "precision"]
    fields_popup = [*fields]
    geoms = _round(np.asarray(frame.geometry.values))
    records = frame.drop(columns="geometry").to_dict("records")
    features = []
    title = pl.title_in(lang)
    for i, (geom, row) in enumerate(zip(geoms, records, strict=True)):
        props: dict[str, Any] = {"_l": pl.id, "_k": int(classes[i])}
        if has_widths:
            props["_w"] = int(widths[i])
        if key:
            props["_id"] = str(row[key])
        if pl.interactive or pl.labels_on_map:
            name = _fmt_value(row.get(label_col), lang) if label_col else None
            if name:
                props["_t"] = html.escape(pl.map_label(name, lang) if pl.labels_on_map else name)
                if pl.labels_on_map:
                    props["_lbl"] = 1
        if pl.interactive:
            props["_p"] = popup_html(
                row,
                fields=fields_popup,
                lang=lang,
                label=label_col,
                layer_title=title,
                field_titles=field_titles,
            )
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": props})
    return {"type": "FeatureCollection", "features": features}


def layer_title(prepared: PreparedLayer, lang: str) -> str:
    """Layer-control name: the title, marked schematic where any feature is."""
    title = prepared.layer.title_in(lang)
    if prepared.schematic:
        title += "（示意）" if lang == "zh" else " (schematic)"
    return title


def _swatch(entry: LegendEntry) -> str:
    esc = html.escape
    color = esc(entry.color)
    stroke = esc(entry.stroke_color or entry.color)
    dash = "dashed" if entry.dash else "solid"
    if entry.symbol == "line":
        width = max(1.0, min(entry.weight, 8.0))
        return f'<span class="pa-sw pa-sw-line" style="border-top:{width:.1f}px {dash} {stroke}"></span>'
    alpha = max(entry.fill_opacity, 0.0)
    bg = f"background:{color};" if alpha > 0 else "background:transparent;"
    opacity = f"opacity:{max(alpha, 0.35):.2f};" if alpha > 0 else ""
    border = f"border:{max(1.0, min(entry.weight, 3.0)):.1f}px {dash} {stroke};"
    cls = "pa-sw pa-sw-point" if entry.symbol == "point" else "pa-sw"
    return f'<span class="{cls}" style="{bg}{opacity}{border}"></span>'


def legend_html(prepared: list[PreparedLayer], *, lang: str, title: str | None = None) -> str:
    """Escaped HTML of the categorical/graduated legend: one section per layer in the legend."""
    esc = html.escape
    summary = "图例" if lang == "zh" else "Legend"
    parts = [f'<details class="pa-legend-body" open><summary>{esc(title or summary)}</summary>']
    for p in reversed(prepared):  # top layer first, as the eye reads the map
        pl = p.layer
        if not pl.legend:
            continue
        entries = p.resolved.legend(lang, title=pl.title)
        if p.resolved.style.kind != "single":
            entries = [e for e in entries if e.count is None or e.count > 0 or e.symbol == "line"]
        hidden = "" if pl.show else " pa-hidden"
        parts.append(f'<div class="pa-sec{hidden}" data-layer="{esc(pl.id)}">')
        parts.append(f'<div class="pa-sec-title">{esc(layer_title(p, lang))}</div>')
        for e in entries:
            n = f' <span class="pa-n">({e.count})</span>' if e.count is not None and e.value is not None else ""
            parts.append(f'<div class="pa-row">{_swatch(e)}<span>{esc(e.label_in(lang))}</span>{n}</div>')
        parts.append("</div>")
    if any(p.schematic for p in prepared):
        parts.append(f'<div class="pa-note">{esc(schematic_note(lang))}</div>')
    parts.append("</details>")
    return "".join(parts)


class _HtmlControl(MacroElement):
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

    def __init__(self, html_text: str, *, position: str, css_class: str, follow_layers: bool = False):
        super().__init__()
        self._name = "HtmlControl"
        self.html = html_text
        self.position = position
        self.css_class = css_class
        self.follow_layers = follow_layers


class _ReportVisibility(MacroElement):
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

    def __init__(self, layer_id: str):
        super().__init__()
        self._name = "ReportVisibility"
        self.layer_id = layer_id


class _MapClass(MacroElement):
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

    def __init__(self, attribution: str, fit: list[list[float]] | None = None):
        super().__init__()
        self._name = "MapClass"
        self.attribution = attribution
        self.fit = fit


def _data_attribution(preset: Preset, prepared: list[PreparedLayer], lang: str) -> str:
    seeds = ", ".join(preset.sources)
    label = "规划文本" if lang == "zh" else "Plan text"
    text = f"planatlas · {label}: {seeds}"
    if any(p.schematic for p in prepared):
        text += " · " + ("几何为示意" if lang == "zh" else "geometry schematic")
    return html.escape(text)


def basemap_layer(name: str, *, lang: str, tianditu_key: str | None = None) -> list[folium.TileLayer]:
    """Tile layers of a basemap (Tianditu adds its label layer); empty for ``none``."""
    if name not in BASEMAPS:
        msg = f"basemap should be one of {', '.join(BASEMAPS)}, got {name!r}"
        raise ValueError(msg)
    bm = BASEMAPS[name]
    if bm.url is None:
        return []
    if bm.needs_key and not tianditu_key:
        msg = "the Tianditu basemap needs a key: set PLANATLAS_TIANDITU_KEY (settings.tianditu_key)"
        raise ValueError(msg)
    common: dict[str, Any] = {
        "attr": bm.attribution,
        "subdomains": bm.subdomains,
        "max_zoom": bm.max_zoom,
        "control": False,
        "overlay": False,
    }
    if name == "tianditu":
        key = str(tianditu_key)
        label_layer = "cva" if lang == "zh" else "eva"
        return [
            folium.TileLayer(tiles=_TDT.format(s="{s}", layer="vec", key=key), name=bm.name, **common),
            folium.TileLayer(
                tiles=_TDT.format(s="{s}", layer=label_layer, key=key),
                name=f"{bm.name}-labels",
                **{**common, "attr": " "},
            ),
        ]
    url = bm.url.replace("{lang}", "zh_cn" if lang == "zh" else "en")
    return [folium.TileLayer(tiles=url, name=bm.name, **common)]


def interactive_map(
    preset: Preset,
    frames: Mapping[str, pd.DataFrame],
    *,
    lang: str = "zh",
    params: Mapping[str, Any] | None = None,
    basemap: str = "none",
    tianditu_key: str | None = None,
    visible: Collection[str] | None = None,
    view: View | None = None,
    keys: Mapping[str, str] | None = None,
    field_titles: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
    asset_base_url: str | None = None,
    show_title: bool = True,
    report_layers: bool = False,
    max_features: int = MAX_FEATURES,
) -> folium.Map:
    """Build the interactive map of ``preset`` from its catalogue layers ``frames``.

    Parameters
    ----------
    preset
        What to draw (:func:`planatlas.maps.get_preset`).
    frames
        Catalogue layer name -> GeoDataFrame (EPSG:4490), e.g. from :func:`planatlas.maps.load_frames`.
    lang
        ``zh`` or ``en`` for every text on the map.
    params
        Preset parameters (Jiuwang ``phase``); defaults per preset.
    basemap
        One of :data:`BASEMAPS`; ``amap`` shifts the data to GCJ-02 for display.
    visible
        Preset layer ids shown when the map opens (default: each layer's ``show``).
    view
        Initial centre/zoom; default fits the preset's extent.
    keys
        Catalogue layer -> key column, so clicked features identify themselves (``_id``).
    field_titles
        Catalogue layer -> field -> ``{"zh", "en"}`` titles for popups.
    asset_base_url
        Where ``planatlas/static`` is served; default inlines the assets as ``data:`` URIs.
    show_title
        Draw the title box (preset title and plan) on the map.
    report_layers
        Let streamlit-folium report which overlays are on (``selected_layers``, by layer id).
    max_features
        Refuse to draw more features than this (a browser map slows to a crawl beyond ~20k).
    """
    if lang not in ("zh", "en"):
        msg = f"lang should be 'zh' or 'en', got {lang!r}"
        raise ValueError(msg)
    tiles = basemap_layer(basemap, lang=lang, tianditu_key=tianditu_key)
    prepared = prepare_preset(preset, frames, params=params, keys=keys)
    total = sum(len(p.frame) for p in prepared)
    if total > max_features:
        msg = (
            f"preset {preset.name!r} would draw {total} features, more than max_features={max_features}; "
            "filter the layers, aggregate them (e.g. a count per street) or query a smaller area first"
        )
        raise ValueError(msg)
    if visible is not None:
        unknown = set(visible) - {p.layer.id for p in prepared}
        if unknown:
            msg = f"visible layers {sorted(unknown)} are not in preset {preset.name!r}"
            raise ValueError(msg)
        prepared = [_with_show(p, p.layer.id in visible) for p in prepared]
    if BASEMAPS[basemap].datum == "gcj02":
        prepared = [_shift_gcj02(p) for p in prepared]

    bounds = prepared_bounds(prepared, preset.extent) or (115.85, 28.62, 115.93, 28.70)
    center = ((bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2)
    m = folium.Map(
        location=[view.lat, view.lon] if view else list(center),
        zoom_start=view.zoom if view else 13,  # type: ignore[arg-type]  # Leaflet takes fractional zooms
        tiles=None,
        control_scale=False,
        prefer_canvas=False,  # SVG paths: one DOM element per feature (tests count them)
        max_zoom=19,
        zoom_snap=0.25,  # fractional zoom: the extent fits beside the legend
        zoom_delta=0.5,
    )
    js, css = map_assets(asset_base_url)
    m.default_js = js
    m.default_css = css
    for t in tiles:
        t.add_to(m)
    fit = None if view else [[bounds[1], bounds[0]], [bounds[3], bounds[2]]]
    _MapClass(_data_attribution(preset, prepared, lang), fit=fit).add_to(m)
    for p in prepared:
        layer = _geojson_layer(p, lang=lang, field_titles=(field_titles or {}).get(p.layer.layer))
        if report_layers:
            _ReportVisibility(p.layer.id).add_to(layer)
        layer.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _HtmlControl(
        legend_html(prepared, lang=lang),
        position="bottomright",
        css_class="pa-legend",
        follow_layers=True,
    ).add_to(m)
    if show_title:
        esc = html.escape
        title_html = (
            f'<div class="pa-t">{esc(preset.title_in(lang))}</div>'
            f'<div class="pa-s">{esc(preset.subtitle_in(lang))}</div>'
        )
        _HtmlControl(title_html, position="topleft", css_class="pa-title").add_to(m)
    if view is None:
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]], padding=(10, 10))
    _stable_ids(m)
    return m


def _stable_ids(m: folium.Map) -> None:
    """Replace folium's random element ids with positional ones: the same inputs give the same
    HTML, so Streamlit does not remount (flicker) an unchanged map and exports diff cleanly."""
    counter = 0

    def visit(el: Any) -> None:
        nonlocal counter
        el._id = f"pa{counter:04d}"
        counter += 1
        for child in list(el._children.values()):
            visit(child)

    visit(m)


def _with_show(p: PreparedLayer, show: bool) -> PreparedLayer:
    from dataclasses import replace

    return replace(p, layer=replace(p.layer, show=show))


def _shift_gcj02(p: PreparedLayer) -> PreparedLayer:
    from dataclasses import replace

    if len(p.frame) == 0:
        return p
    return replace(p, frame=to_gcj02_frame(p.frame))


def _geojson_layer(
    p: PreparedLayer, *, lang: str, field_titles: Mapping[str, Mapping[str, str]] | None
) -> folium.GeoJson:
    pl = p.layer
    data = feature_collection(p, lang=lang, field_titles=field_titles)
    options: dict[str, Any] = {
        "style": _js_style(p.resolved.js_palette()),
        "className": f"pa-f pa-l-{pl.id}",
        "paId": pl.id,
        "interactive": pl.interactive,
    }
    if p.resolved.symbol == "point":
        options["pointToLayer"] = _point_to_layer(pl.id, p.resolved.style.radius)
    return folium.GeoJson(
        data,
        name=layer_title(p, lang),
        show=pl.show,
        overlay=True,
        control=True,
        on_each_feature=_ON_EACH if (pl.interactive or pl.labels_on_map) else None,
        **options,
    )
