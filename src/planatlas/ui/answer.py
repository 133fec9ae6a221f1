"""A query's answer on the Query page: the count, the planner's table, counts per street, downloads, print.

Streamlit calls only: the table is :func:`planatlas.query.readable.readable_answer`, the files come
from the one file writer (:func:`planatlas.io.writers.frame_bytes`, :func:`planatlas.io.xlsx.xlsx_bytes`)
and the print page from :func:`planatlas.render.answer_page.render_answer_page`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import streamlit as st

from planatlas.errors import PlanAtlasError
from planatlas.i18n import t
from planatlas.io.writers import frame_bytes
from planatlas.io.xlsx import xlsx_bytes
from planatlas.query.readable import ReadableAnswer, edge_line, readable_answer, street_counts
from planatlas.render.answer_page import render_answer_page
from planatlas.render.page import PageSpec
from planatlas.render.write import figure_bytes
from planatlas.ui.widgets import plain_markdown

if TYPE_CHECKING:
    from planatlas.query import QueryResult
    from planatlas.store.base import LayerStore

_MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "png": "image/png",
    "pdf": "application/pdf",
}


def result_bytes(frame: pd.DataFrame, fmt: str, *, layer: str) -> bytes:
    """The result as a file in ``fmt`` (csv, geojson, gpkg), through the one file writer."""
    return frame_bytes(frame, fmt, layer=layer)


def _streets(store: LayerStore) -> gpd.GeoDataFrame | None:
    try:
        frame = store.read("streets", columns=["street_id", "name"])
    except (PlanAtlasError, KeyError, ValueError):  # an atlas without the Xihu streets
        return None
    return frame if isinstance(frame, gpd.GeoDataFrame) else None


def _reference_names(result: QueryResult) -> dict[str, str]:
    ref = result.reference
    key = str(ref.attrs.get("key") or ref.columns[0])
    if "name" not in ref.columns or key not in ref.columns:
        return {}
    return {str(k): str(n) for k, n in zip(ref[key], ref["name"], strict=True)}


def _file_stem(title: str) -> str:
    """A file name from the question: its words, without characters file systems refuse."""
    stem = re.sub(r'[\\/:*?"<>|\s]+', "_", title).strip("_")
    return stem[:80] or "planatlas_query"


def _table_for_files(readable: ReadableAnswer, frame: pd.DataFrame) -> pd.DataFrame:
    """The planner's columns, then keys and provenance, then lon/lat of points (CSV and XLSX)."""
    table = pd.concat([readable.table, readable.details.iloc[:, 1:]], axis=1)
    if isinstance(frame, gpd.GeoDataFrame) and len(frame) and (frame.geometry.geom_type == "Point").all():
        table["lon"] = frame.geometry.x.round(7).to_numpy()
        table["lat"] = frame.geometry.y.round(7).to_numpy()
    return table


def _downloads(frame: pd.DataFrame, table: pd.DataFrame, *, title: str, layer: str, lang: str) -> None:
    st.markdown(f"**{t('query_download', lang)}**")
    st.caption(t("query_download_hint", lang))
    stem = _file_stem(title)
    files: dict[str, Callable[[], bytes]] = {
        "csv": functools.partial(result_bytes, table, "csv", layer=layer),
        "xlsx": functools.partial(xlsx_bytes, {layer: table}),
    }
    if isinstance(frame, gpd.GeoDataFrame):
        files["geojson"] = functools.partial(result_bytes, frame, "geojson", layer=layer)
        files["gpkg"] = functools.partial(result_bytes, frame, "gpkg", layer=layer)
    for col, (fmt, make) in zip(st.columns(len(files)), files.items(), strict=True):
        with col:  # each file is made when its button is clicked
            st.download_button(
                fmt.upper(),
                data=make,
                file_name=f"{stem}.{fmt}",
                mime=_MIME[fmt],
                key=f"pq_dl_{fmt}",
                on_click="ignore",
            )


def _print_bytes(store: LayerStore, result: QueryResult, *, title: str, lang: str, fmt: str) -> bytes:
    spec = PageSpec(lang=lang, dpi=150 if fmt == "png" else 300)
    return figure_bytes(render_answer_page(result, title=title, page=spec, streets=_streets(store)), fmt)


def _print(store: LayerStore, result: QueryResult, *, title: str, lang: str) -> None:
    """ "Print this result": the page is drawn when a button is clicked (one click, then saved)."""
    st.markdown(f"**{t('query_print', lang)}**")
    for col, fmt in zip(st.columns(2), ("pdf", "png"), strict=True):
        with col:
            st.download_button(
                t("query_print_download", lang, fmt=fmt.upper()),
                data=functools.partial(_print_bytes, store, result, title=title, lang=lang, fmt=fmt),
                file_name=f"{_file_stem(title)}.{fmt}",
                mime=_MIME[fmt],
                key=f"pq_print_{fmt}",
                on_click="ignore",
            )


def render_answer(store: LayerStore, result: QueryResult, *, title: str, lang: str) -> None:
    """The answer beside the map: question, count, table, per-street counts, keys, downloads, print."""
    frame = result.frame
    rq = result.request
    st.subheader(title)
    n = len(frame)
    counted = t("query_results" if n != 1 else "query_results_one", lang, n=n)
    st.markdown(f'<p class="pa-count" data-count="{n}"><b>{counted}</b></p>', unsafe_allow_html=True)  # n is an int
    if rq.kind == "summarize":
        total = int(frame["count"].sum()) if "count" in frame.columns else 0
        n_found = t("query_results" if total != 1 else "query_results_one", lang, n=total)
        st.caption(f"{t('query_per_street', lang)}: {n_found}")
    if not n:
        st.info(t("query_empty", lang))
        return
    layer = rq.layer
    readable: ReadableAnswer | None = None
    if rq.kind in ("within", "nearest", "inside", "intersects"):
        key = store.spec(layer).key
        readable = readable_answer(
            frame, key=key, lang=lang, reference_names=_reference_names(result), streets=_streets(store)
        )
        if rq.kind == "within" and rq.distance is not None and not rq.pairs:
            line = edge_line(frame, distance=rq.distance, lang=lang)
            if line:
                st.caption(plain_markdown(line))
        dist_title = readable.columns["distance_m"]
        unc_title = readable.columns["uncertainty_m"]
        st.dataframe(
            readable.table,
            hide_index=True,
            width="stretch",
            column_config={
                dist_title: st.column_config.NumberColumn(dist_title, format="%.0f"),
                unc_title: st.column_config.NumberColumn(unc_title, format="%.0f"),
            },
            key="pq_table",
        )
        street_title = readable.columns["street"]
        counts = street_counts(readable.table, street_title=street_title, count_title=t("query_col_count", lang))
        if len(counts):
            st.markdown(f"**{t('query_per_street', lang)}**")
            st.dataframe(counts, hide_index=True, width="stretch")
        with st.expander(t("query_details", lang)):
            st.dataframe(readable.details, hide_index=True, width="stretch")
        table = _table_for_files(readable, frame)
    else:
        table = pd.DataFrame(frame.drop(columns="geometry")) if "geometry" in frame.columns else pd.DataFrame(frame)
        st.dataframe(table, hide_index=True, width="stretch")
    if any(frame.get("precision", pd.Series(dtype=object)) == "schematic"):
        st.warning(t("query_schematic", lang))
    _downloads(frame, table, title=title, layer=f"{rq.kind}_{layer}", lang=lang)
    _print(store, result, title=title, lang=lang)
