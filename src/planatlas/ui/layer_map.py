"""The Atlas page's one-layer map: any layer (an imported one) over the district outlines, ``?layer=NAME``.

Chosen in the sidebar (every layer with geometry, so an import shows up at once) or opened directly
from the URL; coloured by a column the viewer picks. Streamlit calls over
:func:`planatlas.maps.layer_preset.layer_preset` and :func:`planatlas.render.interactive.build_map`.
"""

from __future__ import annotations

import streamlit as st

from planatlas.i18n import t
from planatlas.maps.layer_preset import OUTLINE_LAYER, layer_preset
from planatlas.maps.load import load_preset
from planatlas.render.interactive import build_map
from planatlas.store.base import LayerStore

#: Session keys: the chosen layer, and the colour column per layer.
LAYER_KEY = "pa_layer_map"
_NONE = ""


def drawable_layers(store: LayerStore) -> list[str]:
    """The atlas layers that have geometry, in build order."""
    layers = store.metadata().get("layers", {})
    return [name for name, meta in layers.items() if meta.get("geometry_type") not in (None, "None")]


def chosen_layer(store: LayerStore, lang: str) -> str | None:
    """The layer the sidebar (or ``?layer=NAME`` on the first run) asks for, or ``None`` for the thematic maps."""
    names = drawable_layers(store)
    if LAYER_KEY not in st.session_state:
        wanted = st.query_params.get("layer")
        st.session_state[LAYER_KEY] = wanted if wanted in names else _NONE
    elif st.session_state[LAYER_KEY] not in (_NONE, *names):
        st.session_state[LAYER_KEY] = _NONE
    titles = store.metadata().get("layers", {})
    with st.sidebar:
        chosen = st.selectbox(
            t("import_layer_map", lang),
            [_NONE, *names],
            key=LAYER_KEY,
            format_func=lambda n: (
                t("import_layer_map_none", lang)
                if n == _NONE
                else f"{(titles.get(n, {}).get('title') or {}).get(lang) or n} ({n})"
            ),
        )
    return str(chosen) if chosen else None


def render_layer_map(store: LayerStore, lang: str, name: str, *, height: int, asset_base_url: str | None) -> None:
    """Draw the one-layer map of ``name`` and keep ``?page=atlas&layer=NAME`` in the URL.

    ``height`` is the map's in pixels; ``asset_base_url`` where the app serves Leaflet (never a CDN).
    """
    from streamlit_folium import st_folium  # noqa: PLC0415 - declares a component on import: not at import time

    spec = store.spec(name)
    columns = [f for f in spec.fields if f not in ("source_lines",)]
    declared = spec.style.get("column")
    with st.sidebar:
        column = st.selectbox(
            t("import_layer_map_column", lang),
            [_NONE, *columns],
            index=([_NONE, *columns].index(declared) if declared in columns else 0),
            key=f"pa_layer_map_column_{name}",
            format_func=lambda c: t("import_style_none", lang) if c == _NONE else _field_title(spec.fields, c, lang),
        )
    preset = layer_preset(spec, column=column or None, outlines=OUTLINE_LAYER in store.layers())
    data = load_preset(store, preset)
    fmap = build_map(data, lang=lang, basemap="none", report_layers=False, asset_base_url=asset_base_url)
    st.subheader(spec.title_in(lang))
    st_folium(fmap, key=f"pa_layer_map_{name}", height=height, use_container_width=True, returned_objects=[])
    wanted = {"page": "atlas", "layer": name, "lang": lang}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def _field_title(fields: object, column: str, lang: str) -> str:
    spec = getattr(fields, "get", lambda _c: None)(column)
    title = getattr(spec, "title", {}) or {}
    text = title.get(lang) or title.get("zh")
    return f"{text} ({column})" if text and text != column else column
