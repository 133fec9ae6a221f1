"""Tile basemaps of the interactive map: the basemap table, their folium tile layers, the GCJ-02 display shift.

``none`` (the default) draws no tiles, so a map works offline. ``osm`` and ``positron`` are WGS84
tiles; ``tianditu`` (needs a key) is drawn in CGCS2000, which differs from the stored EPSG:4490 by
centimetres; ``amap`` is drawn in GCJ-02, so the data are shifted to GCJ-02 for display only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

import folium
import geopandas as gpd

from planatlas.crs import to_gcj02_frame
from planatlas.i18n import TEXT
from planatlas.maps.frames import PreparedLayer


@dataclass(frozen=True)
class Basemap:
    """A tile basemap: URL template, attribution (HTML) and the datum its tiles are drawn in."""

    name: str
    url: str | None = None
    attribution: str = ""
    subdomains: str = "abc"
    max_zoom: int = 18
    #: "wgs84" (no offset; CGCS2000 within cm) or "gcj02" (Chinese web-map offset)
    datum: Literal["wgs84", "gcj02"] = "wgs84"
    needs_key: bool = False
    overlay_url: str | None = None

    @property
    def title(self) -> Mapping[str, str]:
        """The name shown in the basemap picker, per language (text ``basemap_<name>`` of :mod:`planatlas.i18n`)."""
        return TEXT[f"basemap_{self.name}"]


_TDT = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
    "&TILECOL={{x}}&tk={key}"
)

BASEMAPS: Mapping[str, Basemap] = {
    "none": Basemap("none"),
    "osm": Basemap(
        "osm",
        url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        attribution='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        max_zoom=19,
    ),
    "positron": Basemap(
        "positron",
        url="https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png",
        attribution='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
        'contributors &copy; <a href="https://carto.com/attributions">CARTO</a>',
        subdomains="abcd",
        max_zoom=20,
    ),
    "tianditu": Basemap(
        "tianditu",
        url=_TDT,
        overlay_url=_TDT,
        attribution='&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a> 国家地理信息公共服务平台',
        subdomains="01234567",
        max_zoom=18,
        needs_key=True,
    ),
    "amap": Basemap(
        "amap",
        url="https://webrd0{s}.is.autonavi.com/appmaptile?lang={lang}&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        attribution='&copy; <a href="https://www.amap.com/">高德地图 AutoNavi</a>',
        subdomains="1234",
        max_zoom=18,
        datum="gcj02",
    ),
}


def basemap_layer(name: str, *, lang: str, tianditu_key: str | None = None) -> list[folium.TileLayer]:
    """Tile layers of a basemap (Tianditu adds its label layer); empty for ``none``.

    Raises
    ------
    ValueError
        If ``name`` is not in :data:`BASEMAPS`, or Tianditu is chosen without a key.
    """
    if name not in BASEMAPS:
        msg = f"basemap should be one of {', '.join(BASEMAPS)}, got {name!r}"
        raise ValueError(msg)
    bm = BASEMAPS[name]
    if bm.url is None:
        return []
    if bm.needs_key and not tianditu_key:
        msg = "the Tianditu basemap needs a key: set PLANATLAS_TIANDITU_KEY (settings.tianditu_key)"
        raise ValueError(msg)
    if name == "tianditu":
        key = str(tianditu_key)
        label_layer = "cva" if lang == "zh" else "eva"
        return [
            _tiles(bm, _TDT.format(s="{s}", layer="vec", key=key), name=bm.name, attr=bm.attribution),
            _tiles(bm, _TDT.format(s="{s}", layer=label_layer, key=key), name=f"{bm.name}-labels", attr=" "),
        ]
    url = bm.url.replace("{lang}", "zh_cn" if lang == "zh" else "en")
    return [_tiles(bm, url, name=bm.name, attr=bm.attribution)]


def _tiles(bm: Basemap, url: str, *, name: str, attr: str) -> folium.TileLayer:
    """A base tile layer, not listed in the layer control (the app chooses the basemap)."""
    return folium.TileLayer(
        tiles=url, name=name, attr=attr, subdomains=bm.subdomains, max_zoom=bm.max_zoom, control=False, overlay=False
    )


def in_basemap_datum(prepared: list[PreparedLayer], basemap: str) -> list[PreparedLayer]:
    """The layers as drawn over ``basemap``: shifted to GCJ-02 for AMap (display only), else unchanged."""
    if BASEMAPS[basemap].datum != "gcj02":
        return prepared
    # crs.to_gcj02_frame is not annotated yet; this names the type it has.
    shift: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame] = to_gcj02_frame
    return [p if len(p.frame) == 0 else replace(p, frame=shift(p.frame)) for p in prepared]
