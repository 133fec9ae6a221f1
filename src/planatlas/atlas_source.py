"""What an atlas was built from: its geodata directory, the checksums of that directory's files, its own layers.

A build records this in the atlas metadata under ``source``; :func:`planatlas.build.ensure_atlas`
reads it back to tell whether the atlas is out of date and which directory it may be rebuilt from.
An atlas without the record was not built from a directory (its layers were imported) and has
nothing to be rebuilt from.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planatlas.settings import BUNDLED_GEODATA

#: Key of the record in the atlas metadata.
SOURCE_KEY = "source"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def directory_checksums(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root``, keyed by its POSIX path relative to ``root``.

    Hidden files and folders (``.git``, editor swap files, temporary files) are skipped: they are
    not plan data, and counting them would make an atlas look out of date after every ``git`` call.
    """
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if not name.startswith(".") and path.is_file():
                found[path.relative_to(root).as_posix()] = file_sha256(path)
    return found


def is_bundled(root: Path) -> bool:
    """Whether ``root`` is the geodata directory bundled with planatlas."""
    return root.resolve() == BUNDLED_GEODATA.resolve()


def source_record(root: Path, checksums: Mapping[str, str], layer_files: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    """The ``source`` record of an atlas built from ``root``.

    Parameters
    ----------
    root
        The geodata directory the build read.
    checksums
        :func:`directory_checksums` of ``root``, taken before the build read it.
    layer_files
        For each layer built, the files it came from (its catalogue file and sources), relative to ``root``.

    Returns
    -------
    dict
        ``geodata_dir`` (absolute), ``files`` (path → SHA-256), ``bundled`` (built from the bundled
        tree) and ``not_bundled_layers``: the layers whose catalogue entry or files differ from the
        bundled tree's, i.e. a bureau's own.
    """
    bundled = is_bundled(root)
    not_bundled: list[str] = []
    if not bundled:
        reference = directory_checksums(BUNDLED_GEODATA) if BUNDLED_GEODATA.is_dir() else {}
        not_bundled = sorted(
            name
            for name, paths in layer_files.items()
            if any(p in checksums and reference.get(p) != checksums[p] for p in paths)
        )
    return {
        "geodata_dir": str(root.resolve()),
        "files": dict(checksums),
        "bundled": bundled,
        "not_bundled_layers": not_bundled,
    }


@dataclass(frozen=True)
class AtlasSource:
    """What an atlas says it was built from.

    ``legacy`` marks an atlas built before the ``source`` record existed: it names its directory
    (possibly relative) and the files each layer read, but not the whole directory.
    """

    directory: Path
    files: Mapping[str, str]
    layers: frozenset[str]
    legacy: bool = False


def recorded_source(metadata: Mapping[str, Any]) -> AtlasSource | None:
    """The directory and checksums an atlas records, or ``None`` for an atlas of imported layers."""
    layers = metadata.get("layers") or {}
    record = metadata.get(SOURCE_KEY)
    if isinstance(record, Mapping) and record.get("geodata_dir"):
        return AtlasSource(Path(record["geodata_dir"]), dict(record.get("files") or {}), frozenset(layers))
    legacy = metadata.get("geodata_dir")
    if not legacy:
        return None
    files = {s["path"]: s["sha256"] for meta in layers.values() for s in meta.get("sources", [])}
    return AtlasSource(Path(legacy), files, frozenset(layers), legacy=True)


def source_changes(source: AtlasSource) -> list[str]:
    """The files of the recorded directory added, removed or changed since the build (empty: up to date)."""
    root = source.directory
    if not source.legacy:
        now = directory_checksums(root)
        return sorted(p for p in now.keys() | source.files.keys() if now.get(p) != source.files.get(p))
    # An older atlas recorded only its layers and the files they read; files it never read stay unknown.
    stems = {p.stem for p in (root / "layers").glob("*.toml")}
    changed = [f"layers/{name}.toml" for name in sorted(source.layers ^ stems)]
    changed += [
        path
        for path, sha in source.files.items()
        if (root / path).is_file() and file_sha256(root / path) != sha  # labels of package data are not files
    ]
    return changed
