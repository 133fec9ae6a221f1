"""planatlas Streamlit app: a thin shell choosing a page and calling its ``render_page``.

Run with ``streamlit run app.py``. Settings come from ``PLANATLAS_*`` environment variables, read
once and passed in; an atlas is built on first start from ``geodata_dir`` (the bundled data by default),
and afterwards follows only the directory it was built from (``planatlas.build.ensure_atlas``).
A missing or damaged atlas shows one message with a rebuild button (:mod:`planatlas.ui.health`).
The pages are registered in ``planatlas.ui.PAGES``.
"""

from __future__ import annotations

import gc
import sys

import streamlit as st

from planatlas.build import build_atlas, ensure_atlas
from planatlas.i18n import LANG_NAMES, LANGS, check_lang, t
from planatlas.imports.overlay import Overlay
from planatlas.settings import Settings, get_settings
from planatlas.store import open_store
from planatlas.store.base import LayerStore
from planatlas.ui import PAGES, page_renderer
from planatlas.ui.health import ATLAS_UNAVAILABLE, check_atlas, render_unavailable
from planatlas.ui.widgets import stable_choice


@st.cache_resource(show_spinner=False)
def _read_settings() -> Settings:
    """The ``PLANATLAS_*`` settings, read once per server process."""
    return get_settings()


@st.cache_resource(show_spinner=False)
def _atlas(_settings: Settings, location: str) -> LayerStore:
    """The atlas the settings point at, built when absent, rebuilt when its own source changed; cached per ``location``."""
    return ensure_atlas(_settings)


def _rebuild(settings: Settings) -> None:
    """Build the atlas from the configured geodata directory and the user overlay (imports) into the configured store."""
    overlay = Overlay(settings.user_geodata_dir)
    build_atlas(
        settings.geodata_dir,
        open_store(settings),
        overlay=overlay if overlay.root.is_dir() else None,
        max_bytes=settings.max_import_bytes,
    )


@st.cache_resource(show_spinner=False)
def _modules_when_frozen() -> list[int]:
    """How many modules were loaded when the heap was last frozen (one number, updated in place)."""
    return [0]


def _freeze_loaded_heap() -> None:
    """Take the loaded libraries and caches out of the cyclic collector's scans whenever more were imported.

    Streamlit runs a full ``gc.collect(2)`` after every script run (``runner.postScriptGC``). With
    geopandas, folium and the atlas caches loaded that scans some 130,000 long-lived objects, and
    the classified maps import another 1,100 modules (mapclassify's scikit-learn and SciPy), as
    many objects again: the collection cost about as much CPU as the page itself
    (``bench/bench_load.py``). Frozen, they are left alone; what each run creates is still
    collected after it. The module count is the cheap signal: library imports are what fill the
    heap (the layer caches are mostly arrays), and it changes a few times in a server's life.
    Whatever other sessions' runs hold at that moment is frozen too: a one-off, bounded cost.
    """
    frozen = _modules_when_frozen()
    if len(sys.modules) != frozen[0]:
        gc.collect()
        gc.freeze()
        frozen[0] = len(sys.modules)


def main(settings: Settings) -> None:
    """Draw the sidebar (language, page) and the chosen page."""
    st.set_page_config(page_title="planatlas", page_icon="🗺️", layout="wide")
    if "pa_lang" not in st.session_state:
        st.session_state["pa_lang"] = check_lang(st.query_params.get("lang") or settings.language)
    if "pa_page" not in st.session_state:
        page = st.query_params.get("page")
        st.session_state["pa_page"] = page if page in PAGES else next(iter(PAGES))

    with st.sidebar:
        lang = st.radio("语言 Language", LANGS, key="pa_lang", format_func=LANG_NAMES.get, horizontal=True)
        st.title(t("app_title", lang))
        st.caption(t("app_caption", lang))
        page = stable_choice(
            st.radio,
            t("page", lang),
            PAGES,
            state_key="pa_page",
            lang=lang,
            format_func=lambda p: t(f"page_{p}", lang),
        )

    if page != "atlas":  # a page's own parameters (the Query page's question) stay while it is shown
        kept = st.query_params.to_dict() if st.query_params.get("page") == page else {}
        st.query_params.from_dict({**kept, "page": page, "lang": lang})
    try:
        with st.spinner(t("building_atlas", lang)):
            store = _atlas(settings, f"{settings.atlas_path}{settings.database_url}")
        check_atlas(store)  # every run: a deleted or damaged atlas must not stay cached
        page_renderer(page)(store, settings, lang)
    except ATLAS_UNAVAILABLE as exc:
        _atlas.clear()  # the next run opens the atlas afresh: rebuilt or restored, it is picked up
        render_unavailable(exc, settings, lang, rebuild=_rebuild)
    _freeze_loaded_heap()


main(_read_settings())
