"""A query's answer as a print page ("print this result"): titled with the question (pure, returns a figure).

The page has the print furniture of every export (title, scale bar, north arrow, legend, sources,
precision notes, CRS and date; :mod:`planatlas.render.page`, :mod:`planatlas.render.furniture`,
:mod:`planatlas.render.notes`), and draws the streets for context, the distance ring, the
reference and the matches labelled by name. The notes add the count and, for within-distance
questions, how many answers lie within their own uncertainty of the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd

from planatlas.crs import METRIC_CRS
from planatlas.i18n import t
from planatlas.maps.style import QUERY_COLORS
from planatlas.query import parse_distance
from planatlas.query.readable import edge_line
from planatlas.render.fonts import embolden, find_cjk_font, page_rc, rc_context
from planatlas.render.furniture import draw_legend
from planatlas.render.labels import fit_text
from planatlas.render.layers import LegendEntry, MapLayer, rgba_array
from planatlas.render.notes import draw_notes
from planatlas.render.page import PageSpec, RenderedPage, Sheet, new_figure, page_layout
from planatlas.render.query_map import QUERY_FEATURE_CAP
from planatlas.render.static import draw_map_axes

if TYPE_CHECKING:
    from planatlas.query import QueryResult

__all__ = ["render_answer_page"]


def _layer(
    name: str, frame: gpd.GeoDataFrame, *, kind: str, color: str, title: str, fill: bool, z: float, **style: object
) -> MapLayer:
    n = len(frame)
    legend = [
        LegendEntry(
            label=title,
            kind=kind,  # type: ignore[arg-type]
            facecolor=color if fill else None,
            edgecolor=color,
            linewidth=float(style.get("linewidth", 0.8)),  # type: ignore[arg-type]
            linestyle=style.get("linestyle", "-"),  # type: ignore[arg-type]
        )
    ]
    return MapLayer(
        name=name,
        title=title,
        frame=frame,
        kind=kind,  # type: ignore[arg-type]
        facecolors=rgba_array(color, n, alpha=0.85) if fill else None,
        edgecolors=rgba_array(color, n),
        legend=legend,
        zorder=z,
        **style,  # type: ignore[arg-type]
    )


def _answer_layers(result: QueryResult, streets: gpd.GeoDataFrame | None, lang: str) -> list[MapLayer]:
    rq, frame, reference = result.request, result.frame, result.reference
    layers = []
    if streets is not None and len(streets):
        title = t("query_context", lang)
        layers.append(
            _layer(
                "streets",
                streets.to_crs(METRIC_CRS),
                kind="polygon",
                color="#9e9e9e",
                title=title,
                fill=False,
                z=1,
                linewidth=0.6,
            )
        )
    if rq.distance is not None and rq.kind in ("within", "nearest") and len(reference):
        metres = parse_distance(rq.distance)
        ring = reference.to_crs(METRIC_CRS).geometry.buffer(metres, quad_segs=32).union_all()
        ring_frame = gpd.GeoDataFrame(geometry=[ring], crs=METRIC_CRS)
        layers.append(
            _layer(
                "ring",
                ring_frame,
                kind="polygon",
                color=QUERY_COLORS["ring"],
                title=t("query_ring", lang),
                fill=False,
                z=2,
                linewidth=1.0,
                linestyle="--",
            )
        )
    if isinstance(frame, gpd.GeoDataFrame) and len(frame) and rq.kind != "summarize":
        shown = frame.head(QUERY_FEATURE_CAP).to_crs(METRIC_CRS)
        shown = shown[~(shown.geometry.isna() | shown.geometry.is_empty)]
        kind = "point" if (shown.geom_type == "Point").all() else "polygon"
        layers.append(
            _layer(
                "matches",
                shown,
                kind=kind,
                color=QUERY_COLORS["match"],
                title=f"{t('query_matches', lang)} ({len(frame)})",
                fill=True,
                z=4,
                label_column="name" if "name" in shown.columns else None,
                label_priority=2,
            )
        )
    if len(reference):
        ref = reference.to_crs(METRIC_CRS)
        kind = "point" if (ref.geom_type == "Point").all() else "polygon"
        layers.append(
            _layer(
                "reference",
                ref,
                kind=kind,
                color=QUERY_COLORS["reference"],
                title=t("query_reference", lang),
                fill=kind == "point",
                z=5,
                marker_size=40.0,
            )
        )
    return layers


def _draw_question(sheet: Sheet, title: str, subtitle: str) -> None:
    """The title (the question, often long) shrunk to fit the page width on one line, the count under it."""
    m = 10.0 * sheet.s
    width_pt = (sheet.w_mm - 2 * m) / 25.4 * 72 / sheet.s
    lines, size, _cut = fit_text(title, width_pt=width_pt, height_pt=17 * 1.45, fontsize=17, min_fontsize=9)
    embolden(sheet.text(m, m, lines[0], size=size), sheet.font, size=size * sheet.s)
    sheet.text(m, m + 9.5 * sheet.s, subtitle, size=9.5, color="#333333")


def render_answer_page(
    result: QueryResult,
    *,
    title: str,
    page: PageSpec,
    streets: gpd.GeoDataFrame | None = None,
    font_path: str | Path | None = None,
    extra_notes: Sequence[str] = (),
) -> RenderedPage:
    """The answer of ``result`` as one print page titled ``title`` (the question in words).

    Parameters
    ----------
    result
        The answer (:func:`planatlas.query.run_query`), EPSG:4490.
    title
        The page title, e.g. ``距八一广场站1公里范围内的商务楼宇与产业载体``.
    page
        Paper, orientation, dpi, language.
    streets
        Street outlines drawn for context (EPSG:4490), or None.
    font_path
        A CJK font file instead of the installed one.
    extra_notes
        More lines for the notes (e.g. what was clicked).
    """
    lang = page.lang
    font = find_cjk_font(font_path)
    rc = page_rc(font)
    layers = _answer_layers(result, streets, lang)
    n = len(result.frame)
    subtitle = t("query_results" if n != 1 else "query_results_one", lang, n=n)
    notes = [t("query_intro", lang), *extra_notes]
    rq = result.request
    if rq.kind == "within" and rq.distance is not None:
        line = edge_line(result.frame, distance=rq.distance, lang=lang)
        if line:
            notes.append(line)
    legend = [replace(layers[0], legend=[e for ly in layers for e in ly.legend], legend_title=t("layer", lang))]
    drawn = [ly for ly in layers if ly.name in ("matches", "reference", "ring")] or layers
    bounds = gpd.GeoSeries([g for ly in drawn for g in ly.frame.geometry], crs=METRIC_CRS).total_bounds
    with rc_context(rc):
        fig = new_figure(page)
        sheet = Sheet(fig, page, font)
        lay = page_layout(page, inset=False)
        _draw_question(sheet, title, subtitle)
        draw_map_axes(sheet, lay.map, layers, bounds, labels=page.labels, pad=0.12)
        draw_legend(sheet.axes(*lay.legend), legend, font, fontsize=7.0 * sheet.s, title=t("print_legend", lang))
        draw_notes(sheet, lay.notes, layers, extra=notes)
    metadata = {"title": title, "subject": subtitle, "keywords": f"planatlas; query; {rq.kind}; {rq.layer}; EPSG:4548"}
    return RenderedPage(figure=fig, rc=rc, metadata=metadata)
