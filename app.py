"""planatlas Streamlit app: a thin shell choosing a page and calling ``planatlas.ui.<page>``.

Run with ``streamlit run app.py``. The bundled atlas is built on first start
(``planatlas.build.ensure_atlas``); settings come from ``PLANATLAS_*`` environment variables.
"""

from __future__ import annotations

import streamlit as st

from planatlas.i18n import LANG_NAMES, LANGS, check_lang, t
from planatlas.ui import PAGES, page_module, stable_choice

st.set_page_config(page_title="planatlas", page_icon="🗺️", layout="wide")


@st.cache_resource(show_spinner=False)
def _settings():
    from planatlas.settings import get_settings

    return get_settings()


@st.cache_resource(show_spinner=False)
def _store(_settings_key: str):
    from planatlas.build import ensure_atlas

    return ensure_atlas(_settings())


settings = _settings()
if "pa_lang" not in st.session_state:
    st.session_state["pa_lang"] = check_lang(st.query_params.get("lang") or settings.language)
if "pa_page" not in st.session_state:
    page = st.query_params.get("page")
    st.session_state["pa_page"] = page if page in PAGES else PAGES[0]

with st.sidebar:
    lang = st.radio("语言 Language", LANGS, key="pa_lang", format_func=LANG_NAMES.get, horizontal=True)
    st.title(t("app_title", lang))
    st.caption(t("app_caption", lang))
    page = stable_choice(
        st.radio, t("page", lang), PAGES, state_key="pa_page", lang=lang, format_func=lambda p: t(f"page_{p}", lang)
    )

with st.spinner(t("building_atlas", lang)):
    store = _store(str(settings.atlas_path) + str(settings.database_url))

if page != "atlas":
    st.query_params.from_dict({"page": page, "lang": lang})
module = page_module(page)
if module is None:
    st.header(t(f"page_{page}", lang))
    st.info(t("placeholder", lang))
else:
    module.render_page(store, settings, lang)
