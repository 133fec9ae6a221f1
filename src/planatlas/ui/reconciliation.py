"""The plan-versus-map sections (Jiuwang; Xinjian systems and indicators), shown on the Atlas and the Data pages."""

from __future__ import annotations

import json

import streamlit as st

from planatlas.i18n import t
from planatlas.reconcile import reconcile_jiuwang_from_store
from planatlas.reconcile_xinjian import reconcile_xinjian_from_store
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


#: The reconciliation topics and indicator boxes shown beside each Xinjian systems preset.
XINJIAN_PRESET_TOPICS = {
    "xinjian-transport": (("交通 transport",), ()),
    "xinjian-spatial": (("空间格局 frameworks",), ("专栏2-1",)),
}


def xinjian_section(store: LayerStore, lang: str, preset_name: str | None = None) -> None:
    """Draw the Xinjian plan-versus-map table and the plan's indicator boxes.

    Parameters
    ----------
    store
        The atlas to read the ``xinjian_*`` layers from.
    lang
        The UI language.
    preset_name
        Show only what concerns this preset (:data:`XINJIAN_PRESET_TOPICS`); every row when None.
    """
    topics, boxes = XINJIAN_PRESET_TOPICS.get(preset_name or "", ((), ("专栏1-1", "专栏2-1")))
    try:
        result = reconcile_xinjian_from_store(store)
    except Exception as exc:  # noqa: BLE001 - shown as a warning naming the error; the section must not take the page down
        st.warning(t("reconcile_missing", lang, err=error_text(exc)))
        return
    table = result.table
    if topics:
        table = table.loc[table["topic"].isin(topics)]
    st.dataframe(table, hide_index=True, width="stretch")
    for note in result.notes:
        st.caption(plain_markdown(note))
    if boxes and "xinjian_indicators" in store.layers():
        indicators = store.read("xinjian_indicators")
        shown = indicators.loc[indicators["plan_table"].isin(boxes)].drop(columns=["geometry"], errors="ignore")
        st.markdown(f"**{t('xinjian_indicators', lang)}**")
        st.dataframe(shown, hide_index=True, width="stretch")
