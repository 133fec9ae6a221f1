"""Distances in metres: parsing ``"1km"``-style input and the exact point-to-geometry distance kernel.

The kernel measures the true minimum Euclidean distance (as GEOS ``distance``) from points to
geometries given as their segments, vectorised over many (point, geometry) pairs at once;
:class:`planatlas.query.ProximityIndex` uses it for point references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

__all__ = ["Segments", "parse_distance", "point_distances", "segments_of"]

_CHUNK = 32768  # pairs per vectorised step of the exact distance kernel

_DISTANCE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(km|m|公里|千米|米)?\s*$", re.IGNORECASE)
_UNIT_FACTOR = {"km": 1000.0, "公里": 1000.0, "千米": 1000.0, "m": 1.0, "米": 1.0, None: 1.0}


def parse_distance(value: str | float | int) -> float:
    """Parse a distance such as ``"1km"``, ``"500m"``, ``"1.5 km"``, ``"800"`` or ``300`` into metres.

    Raises
    ------
    ValueError
        If the value is not a non-negative number with an optional unit ``m``/``km``.
    """
    if isinstance(value, bool):
        msg = f"distance should be metres or a string like '1km', got {value!r}"
        raise ValueError(msg)  # noqa: TRY004 - a bool is a bad value, not a bad type: callers catch ValueError
    if isinstance(value, int | float):
        metres = float(value)
    else:
        match = _DISTANCE_RE.match(str(value))
        if not match:
            msg = f"distance should be a number with an optional unit m or km (e.g. '500m', '1km'), got {value!r}"
            raise ValueError(msg)
        unit = match.group(2).lower() if match.group(2) else None
        metres = float(match.group(1)) * _UNIT_FACTOR[unit]
    if not np.isfinite(metres) or metres < 0:
        msg = f"distance should be non-negative metres, got {value!r}"
        raise ValueError(msg)
    return metres


@dataclass(frozen=True)
class Segments:
    """Every segment of every geometry, grouped by geometry (points are zero-length segments)."""

    ab: NDArray[np.float64]  # (n, 4): ax, ay, bx, by
    offset: NDArray[np.int64]  # segments of geometry i: offset[i]:offset[i + 1]


def segments_of(geoms: NDArray[np.object_]) -> Segments:
    """Segments of every geometry: rings and lines as consecutive vertex pairs, points degenerate."""
    types = shapely.get_type_id(geoms)
    # Points, lines and polygons without holes are one piece each (most footprints): no splitting.
    simple = np.isin(types, (0, 1, 2)) | ((types == 3) & (shapely.get_num_interior_rings(geoms) == 0))
    simple_idx = np.flatnonzero(simple)
    complex_idx = np.flatnonzero(~simple)
    pieces_list = [geoms[simple_idx]]
    owner_list = [simple_idx]
    if len(complex_idx):
        parts, part_owner = shapely.get_parts(geoms[complex_idx], return_index=True)
        part_owner = complex_idx[part_owner]
        # Polygons contribute their rings, lines and points themselves.
        is_poly = shapely.get_type_id(parts) == 3
        rings, ring_owner = shapely.get_rings(parts[is_poly], return_index=True)
        pieces_list += [rings, parts[~is_poly]]
        owner_list += [part_owner[is_poly][ring_owner], part_owner[~is_poly]]
    pieces = np.concatenate(pieces_list)
    owner = np.concatenate(owner_list)
    order = np.argsort(owner, kind="stable")
    pieces, owner = pieces[order], owner[order]
    coords, coord_piece = shapely.get_coordinates(pieces, return_index=True)
    n_coords = np.bincount(coord_piece, minlength=len(pieces))
    piece_start = np.concatenate([[0], np.cumsum(n_coords)[:-1]])
    single = n_coords[coord_piece] == 1  # a point: one degenerate segment
    last = np.zeros(len(coords), dtype=bool)
    filled = n_coords > 0
    last[(piece_start + n_coords - 1)[filled]] = True
    seg_from = np.flatnonzero(~last | single)
    seg_to = np.where(single[seg_from], seg_from, seg_from + 1)
    seg_owner = owner[coord_piece[seg_from]]
    counts = np.bincount(seg_owner, minlength=len(geoms))
    offset = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    ab = np.empty((len(seg_from), 4))
    ab[:, :2] = coords[seg_from]
    ab[:, 2:] = coords[seg_to]
    return Segments(ab, offset)


def point_segment_distance2(
    px: NDArray[np.float64], py: NDArray[np.float64], ab: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Squared distance from points to segments (rows of ``ab``: ax, ay, bx, by)."""
    ax, ay = ab[..., 0], ab[..., 1]
    dx, dy = ab[..., 2] - ax, ab[..., 3] - ay
    len2 = dx * dx + dy * dy
    ux, uy = px - ax, py - ay
    r = np.clip((ux * dx + uy * dy) / np.where(len2 == 0, 1.0, len2), 0.0, 1.0)
    ex, ey = ux - r * dx, uy - r * dy
    return ex * ex + ey * ey


def point_distances(
    seg: Segments, tp: NDArray[np.int64], qx: NDArray[np.float64], qy: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Distance from each point (``qx``, ``qy``) to the outline of geometry ``tp`` (its segments).

    The distance to the boundary only: a point inside a polygon gets its distance to the nearest
    edge, and the caller sets it to 0.
    """
    first = seg.offset[tp]
    counts = seg.offset[tp + 1] - first
    dp = np.empty(len(tp))
    # Pairs grouped by the target's segment count: each group is one (pairs x k) array
    # (footprints mostly share a handful of counts), the rest through repeat/reduceat.
    n_kind = np.bincount(counts)
    is_common = (n_kind >= 64) & (np.arange(len(n_kind)) <= 64) & (np.arange(len(n_kind)) > 0)
    common = np.flatnonzero(is_common)
    rest = ~is_common[counts]
    for k in common:
        # In chunks: the temporaries stay in cache instead of streaming ~100 MB per step.
        all_sel = np.flatnonzero(counts == k)
        for lo in range(0, len(all_sel), _CHUNK):
            sel = all_sel[lo : lo + _CHUNK]
            ab = seg.ab[first[sel, None] + np.arange(k)]
            d2 = point_segment_distance2(qx[sel, None], qy[sel, None], ab)
            dp[sel] = np.sqrt(d2.min(axis=1))
    if rest.any():
        sel = np.flatnonzero(rest)
        c = counts[sel]
        starts = np.concatenate([[0], np.cumsum(c)[:-1]])
        rep = np.repeat(sel, c)
        k = np.arange(int(c.sum())) + np.repeat(first[sel] - starts, c)
        per_seg = point_segment_distance2(qx[rep], qy[rep], seg.ab[k])
        dp[sel] = np.sqrt(np.minimum.reduceat(per_seg, starts))
    return dp
