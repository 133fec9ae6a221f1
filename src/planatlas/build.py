"""geodata/ → validated, joined layers → store, atomically; and the validation report."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

import geopandas as gpd
import pandas as pd

from planatlas import __version__
from planatlas import crs as pcrs
from planatlas.atlas_source import (
    SOURCE_KEY,
    directory_checksums,
    file_sha256,
    is_bundled,
    recorded_source,
    source_changes,
    source_record,
)
from planatlas.catalog import PROVENANCE_FIELDS, Catalog, JoinSpec, LayerSpec, confine_path, load_catalog
from planatlas.checks import apply_schema, check_columns, check_geometry, check_keys, check_text_cells
from planatlas.derive import DeriveContext, get_derivation
from planatlas.derive.inputs import prepare_inputs
from planatlas.errors import AtlasUnreadableError, Problem, SourceError, ValidationError
from planatlas.gazetteer import PLACE_FIELDS, Gazetteer, attach_places, gazetteer_frame, load_gazetteer
from planatlas.io import read_source, read_table
from planatlas.io.writers import temp_files_beside, write_json
from planatlas.plausibility import offset_problems, source_located_keys
from planatlas.store import LayerStore, open_store
from planatlas.store.gpkg import TEMP_SUFFIX as GPKG_TEMP_SUFFIX
from planatlas.store.gpkg import GeoPackageStore

if TYPE_CHECKING:
    from planatlas.settings import Settings

Progress = Callable[[str], None]
#: Files SQLite writes beside a database while it is open for writing; a killed build leaves them.
_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")
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
    # Taken before anything is read: a file edited during the build makes the atlas look out of date.
    checksums = directory_checksums(root)
    built: dict[str, Frame] = {}
    problems: list[Problem] = []
    warnings: list[Problem] = []
    layer_meta: dict[str, Any] = {}
    located: dict[str, frozenset[str]] = {}
    gazetteer: Gazetteer | None = None
    if any(catalog[n].geometry.places for n in catalog):
        gazetteer = load_gazetteer(root)
        problems += gazetteer.problems
    for i, name in enumerate(catalog, start=1):
        spec = catalog[name]
        if progress:
            progress(f"[{i}/{len(catalog)}] {name}")
        failed_deps = [d for d in spec.depends if d not in built]
        if failed_deps:
            problems.append(Problem(f"not built because layer(s) {failed_deps} failed", layer=name))
            continue
        if spec.geometry.places and gazetteer is not None and gazetteer.problems:
            problems.append(Problem("not built because the gazetteer (places/*.csv) has problems", layer=name))
            continue
        outcome = _build_layer(root, spec, built, located=located, gazetteer=gazetteer)
        warnings.extend(outcome.warnings)
        if outcome.problems or outcome.frame is None:
            problems.extend(outcome.problems)
            continue
        built[name] = outcome.frame
        layer_meta[name] = _layer_metadata(spec, outcome.frame, outcome.sources)
    # Coordinates that fit the places the atlas already holds only when read as GCJ-02/BD-09.
    for problem in offset_problems({n: catalog[n] for n in built}, built, located):
        problems.append(problem)
        built.pop(str(problem.layer), None)
        layer_meta.pop(str(problem.layer), None)
    metadata = {
        "planatlas_version": __version__,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "storage_crs": pcrs.STORAGE_CRS,
        "metric_crs": pcrs.METRIC_CRS,
        "geodata_dir": str(root.resolve()),
        "layers": layer_meta,
        SOURCE_KEY: source_record(
            root,
            checksums,
            {
                name: [catalog[name].path or "", *(s["path"] for s in meta["sources"])]
                for name, meta in layer_meta.items()
            },
        ),
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

    Temporary files that an interrupted earlier build left beside a GeoPackage atlas are removed
    first, and a failed write leaves none of its own.

    Raises
    ------
    ValidationError
        With every problem found; the store is untouched.
    """
    if isinstance(store, GeoPackageStore):
        with _atlas_folder_lock(store.path.parent, wait=False) as locked:
            if locked:  # else another build is writing there now, and its files are not litter
                _remove_leftovers(store.path, progress)
    result = validate_geodata(geodata_dir, progress=progress)
    result.metadata["report"] = result.report()
    if report_path is not None:
        write_json(report_path, result.report())
    if not result.ok:
        raise ValidationError(result.problems)
    if progress:
        progress(f"writing {len(result.layers)} layers")
    if not isinstance(store, GeoPackageStore):
        store.write(result.layers, result.metadata)
        return result
    store.path.parent.mkdir(parents=True, exist_ok=True)
    with _atlas_folder_lock(store.path.parent, wait=True) as locked:
        try:
            store.write(result.layers, result.metadata)
        finally:
            if locked:  # a write that failed cleanly may still leave SQLite's journal
                _remove_leftovers(store.path, progress)
    return result


@contextlib.contextmanager
def _atlas_folder_lock(folder: Path, *, wait: bool) -> Iterator[bool]:
    """Hold an exclusive lock on the atlas folder; yield whether it was taken.

    Every build writes its atlas holding it, so a temporary file found while holding it belongs to
    a build that was killed: the lock dies with its process. ``wait=False`` yields ``False`` at once
    while another build holds it; a folder we cannot read yields ``False`` (its files cannot be
    listed either). Without ``flock`` (Windows) the lock is always "taken".
    """
    if sys.platform == "win32" or not folder.is_dir():
        yield True
        return
    import fcntl  # noqa: PLC0415 - POSIX only

    try:
        fd = os.open(folder, os.O_RDONLY)
    except PermissionError:  # a folder we may write in but not read (or list): nothing to lock or clean up
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _remove_leftovers(atlas: Path, progress: Progress | None) -> None:
    """Remove the temporary GeoPackages (and their SQLite side files) that writes of ``atlas`` left behind."""
    leftovers = temp_files_beside(atlas, GPKG_TEMP_SUFFIX, side_suffixes=_SQLITE_SIDE_FILES)
    size = 0
    for path in leftovers:
        with contextlib.suppress(FileNotFoundError):
            size += path.stat().st_size
            path.unlink()
    if leftovers and progress:
        progress(f"removed {len(leftovers)} temporary file(s) of an interrupted build ({size / 1e6:.1f} MB)")


def ensure_atlas(settings: Settings, *, notify: Progress | None = None) -> LayerStore:
    """Open the configured store: build it if absent, rebuild it if the directory it was built from changed.

    ``settings.geodata_dir`` is used only where there is no atlas yet. An existing atlas is rebuilt
    only from the directory it records, only when that directory's files changed, and is kept as it
    is when the directory is gone; an atlas of imported layers is never rebuilt. So a ``git pull``
    of new plan data shows up on the next start, and a bureau's atlas (``planatlas build --source
    DIR``) is never replaced by the bundled one.

    Parameters
    ----------
    settings
        Where the atlas is, and the geodata to build one from where there is none.
    notify
        Receives a sentence whenever an atlas is kept although something looks off; default stderr.

    Raises
    ------
    AtlasUnreadableError
        An atlas is there but its metadata cannot be read; it is left untouched.
    ValidationError
        The recorded directory changed and no longer validates; the atlas is left untouched.
    """
    tell = notify or _to_stderr
    store = open_store(settings)
    if not store.exists():
        build_atlas(settings.geodata_dir, store)
        return store
    try:
        metadata = store.metadata()
    except AtlasUnreadableError:
        raise  # the store's own message already names the file and what is wrong with it
    except Exception as exc:  # whatever a backend raises: an atlas we cannot read may be someone's only copy
        msg = (
            f"the atlas {store!r} cannot be read ({exc}); it was left as it is. "
            "Rebuild it with 'planatlas build' (add --source DIR to build your own geodata)"
        )
        raise AtlasUnreadableError(msg) from exc
    source = recorded_source(metadata)
    if source is None:
        return store
    missing = _why_unavailable(source.directory)
    if missing:
        tell(
            f"the atlas {store!r} was built from {source.directory}, {missing}; the atlas is kept as it is "
            "(run 'planatlas build --source DIR' to rebuild it from a directory)"
        )
        return store
    configured = Path(settings.geodata_dir)
    if not is_bundled(configured) and configured.resolve() != source.directory.resolve():
        tell(
            f"the atlas {store!r} was built from {source.directory}, not from the configured geodata_dir "
            f"{configured}; it follows the directory it was built from (run 'planatlas build --source "
            f"{configured}' to switch)"
        )
    if source_changes(source):
        build_atlas(source.directory, store)
    return store


def atlas_is_stale(store: LayerStore) -> bool:
    """Whether the directory the atlas was built from has changed since (``False`` if it has none or is gone)."""
    source = recorded_source(store.metadata())
    return bool(source and not _why_unavailable(source.directory) and source_changes(source))


def _why_unavailable(directory: Path) -> str | None:
    """Why an atlas cannot be rebuilt from the directory it records, or ``None`` if it can."""
    if not directory.is_absolute():
        return "a relative path recorded by an older planatlas (relative to a folder nobody knows now)"
    if not directory.is_dir():
        return "which no longer exists"
    return None


def _to_stderr(message: str) -> None:
    sys.stderr.write(f"planatlas: {message}\n")


class _LayerOutcome(NamedTuple):
    """One layer's build: its problems and warnings, the frame (``None`` on problems), the files read."""

    problems: list[Problem]
    warnings: list[Problem]
    frame: Frame | None
    sources: list[dict[str, str]]


def _build_layer(
    root: Path,
    spec: LayerSpec,
    built: Mapping[str, Frame],
    *,
    located: dict[str, frozenset[str]],
    gazetteer: Gazetteer | None = None,
) -> _LayerOutcome:
    sources: list[dict[str, str]] = []
    gspec = spec.geometry
    try:
        frame = _read_or_derive(root, spec, built, sources, located=located)
    except SourceError as exc:
        return _LayerOutcome([_locate(p, spec) for p in exc.problems], [], None, sources)
    origin = {c: gspec.source or f"derive:{gspec.derive}" for c in frame.columns if c != "geometry"}
    whole_gazetteer = bool(gspec.places and gazetteer is not None and not gspec.source and not spec.joins)
    if whole_gazetteer and gazetteer is not None:
        # the gazetteer itself as a layer: every place, located or not
        frame = gazetteer_frame(gazetteer)
        origin = dict.fromkeys(frame.columns, "places/*.csv")
    if spec.key not in frame.columns and spec.has_geometry and not (gspec.places and not gspec.source):
        missing = Problem(f"key column {spec.key!r} is missing", file=gspec.source, layer=spec.name, field=spec.key)
        return _LayerOutcome([missing], [], None, sources)
    problems: list[Problem] = []
    if spec.key in frame.columns:
        problems += check_keys(frame[spec.key], file=gspec.source, layer=spec.name, key=spec.key)
    for join in spec.joins:
        frame = _join_table(root, spec, join, frame, origin=origin, sources=sources, problems=problems)
    if gspec.places and gazetteer is not None and not problems:
        sources.extend(gazetteer.sources)
        if not whole_gazetteer:
            frame, found = attach_places(
                frame, gazetteer, column=gspec.places, layer=spec.name, origin=origin, key=spec.key
            )
            problems += found
            origin.update(dict.fromkeys(PLACE_FIELDS, "places/*.csv"))
    if not problems:
        problems += check_columns(list(frame.columns), origin, spec=spec)
        problems += check_text_cells(frame, origin, spec=spec)
    if problems:
        return _LayerOutcome(problems, [], None, sources)
    frame, found = apply_schema(frame, spec, origin)
    problems += found
    warnings = [
        Problem("column is not declared in the layer's [fields]", file=origin.get(col), layer=spec.name, field=col)
        for col in frame.columns
        if col != "geometry" and col not in spec.fields and col not in PROVENANCE_FIELDS and col not in PLACE_FIELDS
    ]
    if spec.has_geometry and not problems:
        frame, found = check_geometry(frame, spec)
        problems += found
    return _LayerOutcome(problems, warnings, None if problems else frame, sources)


def _read_or_derive(
    root: Path,
    spec: LayerSpec,
    built: Mapping[str, Frame],
    sources: list[dict[str, str]],
    *,
    located: dict[str, frozenset[str]],
) -> Frame:
    """The layer's own frame: its source file read and/or its derivation run.

    Files read go to ``sources``; the keys of features the source file places go to ``located``.
    """
    gspec = spec.geometry
    frame: Frame | None = None
    if gspec.source:
        src_path, outside = confine_path(root, gspec.source)
        if outside is not None:
            raise ValidationError([Problem(outside, file=spec.path, layer=spec.name, field="source")])
        if spec.geometry.places:
            frame = read_table(src_path)  # positions come from the gazetteer
        elif spec.has_geometry:
            frame = read_source(src_path, crs=gspec.crs, allow_empty_geometry=True, key=spec.key, **gspec.options)
        else:
            frame = read_table(src_path)
        sources.append({"path": gspec.source, "sha256": file_sha256(src_path)})
        located[spec.name] = source_located_keys(frame, spec.key)
    if gspec.derive:
        declared = get_derivation(gspec.derive)
        # params, the geometry source and side-input files pass the layer rules before the derivation runs
        inputs, read = prepare_inputs(root, spec, declared, frame if isinstance(frame, gpd.GeoDataFrame) else None)
        sources.extend(read)
        ctx = DeriveContext(geodata_dir=root, spec=spec, built=built, inputs=inputs)
        frame = declared.func(frame, ctx=ctx, params=dict(gspec.params))
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
    path, outside = confine_path(root, join.table)
    if outside is not None:
        problems.append(Problem(outside, file=spec.path, layer=spec.name, field="joins.table"))
        return frame
    try:
        table = read_table(path)
    except SourceError as exc:
        problems += [_locate(p, spec, join.table) for p in exc.problems]
        return frame
    sources.append({"path": join.table, "sha256": file_sha256(root / join.table)})
    if join.on not in table.columns:
        msg = f"join key {join.on!r} is missing; columns are {list(table.columns)}"
        problems.append(Problem(msg, file=join.table, layer=spec.name, field=join.on))
        return frame
    problems += check_keys(table[join.on], file=join.table, layer=spec.name, key=join.on)
    if frame.empty and (not spec.has_geometry or (spec.geometry.places and not spec.geometry.source)):
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
            f"column also comes from {origin.get(col) or 'the geometry source'}; a column may come from one place only",
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
