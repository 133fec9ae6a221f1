"""Answering a query from a store: the request, the result, and the choice of backend.

:func:`run_query` is the one public entry. It reads the selected reference or zone features, then
hands the request to the store when the store answers queries itself (:class:`SpatialQueries`,
e.g. PostGIS) or reads the layers and runs the pure functions of :mod:`planatlas.query` (embedded).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planatlas.crs import STORAGE_CRS, metric_geometries
from planatlas.errors import LayerNotFoundError
from planatlas.query.columns import DISTANCE
from planatlas.query.distance import parse_distance
from planatlas.query.nearby import nearest, within_distance
from planatlas.query.proximity import ProximityIndex
from planatlas.query.tree import TreeIndex
from planatlas.query.zones import coverage, inside, intersects, summarize
from planatlas.store.base import LayerStore, NearReads, SpatialQueries

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

__all__ = ["AT_KEY", "QUERY_KINDS", "IndexCache", "QueryRequest", "QueryResult", "run_query"]


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
    #: A reference drawn or clicked on a map instead of features of ``of`` (shapely, EPSG:4490);
    #: ``of`` then only names it (e.g. "point"). Answered by the pure functions on every backend.
    at: BaseGeometry | None = None
    #: ``nearest`` from ``at``: keep only the ``limit`` nearest features (None: all).
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in QUERY_KINDS:
            msg = f"query kind should be one of {QUERY_KINDS}, got {self.kind!r}"
            raise ValueError(msg)
        if self.kind in ("within", "coverage") and self.distance is None:
            msg = f"a '{self.kind}' query needs a distance (e.g. '1km')"
            raise ValueError(msg)
        if self.distance is not None:
            parse_distance(self.distance)
        if self.at is not None and (self.at.is_empty or not self.at.is_valid):
            msg = f"the drawn or clicked reference should be a valid, non-empty geometry, got {self.at.wkt[:80]!r}"
            raise ValueError(msg)
        if self.at is not None and self.kind == "coverage":
            msg = "a 'coverage' query needs a reference layer, not a drawn or clicked reference"
            raise ValueError(msg)
        if self.limit is not None and self.limit < 1:
            msg = f"limit should be a positive number of features, got {self.limit!r}"
            raise ValueError(msg)
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


#: Prepared distance indexes kept between calls, by (the store's cache key, target layer).
IndexCache = MutableMapping[tuple[str, str], ProximityIndex]


def run_query(store: LayerStore, request: QueryRequest, *, cache: IndexCache | None = None) -> QueryResult:
    """Answer ``request`` from ``store``: pushed down when it answers queries itself, embedded otherwise.

    Parameters
    ----------
    store
        The atlas. A :class:`~planatlas.store.base.SpatialQueries` store (PostGIS) runs the query in
        SQL; any other store is read and the pure functions answer.
    request
        What to answer.
    cache
        Any mapping (e.g. a dict kept by the app) holding :class:`ProximityIndex` objects between
        calls on an embedded store, keyed by the store's :meth:`~LayerStore.cache_key` and layer.

    Returns
    -------
    QueryResult
        The same columns and row order on every backend.
    """
    if request.at is not None:
        reference = at_reference(request.at, label=request.of)
        frame = _run_at(store, request, reference, cache)
        return QueryResult(request, frame, reference, "postgis" if isinstance(store, SpatialQueries) else "embedded")
    reference = _selection(store, request)
    if isinstance(store, SpatialQueries):
        frame, backend = _run_pushed_down(store, request), "postgis"
    else:
        frame, backend = _run_in_memory(store, request, reference, cache), "embedded"
    return QueryResult(request, _in_key_order(frame, store, request), reference, backend)


def _selection(store: LayerStore, rq: QueryRequest) -> gpd.GeoDataFrame:
    """The selected features of the reference (or zone) layer, EPSG:4490."""
    reference = store.read(rq.of, where=dict(rq.where) or None)
    if not isinstance(reference, gpd.GeoDataFrame):
        msg = f"layer {rq.of!r} has no geometry to query against"
        raise LayerNotFoundError(msg)
    if rq.where and not len(reference):
        shown = ", ".join(f"{k}={v}" for k, v in rq.where.items())
        msg = f"no feature of {rq.of!r} matches {shown}"
        raise LayerNotFoundError(msg)
    return reference


#: Key column of the one-row reference made from a drawn or clicked geometry.
AT_KEY = "ref_id"


def at_reference(geometry: BaseGeometry, *, label: str) -> gpd.GeoDataFrame:
    """A one-feature reference layer (EPSG:4490) from a clicked point, drawn area or searched place."""
    frame = gpd.GeoDataFrame({AT_KEY: [label], "name": [label]}, geometry=[geometry], crs=STORAGE_CRS)
    frame.attrs["key"] = AT_KEY
    return frame


def _run_at(
    store: LayerStore, rq: QueryRequest, reference: gpd.GeoDataFrame, cache: IndexCache | None
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Answer a question about a drawn or clicked reference with the pure functions (any backend).

    ``nearest`` lists the features nearest the reference (closest first, ``limit`` of them);
    ``summarize`` counts the features inside the drawn area per zone of ``by`` (streets by default).
    """
    target = store.read(rq.layer)
    if not isinstance(target, gpd.GeoDataFrame):
        msg = f"layer {rq.layer!r} has no geometry to query"
        raise LayerNotFoundError(msg)
    tkey = store.spec(rq.layer).key
    if rq.kind == "within":
        index = _prepared_index(store, rq.layer, target, cache)
        return within_distance(
            target, reference, distance=_distance(rq), target_key=tkey, reference_key=AT_KEY, index=index
        )
    if rq.kind == "nearest":
        found = nearest(target, reference, max_distance=rq.distance, target_key=tkey, reference_key=AT_KEY)
        found = found.sort_values(DISTANCE, kind="stable")
        return found.head(rq.limit) if rq.limit is not None else found
    if rq.kind == "inside":
        return inside(target, reference, zone_key=AT_KEY)
    if rq.kind == "intersects":
        return intersects(target, reference, zone_key=AT_KEY)
    by = rq.by or "streets"
    zones = store.read(by, where=dict(rq.zone_where) or None)
    return summarize(inside(target, reference, zone_key=AT_KEY), zones, value=rq.value, zone_key=store.spec(by).key)


def _run_pushed_down(store: SpatialQueries, rq: QueryRequest) -> gpd.GeoDataFrame | pd.DataFrame:
    """The store answers in its own engine (SQL on PostGIS)."""
    where = dict(rq.where) or None
    if rq.kind == "within":
        return store.within_distance(rq.layer, rq.of, distance=_distance(rq), where=where, pairs=rq.pairs)
    if rq.kind == "nearest":
        return store.nearest(rq.layer, rq.of, where=where, max_distance=rq.distance)
    if rq.kind == "inside":
        return store.inside(rq.layer, rq.of, where=where)
    if rq.kind == "intersects":
        return store.intersects(rq.layer, rq.of, where=where)
    if rq.kind == "summarize":
        return store.summarize(rq.layer, rq.of, value=rq.value, where=where)
    return store.coverage(
        rq.layer,
        rq.of,
        _zone_layer(rq),
        distance=_distance(rq),
        weight=rq.value,
        where=where,
        zone_where=dict(rq.zone_where) or None,
    )


def _run_in_memory(
    store: LayerStore, rq: QueryRequest, reference: gpd.GeoDataFrame, cache: IndexCache | None
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read the searched layer and answer with the pure functions.

    A ``within`` question without a cache of prepared indexes is asked once (the CLI): a store with
    its own spatial index reads only the candidates near the selection, and a GEOS tree (cheap to
    build) answers instead of a :class:`ProximityIndex` (which pays off over many questions).
    """
    if rq.kind == "within" and cache is None:
        return _within_once(store, rq, reference)
    target = store.read(rq.layer)
    if not isinstance(target, gpd.GeoDataFrame):
        msg = f"layer {rq.layer!r} has no geometry to query"
        raise LayerNotFoundError(msg)
    tkey = store.spec(rq.layer).key
    rkey = store.spec(rq.of).key
    if rq.kind == "nearest":
        return nearest(target, reference, max_distance=rq.distance, target_key=tkey, reference_key=rkey)
    if rq.kind == "inside":
        return inside(target, reference, zone_key=rkey)
    if rq.kind == "intersects":
        return intersects(target, reference, zone_key=rkey)
    if rq.kind == "summarize":
        return summarize(target, reference, value=rq.value, zone_key=rkey)
    index = _prepared_index(store, rq.layer, target, cache)
    if rq.kind == "within":
        return within_distance(
            target, reference, distance=_distance(rq), target_key=tkey, reference_key=rkey, pairs=rq.pairs, index=index
        )
    by = _zone_layer(rq)
    zones = store.read(by, where=dict(rq.zone_where) or None)
    return coverage(
        target,
        reference,
        zones,
        distance=_distance(rq),
        weight=rq.value,
        zone_key=store.spec(by).key,
        target_key=tkey,
        reference_key=rkey,
        index=index,
    )


def _within_once(store: LayerStore, rq: QueryRequest, reference: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``within`` asked once: candidates from the store's index where it has one, then exact GEOS answers."""
    metres = parse_distance(_distance(rq))
    if isinstance(store, NearReads):
        target = store.read_near(rq.layer, metric_geometries(reference), metres)
    else:
        target = store.read(rq.layer)
    if not isinstance(target, gpd.GeoDataFrame):
        msg = f"layer {rq.layer!r} has no geometry to query"
        raise LayerNotFoundError(msg)
    return within_distance(
        target,
        reference,
        distance=metres,
        target_key=store.spec(rq.layer).key,
        reference_key=store.spec(rq.of).key,
        pairs=rq.pairs,
        index=TreeIndex(metric_geometries(target)),
    )


def _prepared_index(
    store: LayerStore, layer: str, target: gpd.GeoDataFrame, cache: IndexCache | None
) -> ProximityIndex | None:
    """The cached index of ``layer`` for this atlas version (built and kept on a miss); None without a cache."""
    if cache is None:
        return None
    ident = (store.cache_key(), layer)
    index = cache.get(ident)
    if index is None or len(index) != len(target):
        index = cache[ident] = ProximityIndex.from_frame(target)
    return index


def _distance(rq: QueryRequest) -> str | float:
    assert rq.distance is not None  # QueryRequest insists on it for within and coverage
    return rq.distance


def _zone_layer(rq: QueryRequest) -> str:
    assert rq.by is not None  # QueryRequest insists on it for coverage
    return rq.by


def _in_key_order(frame: pd.DataFrame, store: LayerStore, rq: QueryRequest) -> pd.DataFrame:
    """Same row order on every backend: by key in code-point order (within keeps distance order)."""
    if rq.kind in ("within", "coverage") or not len(frame) or (rq.at is not None and rq.kind == "nearest"):
        return frame
    key = store.spec(rq.of if rq.kind == "summarize" else rq.layer).key
    order = np.argsort(np.array([str(k) for k in frame[key]], dtype=object), kind="stable")
    return frame.iloc[order].reset_index(drop=True)
