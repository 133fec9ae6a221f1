"""References asked about from a map: a typed or clicked point, a drawn shape (pure).

A point comes as ``"LON,LAT"`` text (the CLI's ``--at``, the permalink's ``at=``) in CGCS2000, or in
GCJ-02/BD-09 when read off a web map, converted explicitly (:mod:`planatlas.crs`). A shape drawn
with Leaflet.draw comes as a GeoJSON feature; a circle is a point with a ``radius`` (metres)
and is asked as "within that radius of its centre", which is exact where a polygon would not be.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from planatlas.crs import CHINA_BOUNDS, OFFSET_SYSTEMS, STORAGE_CRS, normalize_crs_name, offset_to_canonical

__all__ = ["AT_CRS", "DrawnReference", "drawn_reference", "format_at", "parse_at"]

#: What ``--at`` / ``at=`` may be given in: CGCS2000 (WGS84 agrees within centimetres) or a web-map offset.
AT_CRS = (STORAGE_CRS, "EPSG:4326", *OFFSET_SYSTEMS)


def parse_at(text: str, *, crs: str = STORAGE_CRS) -> Point:
    """A point in EPSG:4490 from ``"LON,LAT"`` given in ``crs``.

    Raises
    ------
    ValueError
        Naming what was expected and what arrived: two numbers, lon before lat, inside China.
    """
    system = normalize_crs_name(crs)
    if system not in AT_CRS:
        msg = f"the point's CRS should be one of {', '.join(AT_CRS)}, got {crs!r}"
        raise ValueError(msg)
    parts = [p.strip() for p in str(text).split(",")]
    try:
        lon, lat = (float(p) for p in parts)
    except ValueError:
        msg = f"a point should be 'LON,LAT' in decimal degrees (e.g. 115.8985,28.6781), got {text!r}"
        raise ValueError(msg) from None
    west, south, east, north = CHINA_BOUNDS
    if not (math.isfinite(lon) and math.isfinite(lat) and west <= lon <= east and south <= lat <= north):
        msg = f"the point {text!r} is not in China as LON,LAT (longitude first, then latitude)"
        raise ValueError(msg)
    point = Point(lon, lat)
    if system in OFFSET_SYSTEMS:
        converted = offset_to_canonical(np.array([point], dtype=object), system)[0]
        point = Point(round(converted.x, 7), round(converted.y, 7))
    return point


def format_at(point: Point) -> str:
    """``"LON,LAT"`` with 6 decimals (about 0.1 m), as the permalink and CLI take it."""
    return f"{point.x:.6f},{point.y:.6f}"


@dataclass(frozen=True)
class DrawnReference:
    """What a drawn shape asks about: the geometry (EPSG:4490) and, for a circle, its radius in metres."""

    geometry: BaseGeometry
    radius_m: float | None = None

    @property
    def is_circle(self) -> bool:
        return self.radius_m is not None


def drawn_reference(feature: Mapping[str, Any] | None) -> DrawnReference | None:
    """The reference of a Leaflet.draw GeoJSON feature, or None when it holds nothing usable.

    Circles (a point with ``properties.radius``) keep their centre and radius; rectangles and
    polygons their polygon; anything invalid, empty or outside China is ignored (the input comes
    from a browser and is untrusted).
    """
    if not isinstance(feature, Mapping) or not isinstance(feature.get("geometry"), Mapping):
        return None
    try:
        geometry = shape(feature["geometry"])
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException):
        return None
    if geometry.is_empty or not geometry.is_valid:
        return None
    west, south, east, north = CHINA_BOUNDS
    gx0, gy0, gx1, gy1 = geometry.bounds
    if not (west <= gx0 and gx1 <= east and south <= gy0 and gy1 <= north):
        return None
    props = feature.get("properties") or {}
    radius = props.get("radius") if isinstance(props, Mapping) else None
    if geometry.geom_type == "Point" and isinstance(radius, int | float) and math.isfinite(radius) and radius > 0:
        return DrawnReference(geometry, float(radius))
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return DrawnReference(geometry)
    return None
