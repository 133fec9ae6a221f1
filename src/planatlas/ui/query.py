"""The Query page: choose a query, layers, a selection and a distance; table, map and downloads.

Streamlit calls only, plus :func:`query_map` (pure: a query result -> ``folium.Map``, escaped popups,
offline assets). Answers come from :func:`planatlas.query.run_query`, so the page shows exactly what
the CLI prints, on the GeoPackage or on PostGIS.
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely

from planatlas.crs import METRIC_CRS, STORAGE_CRS
from planatlas.i18n import t
from planatlas.query import QUERY_KINDS, QueryRequest, QueryResult, parse_distance, run_query

#: Most result features drawn on the map (the table and downloads always hold all of them).
MAP_FEATURE_CAP = 3000


# ---- the map (pure) ----------------------------------------------------------------------------
def _tip(row: Mapping[str, Any], fields: list[str]) -> str:
    parts = []
    for f in fields:
        value = row.get(f)
        if value is None or (isinstance(value, float) and pd.isna(value)):
            continue
        if f == "distance_m":
            value = f"{float(value):.1f} m"
        parts.append(f"<b>{html.escape(str(f))}</b>: {html.escape(str(value))}")
    return "<br>".join(parts)


def _geojson(frame: gpd.GeoDataFrame, fields: list[str]) -> dict[str, Any]:
    """Geometry-only GeoJSON with one escaped HTML property ``_tip`` per feature."""
    features = []
    geoms = frame.geometry.values
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    for geom, row in zip(geoms, records, strict=True):
        if geom is None or geom.is_empty:
            continue
        rounded = shapely.set_precision(geom, 1e-6)
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(rounded),
                "properties": {"_tip": _tip(row, fields)},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def query_map(result: QueryResult, *, key: str, ref_key: str, lang: str = "zh") -> folium.Map:
    """The result on a map: reference features, the distance ring, matches highlighted.

    The ring is ``buffer(D)`` of the reference features in EPSG:4548, drawn for orientation only;
    matching used exact distances. Every value shown in a tooltip is HTML-escaped.
    """
    from planatlas.render.assets import map_assets

    rq = result.request
    frame = result.frame
    m = folium.Map(tiles=None, zoom_start=13, control_scale=True, prefer_canvas=True)
    js, css = map_assets(None)
    m.default_js = js
    m.default_css = css
    bounds: list[tuple[float, float, float, float]] = []

    reference = result.reference
    if rq.distance is not None and rq.kind in ("within", "coverage", "nearest") and len(reference):
        metres = parse_distance(rq.distance)
        ring = reference.to_crs(METRIC_CRS).geometry.buffer(metres, quad_segs=32).union_all()
        ring_frame = gpd.GeoDataFrame({"ring": [f"{metres:g} m"]}, geometry=[ring], crs=METRIC_CRS).to_crs(STORAGE_CRS)
        folium.GeoJson(
            _geojson(ring_frame, ["ring"]),
            name=t("query_ring", lang),
            style_function=lambda _f: {"color": "#d62728", "weight": 1.5, "dashArray": "6 4", "fillOpacity": 0.04},
            tooltip=folium.GeoJsonTooltip(fields=["_tip"], labels=False),
        ).add_to(m)
        bounds.append(tuple(ring_frame.total_bounds))

    if isinstance(frame, gpd.GeoDataFrame) and len(frame):
        shown = frame.head(MAP_FEATURE_CAP)
        fields = [
            c
            for c in (key, "name", "nearest_key", "distance_m", "within_count", "zone_key", "count")
            if c in shown.columns
        ]
        folium.GeoJson(
            _geojson(shown, fields),
            name=t("query_matches", lang),
            style_function=lambda _f: {"color": "#1f77b4", "weight": 1, "fillColor": "#1f77b4", "fillOpacity": 0.5},
            marker=folium.CircleMarker(radius=4, fill=True, color="#1f77b4", fill_opacity=0.8),
            tooltip=folium.GeoJsonTooltip(fields=["_tip"], labels=False),
        ).add_to(m)
        present = shown.geometry[~(shown.geometry.isna() | shown.geometry.is_empty)]
        if len(present):
            bounds.append(tuple(present.total_bounds))

    if len(reference):
        ref_fields = [c for c in (ref_key, "name") if c in reference.columns]
        folium.GeoJson(
            _geojson(reference, ref_fields),
            name=t("query_reference", lang),
            style_function=lambda _f: {"color": "#d62728", "weight": 2, "fillOpacity": 0.0},
            marker=folium.CircleMarker(radius=7, fill=True, color="#d62728", fill_opacity=1.0),
            tooltip=folium.GeoJsonTooltip(fields=["_tip"], labels=False),
        ).add_to(m)
        present = reference.geometry[~(reference.geometry.isna() | reference.geometry.is_empty)]
        if len(present):
            bounds.append(tuple(present.total_bounds))

    folium.LayerControl(collapsed=False).add_to(m)
    if bounds:
        x0 = min(b[0] for b in bounds)
        y0 = min(b[1] for b in bounds)
        x1 = max(b[2] for b in bounds)
        y1 = max(b[3] for b in bounds)
        m.fit_bounds([[y0, x0], [y1, x1]], padding=(10, 10))
    return m


# ---- downloads ---------------------------------------------------------------------------------
def result_bytes(frame: pd.DataFrame, fmt: str, *, layer: str) -> bytes:
    """The result as a file in ``fmt`` (csv, geojson, gpkg), through the one file writer."""
    from planatlas.io.writers import FORMATS, write_frame

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"result{FORMATS[fmt]}"
        write_frame(frame, path, fmt=fmt, layer=layer)
        return path.read_bytes()


# ---- page --------------------------------------------------------------------------------------
def _geometry_layers(store: Any) -> list[str]:
    meta = store.metadata()["layers"]
    return [n for n, info in meta.items() if info.get("geometry_type", "None") != "None"]


def _title(store: Any, name: str, lang: str) -> str:
    try:
        return f"{store.spec(name).title_in(lang)} ({name})"
    except Exception:  # a layer without a spec still gets a label
        return name


def _default(options: list[str], wanted: str) -> int:
    return options.index(wanted) if wanted in options else 0


def render_page(store: Any, settings: Any, lang: str) -> None:
    """Draw the Query page."""
    import streamlit as st
    from streamlit_folium import st_folium

    from planatlas.ui.widgets import error_text  # noqa: PLC0415 - imports streamlit, like this page

    st.header(t("query_title", lang))
    st.caption(t("query_intro", lang))
    layers = _geometry_layers(store)
    if not layers:
        st.info(t("query_error", lang) + "no layers")
        return
    label = lambda n: _title(store, n, lang)  # noqa: E731

    c1, c2, c3 = st.columns(3)
    with c1:
        kind = st.selectbox(
            t("query_kind", lang), QUERY_KINDS, key="pq_kind", format_func=lambda k: t(f"query_{k}", lang)
        )
        layer = st.selectbox(
            t("query_layer", lang), layers, index=_default(layers, "buildings"), key="pq_layer", format_func=label
        )
    zone_kinds = ("inside", "intersects", "summarize")
    with c2:
        default_of = "streets" if kind in zone_kinds else "metro_stations"
        of = st.selectbox(
            t("query_zones" if kind in zone_kinds else "query_of", lang),
            layers,
            index=_default(layers, default_of),
            key=f"pq_of_{kind in zone_kinds}",
            format_func=label,
        )
        of_spec = store.spec(of)
        fields = [of_spec.key, *[f for f in of_spec.fields if f != of_spec.key]]
        field = st.selectbox(
            t("query_select_field", lang), fields, index=_default(fields, "name"), key=f"pq_field_{of}"
        )
        ref_frame = store.read(of, columns=[field])
        values = sorted({str(v) for v in ref_frame[field].dropna()})
        chosen = st.multiselect(t("query_select_values", lang), values, key=f"pq_values_{of}_{field}")
    with c3:
        distance: str | None = None
        if kind in ("within", "coverage"):
            distance = st.text_input(t("query_distance", lang), value="1km", key="pq_distance")
        elif kind == "nearest":
            distance = st.text_input(t("query_max_distance", lang), value="", key="pq_max_distance") or None
        by = None
        if kind == "coverage":
            by = st.selectbox(
                t("query_by", lang), layers, index=_default(layers, "streets"), key="pq_by", format_func=label
            )
        value = None
        if kind in ("summarize", "coverage"):
            numeric = [f for f, fs in store.spec(layer).fields.items() if fs.type in ("int", "float")]
            pick = st.selectbox(
                t("query_value" if kind == "summarize" else "query_weight", lang),
                [None, *numeric],
                key=f"pq_value_{layer}",
                format_func=lambda v: t("query_none", lang) if v is None else v,
            )
            value = pick

    if distance is not None:
        try:
            parse_distance(distance)
        except ValueError as exc:
            st.error(t("query_bad_distance", lang) + error_text(exc))
            return
    where = {field: chosen} if chosen else {}
    try:
        rq = QueryRequest(kind=kind, layer=layer, of=of, where=where, distance=distance, by=by, value=value)
        result = run_query(store, rq, cache=_index_cache())
    except Exception as exc:  # show the message; the page stays usable
        st.error(t("query_error", lang) + error_text(exc))
        return

    frame = result.frame
    st.caption(f"{len(frame)} {t('query_rows', lang)} · {t('query_backend', lang)}: {result.backend}")
    precision = frame.get("precision") if isinstance(frame, pd.DataFrame) else None
    if precision is not None and (precision == "schematic").any():
        st.warning(t("query_schematic", lang))
    table = pd.DataFrame(frame.drop(columns="geometry")) if "geometry" in frame.columns else frame
    st.dataframe(table, width="stretch", hide_index=True)

    key = store.spec(of if kind == "summarize" else layer).key
    if kind != "coverage":
        if len(frame) > MAP_FEATURE_CAP:
            st.caption(t("query_map_capped", lang).format(n=MAP_FEATURE_CAP))
        fmap = query_map(result, key=key, ref_key=of_spec.key, lang=lang)
        st_folium(fmap, key="pq_map", height=520, use_container_width=True, returned_objects=[])

    st.subheader(t("query_download", lang))
    cols = st.columns(3)
    stem = f"{kind}_{layer}_{of}"
    for col, (fmt, mime) in zip(
        cols,
        (("csv", "text/csv"), ("geojson", "application/geo+json"), ("gpkg", "application/geopackage+sqlite3")),
        strict=True,
    ):
        if fmt != "csv" and not isinstance(frame, gpd.GeoDataFrame):
            continue
        with col:
            st.download_button(
                fmt.upper(),
                data=result_bytes(frame, fmt, layer=stem),
                file_name=f"{stem}.{fmt}",
                mime=mime,
                key=f"pq_dl_{fmt}",
            )


def _index_cache() -> dict[Any, Any]:
    """One dict per app process holding prepared distance indexes (keyed by store, build, layer)."""
    import streamlit as st

    @st.cache_resource(show_spinner=False)
    def holder() -> dict[Any, Any]:
        return {}

    return holder()
