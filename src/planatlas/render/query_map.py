"""The query map: a query's answer -> ``folium.Map`` (matches, reference features, distance ring; pure).

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
from planatlas.render.leaflet import use_package_assets

if TYPE_CHECKING:
    from planatlas.query import QueryResult

#: Most matched features drawn on the query map (the table and downloads hold all of them).
QUERY_FEATURE_CAP = 3000
#: Columns of a match shown in its tooltip, in order (those the answer has), after its key.
_MATCH_FIELDS = ("name", "nearest_key", "distance_m", "within_count", "zone_key", "count")

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

    def geojson(self, lang: str) -> folium.GeoJson:
        color = str(self.style["color"])
        marker = None
        if self.marker is not None:
            radius, opacity = self.marker
            marker = folium.CircleMarker(radius=radius, fill=True, color=color, fill_opacity=opacity)
        style = dict(self.style)
        return folium.GeoJson(
            _tip_collection(self.frame, self.fields),
            name=t(self.title, lang),
            style_function=lambda _f: style,
            marker=marker,
            tooltip=folium.GeoJsonTooltip(fields=["_tip"], labels=False),
        )


def _tip(row: Mapping[str, Any], fields: Sequence[str]) -> str:
    parts = []
    for f in fields:
        value = row.get(f)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if f == "distance_m":
            value = f"{float(value):.1f} m"
        parts.append(f"<b>{html.escape(str(f))}</b>: {html.escape(str(value))}")
    return "<br>".join(parts)


def _tip_collection(frame: gpd.GeoDataFrame, fields: Sequence[str]) -> dict[str, Any]:
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
                "properties": {"_tip": _tip(row, fields)},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _drawn_bounds(frame: gpd.GeoDataFrame) -> Bounds | None:
    present = frame.geometry[~(frame.geometry.isna() | frame.geometry.is_empty)]
    if not len(present):
        return None
    west, south, east, north = (float(v) for v in present.total_bounds)
    return west, south, east, north


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
        fields = [c for c in (key, *_MATCH_FIELDS) if c in shown.columns]
        match = QUERY_COLORS["match"]
        style = {"color": match, "weight": 1, "fillColor": match, "fillOpacity": 0.5}
        layers.append(_TipLayer(shown, fields, "query_matches", style, marker=(4, 0.8)))
    if len(reference):
        fields = [c for c in (ref_key, "name") if c in reference.columns]
        style = {"color": QUERY_COLORS["reference"], "weight": 2, "fillOpacity": 0.0}
        layers.append(_TipLayer(reference, fields, "query_reference", style, marker=(7, 1.0)))
    return layers


def query_map(result: QueryResult, *, key: str, ref_key: str, lang: str = "zh") -> folium.Map:
    """The answer of a query on a map: reference features, the distance ring, matches highlighted.

    Parameters
    ----------
    result
        The answer of :func:`planatlas.query.run_query` (its frame and reference features, EPSG:4490).
    key, ref_key
        Key columns of the matched and the reference layer, shown first in the tooltips.
    lang
        ``zh`` or ``en`` for the layer names.

    The ring is ``buffer(D)`` of the reference features in EPSG:4548, drawn for orientation only;
    matching used exact distances. At most :data:`QUERY_FEATURE_CAP` matches are drawn.
    """
    m = use_package_assets(folium.Map(tiles=None, zoom_start=13, control_scale=True, prefer_canvas=True), None)
    bounds = []
    for layer in _layers(result, key=key, ref_key=ref_key):
        layer.geojson(lang).add_to(m)
        drawn = _drawn_bounds(layer.frame)
        if drawn is not None:
            bounds.append(drawn)
    folium.LayerControl(collapsed=False).add_to(m)
    if bounds:
        west, south = min(b[0] for b in bounds), min(b[1] for b in bounds)
        east, north = max(b[2] for b in bounds), max(b[3] for b in bounds)
        m.fit_bounds([[south, west], [north, east]], padding=(10, 10))
    return m
