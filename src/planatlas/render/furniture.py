"""Map furniture of a printed page: title, legend, scale bar, north arrow and locator inset.

The scale bar is matplotlib-scalebar's ``ScaleBar`` with one data unit = 1 m: the map axes are
in EPSG:4548 grid metres with an equal aspect and are never rotated (only the north arrow turns,
by the meridian convergence, about -0.53° at Xihu). A grid metre differs from a ground metre by
the Gauss-Krüger point scale factor, measured with ``pyproj.Proj.get_factors`` at 1.0001299 to
1.0001561 across Xihu (115.85-115.95°E, 28.60-28.72°N): 0.3 m on a 2 km bar, far below the bar's
line width, so no correction is drawn. Its length is still a round 1/2/5 × 10^n m near a quarter
of the map width (:func:`nice_scale_length`), labelled by :func:`format_distance`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import shapely
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Rectangle
from matplotlib.patches import Polygon as MplPolygon
from matplotlib.transforms import Affine2D, Bbox
from matplotlib_scalebar.scalebar import ScaleBar
from pyproj import CRS, Proj, Transformer

from planatlas.crs import METRIC_CRS, STORAGE_CRS, to_metric
from planatlas.i18n import t
from planatlas.render.fonts import CJKFont, embolden, underlay
from planatlas.render.labels import text_width_pt
from planatlas.render.layers import LegendEntry, MapLayer, polygon_paths
from planatlas.render.page import Sheet, figure_of, fit_extent, renderer_of

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes


def draw_title(sheet: Sheet, title: str, subtitle: str, *, right: str = "") -> None:
    """The page title, its subtitle under it and a short text at the top right."""
    m = 10.0 * sheet.s
    embolden(sheet.text(m, m, title, size=17), sheet.font, size=17 * sheet.s)
    if subtitle:
        sheet.text(m, m + 9.5 * sheet.s, subtitle, size=9.5, color="#333333")
    if right:
        sheet.text(sheet.w_mm - m, m + 1.5 * sheet.s, right, size=8, color="#555555", ha="right")


# --------------------------------------------------------------------------------------------
# Scale bar and north arrow
# --------------------------------------------------------------------------------------------


def nice_scale_length(map_width_m: float, *, fraction: float = 0.25) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^n m) close to ``fraction`` of the map width."""
    if map_width_m <= 0:
        msg = f"map width should be positive metres, got {map_width_m!r}"
        raise ValueError(msg)
    target = map_width_m * fraction
    exp = math.floor(math.log10(target))
    best = 10.0**exp
    for mult in (1, 2, 5, 10):
        cand = mult * 10.0**exp
        if cand <= target:
            best = cand
    return best


def format_distance(metres: float) -> str:
    """``500`` -> ``'500 m'``, ``2000`` -> ``'2 km'``."""
    if metres >= 1000:
        return f"{metres / 1000:g} km"
    return f"{metres:g} m"


def meridian_convergence(x: float, y: float) -> float:
    """Angle in degrees from grid north to true north at a point of EPSG:4548 (positive = east)."""
    lon, lat = Transformer.from_crs(METRIC_CRS, STORAGE_CRS, always_xy=True).transform(x, y)
    proj = Proj(CRS.from_user_input(METRIC_CRS))
    return float(proj.get_factors(lon, lat).meridian_convergence)


def draw_scale_bar(ax: Axes, font: CJKFont, *, fontsize: float) -> Bbox:
    """Scale bar in the lower left of a metric map, on a light backing; returns its display bbox."""
    length = nice_scale_length(abs(ax.get_xlim()[1] - ax.get_xlim()[0]))
    bar = ScaleBar(
        1.0,
        units="m",
        fixed_value=length,
        fixed_units="m",
        scale_formatter=lambda value, _unit: format_distance(value),
        location="lower left",
        scale_loc="top",
        width_fraction=0.008,
        sep=2,
        pad=0.5,
        border_pad=1.5,
        color="black",
        box_color="white",
        box_alpha=0.8,
        font_properties={"family": font.family, "size": fontsize},
    )
    bar.set_zorder(21)
    ax.add_artist(bar)
    # Its box is laid out when drawn: draw it once now so labels can keep clear of it.
    bar.draw(renderer_of(ax))
    extent: Bbox = bar.info.window_extent
    return extent


def _arrow_corner(ax: Axes, points: np.ndarray | None, *, size: float, aspect: float) -> tuple[float, float]:
    """Centre of the arrow (axes fraction): upper right, or upper left when fewer points lie there."""
    cx, cy = 1 - size * 1.4 / aspect, 1 - size * 2.2
    if points is not None and len(points):
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        frac = (points - [x0, y0]) / [x1 - x0, y1 - y0]
        top = frac[:, 1] > 1 - size * 3.4
        right = (top & (frac[:, 0] > 1 - size * 2.8 / aspect)).sum()
        left = (top & (frac[:, 0] < size * 2.8 / aspect)).sum()
        if left < right:
            cx = size * 1.4 / aspect
    return cx, cy


def draw_north_arrow(ax: Axes, font: CJKFont, *, lang: str, fontsize: float, points: np.ndarray | None = None) -> Bbox:
    """North arrow turned by the meridian convergence to point at true north.

    It goes in the upper right, or the upper left when fewer of ``points`` (metric point
    features) lie there. Returns its display bbox.
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    gamma = meridian_convergence((x0 + x1) / 2, (y0 + y1) / 2)
    # Arrow in axes-fraction units, corrected for the axes' aspect so it is not squashed.
    bbox = ax.get_position()
    fig_w, fig_h = figure_of(ax).get_size_inches()
    aspect = (bbox.width * fig_w) / (bbox.height * fig_h)
    size = 0.045
    cx, cy = _arrow_corner(ax, points, size=size, aspect=aspect)
    pts = np.array([[0, 1], [0.42, -0.6], [0, -0.25], [-0.42, -0.6]]) * size
    pts = Affine2D().rotate_deg(-gamma).transform(pts)
    pts[:, 0] /= aspect
    left = np.array([pts[0], pts[2], pts[3]]) + np.array([cx, cy])
    right = np.array([pts[0], pts[1], pts[2]]) + np.array([cx, cy])
    for half, face in ((left, "black"), (right, "white")):
        ax.add_patch(
            MplPolygon(
                half, closed=True, transform=ax.transAxes, facecolor=face, edgecolor="black", linewidth=0.6, zorder=22
            )
        )
    label = ax.text(
        cx,
        cy + size * 1.15,
        t("print_north", lang),
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=fontsize,
        fontfamily=font.family,
        zorder=22,
    )
    embolden(label, font, size=fontsize)
    corners = ax.transAxes.transform(np.vstack([left, right]))
    lb = label.get_window_extent(renderer_of(ax))
    extent = Bbox.union([Bbox.from_extents(*corners.min(0), *corners.max(0)), lb]).expanded(1.5, 1.15)
    # A light backing so the arrow reads over busy map content.
    (bx0, by0), (bx1, by1) = ax.transAxes.inverted().transform(extent.get_points())
    ax.add_patch(
        FancyBboxPatch(
            (bx0, by0),
            bx1 - bx0,
            by1 - by0,
            boxstyle="round,pad=0,rounding_size=0.01",
            transform=ax.transAxes,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=21,
        )
    )
    return extent


# --------------------------------------------------------------------------------------------
# Legend
# --------------------------------------------------------------------------------------------

#: A legend row: its label and the swatch (``None`` for a layer heading).
LegendRow = tuple[str, LegendEntry | None]


def _pack_legend(groups: Sequence[Sequence[LegendRow]], per_col: int) -> list[tuple[int, int]]:
    """(column, row) of every legend row; a layer's rows start a new column rather than split,
    unless the layer alone is longer than a column."""
    placement: list[tuple[int, int]] = []
    col, row = 0, 0
    for group in groups:
        if row and row + len(group) > per_col:
            col, row = col + 1, 0
        for _ in group:
            if row >= per_col:
                col, row = col + 1, 0
            placement.append((col, row))
            row += 1
    return placement


def _swatch(ax: Axes, entry: LegendEntry, x: float, y: float, *, sw: float, sh: float, size: float) -> None:
    """The legend swatch of ``entry`` with its left edge at x, centred on y (axes fraction)."""
    if entry.kind == "polygon":
        ax.add_patch(
            Rectangle(
                (x, y - sh / 2),
                sw,
                sh,
                facecolor=entry.facecolor or "none",
                edgecolor=entry.edgecolor or "none",
                linewidth=entry.linewidth,
                linestyle=entry.linestyle,
            )
        )
    elif entry.kind == "line":
        ax.add_line(
            Line2D(
                [x, x + sw],
                [y, y],
                color=entry.edgecolor or entry.facecolor,
                linewidth=entry.linewidth,
                linestyle=entry.linestyle,
            )
        )
    else:
        ax.add_line(
            Line2D(
                [x + sw / 2],
                [y],
                marker=entry.marker,
                markersize=size * 0.8,
                markerfacecolor=entry.facecolor or "none",
                markeredgecolor=entry.edgecolor or "none",
                linestyle="none",
            )
        )


def draw_legend(ax: Axes, layers: Sequence[MapLayer], font: CJKFont, *, fontsize: float, title: str) -> None:
    """Flow the legend rows of every layer into columns filling ``ax`` (axis off)."""
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    groups: list[list[LegendRow]] = [
        [(layer.legend_title or layer.title, None), *((e.label, e) for e in layer.legend)]
        for layer in layers
        if layer.legend
    ]
    rows = [row for group in groups for row in group]
    if not rows:
        return
    box = ax.get_window_extent(renderer_of(ax))
    px_per_pt = figure_of(ax).dpi / 72.0
    size = fontsize
    for _ in range(14):
        row_h = size * 1.55 * px_per_pt / box.height
        title_h = size * 2.0 * px_per_pt / box.height
        placement = _pack_legend(groups, max(1, int((1 - title_h) / row_h)))
        ncols = max(c for c, _ in placement) + 1
        col_w_pt = box.width / px_per_pt / ncols
        widest = max(text_width_pt(label, size) + (size * 2.6 if e else 0) for label, e in rows)
        if widest <= col_w_pt or size <= 5:
            break
        size *= 0.9
    heading = ax.text(0, 1, title, ha="left", va="top", fontsize=size * 1.1, fontfamily=font.family)
    embolden(heading, font, size=size * 1.1)
    sw = size * 1.9 * px_per_pt / box.width  # swatch width
    sh = size * 0.9 * px_per_pt / box.height
    for (label, entry), (col, r) in zip(rows, placement, strict=True):
        x = col / ncols
        y = 1 - title_h - (r + 0.5) * row_h
        if entry is None:
            header = ax.text(
                x, y, label, ha="left", va="center", fontsize=size, fontfamily=font.family, color="#222222"
            )
            embolden(header, font, size=size)
            continue
        _swatch(ax, entry, x, y, sw=sw, sh=sh, size=size)
        ax.text(x + sw * 1.35, y, label, ha="left", va="center", fontsize=size, fontfamily=font.family)


# --------------------------------------------------------------------------------------------
# Locator inset
# --------------------------------------------------------------------------------------------


def _inset_labels(
    ax: Axes,
    frame: gpd.GeoDataFrame,
    hit: np.ndarray,
    extent: Sequence[float],
    font: CJKFont,
    *,
    label_column: str,
    fontsize: float,
    box_w: float,
) -> None:
    """District names: those under the map (beside a small map frame), and, when few, the others
    large enough to hold their name (at least 4% of the whole; small urban districts stay unnamed)."""
    _x0, y0, x1, y1 = extent
    anchors = shapely.get_coordinates(shapely.point_on_surface(frame.geometry.values))
    names = frame[label_column].astype("string").fillna("")
    areas = shapely.area(frame.geometry.values)
    roomy = areas >= 0.04 * areas.sum()
    bx0, by0, bx1, by1 = frame.total_bounds
    beside = box_w < 0.25 and bool(hit.any())  # a red name is set beside the frame: keep its place free
    for xy, text, is_hit, big in zip(anchors, names, hit, roomy, strict=True):
        if not (is_hit or (len(frame) <= 12 and big)):
            continue
        near_red = abs(xy[1] - (y0 + y1) / 2) < 0.08 * (by1 - by0) and 0 <= xy[0] - x1 < 0.35 * (bx1 - bx0)
        if not is_hit and beside and near_red:
            continue
        if is_hit and box_w < 0.25:
            # A small map frame would hide its district's name: put the name beside it.
            label = ax.text(
                x1, (y0 + y1) / 2, f" {text}", ha="left", va="center", color="#d62728", zorder=6,
                fontsize=fontsize * 0.8, fontfamily=font.family,
            )  # fmt: skip
        else:
            label = ax.text(
                xy[0], xy[1], text, ha="center", va="center", color="#333333", zorder=4,
                fontsize=fontsize * 0.8, fontfamily=font.family,
            )  # fmt: skip
        underlay(label, linewidth=1.6, color="white")


def draw_inset(
    ax: Axes,
    districts: gpd.GeoDataFrame,
    extent: Sequence[float],
    font: CJKFont,
    *,
    label_column: str | None,
    fontsize: float,
    title: str,
) -> None:
    """Locator map: every district outlined, the ones under the map filled, the map frame in red."""
    frame = to_metric(districts, name="districts")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.5)
        spine.set_color("#666666")
    if len(frame) == 0:
        return
    box = shapely.box(*extent)
    # The districts the map is about: those covering a good share of the map frame.
    overlap = shapely.area(shapely.intersection(frame.geometry.values, box))
    hit = overlap >= 0.25 * box.area
    if not hit.any() and overlap.max() > 0:
        hit = overlap == overlap.max()
    faces = np.where(hit[:, None], [[0.85, 0.85, 0.85, 1.0]], [[1.0, 1.0, 1.0, 1.0]])
    coll = PathCollection(polygon_paths(frame.geometry.values), facecolors=faces, edgecolors="#555555", linewidths=0.4)
    coll.set_transform(ax.transData)
    ax.add_collection(coll, autolim=False)
    x0, y0, x1, y1 = extent
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="#d62728", linewidth=1.0, zorder=5))
    tb = np.array(frame.total_bounds)
    b = (min(tb[0], x0), min(tb[1], y0), max(tb[2], x1), max(tb[3], y1))
    pos = ax.get_position()
    fw, fh = figure_of(ax).get_size_inches()
    ext = fit_extent(b, (pos.width * fw) / (pos.height * fh), pad=0.04)
    ax.set_xlim(ext[0], ext[2])
    ax.set_ylim(ext[1], ext[3])
    ax.set_aspect("equal", adjustable="datalim")
    if label_column and label_column in frame.columns:
        box_w = (x1 - x0) / (ext[2] - ext[0])
        _inset_labels(ax, frame, hit, extent, font, label_column=label_column, fontsize=fontsize, box_w=box_w)
    ax.set_title(title, fontsize=fontsize, fontfamily=font.family, loc="left", pad=2)
