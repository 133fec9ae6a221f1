"""Coordinate systems: the canonical CRSs, GCJ-02/BD-09 conversion and plausibility checks (pure).

GCJ-02 ("Mars coordinates") is the obfuscated datum every Chinese web map (AMap, Tencent) uses; BD-09
is Baidu's further offset of it. Neither is an EPSG CRS, so pyproj cannot convert them: the forward
transforms below are the widely published closed-form offsets, and the inverses iterate the forward
transform to a fixed point (error far below 1 cm after a few steps). WGS84 and CGCS2000 differ by
centimetres, below the precision of anything in this atlas, so the offsets are applied to CGCS2000
geographic coordinates directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias, TypeVar

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import geopandas as gpd

GeoT = TypeVar("GeoT", "gpd.GeoDataFrame", "gpd.GeoSeries")
#: Shapely geometries: an object array or a sequence of them (a GeoSeries' ``values`` work as well).
GeometryArray: TypeAlias = "NDArray[np.object_] | Sequence[shapely.Geometry]"
#: A vectorised lon/lat → lon/lat conversion such as :func:`gcj02_to_wgs84`.
CoordTransform = Callable[[ArrayLike, ArrayLike], tuple[NDArray[np.float64], NDArray[np.float64]]]

#: Canonical storage CRS: CGCS2000 geographic.
STORAGE_CRS = "EPSG:4490"
#: Metric CRS for distances and areas: CGCS2000 3-degree Gauss-Krüger, CM 117°E (Nanchang).
METRIC_CRS = "EPSG:4548"
#: Pseudo-CRS names accepted as declared source systems.
GCJ02 = "GCJ-02"
BD09 = "BD-09"
OFFSET_SYSTEMS = (GCJ02, BD09)

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

#: Rough bounding box of China (lon_min, lat_min, lon_max, lat_max), for plausibility checks.
CHINA_BOUNDS = (73.4, 18.0, 135.1, 53.6)


def _transform_lat(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


Forward = Callable[[ArrayLike, ArrayLike], tuple[NDArray[np.float64], NDArray[np.float64]]]


def _invert(
    forward: Forward,
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    *,
    tol: float,
    max_iter: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Solve ``forward(x, y) == (lon, lat)`` from the start ``(x, y)``: the offsets are small and smooth,
    so subtracting the residual converges in a few steps."""
    for _ in range(max_iter):
        flon, flat = forward(x, y)
        dlon, dlat = flon - lon, flat - lat
        x, y = x - dlon, y - dlat
        if np.all(np.abs(dlon) < tol) and np.all(np.abs(dlat) < tol):
            break
    return x, y


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Offset WGS84/CGCS2000 longitudes and latitudes to GCJ-02 (vectorised).

    Points outside China are returned unchanged, as GCJ-02 defines them.
    """
    lon, lat = _as_arrays(lon, lat)
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol: float = 1e-10, max_iter: int = 20
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration (vectorised, < 1 mm)."""
    glon, glat = _as_arrays(lon, lat)
    return _invert(wgs84_to_gcj02, glon, glat, glon.copy(), glat.copy(), tol=tol, max_iter=max_iter)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Offset GCJ-02 to Baidu's BD-09 (vectorised)."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike, *, tol: float = 1e-10, max_iter: int = 20
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Invert :func:`gcj02_to_bd09` by fixed-point iteration (vectorised, < 1 mm)."""
    blon, blat = _as_arrays(lon, lat)
    return _invert(gcj02_to_bd09, blon, blat, blon - 0.0065, blat - 0.006, tol=tol, max_iter=max_iter)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """BD-09 to WGS84/CGCS2000 (vectorised)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """WGS84/CGCS2000 to BD-09 (vectorised)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether each point lies in the rough bounding box of China."""
    lon, lat = _as_arrays(lon, lat)
    x0, y0, x1, y1 = CHINA_BOUNDS
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


_TO_CANONICAL = {GCJ02: gcj02_to_wgs84, BD09: bd09_to_wgs84}
_FROM_CANONICAL = {GCJ02: wgs84_to_gcj02, BD09: wgs84_to_bd09}


def normalize_crs_name(crs: str) -> str:
    """Return ``GCJ-02``/``BD-09`` for their common spellings, else the input unchanged."""
    squashed = crs.strip().upper().replace("_", "").replace("-", "").replace(" ", "")
    if squashed in {"GCJ02", "GCJ", "MARS"}:
        return GCJ02
    if squashed in {"BD09", "BD09LL", "BAIDU"}:
        return BD09
    return crs.strip()


def is_offset_system(crs: object) -> bool:
    return isinstance(crs, str) and normalize_crs_name(crs) in OFFSET_SYSTEMS


def _map_coords(geoms: GeometryArray, func: CoordTransform) -> NDArray[np.object_]:
    def transform(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, transform), dtype=object)


def offset_to_canonical(geoms: GeometryArray, system: str) -> NDArray[np.object_]:
    """Convert shapely geometries from GCJ-02/BD-09 lon/lat to CGCS2000 lon/lat (vectorised)."""
    return _map_coords(geoms, _TO_CANONICAL[normalize_crs_name(system)])


def canonical_to_offset(geoms: GeometryArray, system: str) -> NDArray[np.object_]:
    """Convert shapely geometries from CGCS2000 lon/lat to GCJ-02/BD-09 (for display on AMap)."""
    return _map_coords(geoms, _FROM_CANONICAL[normalize_crs_name(system)])


def to_gcj02_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of a canonical GeoDataFrame with geometries shifted to GCJ-02 for AMap display.

    The CRS stays labelled EPSG:4490 because GCJ-02 has no EPSG code; use only for display.
    """
    out = gdf.to_crs(STORAGE_CRS).copy()
    out["geometry"] = canonical_to_offset(out.geometry.values, GCJ02)
    return out


def to_metric(frame: GeoT, *, name: str = "layer") -> GeoT:
    """``frame`` (a GeoDataFrame or GeoSeries) in EPSG:4548, where distances and areas are measured.

    Raises
    ------
    ValueError
        If the frame has no CRS: a CRS is never guessed.
    """
    if frame.crs is None:
        msg = (
            f"layer {name!r} has no CRS; set it (the atlas stores EPSG:4490: gdf.set_crs('EPSG:4490')) before measuring"
        )
        raise ValueError(msg)
    if frame.crs.to_epsg() == 4548:
        return frame
    return frame.to_crs(METRIC_CRS)


def metric_geometries(frame: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str = "layer") -> NDArray[np.object_]:
    """The geometries of ``frame`` in EPSG:4548 as a shapely array (see :func:`to_metric`)."""
    return np.asarray(to_metric(frame, name=name).geometry.values, dtype=object)
