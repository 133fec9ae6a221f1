"""geodata/ → validated, joined layers → store, atomically; and the validation report."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

import geopandas as gpd
import pandas as pd

from planatlas import __version__
from planatlas import crs as pcrs
from planatlas.catalog import PROVENANCE_FIELDS, Catalog, JoinSpec, LayerSpec, load_catalog
from planatlas.checks import apply_schema, check_geometry, check_keys
from planatlas.derive import DeriveContext, get_derivation
from planatlas.errors import AtlasDamagedError, Problem, SourceError, ValidationError
from planatlas.io import read_source, read_table
from planatlas.io.writers import write_json
from planatlas.store import LayerStore, open_store

if TYPE_CHECKING:
    from planatlas.settings import Settings

Progress = Callable[[str], None]
#: A built layer: a GeoDataFrame, or a DataFrame for a layer without geometry.
Frame: TypeAlias = "gpd.GeoDataFrame | pd.DataFrame"


@dataclass
class BuildResult:
    """Validated layers, their metadata and the validation report of one build."""

    layers: dict[str, Frame]
    metadata: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "planatlas_version": __version__,
            "checked_at": self.metadata.get("built_at"),
            "layers": {n: m["count"] for n, m in self.metadata.get("layers", {}).items()},
            "problems": [p.to_dict() for p in self.problems],
            "warnings": [p.to_dict() for p in self.warnings],
        }


def validate_geodata(
    geodata_dir: str | Path, *, progress: Progress | None = None, catalog: Catalog | None = None
) -> BuildResult:
    """Read, derive, join and check every layer of a geodata directory; write nothing.

    Every problem found is collected (file, layer, feature key, field) rather than stopping at the
    first; a layer with problems is left out and layers depending on it are not derived.
    """
    root = Path(geodata_dir)
    catalog = catalog or load_catalog(root)
    built: dict[str, Frame] = {}
    problems: list[Problem] = []
    warnings: list[Problem] = []
    layer_meta: dict[str, Any] = {}
    for i, name in enumerate(catalog, start=1):
        spec = catalog[name]
        if progress:
            progress(f"[{i}/{len(catalog)}] {name}")
        failed_deps = [d for d in spec.depends if d not in built]
        if failed_deps:
            problems.append(Problem(f"not built because layer(s) {failed_deps} failed", layer=name))
            continue
        outcome = _build_layer(root, spec, built)
        warnings.extend(outcome.warnings)
        if outcome.problems or outcome.frame is None:
            problems.extend(outcome.problems)
            continue
        built[name] = outcome.frame
        layer_meta[name] = _layer_metadata(spec, outcome.frame, outcome.sources)
    metadata = {
        "planatlas_version": __version__,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "storage_crs": pcrs.STORAGE_CRS,
        "metric_crs": pcrs.METRIC_CRS,
        "geodata_dir": str(root),
        "layers": layer_meta,
    }
    return BuildResult(layers=built, metadata=metadata, problems=problems, warnings=warnings)


def build_atlas(
    geodata_dir: str | Path,
    store: LayerStore,
    *,
    report_path: str | Path | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Validate everything, then write the atlas atomically; on any problem write nothing.

    Raises
    ------
    ValidationError
        With every problem found; the store is untouched.
    """
    result = validate_geodata(geodata_dir, progress=progress)
    result.metadata["report"] = result.report()
    if report_path is not None:
        write_json(report_path, result.report())
    if not result.ok:
        raise ValidationError(result.problems)
    if progress:
        progress(f"writing {len(result.layers)} layers")
    store.write(result.layers, result.metadata)
    return result


def ensure_atlas(settings: Settings) -> LayerStore:
    """Open the configured store, (re)building the bundled atlas if it is absent or stale.

    Stale means the geodata's layer set or any source file's checksum differs from what the atlas
    records, so a ``git pull`` of new plan data shows up on the next start of the app.

    Raises
    ------
    AtlasDamagedError
        When an atlas file is there but cannot be read: it is reported, not replaced, since what it
        was built from (perhaps a bureau's own geodata) cannot be told.
    """
    store = open_store(settings)
    if not store.exists() or atlas_is_stale(store, settings.geodata_dir):
        build_atlas(settings.geodata_dir, store)
    return store


def atlas_is_stale(store: LayerStore, geodata_dir: str | Path) -> bool:
    """Whether the geodata on disk differs from what the atlas was built from."""
    root = Path(geodata_dir)
    try:
        layers = store.metadata()["layers"]
    except AtlasDamagedError:
        raise  # reported, never replaced unasked: what it was built from cannot be read
    except Exception:  # noqa: BLE001 - whatever a backend raises, an unreadable atlas is as good as none
        return True
    if {p.stem for p in (root / "layers").glob("*.toml")} != set(layers):
        return True
    for meta in layers.values():
        for source in meta["sources"]:
            path = root / source["path"]
            if path.is_file() and _sha256(path) != source["sha256"]:
                return True
    return False


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _LayerOutcome(NamedTuple):
    """One layer's build: its problems and warnings, the frame (``None`` on problems), the files read."""

    problems: list[Problem]
    warnings: list[Problem]
    frame: Frame | None
    sources: list[dict[str, str]]


def _build_layer(root: Path, spec: LayerSpec, built: Mapping[str, Frame]) -> _LayerOutcome:
    sources: list[dict[str, str]] = []
    gspec = spec.geometry
    try:
        frame = _read_or_derive(root, spec, built, sources)
    except SourceError as exc:
        return _LayerOutcome([_locate(p, spec) for p in exc.problems], [], None, sources)
    origin = {c: gspec.source or f"derive:{gspec.derive}" for c in frame.columns if c != "geometry"}
    if spec.key not in frame.columns and spec.has_geometry:
        missing = Problem(f"key column {spec.key!r} is missing", file=gspec.source, layer=spec.name, field=spec.key)
        return _LayerOutcome([missing], [], None, sources)
    problems: list[Problem] = []
    if spec.key in frame.columns:
        problems += check_keys(frame[spec.key], file=gspec.source, layer=spec.name, key=spec.key)
    for join in spec.joins:
        frame = _join_table(root, spec, join, frame, origin=origin, sources=sources, problems=problems)
    if problems:
        return _LayerOutcome(problems, [], None, sources)
    frame, found = apply_schema(frame, spec, origin)
    problems += found
    warnings = [
        Problem("column is not declared in the layer's [fields]", file=origin.get(col), layer=spec.name, field=col)
        for col in frame.columns
        if col != "geometry" and col not in spec.fields and col not in PROVENANCE_FIELDS
    ]
    if spec.has_geometry and not problems:
        frame, found = check_geometry(frame, spec)
        problems += found
    return _LayerOutcome(problems, warnings, None if problems else frame, sources)


def _read_or_derive(root: Path, spec: LayerSpec, built: Mapping[str, Frame], sources: list[dict[str, str]]) -> Frame:
    """The layer's own frame: its source file read and/or its derivation run; files read go to ``sources``."""
    gspec = spec.geometry
    frame: Frame | None = None
    if gspec.source:
        src_path = root / gspec.source
        if spec.has_geometry:
            frame = read_source(src_path, crs=gspec.crs, allow_empty_geometry=True, **gspec.options)
        else:
            frame = read_table(src_path)
        sources.append({"path": gspec.source, "sha256": _sha256(src_path)})
    if gspec.derive:
        func = get_derivation(gspec.derive)
        ctx = DeriveContext(geodata_dir=root, spec=spec, built=built)
        frame = func(frame, ctx=ctx, params=dict(gspec.params))
        sources.extend(getattr(frame, "attrs", {}).get("sources", []))
    return pd.DataFrame() if frame is None else frame


def _join_table(
    root: Path,
    spec: LayerSpec,
    join: JoinSpec,
    frame: Frame,
    *,
    origin: dict[str, str],
    sources: list[dict[str, str]],
    problems: list[Problem],
) -> Frame:
    """``frame`` with the join table's columns merged in, unless this or an earlier step found problems.

    The table's problems are added to ``problems``, the file to ``sources`` and its columns to ``origin``.
    """
    try:
        table = read_table(root / join.table)
    except SourceError as exc:
        problems += [_locate(p, spec, join.table) for p in exc.problems]
        return frame
    sources.append({"path": join.table, "sha256": _sha256(root / join.table)})
    if join.on not in table.columns:
        msg = f"join key {join.on!r} is missing; columns are {list(table.columns)}"
        problems.append(Problem(msg, file=join.table, layer=spec.name, field=join.on))
        return frame
    problems += check_keys(table[join.on], file=join.table, layer=spec.name, key=join.on)
    if frame.empty and not spec.has_geometry:
        origin.update(dict.fromkeys(table.columns, join.table))
        return table
    clash = [c for c in table.columns if c != join.on and c in frame.columns]
    problems += _join_mismatches(spec, join, frame, table, clash=clash, origin=origin)
    if problems:
        return frame
    table = table.rename(columns={join.on: spec.key}) if join.on != spec.key else table
    keys = frame[spec.key].astype(str)
    merged = frame.assign(**{spec.key: keys}).merge(table.drop(columns=clash), on=spec.key, how="left")
    origin.update({c: join.table for c in table.columns if c != spec.key})
    return merged


def _join_mismatches(
    spec: LayerSpec,
    join: JoinSpec,
    frame: Frame,
    table: pd.DataFrame,
    *,
    clash: list[str],
    origin: Mapping[str, str],
) -> list[Problem]:
    """Columns the table would bring twice, attribute rows without geometry, geometries without a row."""
    problems = [
        Problem(
            f"column also comes from {origin.get(col)}; a column may come from one place only",
            file=join.table,
            layer=spec.name,
            field=col,
        )
        for col in clash
    ]
    left = set(frame[spec.key].astype(str))
    right = set(table[join.on].astype(str))
    problems += [
        Problem("attribute row has no geometry (orphan)", file=join.table, layer=spec.name, feature=k, field=join.on)
        for k in sorted(right - left)
    ]
    if not join.optional:
        problems += [
            Problem("geometry has no attribute row", file=join.table, layer=spec.name, feature=k, field=join.on)
            for k in sorted(left - right)
        ]
    return problems


def _locate(p: Problem, spec: LayerSpec, relative: str | None = None) -> Problem:
    """Name the file as the catalogue does (relative to the geodata dir) and add the layer."""
    relative = relative or spec.geometry.source
    file = p.file
    if relative and (file is None or file == Path(relative).name):
        file = relative
    return Problem(p.message, file=file, layer=p.layer or spec.name, feature=p.feature, field=p.field)


def _layer_metadata(spec: LayerSpec, frame: Frame, sources: list[dict[str, str]]) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "title": dict(spec.title),
        "geometry_type": spec.geometry_type,
        "count": len(frame),
        "sources": sources,
        "spec": spec.to_dict(),
        "bbox": None,
        "precision": {},
    }
    if spec.has_geometry and len(frame):
        meta["bbox"] = [round(float(v), 6) for v in frame.total_bounds]
        meta["precision"] = {str(k): int(v) for k, v in frame["precision"].value_counts().sort_index().items()}
    return meta
