"""The Data page: layer catalogue, validation report, searchable attribute tables and downloads.

Streamlit calls over the store and the library; the Jiuwang plan-versus-map section comes from
:mod:`planatlas.ui.reconciliation`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from planatlas.catalog import LayerSpec
from planatlas.dumps import geojson_bytes, prepare_dump
from planatlas.i18n import t
from planatlas.io.writers import csv_text
from planatlas.maps.presets import PRECISION_LABELS
from planatlas.maps.style import text_in
from planatlas.settings import Settings
from planatlas.store.base import LayerStore
from planatlas.ui.reconciliation import reconciliation_section, xinjian_section
from planatlas.ui.widgets import plain_markdown


def catalogue_table(metadata: Mapping[str, Any], lang: str) -> pd.DataFrame:
    """One row per layer: name, title, geometry, count, precision, source, licence, limits (pure)."""
    rows = []
    for name, meta in metadata.get("layers", {}).items():
        spec = meta.get("spec", {})
        precision = meta.get("precision") or {}
        prec_text = "; ".join(f"{text_in(PRECISION_LABELS.get(k), lang, default=k)} {v}" for k, v in precision.items())
        rows.append(
            {
                t("col_layer", lang): name,
                t("col_title", lang): text_in(meta.get("title") or spec.get("title"), lang, name),
                t("col_geometry", lang): meta.get("geometry_type", ""),
                t("col_count", lang): meta.get("count"),
                t("col_precision", lang): prec_text,
                t("col_source", lang): spec.get("source", ""),
                t("col_files", lang): "; ".join(
                    f"{src.get('path')} (sha256 {str(src.get('sha256', ''))[:12]})" for src in meta.get("sources", [])
                ),
                t("col_licence", lang): spec.get("licence", ""),
                t("col_limits", lang): spec.get("limits", ""),
            }
        )
    return pd.DataFrame(rows)


def search_rows(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows where any attribute contains ``text`` (case-insensitive, literal, geometry ignored)."""
    text = (text or "").strip()
    if not text:
        return frame
    attrs = frame.drop(columns=["geometry"], errors="ignore").astype(str)
    mask = pd.Series(data=False, index=frame.index)
    for column in attrs.columns:
        mask |= attrs[column].str.contains(text, case=False, regex=False)
    return frame.loc[mask]


def attribute_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The attributes as a plain DataFrame (geometry dropped) for display and CSV."""
    return pd.DataFrame(frame.drop(columns=["geometry"], errors="ignore"))


def layer_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes of a layer's attributes (UTF-8 with BOM for Excel), formula-like cells neutralised."""
    return csv_text(attribute_frame(frame)).encode("utf-8-sig")


def layer_geojson(frame: gpd.GeoDataFrame, spec: LayerSpec | None = None) -> bytes:
    """GeoJSON bytes of a layer (EPSG:4490 coordinates, RFC 7946 axis order lon/lat).

    With the layer's ``spec`` it is the honest dump of :mod:`planatlas.dumps`: named for the layer,
    with its caveat and its plan group figures once.
    """
    if spec is not None:
        return geojson_bytes(prepare_dump(frame, spec))
    text: str = frame.to_json(drop_id=True, ensure_ascii=False)
    return text.encode("utf-8")


@st.cache_data(show_spinner=False)
def _read(_store: LayerStore, store_key: str, name: str) -> gpd.GeoDataFrame | pd.DataFrame:
    """A whole layer, cached per ``store_key`` (the store's ``cache_key()``) and layer name."""
    return _store.read(name)


def render_page(store: LayerStore, settings: Settings, lang: str) -> None:
    """Draw the Data page.

    Parameters
    ----------
    store
        The atlas shown.
    settings
        Where the atlas lives (its GeoPackage is offered for download when it is one).
    lang
        The UI language.
    """
    meta = store.metadata()
    key = store.cache_key()
    st.header(t("catalogue", lang))
    built = f"{meta.get('built_at', '')} · planatlas {meta.get('planatlas_version', '')}"
    st.caption(f"{t('built_at', lang)}: {plain_markdown(built)}")
    st.dataframe(catalogue_table(meta, lang), hide_index=True, width="stretch")

    with st.expander(t("validation", lang), expanded=False):
        report = meta.get("report") or {}
        problems = report.get("problems") or []
        if report.get("ok", not problems):
            st.success(t("validation_ok", lang, n=len(report.get("layers", meta.get("layers", {})))))
        else:
            st.error(t("validation_failed", lang))
        if problems or report.get("warnings"):
            st.dataframe(pd.DataFrame([*problems, *report.get("warnings", [])]), width="stretch")
        st.json(report, expanded=False)

    st.header(t("attributes", lang))
    names = list(meta.get("layers", {}))
    name = st.selectbox(
        t("col_layer", lang),
        names,
        key="pa_data_layer",
        format_func=lambda n: f"{text_in(meta['layers'][n].get('title'), lang, n)} ({n})",
    )
    spec_meta = meta["layers"][name].get("spec", {})
    desc = text_in(spec_meta.get("description"), lang)
    if desc:
        st.caption(plain_markdown(desc))  # catalogue text: shown as written, never as Markdown
    frame = _read(store, key, name)
    query = st.text_input(t("search", lang), key=f"pa_data_search_{name}")
    shown = search_rows(frame, query)
    st.caption(t("rows_shown", lang, n=len(shown), total=len(frame)))
    st.dataframe(attribute_frame(shown), hide_index=True, width="stretch")
    # (label, bytes, file name, MIME type) of each download offered, one column each
    downloads = [(t("download_csv", lang), layer_csv(shown), f"{name}.csv", "text/csv")]
    if "geometry" in frame.columns:
        downloads.append(
            (
                t("download_geojson", lang),
                layer_geojson(shown, store.spec(name)),
                f"{name}.geojson",
                "application/geo+json",
            )
        )
    atlas_path = settings.atlas_path
    if not settings.database_url and atlas_path.is_file():
        atlas = (t("download_atlas", lang), atlas_path.read_bytes(), atlas_path.name, "application/geopackage+sqlite3")
        downloads.append(atlas)
    for column, (label, data, file_name, mime) in zip(st.columns(3), downloads, strict=False):
        column.download_button(label, data, file_name=file_name, mime=mime, key=f"pa_dl_{file_name}")

    st.header(t("reconcile", lang))
    reconciliation_section(store, lang)

    st.header(t("reconcile_xinjian", lang))
    xinjian_section(store, lang)
