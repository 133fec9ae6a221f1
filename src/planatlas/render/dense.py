"""Dense polygon layers on paper (10⁵–10⁶ footprints): only what the page shows, one path per style.

A ``PathCollection`` with one path per feature costs a Python object and a draw call per feature
(100k footprints: ~2.5 s at A4 300 dpi; 1M: ten times that). Here, for a layer above
:data:`DENSE_ABOVE` features:

* features whose bounding box misses the axes' view are dropped before anything is built;
* the rest become one compound path per distinct (fill, outline, width) style: all their rings,
  built from shapely's coordinate arrays in one go, drawn in one call (non-zero winding: holes
  wound against their shell stay holes; overlapping footprints of one style fill once);
* outlines are stroked only where the median feature spans at least :data:`STROKE_MIN_PX`
  pixels: below that an outline covers the whole fill and says nothing at that scale.

Polygons without holes (most footprints) go straight from shapely's coordinate array into the
path, each ring turned counter-clockwise by the sign of its shoelace area; the others are oriented
by GEOS. A4 300 dpi, a city of 1M footprints: 5.5 s against 11.4 s with one path per feature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from matplotlib.collections import PathCollection
from matplotlib.path import Path as MplPath

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from planatlas.render.layers import MapLayer

#: Polygon layers with more features take this path (below it, one path per feature is cheap).
DENSE_ABOVE = 20000
#: Outlines are drawn where the median feature spans at least this many pixels.
STROKE_MIN_PX = 3.0


def in_view(ax: Axes, geoms: np.ndarray) -> np.ndarray:
    """Which geometries' bounding boxes meet the axes' current view (data limits)."""
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    b = shapely.bounds(geoms)
    return np.asarray((b[:, 2] >= x0) & (b[:, 0] <= x1) & (b[:, 3] >= y0) & (b[:, 1] <= y1))


def pixel_size(ax: Axes) -> float:
    """Data units per device pixel along x in the axes as laid out now."""
    width_px = max(ax.get_window_extent().width, 1.0)
    x0, x1 = ax.get_xlim()
    return float(abs(x1 - x0) / width_px)


def _ring_codes(ring: np.ndarray) -> np.ndarray:
    """Path codes for coordinates grouped in consecutive closed rings (``ring``: each coordinate's ring)."""
    codes = np.full(len(ring), MplPath.LINETO, dtype=MplPath.code_type)
    if len(ring):
        starts = np.r_[0, np.flatnonzero(np.diff(ring)) + 1]
        codes[starts] = MplPath.MOVETO
        codes[np.r_[starts[1:] - 1, len(ring) - 1]] = MplPath.CLOSEPOLY
    return codes


def _counter_clockwise(coords: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """``coords`` with every clockwise ring reversed (shoelace sign per ring), rings kept in place."""
    if not len(coords):
        return coords
    starts = np.r_[0, np.flatnonzero(np.diff(ring)) + 1]
    ends = np.r_[starts[1:] - 1, len(ring) - 1]
    x, y = coords[:, 0], coords[:, 1]
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    cross = np.r_[cross, 0.0]
    cross[ends] = 0.0  # no segment from one ring's last vertex to the next ring's first
    area = np.add.reduceat(cross, starts)
    which = np.repeat(np.arange(len(starts)), ends - starts + 1)
    index = np.arange(len(coords))
    flip = area[which] < 0
    index[flip] = starts[which[flip]] + ends[which[flip]] - index[flip]
    return coords[index]


def compound_path(geoms: np.ndarray) -> MplPath:
    """All rings of ``geoms`` as one path (shells counter-clockwise, holes wound against them)."""
    geoms = np.asarray(geoms, dtype=object)
    # Polygons without holes (most footprints): one ring each, straight from the coordinate array.
    simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    coords, ring = shapely.get_coordinates(geoms[simple], return_index=True)
    coords = _counter_clockwise(coords, ring)
    pieces, codes = [coords], [_ring_codes(ring)]
    if (~simple).any():
        rings = shapely.get_rings(shapely.get_parts(shapely.orient_polygons(geoms[~simple])))
        more, more_ring = shapely.get_coordinates(rings, return_index=True)
        pieces.append(more)
        codes.append(_ring_codes(more_ring))
    return MplPath(np.concatenate(pieces), np.concatenate(codes))


def _style_groups(layer: MapLayer, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per kept feature its style group, and one representative feature index per group."""
    n = int(keep.sum())
    columns = [np.zeros((n, 0))]
    columns.extend(np.asarray(a)[keep] for a in (layer.facecolors, layer.edgecolors) if a is not None)
    if layer.linewidths is not None:
        columns.append(np.asarray(layer.linewidths, dtype=float)[keep].reshape(n, 1))
    styles = np.hstack(columns)
    if styles.shape[1] == 0:
        return np.zeros(n, dtype=np.int64), np.zeros(1 if n else 0, dtype=np.int64)
    # Rows as opaque byte strings: one hash-based factorisation instead of a sort of float rows (1M: 0.14 s, not 1.3 s).
    rows = np.ascontiguousarray(styles).view(np.dtype((np.void, styles.dtype.itemsize * styles.shape[1]))).ravel()
    codes, _ = pd.factorize(rows)
    group = np.asarray(codes, dtype=np.int64)
    first = np.full(int(group.max()) + 1, n, dtype=np.int64)
    np.minimum.at(first, group, np.arange(n, dtype=np.int64))
    return group, first


def draw_dense_polygons(ax: Axes, layer: MapLayer) -> None:
    """Draw a dense polygon layer: in-view features, one compound path per style."""
    geoms = np.asarray(layer.frame.geometry.values, dtype=object)
    keep = in_view(ax, geoms) & ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    if not keep.any():
        return
    kept = geoms[keep]
    group, first = _style_groups(layer, keep)
    order = np.argsort(group, kind="stable")
    bounds = np.cumsum(np.bincount(group, minlength=len(first)))[:-1]
    paths = [compound_path(part) for part in np.split(kept[order], bounds)]
    b = shapely.bounds(kept)
    median_px = float(np.median(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]))) / max(pixel_size(ax), 1e-12)
    stroke = layer.edgecolors is not None and median_px >= STROKE_MIN_PX
    rows = np.flatnonzero(keep)[first]
    face = np.asarray(layer.facecolors)[rows] if layer.facecolors is not None else "none"
    edge = np.asarray(layer.edgecolors)[rows] if stroke and layer.edgecolors is not None else "none"
    widths = np.asarray(layer.linewidths)[rows] if layer.linewidths is not None else layer.linewidth
    coll = PathCollection(
        paths,
        facecolors=face,
        edgecolors=edge,
        linewidths=widths if stroke else 0.0,
        linestyles=layer.linestyle,
        zorder=layer.zorder,
    )
    coll.set_transform(ax.transData)
    coll.set_rasterized(layer.rasterized)
    ax.add_collection(coll, autolim=False)
