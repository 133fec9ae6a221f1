"""Text on printed pages: widths and wrapping of CJK/Latin text, and feature labels placed without collisions.

:func:`wrap_text` / :func:`fit_text` break notes and guidance into lines that fit a box;
:func:`place_labels` puts feature labels on the map greedily (most important first), each at the
first candidate spot that overlaps no placed label, point marker or piece of map furniture.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import shapely

from planatlas.render.fonts import CJKFont, underlay
from planatlas.render.layers import MapLayer, point_coords
from planatlas.render.page import figure_of, renderer_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

HAlign = Literal["left", "center", "right"]
VAlign = Literal["top", "center", "bottom"]
#: A label position relative to its anchor: dx, dy (display units) and the text alignment.
Offset = tuple[float, float, HAlign, VAlign]


def _char_em(ch: str) -> float:
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1.0
    if ch.isspace():
        return 0.28
    if ch.isupper() or ch in "mwMW@%":
        return 0.68
    return 0.55


def text_width_pt(text: str, fontsize: float) -> float:
    """Approximate advance width of a one-line text in points (Noto Sans CJK metrics)."""
    return sum(_char_em(c) for c in text) * fontsize


_NO_LINE_START = set("，。、；：？！）》」』】,.;:?!)%·")
_TOKEN = re.compile(r"[A-Za-z0-9_\-./:%()（）·'’]+|\s+|.", re.S)


def wrap_text(text: str, width_pt: float, fontsize: float) -> list[str]:
    """Break text into lines no wider than ``width_pt``; CJK breaks anywhere, Latin at spaces."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        width = 0.0
        for token in _TOKEN.findall(paragraph):
            w = text_width_pt(token, fontsize)
            if line and width + w > width_pt and token[0] not in _NO_LINE_START:
                lines.append(line.rstrip())
                line, width = ("", 0.0) if token.isspace() else (token, w)
                continue
            line += token
            width += w
        lines.append(line.rstrip())
    return lines


def fit_text(
    text: str, *, width_pt: float, height_pt: float, fontsize: float, min_fontsize: float = 5.5
) -> tuple[list[str], float, bool]:
    """Wrap text to a box, shrinking the font until it fits; returns (lines, size, truncated)."""
    size = fontsize
    while True:
        lines = wrap_text(text, width_pt, size)
        if len(lines) * size * 1.45 <= height_pt:
            return lines, size, False
        if size <= min_fontsize:
            break
        size = max(min_fontsize, size * 0.92)
    keep = max(1, int(height_pt / (size * 1.45)))
    lines = lines[:keep]
    lines[-1] = lines[-1][: max(0, len(lines[-1]) - 1)] + "…"
    return lines, size, True


def label_anchors(layer: MapLayer) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Anchor points (metric), label texts and feature areas/lengths for a layer's labels."""
    frame = layer.frame
    col = layer.label_column
    if not col or col not in frame.columns or len(frame) == 0:
        return np.empty((0, 2)), [], np.empty(0)
    geoms = frame.geometry.values
    texts = frame[col].astype("string").fillna("").tolist()
    if layer.kind == "polygon":
        pts = shapely.point_on_surface(geoms)
        weight = shapely.area(geoms)
    elif layer.kind == "line":
        merged = shapely.line_merge(geoms)
        pts = shapely.line_interpolate_point(merged, 0.5, normalized=True)
        weight = shapely.length(geoms)
    else:
        pts = shapely.centroid(geoms)
        weight = np.ones(len(frame))
    coords = shapely.get_coordinates(pts)
    ok = ~shapely.is_empty(pts)
    if len(coords) != len(frame):
        coords_full = np.full((len(frame), 2), np.nan)
        coords_full[ok] = coords
        coords = coords_full
    return coords, texts, np.asarray(weight, dtype=float)


def _blocked_boxes(
    ax: Axes, layers: Sequence[MapLayer], obstacles: Sequence[Bbox], px_per_pt: float
) -> tuple[np.ndarray, dict[str, float]]:
    """Boxes (x0, y0, x1, y1) in display units that labels must not cover, and marker radii.

    The furniture and every point marker (for layers of up to a few thousand points).
    """
    blocked = [np.array([[b.x0, b.y0, b.x1, b.y1] for b in obstacles]).reshape(-1, 4)]
    marker_r: dict[str, float] = {}
    for layer in layers:
        if layer.kind != "point" or not len(layer.frame):
            continue
        r = math.sqrt(layer.marker_size) / 2 * px_per_pt
        marker_r[layer.name] = r
        if len(layer.frame) <= 5000:
            pts = ax.transData.transform(point_coords(layer.frame.geometry.values)[0])
            blocked.append(np.column_stack([pts - r, pts + r]))
    return np.vstack(blocked), marker_r


def _candidates(layers: Sequence[MapLayer]) -> list[tuple[int, float, MapLayer, np.ndarray, str]]:
    """Every label to place, higher priority first, then bigger features first."""
    candidates: list[tuple[int, float, MapLayer, np.ndarray, str]] = []
    for layer in layers:
        coords, labels, weight = label_anchors(layer)
        for xy, text, wgt in zip(coords, labels, weight, strict=True):
            if not text or not np.all(np.isfinite(xy)):
                continue
            candidates.append((layer.label_priority, float(wgt), layer, xy, text))
    candidates.sort(key=lambda c: (-c[0], -c[1]))
    return candidates


def _offsets(layer: MapLayer, *, gap: float, step: float) -> list[Offset]:
    """Spots tried in turn: around a point marker, or on and beside a polygon's or line's anchor."""
    if layer.kind == "point":
        return [
            (gap, 0, "left", "center"),
            (-gap, 0, "right", "center"),
            (0, gap, "center", "bottom"),
            (0, -gap, "center", "top"),
            (gap, gap, "left", "bottom"),
            (-gap, gap, "right", "bottom"),
            (gap, -gap, "left", "top"),
            (-gap, -gap, "right", "top"),
        ]
    return [
        (0, 0, "center", "center"),
        (0, step, "center", "center"),
        (0, -step, "center", "center"),
        (step * 2, 0, "center", "center"),
        (-step * 2, 0, "center", "center"),
    ]


def place_labels(
    ax: Axes,
    layers: Sequence[MapLayer],
    font: CJKFont,
    *,
    fontsize: float,
    obstacles: Sequence[Bbox] = (),
    max_labels: int = 400,
) -> list[Text]:
    """Greedy label placement: highest priority first, each at the first candidate spot whose
    box overlaps no placed label, no obstacle (scale bar, north arrow) and stays in the map."""
    renderer = renderer_of(ax)
    frame_box = ax.get_window_extent(renderer)
    px_per_pt = figure_of(ax).dpi / 72.0
    boxes, marker_r = _blocked_boxes(ax, layers, obstacles, px_per_pt)
    placed: list[Text] = []
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for _prio, _w, layer, xy, text in _candidates(layers)[: max_labels * 3]:
        if not (x0 <= xy[0] <= x1 and y0 <= xy[1] <= y1):
            continue
        size = fontsize * (1.1 if layer.kind == "polygon" else 0.9)
        gap = marker_r.get(layer.name, 0.0) + 1.5 * px_per_pt
        anchor = ax.transData.transform(xy)
        artist = ax.text(
            xy[0], xy[1], text, fontsize=size, fontfamily=font.family, color="#222222", zorder=30 + layer.label_priority
        )
        for dx, dy, ha, va in _offsets(layer, gap=gap, step=size * 1.6 * px_per_pt):
            artist.set_position(tuple(ax.transData.inverted().transform(anchor + np.array([dx, dy]))))
            artist.set_horizontalalignment(ha)
            artist.set_verticalalignment(va)
            box = artist.get_window_extent(renderer)
            if not frame_box.contains(box.x0, box.y0) or not frame_box.contains(box.x1, box.y1):
                continue
            hit = (boxes[:, 0] < box.x1) & (boxes[:, 2] > box.x0) & (boxes[:, 1] < box.y1) & (boxes[:, 3] > box.y0)
            if hit.any():
                continue
            grown = box.expanded(1.05, 1.15)
            boxes = np.vstack([boxes, [grown.x0, grown.y0, grown.x1, grown.y1]])
            placed.append(artist)
            underlay(artist, linewidth=2.2, color="white")
            break
        else:
            artist.remove()
        if len(placed) >= max_labels:
            break
    return placed
