"""The Atlas page: preset maps with layer choice, basemaps, permalink and a plan-details side panel.

Streamlit calls only; the maps, styles and data come from :mod:`planatlas.maps` and
:mod:`planatlas.render.interactive`. The preset's data (:func:`planatlas.maps.load.load_preset`)
and its prepared layers are cached per ``store.cache_key()``; the map is rebuilt on each run (streamlit-folium renames the
elements of the map it is given, so a map object cannot be reused) but its element ids are stable,
so identical inputs give an identical script and reruns caused by panning or clicking do not
remount the map (no flicker); only ``last_active_drawing``, ``center`` and ``zoom`` come back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import Any

import folium
import numpy as np
import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from planatlas.catalog import PROVENANCE_FIELDS
from planatlas.i18n import t
from planatlas.maps import PRESETS, get_preset, prepare_preset_data
from planatlas.maps.frames import PreparedLayer
from planatlas.maps.load import PresetData, load_preset
from planatlas.maps.presets import Preset, field_title, value_label
from planatlas.maps.style import Scalar, text_in
from planatlas.plans import plan_title, position_text
from planatlas.provenance import cited_text
from planatlas.render.assets import STATIC_DIR
from planatlas.render.basemaps import BASEMAPS
from planatlas.render.interactive import TiledSource, View, build_map
from planatlas.settings import Settings
from planatlas.store.base import LayerStore
from planatlas.ui.atlas_tools import render_ask_buttons, render_view_export, view_bounds
from planatlas.ui.layer_map import chosen_layer, render_layer_map
from planatlas.ui.reconciliation import XINJIAN_PRESET_TOPICS, reconciliation_section, xinjian_section
from planatlas.ui.tiled_layer import render_layer_page, tiled_sources
from planatlas.ui.widgets import html_text, plain_markdown, stable_choice

MAP_KEY = "pa_map"
#: Preset parameter values as a sorted tuple of pairs (hashable, for the caches).
ParamItems = tuple[tuple[str, Scalar], ...]
DEFAULT_PRESET = "one-belt-four-zones"
MAP_HEIGHT = 700


@cache
def asset_base_url() -> str:
    """URL of ``planatlas/static`` relative to the map's iframe (``/component/<name>/index.html``).

    Streamlit serves a declared component's directory: that is how the vendored Leaflet and the
    map CSS reach the browser from the installed package (cached, not resent on every rerun).
    The component is declared on the first map drawn, not at import.
    """
    assets = components.declare_component("assets", path=str(STATIC_DIR))
    return f"../{assets.name}"


# ---- permalink ---------------------------------------------------------------------------------
def parse_view(text: str | None) -> View | None:
    """``"lat,lon,zoom"`` from the URL, or None when absent or malformed (URLs are untrusted)."""
    if not text:
        return None
    try:
        lat_s, lon_s, zoom_s = text.split(",")
        lat, lon, zoom = float(lat_s), float(lon_s), round(float(zoom_s) * 4) / 4
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 <= zoom <= 22):
        return None
    return View(round(lat, 6), round(lon, 6), zoom)


def format_view(view: View) -> str:
    return f"{view.lat:.5f},{view.lon:.5f},{view.zoom:g}"


def _init_from_url(key: str, param: str, allowed: list[str] | None = None, *, default: str | None = None) -> None:
    """Seed a widget's session state from the URL once (first run of the session)."""
    if key in st.session_state:
        return
    value = st.query_params.get(param)
    if value is not None and (allowed is None or value in allowed):
        st.session_state[key] = value
    elif default is not None:
        st.session_state[key] = default


# ---- data --------------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=12)
def _preset_data(_store: LayerStore, cache_key: str, preset_name: str) -> PresetData:
    """A preset's data with default parameters, cached per atlas content (``store.cache_key()``)."""
    return load_preset(_store, preset_name)


@st.cache_resource(show_spinner=False, max_entries=24)
def _prepared(_store: LayerStore, cache_key: str, preset_name: str, params: ParamItems) -> list[PreparedLayer]:
    """A preset's layers prepared for drawing (filtered, styled, simplified), cached per atlas content and
    parameters: a page view reruns the script 3-4 times (map value, view reports), each needs them."""
    data = _preset_data(_store, cache_key, preset_name)
    return prepare_preset_data(replace(data, params=data.preset.params_with_defaults(dict(params))))


def _map(
    store: LayerStore,
    preset_name: str,
    lang: str,
    params: ParamItems,
    basemap: str,
    visible: tuple[str, ...],
    view: View | None,
    tianditu_key: str | None,
    tiled: Mapping[str, TiledSource] | None = None,
) -> folium.Map:
    key = store.cache_key()
    data = _preset_data(store, key, preset_name)
    data = replace(data, params=data.preset.params_with_defaults(dict(params)))
    return build_map(
        data,
        tiled=tiled,
        prepared=_prepared(store, key, preset_name, params),
        lang=lang,
        basemap=basemap,
        tianditu_key=tianditu_key,
        visible=set(visible),
        view=view,
        report_layers=True,
        asset_base_url=asset_base_url(),
    )


# ---- details panel -----------------------------------------------------------------------------
def feature_details(store: LayerStore, layer: str, key_value: str, lang: str) -> list[tuple[str, str]] | None:
    """(title, value) rows of one feature's plan attributes and provenance, or None if absent."""
    spec = store.spec(layer)
    rows = store.read(layer, where={spec.key: str(key_value)})  # the store binds the value
    if rows.empty:
        return None
    row = rows.iloc[0]
    titles = {f: dict(fs.title) for f, fs in spec.fields.items() if fs.title}
    out: list[tuple[str, str]] = []
    columns = [c for c in rows.columns if c != "geometry" and c not in PROVENANCE_FIELDS]
    for col in [*columns, *[c for c in PROVENANCE_FIELDS if c in rows.columns]]:
        value = row[col]
        if col == "uncertainty_m" or value is None or (isinstance(value, float) and pd.isna(value)):
            continue  # the uncertainty is stated with the precision
        if str(value).strip() == "":
            continue
        if col == "precision":
            value = position_text({str(k): v for k, v in row.items()}, lang) or str(value)
        elif col == "source_file":
            value = plan_title(value, lang)
        if isinstance(value, bool | np.bool_):
            value = t("yes" if value else "no", lang)
        elif col not in ("precision", "source_file"):
            value = value_label(col, value, lang)
        out.append((field_title(col, lang, titles), str(value)))
    return out


_DETAILS_CSS = """<style>
.pa-details table { width: 100%; border-collapse: collapse; font-size: 0.85rem; table-layout: fixed; }
.pa-details th { width: 38%; text-align: left; vertical-align: top; color: #555; font-weight: 500;
  padding: 3px 6px 3px 0; border-bottom: 1px solid #eee; }
.pa-details td { vertical-align: top; padding: 3px 0; border-bottom: 1px solid #eee;
  overflow-wrap: anywhere; }
</style>"""


def _details_panel(store: LayerStore, clicked: Mapping[str, Any] | None, lang: str) -> None:
    st.markdown(_DETAILS_CSS, unsafe_allow_html=True)  # constant CSS, no data
    st.subheader(t("details", lang))
    props = (clicked or {}).get("properties") or {}
    layer_id, key_value = props.get("_l"), props.get("_id")
    preset = get_preset(st.session_state["pa_preset"])
    layer_ids = {pl.id: pl for pl in preset.layers}
    if not layer_id or key_value is None or layer_id not in layer_ids:
        st.info(t("details_hint", lang))
        return
    pl = layer_ids[layer_id]
    rows = feature_details(store, pl.layer, str(key_value), lang)
    if rows is None:
        st.warning(t("details_missing", lang))
        return
    st.caption(f"{t('layer', lang)}: {plain_markdown(pl.title_in(lang))}")
    body = "".join(f"<tr><th>{html_text(k)}</th><td>{html_text(v)}</td></tr>" for k, v in rows)
    st.markdown(
        f'<div class="pa-details"><table>{body}</table></div>',
        unsafe_allow_html=True,  # every value above is escaped
    )
    quote = plan_quote(store, pl.layer, str(key_value))
    if quote:
        st.markdown(f"**{t('plan_text', lang)}**")
        st.text(quote)  # plain text: nothing in the plan is interpreted
    render_ask_buttons(store, pl.layer, str(key_value), lang)


def plan_quote(store: LayerStore, layer: str, key_value: str) -> str:
    """The plan lines a feature cites (``source_file`` + ``source_lines``), from the bundled seeds."""

    spec = store.spec(layer)
    rows = store.read(layer, where={spec.key: key_value}, columns=["source_file", "source_lines"])
    geodata_dir = store.metadata().get("geodata_dir")
    if rows.empty or not geodata_dir:
        return ""
    try:
        return cited_text(
            geodata_dir, str(rows["source_file"].iloc[0]), str(rows["source_lines"].iloc[0]), max_chars=800
        )
    except ValueError:
        return ""


# ---- page --------------------------------------------------------------------------------------
def _render_single_layer(store: LayerStore, settings: Settings, lang: str) -> bool:
    """Draw the one-layer map when the sidebar or ``?layer=NAME`` asks for one; say whether it did."""
    wanted = st.query_params.get("layer")
    if wanted and wanted not in store.layers():  # a link to a layer this atlas lacks (not yet imported)
        st.error(plain_markdown(t("tiled_unknown_layer", lang, layer=str(wanted))))
        return True
    layer = chosen_layer(store, lang)  # one layer (e.g. an imported one) instead of a thematic map
    if layer is None:
        return False
    count = int(store.metadata().get("layers", {}).get(layer, {}).get("count") or 0)
    if count > settings.tiled_above:  # large: from vector tiles
        render_layer_page(store, settings, lang, layer)
    else:
        render_layer_map(store, lang, layer, height=MAP_HEIGHT, asset_base_url=asset_base_url())
    return True


def render_page(store: LayerStore, settings: Settings, lang: str) -> None:
    """Draw the Atlas page (sidebar controls, the map, the details panel)."""
    # streamlit_folium declares its component when imported: only when a page is drawn (nothing at import)
    from streamlit_folium import st_folium  # noqa: PLC0415 - declares a component on import: not at import time

    if _render_single_layer(store, settings, lang):
        return
    names = list(PRESETS)
    _init_from_url("pa_preset", "preset", names, default=DEFAULT_PRESET)
    _init_from_url("pa_basemap", "basemap", list(BASEMAPS), default="none")
    with st.sidebar:
        preset_name = stable_choice(
            st.selectbox,
            t("preset", lang),
            names,
            state_key="pa_preset",
            lang=lang,
            format_func=lambda n: get_preset(n).title_in(lang),
        )
        preset = get_preset(preset_name)
        params: dict[str, Any] = {}
        for p in preset.parameters:
            key = f"pa_param_{preset.name}_{p.name}"
            values = [str(c.value) for c in p.choices]
            _init_from_url(key, p.name, values, default=str(p.default))
            chosen = stable_choice(
                st.radio,
                text_in(p.title, lang),
                values,
                state_key=key,
                lang=lang,
                format_func=lambda v, p=p: p.choice(v).label_in(lang),
                horizontal=True,
            )
            params[p.name] = p.choice(chosen).value
        basemap = stable_choice(
            st.selectbox,
            t("basemap", lang),
            list(BASEMAPS),
            state_key="pa_basemap",
            lang=lang,
            format_func=lambda b: text_in(BASEMAPS[b].title, lang),
        )
        if basemap != "none":
            st.caption(t("basemap_online", lang))
        if basemap == "amap":
            st.caption(t("amap_shift", lang))
    if basemap == "tianditu" and not settings.tianditu_key:
        st.warning(t("tianditu_no_key", lang))
        basemap = "none"

    visible0, view0 = _initial_state(preset, lang, params, basemap)
    left, right = st.columns([4, 1], gap="medium")
    with left:
        try:
            fmap = _map(
                store,
                preset.name,
                lang,
                tuple(sorted(params.items())),
                basemap,
                visible0,
                view0,
                settings.tianditu_key,
                tiled_sources(store, settings, {pl.layer for pl in preset.layers}),
            )
        except ValueError as exc:  # e.g. too many features for one browser map: say why
            st.error(plain_markdown(exc))
            return
        result = st_folium(
            fmap,
            key=MAP_KEY,
            height=MAP_HEIGHT,
            use_container_width=True,
            returned_objects=["last_active_drawing", "center", "zoom", "selected_layers", "bounds"],
            render=False,  # st_folium renders the map itself; its extra whole-page render was a third of its cost
        )
        frames = _preset_data(store, store.cache_key(), preset.name).frames
        if any("precision" in f and (f["precision"] == "schematic").any() for f in frames.values()):
            st.caption(t("schematic_warning", lang))
        if preset.name == "jiuwang-roads":
            with st.expander(t("reconcile", lang), expanded=False):
                reconciliation_section(store, lang)
        if preset.name in XINJIAN_PRESET_TOPICS:
            with st.expander(t("reconcile_xinjian", lang), expanded=False):
                xinjian_section(store, lang, preset.name)
    result = result or {}
    clicked = result.get("last_active_drawing")
    layer_ids = [pl.id for pl in preset.layers]
    reported = result.get("selected_layers")
    if isinstance(reported, dict):  # streamlit-folium sends a list; accept its dict form too
        reported = list(reported.values())
    if isinstance(reported, list) and result.get("selected_layers") is not None:
        switched_on = {str(v.get("name")) for v in reported if isinstance(v, dict)}
        visible = [i for i in layer_ids if i in switched_on]
    else:
        visible = list(visible0)
    center, zoom = result.get("center"), result.get("zoom")
    view = View(float(center["lat"]), float(center["lng"]), float(zoom)) if center and zoom is not None else view0
    st.session_state["pa_visible_now"] = (preset.name, visible)
    st.session_state["pa_view_now"] = (preset.name, view)
    with right:
        _details_panel(store, clicked, lang)
    with left:
        render_view_export(
            store,
            preset=preset.name,
            params=params,
            visible=visible,
            bounds=view_bounds(result.get("bounds")),
            basemap=basemap,
            lang=lang,
        )

    query: dict[str, str] = {"preset": preset.name, "lang": lang, "layers": ",".join(visible)}
    query.update({k: str(v) for k, v in params.items()})
    if basemap != "none":
        query["basemap"] = basemap
    if view is not None:
        query["view"] = format_view(view)
    _sync_query(query)


def _initial_state(
    preset: Preset, lang: str, params: Mapping[str, Any], basemap: str
) -> tuple[tuple[str, ...], View | None]:
    """Visible layers and view the map is built with, fixed per map configuration.

    Toggling layers in the map's layer control and panning only report back (for the permalink);
    they never rebuild the map, which would remount it. A new configuration (preset, language,
    parameters, basemap) starts from the URL on a session's first run, from the current state when
    only the language, parameters or basemap changed, and from the preset's defaults otherwise.
    """
    config = (preset.name, lang, tuple(sorted(params.items())), basemap)
    if st.session_state.get("pa_map_config") == config:
        return st.session_state["pa_visible0"], st.session_state["pa_view0"]
    layer_ids = [pl.id for pl in preset.layers]
    defaults = tuple(pl.id for pl in preset.layers if pl.show)
    visible: tuple[str, ...] = defaults
    view: View | None = None
    if "pa_map_config" not in st.session_state:  # first run of the session: the permalink
        if st.query_params.get("preset", preset.name) == preset.name:
            wanted = st.query_params.get("layers")
            if wanted is not None:
                visible = tuple(i for i in layer_ids if i in wanted.split(","))
            view = parse_view(st.query_params.get("view"))
    else:
        now_preset, now_visible = st.session_state.get("pa_visible_now", (None, ()))
        if now_preset == preset.name:
            visible = tuple(now_visible)
            view = st.session_state.get("pa_view_now", (None, None))[1]
    st.session_state["pa_map_config"] = config
    st.session_state["pa_visible0"] = visible
    st.session_state["pa_view0"] = view
    return visible, view


def _sync_query(values: Mapping[str, str]) -> None:
    """Write the atlas state to the URL, keeping other pages' parameters (``page``)."""
    keep = {k: v for k, v in st.query_params.to_dict().items() if k == "page"}
    wanted = {**keep, **values}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
