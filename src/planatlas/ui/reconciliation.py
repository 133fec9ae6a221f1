"""The Jiuwang plan-versus-map section, shown on the Atlas and the Data pages."""

from __future__ import annotations

import json

import streamlit as st

from planatlas.i18n import t
from planatlas.reconcile import reconcile_jiuwang_from_store
from planatlas.store.base import LayerStore
from planatlas.ui.widgets import error_text, plain_markdown


def reconciliation_section(store: LayerStore, lang: str) -> None:
    """Draw the Jiuwang plan-versus-map table (:mod:`planatlas.reconcile`) with its notes.

    Parameters
    ----------
    store
        The atlas to read ``jiuwang_roads`` (and the optional project and area layers) from.
    lang
        The UI language.
    """
    try:
        result = reconcile_jiuwang_from_store(store)
    except Exception as exc:  # noqa: BLE001 - shown as a warning naming the error; the section must not take the page down
        st.warning(t("reconcile_missing", lang, err=error_text(exc)))
        return
    st.dataframe(result.table, hide_index=True, width="stretch")
    if result.notes:
        st.markdown(f"**{t('reconcile_notes', lang)}**")
        for note in result.notes:
            st.markdown(f"- {plain_markdown(note)}")
    if result.boundary:
        st.caption(plain_markdown(json.dumps(result.boundary, ensure_ascii=False, default=str)))
    if result.project_checks is not None and len(result.project_checks):
        st.dataframe(result.project_checks, hide_index=True, width="stretch")
