"""The user geodata overlay: imported layers and official geometry beside the bundled geodata.

Laid out like a geodata directory, plus what only imports have::

    <user_geodata_dir>/
      layers/<name>.toml          catalogue entries of imported layers (written by planatlas, never by hand)
      sources/<name>.gpkg         their data, converted to EPSG:4490, columns renamed to identifiers
      replacements/<name>.gpkg    official geometry for a bundled layer, keyed by the layer's own key
      imports.json                one origin record per layer: file, checksum, date, CRS, precision, matches
      history/<name>/<stamp>/     the version a later import, restore or remove took out (for ``restore``)

A build reads the overlay through an :class:`OverlayView`: the overlay as it is, or as an import
would leave it (files staged elsewhere, layers taken out), so an import is validated and the atlas
written before anything in the overlay changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planatlas.atlas_source import file_sha256
from planatlas.catalog import LayerSpec, parse_layer_spec
from planatlas.errors import CatalogError

MANIFEST = "imports.json"
#: Key of the overlay record in the atlas metadata.
IMPORTS_KEY = "imports"
#: The folders of the overlay whose files make up the layers (history and staging are not read by builds).
_DATA_FOLDERS = ("layers", "sources", "replacements")


def layer_files(name: str) -> tuple[str, str, str]:
    """The overlay paths (relative) of a layer's catalogue entry, imported data and replacement geometry."""
    return f"layers/{name}.toml", f"sources/{name}.gpkg", f"replacements/{name}.gpkg"


class Overlay:
    """The overlay directory: where each file of a layer lives, the manifest, the history."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Overlay({str(self.root)!r})"

    def manifest(self) -> dict[str, dict[str, Any]]:
        """The origin record of every imported or replaced layer (empty when nothing was imported)."""
        path = self.root / MANIFEST
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            msg = f"{path}: the import records cannot be read ({exc}); restore the file or remove the overlay folder"
            raise CatalogError(msg) from exc
        return dict(data) if isinstance(data, dict) else {}

    def write_manifest(self, records: Mapping[str, Mapping[str, Any]]) -> None:
        """Write the manifest atomically (a temporary file renamed over it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.root / MANIFEST, json.dumps(records, ensure_ascii=False, indent=2, sort_keys=True))

    def present(self, name: str) -> list[str]:
        """The overlay files of layer ``name`` that exist (relative paths)."""
        return [rel for rel in layer_files(name) if (self.root / rel).is_file()]

    def history(self, name: str) -> list[Path]:
        """The kept previous versions of ``name``, oldest first."""
        folder = self.root / "history" / name
        return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []

    def view(self) -> OverlayView:
        """The overlay as it is."""
        return OverlayView(self)


@dataclass
class OverlayView:
    """The overlay as a build should see it: its files, with some layers staged from elsewhere or taken out.

    ``staged`` maps a layer to a folder laid out like the overlay holding that layer's new files;
    ``removed`` layers are read neither from the overlay nor from a staging folder.
    """

    overlay: Overlay
    staged: dict[str, Path] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    #: New origin records of staged or removed layers (``None``: the record goes).
    records: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    #: Staged layers already read (EPSG:4490, as written to their staged source): the build need not read them again.
    frames: dict[str, Any] = field(default_factory=dict)

    def _folder_of(self, name: str) -> Path | None:
        if name in self.removed:
            return None
        return self.staged.get(name, self.overlay.root)

    def _names(self, folder: str, suffix: str) -> list[str]:
        found = {p.name.removesuffix(suffix) for p in (self.overlay.root / folder).glob(f"*{suffix}")}
        for name, staged in self.staged.items():
            if (staged / folder / f"{name}{suffix}").is_file():
                found.add(name)
            else:
                found.discard(name)
        return sorted(found - self.removed)

    def specs(self) -> list[tuple[LayerSpec, Path]]:
        """Every imported layer's catalogue entry and the folder its paths are relative to."""
        out = []
        for name in self._names("layers", ".toml"):
            root = self._folder_of(name)
            assert root is not None  # removed names are not listed
            path = root / "layers" / f"{name}.toml"
            where = f"{self.overlay.root.name}/layers/{name}.toml"
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                msg = f"{where}: not a readable layer entry ({exc})"
                raise CatalogError(msg) from exc
            out.append((parse_layer_spec(data, where=where), root))
        return out

    def replacements(self) -> dict[str, Path]:
        """Official geometry files by the bundled layer they replace."""
        out = {}
        for name in self._names("replacements", ".gpkg"):
            root = self._folder_of(name)
            assert root is not None
            out[name] = root / "replacements" / f"{name}.gpkg"
        return out

    def checksums(self) -> dict[str, str]:
        """SHA-256 of every file the build reads, by its path in the overlay once staged files are in place."""
        found: dict[str, str] = {}
        for folder, suffix in (("layers", ".toml"), ("sources", ".gpkg"), ("replacements", ".gpkg")):
            for name in self._names(folder, suffix):
                root = self._folder_of(name)
                assert root is not None
                path = root / folder / f"{name}{suffix}"
                if path.is_file():
                    found[f"{folder}/{name}{suffix}"] = file_sha256(path)
        return found

    def manifest(self) -> dict[str, dict[str, Any]]:
        """The origin records as they will be once the staged layers are in place."""
        records = self.overlay.manifest()
        for name, record in self.records.items():
            if record is None:
                records.pop(name, None)
            else:
                records[name] = record
        return records

    def record(self) -> dict[str, Any]:
        """The overlay record an atlas keeps: the folder, the checksums, the origin of each layer."""
        return {"dir": str(self.overlay.root.resolve()), "files": self.checksums(), "layers": self.manifest()}


def recorded_overlay(metadata: Mapping[str, Any]) -> Overlay | None:
    """The overlay an atlas was built with, or ``None``."""
    record = metadata.get(IMPORTS_KEY)
    if isinstance(record, Mapping) and record.get("dir"):
        return Overlay(Path(str(record["dir"])))
    return None


def overlay_changed(metadata: Mapping[str, Any]) -> bool:
    """Whether the overlay an atlas was built with now holds other files than it did then."""
    overlay = recorded_overlay(metadata)
    if overlay is None:
        return False
    record = metadata[IMPORTS_KEY]
    return bool(overlay.view().checksums() != dict(record.get("files") or {}))


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()


def new_staging(overlay: Overlay) -> Path:
    """A fresh staging folder inside the overlay (same file system, so files move in by rename)."""
    base = overlay.root / ".staging"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="import-", dir=base))


def now_stamp() -> str:
    """A UTC time stamp for records and history folder names (sorts in time order)."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")


def commit_layer(overlay: Overlay, name: str, staged: Path | None, record: Mapping[str, Any] | None) -> None:
    """Put a layer's new files in place: the current ones (if any) go to history first.

    ``staged`` is the folder holding the new files (``None``: the layer is taken out); ``record`` its
    origin record for the manifest (``None``: the entry is dropped).
    """
    manifest = overlay.manifest()
    keep = overlay.root / "history" / name / now_stamp()
    keep.mkdir(parents=True)
    previous = manifest.get(name)
    (keep / "record.json").write_text(
        json.dumps(previous or {"absent": True}, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    for rel in overlay.present(name):
        (keep / rel).parent.mkdir(parents=True, exist_ok=True)
        (overlay.root / rel).replace(keep / rel)
    if staged is not None:
        for rel in layer_files(name):
            if (staged / rel).is_file():
                (overlay.root / rel).parent.mkdir(parents=True, exist_ok=True)
                (staged / rel).replace(overlay.root / rel)
        shutil.rmtree(staged, ignore_errors=True)
    if record is None:
        manifest.pop(name, None)
    else:
        manifest[name] = dict(record)
    overlay.write_manifest(manifest)
