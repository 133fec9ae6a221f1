"""Checks of one layer's frame against its catalogue spec: keys, declared fields (cast to their types), geometries.

Each check collects every problem it finds, located by file, layer, feature key and field, and
returns them with the (cast) frame; nothing here reads or writes files.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planatlas import crs as pcrs
from planatlas.catalog import PRECISION_CLASSES, PROVENANCE_FIELDS, UNLOCATED, FieldSpec, LayerSpec
from planatlas.errors import Problem

#: Spellings of a ``bool`` field in the plan tables (English and Chinese).
_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f"}


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
            if pf not in required:
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
    return frame, problems


def _cast(series: pd.Series, ftype: str) -> tuple[pd.Series, list[int]]:
    text = series.astype("string")
    blank = text.isna() | (text.str.strip() == "")
    if ftype == "str":
        return text.astype(object).where(~blank, None), []
    if ftype in ("int", "float"):
        num = pd.to_numeric(text.where(~blank, None), errors="coerce")
        bad = np.flatnonzero((num.isna() & ~blank).to_numpy()).tolist()
        if ftype == "int":
            frac = num.notna() & (num != np.floor(num.fillna(0)))
            bad += np.flatnonzero(frac.to_numpy()).tolist()
            return num.round().astype("Int64"), sorted(set(bad))
        return num.astype("float64"), bad
    lowered = text.str.strip().str.lower()
    mapped = pd.Series(pd.NA, index=series.index, dtype="boolean")
    mapped[lowered.isin(_TRUE).fillna(value=False)] = True
    mapped[lowered.isin(_FALSE).fillna(value=False)] = False
    bad = np.flatnonzero((mapped.isna() & ~blank).to_numpy()).tolist()
    return mapped, bad


def _geometry_problem(geom: shapely.Geometry | None, *, declared: str, unlocated: bool) -> tuple[str, str] | None:
    """What is wrong with one feature's geometry, as (message, field), or ``None``."""
    if geom is None or geom.is_empty:
        return None if unlocated else ("feature has no geometry (only precision 'unlocated' may lack one)", "geometry")
    if unlocated:
        return "precision 'unlocated' but the feature has a geometry", "precision"
    gtype = geom.geom_type
    if gtype != declared and not (declared.startswith("Multi") and gtype == declared.removeprefix("Multi")):
        return f"geometry type should be {declared}, got {gtype}", "geometry"
    if not geom.is_valid:
        return f"invalid geometry: {shapely.is_valid_reason(geom)}", "geometry"
    minx, miny, maxx, maxy = geom.bounds
    if not (pcrs.in_china([minx, maxx], [miny, maxy]).all()):
        return f"geometry lies outside China (bounds {minx:.4f}, {miny:.4f}, {maxx:.4f}, {maxy:.4f})", "geometry"
    return None


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
