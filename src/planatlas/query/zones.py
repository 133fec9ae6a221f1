"""Zone queries on layers: features inside or meeting zones, counts and sums per zone, coverage shares.

Pure functions on GeoDataFrames, measured in EPSG:4548. ``summarize`` and ``coverage`` put each
feature in ONE zone, through its representative point (:func:`assign_zones`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planatlas.crs import metric_geometries
from planatlas.query.columns import OVERALL, ZONE_COUNT, ZONE_KEY, first_of_runs, geometry_last, key_column, order_keys
from planatlas.query.nearby import within_distance
from planatlas.query.proximity import ProximityIndex

__all__ = ["assign_zones", "coverage", "inside", "intersects", "summarize"]


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
    rank = order_keys(zone_keys)
    order = np.lexsort((rank[zi], t))
    t, zi = t[order], zi[order]
    first = first_of_runs(t)
    counts = np.diff(np.concatenate([np.flatnonzero(first), [len(t)]]))
    out = target.iloc[t[first]].copy()
    out[ZONE_KEY] = zone_keys[zi[first]]
    out[ZONE_COUNT] = counts.astype(np.int64)
    return geometry_last(out)


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
    rank = order_keys(zone_keys)
    order = np.lexsort((rank[zi], t))
    t, zi = t[order], zi[order]
    first = first_of_runs(t)
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
    return geometry_last(out)


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
    overall: list[str | float] = [OVERALL, float(w.sum()), float(w[hit].sum())]
    out.loc[len(out)] = overall
    out["share"] = np.where(out["total"] > 0, out["within"] / out["total"].where(out["total"] > 0, 1), np.nan)
    if weight is None:
        out["total"] = out["total"].astype(np.int64)
        out["within"] = out["within"].astype(np.int64)
    return out
