"""Exports: atlas store → :func:`~planatlas.maps.load.load_preset` → renderer → :mod:`planatlas.render.write`.

The one export pipeline of the CLI (``planatlas export``, ``planatlas export-series``) and the app's
Export page: a preset as a print page (PNG, PDF, SVG), as one self-contained offline HTML map, or
as a map series with one PDF page per street or zone. Renderers return objects; only
:mod:`planatlas.render.write` writes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import pandas as pd

from planatlas.crs import to_metric
from planatlas.errors import ExportError
from planatlas.i18n import t
from planatlas.maps.layer_preset import is_layer_preset, preset_for
from planatlas.maps.load import load_preset
from planatlas.maps.presets import Preset, get_preset
from planatlas.render.interactive import build_map
from planatlas.render.page import PageSpec, RenderedPage
from planatlas.render.series import SeriesUnit, render_series, series_units
from planatlas.render.static import render_map
from planatlas.render.write import (
    FORMATS,
    PAGE_FORMATS,
    figure_bytes,
    format_of,
    pdf_pages_bytes,
    standalone_html,
    write_figure,
    write_html,
    write_pdf_pages,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from planatlas.maps.load import PresetData
    from planatlas.store.base import LayerStore

__all__ = [
    "FORMATS",
    "PAGE_FORMATS",
    "SERIES_BY",
    "export_preset",
    "export_series",
    "get_export_preset",
    "preset_bytes",
    "preset_html",
    "preset_map",
    "render_preset",
    "series_bytes",
    "series_units_for",
]

#: Series units: the layer each page shows one feature of, and the rows kept (column, value).
SERIES_BY: Mapping[str, tuple[str, tuple[str, str] | None]] = {
    "streets": ("streets", None),
    "zones": ("zones", ("kind", "zone")),
    "towns": ("xinjian_towns", None),
}
#: Columns printed beside the map on series pages, in order (those the layer has).
SERIES_TEXT = {
    "streets": ("approach", "key_industries", "named_projects", "zones"),
    "zones": ("key_industries", "streets_as_written", "business_district_full"),
    "towns": ("kind", "district", "function_area", "tese_xiaozhen", "placed_here"),
}
#: Layers whose located features a town page lists (those nearest its seat, within the radius).
SERIES_TOWN_CONTENTS = ("xinjian_areas", "xinjian_projects", "xinjian_facilities", "xinjian_sites")
#: Radius (m) of the page frame around a unit given as a point (a town seat): the township radius
#: used for the uncertainty of places put in a town (geodata/places/xinjian_*.csv).
SERIES_POINT_RADIUS_M = 5000.0
#: Column locating each unit's guidance in the plan (streets: the item of 专栏1).
SERIES_REFERENCE = {"streets": "guidance_no"}
#: How a street belongs to a zone (``zone_roles`` of layer ``streets``): the roles the plan words
#: (texts ``print_zone_role_<role>`` in :mod:`planatlas.i18n`).
ZONE_ROLES = ("whole", "most", "part", "riverside")


def get_export_preset(name: str) -> Preset:
    """The map preset called ``name``.

    Raises
    ------
    ExportError
        If there is no such preset (the message lists them).
    """
    try:
        return get_preset(name)
    except KeyError as exc:
        raise ExportError(str(exc.args[0]) if exc.args else str(exc)) from None


def _load(store: LayerStore, name: str, params: Mapping[str, Any] | None) -> PresetData:
    if is_layer_preset(name):  # any layer, e.g. an imported one, over the district outlines
        return load_preset(store, preset_for(name, store.spec, layers=store.layers()), params)
    return load_preset(store, get_export_preset(name), params)


def _draw_page(data: PresetData, page: PageSpec, *, font_path: str | Path | None) -> RenderedPage:
    return render_map(data, page, font_path=font_path)


def _draw_series(
    data: PresetData, units: Sequence[SeriesUnit], page: PageSpec, *, font_path: str | Path | None
) -> Iterator[RenderedPage]:
    return render_series(data, units, page, font_path=font_path)


# ---- one page ------------------------------------------------------------------------------------
def render_preset(
    store: LayerStore,
    name: str,
    *,
    page: PageSpec,
    params: Mapping[str, Any] | None = None,
    font_path: str | Path | None = None,
) -> RenderedPage:
    """Load preset ``name`` from ``store`` and draw its print page."""
    return _draw_page(_load(store, name, params), page, font_path=font_path)


def preset_map(store: LayerStore, name: str, *, lang: str, params: Mapping[str, Any] | None = None) -> folium.Map:
    """The interactive map of preset ``name`` with no basemap, so its HTML works offline."""
    return build_map(_load(store, name, params), lang=lang, basemap="none")


def preset_html(store: LayerStore, name: str, *, lang: str, params: Mapping[str, Any] | None = None) -> str:
    """The interactive map of preset ``name`` as one self-contained HTML page (assets inlined)."""
    return standalone_html(preset_map(store, name, lang=lang, params=params))


def preset_bytes(
    store: LayerStore,
    name: str,
    *,
    fmt: str,
    page: PageSpec,
    params: Mapping[str, Any] | None = None,
    font_path: str | Path | None = None,
) -> bytes:
    """Preset ``name`` as the bytes of a PNG, PDF, SVG or self-contained HTML file (for downloads)."""
    fmt = format_of("", fmt)
    if fmt == "html":
        return preset_html(store, name, lang=page.lang, params=params).encode("utf-8")
    return figure_bytes(render_preset(store, name, page=page, params=params, font_path=font_path), fmt)


def export_preset(
    store: LayerStore,
    name: str,
    path: str | Path,
    *,
    fmt: str | None = None,
    page: PageSpec | None = None,
    params: Mapping[str, Any] | None = None,
    font_path: str | Path | None = None,
) -> Path:
    """Export preset ``name`` to ``path`` as PNG, PDF, SVG or self-contained HTML, atomically.

    Parameters
    ----------
    store
        The atlas.
    name
        The preset (:data:`planatlas.maps.PRESETS`).
    path
        The file to write; its suffix gives the format unless ``fmt`` does.
    fmt
        ``png``, ``pdf``, ``svg`` or ``html``.
    page
        Paper, orientation, dpi, language; A4 portrait in Chinese by default (HTML uses the language).
    params
        Preset parameters; defaults per the preset.
    font_path
        A CJK font file to use instead of the installed one.

    Raises
    ------
    ExportError
        For an unknown format or preset, or an HTML asset without a vendored copy.
    """
    fmt = format_of(path, fmt)
    page = page or PageSpec()
    if not is_layer_preset(name):
        get_export_preset(name)
    if fmt == "html":
        return write_html(preset_map(store, name, lang=page.lang, params=params), path)
    return write_figure(render_preset(store, name, page=page, params=params, font_path=font_path), path, fmt=fmt)


# ---- series --------------------------------------------------------------------------------------
def _zone_names(store: LayerStore, frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Streets' ``zones`` ids replaced by the zones' names and the street's role in each."""
    if "zones" not in frame.columns or "zones" not in store.layers():
        return frame
    zones = store.read("zones")
    col = "name_en" if lang == "en" and "name_en" in zones.columns else "name"
    ids = zones["zone_id"] if "zone_id" in zones else zones[zones.columns[0]]
    names = dict(zip(ids, zones[col], strict=True))
    out = frame.copy()

    def label(row: pd.Series) -> str:
        roles = dict(part.split(":", 1) for part in str(row.get("zone_roles") or "").split(";") if ":" in part)
        items = []
        for raw in str(row["zones"] or "").split(";"):
            zone_id = raw.strip()
            if not zone_id:
                continue
            role_key = roles.get(zone_id, "")
            role = t(f"print_zone_role_{role_key}", lang) if role_key in ZONE_ROLES else None
            name = names.get(zone_id, zone_id)
            items.append(f"{name}（{role}）" if role and lang == "zh" else f"{name} ({role})" if role else name)
        return ";".join(items)

    out["zones"] = out.apply(label, axis=1)
    return out


def _placed_here(store: LayerStore, towns: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``towns`` with ``placed_here``: the names of the located features of :data:`SERIES_TOWN_CONTENTS`
    whose nearest seat is the town's, within :data:`SERIES_POINT_RADIUS_M` (``；``-separated)."""
    seats = towns[~(towns.geometry.isna() | towns.geometry.is_empty)]
    out = towns.copy()
    out["placed_here"] = ""
    if seats.empty:
        return out
    seat_m = to_metric(seats, name="towns").geometry
    built = set(store.layers())
    names: dict[object, list[str]] = {i: [] for i in seats.index}
    for layer in (name for name in SERIES_TOWN_CONTENTS if name in built):
        frame = store.read(layer)
        frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
        if frame.empty:
            continue
        for name, geom in zip(frame["name"], to_metric(frame, name=layer).geometry, strict=True):
            distances = seat_m.distance(geom)
            if distances.min() <= SERIES_POINT_RADIUS_M:
                names[distances.idxmin()].append(str(name))
    for i, found in names.items():
        out.loc[i, "placed_here"] = "；".join(sorted(set(found)))
    return out


def _framed_points(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Units given as points (town seats) as discs of :data:`SERIES_POINT_RADIUS_M`; unlocated ones dropped."""
    geoms = frame.geometry
    located = frame[~(geoms.isna() | geoms.is_empty)]
    if located.empty or not (located.geom_type == "Point").all():
        return located
    metric = to_metric(located, name="series units")
    discs = metric.geometry.buffer(SERIES_POINT_RADIUS_M)
    return located.set_geometry(discs.to_crs(located.crs).to_numpy())


def series_units_for(store: LayerStore, by: str, *, lang: str) -> list[SeriesUnit]:
    """One unit per street (layer ``streets``) or per zone (layer ``zones``, kind ``zone``).

    Raises
    ------
    ExportError
        If ``by`` is not one of :data:`SERIES_BY`.
    """
    if by not in SERIES_BY:
        msg = f"series should be by one of {', '.join(SERIES_BY)}, got {by!r}"
        raise ExportError(msg)
    layer, where = SERIES_BY[by]
    frame = store.read(layer)
    if where is not None and where[0] in frame.columns:
        frame = frame[frame[where[0]] == where[1]]
    if by == "streets":
        frame = _zone_names(store, frame, lang)
    if by == "towns":
        frame = _placed_here(store, frame)
    frame = _framed_points(frame)
    spec = store.spec(layer)
    titles = {name: f.title for name, f in spec.fields.items() if f.title}
    text = [c for c in SERIES_TEXT[by] if c in frame.columns] or None
    return series_units(
        frame,
        key=spec.key,
        lang=lang,
        text_fields=text,
        field_titles=titles,
        reference_field=SERIES_REFERENCE.get(by),
    )


def _series(
    store: LayerStore,
    name: str,
    *,
    by: str,
    page: PageSpec,
    params: Mapping[str, Any] | None,
    font_path: str | Path | None,
) -> tuple[Iterator[RenderedPage], dict[str, str]]:
    """The pages of a series (drawn lazily, one at a time) and the PDF's metadata."""
    preset = preset_for(name, store.spec, layers=store.layers()) if is_layer_preset(name) else get_export_preset(name)
    units = series_units_for(store, by, lang=page.lang)
    data = load_preset(store, preset, params)
    metadata = {"title": f"{preset.title_in(page.lang)} — {by}", "subject": preset.subtitle_in(page.lang)}
    return _draw_series(data, units, page, font_path=font_path), metadata


def series_bytes(
    store: LayerStore,
    name: str,
    *,
    by: str = "streets",
    page: PageSpec | None = None,
    params: Mapping[str, Any] | None = None,
    font_path: str | Path | None = None,
) -> tuple[bytes, int]:
    """A map series as the bytes of one PDF (for downloads) and its page count."""
    page = page or PageSpec(orientation="landscape")
    pages, metadata = _series(store, name, by=by, page=page, params=params, font_path=font_path)
    return pdf_pages_bytes(pages, metadata=metadata)


def export_series(
    store: LayerStore,
    name: str,
    path: str | Path,
    *,
    by: str = "streets",
    page: PageSpec | None = None,
    params: Mapping[str, Any] | None = None,
    font_path: str | Path | None = None,
) -> int:
    """Write a map series (one page per street, zone or town) to one PDF atomically; returns the page count.

    Raises
    ------
    ExportError
        If ``path`` is not a PDF, the preset is unknown, ``by`` is not in :data:`SERIES_BY` or
        there are no units.
    """
    format_of(path, allowed=("pdf",))
    page = page or PageSpec(orientation="landscape")
    pages, metadata = _series(store, name, by=by, page=page, params=params, font_path=font_path)
    return write_pdf_pages(pages, path, metadata=metadata)
