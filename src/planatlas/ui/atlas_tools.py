"""The Atlas page's tools: export the view in one click, and ask the Query page about a clicked area.

Streamlit calls only. The export is :func:`planatlas.view_export.view_bytes` (extent, visible layers,
basemap and language as on screen), generated when the download button is clicked. Asking about a
clicked street, zone or district switches to the Query page with that feature as the reference.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import streamlit as st

from planatlas.errors import PlanAtlasError
from planatlas.i18n import t
from planatlas.query import parse_distance
from planatlas.query.readable import format_distance
from planatlas.render.page import PageSpec
from planatlas.ui.query_state import of_state_key
from planatlas.view_export import LonLatBounds, ViewState, view_bytes

if TYPE_CHECKING:
    from planatlas.store.base import LayerStore

#: Layers whose clicked features can be asked about ("what is inside / within D of this").
AREA_LAYERS = ("streets", "zones", "districts", "jiuwang_areas", "clusters")
#: What is asked about by default, and the distance of "within D of this".
ASK_LAYER = "buildings"
ASK_DISTANCE = "1km"
_MIME = {"png": "image/png", "pdf": "application/pdf"}


def view_bounds(reported: Mapping[str, Any] | None) -> LonLatBounds | None:
    """``(west, south, east, north)`` from streamlit-folium's ``bounds``, or None when absent or odd."""
    if not isinstance(reported, Mapping):
        return None
    try:
        sw, ne = reported["_southWest"], reported["_northEast"]
        west, south, east, north = float(sw["lng"]), float(sw["lat"]), float(ne["lng"]), float(ne["lat"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (west < east and south < north):
        return None
    return west, south, east, north


def render_view_export(
    store: LayerStore,
    *,
    preset: str,
    params: Mapping[str, Any],
    visible: Sequence[str],
    bounds: LonLatBounds | None,
    basemap: str,
    lang: str,
) -> None:
    """One download button per format: the page is drawn when it is clicked."""
    view = ViewState(preset, params=params, visible=visible, bounds=bounds, basemap=basemap)
    landscape = bounds is not None and (bounds[2] - bounds[0]) * 0.88 > (bounds[3] - bounds[1])
    page = PageSpec(lang=lang, orientation="landscape" if landscape else "portrait", dpi=200)
    st.markdown(f"**{t('view_export', lang)}**")
    st.caption(t("view_export_hint", lang))
    for col, fmt in zip(st.columns(2), ("pdf", "png"), strict=True):
        with col:
            st.download_button(
                t("view_export_download", lang, fmt=fmt.upper()),
                data=functools.partial(view_bytes, store, view, fmt=fmt, page=page),
                file_name=f"{preset}_{lang}.{fmt}",
                mime=_MIME[fmt],
                key=f"pa_view_{fmt}",
                on_click="ignore",
            )


def _ask(layer: str, key: str, value: str, kind: str, lang: str) -> None:
    """Button callback: the Query page, asking ``kind`` about one feature of ``layer``."""
    st.session_state["pa_page"] = "query"
    st.session_state[f"pa_page__{lang}"] = "query"  # the sidebar's page choice moves too (stable_choice)
    st.session_state["pq_seeded"] = True  # the question comes from here, not from the URL
    st.session_state["pq_ref"] = "features"
    st.session_state["pq_kind"] = kind
    st.session_state[of_state_key(kind)] = layer
    st.session_state["pq_field"] = key
    st.session_state["pq_values"] = [value]
    st.session_state.setdefault("pq_layer", ASK_LAYER)
    if kind == "within":
        st.session_state["pq_distance"] = ASK_DISTANCE


def render_ask_buttons(store: LayerStore, layer: str, key_value: str, lang: str) -> None:
    """ "Buildings inside it" / "within 1 km of it" for a clicked street, zone or district."""
    if layer not in AREA_LAYERS:
        return
    key = store.spec(layer).key
    field, value = key, key_value
    if "name" in store.spec(layer).fields:  # the Query page then shows the name a planner knows
        names = store.read(layer, where={key: key_value}, columns=["name"])["name"]
        if len(names) == 1 and isinstance(names.iloc[0], str) and names.iloc[0].strip():
            field, value = "name", names.iloc[0]
    target = st.session_state.get("pq_layer", ASK_LAYER)
    try:
        target_title = store.spec(target).title_in(lang)
    except PlanAtlasError:  # a layer missing from this atlas: name it by its id
        target_title = str(target)
    st.markdown(f"**{t('ask_this', lang)}**")
    st.button(
        t("ask_inside", lang, layer=target_title),
        key="pa_ask_inside",
        on_click=_ask,
        args=(layer, field, value, "inside", lang),
    )
    st.button(
        t("ask_within", lang, layer=target_title, d=format_distance(parse_distance(ASK_DISTANCE), lang)),
        key="pa_ask_within",
        on_click=_ask,
        args=(layer, field, value, "within", lang),
    )
