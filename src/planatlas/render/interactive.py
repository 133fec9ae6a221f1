"""Interactive preset maps: a preset's loaded data -> ``folium.Map`` (pure: returns the map, writes nothing).

What the map does, and why:

* Every JS/CSS asset comes from the installed package (:mod:`planatlas.render.assets`), inline as
  ``data:`` URIs by default, so the map draws offline and inside mainland China; folium's CDN
  defaults are replaced on the map instance.
* Features are coloured in JavaScript from a per-feature class number (:mod:`planatlas.render.leaflet`).
* Coordinates are rounded to 6 decimals (~0.1 m); polygon outlines are simplified per preset.
* Tooltips and popups are built here as HTML with every value escaped (Leaflet inserts them as
  HTML). Each feature carries ``_l`` (preset layer id) and ``_id`` (catalogue key) so a click can
  be looked up in the store.
* Layer control and legend in zh/en; layers with schematic geometry say so in both.
* Basemaps (:mod:`planatlas.render.basemaps`): ``none`` (default, offline), ``osm``, ``positron``,
  ``tianditu`` (key needed) and ``amap`` (the data are shifted to GCJ-02 for display only).

Example::

    m = build_map(load_preset(store, "metro"), lang="en")
    m.get_root().render()   # the caller decides where the HTML goes
"""

from __future__ import annotations

import html
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import folium
import numpy as np
import shapely

from planatlas.catalog import PROVENANCE_FIELDS
from planatlas.i18n import LANGS, t
from planatlas.maps.frames import PreparedLayer, prepare_preset, prepared_bounds
from planatlas.maps.presets import field_title, schematic_note, value_label
from planatlas.maps.style import LegendEntry
from planatlas.plans import plan_title, position_text
from planatlas.render.basemaps import basemap_layer, in_basemap_datum
from planatlas.render.leaflet import (
    ON_EACH_FEATURE,
    HtmlControl,
    MapClass,
    ReportVisibility,
    js_style,
    point_to_layer,
    stable_ids,
    use_package_assets,
)

if TYPE_CHECKING:
    from planatlas.maps.load import PresetData

COORD_DECIMALS = 6
#: Features one Folium map draws comfortably (first paint <= 2 s, pan/zoom <= 0.5 s in
#: headless Chromium on a 2-core machine; see PERF_NOTES). Above it, aggregate or query first.
MAX_FEATURES = 20_000
#: Where the map opens when nothing is drawn (central Nanchang), lon/lat bounds.
_DEFAULT_BOUNDS = (115.85, 28.62, 115.93, 28.70)


@dataclass(frozen=True)
class View:
    """Map centre (lat, lon in the storage datum) and zoom."""

    lat: float
    lon: float
    zoom: float


def _fmt_value(value: object, lang: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return t("yes" if value else "no", lang)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value) if lang == "zh" else ", ".join(map(str, value))
    text = str(value)
    return text if text.strip() else None


#: Fields the popup states in its provenance line (not in the attribute table).
_PROVENANCE_SHOWN_BELOW = frozenset(
    {"precision", "uncertainty_m", "source_file", "source_lines", "position_source", "position_licence", "placed_by"}
)


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
        if value is None or f == label or f in _PROVENANCE_SHOWN_BELOW:
            continue
        value = value_label(f, value, lang)
        parts.append(f"<tr><th>{esc(field_title(f, lang, field_titles))}</th><td>{esc(value)}</td></tr>")
    parts.append("</table>")
    prov = []
    position = position_text(row, lang)
    if position:
        cls = ' class="pa-schematic"' if row.get("precision") == "schematic" else ""
        prov.append(f"<span{cls}>{esc(field_title('precision', lang))}: {esc(position)}</span>")
    position_source = _fmt_value(row.get("position_source"), lang)
    if position_source:
        prov.append(f"<span>{esc(t('position_source', lang))}: {esc(position_source)}</span>")
    src = _fmt_value(row.get("source_file"), lang)
    if src:
        lines = _fmt_value(row.get("source_lines"), lang)
        title = plan_title(src, lang)
        where = f"{title} {('第 ' + lines + ' 行') if lang == 'zh' else 'lines ' + lines}" if lines else title
        prov.append(f"<span>{esc(t('plan_cited', lang))}: {esc(where)}</span>")
    if prov:
        parts.append('<div class="pa-prov">' + " · ".join(prov) + "</div>")
    parts.append("</div>")
    return "".join(parts)


def _round(geoms: np.ndarray) -> np.ndarray:
    return np.asarray(shapely.transform(geoms, lambda c: np.round(c, COORD_DECIMALS)))


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
    fields = [f for f in (*pl.fields, *PROVENANCE_FIELDS, "position_source") if f in frame and f != "precision"]
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
        title += t("schematic_marker", lang)
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
    summary = t("map_legend", lang)
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


def _data_attribution(data: PresetData, prepared: list[PreparedLayer], lang: str) -> str:
    seeds = ", ".join(data.preset.sources)
    label = t("map_plan_text", lang)
    text = f"planatlas · {label}: {seeds}"
    if any(p.schematic for p in prepared):
        text += " · " + t("map_geometry_schematic", lang)
    return html.escape(text)


def _geojson_layer(
    p: PreparedLayer, *, lang: str, field_titles: Mapping[str, Mapping[str, str]] | None
) -> folium.GeoJson:
    pl = p.layer
    options: dict[str, Any] = {
        "style": js_style(p.resolved.js_palette()),
        "className": f"pa-f pa-l-{pl.id}",
        "paId": pl.id,
        "interactive": pl.interactive,
    }
    if p.resolved.symbol == "point":
        options["pointToLayer"] = point_to_layer(pl.id, p.resolved.style.radius)
    return folium.GeoJson(
        feature_collection(p, lang=lang, field_titles=field_titles),
        name=layer_title(p, lang),
        show=pl.show,
        overlay=True,
        control=True,
        on_each_feature=ON_EACH_FEATURE if (pl.interactive or pl.labels_on_map) else None,
        **options,
    )


def _prepared_layers(
    data: PresetData,
    *,
    prepared: Sequence[PreparedLayer] | None,
    visible: Collection[str] | None,
    basemap: str,
    max_features: int,
) -> list[PreparedLayer]:
    """The preset's layers as drawn: filtered and styled, visibility applied, in the basemap's datum."""
    preset = data.preset
    if prepared is None:
        prepared = prepare_preset(preset, data.frames, params=data.params, keys=data.keys)
    prepared = list(prepared)
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
        prepared = [replace(p, layer=replace(p.layer, show=p.layer.id in visible)) for p in prepared]
    return in_basemap_datum(prepared, basemap)


def build_map(
    data: PresetData,
    *,
    lang: str = "zh",
    basemap: str = "none",
    view: View | None = None,
    visible: Collection[str] | None = None,
    tianditu_key: str | None = None,
    asset_base_url: str | None = None,
    show_title: bool = True,
    report_layers: bool = False,
    max_features: int = MAX_FEATURES,
    prepared: Sequence[PreparedLayer] | None = None,
) -> folium.Map:
    """Build the interactive map of a preset from its loaded data.

    Parameters
    ----------
    data
        The preset, its catalogue frames (EPSG:4490), keys, field titles and resolved parameters,
        from :func:`planatlas.maps.load.load_preset`.
    lang
        ``zh`` or ``en`` for every text on the map.
    basemap
        One of :data:`planatlas.render.basemaps.BASEMAPS`; ``amap`` shifts the data to GCJ-02 for display.
    view
        Initial centre/zoom; default fits the preset's extent.
    visible
        Preset layer ids shown when the map opens (default: each layer's ``show``).
    tianditu_key
        The Tianditu token, needed for ``basemap="tianditu"``.
    asset_base_url
        Where ``planatlas/static`` is served; default inlines the assets as ``data:`` URIs.
    show_title
        Draw the title box (preset title and plan) on the map.
    report_layers
        Let streamlit-folium report which overlays are on (``selected_layers``, by layer id).
    max_features
        Refuse to draw more features than this (a browser map slows to a crawl beyond ~20k).
    prepared
        The preset's layers already prepared from ``data`` (:func:`planatlas.maps.prepare_preset_data`),
        e.g. cached by the app per atlas version and parameters; default: prepared here. Not modified.

    Raises
    ------
    ValueError
        For an unknown language, basemap or visible layer, a Tianditu basemap without a key, or
        more features than ``max_features``.
    """
    if lang not in LANGS:
        msg = f"lang should be 'zh' or 'en', got {lang!r}"
        raise ValueError(msg)
    tiles = basemap_layer(basemap, lang=lang, tianditu_key=tianditu_key)
    drawn = _prepared_layers(data, prepared=prepared, visible=visible, basemap=basemap, max_features=max_features)
    preset = data.preset
    west, south, east, north = prepared_bounds(drawn, preset.extent) or _DEFAULT_BOUNDS
    m = folium.Map(
        location=[view.lat, view.lon] if view else [(south + north) / 2, (west + east) / 2],
        zoom_start=view.zoom if view else 13,  # type: ignore[arg-type]  # Leaflet takes fractional zooms
        tiles=None,
        control_scale=False,
        prefer_canvas=False,  # SVG paths: one DOM element per feature (tests count them)
        max_zoom=19,
        zoom_snap=0.25,  # fractional zoom: the extent fits beside the legend
        zoom_delta=0.5,
    )
    use_package_assets(m, asset_base_url)
    for tile in tiles:
        tile.add_to(m)
    extent = [[south, west], [north, east]]
    MapClass(_data_attribution(data, drawn, lang), fit=None if view else extent).add_to(m)
    for p in drawn:
        layer = _geojson_layer(p, lang=lang, field_titles=data.field_titles.get(p.layer.layer))
        if report_layers:
            ReportVisibility(p.layer.id).add_to(layer)
        layer.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    legend = legend_html(drawn, lang=lang)
    HtmlControl(legend, position="bottomright", css_class="pa-legend", follow_layers=True).add_to(m)
    if show_title:
        title_html = (
            f'<div class="pa-t">{html.escape(preset.title_in(lang))}</div>'
            f'<div class="pa-s">{html.escape(preset.subtitle_in(lang))}</div>'
        )
        HtmlControl(title_html, position="topleft", css_class="pa-title").add_to(m)
    if view is None:
        m.fit_bounds(extent, padding=(10, 10))
    stable_ids(m)
    return m
