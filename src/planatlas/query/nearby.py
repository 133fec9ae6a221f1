"""Distance queries on layers: features within a distance of others, and each feature's nearest other.

Pure functions on GeoDataFrames (any CRS in, measured in EPSG:4548, the input's CRS and geometry
out); :class:`planatlas.query.ProximityIndex` does the pruning, GEOS or the exact kernel decides.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planatlas.crs import metric_geometries
from planatlas.query.columns import (
    DISTANCE,
    NEAREST_KEY,
    REF_KEY,
    WITHIN_COUNT,
    first_of_runs,
    geometry_last,
    key_column,
    order_keys,
)
from planatlas.query.distance import parse_distance
from planatlas.query.proximity import ProximityIndex
from planatlas.query.tree import DistanceIndex

__all__ = ["nearest", "nearest_of_pairs", "within_distance"]


def nearest_of_pairs(
    t: NDArray[np.int64], r: NDArray[np.int64], d: NDArray[np.float64], ref_keys: NDArray[Any], n: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Reduce (target, reference, distance) pairs to one row per target (both backends use it).

    Returns the targets with at least one pair, sorted by their smallest distance (ties: target
    order), the reference index nearest to each (ties: smallest key in code-point order), that
    distance, and how many references each target has.
    """
    rank = order_keys(ref_keys)
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


def _prepare(target: gpd.GeoDataFrame, index: DistanceIndex | None) -> DistanceIndex:
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
    index: DistanceIndex | None = None,
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
        A :class:`ProximityIndex` (or :class:`~planatlas.query.tree.TreeIndex`) of ``target`` built
        earlier, to skip preparation.

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
        return geometry_last(out)
    t, r, d = idx.pairs_within(ref_geoms, metres, distances=distances)
    if pairs:
        order = np.lexsort((r, t)) if not distances else np.lexsort((r, t, d))
        out = target.iloc[t[order]]
        out = out.assign(**{REF_KEY: ref_keys[r[order]]})
        if distances:
            out[DISTANCE] = d[order]
        return geometry_last(out)
    hit, nearest_ref, best_d, counts = nearest_of_pairs(t, r, d, ref_keys, len(target))
    out = target.iloc[hit].assign(**{NEAREST_KEY: ref_keys[nearest_ref], DISTANCE: best_d, WITHIN_COUNT: counts})
    return geometry_last(out)


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
    rank = order_keys(ref_keys)
    order = np.lexsort((rank[r], d, t))
    t, r, d = t[order], r[order], d[order]
    first = first_of_runs(t)
    if limit is not None:
        first &= d <= limit
    out = target.iloc[t[first]].copy()
    out[NEAREST_KEY] = ref_keys[r[first]]
    out[DISTANCE] = d[first]
    return geometry_last(out)
