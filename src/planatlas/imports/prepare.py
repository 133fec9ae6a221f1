"""An import read, converted and checked before anything is written: :func:`prepare_import`.

The file is read with the same readers as the build (SHP folder or zip with GBK detected, GPKG,
File Geodatabase folder or zip, GeoJSON, CSV lon/lat, KML), converted to EPSG:4490 from the CRS
given or the file's own, its columns given store-safe names (the original names stay as titles),
a key chosen or generated, and every problem collected by file, layer, feature and field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planatlas.atlas_source import file_sha256
from planatlas.catalog import PRECISION_CLASSES, RESERVED_LAYER_PREFIXES, identifier_problem
from planatlas.checks import check_keys
from planatlas.errors import Problem, SourceError
from planatlas.imports.batched import read_batched, wants_batches
from planatlas.imports.replace import OFFICIAL_SOURCE, Matching, match_features, unmatched_text
from planatlas.io import read_source

Progress = Callable[[str], None]
Mode = Literal["add", "replace_import", "replace_bundled"]
#: Four gibibytes: a local import is not capped below this unless the settings say so.
DEFAULT_IMPORT_CAP = 4 * 1024**3
#: Columns a source may not bring under their own name (the stores' and the provenance's own).
_TAKEN = {
    "fid",
    "geom",
    "geom_m",
    "geometry",
    "precision",
    "uncertainty_m",
    "source_file",
    "source_lines",
    OFFICIAL_SOURCE,
}
#: Column names taken as a file's own id column when no key is given (compared lower-case).
_ID_NAMES = ("id", "key", "code", "objectid", "fid_1", "bm", "编码", "代码", "编号", "标识码")
#: Coordinate column names of a CSV, as (lon, lat).
_LONLAT = (("lon", "lat"), ("lng", "lat"), ("longitude", "latitude"), ("x", "y"), ("经度", "纬度"))
_FAMILIES = {
    "Point": "Point",
    "MultiPoint": "Point",
    "LineString": "LineString",
    "MultiLineString": "LineString",
    "Polygon": "Polygon",
    "MultiPolygon": "Polygon",
}


#: ``uncertainty_m`` of an import that states none, by precision class. Authored defaults of planatlas
#: (not from any standard): a bureau's survey to a metre, the rest as the ladder describes them.
IMPORT_UNCERTAINTY_M = {"surveyed": 1, "sourced": 100, "address": 250, "street": 1000, "schematic": 1000}


def _uncertainty(opts: ImportOptions) -> int | None:
    """The ``uncertainty_m`` every feature of the import gets: the option, else the class's default."""
    return opts.uncertainty_m if opts.uncertainty_m is not None else IMPORT_UNCERTAINTY_M.get(opts.precision)


@dataclass(frozen=True)
class ImportOptions:
    """What ``planatlas import`` and the Import page ask for (see the CLI help for each)."""

    layer: str
    crs: str | None = None
    key: str | None = None
    precision: str = "surveyed"
    #: Position uncertainty of every feature in whole metres; None: :data:`IMPORT_UNCERTAINTY_M` of the class.
    uncertainty_m: int | None = None
    title_zh: str | None = None
    title_en: str | None = None
    encoding: str | None = None
    source_layer: str | None = None
    replace: bool = False
    style_column: str | None = None
    #: The file's name as the user knows it (an upload is saved under another name).
    display_name: str | None = None
    max_bytes: int = DEFAULT_IMPORT_CAP
    max_archive_bytes: int = DEFAULT_IMPORT_CAP
    cap_settings: tuple[str, str] = ("PLANATLAS_MAX_IMPORT_BYTES", "PLANATLAS_MAX_IMPORT_BYTES")


@dataclass
class PreparedImport:
    """An import ready to be written, or the problems that stop it."""

    options: ImportOptions
    path: Path
    file_name: str
    mode: Mode = "add"
    frame: gpd.GeoDataFrame | None = None
    key: str = "feature_id"
    key_from: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    geometry_type: str = ""
    crs: str = ""
    crs_from: str = ""
    sha256: str = ""
    size: int = 0
    matching: Matching | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.frame is not None

    def problem(self, message: str, *, feature: str | None = None, fld: str | None = None) -> None:
        self.problems.append(
            Problem(message, file=self.file_name, layer=self.options.layer, feature=feature, field=fld)
        )


def resolve_input(path: Path) -> Path:
    """The file to read for ``path``: itself, or the one shapefile of a folder that is not a geodatabase."""
    if path.is_dir() and path.suffix.lower() != ".gdb":
        shapes = sorted(path.glob("*.shp")) + sorted(path.glob("*.SHP"))
        if len(shapes) != 1:
            found = ", ".join(p.name for p in shapes) or "none"
            msg = f"a folder to import must hold exactly one shapefile (.shp) or be a .gdb; found: {found}"
            raise SourceError(msg, file=path.name)
        return shapes[0]
    return path


def prepare_import(
    path: str | Path,
    options: ImportOptions,
    *,
    existing: Mapping[str, str],
    plan_frame: Callable[[str], pd.DataFrame] | None = None,
    progress: Progress | None = None,
) -> PreparedImport:
    """Read and check ``path`` for importing as ``options.layer``; nothing is written.

    Parameters
    ----------
    existing
        The atlas's layers and where each comes from (``bundled`` or ``imported``).
    plan_frame
        Reads a bundled layer as built (for matching a replacement); needed for ``--replace`` onto one.
    """
    path = Path(path)
    prepared = PreparedImport(options=options, path=path, file_name=options.display_name or path.name)
    tell = progress or (lambda _msg: None)
    _check_target(prepared, existing)
    if prepared.problems:
        return prepared
    tell(f"reading {prepared.file_name}")
    try:
        source = resolve_input(path)
        if source != path and not options.display_name:
            prepared.file_name = f"{path.name}/{source.name}"
        raw = _read(source, options, tell)
    except SourceError as exc:
        prepared.problems += [_with_layer(p, options.layer, prepared.file_name) for p in exc.problems]
        return prepared
    prepared.sha256, prepared.size = _fingerprint(path)
    prepared.crs, prepared.crs_from = (options.crs, "given") if options.crs else (raw.attrs.get("file_crs", ""), "file")
    tell(f"read {len(raw)} features; checking")
    prepared.geometry_type = _geometry_type(prepared, raw)
    if prepared.mode == "replace_bundled":
        _prepare_replacement(prepared, raw, plan_frame)
    else:
        _prepare_layer(prepared, raw)
    return prepared


def _check_target(prepared: PreparedImport, existing: Mapping[str, str]) -> None:
    opts = prepared.options
    problem = identifier_problem(opts.layer)
    if problem is not None:
        prepared.problem(f"layer name {problem}", fld="layer")
        return
    if opts.layer.startswith(RESERVED_LAYER_PREFIXES):
        prepared.problem(f"layer name starts with a prefix the stores reserve {RESERVED_LAYER_PREFIXES}", fld="layer")
    if opts.precision not in PRECISION_CLASSES:
        prepared.problem(f"precision should be one of {', '.join(PRECISION_CLASSES)}, got {opts.precision!r}")
    origin = existing.get(opts.layer)
    if origin and not opts.replace:
        prepared.problem(
            f"the atlas already has a layer {opts.layer!r} ({origin}); import under another name, "
            "or replace it (--replace; on the Import page: replace)",
            fld="layer",
        )
    elif opts.replace and not origin:
        prepared.problem(f"there is no layer {opts.layer!r} to replace; known: {', '.join(existing)}", fld="layer")
    elif origin:
        prepared.mode = "replace_import" if origin == "imported" else "replace_bundled"


def _with_layer(p: Problem, layer: str, file_name: str) -> Problem:
    file = p.file if p.file not in (None, "") else file_name
    message = p.message
    if "records no CRS" in message:
        message = (
            "the file records no CRS (no .prj or SRS) and none was given; give it: --crs EPSG:4548 (CGCS2000 "
            "3-degree CM 117°E, metres), --crs EPSG:4490 (CGCS2000 lon/lat), --crs GCJ-02 (Amap/Tencent web maps) "
            "or --crs BD-09 (Baidu)"
        )
    return Problem(message, file=file, layer=p.layer or layer, feature=p.feature, field=p.field)


def _read(source: Path, options: ImportOptions, tell: Progress) -> gpd.GeoDataFrame:
    if wants_batches(source):
        frame = read_batched(
            source,
            crs=options.crs,
            layer=options.source_layer,
            encoding=options.encoding,
            max_bytes=options.max_bytes,
            cap_setting=options.cap_settings[0],
            progress=tell,
        )
        if options.crs is None:
            frame.attrs["file_crs"] = _file_crs_name(source, options)
        return frame
    extra: dict[str, Any] = {}
    if source.suffix.lower() == ".csv":
        extra = dict(zip(("lon", "lat"), _lonlat_columns(source), strict=True))
    frame = read_source(
        source,
        crs=options.crs,
        encoding=options.encoding,
        layer=options.source_layer,
        max_bytes=options.max_bytes,
        max_archive_bytes=options.max_archive_bytes,
        cap_settings=options.cap_settings,
        **extra,
    )
    if options.crs is None:
        frame.attrs["file_crs"] = _file_crs_name(source, options)
    return frame


def _file_crs_name(source: Path, options: ImportOptions) -> str:
    """The CRS the file records, as text, for the origin record."""
    import pyogrio  # noqa: PLC0415 - only needed here

    try:
        info = pyogrio.read_info(source, layer=options.source_layer) if source.suffix.lower() != ".zip" else {}
    except Exception:  # noqa: BLE001 - a description only; the read itself succeeded
        return "the file's own"
    return str(info.get("crs") or "the file's own")


def _lonlat_columns(source: Path) -> tuple[str, str]:
    header = source.read_text(encoding="utf-8-sig", errors="replace").split("\n", 1)[0]
    names = [c.strip().strip('"') for c in header.split(",")]
    lowered = {n.lower(): n for n in names}
    for lon, lat in _LONLAT:
        if lon in lowered and lat in lowered:
            return lowered[lon], lowered[lat]
    return "lon", "lat"  # the reader names the missing columns


def _fingerprint(path: Path) -> tuple[str, int]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        digest = "+".join(file_sha256(p)[:16] for p in files)
        return digest[:64], sum(p.stat().st_size for p in files)
    return file_sha256(path), path.stat().st_size


def _geometry_type(prepared: PreparedImport, raw: gpd.GeoDataFrame) -> str:
    types = raw.geometry.geom_type.fillna("None")
    families = {_FAMILIES.get(t, t) for t in types.unique()}
    if len(families) != 1 or next(iter(families)) not in ("Point", "LineString", "Polygon"):
        majority = types.map(lambda t: _FAMILIES.get(t, t)).mode().iloc[0]
        for i in np.flatnonzero((types.map(lambda t: _FAMILIES.get(t, t)) != majority).to_numpy())[:20]:
            prepared.problem(
                f"geometry is a {types.iloc[i]}, the file's other features are {majority}s; a layer holds one kind",
                feature=f"#{i + 1}",
                fld="geometry",
            )
        return ""
    family = next(iter(families))
    if family == "Point":
        return "Point" if set(types) == {"Point"} else "MultiPoint"
    return f"Multi{family}"


def identifier_for(name: str, taken: set[str], index: int) -> str:
    """A store-safe column name for a source column (``街道名`` becomes ``col_3``, ``Area`` becomes ``area``)."""
    text = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
    if not text or not text[0].isalpha():
        text = f"col_{index}" if not text else f"c_{text}"
    text = text[:55]
    if text in _TAKEN:
        text = f"{text}_src"
    base, n = text, 2
    while text in taken:
        text, n = f"{base}_{n}", n + 1
    taken.add(text)
    return text


def _columns(raw: gpd.GeoDataFrame) -> dict[str, str]:
    taken: set[str] = set()
    return {
        str(col): identifier_for(str(col), taken, i)
        for i, col in enumerate(raw.columns, start=1)
        if col != raw.geometry.name
    }


def _key_column(prepared: PreparedImport, raw: gpd.GeoDataFrame) -> str | None:
    """The source column holding each feature's key: the one asked for, else a unique id column, else none."""
    asked = prepared.options.key
    if asked:
        if asked not in raw.columns:
            prepared.problem(f"key column {asked!r} is not in the file; its columns are {list(raw.columns)[:30]}")
            return None
        return asked
    for col in raw.columns:
        if str(col).lower() in _ID_NAMES:
            values = raw[col].astype("string").str.strip()
            if values.notna().all() and (values != "").all() and values.is_unique:
                return str(col)
    return None


def _prepare_layer(prepared: PreparedImport, raw: gpd.GeoDataFrame) -> None:
    """A new layer (or a new version of an imported one): columns renamed, key set, provenance added."""
    key_col = _key_column(prepared, raw)
    if prepared.problems:
        return
    mapping = _columns(raw)
    frame = raw.rename(columns=mapping)
    if key_col is None:
        prepared.key, prepared.key_from = "feature_id", None
        if "feature_id" in frame.columns:
            prepared.key = identifier_for("feature_id", set(mapping.values()), 0)
        frame[prepared.key] = [str(i) for i in range(1, len(frame) + 1)]
        prepared.notes.append(f"no key column given or found: features are numbered 1…{len(frame)} ({prepared.key})")
    else:
        prepared.key, prepared.key_from = mapping[key_col], key_col
        values = raw[key_col].astype("string").fillna("").str.strip()
        for p in check_keys(values, file=prepared.file_name, layer=prepared.options.layer, key=key_col):
            prepared.problems.append(p)
        frame[prepared.key] = values.astype(object)
    for col in frame.columns:
        if col != "geometry" and pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].astype("string").astype(object)
    frame["precision"] = prepared.options.precision
    frame["uncertainty_m"] = _uncertainty(prepared.options)
    frame["source_file"] = prepared.file_name
    frame["source_lines"] = ""
    prepared.columns = {v: k for k, v in mapping.items()}
    style = prepared.options.style_column
    if style and style not in mapping and style not in mapping.values():
        prepared.problem(f"style column {style!r} is not in the file", fld=style)
    if not prepared.problems:
        prepared.frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=raw.crs)


def _prepare_replacement(
    prepared: PreparedImport, raw: gpd.GeoDataFrame, plan_frame: Callable[[str], pd.DataFrame] | None
) -> None:
    """Official geometry for a bundled layer: the import's features matched to the plan's."""
    layer = prepared.options.layer
    if plan_frame is None:
        prepared.problem("replacing a bundled layer needs the atlas to read it from")
        return
    plan = plan_frame(layer)
    plan_key = str(plan.attrs.get("key") or "")
    if not plan_key or plan_key not in plan.columns:
        prepared.problem(f"the bundled layer {layer!r} has no key column to match on")
        return
    plan_type = str(plan.attrs.get("geometry_type") or "")
    if prepared.geometry_type and _FAMILIES.get(plan_type) != _FAMILIES.get(prepared.geometry_type):
        prepared.problem(
            f"the file holds {prepared.geometry_type} features, the layer {layer!r} {plan_type}: it cannot replace it",
            fld="geometry",
        )
        return
    key_col = prepared.options.key or _name_column(raw)
    if key_col is None or key_col not in raw.columns:
        prepared.problem(
            f"give the column naming each feature (--key), e.g. its name or code; columns are {list(raw.columns)[:30]}"
        )
        return
    labels = raw[key_col].astype("string").fillna("").tolist()
    matching = match_features(plan, plan_key, labels)
    prepared.matching, prepared.key, prepared.key_from = matching, plan_key, key_col
    for label in sorted(set(matching.ambiguous)):
        prepared.problem(
            "matches more than one plan feature, or a plan feature another row also matches; make the names distinct",
            feature=label,
            fld=key_col,
        )
    if not matching.pairs:
        prepared.problem(
            f"no feature of the file matches a feature of {layer!r} by key, name or alias "
            f"(the file's {key_col}: {unmatched_text(labels[:5])})",
            fld=key_col,
        )
    if prepared.problems:
        return
    rows = list(matching.pairs.values())
    official = gpd.GeoDataFrame(
        {
            plan_key: list(matching.pairs),
            "precision": prepared.options.precision,
            "uncertainty_m": _uncertainty(prepared.options),
            OFFICIAL_SOURCE: prepared.file_name,
        },
        geometry=raw.geometry.iloc[rows].to_numpy(),
        crs=raw.crs,
    )
    bad = ~shapely.is_valid(official.geometry.to_numpy())
    for i in np.flatnonzero(bad):
        reason = shapely.is_valid_reason(official.geometry.iloc[i])
        prepared.problem(f"geometry is not valid: {reason}", feature=labels[rows[i]], fld="geometry")
    if matching.plan_unmatched:
        prepared.notes.append(
            f"plan features with no official match (they keep their geometry): {unmatched_text(matching.plan_unmatched)}"
        )
    if matching.import_unmatched:
        prepared.notes.append(
            f"features of the file with no plan row (not imported): {unmatched_text(matching.import_unmatched)}"
        )
    if not prepared.problems:
        prepared.frame = official


def _name_column(raw: gpd.GeoDataFrame) -> str | None:
    for col in raw.columns:
        if str(col).lower() in ("name", "名称", "name_zh", "街道名", "街道", "jdmc", "mc"):
            return str(col)
    return None
