"""The place search box of the Query page: a name or alias → zoom there, and ask around it.

Streamlit calls only; the search is :func:`planatlas.query.places.search_places` over
:func:`planatlas.query.places.place_index` (the gazetteer layer ``places`` when the atlas has it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from planatlas.errors import PlanAtlasError
from planatlas.i18n import t
from planatlas.query.places import GAZETTEER_LAYER, Place, is_located, nearest_place, place_index, search_places
from planatlas.query.readable import reference_name
from planatlas.query.reference import format_at
from planatlas.ui.widgets import plain_markdown

if TYPE_CHECKING:
    from planatlas.store.base import LayerStore

#: How many matches the search lists (type more of the name to narrow it).
SEARCH_LIMIT = 12
#: A clicked point is named after a place at most this far away (metres): "a point near 八一广场".
NEAR_PLACE_M = 150.0


@st.cache_resource(show_spinner=False, max_entries=4)
def _places(_store: LayerStore, cache_key: str) -> list[Place]:
    """Every named place of the atlas, cached per atlas content."""
    return place_index(_store)


def _layer_title(store: LayerStore, layer: str, lang: str) -> str:
    try:
        return store.spec(layer).title_in(lang)
    except PlanAtlasError:
        return layer


def point_label(store: LayerStore, at: str, lang: str) -> str:
    """How a question names its point: the searched place, "a point near <place>", or its coordinates."""
    chosen = st.session_state.get("pq_at_place")
    if chosen:
        layer, name = chosen
        return reference_name(layer, [name], lang)
    lon, lat = (float(v) for v in at.split(","))
    near = nearest_place(_places(store, store.cache_key()), lon, lat, within_m=NEAR_PLACE_M)
    if near is not None:
        return t("query_at_near", lang, place=reference_name(near.layer, [near.name], lang))
    return t("query_at_point", lang, at=f"{lon:.4f}, {lat:.4f}")


def _use_place(place: Place) -> None:
    """Button callback: the place becomes the point the question is asked around."""
    if place.lon is None or place.lat is None:
        return
    from shapely.geometry import Point  # noqa: PLC0415 - shapely is loaded already; kept local to the callback

    st.session_state["pq_at"] = format_at(Point(place.lon, place.lat))
    st.session_state["pq_at_place"] = (place.layer, place.name)
    st.session_state["pq_ref"] = "point"
    if st.session_state.get("pq_kind") not in ("within", "nearest"):
        st.session_state["pq_kind"] = "within"


def render_place_search(store: LayerStore, lang: str) -> tuple[float, float, str] | None:
    """The search box and its matches; returns ``(lon, lat, name)`` of the chosen place to zoom to."""
    places = _places(store, store.cache_key())
    gazetteer = any(p.layer == GAZETTEER_LAYER for p in places)
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    with c1:
        text = st.text_input(
            t("query_search", lang),
            key="pq_search",
            placeholder=t("query_search_placeholder", lang),
            help=t(
                "query_search_source",
                lang,
                source=t("query_search_gazetteer" if gazetteer else "query_search_points", lang),
            ),
        )
    if not text.strip():
        return None
    found = search_places(places, text, limit=SEARCH_LIMIT)
    if not found:
        with c2:
            st.caption(t("query_search_none", lang, text=plain_markdown(text)))
        return None
    with c2:
        index = st.selectbox(
            t("query_search_pick", lang),
            range(len(found)),
            key=f"pq_search_pick_{lang}",
            format_func=lambda i: found[i].label(_layer_title(store, found[i].layer, lang)),
        )
    place = found[index or 0]
    if not is_located(place):
        with c3:
            st.caption(t("query_search_unlocated", lang))
        return None
    with c3:
        st.button(t("query_search_use", lang), key="pq_search_use", on_click=_use_place, args=(place,))
    assert place.lon is not None and place.lat is not None  # is_located
    return place.lon, place.lat, place.name
