"""Spatial queries over layers: within-distance, nearest, inside/intersects, summarize, coverage (pure).

Semantics (identical on every backend; :mod:`planatlas.store.postgis` pushes the same queries down):

* Inputs are GeoDataFrames with a CRS (the atlas stores EPSG:4490). Every measurement happens in the
  metric CRS EPSG:4548 (CGCS2000 / 3-degree Gauss-Krüger CM 117°E); inputs in another CRS are projected
  to it explicitly by :func:`to_metric`, and results keep the input's CRS and geometry.
* A distance is the true minimum Euclidean distance between the two geometries in EPSG:4548 (0 when
  they touch or overlap), as GEOS ``distance`` and PostGIS ``ST_Distance`` define it. "Within D" means
  distance ≤ D (``ST_DWithin``). Buffer polygons and centroid/representative-point distances are never
  used to decide a match: they miss true pairs near the threshold. They only prune candidates, with a
  radius bound that cannot lose a pair (see :class:`ProximityIndex`).
* Ties (equal distances) are broken by the reference key in code-point order (``COLLATE "C"``).
* "Inside" is ``covered_by`` (boundary included); "intersects" shares at least one point.
* ``summarize`` and ``coverage`` assign each feature to ONE zone through its representative point
  (GEOS ``point_on_surface`` in EPSG:4548): a feature straddling two streets is counted once, in the
  street holding the point (the smallest zone key if the point lies on a shared boundary).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planatlas.crs import metric_geometries

__all__ = [
    "QUERY_KINDS",
    "ProximityIndex",
    "QueryRequest",
    "QueryResult",
    "coverage",
    "inside",
    "intersects",
    "nearest",
    "parse_distance",
    "run_query",
    "summarize",
    "within_distance",
]

#: Output column names shared by both backends.
NEAREST_KEY = "nearest_key"
DISTANCE = "distance_m"
WITHIN_COUNT = "within_count"
REF_KEY = "ref_key"
ZONE_KEY = "zone_key"
ZONE_COUNT = "zone_count"
OVERALL = "(all)"
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
        raise ValueError(msg)
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


def key_column(frame: pd.DataFrame, key: str | None = None) -> str:
    """Name of the key column: ``key`` if given, else ``frame.attrs['key']``, else the first column."""
    if key is None:
        key = frame.attrs.get("key")
    if key is None:
        columns = [c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
        if not columns:
            msg = "layer has no attribute column to use as key; pass key=..."
            raise ValueError(msg)
        key = str(columns[0])
    if key not in frame.columns:
        msg = f"key column {key!r} not in layer columns {list(frame.columns)!r}"
        raise KeyError(msg)
    return key


def _order_keys(keys: NDArray[Any]) -> NDArray[np.int64]:
    """Rank of each key in code-point order (what PostgreSQL's COLLATE "C" gives for UTF-8 text)."""
    as_text = np.array([str(k) for k in keys], dtype=object)
    order = np.argsort(as_text, kind="stable")
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return rank


# --------------------------------------------------------------------------------------------------
# The two-stage distance filter
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Segments:
    """Every segment of every geometry, grouped by geometry (points are zero-length segments)."""

    ab: NDArray[np.float64]  # (n, 4): ax, ay, bx, by
    offset: NDArray[np.int64]  # segments of geometry i: offset[i]:offset[i + 1]


def _segments(geoms: NDArray[np.object_]) -> _Segments:
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
    return _Segments(ab, offset)


def _point_segment_distance2(
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


class ProximityIndex:
    """A prepared target layer for fast, exact distance queries (build once, query many times).

    Stage 1 keeps, for each geometry, an anchor point ``a`` (the centre of its bounding box), its radius
    ``r`` (the largest distance from ``a`` to a vertex, so the geometry lies inside the disk (a, r)) and
    ``h``, the exact distance from ``a`` to the geometry (0 when the anchor is inside it). For a reference
    feature with anchor ``b``, radius ``s`` and offset ``k``::

        |a - b| - r - s  <=  distance(geometry, reference)  <=  |a - b| + h + k

    Anchors are sorted by row (a band of y) and x. For each reference and row two binary searches give
    the run of anchors whose upper bound is ≤ D (they match for certain, in bulk, without touching them
    one by one) and the run whose lower bound may be ≤ D. Stage 2 computes exact distances only for the
    uncertain band between the two runs (point references: vectorised point-to-segment distances,
    re-checked with GEOS within 1 µm of D; other references: GEOS ``distance``), or for every match when
    distances are asked for. Geometries much larger than the typical one (and large references) go
    through an STRtree over the geometries with GEOS ``dwithin``, which is exact too.

    Parameters
    ----------
    geoms
        Target geometries in EPSG:4548 (see :func:`to_metric`).
    """

    def __init__(self, geoms: NDArray[np.object_]):
        self.geoms = np.asarray(geoms, dtype=object)
        self.empty = shapely.is_empty(self.geoms) | shapely.is_missing(self.geoms)
        self.ax, self.ay, self.radius, self.offset = _anchors(self.geoms)
        # Polygons, multipolygons and collections (which may hold polygons) can contain a point.
        self.polygonal = np.isin(shapely.get_type_id(self.geoms), (3, 6, 7))
        self._segments: _Segments | None = None
        self._strtree: shapely.STRtree | None = None
        self._large_tree: shapely.STRtree | None = None
        live = ~self.empty
        median = float(np.median(self.radius[live])) if live.any() else 0.0
        #: Geometries with a radius above ``cut`` take the STRtree path.
        self.cut = max(4.0 * median, 1.0)
        small = live & (self.radius <= self.cut)
        self.large = np.flatnonzero(live & ~small)
        members = np.flatnonzero(small)
        self.members = members
        if not len(members):
            return
        mx, my = self.ax[members], self.ay[members]
        self.x0, self.y0 = float(mx.min()), float(my.min())
        span_y = float(my.max()) - self.y0
        self.row_h = max(min(max(median, 5.0), 500.0), span_y / 20000.0)
        rows = np.floor((my - self.y0) / self.row_h)
        self.nrows = int(rows.max()) + 1
        self.width = float(mx.max()) - self.x0 + 1.0
        comp = rows * self.width + (mx - self.x0)
        order = np.argsort(comp, kind="stable")
        self.members, self.comp = members[order], comp[order]
        # Rounding in the row-major key is far below this slack; the bounds stay conservative.
        self.slack = max(1e-6, 8.0 * float(np.spacing(self.comp[-1])))
        self.r_max = float(self.radius[self.members].max())
        self.h_max = float(self.offset[self.members].max())
        # Copies in row-major order: the runs the queries walk are contiguous in memory.
        m = self.members
        self.m_geoms, self.m_ax, self.m_ay = self.geoms[m], self.ax[m], self.ay[m]
        self.m_radius, self.m_offset, self.m_polygonal = self.radius[m], self.offset[m], self.polygonal[m]

    def __len__(self) -> int:
        return len(self.geoms)

    @classmethod
    def from_frame(cls, frame: gpd.GeoDataFrame) -> ProximityIndex:
        return cls(metric_geometries(frame))

    @property
    def segments(self) -> _Segments:
        """Segments of the small geometries, in row-major (sorted member) order."""
        if self._segments is None:
            self._segments = _segments(self.m_geoms)
        return self._segments

    @property
    def strtree(self) -> shapely.STRtree:
        if self._strtree is None:
            self._strtree = shapely.STRtree(self.geoms)
        return self._strtree

    # -- stage 1 -----------------------------------------------------------------------------------
    def _runs(
        self,
        bx: NDArray[np.float64],
        by: NDArray[np.float64],
        s: NDArray[np.float64],
        k: NDArray[np.float64],
        distance: float,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Per (reference, row): reference index and the outer/inner runs of sorted anchors."""
        eps = self.slack
        r_out = distance + self.r_max + s + eps
        r_in = distance - self.h_max - k - eps
        lo = np.clip(np.floor((by - r_out - self.y0) / self.row_h), 0, self.nrows - 1).astype(np.int64)
        hi = np.clip(np.floor((by + r_out - self.y0) / self.row_h), 0, self.nrows - 1).astype(np.int64)
        reach = (by + r_out >= self.y0) & (by - r_out <= self.y0 + self.nrows * self.row_h)
        n = np.where(reach, hi - lo + 1, 0)
        ref = np.repeat(np.arange(len(bx)), n)
        starts = np.concatenate([[0], np.cumsum(n)[:-1]])
        row = lo[ref] + np.arange(int(n.sum())) - np.repeat(starts, n)
        y_a = self.y0 + row * self.row_h
        y_b = y_a + self.row_h
        qx, qy = bx[ref], by[ref]
        da, db = np.abs(y_a - qy), np.abs(y_b - qy)
        m_max = np.maximum(da, db) + eps
        m_min = np.where((qy >= y_a) & (qy <= y_b), 0.0, np.minimum(da, db) - eps).clip(0.0)
        ro, ri = r_out[ref], r_in[ref]
        w_out = np.sqrt(np.clip(ro * ro - m_min * m_min, 0.0, None))
        has_in = ri > m_max
        w_in = np.sqrt(np.clip(ri * ri - m_max * m_max, 0.0, None))
        base = row * self.width - self.x0
        row_lo, row_hi = row * self.width - 0.5, row * self.width + self.width - 0.5
        out_lo = np.searchsorted(self.comp, np.maximum(base + qx - w_out - eps, row_lo), "left")
        out_hi = np.searchsorted(self.comp, np.minimum(base + qx + w_out + eps, row_hi), "right")
        in_lo = np.searchsorted(self.comp, np.maximum(base + qx - w_in + eps, row_lo), "left")
        in_hi = np.searchsorted(self.comp, np.minimum(base + qx + w_in - eps, row_hi), "right")
        in_lo = np.where(has_in, np.clip(in_lo, out_lo, out_hi), out_lo)
        in_hi = np.where(has_in, np.clip(in_hi, in_lo, out_hi), out_lo)
        out_hi = np.maximum(out_hi, out_lo)
        return ref, out_lo, in_lo, in_hi, out_hi

    # -- the query -----------------------------------------------------------------------------------
    def pairs_within(
        self, reference: NDArray[np.object_], distance: float, *, distances: bool = True
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """All (target index, reference index, distance) pairs with distance ≤ ``distance``.

        ``reference`` are geometries in EPSG:4548. With ``distances=False`` pairs decided by the bounds
        alone carry NaN instead of their exact distance. Pairs come back in no particular order.
        """
        t, r, d, _ = self._query(reference, distance, distances=distances, expand_sure=True)
        return t, r, d

    def count_within(self, reference: NDArray[np.object_], distance: float) -> NDArray[np.int64]:
        """For each target, how many ``reference`` geometries lie within ``distance`` (exact)."""
        t, _, _, sure_counts = self._query(reference, distance, distances=False, expand_sure=False)
        return sure_counts + np.bincount(t, minlength=len(self.geoms))

    def _query(
        self, reference: NDArray[np.object_], distance: float, *, distances: bool, expand_sure: bool
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
        reference = np.asarray(reference, dtype=object)
        ref_ok = ~(shapely.is_empty(reference) | shapely.is_missing(reference))
        bx, by, rrad, roff = _anchors(reference)
        is_point = shapely.get_type_id(reference) == 0
        small_ref = np.flatnonzero(ref_ok & (rrad <= self.cut))
        large_ref = np.flatnonzero(ref_ok & (rrad > self.cut))
        out_t: list[NDArray[np.int64]] = []
        out_r: list[NDArray[np.int64]] = []
        out_d: list[NDArray[np.float64]] = []
        sure_counts = np.zeros(len(self.geoms), dtype=np.int64)

        if len(self.members) and len(small_ref):
            j, out_lo, in_lo, in_hi, out_hi = self._runs(
                bx[small_ref], by[small_ref], rrad[small_ref], roff[small_ref], distance
            )
            j = small_ref[j]
            # Certain matches: whole runs of anchors.
            if expand_sure:
                pos, which = _expand(in_lo, in_hi)
                r = j[which]
                d = self._exact(pos, r, reference, is_point, bx, by) if distances else np.full(len(pos), np.nan)
                out_t.append(self.members[pos])
                out_r.append(r)
                out_d.append(d)
            else:
                diff = np.zeros(len(self.members) + 1, dtype=np.int64)
                np.add.at(diff, in_lo, 1)
                np.add.at(diff, in_hi, -1)
                sure_counts[self.members] = np.cumsum(diff[:-1])
            # The uncertain band on either side of the certain run.
            pos_a, which_a = _expand(out_lo, in_lo)
            pos_b, which_b = _expand(in_hi, out_hi)
            pos = np.concatenate([pos_a, pos_b])
            r = j[np.concatenate([which_a, which_b])]
            dd = np.hypot(self.m_ax[pos] - bx[r], self.m_ay[pos] - by[r])
            keep = dd - self.m_radius[pos] - rrad[r] <= distance
            pos, r, dd = pos[keep], r[keep], dd[keep]
            sure = dd + self.m_offset[pos] + roff[r] <= distance
            todo = ~sure | distances
            d = np.full(len(pos), np.nan)
            d[todo] = self._exact(pos[todo], r[todo], reference, is_point, bx, by)
            d[todo] = self.refine(pos[todo], r[todo], d[todo], reference, distance)
            hit = sure | (d <= distance)
            out_t.append(self.members[pos[hit]])
            out_r.append(r[hit])
            out_d.append(d[hit])

        # Large targets x small references, and large references x all targets: GEOS dwithin.
        if len(self.large) and len(small_ref):
            if self._large_tree is None:
                self._large_tree = shapely.STRtree(self.geoms[self.large])
            ri, ti = self._large_tree.query(reference[small_ref], predicate="dwithin", distance=distance)
            out_t.append(self.large[ti])
            out_r.append(small_ref[ri])
        if len(large_ref):
            ri, t = self.strtree.query(reference[large_ref], predicate="dwithin", distance=distance)
            out_t.append(t)
            out_r.append(large_ref[ri])
        for extra in range(len(out_d), len(out_t)):
            t, r = out_t[extra], out_r[extra]
            out_d.append(shapely.distance(self.geoms[t], reference[r]) if distances else np.full(len(t), np.nan))

        if not out_t:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, np.empty(0), sure_counts
        # The paths cover disjoint (target, reference) combinations: no pair twice.
        return (
            np.concatenate(out_t).astype(np.int64),
            np.concatenate(out_r).astype(np.int64),
            np.concatenate(out_d),
            sure_counts,
        )

    def _exact(
        self,
        pos: NDArray[np.int64],
        r: NDArray[np.int64],
        reference: NDArray[np.object_],
        is_point: NDArray[np.bool_],
        qx_all: NDArray[np.float64],
        qy_all: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Exact distances of (sorted member position, reference) pairs."""
        d = np.empty(len(pos))
        pt = is_point[r]
        if (~pt).any():
            d[~pt] = shapely.distance(self.m_geoms[pos[~pt]], reference[r[~pt]])
        if pt.any():
            tp, rp = pos[pt], r[pt]
            qx, qy = qx_all[rp], qy_all[rp]
            seg = self.segments
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
                    d2 = _point_segment_distance2(qx[sel, None], qy[sel, None], ab)
                    dp[sel] = np.sqrt(d2.min(axis=1))
            if rest.any():
                sel = np.flatnonzero(rest)
                c = counts[sel]
                starts = np.concatenate([[0], np.cumsum(c)[:-1]])
                rep = np.repeat(sel, c)
                k = np.arange(int(c.sum())) + np.repeat(first[sel] - starts, c)
                per_seg = _point_segment_distance2(qx[rep], qy[rep], seg.ab[k])
                dp[sel] = np.sqrt(np.minimum.reduceat(per_seg, starts))
            # A point inside a polygon is at distance 0; it can only be inside within the radius.
            maybe_in = self.m_polygonal[tp] & (np.hypot(qx - self.m_ax[tp], qy - self.m_ay[tp]) <= self.m_radius[tp])
            if maybe_in.any():
                inside_pt = shapely.intersects(self.m_geoms[tp[maybe_in]], reference[rp[maybe_in]])
                dp[np.flatnonzero(maybe_in)[inside_pt]] = 0.0
            d[pt] = dp
        return d

    def refine(
        self,
        pos: NDArray[np.int64],
        r: NDArray[np.int64],
        d: NDArray[np.float64],
        reference: NDArray[np.object_],
        distance: float,
    ) -> NDArray[np.float64]:
        """Recompute with GEOS the distances within 1 µm of the threshold (GEOS decides ties)."""
        close = np.abs(d - distance) <= 1e-6
        if close.any():
            d = d.copy()
            d[close] = shapely.distance(self.m_geoms[pos[close]], reference[r[close]])
        return d


def _expand(lo: NDArray[np.int64], hi: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Positions lo[i]..hi[i]-1 of every run, with the run number of each."""
    n = np.maximum(hi - lo, 0)
    which = np.repeat(np.arange(len(lo)), n)
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    pos = np.arange(int(n.sum())) + np.repeat(lo - starts, n)
    return pos.astype(np.int64), which


def _anchors(
    geoms: NDArray[np.object_],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Anchor x, y (bounding-box centre), radius of the enclosing disk and anchor-to-geometry distance."""
    bounds = shapely.bounds(geoms)
    ax = (bounds[:, 0] + bounds[:, 2]) / 2
    ay = (bounds[:, 1] + bounds[:, 3]) / 2
    radius = np.zeros(len(geoms))
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    if len(coords):
        np.maximum.at(radius, idx, np.hypot(coords[:, 0] - ax[idx], coords[:, 1] - ay[idx]))
    offset = np.zeros(len(geoms))
    live = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    points = shapely.get_type_id(geoms) == 0
    other = np.flatnonzero(live & ~points)
    if len(other):
        offset[other] = shapely.distance(shapely.points(ax[other], ay[other]), geoms[other])
    # Slack so floating-point rounding in the bounds can never drop or wrongly accept a pair.
    return ax, ay, radius * (1 + 1e-9) + 1e-6, offset * (1 + 1e-9) + np.where(points, 0.0, 1e-6)


# --------------------------------------------------------------------------------------------------
# Public queries
# --------------------------------------------------------------------------------------------------


def nearest_of_pairs(
    t: NDArray[np.int64], r: NDArray[np.int64], d: NDArray[np.float64], ref_keys: NDArray[Any], n: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Reduce (target, reference, distance) pairs to one row per target (both backends use it).

    Returns the targets with at least one pair, sorted by their smallest distance (ties: target
    order), the reference index nearest to each (ties: smallest key in code-point order), that
    distance, and how many references each target has.
    """
    rank = _order_keys(ref_keys)
    by_rank = np.argsort(rank)
    counts = np.bincount(t, minlength=n)
    best_d = np.full(n, np.inf)
    np.minimum.at(best_d, t, d)
    at_best = d == best_d[t]
    best_rank = np.full(n, len(ref_keys), dtype=np.int64)
    np.minimum.at(best_rank, t[at_best], rank[r[at_best]])
    hit = np.flatnonzero(counts)
    hit = hit[np.argsort(best_d[hit], kind="stable")]
    return hit, by_rank[best_rank[hit]], best_d[hit], counts[hit].astype(np.int64)


def _geometry_last(frame: pd.DataFrame) -> Any:
    """Attributes, then the computed columns, then the geometry (the order both backends return)."""
    frame = frame.reset_index(drop=True)
    if isinstance(frame, gpd.GeoDataFrame):
        name = frame.geometry.name
        frame = frame[[c for c in frame.columns if c != name] + [name]]
    return frame


def _prepare(target: gpd.GeoDataFrame, index: ProximityIndex | None) -> ProximityIndex:
    if index is None:
        return ProximityIndex.from_frame(target)
    if len(index) != len(target):
        msg = f"index was built for {len(index)} features, the target layer has {len(target)}"
        raise ValueError(msg)
    return index


def within_distance(
    target: gpd.GeoDataFrame,
    reference: gpd.GeoDataFrame,
    *,
    distance: str | float,
    target_key: str | None = None,
    reference_key: str | None = None,
    pairs: bool = False,
    distances: bool = True,
    index: ProximityIndex | None = None,
) -> gpd.GeoDataFrame:
    """Features of ``target`` within ``distance`` of any feature of ``reference``.

    Parameters
    ----------
    target
        Layer searched (e.g. buildings), any CRS; measured in EPSG:4548.
    reference
        The selection measured from (one station, a set, or a whole layer).
    distance
        Metres, or a string such as ``"1km"`` / ``"500m"`` (see :func:`parse_distance`).
    target_key, reference_key
        Key columns (default: ``attrs['key']`` or the first column, see :func:`key_column`).
    pairs
        If true, one row per (target, reference) pair with ``ref_key`` and ``distance_m``.
    distances
        If false, skip the exact distances of pairs the bounds already decide: the result has
        ``within_count`` only (no ``nearest_key``/``distance_m``; with ``pairs``, no ``distance_m``).
        The matched features are the same.
    index
        A :class:`ProximityIndex` of ``target`` built earlier, to skip preparation.

    Returns
    -------
    GeoDataFrame
        Matching target rows (original columns and CRS) with ``nearest_key`` (the nearest reference's
        key; ties go to the smallest key), ``distance_m`` (exact distance to it, metres) and
        ``within_count`` (reference features within ``distance``); sorted by distance, then layer
        order (layer order without distances; pairs: by distance, layer order, reference order).
    """
    metres = parse_distance(distance)
    key_column(target, target_key)  # fail early on a wrong key
    rkey = key_column(reference, reference_key)
    idx = _prepare(target, index)
    ref_geoms = metric_geometries(reference)
    ref_keys = reference[rkey].to_numpy()
    if not distances and not pairs:
        counts = idx.count_within(ref_geoms, metres)
        hit = np.flatnonzero(counts)
        out = target.iloc[hit].assign(**{WITHIN_COUNT: counts[hit].astype(np.int64)})
        return _geometry_last(out)
    t, r, d = idx.pairs_within(ref_geoms, metres, distances=distances)
    if pairs:
        order = np.lexsort((r, t)) if not distances else np.lexsort((r, t, d))
        out = target.iloc[t[order]]
        out = out.assign(**{REF_KEY: ref_keys[r[order]]})
        if distances:
            out[DISTANCE] = d[order]
        return _geometry_last(out)
    hit, nearest_ref, best_d, counts = nearest_of_pairs(t, r, d, ref_keys, len(target))
    out = target.iloc[hit].assign(**{NEAREST_KEY: ref_keys[nearest_ref], DISTANCE: best_d, WITHIN_COUNT: counts})
    return _geometry_last(out)


def nearest(
    target: gpd.GeoDataFrame,
    reference: gpd.GeoDataFrame,
    *,
    max_distance: str | float | None = None,
    target_key: str | None = None,
    reference_key: str | None = None,
) -> gpd.GeoDataFrame:
    """Each target feature's nearest reference feature and the exact distance to it.

    Returns every target row (or only those within ``max_distance``) with ``nearest_key`` and
    ``distance_m``; ties go to the smallest reference key. Empty geometries get no row.
    """
    key_column(target, target_key)
    rkey = key_column(reference, reference_key)
    tg = metric_geometries(target)
    rg = metric_geometries(reference)
    live_t = np.flatnonzero(~(shapely.is_empty(tg) | shapely.is_missing(tg)))
    live_r = np.flatnonzero(~(shapely.is_empty(rg) | shapely.is_missing(rg)))
    limit = None if max_distance is None else parse_distance(max_distance)
    if not len(live_t) or not len(live_r):
        out = target.iloc[[]].copy()
        out[NEAREST_KEY] = pd.Series(dtype=object)
        out[DISTANCE] = pd.Series(dtype=float)
        return out
    tree = shapely.STRtree(rg[live_r])
    ti, ri = tree.query_nearest(tg[live_t], max_distance=limit, all_matches=True)
    t, r = live_t[ti], live_r[ri]
    d = shapely.distance(tg[t], rg[r])
    ref_keys = reference[rkey].to_numpy()
    rank = _order_keys(ref_keys)
    order = np.lexsort((rank[r], d, t))
    t, r, d = t[order], r[order], d[order]
    first = np.concatenate([[True], t[1:] != t[:-1]])
    if limit is not None:
        first &= d <= limit
    out = target.iloc[t[first]].copy()
    out[NEAREST_KEY] = ref_keys[r[first]]
    out[DISTANCE] = d[first]
    return _geometry_last(out)


def _zone_matches(
    target: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, predicate: str, zone_key: str | None
) -> gpd.GeoDataFrame:
    zkey = key_column(zones, zone_key)
    tg = metric_geometries(target)
    zg = metric_geometries(zones)
    tree = shapely.STRtree(tg)
    zi, t = tree.query(zg, predicate="intersects")  # candidates; exact predicate below
    if predicate == "covered_by":
        ok = shapely.covered_by(tg[t], zg[zi])
        zi, t = zi[ok], t[ok]
    zone_keys = zones[zkey].to_numpy()
    rank = _order_keys(zone_keys)
    order = np.lexsort((rank[zi], t))
    t, zi = t[order], zi[order]
    first = np.concatenate([[True], t[1:] != t[:-1]]) if len(t) else np.empty(0, dtype=bool)
    counts = np.diff(np.concatenate([np.flatnonzero(first), [len(t)]]))
    out = target.iloc[t[first]].copy()
    out[ZONE_KEY] = zone_keys[zi[first]]
    out[ZONE_COUNT] = counts.astype(np.int64)
    return _geometry_last(out)


def inside(target: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *, zone_key: str | None = None) -> gpd.GeoDataFrame:
    """Target features lying inside (covered by, boundary included) at least one of ``zones``.

    A feature crossing from one zone into another is inside neither. Adds ``zone_key`` (the smallest
    key of the zones covering it) and ``zone_count``.
    """
    return _zone_matches(target, zones, "covered_by", zone_key)


def intersects(target: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *, zone_key: str | None = None) -> gpd.GeoDataFrame:
    """Target features sharing at least one point with one of ``zones`` (inside or crossing them).

    Adds ``zone_key`` (the smallest key of the zones it meets) and ``zone_count``.
    """
    return _zone_matches(target, zones, "intersects", zone_key)


def assign_zones(
    target: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *, zone_key: str | None = None
) -> NDArray[np.object_]:
    """The key of the ONE zone holding each target feature's representative point (None if outside).

    The representative point is GEOS ``point_on_surface`` computed in EPSG:4548; a point on a shared
    boundary goes to the smallest zone key.
    """
    zkey = key_column(zones, zone_key)
    points = shapely.point_on_surface(metric_geometries(target))
    zg = metric_geometries(zones)
    tree = shapely.STRtree(zg)
    t, zi = tree.query(points, predicate="intersects")
    zone_keys = zones[zkey].to_numpy()
    rank = _order_keys(zone_keys)
    order = np.lexsort((rank[zi], t))
    t, zi = t[order], zi[order]
    first = np.concatenate([[True], t[1:] != t[:-1]]) if len(t) else np.empty(0, dtype=bool)
    out = np.full(len(target), None, dtype=object)
    out[t[first]] = zone_keys[zi[first]]
    return out


def summarize(
    target: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    value: str | None = None,
    zone_key: str | None = None,
) -> gpd.GeoDataFrame:
    """Count (and optionally sum ``value``) of target features per zone, one zone per feature.

    Returns the zones (original columns and geometry) with ``count`` and, if ``value`` is given,
    ``sum_<value>`` (missing values count as 0), in zone order.
    """
    zkey = key_column(zones, zone_key)
    assigned = assign_zones(target, zones, zone_key=zkey)
    frame = pd.DataFrame({ZONE_KEY: assigned})
    if value is not None:
        if value not in target.columns:
            msg = f"value column {value!r} not in layer columns {list(target.columns)!r}"
            raise KeyError(msg)
        frame["v"] = pd.to_numeric(target[value], errors="raise").fillna(0).to_numpy()
    grouped = frame.dropna(subset=[ZONE_KEY]).groupby(ZONE_KEY)
    out = zones.copy()
    out["count"] = out[zkey].map(grouped.size()).fillna(0).astype(np.int64)
    if value is not None:
        out[f"sum_{value}"] = out[zkey].map(grouped["v"].sum()).fillna(0).astype(float)
    return _geometry_last(out)


def coverage(
    target: gpd.GeoDataFrame,
    reference: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    distance: str | float,
    weight: str | None = None,
    zone_key: str | None = None,
    target_key: str | None = None,
    reference_key: str | None = None,
    index: ProximityIndex | None = None,
) -> pd.DataFrame:
    """Share of ``target`` within ``distance`` of any ``reference`` feature, per zone and overall.

    Each target feature counts in the one zone holding its representative point (see
    :func:`assign_zones`). With ``weight`` the shares are of the summed column (e.g. floor area)
    instead of feature counts.

    Returns
    -------
    DataFrame
        Columns ``zone_key``, ``total``, ``within``, ``share`` (0–1; NaN for an empty zone), one row per
        zone in zone order and a last row ``zone_key == "(all)"`` over the whole target layer (features
        outside every zone included).
    """
    zkey = key_column(zones, zone_key)
    tkey = key_column(target, target_key)
    matched = within_distance(
        target, reference, distance=distance, target_key=tkey, reference_key=reference_key, index=index
    )
    hit = target[tkey].isin(matched[tkey]).to_numpy()
    if weight is None:
        w = np.ones(len(target))
    else:
        if weight not in target.columns:
            msg = f"weight column {weight!r} not in layer columns {list(target.columns)!r}"
            raise KeyError(msg)
        w = pd.to_numeric(target[weight], errors="raise").fillna(0).to_numpy(dtype=float)
    assigned = assign_zones(target, zones, zone_key=zkey)
    frame = pd.DataFrame({ZONE_KEY: assigned, "total": w, "within": np.where(hit, w, 0.0)})
    sums = frame.dropna(subset=[ZONE_KEY]).groupby(ZONE_KEY)[["total", "within"]].sum()
    rows = sums.reindex(zones[zkey].to_numpy()).fillna(0.0)
    rows.index.name = ZONE_KEY
    out = rows.reset_index()
    out.loc[len(out)] = [OVERALL, float(w.sum()), float(w[hit].sum())]
    out["share"] = np.where(out["total"] > 0, out["within"] / out["total"].where(out["total"] > 0, 1), np.nan)
    if weight is None:
        out["total"] = out["total"].astype(np.int64)
        out["within"] = out["within"].astype(np.int64)
    return out


# --------------------------------------------------------------------------------------------------
# Running a query against a store (the edge: the only code here that reads)
# --------------------------------------------------------------------------------------------------

QUERY_KINDS = ("within", "nearest", "inside", "intersects", "summarize", "coverage")


@dataclass(frozen=True)
class QueryRequest:
    """One query in the terms of the atlas catalogue.

    ``layer`` is searched; ``of`` is the reference layer (within, nearest, coverage) or the zone layer
    (inside, intersects, summarize); ``where`` selects features of ``of`` by equality; ``by`` is the
    zone layer of ``coverage`` (``zone_where`` selects its zones); ``value`` is summed by
    ``summarize`` or weights ``coverage``.
    """

    kind: str
    layer: str
    of: str
    where: Mapping[str, Any] = field(default_factory=dict)
    distance: str | float | None = None
    by: str | None = None
    zone_where: Mapping[str, Any] = field(default_factory=dict)
    value: str | None = None
    pairs: bool = False

    def __post_init__(self) -> None:
        if self.kind not in QUERY_KINDS:
            msg = f"query kind should be one of {QUERY_KINDS}, got {self.kind!r}"
            raise ValueError(msg)
        if self.kind in ("within", "coverage") and self.distance is None:
            msg = f"a '{self.kind}' query needs a distance (e.g. '1km')"
            raise ValueError(msg)
        if self.distance is not None:
            parse_distance(self.distance)
        if self.kind == "coverage" and not self.by:
            msg = "a 'coverage' query needs the zone layer it reports by (e.g. by='streets')"
            raise ValueError(msg)


@dataclass
class QueryResult:
    """The answer: ``frame`` (same columns on every backend), the selected reference/zone features
    (EPSG:4490, for maps), and which backend answered."""

    request: QueryRequest
    frame: pd.DataFrame
    reference: gpd.GeoDataFrame
    backend: str


def run_query(store: Any, request: QueryRequest, *, cache: dict[Any, ProximityIndex] | None = None) -> QueryResult:
    """Answer ``request`` from ``store``: pushed down to SQL on PostGIS, the pure functions otherwise.

    ``cache`` (any dict) keeps :class:`ProximityIndex` objects between calls on the embedded store.
    """
    from planatlas.errors import LayerNotFoundError

    rq = request
    reference = store.read(rq.of, where=dict(rq.where) or None)
    if not isinstance(reference, gpd.GeoDataFrame):
        msg = f"layer {rq.of!r} has no geometry to query against"
        raise LayerNotFoundError(msg)
    if rq.where and not len(reference):
        shown = ", ".join(f"{k}={v}" for k, v in rq.where.items())
        msg = f"no feature of {rq.of!r} matches {shown}"
        raise LayerNotFoundError(msg)
    pushdown = getattr(store, "within_distance", None) is not None and hasattr(store, "coverage")
    where = dict(rq.where) or None
    if pushdown:
        if rq.kind == "within":
            frame = store.within_distance(rq.layer, rq.of, distance=rq.distance, where=where, pairs=rq.pairs)
        elif rq.kind == "nearest":
            frame = store.nearest(rq.layer, rq.of, where=where, max_distance=rq.distance)
        elif rq.kind in ("inside", "intersects"):
            frame = getattr(store, rq.kind)(rq.layer, rq.of, where=where)
        elif rq.kind == "summarize":
            frame = store.summarize(rq.layer, rq.of, value=rq.value, where=where)
        else:
            frame = store.coverage(
                rq.layer,
                rq.of,
                rq.by,
                distance=rq.distance,
                weight=rq.value,
                where=where,
                zone_where=dict(rq.zone_where) or None,
            )
        return QueryResult(rq, _in_key_order(frame, store, rq), reference, "postgis")

    target = store.read(rq.layer)
    if not isinstance(target, gpd.GeoDataFrame):
        msg = f"layer {rq.layer!r} has no geometry to query"
        raise LayerNotFoundError(msg)
    tkey = store.spec(rq.layer).key
    rkey = store.spec(rq.of).key
    if rq.kind in ("within", "coverage"):
        distance = rq.distance
        assert distance is not None  # QueryRequest insists on it for these kinds
        index = None
        if cache is not None:
            meta = store.metadata()
            ident = (repr(store), meta.get("built_at"), rq.layer)
            index = cache.get(ident)
            if index is None or len(index) != len(target):
                index = cache[ident] = ProximityIndex.from_frame(target)
        if rq.kind == "within":
            frame = within_distance(
                target,
                reference,
                distance=distance,
                target_key=tkey,
                reference_key=rkey,
                pairs=rq.pairs,
                index=index,
            )
        else:
            assert rq.by is not None
            zones = store.read(rq.by, where=dict(rq.zone_where) or None)
            frame = coverage(
                target,
                reference,
                zones,
                distance=distance,
                weight=rq.value,
                zone_key=store.spec(rq.by).key,
                target_key=tkey,
                reference_key=rkey,
                index=index,
            )
    elif rq.kind == "nearest":
        frame = nearest(target, reference, max_distance=rq.distance, target_key=tkey, reference_key=rkey)
    elif rq.kind in ("inside", "intersects"):
        fn = inside if rq.kind == "inside" else intersects
        frame = fn(target, reference, zone_key=rkey)
    else:
        frame = summarize(target, reference, value=rq.value, zone_key=rkey)
    return QueryResult(rq, _in_key_order(frame, store, rq), reference, "embedded")


def _in_key_order(frame: pd.DataFrame, store: Any, rq: QueryRequest) -> pd.DataFrame:
    """Same row order on every backend: by key in code-point order (within keeps distance order)."""
    if rq.kind in ("within", "coverage") or not len(frame):
        return frame
    key = store.spec(rq.of if rq.kind == "summarize" else rq.layer).key
    order = np.argsort(np.array([str(k) for k in frame[key]], dtype=object), kind="stable")
    return frame.iloc[order].reset_index(drop=True)
