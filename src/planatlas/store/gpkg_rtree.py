"""The GeoPackage's own R-tree: which features can lie within a distance of some reference geometries.

A GeoPackage keeps, per feature table, an SQLite R-tree of feature bounding boxes in the layer's CRS
(``rtree_<table>_<geometry column>``, GeoPackage spec, "RTree Spatial Indexes"). A bounded question
(one station, a set, a polygon) reads only the features whose box meets a reference's reach: its
EPSG:4548 bounding box grown by the distance, carried into EPSG:4490 with densified edges and padded.
The R-tree stores 32-bit boxes rounded outwards, so the candidates are a superset of the answer; the
exact distances are decided afterwards on them alone.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from planatlas.crs import METRIC_CRS, STORAGE_CRS

__all__ = ["candidate_fids", "fids_with_value", "reach_boxes"]

#: Degrees added around each reach box after the projection (about 0.1 m): rounding can only widen.
_PAD_DEG = 1e-6
#: Points per box edge when a metric box is carried into EPSG:4490.
_DENSIFY = 21


def reach_boxes(reference: NDArray[np.object_], distance: float) -> NDArray[np.float64]:
    """Per non-empty reference geometry (EPSG:4548), its bounding box grown by ``distance``, in EPSG:4490.

    Returns an array of shape (k, 4): min lon, min lat, max lon, max lat.
    """
    geoms = np.asarray(reference, dtype=object)
    live = geoms[~(shapely.is_empty(geoms) | shapely.is_missing(geoms))]
    if not len(live):
        return np.empty((0, 4))
    b = shapely.bounds(live)
    to_storage = Transformer.from_crs(METRIC_CRS, STORAGE_CRS, always_xy=True)
    boxes = np.array(
        [
            to_storage.transform_bounds(
                x0 - distance, y0 - distance, x1 + distance, y1 + distance, densify_pts=_DENSIFY
            )
            for x0, y0, x1, y1 in b
        ]
    )
    boxes[:, :2] -= _PAD_DEG
    boxes[:, 2:] += _PAD_DEG
    return boxes


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def candidate_fids(path: Path, table: str, boxes: NDArray[np.float64], *, limit: int) -> NDArray[np.int64] | None:
    """Feature ids of ``table`` whose R-tree box meets any of ``boxes`` (EPSG:4490), ascending.

    Returns None when the table has no R-tree or more than ``limit`` features are candidates (a
    whole-layer read then costs less than reading them one by one).
    """
    uri = f"{path.resolve().as_uri()}?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    try:
        row = con.execute(
            "SELECT column_name FROM gpkg_extensions WHERE table_name = ? AND extension_name = 'gpkg_rtree_index'",
            (table,),
        ).fetchone()
        if row is None:
            return None
        # The R-tree's name is built from the table and column names the GeoPackage itself lists.
        rtree = _quoted(f"rtree_{table}_{row[0]}")
        sql = f"SELECT id FROM {rtree} WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?"  # noqa: S608
        found: set[int] = set()
        for x0, y0, x1, y1 in boxes:
            found.update(r[0] for r in con.execute(sql, (float(x0), float(x1), float(y0), float(y1))))
            if len(found) > limit:
                return None
    except sqlite3.DatabaseError:
        return None
    finally:
        con.close()
    return np.array(sorted(found), dtype=np.int64)


def fids_with_value(path: Path, table: str, column: str, value: str) -> NDArray[np.int64]:
    """Feature ids of ``table`` whose ``column`` equals ``value`` (bound; SQLite's column affinity
    compares a text value with a number column as a number). Names come from the catalogue."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    try:
        sql = f"SELECT fid FROM {_quoted(table)} WHERE {_quoted(column)} = ?"  # noqa: S608 - catalogue names, quoted
        rows = con.execute(sql, (value,)).fetchall()
    finally:
        con.close()
    return np.array(sorted(r[0] for r in rows), dtype=np.int64)
