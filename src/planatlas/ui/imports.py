"""The Import page: an editor uploads a file, previews and checks it, then adds it or replaces a layer.

Read-only ("imports are off") without an editor password; otherwise the password is asked once
per session, wrong ones refused and rate-limited. Every problem is listed by file, feature and
field before anything is written; the write itself is :func:`planatlas.imports.run.run_import`
(the whole atlas rebuilt atomically, the previous version kept for ``planatlas restore``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import tempfile
from html import escape as esc
from pathlib import Path

import folium
import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from planatlas.catalog import PRECISION_CLASSES
from planatlas.errors import PlanAtlasError, Problem
from planatlas.i18n import t
from planatlas.imports.editor import AttemptLimiter, check_editor_password, editor_configured
from planatlas.imports.overlay import Overlay
from planatlas.imports.prepare import ImportOptions, PreparedImport, prepare_import
from planatlas.imports.run import atlas_geodata_dir, existing_layers, layer_origins, plan_reader, run_import
from planatlas.render.leaflet import use_package_assets
from planatlas.settings import Settings
from planatlas.store.base import LayerStore
from planatlas.ui.atlas import asset_base_url
from planatlas.ui.widgets import plain_markdown

#: CRS choices offered (the first: what the file records).
CRS_CHOICES = ("", "EPSG:4490", "EPSG:4548", "EPSG:4326", "GCJ-02", "BD-09")
#: File types the uploader takes (a shapefile or File Geodatabase comes zipped).
UPLOAD_TYPES = ["zip", "gpkg", "geojson", "json", "csv", "kml"]
#: Features drawn in the preview map (the table shows the first rows).
PREVIEW_FEATURES = 2000
PREVIEW_ROWS = 200
#: Problems listed as a plain table; more go to a scrollable grid.
MAX_TABLE_ROWS = 50
_OK_KEY, _LIMIT_KEY, _PREPARED_KEY = "pa_editor_ok", "pa_editor_limiter", "pa_import_prepared"


def problem_table(problems: list[Problem], lang: str) -> pd.DataFrame:
    """Problems as a table: file, feature, field, message (pure)."""
    return pd.DataFrame(
        [
            {
                t("import_col_file", lang): p.file or "",
                t("import_col_feature", lang): p.feature or "",
                t("import_col_field", lang): p.field or "",
                t("import_col_problem", lang): p.message,
            }
            for p in problems
        ]
    )


def _show_problems(problems: list[Problem], lang: str) -> None:
    """The first problems as a plain table (readable, selectable), all of them in a scrollable grid beyond."""
    table = problem_table(problems, lang)
    st.table(table.head(MAX_TABLE_ROWS))
    if len(table) > MAX_TABLE_ROWS:
        st.dataframe(table.iloc[MAX_TABLE_ROWS:], use_container_width=True, hide_index=True)


def suggested_name(file_name: str) -> str:
    """A layer name from a file name (``现状建筑.gpkg`` gives ``imported``; ``Roads 2024.shp`` gives ``roads_2024``)."""
    stem = re.sub(r"[^a-z0-9_]+", "_", Path(file_name).stem.lower()).strip("_")
    return stem if stem and stem[0].isalpha() else "imported"


def _unlocked(settings: Settings, lang: str) -> bool:
    """Whether this session is an editor's; asks for the password (rate-limited) if not."""
    if st.session_state.get(_OK_KEY):
        return True
    limiter: AttemptLimiter = st.session_state.setdefault(_LIMIT_KEY, AttemptLimiter())
    with st.form("pa_editor_form"):
        password = st.text_input(t("import_password", lang), type="password", key="pa_editor_password")
        submitted = st.form_submit_button(t("import_unlock", lang))
    if not submitted:
        return False
    wait = limiter.wait_s()
    if wait > 0:
        st.error(t("import_locked_out", lang, seconds=int(wait) + 1))
        return False
    if not check_editor_password(settings.config_dir, password):
        limiter.failed()
        st.error(t("import_wrong_password", lang))
        return False
    st.session_state[_OK_KEY] = True
    st.success(t("import_unlocked", lang))
    return True


def _save_upload(upload: UploadedFile, folder: Path) -> Path:
    target = folder / Path(upload.name).name
    with target.open("wb") as fh:
        shutil.copyfileobj(upload, fh, length=1 << 20)
    return target


def _options_form(upload: UploadedFile, lang: str) -> tuple[ImportOptions, bool]:
    c1, c2 = st.columns(2)
    layer = c1.text_input(t("import_layer", lang), value=suggested_name(upload.name), key="pa_import_layer")
    crs = c1.selectbox(
        t("import_crs", lang),
        CRS_CHOICES,
        format_func=lambda c: t("import_crs_file", lang) if c == "" else c,
        key="pa_import_crs",
    )
    c1.caption(t("import_crs_help", lang))
    key = c1.text_input(t("import_key", lang), value="", placeholder=t("import_key_auto", lang), key="pa_import_key")
    title_zh = c2.text_input(t("import_title_zh", lang), value="", key="pa_import_title_zh")
    title_en = c2.text_input(t("import_title_en", lang), value="", key="pa_import_title_en")
    precision = c2.selectbox(t("import_precision", lang), PRECISION_CLASSES[:-1], key="pa_import_precision")
    style = c2.text_input(t("import_style", lang), value="", key="pa_import_style")
    replace = st.checkbox(t("import_replace", lang), key="pa_import_replace")
    options = ImportOptions(
        layer=layer.strip(),
        crs=crs or None,
        key=key.strip() or None,
        precision=precision,
        title_zh=title_zh.strip() or None,
        title_en=title_en.strip() or None,
        replace=replace,
        style_column=style.strip() or None,
        display_name=Path(upload.name).name,
    )
    return options, st.button(t("import_check", lang), type="secondary", key="pa_import_check")


def _preview(prepared: PreparedImport, store: LayerStore, lang: str) -> None:
    frame = prepared.frame
    if frame is None:
        return
    st.subheader(t("import_preview", lang))
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    if "districts" in store.layers():
        outline = store.read("districts")
        folium.GeoJson(
            outline[["geometry"]].to_json(),
            style_function=lambda _f: {"color": "#333333", "weight": 2, "fill": False},
        ).add_to(fmap)
    shown = frame.head(PREVIEW_FEATURES)
    folium.GeoJson(
        shown[["geometry"]].to_json(),
        name=esc(prepared.options.layer),
        style_function=lambda _f: {"color": "#d62728", "weight": 1.5, "fillOpacity": 0.5},
        marker=folium.CircleMarker(radius=4, color="#d62728", fill=True),
    ).add_to(fmap)
    minx, miny, maxx, maxy = frame.total_bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    use_package_assets(fmap, asset_base_url())  # Leaflet from the package, never a CDN
    from streamlit_folium import st_folium  # noqa: PLC0415 - declares a component on import: not at import time

    st_folium(fmap, key="pa_import_preview", height=420, use_container_width=True, returned_objects=[])
    table = pd.DataFrame(frame.drop(columns=["geometry"]).head(PREVIEW_ROWS))
    st.dataframe(table.rename(columns=prepared.columns), use_container_width=True, hide_index=True)


def _write(prepared: PreparedImport, store: LayerStore, settings: Settings, lang: str) -> None:
    bar = st.progress(0.0, text=t("import_progress", lang))

    def progress(message: str) -> None:
        match = re.match(r"\[(\d+)/(\d+)\]", message)
        done = int(match.group(1)) / int(match.group(2)) * 0.9 if match else 0.95 if "writing" in message else 0.05
        bar.progress(min(done, 1.0), text=message)

    overlay = Overlay(settings.user_geodata_dir)
    geodata = atlas_geodata_dir(store.metadata(), settings.geodata_dir)
    try:
        run_import(
            prepared,
            geodata_dir=geodata,
            store=store,
            overlay=overlay,
            imported_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            max_bytes=settings.max_import_bytes,
            progress=progress,
        )
    except PlanAtlasError as exc:
        bar.empty()
        st.error(t("import_failed", lang))
        problems = getattr(exc, "problems", None)
        if problems:
            _show_problems(problems, lang)
        else:
            st.write(plain_markdown(str(exc)))
        return
    bar.progress(1.0, text=t("import_done", lang, layer=prepared.options.layer))
    st.session_state.pop(_PREPARED_KEY, None)
    name = prepared.options.layer
    st.success(t("import_done", lang, layer=name))
    st.link_button(t("import_open", lang), f"./?page=atlas&layer={name}&lang={lang}")


def _check(
    upload: UploadedFile, options: ImportOptions, store: LayerStore, settings: Settings, lang: str
) -> PreparedImport:
    """Read and check the upload (saved to a temporary folder, removed after); nothing is written."""
    folder = Path(tempfile.mkdtemp(prefix="planatlas-upload-"))
    try:
        path = _save_upload(upload, folder)
        geodata = atlas_geodata_dir(store.metadata(), settings.geodata_dir)
        options = dataclasses.replace(
            options,
            max_bytes=settings.max_upload_bytes,
            max_archive_bytes=settings.max_archive_bytes,
            cap_settings=("PLANATLAS_MAX_UPLOAD_BYTES", "PLANATLAS_MAX_ARCHIVE_BYTES"),
        )
        status = st.empty()  # reading a large file reports how far it got

        def tell(message: str) -> None:
            status.caption(message)

        with st.spinner(t("import_check", lang)):
            prepared = prepare_import(
                path,
                options,
                existing=existing_layers(geodata, Overlay(settings.user_geodata_dir)),
                plan_frame=plan_reader(store),
                progress=tell,
            )
        status.empty()
        return prepared
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def render_page(store: LayerStore, settings: Settings, lang: str) -> None:
    """Draw the Import page."""
    st.header(t("import_title", lang))
    st.caption(t("import_intro", lang))
    origins = {n: o for n, o in layer_origins(store.metadata()).items() if o["origin"] != "bundled"}
    if origins:
        with st.expander(t("import_imported", lang)):
            st.dataframe(pd.DataFrame.from_dict(origins, orient="index"), use_container_width=True)
    if not editor_configured(settings.config_dir):
        st.info(t("import_off", lang))
        return
    if not _unlocked(settings, lang):
        return
    upload = st.file_uploader(t("import_upload", lang), type=UPLOAD_TYPES, key="pa_import_upload")
    if upload is None:
        st.session_state.pop(_PREPARED_KEY, None)
        return
    if upload.size > settings.max_upload_bytes:
        st.error(t("import_too_large", lang, size=upload.size, cap=settings.max_upload_bytes))
        return
    options, check = _options_form(upload, lang)
    if check:
        st.session_state[_PREPARED_KEY] = _check(upload, options, store, settings, lang)
    prepared: PreparedImport | None = st.session_state.get(_PREPARED_KEY)
    if prepared is None or prepared.options.display_name != Path(upload.name).name:
        return
    for note in prepared.notes:
        st.caption(note)
    if prepared.problems:
        st.error(t("import_problems", lang, n=len(prepared.problems)))
        _show_problems(prepared.problems, lang)
        return
    mode = t(f"import_mode_{prepared.mode}", lang)
    count = 0 if prepared.frame is None else len(prepared.frame)
    st.success(t("import_ok", lang, n=count, crs=prepared.crs or "?", mode=mode))
    _preview(prepared, store, lang)
    if st.button(t("import_apply", lang), type="primary", key="pa_import_apply"):
        _write(prepared, store, settings, lang)
