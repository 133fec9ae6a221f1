"""The Query page: choose a query, layers, a selection and a distance; table, map and downloads.

Streamlit calls only: the map is drawn by :func:`planatlas.render.query_map.query_map`. Answers come
from :func:`planatlas.query.run_query`, so the page shows exactly what the CLI prints, on the
GeoPackage or on PostGIS.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import streamlit as st

from planatlas.errors import PlanAtlasError
from planatlas.i18n import t
from planatlas.io.writers import frame_bytes
from planatlas.query import QUERY_KINDS, IndexCache, QueryRequest, parse_distance, run_query
from planatlas.render.query_map import QUERY_FEATURE_CAP, query_map
from planatlas.ui.widgets import error_text

if TYPE_CHECKING:
    from planatlas.settings import Settings
    from planatlas.store.base import LayerStore


# ---- downloads ---------------------------------------------------------------------------------
def result_bytes(frame: pd.DataFrame, fmt: str, *, layer: str) -> bytes:
    """The result as a file in ``fmt`` (csv, geojson, gpkg), through the one file writer."""
    return frame_bytes(frame, fmt, layer=layer)


# ---- page --------------------------------------------------------------------------------------
def _geometry_layers(store: LayerStore) -> list[str]:
    meta = store.metadata()["layers"]
    return [n for n, info in meta.items() if info.get("geometry_type", "None") != "None"]


def _title(store: LayerStore, name: str, lang: str) -> str:
    try:
        return f"{store.spec(name).title_in(lang)} ({name})"
    except PlanAtlasError:  # a layer without a readable spec still gets a label
        return name


def _default(options: list[str], wanted: str) -> int:
    return options.index(wanted) if wanted in options else 0


def render_page(store: LayerStore, settings: Settings, lang: str) -> None:
    """Draw the Query page."""
    # streamlit_folium declares its component when imported: only when a page is drawn (nothing at import)
    from streamlit_folium import st_folium  # noqa: PLC0415 - declares a component on import: not at import time

    st.header(t("query_title", lang))
    st.caption(t("query_intro", lang))
    layers = _geometry_layers(store)
    if not layers:
        st.info(t("query_error", lang) + "no layers")
        return
    label = functools.partial(_title, store, lang=lang)  # format_func: a layer name → its title

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
    except (PlanAtlasError, ValueError, LookupError) as exc:  # a refused question: say why; the page stays usable
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
        if len(frame) > QUERY_FEATURE_CAP:
            st.caption(t("query_map_capped", lang).format(n=QUERY_FEATURE_CAP))
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


@st.cache_resource(show_spinner=False)
def _index_cache() -> IndexCache:
    """One dict per app process holding prepared distance indexes (keyed by atlas content and layer)."""
    return {}
