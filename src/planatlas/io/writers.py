"""The one place layers, query results and reports are written to files: GeoJSON, GeoPackage, CSV, JSON (atomic)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

FORMATS = {"geojson": ".geojson", "gpkg": ".gpkg", "csv": ".csv"}
#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """``value`` as a CSV cell a spreadsheet will not run.

    Text starting with ``= + - @``, a tab or a carriage return gets a leading single quote, so
    Excel or LibreOffice show ``=HYPERLINK(…)`` as text instead of evaluating it; numbers and
    every other value are left as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (no index), every text cell and header passed through :func:`csv_cell`.

    The one way planatlas turns a table into CSV: files, downloads and printed output. Lines end
    in CRLF (RFC 4180), so a carriage return inside a cell is quoted rather than splitting the row.
    """
    table = pd.DataFrame(frame).copy()
    for column in table.columns:
        if pd.api.types.is_object_dtype(table[column]) or pd.api.types.is_string_dtype(table[column]):
            table[column] = table[column].map(csv_cell)
    table.columns = [csv_cell(c) for c in table.columns]
    text: str = table.to_csv(index=False, lineterminator="\r\n")
    return text


def format_from_path(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    for fmt, ext in FORMATS.items():
        if suffix == ext or (fmt == "geojson" and suffix == ".json"):
            return fmt
    msg = (
        f"output format should be one of {sorted(FORMATS)} (from the file extension), got {suffix or 'no extension'!r}"
    )
    raise ValueError(msg)


def write_frame(
    frame: gpd.GeoDataFrame | pd.DataFrame, path: str | Path, *, fmt: str | None = None, layer: str = "layer"
) -> Path:
    """Write ``frame`` to ``path`` atomically (temp file in the same folder, then rename).

    GeoJSON is written in EPSG:4490 coordinates (RFC 7946 readers treat them as WGS84, which
    differs by centimetres); CSV carries the geometry as WKT plus lon/lat for points.
    """
    path = Path(path)
    fmt = fmt or format_from_path(path)
    if fmt not in FORMATS:
        msg = f"format should be one of {sorted(FORMATS)}, got {fmt!r}"
        raise ValueError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=FORMATS[fmt])
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if fmt == "csv":
            table = pd.DataFrame(frame).copy()
            if isinstance(frame, gpd.GeoDataFrame):
                geoms = frame.geometry
                if len(geoms) and (geoms.geom_type == "Point").all():
                    table["lon"] = geoms.x.round(7)
                    table["lat"] = geoms.y.round(7)
                table["geometry"] = geoms.to_wkt(rounding_precision=7)
            tmp.write_text(csv_text(table), encoding="utf-8-sig", newline="")
        else:
            tmp.unlink()
            driver = "GeoJSON" if fmt == "geojson" else "GPKG"
            kwargs = {"layer": layer} if fmt == "gpkg" else {}
            pyogrio.write_dataframe(frame, tmp, driver=driver, **kwargs)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_json(path: str | Path, data: object) -> Path:
    """Write ``data`` as indented UTF-8 JSON to ``path`` atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
    return Path(tmp).replace(path)
