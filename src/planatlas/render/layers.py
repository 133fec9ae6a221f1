"""Map layers on paper: a preset's prepared layers → :class:`MapLayer` s → matplotlib collections.

Everything is drawn in the metric CRS (EPSG:4548, CGCS2000 3-degree Gauss-Krüger CM 117°E).
Geometries go straight from shapely coordinate arrays into matplotlib collections
(``PathCollection`` / ``LineCollection`` / ``scatter``), which is several times faster than
``GeoDataFrame.plot`` (see PERF_NOTES). Colours, classes and legend rows come from the map presets
of :mod:`planatlas.maps` (the one style source shared with the interactive map) through
:func:`resolve_layers`; only the pixel-to-point conversion for paper happens here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import shapely
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgba, to_rgba_array
from matplotlib.path import Path as MplPath
from matplotlib.typing import LineStyleType
from pyproj import Transformer

from planatlas.crs import METRIC_CRS, STORAGE_CRS, to_metric
from planatlas.errors import PresetDataError
from planatlas.i18n import t
from planatlas.maps import PreparedLayer, Preset, prepare_preset, prepared_bounds
from planatlas.render.dense import DENSE_ABOVE, draw_dense_polygons

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from matplotlib.axes import Axes

GeomKind = Literal["polygon", "line", "point"]

#: Leaflet sizes are screen pixels; on paper a pixel is drawn as this many points.
PX_TO_PT = 0.6
#: Layers with more features than this are rasterised in PDF and SVG.
RASTERIZE_ABOVE = 20000


@dataclass(frozen=True)
class LegendEntry:
    """One legend row: a swatch drawn like the features and its label."""

    label: str
    kind: GeomKind
    facecolor: str | tuple[float, float, float, float] | None = None
    edgecolor: str | None = None
    linewidth: float = 0.8
    linestyle: LineStyleType = "-"
    marker: str = "o"


@dataclass
class MapLayer:
    """A layer ready to draw: its frame in the metric CRS and per-feature colours.

    ``facecolors`` / ``edgecolors`` are RGBA arrays with one row per feature (or ``None`` for no
    fill / no outline); ``label_column`` names the column labels are taken from.
    """

    name: str
    title: str
    frame: gpd.GeoDataFrame
    kind: GeomKind
    facecolors: np.ndarray | None
    edgecolors: np.ndarray | None
    linewidth: float = 0.8
    linewidths: np.ndarray | None = None
    linestyle: LineStyleType = "-"
    marker: str = "o"
    marker_size: float = 18.0
    legend: list[LegendEntry] = field(default_factory=list)
    label_column: str | None = None
    label_priority: int = 0
    rasterized: bool = False
    zorder: float = 1.0
    #: Legend heading; the title marked "(schematic)" where any drawn feature is.
    legend_title: str = ""


def rgba_array(colors: Sequence[str] | str | None, n: int, *, alpha: float = 1.0) -> np.ndarray | None:
    """One RGBA row per feature from a colour or a sequence of colours (``None`` stays ``None``)."""
    if colors is None:
        return None
    if isinstance(colors, str):
        rgba = np.tile(np.array(to_rgba(colors), dtype=float), (n, 1))
    else:
        rgba = to_rgba_array(list(colors)) if len(colors) else np.zeros((0, 4))
        if len(rgba) != n:
            msg = f"expected {n} colours, one per feature, got {len(rgba)}"
            raise ValueError(msg)
    rgba = rgba.astype(float, copy=True)
    rgba[:, 3] *= alpha
    return rgba


# --------------------------------------------------------------------------------------------
# Geometry -> matplotlib collections
# --------------------------------------------------------------------------------------------


def polygon_paths(geoms: Sequence[Any] | np.ndarray) -> list[MplPath]:
    """One compound :class:`~matplotlib.path.Path` per (multi)polygon, holes included (vectorised)."""
    # Matplotlib fills with the non-zero winding rule: holes must wind against their shell.
    geoms = shapely.orient_polygons(np.asarray(geoms, dtype=object))
    n = len(geoms)
    parts, part_feature = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    if len(coords) == 0:
        return [MplPath(np.empty((0, 2))) for _ in range(n)]
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    starts = np.r_[0, np.flatnonzero(np.diff(coord_ring)) + 1]
    ends = np.r_[starts[1:] - 1, len(coords) - 1]
    codes[starts] = MplPath.MOVETO
    codes[ends] = MplPath.CLOSEPOLY
    coord_feature = part_feature[ring_part[coord_ring]]
    counts = np.bincount(coord_feature, minlength=n)
    bounds = np.cumsum(counts)[:-1]
    return [MplPath(c, k) for c, k in zip(np.split(coords, bounds), np.split(codes, bounds), strict=True)]


def line_segments(geoms: Sequence[Any] | np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Coordinate arrays of every line part and the feature index each part belongs to."""
    parts, part_feature = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    coords, coord_part = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        return [], np.empty(0, dtype=int)
    counts = np.bincount(coord_part, minlength=len(parts))
    return np.split(coords, np.cumsum(counts)[:-1]), part_feature


def point_coords(geoms: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of every point (multipoints exploded) and the feature index of each."""
    parts, part_feature = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    keep = ~shapely.is_empty(parts)
    coords = shapely.get_coordinates(parts[keep])
    return coords, part_feature[keep]


def draw_layer(ax: Axes, layer: MapLayer) -> None:
    """Draw a resolved layer on ``ax`` with one collection (fast path, no GeoDataFrame.plot)."""
    frame = layer.frame
    if len(frame) == 0:
        return
    geoms = frame.geometry.values
    if layer.kind == "polygon" and len(frame) > DENSE_ABOVE:
        draw_dense_polygons(ax, layer)
    elif layer.kind == "polygon":
        coll = PathCollection(
            polygon_paths(geoms),
            facecolors=layer.facecolors if layer.facecolors is not None else "none",
            edgecolors=layer.edgecolors if layer.edgecolors is not None else "none",
            linewidths=layer.linewidths if layer.linewidths is not None else layer.linewidth,
            linestyles=layer.linestyle,
            zorder=layer.zorder,
        )
        # Paths are in data coordinates; the default identity offset leaves them in place.
        coll.set_transform(ax.transData)
        coll.set_rasterized(layer.rasterized)
        ax.add_collection(coll, autolim=False)
    elif layer.kind == "line":
        segments, owner = line_segments(geoms)
        colors = layer.edgecolors if layer.edgecolors is not None else layer.facecolors
        lines = LineCollection(
            segments,
            colors=colors[owner] if colors is not None else "black",
            linewidths=layer.linewidths[owner] if layer.linewidths is not None else layer.linewidth,
            linestyles=layer.linestyle,
            capstyle="round",
            joinstyle="round",
            zorder=layer.zorder,
        )
        lines.set_rasterized(layer.rasterized)
        ax.add_collection(lines, autolim=False)
    else:
        coords, owner = point_coords(geoms)
        if len(coords) == 0:
            return
        ax.scatter(
            coords[:, 0],
            coords[:, 1],
            s=layer.marker_size,
            marker=layer.marker,
            facecolors=layer.facecolors[owner] if layer.facecolors is not None else "none",
            edgecolors=layer.edgecolors[owner] if layer.edgecolors is not None else "none",
            linewidths=max(layer.linewidth * 0.8, 0.3),
            zorder=layer.zorder,
            rasterized=layer.rasterized,
        )


# --------------------------------------------------------------------------------------------
# Preset adapter: planatlas.maps (the one style source) -> MapLayer
# --------------------------------------------------------------------------------------------


def _dash(dash: str | None, width_px: float) -> LineStyleType:
    """Leaflet ``dashArray`` ("8 4", px) -> matplotlib dash tuple (scaled by the line width)."""
    if not dash:
        return "-"
    try:
        values = [float(v) for v in re.split(r"[ ,]+", dash.strip()) if v]
    except ValueError:
        return "--"
    if not values:
        return "-"
    scale = max(width_px, 0.1)
    return (0, tuple(v / scale for v in values))


_KINDS: dict[str, GeomKind] = {"fill": "polygon", "line": "line", "point": "point"}


def _mpl_kind(symbol: str) -> GeomKind:
    return _KINDS.get(symbol, "polygon")


def _with_alpha(color: str, alpha: float) -> tuple[float, float, float, float]:
    r, g, b, _ = to_rgba(color)
    return (r, g, b, alpha)


def _legend_entries(prepared: PreparedLayer, lang: str) -> list[LegendEntry]:
    pl, rs = prepared.layer, prepared.resolved
    entries = []
    for e in rs.legend(lang, title=pl.title):
        kind = _mpl_kind(e.symbol)
        fill = _with_alpha(e.color, e.fill_opacity) if e.fill_opacity > 0 and kind != "line" else None
        entries.append(
            LegendEntry(
                label=e.label_in(lang),
                kind=kind,
                facecolor=fill,
                edgecolor=(e.stroke_color or e.color) if rs.style.stroke or kind == "line" else None,
                linewidth=max(e.weight * PX_TO_PT, 0.3),
                linestyle=_dash(e.dash, e.weight),
            )
        )
    return entries


def map_layer(prepared: PreparedLayer, lang: str, *, label_priority: int = 0, label: bool = True) -> MapLayer:
    """One :class:`planatlas.maps.PreparedLayer` as a drawable :class:`MapLayer`.

    Colours, widths, opacity, dashes and legend rows all come from the prepared layer's
    ``ResolvedStyle``; only the pixel-to-point conversion for paper happens here.
    """
    pl = prepared.layer
    rs = prepared.resolved
    st = rs.style
    frame = to_metric(prepared.frame, name=pl.layer)
    n = len(frame)
    kind = _mpl_kind(rs.symbol)
    colors = rs.feature_colors(frame) if n else []
    widths_px = np.asarray(rs.feature_widths(frame) if n else [], dtype=float)
    face = edge = None
    if kind == "line":
        edge = rgba_array(colors, n, alpha=st.opacity)
    else:
        if st.fill:
            face = rgba_array(colors, n, alpha=st.fill_opacity)
        if st.stroke:
            edge = rgba_array(st.stroke_color or colors, n, alpha=st.opacity)
    title = pl.title_in(lang)
    # Same marking as the interactive layer control (planatlas.render.interactive.layer_title).
    marker = "schematic_marker" if prepared.schematic else "official_marker" if prepared.official else None
    legend_title = title + (t(marker, lang) if marker else "")
    width_px = float(np.median(widths_px)) if n else st.weight
    return MapLayer(
        name=pl.id,
        title=title,
        legend_title=legend_title,
        frame=frame,
        kind=kind,
        facecolors=face,
        edgecolors=edge,
        linewidth=max(width_px * PX_TO_PT, 0.2),
        linewidths=widths_px * PX_TO_PT if n and np.ptp(widths_px) > 0 else None,
        linestyle=_dash(st.dash, width_px),
        marker_size=(2 * st.radius * PX_TO_PT) ** 2,
        legend=_legend_entries(prepared, lang) if pl.legend else [],
        label_column=prepared.label_column(lang) if label else None,
        label_priority=label_priority,
        rasterized=n > RASTERIZE_ABOVE,
    )


def resolve_layers(prepared: Sequence[PreparedLayer], lang: str) -> list[MapLayer]:
    """Drawable layers of a prepared preset, bottom to top, hidden-by-default layers left out.

    Labels: layers the preset labels on the map first, then point layers (placed only where
    there is room); polygons and lines without ``labels_on_map`` are explained by the legend.
    """
    out = []
    for z, p in enumerate(prepared):
        pl = p.layer
        if not pl.show:
            continue
        is_point = _mpl_kind(p.resolved.symbol) == "point"
        label = pl.interactive and (pl.labels_on_map or (is_point and len(p.frame) <= 80))
        priority = 2 if pl.labels_on_map else 1
        layer = map_layer(p, lang, label_priority=priority, label=label)
        layer.zorder = 1 + z
        out.append(layer)
    return out


def prepare(
    preset: Preset, frames: Mapping[str, pd.DataFrame], *, params: Mapping[str, Any] | None = None
) -> list[PreparedLayer]:
    """Prepare a preset's catalogue frames with :func:`planatlas.maps.prepare_preset`.

    Raises
    ------
    PresetDataError
        When the frames do not have what the preset draws (a layer, a column or a parameter).
    """
    try:
        return prepare_preset(preset, frames, params=params)
    except (KeyError, TypeError) as exc:
        reason = exc.args[0] if exc.args else exc
        msg = f"preset {preset.name!r} does not match the atlas data: {reason}"
        raise PresetDataError(msg) from exc


def preset_extent(preset: Preset, prepared: Sequence[PreparedLayer]) -> np.ndarray | None:
    """Metric bounds of the layers that frame the preset (``preset.extent``), or None."""
    bounds = prepared_bounds(list(prepared), tuple(preset.extent or ()))
    if bounds is None:
        return None
    tr = Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True)
    xs, ys = tr.transform([bounds[0], bounds[2], bounds[0], bounds[2]], [bounds[1], bounds[1], bounds[3], bounds[3]])
    return np.array([min(xs), min(ys), max(xs), max(ys)])


def data_bounds(layers: Sequence[MapLayer]) -> np.ndarray:
    """Metric bounds of every feature of ``layers``; an error when all of them are empty."""
    bounds = [ly.frame.total_bounds for ly in layers if len(ly.frame)]
    if not bounds:
        msg = "nothing to draw: every layer of the preset is empty"
        raise ValueError(msg)
    arr = np.array(bounds)
    return np.array([arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max()])
