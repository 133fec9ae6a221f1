"""Checks of one layer's frame against its catalogue spec: keys, columns, fields (cast to their types), geometries.

The same geometry checks apply to every file a derivation reads (:func:`check_input_geometry`).

Each check collects every problem it finds, located by file, layer, feature key and field, and
returns them with the (cast) frame; nothing here reads or writes files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planatlas import crs as pcrs
from planatlas.catalog import (
    PRECISION_CLASSES,
    PROVENANCE_FIELDS,
    STATED_UNCERTAINTY_M,
    UNLOCATED,
    FieldSpec,
    LayerSpec,
)
from planatlas.errors import Problem

#: What an undeclared column from a source file may be called (declared ones follow the catalogue's
#: stricter pattern): Unicode letters, digits and '_', so quotes, spaces and ';' never reach the store.
_COLUMN = re.compile(r"[^\W\d]\w*")
#: PostgreSQL truncates longer identifiers (NAMEDATALEN - 1 bytes), which would merge distinct columns.
_MAX_NAME_BYTES = 63
#: Spellings of a ``bool`` field in the plan tables (English and Chinese).
_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f"}
#: Column names the stores use themselves (compared without case, as GeoPackage and PostGIS do).
_RESERVED_COLUMNS = frozenset({"fid", "geom", "geom_m", "geometry"})
#: Integers from 2**63 on do not fit the stores' 64-bit integer columns.
_INT64_LIMIT = 2.0**63


def check_keys(keys: pd.Series, *, file: str | None, layer: str, key: str) -> list[Problem]:
    """Empty and duplicate keys, each located by row (empty) or key value (duplicate)."""
    as_text = keys.astype("string").fillna("").str.strip()
    problems = [
        Problem("key is empty", file=file, layer=layer, feature=f"row {i + 1}", field=key)
        for i in np.flatnonzero((as_text == "").to_numpy())
    ]
    dup = as_text[(as_text != "") & as_text.duplicated(keep=False)]
    problems += [
        Problem(
            f"duplicate key (appears {int((as_text == value).sum())} times)",
            file=file,
            layer=layer,
            feature=value,
            field=key,
        )
        for value in sorted(set(dup))
    ]
    return problems


def _schema(spec: LayerSpec) -> dict[str, FieldSpec]:
    """The layer's declared fields plus the provenance fields every feature must carry."""
    required = dict(spec.fields)
    if spec.has_geometry:
        for pf in PROVENANCE_FIELDS:
            if pf == "uncertainty_m":  # required unless unlocated: checked by _uncertainty_problems
                required[pf] = FieldSpec(name=pf, type="int", title=required[pf].title if pf in required else {})
            elif pf not in required:
                enum = PRECISION_CLASSES if pf == "precision" else None
                required[pf] = FieldSpec(name=pf, type="str", required=True, enum=enum)
    elif "source_lines" not in required:
        required["source_lines"] = FieldSpec(name="source_lines", type="str", required=True)
    return required


def apply_schema(frame: pd.DataFrame, spec: LayerSpec, origin: Mapping[str, str]) -> tuple[pd.DataFrame, list[Problem]]:
    """``frame`` with every declared and provenance field cast to its type, and the values that do not fit.

    ``origin`` names the file each column came from, so a problem points at the file to fix.
    """
    problems: list[Problem] = []
    frame = frame.copy()
    keys = frame[spec.key].astype(str) if spec.key in frame.columns else pd.Series(range(len(frame))).astype(str)
    for fname, fspec in _schema(spec).items():
        where = origin.get(fname)

        def report(message: str, row: int | None = None, *, where: str | None = where, fname: str = fname) -> None:
            feature = None if row is None else keys.iloc[row]
            problems.append(Problem(message, file=where, layer=spec.name, feature=feature, field=fname))

        if fname not in frame.columns:
            if fspec.required:
                report("required field is missing from every source")
            else:
                frame[fname] = None
            continue
        values, bad = _cast(frame[fname], fspec.type)
        for i in bad:
            report(f"{frame[fname].iloc[i]!r} is not a valid {fspec.type}", i)
        empty = values.isna() | (values.astype("string").str.strip() == "")
        if fspec.required:
            for i in np.flatnonzero(empty.to_numpy()).tolist():
                report("required value is empty", i)
        enum = PRECISION_CLASSES if fname == "precision" and spec.has_geometry and fspec.enum is None else fspec.enum
        if enum is not None:
            allowed = set(enum)
            for i in np.flatnonzero((~empty).to_numpy()).tolist():
                if values.iloc[i] not in allowed:
                    report(f"{values.iloc[i]!r} is not one of {sorted(map(str, allowed))}", i)
        frame[fname] = values
    if spec.has_geometry and "uncertainty_m" in frame.columns and "precision" in frame.columns:
        problems += _uncertainty_problems(frame, spec, keys, origin.get("uncertainty_m"))
    return frame, problems


def _uncertainty_problems(frame: pd.DataFrame, spec: LayerSpec, keys: pd.Series, where: str | None) -> list[Problem]:
    """Fill ``uncertainty_m`` where the class has a stated value; then whole metres ≥ 0 unless unlocated, else empty."""
    precision = frame["precision"].astype("string").fillna("")
    values = frame["uncertainty_m"].astype("Int64")
    for cls, metres in STATED_UNCERTAINTY_M.items():
        values = values.mask(values.isna() & (precision == cls), metres)
    frame["uncertainty_m"] = values
    problems = []
    for i in range(len(frame)):
        unlocated = precision.iloc[i] == UNLOCATED
        value: int | None = None if pd.isna(values.iloc[i]) else int(values.iloc[i])
        message = None
        if unlocated and value is not None:
            message = "should be empty for an 'unlocated' feature (it has no position)"
        elif not unlocated and value is None:
            message = "required: the radius in whole metres within which the true position is expected"
        elif value is not None and value < 0:
            message = f"should be whole metres ≥ 0, got {value}"
        if message:
            problems.append(Problem(message, file=where, layer=spec.name, feature=keys.iloc[i], field="uncertainty_m"))
    return problems


def _cast(series: pd.Series, ftype: str) -> tuple[pd.Series, list[int]]:
    text = series.astype("string")
    blank = text.isna() | (text.str.strip() == "")
    if ftype == "str":
        return text.astype(object).where(~blank, None), []
    if ftype in ("int", "float"):
        num = pd.to_numeric(text.where(~blank, None), errors="coerce").astype("float64")
        # 'inf', '1e999' and integers past int64 parse, but no column can hold them: a cast would wrap silently
        unfit = num.notna() & ~np.isfinite(num.fillna(0))
        if ftype == "int":
            unfit |= num.notna() & ((num != np.floor(num.fillna(0))) | (num.abs() >= _INT64_LIMIT))
        bad = np.flatnonzero(((num.isna() & ~blank) | unfit).to_numpy()).tolist()
        num = num.where(~unfit, np.nan)
        if ftype == "int":
            return num.round().astype("Int64"), bad
        return num, bad
    lowered = text.str.strip().str.lower()
    mapped = pd.Series(pd.NA, index=series.index, dtype="boolean")
    mapped[lowered.isin(_TRUE).fillna(value=False)] = True
    mapped[lowered.isin(_FALSE).fillna(value=False)] = False
    bad = np.flatnonzero((mapped.isna() & ~blank).to_numpy()).tolist()
    return mapped, bad


def _shape_problem(geom: shapely.Geometry, types: tuple[str, ...]) -> str | None:
    """What is wrong with a present geometry: not one of ``types`` (or their single parts), invalid, outside China.

    A wrong type and invalidity are both named, so one round of fixes settles both.
    """
    found = []
    gtype = geom.geom_type
    if gtype not in {t for declared in types for t in _accepted_types(declared)}:
        found.append(f"geometry type should be {' or '.join(types)}, got {gtype}")
    if not geom.is_valid:
        found.append(f"invalid geometry: {shapely.is_valid_reason(geom)}")
    if found:
        return "; ".join(found)
    minx, miny, maxx, maxy = geom.bounds
    if not (pcrs.in_china([minx, maxx], [miny, maxy]).all()):
        return f"geometry lies outside China (bounds {minx:.4f}, {miny:.4f}, {maxx:.4f}, {maxy:.4f})"
    return None


def _accepted_types(declared: str) -> tuple[str, ...]:
    """A declared Multi type also takes its single parts (they are promoted)."""
    return (declared, declared.removeprefix("Multi")) if declared.startswith("Multi") else (declared,)


def _geometry_problem(geom: shapely.Geometry | None, *, declared: str, unlocated: bool) -> tuple[str, str] | None:
    """What is wrong with one feature's geometry, as (message, field), or ``None``."""
    if geom is None or geom.is_empty:
        return None if unlocated else ("feature has no geometry (only precision 'unlocated' may lack one)", "geometry")
    if unlocated:
        return "precision 'unlocated' but the feature has a geometry", "precision"
    found = _shape_problem(geom, (declared,))
    return None if found is None else (found, "geometry")


def check_input_geometry(
    frame: gpd.GeoDataFrame,
    *,
    types: tuple[str, ...],
    allow_missing: bool,
    file: str | None,
    layer: str,
    key: str,
) -> list[Problem]:
    """The checks a layer's geometries get, applied to a file a derivation reads.

    Every feature must be of one of ``types`` (single parts of a Multi type included), valid and
    inside China, and present unless ``allow_missing``; a ``precision`` value, where the file has
    the column, must be a known class. Features are named by ``key``, else ``name``, else row.
    """
    label = key if key in frame.columns else "name" if "name" in frame.columns else None
    names = frame[label].astype(str).to_numpy() if label else np.array([f"row {i + 1}" for i in range(len(frame))])
    problems: list[Problem] = []
    for i, geom in enumerate(frame.geometry.to_numpy()):
        if geom is None or geom.is_empty:
            found = None if allow_missing else "feature has no geometry"
        else:
            found = _shape_problem(geom, types)
        if found is not None:
            problems.append(Problem(found, file=file, layer=layer, feature=names[i], field="geometry"))
    if "precision" in frame.columns:
        values = frame["precision"].astype("string").fillna("").str.strip().to_numpy()
        problems += [
            Problem(
                f"{value!r} is not one of {list(PRECISION_CLASSES)}",
                file=file,
                layer=layer,
                feature=names[i],
                field="precision",
            )
            for i, value in enumerate(values)
            if value and value not in PRECISION_CLASSES
        ]
    return problems


def check_columns(columns: list[str], origin: Mapping[str, str], *, spec: LayerSpec) -> list[Problem]:
    """Column names the store cannot hold as given: not a name at all, or equal to another but for case.

    GeoPackage and PostGIS compare column names without regard to case, so a KML's ``Name``
    beside a table's ``name`` would only fail when the atlas is written; it is refused here instead.
    Columns the catalogue declares already match :data:`planatlas.catalog.IDENTIFIER`.
    """
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for col in columns:
        if col == "geometry" and spec.has_geometry:
            continue
        if col.casefold() in _RESERVED_COLUMNS:
            msg = (
                f"column name {col!r} is taken by the atlas stores (GeoPackage's feature id 'fid' and geometry "
                "'geom', PostGIS's 'geom_m', the layer's 'geometry'); rename it in the file"
            )
            problems.append(Problem(msg, file=origin.get(col), layer=spec.name, field=col))
            continue
        if (col not in spec.fields and not _COLUMN.fullmatch(col)) or len(col.encode("utf-8")) > _MAX_NAME_BYTES:
            msg = (
                f"column name {col!r} cannot be a column of the atlas: it should be letters, digits and '_' "
                f"(not starting with a digit, at most {_MAX_NAME_BYTES} bytes); rename it in the file"
            )
            problems.append(Problem(msg, file=origin.get(col), layer=spec.name, field=col))
        first = seen.setdefault(col.casefold(), col)
        if first != col:
            msg = (
                f"column {col!r} (from {origin.get(col)}) and column {first!r} (from {origin.get(first)}) differ only "
                "in case, and GeoPackage and PostGIS column names ignore case; rename or remove one of them"
            )
            problems.append(Problem(msg, file=origin.get(col), layer=spec.name, field=col))
    return problems


def check_geometry(frame: gpd.GeoDataFrame, spec: LayerSpec) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Geometries checked against the spec (present unless unlocated, of the declared type, valid, in China).

    Without problems, single parts are promoted to the declared Multi type and the frame is
    labelled EPSG:4490.
    """
    file = spec.geometry.source or f"derive:{spec.geometry.derive}"
    keys = frame[spec.key].astype(str).to_numpy()
    geoms = frame.geometry.to_numpy()
    precision = frame["precision"].to_numpy()
    declared = spec.geometry_type
    multi = declared.startswith("Multi")
    problems = [
        Problem(found[0], file=file, layer=spec.name, feature=keys[i], field=found[1])
        for i, g in enumerate(geoms)
        if (found := _geometry_problem(g, declared=declared, unlocated=precision[i] == UNLOCATED)) is not None
    ]
    if problems:
        return frame, problems
    if multi:
        promoted = [g if g is None or g.geom_type == declared else getattr(shapely, declared)([g]) for g in geoms]
        frame = frame.set_geometry(gpd.GeoSeries(promoted, index=frame.index, crs=pcrs.STORAGE_CRS))
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=pcrs.STORAGE_CRS)
    return frame, problems


def check_text_cells(frame: pd.DataFrame, origin: Mapping[str, str], *, spec: LayerSpec) -> list[Problem]:
    """Text cells holding a NUL character: GeoPackage keeps them, PostgreSQL text refuses them at write."""
    keys = frame[spec.key].astype(str) if spec.key in frame.columns else pd.Series(range(len(frame))).astype(str)
    problems: list[Problem] = []
    for col in frame.columns:
        if col == "geometry" or frame[col].dtype != object:
            continue
        has_nul = frame[col].map(lambda v: isinstance(v, str) and "\x00" in v).to_numpy(dtype=bool)
        problems += [
            Problem(
                "holds a NUL character (byte 0)", file=origin.get(col), layer=spec.name, feature=keys.iloc[i], field=col
            )
            for i in np.flatnonzero(has_nul)
        ]
    return problems
