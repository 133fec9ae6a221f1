"""The Export page: choose a map, paper, orientation, resolution, format and language; preview, download.

Streamlit calls only: files are made by :mod:`planatlas.export` (store → load → render → write),
exactly as ``planatlas export`` / ``planatlas export-series`` make them.
Rendered files are cached per choice and atlas build, so reruns do not redraw them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from planatlas.errors import PlanAtlasError
from planatlas.i18n import LANG_NAMES, LANGS, t
from planatlas.maps import PRESETS
from planatlas.maps.presets import Preset, PresetParameter
from planatlas.maps.style import Scalar
from planatlas.render.page import PageSpec
from planatlas.ui.widgets import error_text

if TYPE_CHECKING:
    from planatlas.settings import Settings
    from planatlas.store.base import LayerStore

FORMAT_MIME = {
    "png": "image/png",
    "pdf": "application/pdf",
    "svg": "image/svg+xml",
    "html": "text/html",
}
DPI_CHOICES = (72, 150, 300, 600)
PREVIEW_DPI = 60
#: (paper, orientation, dpi, lang, inset, labels): the page choices, hashable for the cache.
PageArgs = tuple[str, str, int, str, bool, bool]
ParamItems = tuple[tuple[str, Scalar], ...]


def _choice_label(parameter: PresetParameter, lang: str) -> Callable[[Scalar], str]:
    def label(value: Scalar) -> str:
        return str(parameter.choice(value).label_in(lang))

    return label


def file_name(preset: str, *, paper: str, orientation: str, lang: str, fmt: str) -> str:
    """Download name, e.g. ``one-belt-four-zones_A4-portrait_zh.pdf`` (``layer:x`` becomes ``layer-x``)."""
    preset = preset.replace(":", "-")
    if fmt == "html":
        return f"{preset}_{lang}.html"
    return f"{preset}_{paper}-{orientation}_{lang}.{fmt}"


def _page(page_args: PageArgs) -> PageSpec:
    paper, orientation, dpi, lang, inset, labels = page_args
    return PageSpec(paper=paper, orientation=orientation, dpi=dpi, lang=lang, inset=inset, labels=labels)


@st.cache_data(show_spinner=False, max_entries=16)
def _page_bytes(
    _store: LayerStore, cache_key: str, preset: str, fmt: str, page_args: PageArgs, params: ParamItems
) -> bytes:
    """One exported page, cached per choice and atlas content (``cache_key``)."""
    from planatlas import export as exporter  # noqa: PLC0415 - matplotlib and folium only when exporting

    return exporter.preset_bytes(_store, preset, fmt=fmt, page=_page(page_args), params=dict(params))


@st.cache_data(show_spinner=False, max_entries=16)
def _series_bytes(
    _store: LayerStore, cache_key: str, preset: str, by: str, page_args: PageArgs, params: ParamItems
) -> tuple[bytes, int]:
    """A map series as one PDF and its page count, cached like :func:`_page_bytes`."""
    from planatlas import export as exporter  # noqa: PLC0415 - matplotlib and folium only when exporting

    return exporter.series_bytes(_store, preset, by=by, page=_page(page_args), params=dict(params))


def layer_presets(store: LayerStore) -> dict[str, Preset]:
    """``layer:<name>`` maps of the imported layers (those the user overlay added), by preset name."""
    from planatlas.imports.run import layer_origins  # noqa: PLC0415 - the imports only when exporting
    from planatlas.maps.layer_preset import LAYER_PREFIX, layer_preset  # noqa: PLC0415 - same

    origins = layer_origins(store.metadata())
    layers = store.layers()
    return {
        f"{LAYER_PREFIX}{name}": layer_preset(store.spec(name), outlines="districts" in layers)
        for name, origin in origins.items()
        if origin["origin"] == "imported" and store.spec(name).has_geometry
    }


@st.cache_data(show_spinner=False, max_entries=8)
def _series_zip(
    _store: LayerStore, cache_key: str, preset: str, by: str, page_args: PageArgs, params: ParamItems
) -> tuple[bytes, int]:
    """A map series as a zip of PNG pages and its page count, cached like :func:`_page_bytes`."""
    from planatlas.view_export import series_png_zip  # noqa: PLC0415 - matplotlib only when exporting

    return series_png_zip(_store, preset, by=by, page=_page(page_args), params=dict(params))


def render_page(store: LayerStore, settings: Settings, lang: str) -> None:
    """Draw the Export page."""
    st.header(t("export_title", lang))
    st.caption(t("export_intro", lang))

    # the thematic maps, then one map per imported layer (over the district outlines)
    imported = layer_presets(store)
    names = [*PRESETS, *imported]
    with st.form("pa_export_form"):
        c1, c2, c3 = st.columns(3)
        preset = c1.selectbox(
            t("export_preset", lang),
            names,
            format_func=lambda n: imported[n].title_in(lang) if n in imported else PRESETS[n].title_in(lang),
            key="pa_export_preset",
        )
        fmt = c1.radio(t("export_format", lang), list(FORMAT_MIME), horizontal=True, key="pa_export_fmt")
        paper = c2.radio(t("export_paper", lang), ["A4", "A3"], horizontal=True, key="pa_export_paper")
        orientation = c2.radio(
            t("export_orientation", lang),
            ["portrait", "landscape"],
            format_func=lambda o: t(f"export_{o}", lang),
            horizontal=True,
            key="pa_export_orientation",
        )
        dpi = c2.select_slider(t("export_dpi", lang), DPI_CHOICES, value=300, key="pa_export_dpi")
        page_lang = c3.radio(
            t("export_page_lang", lang),
            list(LANGS),
            index=LANGS.index(lang),
            format_func=LANG_NAMES.__getitem__,
            horizontal=True,
            key=f"pa_export_lang_{lang}",
        )
        inset = c3.checkbox(t("export_inset", lang), value=True, key="pa_export_inset")
        labels = c3.checkbox(t("export_labels", lang), value=True, key="pa_export_labels")
        params: dict[str, Scalar] = {}
        for p in (imported[preset] if preset in imported else PRESETS[preset]).parameters:
            values = [c.value for c in p.choices]
            params[p.name] = c3.selectbox(
                p.title.get(lang) or p.name,
                values,
                index=values.index(p.default),
                format_func=_choice_label(p, lang),
                key=f"pa_export_param_{p.name}",
            )
        submitted = st.form_submit_button(t("export_make", lang), type="primary")
    if fmt == "html":
        st.info(t("export_html_note", lang))

    version = store.cache_key()
    page_args: PageArgs = (paper, orientation, int(dpi), page_lang, bool(inset), bool(labels))
    param_items = tuple(sorted(params.items()))
    if submitted or st.session_state.get("pa_export_done"):
        st.session_state["pa_export_done"] = True
        try:
            with st.spinner("…"):
                data = _page_bytes(store, version, preset, fmt, page_args, param_items)
                preview_args: PageArgs = (paper, orientation, PREVIEW_DPI, page_lang, bool(inset), bool(labels))
                preview = (
                    None if fmt == "html" else _page_bytes(store, version, preset, "png", preview_args, param_items)
                )
        except PlanAtlasError as exc:
            st.error(t("export_error", lang) + error_text(exc))
            return
        name = file_name(preset, paper=paper, orientation=orientation, lang=page_lang, fmt=fmt)
        st.download_button(
            f"{t('export_download', lang)} {name} ({len(data) / 1e6:.1f} MB)",
            data=data,
            file_name=name,
            mime=FORMAT_MIME[fmt],
            key="pa_export_download",
        )
        if preview is not None:
            st.subheader(t("export_preview", lang))
            st.image(preview, width=520)

    st.divider()
    st.subheader(t("export_series", lang))
    with st.form("pa_series_form"):
        by = st.radio(
            t("export_by", lang),
            ["streets", "zones", "towns"],
            format_func=lambda v: t(f"export_{v}", lang),
            horizontal=True,
            key="pa_series_by",
        )
        series_fmt = st.radio(
            t("export_series_format", lang),
            ["pdf", "zip"],
            format_func=lambda v: t(f"export_series_{v}", lang),
            horizontal=True,
            key="pa_series_fmt",
        )
        make_series = st.form_submit_button(t("export_make_series", lang))
    if make_series:
        series_args = (paper, "landscape", min(int(dpi), 300), page_lang, False, bool(labels))
        try:
            with st.spinner("…"):
                make = _series_zip if series_fmt == "zip" else _series_bytes
                data, count = make(store, version, preset, by, series_args, param_items)
        except PlanAtlasError as exc:
            st.error(t("export_error", lang) + error_text(exc))
            return
        name = f"{preset}_{by}_{page_lang}.{series_fmt}"
        st.download_button(
            f"{t('export_download', lang)} {name} ({count} {t('export_pages', lang)})",
            data=data,
            file_name=name,
            mime="application/zip" if series_fmt == "zip" else "application/pdf",
            key="pa_series_download",
        )
