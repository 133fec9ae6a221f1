"""Import, restore and remove: the overlay changed only once the new atlas is written.

Each operation stages the layer's new files, builds the whole atlas with them (the same checks as
``planatlas build``; the store is written atomically: a GeoPackage renamed over, one PostGIS
transaction), and only then moves the files into the overlay, keeping the version taken out in
its history for :func:`restore_layer`. A failure at any step leaves the atlas and the overlay as
they were.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio

from planatlas.build import BuildResult, build_atlas
from planatlas.catalog import load_catalog
from planatlas.errors import LayerNotFoundError, PlanAtlasError, ValidationError
from planatlas.imports.overlay import IMPORTS_KEY, Overlay, OverlayView, commit_layer, layer_files, new_staging
from planatlas.imports.prepare import PreparedImport
from planatlas.imports.toml_entry import layer_entry
from planatlas.store.base import LayerStore

Progress = Callable[[str], None]


class ImportRefusedError(PlanAtlasError, ValueError):
    """An import, restore or remove that cannot be done as asked (the message says why)."""


@contextlib.contextmanager
def _overlay_lock(overlay: Overlay) -> Iterator[None]:
    """One change of the overlay at a time (POSIX ``flock``; a no-op elsewhere)."""
    overlay.root.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        yield
        return
    import fcntl  # noqa: PLC0415 - POSIX only

    with (overlay.root / ".lock").open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield


def existing_layers(geodata_dir: Path, overlay: Overlay) -> dict[str, str]:
    """Every layer name an import could clash with: ``bundled`` (the geodata's) or ``imported``."""
    names = dict.fromkeys(load_catalog(geodata_dir), "bundled")
    for name, record in overlay.manifest().items():
        if record.get("mode") != "replace_bundled":
            names[name] = "imported"
    return names


def plan_reader(store: LayerStore) -> Callable[[str], pd.DataFrame]:
    """Reads a layer as built, with its key and geometry type in ``attrs`` (for matching a replacement)."""

    def read(name: str) -> pd.DataFrame:
        frame = store.read(name)
        spec = store.spec(name)
        frame.attrs["key"] = spec.key
        frame.attrs["geometry_type"] = spec.geometry_type
        return frame

    return read


def origin_record(prepared: PreparedImport, *, imported_at: str) -> dict[str, Any]:
    """What the manifest and the atlas metadata keep of an import."""
    opts = prepared.options
    record: dict[str, Any] = {
        "mode": prepared.mode,
        "file": prepared.file_name,
        "sha256": prepared.sha256,
        "bytes": prepared.size,
        "imported_at": imported_at,
        "crs": prepared.crs,
        "crs_from": prepared.crs_from,
        "precision": opts.precision,
        "key": prepared.key,
        "key_from": prepared.key_from,
        "source_layer": opts.source_layer,
        "encoding": opts.encoding,
        "features": 0 if prepared.frame is None else len(prepared.frame),
    }
    if prepared.matching is not None:
        record["plan_unmatched"] = prepared.matching.plan_unmatched
        record["import_unmatched"] = prepared.matching.import_unmatched
    return record


def _stage(prepared: PreparedImport, overlay: Overlay, record: Mapping[str, Any]) -> Path:
    assert prepared.frame is not None
    name = prepared.options.layer
    staging = new_staging(overlay)
    toml_rel, source_rel, replacement_rel = layer_files(name)
    target = staging / (replacement_rel if prepared.mode == "replace_bundled" else source_rel)
    target.parent.mkdir(parents=True, exist_ok=True)
    geometry_type = prepared.geometry_type
    pyogrio.write_dataframe(
        prepared.frame,
        target,
        layer=name,
        driver="GPKG",
        geometry_type=geometry_type or None,
        promote_to_multi=geometry_type.startswith("Multi"),
        use_arrow=True,
        layer_options={"SPATIAL_INDEX": "NO"},  # read whole by the build; the atlas has its own index
    )
    if prepared.mode != "replace_bundled":
        (staging / toml_rel).parent.mkdir(parents=True, exist_ok=True)
        (staging / toml_rel).write_text(layer_entry(prepared, record), encoding="utf-8")
    return staging


def run_import(
    prepared: PreparedImport,
    *,
    geodata_dir: Path,
    store: LayerStore,
    overlay: Overlay,
    imported_at: str,
    max_bytes: int | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Write a prepared import: stage it, build the atlas with it, then put it in the overlay.

    Raises
    ------
    ValidationError
        The import or the atlas built with it has problems; the atlas and the overlay are unchanged.
    """
    if not prepared.ok:
        raise ValidationError(prepared.problems)
    name = prepared.options.layer
    record = origin_record(prepared, imported_at=imported_at)
    with _overlay_lock(overlay):
        if progress:
            progress(f"writing {record['features']} features of {name} for the build")
        staging = _stage(prepared, overlay, record)
        frames = {} if prepared.mode == "replace_bundled" else {name: prepared.frame}
        view = OverlayView(overlay, staged={name: staging}, records={name: record}, frames=frames)
        return _build_then_commit(geodata_dir, store, view, name, staging, record, max_bytes, progress)


def restore_layer(
    name: str,
    *,
    geodata_dir: Path,
    store: LayerStore,
    overlay: Overlay,
    max_bytes: int | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Bring back the version of ``name`` that the last import, restore or remove took out."""
    with _overlay_lock(overlay):
        kept = overlay.history(name)
        if not kept:
            msg = f"no previous version of layer {name!r} is kept in {overlay.root}; nothing to restore"
            raise ImportRefusedError(msg)
        latest = kept[-1]
        previous = json.loads((latest / "record.json").read_text(encoding="utf-8"))
        record = None if previous.get("absent") else dict(previous)
        view = OverlayView(overlay, staged={name: latest}, records={name: record})
        return _build_then_commit(geodata_dir, store, view, name, latest, record, max_bytes, progress)


def remove_layer(
    name: str,
    *,
    geodata_dir: Path,
    store: LayerStore,
    overlay: Overlay,
    max_bytes: int | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Take an imported layer (or the official geometry replacing a bundled one) out of the atlas."""
    with _overlay_lock(overlay):
        if name not in overlay.manifest():
            if name in list(load_catalog(geodata_dir)):
                msg = f"layer {name!r} is bundled with planatlas and cannot be removed (only imported layers can)"
                raise ImportRefusedError(msg)
            msg = f"no imported layer {name!r}; imported layers: {', '.join(overlay.manifest()) or 'none'}"
            raise LayerNotFoundError(msg)
        view = OverlayView(overlay, removed={name}, records={name: None})
        return _build_then_commit(geodata_dir, store, view, name, None, None, max_bytes, progress)


def _build_then_commit(
    geodata_dir: Path,
    store: LayerStore,
    view: OverlayView,
    name: str,
    staged: Path | None,
    record: Mapping[str, Any] | None,
    max_bytes: int | None,
    progress: Progress | None,
) -> BuildResult:
    is_history = staged is not None and staged.parent.name == name and staged.parent.parent.name == "history"
    try:
        result = build_atlas(geodata_dir, store, overlay=view, max_bytes=max_bytes, progress=progress)
    except BaseException:
        if staged is not None and not is_history:
            shutil.rmtree(staged, ignore_errors=True)
        raise
    commit_layer(view.overlay, name, staged, record)
    return result


def layer_origins(metadata: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Where each layer of an atlas comes from: ``origin`` (bundled / imported / bundled + official), file, date."""
    record = metadata.get(IMPORTS_KEY) or {}
    imports = record.get("layers") or {}
    out: dict[str, dict[str, Any]] = {}
    for name in metadata.get("layers", {}):
        rec = imports.get(name)
        if rec is None:
            out[name] = {"origin": "bundled", "file": "", "sha256": "", "date": ""}
            continue
        origin = "bundled, official geometry" if rec.get("mode") == "replace_bundled" else "imported"
        out[name] = {
            "origin": origin,
            "file": rec.get("file", ""),
            "sha256": str(rec.get("sha256", ""))[:12],
            "date": str(rec.get("imported_at", ""))[:19],
        }
    return out


def atlas_geodata_dir(metadata: Mapping[str, Any], default: Path) -> Path:
    """The geodata directory an atlas was built from (its record), else ``default``."""
    record = metadata.get("source") or {}
    recorded = record.get("geodata_dir") if isinstance(record, Mapping) else None
    if recorded and Path(str(recorded)).is_dir():
        return Path(str(recorded))
    return default
