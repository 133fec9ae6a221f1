"""Print pages of a map preset: :class:`~planatlas.maps.load.PresetData` → :class:`RenderedPage` (pure).

:func:`render_map` draws one page (title, map, legend, scale bar, north arrow, labels, inset and
notes) from a preset's loaded data and writes nothing; files are written by the one writer. The
pieces live beside it: fonts (:mod:`.fonts`), paper and layout (:mod:`.page`), layers
(:mod:`.layers`), labels (:mod:`.labels`), furniture (:mod:`.furniture`), notes (:mod:`.notes`)
and map series (:mod:`.series`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from matplotlib.collections import PathCollection

from planatlas.i18n import t
from planatlas.render.fonts import find_cjk_font, page_rc, rc_context
from planatlas.render.furniture import draw_inset, draw_legend, draw_north_arrow, draw_scale_bar, draw_title
from planatlas.render.labels import place_labels
from planatlas.render.layers import (
    MapLayer,
    data_bounds,
    draw_layer,
    point_coords,
    polygon_paths,
    prepare,
    preset_extent,
    resolve_layers,
)
from planatlas.render.notes import draw_notes
from planatlas.render.page import Box, PageSpec, RenderedPage, Sheet, fit_extent, new_figure, page_layout

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from planatlas.maps import Preset
    from planatlas.maps.load import PresetData


def _focus_mask(ax: Axes, extent: Sequence[float], focus: shapely.Geometry) -> None:
    """Grey out everything outside ``focus`` and outline it, so the page reads as being about it."""
    mask = shapely.difference(shapely.box(*extent).buffer(1.0), focus)
    coll = PathCollection(polygon_paths([mask]), facecolors=[(1, 1, 1, 0.55)], edgecolors="none")
    coll.set_transform(ax.transData)
    coll.set_zorder(15)
    ax.add_collection(coll, autolim=False)
    outline = PathCollection(polygon_paths([focus]), facecolors="none", edgecolors="#d62728", linewidths=1.6)
    outline.set_transform(ax.transData)
    outline.set_zorder(16)
    ax.add_collection(outline, autolim=False)


def draw_map_axes(
    sheet: Sheet,
    box: Box,
    layers: Sequence[MapLayer],
    bounds: Sequence[float] | np.ndarray,
    *,
    focus: shapely.Geometry | None = None,
    labels: bool = True,
    pad: float = 0.06,
) -> tuple[Axes, tuple[float, float, float, float]]:
    """The map frame in ``box``: layers, optional focus mask, scale bar, north arrow and labels.

    Returns the axes and the metric extent they show.
    """
    ax = sheet.axes(*box)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.8)
    ax.set_facecolor("#fbfbf8")
    extent = fit_extent(bounds, box[2] / box[3], pad=pad)
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal", adjustable="box", anchor="C")
    for layer in layers:
        draw_layer(ax, layer)
    if focus is not None:
        _focus_mask(ax, extent, focus)
    size = 6.5 * sheet.s
    obstacles = [draw_scale_bar(ax, sheet.font, fontsize=size)]
    points = [point_coords(ly.frame.geometry.values)[0] for ly in layers if ly.kind == "point" and len(ly.frame)]
    obstacles.append(
        draw_north_arrow(
            ax, sheet.font, lang=sheet.spec.lang, fontsize=size * 1.3, points=np.vstack(points) if points else None
        )
    )
    if labels:
        place_labels(ax, layers, sheet.font, fontsize=size, obstacles=obstacles)
    return ax, extent


def _params_text(preset: Preset, params: Mapping[str, Any], lang: str) -> str:
    """'Construction phase: 2021–22' for presets with parameters, else ''."""
    sep = "：" if lang == "zh" else ": "
    return "  ".join(
        f"{p.title.get(lang) or p.name}{sep}{p.choice(params[p.name]).label_in(lang)}" for p in preset.parameters
    )


def render_map(
    data: PresetData,
    page: PageSpec,
    *,
    font_path: str | Path | None = None,
    district_label: str | None = "name",
    title: str | None = None,
    subtitle: str | None = None,
    bounds: Sequence[float] | None = None,
    notes: Sequence[str] = (),
) -> RenderedPage:
    """Draw one print page of a preset: title, map, legend, scale bar, north arrow, notes, inset.

    Parameters
    ----------
    data
        The preset and its frames, parameters (defaults filled) and district outlines, from
        :func:`planatlas.maps.load.load_preset`.
    page
        Paper, orientation, dpi, language, inset and labels.
    font_path
        A CJK font file to use instead of the installed one.
    district_label
        Column of the district names in the inset (``<column>_en`` on English pages, if present).
    title, subtitle
        Override the preset's title and its plan subtitle.
    bounds
        The metric (EPSG:4548) extent to show instead of the preset's (e.g. the view on screen).
    notes
        More lines for the notes at the foot of the page.

    Returns
    -------
    RenderedPage
        The figure (not attached to pyplot), the rcParams to save it with and its metadata.

    Raises
    ------
    PresetDataError
        When the frames do not have what the preset draws.
    """
    preset = data.preset
    font = find_cjk_font(font_path)
    prepared = prepare(preset, data.frames, params=data.params)
    districts = data.districts
    rc = page_rc(font)
    page_title = title or preset.title_in(page.lang)
    page_subtitle = subtitle if subtitle is not None else preset.subtitle_in(page.lang)
    with rc_context(rc):
        layers = resolve_layers(prepared, page.lang)
        fig = new_figure(page)
        sheet = Sheet(fig, page, font)
        show_inset = page.inset and districts is not None and len(districts) > 1
        lay = page_layout(page, inset=show_inset)
        draw_title(sheet, page_title, page_subtitle, right=_params_text(preset, data.params, page.lang))
        frame_bounds = np.asarray(bounds, dtype=float) if bounds is not None else preset_extent(preset, prepared)
        if frame_bounds is None:
            frame_bounds = data_bounds(layers)
        _ax, extent = draw_map_axes(sheet, lay.map, layers, frame_bounds, labels=page.labels)
        draw_legend(sheet.axes(*lay.legend), layers, font, fontsize=7.0 * sheet.s, title=t("print_legend", page.lang))
        if show_inset and lay.inset is not None and districts is not None:
            if page.lang == "en" and district_label and f"{district_label}_en" in districts.columns:
                district_label = f"{district_label}_en"
            draw_inset(
                sheet.axes(*lay.inset),
                districts,
                extent,
                font,
                label_column=district_label,
                fontsize=6.5 * sheet.s,
                title=t("print_inset", page.lang),
            )
        credit = preset.credits_in(page.lang)
        draw_notes(sheet, lay.notes, layers, extra=[*notes, credit] if credit else notes)
    metadata = {"title": page_title, "subject": page_subtitle, "keywords": f"planatlas; {preset.name}; EPSG:4548"}
    return RenderedPage(figure=fig, rc=rc, metadata=metadata)
