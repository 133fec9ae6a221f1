"""GeoJSON, GeoPackage, Shapefile (plain or zipped), CSV lon/lat and KML readers."""

from __future__ import annotations

import codecs
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from planatlas import crs as pcrs
from planatlas.errors import ArchiveTooLargeError, Problem, SourceError
from planatlas.io.files import checked_size
from planatlas.io.geojson import check_members
from planatlas.io.geometry import MAX_LISTED, feature_label, nonfinite_problems
from planatlas.io.shapefile import check_parts, check_text, shapefile_encoding
from planatlas.io.tables import read_table
from planatlas.io.vector import read_vector

#: Default cap on a single source file, and on what a zip may expand to.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ARCHIVE_BYTES = 200 * 1024 * 1024
_VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".kml", ".csv", ".gdb"}
#: What lifts the caps of a catalogue source (the import and the app name their own settings).
CATALOGUE_CAPS = ("max_bytes in the layer's [geometry]", "max_archive_bytes in the layer's [geometry]")


class SourceOptions(TypedDict, total=False):
    """The keyword options of :func:`read_source` besides ``crs`` (a layer spec's ``[geometry]`` extras)."""

    lon: str
    lat: str
    encoding: str | None
    layer: str | None
    max_bytes: int
    max_archive_bytes: int
    allow_empty_geometry: bool
    cap_settings: tuple[str, str]


def read_source(
    path: str | Path,
    *,
    crs: str | None,
    lon: str = "lon",
    lat: str = "lat",
    encoding: str | None = None,
    layer: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES,
    allow_empty_geometry: bool = False,
    key: str | None = None,
    cap_settings: tuple[str, str] = CATALOGUE_CAPS,
) -> gpd.GeoDataFrame:
    """Read a geometry source and return it in EPSG:4490.

    Parameters
    ----------
    path
        A .geojson/.json, .gpkg, .shp, .zip (holding one shapefile or GeoJSON), .csv or .kml file.
    crs
        The CRS the file's coordinates are in: ``"EPSG:nnnn"``, ``"GCJ-02"`` or ``"BD-09"``.
        ``None`` takes the CRS the file itself records, and fails if it records none.
    lon, lat
        Coordinate columns of a CSV source.
    encoding
        Text encoding of a shapefile's attributes; by default its ``.cpg``, else detected
        (UTF-8, then GB18030, a superset of GBK).
    layer
        Layer of a multi-layer GeoPackage.
    max_bytes, max_archive_bytes
        Caps on the file size and on the bytes a zip archive actually expands to.
    allow_empty_geometry
        Keep rows without geometry (sources of derivations that place them later).
    key
        The layer's key column, used only to name features in problems (else ``#n``, the feature's
        order in the file).
    cap_settings
        What lifts ``max_bytes`` and ``max_archive_bytes``, named in the messages of files above them.

    Raises
    ------
    SourceError
        Every problem found, located by file and, where it concerns one feature, by feature and field.
    """
    path = Path(path)
    name = path.name
    checked_size(path, max_bytes=max_bytes, setting=cap_settings[0])
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with _extracted(path, max_archive_bytes=max_archive_bytes, setting=cap_settings[1]) as inner:
            try:
                gdf = _read_vector(inner, crs=crs, lon=lon, lat=lat, encoding=encoding, layer=layer, key=key)
            except SourceError as exc:  # name the archive, as the catalogue does, and the member inside it
                raise SourceError([_in_archive(p, name, inner.name) for p in exc.problems]) from exc
    elif suffix in _VECTOR_SUFFIXES:
        gdf = _read_vector(path, crs=crs, lon=lon, lat=lat, encoding=encoding, layer=layer, key=key)
    else:
        msg = f"unsupported file type {suffix!r}; expected one of .geojson .gpkg .shp .zip .csv .kml"
        raise SourceError(msg, file=name)
    if not allow_empty_geometry:
        empty = gdf.geometry.isna() | gdf.geometry.is_empty
        if empty.any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(empty.to_numpy())[:10])
            msg = f"features without geometry (rows {rows})"
            raise SourceError(msg, file=name)
    return gdf


def _read_vector(
    path: Path, *, crs: str | None, lon: str, lat: str, encoding: str | None, layer: str | None, key: str | None
) -> gpd.GeoDataFrame:
    name = path.name
    suffix = path.suffix.lower()
    if suffix == ".csv":
        gdf = _read_csv_points(path, lon=lon, lat=lat)
        given = gdf[key].tolist() if key is not None and key in gdf.columns else [""] * len(gdf)
        labels: list[str] | None = [str(k).strip() or f"row {i + 2}" for i, k in enumerate(given)]
        file_crs = None
    else:
        if suffix in {".geojson", ".json"}:
            check_members(path, key=key)
        if suffix == ".shp":
            check_parts(path)
            encoding = _known_encoding(encoding or shapefile_encoding(path), file=name)
            check_text(path, encoding)
        gdf = read_vector(path, encoding=encoding if suffix == ".shp" else None, layer=layer, key=key)
        labels = gdf[key].tolist() if key is not None and key in gdf.columns else None
        file_crs = gdf.crs
    if len(gdf) == 0:
        msg = "the file holds no features"
        raise SourceError(msg, file=name)
    geoms = gdf.geometry.to_numpy()
    if shapely.has_z(geoms[~shapely.is_missing(geoms)]).any():
        # the atlas is 2-D: heights (a KML's altitude, usually 0) would be written into 2-D columns, which PostGIS refuses
        gdf = gdf.set_geometry(shapely.force_2d(geoms), crs=gdf.crs)
    problems = nonfinite_problems(gdf.geometry.to_numpy(), file=name, keys=labels)
    if problems:
        raise SourceError(problems)
    return to_canonical(gdf, declared=crs, file_crs=file_crs, file=name, keys=labels)


def _in_archive(problem: Problem, archive: str, member: str) -> Problem:
    if problem.file not in (None, member):
        return problem
    return Problem(f"{member}: {problem.message}", archive, problem.layer, problem.feature, problem.field)


def _known_encoding(encoding: str, *, file: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        msg = (
            f"encoding {encoding!r} (from the .cpg or the layer's [geometry] encoding) is not an encoding Python knows"
        )
        raise SourceError(msg, file=file) from exc
    return encoding


def to_canonical(
    gdf: gpd.GeoDataFrame,
    *,
    declared: str | None,
    file_crs: CRS | str | None = None,
    file: str | None = None,
    keys: Sequence[object] | None = None,
) -> gpd.GeoDataFrame:
    """Convert ``gdf`` from its declared CRS to EPSG:4490, checking that the coordinates fit it.

    ``keys`` name the features (in row order) in problems; without them a feature is ``#n``.
    """
    if declared is None:
        if file_crs is None:
            msg = "the file records no CRS and none was declared; declare one (e.g. EPSG:4490)"
            raise SourceError(msg, file=file)
        declared = CRS.from_user_input(file_crs).to_string()
    declared = pcrs.normalize_crs_name(declared)
    gdf = gdf.copy()
    if pcrs.is_offset_system(declared):
        _check_geographic_range(gdf, declared, file, keys)
        if file_crs is not None and not CRS.from_user_input(file_crs).is_geographic:
            msg = f"declared {declared} (lon/lat) but the file records projected CRS {file_crs}"
            raise SourceError(msg, file=file)
        geoms = gdf.geometry.to_numpy()
        gdf = gdf.set_geometry(pcrs.offset_to_canonical(geoms, declared), crs=None)
        return gdf.set_crs(pcrs.STORAGE_CRS, allow_override=True)
    try:
        target = CRS.from_user_input(declared)
    except CRSError as exc:
        msg = f"declared CRS {declared!r} is not a CRS pyproj knows: {exc}"
        raise SourceError(msg, file=file) from exc
    if file_crs is not None:
        recorded = CRS.from_user_input(file_crs)
        # GeoJSON always reports WGS84; CGCS2000 vs WGS84 differ by centimetres. Anything else must match.
        if not recorded.equals(target, ignore_axis_order=True) and not (
            recorded.is_geographic and target.is_geographic
        ):
            msg = (
                f"declared CRS {declared} but the file records {recorded.to_string()}; fix the declaration or the file"
            )
            raise SourceError(msg, file=file)
    if target.is_geographic:
        _check_geographic_range(gdf, declared, file, keys)
    gdf = gdf.set_crs(target, allow_override=True).to_crs(pcrs.STORAGE_CRS)
    _check_geographic_range(gdf, f"{declared} (after conversion)", file, keys)
    return gdf


def _check_geographic_range(
    gdf: gpd.GeoDataFrame, declared: str, file: str | None, keys: Sequence[object] | None
) -> None:
    geoms = gdf.geometry.to_numpy()
    present = np.flatnonzero(~pd.isna(geoms))
    coords, index = shapely.get_coordinates(geoms[present], return_index=True)
    if len(coords) == 0:
        return
    x, y = coords[:, 0], coords[:, 1]
    if not pcrs.in_china(x, y).all() and pcrs.in_china(y, x).all():
        msg = f"coordinates are outside China as lon/lat but inside it as lat/lon: latitude and longitude are swapped ({declared})"
        raise SourceError(msg, file=file)
    if np.any(np.abs(x) > 180) or np.any(np.abs(y) > 90):
        msg = (
            f"coordinates reach ({x.max():.1f}, {y.max():.1f}): these look like metres, "
            f"but {declared} is a geographic (degrees) CRS"
        )
        raise SourceError(msg, file=file)
    outside = np.flatnonzero(~pcrs.in_china(x, y))
    if len(outside) == 0:
        return
    # the first coordinate outside China of each feature that has one
    rows, first = np.unique(index[outside], return_index=True)
    problems = [
        Problem(
            f"coordinate ({x[i]:.5f}, {y[i]:.5f}) lies outside China for declared CRS {declared}",
            file=file,
            feature=feature_label(keys, int(present[row])),
            field="geometry",
        )
        for row, i in zip(rows[:MAX_LISTED], outside[first][:MAX_LISTED], strict=True)
    ]
    if len(rows) > MAX_LISTED:
        problems.append(Problem(f"… and {len(rows) - MAX_LISTED} more features outside China", file=file))
    raise SourceError(problems)


def suspect_gcj02(
    points: gpd.GeoSeries, reference: gpd.GeoSeries, *, min_gain: float = 0.05, min_fit: float = 0.95
) -> bool:
    """Whether points declared WGS84/CGCS2000 fit ``reference`` clearly better when read as GCJ-02.

    Both inputs are in EPSG:4490. A file of web-map (GCJ-02) coordinates declared as WGS84 lands
    ~600 m east-south-east of where it belongs in Nanchang; if reading it as GCJ-02 puts (nearly) all
    of its points inside the reference polygons and clearly more than as declared, the declaration is
    probably wrong.
    """
    union = shapely.union_all(reference.to_numpy())
    pts = points.to_numpy()
    as_declared = shapely.contains_xy(union, *shapely.get_coordinates(pts).T).mean()
    shifted = pcrs.offset_to_canonical(pts, pcrs.GCJ02)
    as_gcj = shapely.contains_xy(union, *shapely.get_coordinates(shifted).T).mean()
    return bool(as_gcj >= min_fit and as_gcj - as_declared >= min_gain)


def _read_csv_points(path: Path, *, lon: str, lat: str) -> gpd.GeoDataFrame:
    table = read_table(path)
    name = path.name
    missing = [c for c in (lon, lat) if c not in table.columns]
    if missing:
        msg = f"CSV has no coordinate column(s) {missing}; columns are {list(table.columns)}"
        raise SourceError(msg, file=name)
    problems: list[Problem] = []
    xs = pd.to_numeric(table[lon].replace("", np.nan), errors="coerce")
    ys = pd.to_numeric(table[lat].replace("", np.nan), errors="coerce")
    for col, raw, num in ((lon, table[lon], xs), (lat, table[lat], ys)):
        bad = num.isna() & (raw.str.strip() != "")
        problems.extend(
            Problem(f"{raw.iloc[i]!r} is not a number", file=name, feature=f"row {i + 2}", field=col)
            for i in np.flatnonzero(bad.to_numpy())
        )
    half = xs.isna() ^ ys.isna()
    problems.extend(
        Problem("only one of lon/lat is given", file=name, feature=f"row {i + 2}", field=f"{lon}/{lat}")
        for i in np.flatnonzero(half.to_numpy())
    )
    if problems:
        raise SourceError(problems)
    geometry = [
        shapely.Point(x, y) if not (np.isnan(x) or np.isnan(y)) else None
        for x, y in zip(xs.to_numpy(float), ys.to_numpy(float), strict=True)
    ]
    attrs = table.drop(columns=[lon, lat])
    return gpd.GeoDataFrame(attrs, geometry=geometry, crs=None)


@contextmanager
def _extracted(archive: Path, *, max_archive_bytes: int, setting: str | None = None) -> Iterator[Path]:
    """Extract a zip to a temp dir, counting bytes actually read against the cap; yield the data file.

    Members are flattened into the folder (no path traversal), except those inside a ``*.gdb``
    folder, which keep that one folder: a zipped File Geodatabase.
    """
    name = archive.name
    tmp = Path(tempfile.mkdtemp(prefix="planatlas-zip-"))
    try:
        try:
            zf = zipfile.ZipFile(archive)
        except zipfile.BadZipFile as exc:
            msg = f"not a readable zip archive (truncated or corrupt): {exc}"
            raise SourceError(msg, file=name) from exc
        total = 0
        with zf:
            _refuse_clashing_members(zf, file=name)
            for info in zf.infolist():
                if info.is_dir():
                    continue
                target = tmp / _member_target(info.filename)
                target.parent.mkdir(exist_ok=True)
                try:
                    with zf.open(info) as src, target.open("wb") as dst:
                        while chunk := src.read(1 << 16):
                            total += len(chunk)
                            if total > max_archive_bytes:
                                msg = f"expands beyond the cap of {max_archive_bytes} bytes (stopped at entry {info.filename!r})"
                                msg += f"; raise {setting} to read it" if setting else ""
                                raise ArchiveTooLargeError(msg, file=name)
                            dst.write(chunk)
                except (zipfile.BadZipFile, EOFError, OSError) as exc:
                    if isinstance(exc, ArchiveTooLargeError):
                        raise
                    msg = f"entry {info.filename!r} is truncated or corrupt: {exc}"
                    raise SourceError(msg, file=name) from exc
                except (RuntimeError, NotImplementedError) as exc:  # encrypted, or a compression zipfile lacks
                    msg = f"entry {info.filename!r} cannot be extracted ({exc}); zip it again without a password"
                    raise SourceError(msg, file=name) from exc
        candidates = sorted(p for p in tmp.iterdir() if p.suffix.lower() in _VECTOR_SUFFIXES - {".csv"})
        gdb = [p for p in candidates if p.suffix.lower() == ".gdb"]
        if len(gdb) == 1:
            candidates = gdb
        shp = [p for p in candidates if p.suffix.lower() == ".shp"]
        chosen = shp or candidates
        if len(chosen) != 1:
            found = ", ".join(p.name for p in candidates) or "none"
            msg = f"a zip source must hold exactly one shapefile or vector file; found: {found}"
            raise SourceError(msg, file=name)
        yield chosen[0]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _member_target(member: str) -> Path:
    """Where a zip member is extracted, relative to the folder: its file name, or ``x.gdb/name`` inside a geodatabase."""
    parts = Path(member).parts
    folder = next((p for p in parts[:-1] if p.lower().endswith(".gdb") and p not in (".", "..")), None)
    return Path(folder, parts[-1]) if folder else Path(parts[-1])


def _refuse_clashing_members(zf: zipfile.ZipFile, *, file: str) -> None:
    """Refuse entries that flattening would write to one file (``areas.dbf`` and ``sub/areas.dbf``): one would be lost."""
    seen: dict[str, str] = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        first = seen.setdefault(str(_member_target(info.filename)).lower(), info.filename)
        if first != info.filename:
            msg = f"entries {first!r} and {info.filename!r} have the same file name; keep one of them in the zip"
            raise SourceError(msg, file=file)
