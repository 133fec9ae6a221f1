"""The query map: a query's answer -> ``folium.Map`` (matches, reference features, distance ring; pure).

Besides the answer it can show context (streets, the layer's other features, greyed), lines from
each match to its nearest reference, a focus marker (a searched place), and the draw and measure
tools the Query page asks with (:mod:`planatlas.render.map_tools`).
The Query page of the app shows it beside the table; the colours are
:data:`planatlas.maps.style.QUERY_COLORS`. Every value shown in a tooltip is HTML-escaped, and the
assets come from the package as on every map (:func:`planatlas.render.leaflet.use_package_assets`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import shapely

from planatlas.crs import METRIC_CRS, STORAGE_CRS
from planatlas.i18n import t
from planatlas.maps.style import QUERY_COLORS
from planatlas.query import parse_distance
from planatlas.query.columns import NEAREST_KEY
from planatlas.query.readable import format_distance
from planatlas.render.leaflet import MapClass, use_package_assets
from planatlas.render.map_tools import add_ask_tools

if TYPE_CHECKING:
    from planatlas.query import QueryResult

#: Most matched features drawn on the query map (the table and downloads hold all of them).
QUERY_FEATURE_CAP = 3000
#: Columns of a match shown in its tooltip, in order (those the answer has), after its key.
_MATCH_FIELDS = ("name", "distance_m", "within_count", "zone_key", "count")

Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class _TipLayer:
    """One layer of the query map: its features, the tooltip fields, title key, style and marker."""

    frame: gpd.GeoDataFrame
    fields: Sequence[str]
    title: str
    style: Mapping[str, object]
    #: (radius, fill opacity) of point markers; ``None`` for a layer without points (the ring).
    marker: tuple[float, float] | None = None
    #: Shown in the layer control (false: always drawn, e.g. the context).
    control: bool = True

    def geojson(self, lang: str) -> folium.GeoJson:
        color = str(self.style["color"])
        marker = None
        if self.marker is not None:
            radius, opacity = self.marker
            marker = folium.CircleMarker(radius=radius, fill=True, color=color, fill_opacity=opacity)
        style = dict(self.style)
        return folium.GeoJson(
            _tip_collection(self.frame, self.fields, lang),
            name=t(self.title, lang),
            style_function=lambda _f: style,
            marker=marker,
            tooltip=folium.GeoJsonTooltip(fields=["_tip"], labels=False) if self.fields else None,
            control=self.control,
        )


#: Tooltip labels of the answer's columns (text keys); other columns show their own name.
_TIP_LABELS = {"distance_m": "query_col_distance_m", "count": "query_col_count", "ring": "query_ring"}


def _tip(row: Mapping[str, Any], fields: Sequence[str], lang: str) -> str:
    """The feature's name in bold, then its answer's values, labelled in ``lang`` (all escaped)."""
    parts: list[str] = []
    for f in fields:
        value = row.get(f)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if f == "name":
            parts.insert(0, f"<b>{html.escape(str(value))}</b>")
            continue
        if f == "distance_m":
            value = format_distance(float(value), lang) if float(value) >= 1 else f"{float(value):.1f} m"
        label = t(_TIP_LABELS[f], lang) if f in _TIP_LABELS else f
        parts.append(f"{html.escape(label)}: {html.escape(str(value))}")
    return "<br>".join(parts)


def _tip_collection(frame: gpd.GeoDataFrame, fields: Sequence[str], lang: str) -> dict[str, Any]:
    """Geometry-only GeoJSON with one escaped HTML property ``_tip`` per drawn feature."""
    features = []
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    for geom, row in zip(frame.geometry.values, records, strict=True):
        if geom is None or geom.is_empty:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(shapely.set_precision(geom, 1e-6)),
                "properties": {"_tip": _tip(row, fields, lang)},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _drawn_bounds(frame: gpd.GeoDataFrame) -> Bounds | None:
    present = frame.geometry[~(frame.geometry.isna() | frame.geometry.is_empty)]
    if not len(present):
        return None
    west, south, east, north = (float(v) for v in present.total_bounds)
    return west, south, east, north


def nearest_lines(frame: gpd.GeoDataFrame, reference: gpd.GeoDataFrame, *, ref_key: str) -> gpd.GeoDataFrame:
    """Shortest lines (EPSG:4490) from each match to its nearest reference (``nearest_key``), measured in EPSG:4548."""
    empty = gpd.GeoDataFrame({"distance_m": []}, geometry=[], crs=STORAGE_CRS)
    if NEAREST_KEY not in frame.columns or ref_key not in reference.columns or not len(frame):
        return empty
    shown = frame.head(QUERY_FEATURE_CAP)
    refs = reference.to_crs(METRIC_CRS).drop_duplicates(subset=ref_key).set_index(ref_key).geometry
    have = (
        shown[NEAREST_KEY].isin(refs.index).to_numpy() & ~(shown.geometry.isna() | shown.geometry.is_empty).to_numpy()
    )
    if not have.any():
        return empty
    sub = shown[have]
    lines = shapely.shortest_line(sub.to_crs(METRIC_CRS).geometry.values, refs.loc[sub[NEAREST_KEY]].values)
    out = gpd.GeoDataFrame({"distance_m": sub["distance_m"].to_numpy()}, geometry=lines, crs=METRIC_CRS)
    return out.to_crs(STORAGE_CRS)


def _context_layers(context: Sequence[gpd.GeoDataFrame]) -> list[_TipLayer]:
    """Greyed context under the answer (zone outlines, the searched layer's other features)."""
    style = {"color": "#9e9e9e", "weight": 1, "fillColor": "#bdbdbd", "fillOpacity": 0.05}
    return [
        _TipLayer(frame, [c for c in ("name",) if c in frame.columns], "query_context", style, (3, 0.4), control=False)
        for frame in context
        if len(frame)
    ]


def _layers(result: QueryResult, *, key: str, ref_key: str) -> list[_TipLayer]:
    """The ring (when the query has a distance), the matches and the reference features, bottom up."""
    rq, frame, reference = result.request, result.frame, result.reference
    layers = []
    if rq.distance is not None and rq.kind in ("within", "coverage", "nearest") and len(reference):
        metres = parse_distance(rq.distance)
        ring = reference.to_crs(METRIC_CRS).geometry.buffer(metres, quad_segs=32).union_all()
        ring_frame = gpd.GeoDataFrame({"ring": [f"{metres:g} m"]}, geometry=[ring], crs=METRIC_CRS)
        ring_style = {"color": QUERY_COLORS["ring"], "weight": 1.5, "dashArray": "6 4", "fillOpacity": 0.04}
        layers.append(_TipLayer(ring_frame.to_crs(STORAGE_CRS), ["ring"], "query_ring", ring_style))
    if isinstance(frame, gpd.GeoDataFrame) and len(frame):
        shown = frame.head(QUERY_FEATURE_CAP)
        fields = [c for c in _MATCH_FIELDS if c in shown.columns]
        if "name" not in shown.columns and key in shown.columns:  # nothing else names the feature
            fields.insert(0, key)
        match = QUERY_COLORS["match"]
        lines = nearest_lines(frame, reference, ref_key=ref_key)
        if len(lines):
            line_style = {"color": match, "weight": 1.2, "opacity": 0.7, "dashArray": "2 4"}
            layers.append(_TipLayer(lines, ["distance_m"], "query_lines", line_style))
        style = {"color": match, "weight": 1, "fillColor": match, "fillOpacity": 0.5}
        layers.append(_TipLayer(shown, fields, "query_matches", style, marker=(6, 0.85)))
    if len(reference):
        fields = ["name"] if "name" in reference.columns else [c for c in (ref_key,) if c in reference.columns]
        style = {"color": QUERY_COLORS["reference"], "weight": 2, "fillOpacity": 0.0}
        layers.append(_TipLayer(reference, fields, "query_reference", style, marker=(7, 1.0)))
    return layers


def query_map(
    result: QueryResult | None,
    *,
    key: str,
    ref_key: str,
    lang: str = "zh",
    context: Sequence[gpd.GeoDataFrame] = (),
    tools: bool = False,
    focus: tuple[float, float, str] | None = None,
    asset_base_url: str | None = None,
) -> folium.Map:
    """The answer of a query on a map: reference features, the distance ring, matches highlighted.

    Parameters
    ----------
    result
        The answer of :func:`planatlas.query.run_query` (its frame and reference features, EPSG:4490);
        None draws only the context (nothing asked yet).
    key, ref_key
        Key columns of the matched and the reference layer, shown first in the tooltips.
    lang
        ``zh`` or ``en`` for the layer names.
    context
        Frames (EPSG:4490) drawn greyed under the answer; the map fits them when there is no answer.
    tools
        Add the draw (ask) and measure tools.
    focus
        ``(lon, lat, label)`` of a searched place: a marker the map centres on.
    asset_base_url
        Where ``planatlas/static`` is served (None: inline, for files and tests).

    The ring is ``buffer(D)`` of the reference features in EPSG:4548, drawn for orientation only;
    matching used exact distances. At most :data:`QUERY_FEATURE_CAP` matches are drawn.
    """
    base = folium.Map(tiles=None, zoom_start=13, control_scale=False, prefer_canvas=False)
    m = use_package_assets(base, asset_base_url, draw=tools)
    MapClass(t("query_attribution", lang)).add_to(m)
    context_bounds = []
    for layer in _context_layers(context):
        layer.geojson(lang).add_to(m)
        drawn = _drawn_bounds(layer.frame)
        if drawn is not None:
            context_bounds.append(drawn)
    bounds = []
    layers = _layers(result, key=key, ref_key=ref_key) if result is not None else []
    for layer in layers:
        layer.geojson(lang).add_to(m)
        drawn = _drawn_bounds(layer.frame)
        if drawn is not None:
            bounds.append(drawn)
    if focus is not None:
        lon, lat, label = focus
        focus_color = QUERY_COLORS["focus"]
        folium.CircleMarker(
            [lat, lon], radius=10, color=focus_color, weight=3, fill=True, fill_opacity=0.3, tooltip=html.escape(label)
        ).add_to(m)
    if tools:
        add_ask_tools(m, lang)
    if layers:
        folium.LayerControl(collapsed=False).add_to(m)
    if focus is not None and not bounds:  # a searched place: about 800 m around it
        m.fit_bounds([[focus[1] - 0.004, focus[0] - 0.004], [focus[1] + 0.004, focus[0] + 0.004]])
        return m
    bounds = bounds or context_bounds
    if bounds:
        west, south = min(b[0] for b in bounds), min(b[1] for b in bounds)
        east, north = max(b[2] for b in bounds), max(b[3] for b in bounds)
        m.fit_bounds([[south, west], [north, east]], padding=(10, 10))
    return m
