"""Output columns of the queries and the key rules both backends follow (key column, code-point order).

The embedded functions in :mod:`planatlas.query` and the PostGIS store return these column names,
and order ties by key the same way (``COLLATE "C"``).
"""

from __future__ import annotations

from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

#: Key of the nearest reference feature.
NEAREST_KEY = "nearest_key"
#: Exact distance in metres (EPSG:4548).
DISTANCE = "distance_m"
#: How many reference features lie within the distance.
WITHIN_COUNT = "within_count"
#: Key of the reference feature of a pair.
REF_KEY = "ref_key"
#: Key of the (smallest-keyed) zone a feature lies in or meets.
ZONE_KEY = "zone_key"
#: How many zones a feature lies in or meets.
ZONE_COUNT = "zone_count"
#: ``zone_key`` of the row of ``coverage`` over the whole layer.
OVERALL = "(all)"

FrameT = TypeVar("FrameT", bound=pd.DataFrame)


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


def order_keys(keys: NDArray[Any]) -> NDArray[np.int64]:
    """Rank of each key in code-point order (what PostgreSQL's COLLATE "C" gives for UTF-8 text)."""
    as_text = np.array([str(k) for k in keys], dtype=object)
    order = np.argsort(as_text, kind="stable")
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return rank


def first_of_runs(sorted_ids: NDArray[np.int64]) -> NDArray[np.bool_]:
    """True at the first element of each run of equal values in a sorted array."""
    if not len(sorted_ids):
        return np.empty(0, dtype=bool)
    return np.concatenate([[True], sorted_ids[1:] != sorted_ids[:-1]])


def geometry_last(frame: FrameT) -> FrameT:
    """Attributes, then the computed columns, then the geometry (the order both backends return)."""
    frame = frame.reset_index(drop=True)
    if isinstance(frame, gpd.GeoDataFrame):
        name = frame.geometry.name
        frame = frame[[c for c in frame.columns if c != name] + [name]]
    return frame
