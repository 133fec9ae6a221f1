"""Spatial queries over layers: within-distance, nearest, inside/intersects, summarize, coverage.

Semantics (identical on every backend; :mod:`planatlas.store.postgis` pushes the same queries down):

* Inputs are GeoDataFrames with a CRS (the atlas stores EPSG:4490). Every measurement happens in the
  metric CRS EPSG:4548 (CGCS2000 / 3-degree Gauss-Krüger CM 117°E); inputs in another CRS are projected
  to it explicitly by :func:`planatlas.crs.to_metric`, and results keep the input's CRS and geometry.
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

Modules: :mod:`~planatlas.query.distance` (parsing distances, the exact point-to-segment kernel),
:mod:`~planatlas.query.proximity` (the prepared :class:`ProximityIndex`),
:mod:`~planatlas.query.nearby` (within-distance, nearest), :mod:`~planatlas.query.zones` (inside,
intersects, summarize, coverage), :mod:`~planatlas.query.columns` (output columns, key order) and
:mod:`~planatlas.query.run` (:func:`run_query`, the one entry that reads a store and picks the
backend). The functions are pure; only :func:`run_query` reads.
"""

from planatlas.query.columns import (
    DISTANCE,
    NEAREST_KEY,
    OVERALL,
    REF_KEY,
    WITHIN_COUNT,
    ZONE_COUNT,
    ZONE_KEY,
    key_column,
)
from planatlas.query.distance import parse_distance
from planatlas.query.nearby import nearest, nearest_of_pairs, within_distance
from planatlas.query.proximity import ProximityIndex
from planatlas.query.run import QUERY_KINDS, IndexCache, QueryRequest, QueryResult, run_query
from planatlas.query.zones import assign_zones, coverage, inside, intersects, summarize

__all__ = [
    "DISTANCE",
    "NEAREST_KEY",
    "OVERALL",
    "QUERY_KINDS",
    "REF_KEY",
    "WITHIN_COUNT",
    "ZONE_COUNT",
    "ZONE_KEY",
    "IndexCache",
    "ProximityIndex",
    "QueryRequest",
    "QueryResult",
    "assign_zones",
    "coverage",
    "inside",
    "intersects",
    "key_column",
    "nearest",
    "nearest_of_pairs",
    "parse_distance",
    "run_query",
    "summarize",
    "within_distance",
]
