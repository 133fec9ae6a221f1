"""The Atlas page for one large layer (``?page=atlas&layer=NAME`` above ``tiled_above``): drawn from vector tiles.

Layers above ``tiled_above`` features are drawn by the browser from the app process's tile server
(:class:`planatlas.tiles.server.TileServer`, one per process, started on first use); smaller ones
go into the page as GeoJSON like the preset maps. No basemap, no CDN: it draws offline.
"""

from __future__ import annotations

import html
from collections.abc import Collection

import folium
import numpy as np
import shapely
import streamlit as st
import streamlit.components.v1 as components

from planatlas.i18n import t
from planatlas.render.interactive import TiledSource
from planatlas.render.leaflet import MapClass, stable_ids, use_package_assets
from planatlas.render.tiled import build_tiled_map
from planatlas.settings import Settings
from planatlas.store.base import LayerStore
from planatlas.tiles.server import TileServer
from planatlas.ui.widgets import plain_markdown

MAP_HEIGHT = 700


@st.cache_resource(show_spinner=False)
def _tile_server(_store: LayerStore, store_repr: str, host: str, port: int) -> TileServer:
    """One tile server per app process and atlas location (a rebuild changes the tile URLs, not the server)."""
    return TileServer(_store, host=host, port=port).start()


def tiled_sources(store: LayerStore, settings: Settings, layers: Collection[str]) -> dict[str, TiledSource]:
    """The vector tiles of those of ``layers`` above ``settings.tiled_above`` features (none: no server)."""
    meta = store.metadata()["layers"]
    large = [n for n in layers if n in meta and int(meta[n].get("count") or 0) > settings.tiled_above]
    if not large:
        return {}
    server = _tile_server(store, repr(store), settings.tile_host, settings.tile_port)
    _, source = server.current_source()
    return {
        n: TiledSource(server.tile_url(n), server.feature_url(n), source.min_zoom, source.max_zoom)
        for n in large
        if source.has_tiles(n)
    }


def _small_layer_map(store: LayerStore, layer: str, bounds: list[float], lang: str) -> folium.Map:
    spec = store.spec(layer)
    frame = store.read(layer, columns=[spec.key])
    west, south, east, north = bounds
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=13, tiles=None, max_zoom=19)
    use_package_assets(m, None)
    MapClass(html.escape(f"planatlas · {spec.title_in(lang)}"), fit=[[south, west], [north, east]]).add_to(m)
    geoms = shapely.transform(np.asarray(frame.geometry.values), lambda c: np.round(c, 6))
    features = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": {"key": str(k)}}
        for g, k in zip(geoms, frame[spec.key], strict=True)
        if g is not None and not g.is_empty
    ]
    folium.GeoJson({"type": "FeatureCollection", "features": features}, name=spec.title_in(lang)).add_to(m)
    stable_ids(m)
    return m


def render_layer_page(store: LayerStore, settings: Settings, lang: str, layer: str) -> None:
    """Draw ``layer`` alone: from vector tiles when it is large, as GeoJSON otherwise."""
    if layer not in store.layers():
        st.error(plain_markdown(t("tiled_unknown_layer", lang, layer=layer)))
        return
    spec = store.spec(layer)
    meta = store.metadata()["layers"][layer]
    count = int(meta.get("count") or 0)
    bounds = meta.get("bbox") or [115.75, 28.55, 116.05, 28.80]
    st.subheader(spec.title_in(lang))
    if count <= settings.tiled_above:
        fmap = _small_layer_map(store, layer, bounds, lang)
    else:
        server = _tile_server(store, repr(store), settings.tile_host, settings.tile_port)
        _, source = server.current_source()
        if not source.has_tiles(layer):
            st.error(plain_markdown(t("tiled_no_tiles", lang, layer=layer)))
            return
        fmap = build_tiled_map(
            spec,
            bounds=(bounds[0], bounds[1], bounds[2], bounds[3]),
            count=count,
            tile_url=server.tile_url(layer),
            feature_url=server.feature_url(layer),
            min_zoom=source.min_zoom,
            max_zoom=source.max_zoom,
            lang=lang,
        )
    components.html(fmap.get_root().render(), height=MAP_HEIGHT)
