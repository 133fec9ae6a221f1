"""What is wrong with the geometries a source holds, per feature: malformed WKB explained, non-finite coordinates."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray

from planatlas.errors import Problem

#: Problems listed in one message at most; the rest are counted (a generated file can repeat one fault everywhere).
MAX_LISTED = 20
#: GEOS's reasons for refusing to build a geometry, and what they mean for the person fixing the file.
_GEOS_HINTS = (
    ("point array must contain 0 or >1 elements", "a line has a single vertex (a LineString needs at least 2)"),
    ("do not form a closed linestring", "a polygon ring is not closed (its last vertex must repeat the first)"),
    ("Invalid number of points in LinearRing", "a polygon ring has too few vertices (a closed ring needs at least 4)"),
)
_WKB_SRID_FLAG, _WKB_Z_FLAG, _WKB_M_FLAG = 0x20000000, 0x80000000, 0x40000000
#: Extra dimensions of an ISO WKB type code's thousands (Z, M, ZM).
_ISO_EXTRA_DIMS = {0: 0, 1: 1, 2: 1, 3: 2}
_POINT, _LINESTRING, _POLYGON = 1, 2, 3
_COLLECTIONS = frozenset({4, 5, 6, 7})


def feature_label(keys: Sequence[object] | NDArray[np.object_] | None, index: int) -> str:
    """A feature's name in a message: its key where it has one, else ``#n`` (1-based order in the file)."""
    if keys is not None:
        value = keys[index]
        if value is not None and not (isinstance(value, float) and np.isnan(value)) and str(value).strip():
            return str(value)
    return f"#{index + 1}"


def wkb_problems(
    blobs: Sequence[bytes | None] | NDArray[np.object_],
    *,
    file: str,
    keys: Sequence[object] | NDArray[np.object_] | None,
    prefix: str = "",
) -> list[Problem]:
    """One problem per WKB geometry GEOS refuses to build (a one-vertex line, an unclosed ring, NaN …)."""
    problems = []
    for i, blob in enumerate(blobs):
        if blob is None:
            continue
        try:
            shapely.from_wkb(blob)
        except shapely.errors.GEOSException as exc:
            label = prefix + feature_label(keys, i)
            problems.append(Problem(_malformed_message(bytes(blob), exc), file=file, feature=label, field="geometry"))
    return problems


def nonfinite_problems(
    geoms: NDArray[np.object_],
    *,
    file: str,
    keys: Sequence[object] | NDArray[np.object_] | None,
) -> list[Problem]:
    """One problem per geometry with a NaN or infinite x or y (GEOS builds them; nothing can place them)."""
    present = ~shapely.is_missing(geoms)
    coords, index = shapely.get_coordinates(geoms[present], return_index=True)
    bad_rows = np.flatnonzero(present)[np.unique(index[~np.isfinite(coords).all(axis=1)])]
    return [
        Problem(
            "a coordinate is not a finite number (NaN or infinity)",
            file=file,
            feature=feature_label(keys, int(i)),
            field="geometry",
        )
        for i in bad_rows
    ]


def _malformed_message(blob: bytes, exc: shapely.errors.GEOSException) -> str:
    values = _wkb_values(blob)
    if values is not None and not np.isfinite(values).all():
        return "a coordinate is not a finite number (NaN or infinity)"
    reason = str(exc).split(": ", 1)[-1].strip()
    for needle, hint in _GEOS_HINTS:
        if needle in reason:
            return f"malformed geometry: {hint}"
    return f"malformed geometry: {reason}"


def _wkb_values(blob: bytes) -> NDArray[np.float64] | None:
    """Every coordinate value in a WKB geometry GEOS refused, or ``None`` if it cannot be walked either."""
    values: list[NDArray[np.float64]] = []
    try:
        _walk(blob, 0, values)
    except (ValueError, KeyError, struct.error, RecursionError):
        return None
    return np.concatenate(values) if values else np.empty(0)


def _walk(buf: bytes, pos: int, out: list[NDArray[np.float64]]) -> int:
    """Append the coordinate values of the WKB geometry at ``pos`` to ``out``; return the position after it."""
    order = "<" if buf[pos] == 1 else ">"
    (code,) = struct.unpack_from(order + "I", buf, pos + 1)
    pos += 5
    if code & _WKB_SRID_FLAG:  # PostGIS EWKB carries the SRID after the type
        pos += 4
    ndim = 2 + bool(code & _WKB_Z_FLAG) + bool(code & _WKB_M_FLAG)
    code &= 0x0FFFFFFF
    base, iso = code % 1000, code // 1000
    ndim += _ISO_EXTRA_DIMS[iso]

    def count() -> int:
        nonlocal pos
        (n,) = struct.unpack_from(order + "I", buf, pos)
        pos += 4
        return int(n)

    def points(n: int) -> None:
        nonlocal pos
        # frombuffer raises ValueError when the count runs past the end (a truncated or lying blob)
        out.append(np.frombuffer(buf, dtype=order + "f8", count=n * ndim, offset=pos).astype("float64"))
        pos += 8 * n * ndim

    if base == _POINT:
        points(1)
    elif base == _LINESTRING:
        points(count())
    elif base == _POLYGON:
        for _ in range(count()):
            points(count())
    elif base in _COLLECTIONS:
        for _ in range(count()):
            pos = _walk(buf, pos, out)
    else:
        msg = f"WKB geometry type {base} is not walked"
        raise ValueError(msg)
    return pos
