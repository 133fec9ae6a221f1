"""The Export page: choose a map, paper, orientation, resolution, format and language; preview, download.

Streamlit calls only: pages are drawn by :mod:`planatlas.render.static` and serialised by
:mod:`planatlas.render.export`, exactly as ``planatlas export`` / ``planatlas export-series`` do.
Rendered files are cached per choice and atlas build, so reruns do not redraw them.
"""

from __future__ import annotations

import io
from typing import Any

from planatlas.i18n import t

FORMAT_MIME = {
    "png": "image/png",
    "pdf": "application/pdf",
    "svg": "image/svg+xml",
    "html": "text/html",
}
DPI_CHOICES = (72, 150, 300, 600)
PREVIEW_DPI = 60


def _choice_label(parameter: Any, lang: str) -> Any:
    def label(value: Any) -> str:
        return str(parameter.choice(value).label_in(lang))

    return label


def file_name(preset: str, *, paper: str, orientation: str, lang: str, fmt: str) -> str:
    """Download name, e.g. ``one-belt-four-zones_A4-portrait_zh.pdf``."""
    if fmt == "html":
        return f"{preset}_{lang}.html"
    return f"{preset}_{paper}-{orientation}_{lang}.{fmt}"


def _atlas_version(store: Any) -> str:
    meta = store.metadata()
    return str(meta.get("built_at", "")) + str(getattr(store, "path", ""))


def _cached(func: Any) -> Any:
    import streamlit as st

    return st.cache_data(show_spinner=False, max_entries=16)(func)


def _page_bytes(
    _store: Any, version: str, preset: str, fmt: str, page_args: tuple[Any, ...], params: tuple[Any, ...]
) -> bytes:
    from planatlas.render import export as writer
    from planatlas.render.static import PageSpec

    paper, orientation, dpi, lang, inset, labels = page_args
    if fmt == "html":
        m = writer.interactive_map(_store, preset, lang=lang, params=dict(params))
        return writer.standalone_html(m).encode("utf-8")
    page = PageSpec(paper=paper, orientation=orientation, dpi=dpi, lang=lang, inset=inset, labels=labels)
    fig = writer.render_preset(_store, preset, page=page, params=dict(params))
    return writer.figure_bytes(fig, fmt)


def _series_bytes(
    _store: Any, version: str, preset: str, by: str, page_args: tuple[Any, ...], params: tuple[Any, ...]
) -> tuple[bytes, int]:
    from planatlas.render import export as writer
    from planatlas.render.static import PageSpec, render_series

    paper, orientation, dpi, lang, inset, labels = page_args
    page = PageSpec(paper=paper, orientation=orientation, dpi=dpi, lang=lang, inset=inset, labels=labels)
    preset_obj = writer.get_export_preset(preset)
    units = writer.series_units_for(_store, by, lang=lang)
    frames = writer.load_preset_frames(_store, preset_obj)
    buf = io.BytesIO()
    count = writer.save_pdf_pages(render_series(preset_obj, frames, units, params=dict(params), page=page), buf)
    return buf.getvalue(), count


def render_page(store: Any, settings: Any, lang: str) -> None:
    """Draw the Export page."""
    import streamlit as st

    from planatlas.errors import PlanAtlasError
    from planatlas.maps import PRESETS
    from planatlas.ui.widgets import error_text  # noqa: PLC0415 - imports streamlit, like this page

    page_bytes = _cached(_page_bytes)
    series_bytes = _cached(_series_bytes)
    st.header(t("export_title", lang))
    st.caption(t("export_intro", lang))

    names = list(PRESETS)
    with st.form("pa_export_form"):
        c1, c2, c3 = st.columns(3)
        preset = c1.selectbox(
            t("export_preset", lang), names, format_func=lambda n: PRESETS[n].title_in(lang), key="pa_export_preset"
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
            ["zh", "en"],
            index=0 if lang == "zh" else 1,
            format_func=lambda v: {"zh": "中文", "en": "English"}[v],
            horizontal=True,
            key=f"pa_export_lang_{lang}",
        )
        inset = c3.checkbox(t("export_inset", lang), value=True, key="pa_export_inset")
        labels = c3.checkbox(t("export_labels", lang), value=True, key="pa_export_labels")
        params: dict[str, Any] = {}
        for p in PRESETS[preset].parameters:
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

    version = _atlas_version(store)
    page_args = (paper, orientation, int(dpi), page_lang, bool(inset), bool(labels))
    param_items = tuple(sorted(params.items()))
    if submitted or st.session_state.get("pa_export_done"):
        st.session_state["pa_export_done"] = True
        try:
            with st.spinner("…"):
                data = page_bytes(store, version, preset, fmt, page_args, param_items)
                preview_args = (paper, orientation, PREVIEW_DPI, page_lang, bool(inset), bool(labels))
                preview = (
                    None if fmt == "html" else page_bytes(store, version, preset, "png", preview_args, param_items)
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
            ["streets", "zones"],
            format_func=lambda v: t(f"export_{v}", lang),
            horizontal=True,
            key="pa_series_by",
        )
        make_series = st.form_submit_button(t("export_make_series", lang))
    if make_series:
        series_args = (paper, "landscape", min(int(dpi), 300), page_lang, False, bool(labels))
        try:
            with st.spinner("…"):
                data, count = series_bytes(store, version, preset, by, series_args, param_items)
        except PlanAtlasError as exc:
            st.error(t("export_error", lang) + error_text(exc))
            return
        st.download_button(
            f"{t('export_download', lang)} {preset}_{by}_{page_lang}.pdf ({count} {t('export_pages', lang)})",
            data=data,
            file_name=f"{preset}_{by}_{page_lang}.pdf",
            mime="application/pdf",
            key="pa_series_download",
        )
