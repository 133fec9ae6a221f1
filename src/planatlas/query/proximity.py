"""The prepared target layer for exact distance queries: anchors, radius bounds and the candidate runs.

See :class:`ProximityIndex`. Distances are measured in EPSG:4548; the bounds only prune candidates
and never decide a pair that exact geometry would decide otherwise.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from planatlas.crs import metric_geometries
from planatlas.query.distance import Segments, point_distances, segments_of

__all__ = ["ProximityIndex"]


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

    def __init__(self, geoms: NDArray[np.object_]) -> None:
        self.geoms = np.asarray(geoms, dtype=object)
        self.empty = shapely.is_empty(self.geoms) | shapely.is_missing(self.geoms)
        self.ax, self.ay, self.radius, self.offset = _anchors(self.geoms)
        # Polygons, multipolygons and collections (which may hold polygons) can contain a point.
        self.polygonal = np.isin(shapely.get_type_id(self.geoms), (3, 6, 7))
        self._segments: Segments | None = None
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
    def segments(self) -> Segments:
        """Segments of the small geometries, in row-major (sorted member) order."""
        if self._segments is None:
            self._segments = segments_of(self.m_geoms)
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
            dp = point_distances(self.segments, tp, qx, qy)
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
