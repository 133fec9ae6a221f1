"""The one place layers, query results, reports and the data card are written to files (GeoJSON, GeoPackage, CSV, JSON, text), atomically.

Also the temporary files every atomic write in planatlas starts from (here, the atlas store, the map writer):
created beside the target with a plain file's mode, and found again when a killed write left them.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from planatlas.errors import OutputNameError, OutputWriteError

FORMATS = {"geojson": ".geojson", "gpkg": ".gpkg", "csv": ".csv"}
#: Formats GDAL writes; it cuts a file name at ';' and drops control characters, so the file lands elsewhere.
_GDAL_FORMATS = {"geojson", "gpkg"}
#: Below this many free bytes a failed write is put down to a full disk.
_NEARLY_FULL = 1024 * 1024
#: What a failed write raises: the OS, or GDAL through pyogrio (a full disk is a "Cannot write feature").
WRITE_ERRORS = (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)
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


#: Files a writer creates are opened with these permissions less the umask, as ``open(path, "w")`` does.
_PLAIN_FILE_PERMISSIONS = 0o666


def new_temp_file_beside(target: Path, suffix: str) -> tuple[int, Path]:
    """Create an empty temporary file next to ``target``, named ``.<target name>.<random><suffix>``.

    Unlike ``tempfile.mkstemp`` (mode 0600, right for a shared ``/tmp``), the file gets the mode a
    plainly created file gets here (0666 less the umask), so renaming it over ``target`` leaves an
    output as readable as any other the user creates.

    Returns
    -------
    tuple of int and Path
        An open write descriptor (the caller closes it) and the file's path.
    """
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}{suffix}"
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), _PLAIN_FILE_PERMISSIONS
            )
        except FileExistsError:
            continue
        return fd, tmp
    msg = f"could not create a temporary file next to {target} (100 names taken)"
    raise FileExistsError(msg)


def temp_files_beside(target: Path, suffix: str, *, side_suffixes: tuple[str, ...] = ()) -> list[Path]:
    """The temporary files :func:`new_temp_file_beside` names for ``target`` that exist now.

    ``side_suffixes`` also matches files that a library writes beside such a file (SQLite's
    ``-journal``); both are what an interrupted write leaves behind.
    """
    sides = "|".join(re.escape(s) for s in side_suffixes)
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]+{re.escape(suffix)}(?:{sides})?")
    if not target.parent.is_dir():
        return []
    return sorted(p for p in target.parent.iterdir() if pattern.fullmatch(p.name) and p.is_file())


def file_mode(fd: int) -> int:
    """The permission bits of a file created by :func:`new_temp_file_beside` (what the umask left)."""
    return stat.S_IMODE(os.fstat(fd).st_mode)


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
    frame: gpd.GeoDataFrame | pd.DataFrame,
    path: str | Path,
    *,
    fmt: str | None = None,
    layer: str = "layer",
    description: str | None = None,
) -> Path:
    """Write ``frame`` to ``path`` atomically (temp file in the same folder, then rename).

    GeoJSON is written in EPSG:4490 coordinates (RFC 7946 readers treat them as WGS84, which
    differs by centimetres); CSV carries the geometry as WKT plus lon/lat for points. ``layer``
    names the GeoPackage table and the GeoJSON collection (never the temporary file's name);
    ``description`` becomes the GeoJSON ``description`` member or the GeoPackage table description.
    """
    path = Path(path)
    fmt = fmt or format_from_path(path)
    if fmt not in FORMATS:
        msg = f"format should be one of {sorted(FORMATS)}, got {fmt!r}"
        raise ValueError(msg)
    if fmt in _GDAL_FORMATS:
        _check_gdal_path(path, fmt)
    with replacing(path, suffix=FORMATS[fmt]) as tmp:
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
            options = {"DESCRIPTION": description} if description else None
            # Through Arrow: 110k footprints to GeoPackage in 0.36 s instead of 0.50 s.
            pyogrio.write_dataframe(frame, tmp, driver=driver, layer=layer, layer_options=options, use_arrow=True)
    return path


def frame_bytes(frame: pd.DataFrame, fmt: str, *, layer: str) -> bytes:
    """``frame`` as the bytes of a ``fmt`` file (csv, geojson, gpkg), for a download: written to a temp folder."""
    with tempfile.TemporaryDirectory(prefix="planatlas-") as tmp:
        path = Path(tmp) / f"download{FORMATS[fmt]}"
        write_frame(frame, path, fmt=fmt, layer=layer)
        return path.read_bytes()


def write_json(path: str | Path, data: object) -> Path:
    """Write ``data`` as indented UTF-8 JSON to ``path`` atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    with replacing(path, suffix=".tmp") as tmp, tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    with replacing(path, suffix=".tmp") as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


@contextmanager
def replacing(path: Path, *, suffix: str) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; renamed over ``path`` if the block succeeds, removed if not.

    Whatever fails (a full disk, no permission, GDAL) leaves any previous file at ``path``
    untouched and no temporary file behind, and is raised as :class:`OutputWriteError` naming ``path``.
    """
    _refuse_atlas(path)
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = new_temp_file_beside(path, suffix)
        mode = file_mode(fd)
        os.close(fd)
        yield tmp
        if tmp.exists():
            # GDAL (and SQLite for GPKG) create files with their own default mode; make it the plain one
            tmp.chmod(mode)
        _move_into_place(tmp, path)
    except OutputWriteError:
        raise
    except WRITE_ERRORS as exc:
        raise write_failure(path, exc) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _refuse_atlas(path: Path) -> None:
    """Refuse to write an output over a planatlas atlas (``-o`` naming the atlas would replace every layer)."""
    try:
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            found = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'planatlas_metadata'").fetchone()
        finally:
            con.close()
    except (OSError, sqlite3.Error):
        return  # not there, not readable, not SQLite: nothing of ours to protect
    if found:
        msg = f"{path} is a planatlas atlas; an output written there would replace it: choose another file"
        raise OutputNameError(msg)


def _move_into_place(tmp: Path, path: Path) -> None:
    if not tmp.exists():
        msg = f"{path} was not written: the writer put the file somewhere else"
        raise OutputWriteError(msg)
    tmp.replace(path)


def write_failure(path: Path, exc: BaseException) -> OutputWriteError:
    """The error to raise when writing ``path`` failed with ``exc``: it names the path and, if so, the full disk."""
    try:
        free: int | None = shutil.disk_usage(path.parent).free
    except OSError:
        free = None
    text = str(exc)
    full = (isinstance(exc, OSError) and exc.errno in {errno.ENOSPC, errno.EDQUOT}) or any(
        s in text for s in ("No space left", "disk is full", "disk full")
    )
    if full or (free is not None and free < _NEARLY_FULL):
        reason = "the disk is full" + (f" ({free} bytes free)" if free is not None and free < _NEARLY_FULL else "")
    else:
        reason = text
    msg = f"{path} was not written: {reason}; nothing there was changed (a previous file at that path is intact)"
    return OutputWriteError(msg)


def _check_gdal_path(path: Path, fmt: str) -> None:
    text = str(path)
    bad = sorted({ch for ch in text if ch == ";" or ord(ch) < 32 or ord(ch) == 127})
    if bad or text.startswith("/vsi"):
        shown = ", ".join(repr(ch) for ch in bad) or "a GDAL virtual path /vsi…"
        msg = (
            f"output path {text!r} cannot be written as {fmt}: it holds {shown}, which GDAL does not keep in a "
            "file name (it would write the file somewhere else); choose a name without it"
        )
        raise OutputNameError(msg)
