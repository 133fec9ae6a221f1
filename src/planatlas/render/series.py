"""Map series: one print page per street or zone, zoomed to it, with its plan guidance beside the map.

:func:`series_units` turns a streets/zones frame into :class:`SeriesUnit` s; :func:`render_series`
yields one :class:`~planatlas.render.page.RenderedPage` per unit, lazily, from a preset's loaded
:class:`~planatlas.maps.load.PresetData` (its layers prepared and styled once for the series).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from planatlas.catalog import PROVENANCE_FIELDS
from planatlas.crs import to_metric
from planatlas.errors import PresetDataError
from planatlas.i18n import texts
from planatlas.maps import field_title
from planatlas.render.fonts import CJKFont, embolden, find_cjk_font, page_rc, rc_context
from planatlas.render.furniture import draw_legend, draw_title
from planatlas.render.labels import fit_text
from planatlas.render.layers import MapLayer, prepare, resolve_layers
from planatlas.render.notes import draw_notes
from planatlas.render.page import PageSpec, RenderedPage, Sheet, new_figure, page_layout
from planatlas.render.static import draw_map_axes

if TYPE_CHECKING:
    import geopandas as gpd

    from planatlas.maps import Preset
    from planatlas.maps.load import PresetData


@dataclass(frozen=True)
class SeriesUnit:
    """One page of a map series: the unit's key, name, geometry (metric) and guidance text."""

    key: str
    name: str
    geometry: shapely.Geometry
    paragraphs: tuple[tuple[str, str], ...]
    #: Where the plan gives this guidance, e.g. "专栏1序号 （二）" (empty when unknown).
    reference: str = ""


def _text_columns(metric: gpd.GeoDataFrame, skip: set[str]) -> list[str]:
    return [
        c
        for c in metric.columns
        if c not in skip and (metric[c].dtype == object or str(metric[c].dtype).startswith("str"))
    ]


def _paragraphs(
    row: pd.Series, text_fields: Sequence[str], lang: str, field_titles: Mapping[str, Mapping[str, str]] | None
) -> tuple[tuple[str, str], ...]:
    """(field title, text) of every non-empty text field of ``row``."""
    paragraphs = []
    for col in text_fields:
        value = row.get(col)
        if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
            continue
        # Lists are stored ';'-separated; print them the way the plan writes lists.
        text = re.sub(r"\s*;\s*", "、" if lang == "zh" else "; ", str(value).strip())
        title = field_title(col, lang, field_titles)
        if title == col:  # no title anywhere: at least not a raw identifier
            title = col.replace("_", " ").capitalize()
        paragraphs.append((title, text))
    return tuple(paragraphs)


def series_units(
    frame: gpd.GeoDataFrame,
    *,
    key: str,
    lang: str = "zh",
    name_column: str = "name",
    text_fields: Sequence[str] | None = None,
    field_titles: Mapping[str, Mapping[str, str]] | None = None,
    reference_field: str | None = None,
) -> list[SeriesUnit]:
    """Pages of a series from a streets/zones frame: one unit per feature, in key order.

    ``text_fields`` are the columns printed beside the map (each under its field title); by
    default every text column other than the key, names, geometry and provenance columns.
    ``reference_field`` names a column locating the guidance in the plan (shown by the heading).
    """
    metric = to_metric(frame, name="series")
    if key not in metric.columns:
        msg = f"series key column {key!r} is not in the layer; columns: {list(metric.columns)}"
        raise ValueError(msg)
    if text_fields is None:
        skip = {key, name_column, f"{name_column}_en", metric.geometry.name, *PROVENANCE_FIELDS}
        text_fields = _text_columns(metric, skip)
    name_col = f"{name_column}_en" if lang == "en" and f"{name_column}_en" in metric.columns else name_column
    units = []
    for _, row in metric.sort_values(key).iterrows():
        name = row.get(name_col) if name_col in metric.columns else None
        reference = ""
        if reference_field and reference_field in metric.columns and pd.notna(row.get(reference_field)):
            reference = f"{field_title(reference_field, lang, field_titles)} {row[reference_field]}"
        units.append(
            SeriesUnit(
                key=str(row[key]),
                name=str(name or row[key]),
                geometry=row.geometry,
                paragraphs=_paragraphs(row, text_fields, lang, field_titles),
                reference=reference,
            )
        )
    return units


def render_series_page(
    preset: Preset,
    layers: Sequence[MapLayer],
    unit: SeriesUnit,
    *,
    page: PageSpec,
    font: CJKFont,
    number: int,
    total: int,
    subtitle: str,
) -> RenderedPage:
    """One series page: the map zoomed to ``unit`` and its guidance text beside it."""
    fig = new_figure(page)
    sheet = Sheet(fig, page, font)
    words = texts("print_", page.lang)
    lay = page_layout(page, side_text=True, inset=False)
    preset_title = preset.title_in(page.lang)
    draw_title(
        sheet,
        unit.name,
        f"{preset_title} · {subtitle}" if subtitle else preset_title,
        right=words["page"].format(n=number, total=total),
    )
    bounds = np.array(unit.geometry.bounds)
    draw_map_axes(sheet, lay.map, layers, bounds, focus=unit.geometry, labels=page.labels, pad=0.18)
    draw_legend(sheet.axes(*lay.legend), layers, font, fontsize=6.5 * sheet.s, title=words["legend"])
    assert lay.side is not None
    x, y, w, h = lay.side
    heading = words["guidance"] + (f" · {unit.reference}" if unit.reference else "")
    embolden(sheet.text(x, y, heading, size=10), font, size=10 * sheet.s)
    y += 7 * sheet.s
    body = "\n".join(f"【{head}】{text}" if head else text for head, text in unit.paragraphs)
    lines, size, _ = fit_text(
        body or words["no_guidance"],
        width_pt=w / 25.4 * 72 / sheet.s,
        height_pt=(h - 7 * sheet.s) / 25.4 * 72 / sheet.s,
        fontsize=10,
        min_fontsize=5.0,
    )
    sheet.lines(x, y, lines, size=size, leading=1.45, color="#222222")
    # The notes cite only what lies on this page's unit.
    shapely.prepare(unit.geometry)
    focus_layers = [
        replace(ly, frame=ly.frame[shapely.intersects(ly.frame.geometry.values, unit.geometry)]) for ly in layers
    ]
    draw_notes(sheet, lay.notes, focus_layers)
    return RenderedPage(
        figure=fig, rc=page_rc(font), metadata={"title": f"{unit.name} — {preset_title}", "subject": subtitle}
    )


def _check_series_overlap(preset: Preset, layers: Sequence[MapLayer], units: Sequence[SeriesUnit]) -> None:
    """A series of units the preset draws nothing on (Jiuwang roads by Xihu street) is an error."""
    if not units:
        return
    area = shapely.union_all([u.geometry for u in units])
    context = {pl.id for pl in preset.layers if pl.context}  # background drawn everywhere: not a subject
    subjects = [ly for ly in layers if ly.name not in context]
    if not any(len(ly.frame) and shapely.intersects(ly.frame.geometry.values, area).any() for ly in subjects):
        msg = f"preset {preset.name!r} draws nothing inside these series units; choose a preset that covers them"
        raise PresetDataError(msg)


def render_series(
    data: PresetData,
    units: Sequence[SeriesUnit],
    page: PageSpec,
    *,
    subtitle: str | None = None,
    font_path: str | Path | None = None,
) -> Iterator[RenderedPage]:
    """Yield one page per unit (street or zone), each zoomed to it with its guidance beside it.

    Pages are generated lazily so a long series never holds every figure in memory; the preset's
    layers are prepared and styled once for the whole series.

    Raises
    ------
    PresetDataError
        When the frames do not have what the preset draws, or it draws nothing inside ``units``.
    """
    preset = data.preset
    font = find_cjk_font(font_path)
    prepared = prepare(preset, data.frames, params=data.params)
    with rc_context(page_rc(font)):
        layers = resolve_layers(prepared, page.lang)
    _check_series_overlap(preset, layers, units)
    sub = subtitle if subtitle is not None else preset.subtitle_in(page.lang)
    for i, unit in enumerate(units, start=1):
        with rc_context(page_rc(font)):
            rendered = render_series_page(
                preset, layers, unit, page=page, font=font, number=i, total=len(units), subtitle=sub
            )
        yield rendered  # outside the lock: the caller saves it (and takes the lock again)
