"""The commands that change what the atlas holds: ``import``, ``restore``, ``remove`` and ``editor``.

A bureau's file goes in with ``planatlas import PATH --layer NAME``; the catalogue entry is written
into the user geodata overlay (``PLANATLAS_USER_GEODATA_DIR``) and the atlas rebuilt atomically.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from planatlas.cli.options import db_option, handle_errors, settings_from
from planatlas.errors import ValidationError

if TYPE_CHECKING:
    from planatlas.build import BuildResult
    from planatlas.settings import Settings
    from planatlas.store.base import LayerStore


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _context(db_url: str | None) -> tuple[Settings, LayerStore, Path]:
    """The settings, the atlas (built first where there is none) and the geodata directory it is built from."""
    from planatlas.build import ensure_atlas  # noqa: PLC0415 - loads geopandas; keeps --help fast
    from planatlas.imports.run import atlas_geodata_dir  # noqa: PLC0415 - same

    settings = settings_from(db_url)
    store = ensure_atlas(settings)
    return settings, store, atlas_geodata_dir(store.metadata(), settings.geodata_dir)


def _built(result: BuildResult, what: str) -> None:
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    total = sum(m["count"] for m in result.metadata["layers"].values())
    click.echo(f"{what}; the atlas now has {len(result.layers)} layers ({total} features)")


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--layer", "layer", required=True, help="Layer name in the atlas (lower-case letters, digits, '_').")
@click.option(
    "--crs",
    default=None,
    help="CRS of the file's coordinates: EPSG:nnnn, GCJ-02 (Amap/Tencent) or BD-09 (Baidu); default: the file's own.",
)
@click.option("--key", default=None, help="Column holding each feature's unique key (or, with --replace, its name).")
@click.option(
    "--precision",
    default="surveyed",
    show_default=True,
    help="Precision class of the geometry (a bureau's own data is surveyed).",
)
@click.option(
    "--uncertainty-m",
    type=click.IntRange(min=0),
    default=None,
    help="Position uncertainty of every feature in metres (default by precision: surveyed 1, sourced 100, ...).",
)
@click.option("--title-zh", default=None, help="Layer title in Chinese.")
@click.option("--title-en", default=None, help="Layer title in English.")
@click.option("--encoding", default=None, help="Text encoding of a shapefile without .cpg (default: detected, GBK).")
@click.option("--source-layer", default=None, help="Layer of a GeoPackage or File Geodatabase holding several.")
@click.option("--style-column", default=None, help="Column the layer's map is coloured by.")
@click.option("--replace", is_flag=True, help="Replace the layer of that name (an imported one, or a bundled one).")
@db_option
@handle_errors
def import_(
    path: Path,
    layer: str,
    crs: str | None,
    key: str | None,
    precision: str,
    uncertainty_m: int | None,
    title_zh: str | None,
    title_en: str | None,
    encoding: str | None,
    source_layer: str | None,
    style_column: str | None,
    replace: bool,
    db_url: str | None,
) -> None:
    """Import a bureau's file (SHP folder/zip, GPKG, FileGDB, GeoJSON, CSV lon/lat, KML) as a layer.

    Nothing is written unless the whole atlas builds with it; the version a --replace takes out is
    kept for 'planatlas restore'.
    """
    from planatlas.imports.overlay import Overlay  # noqa: PLC0415 - loads geopandas; keeps --help fast
    from planatlas.imports.prepare import ImportOptions, prepare_import  # noqa: PLC0415 - same
    from planatlas.imports.run import existing_layers, plan_reader, run_import  # noqa: PLC0415 - same

    settings, store, geodata = _context(db_url)
    overlay = Overlay(settings.user_geodata_dir)
    cap = settings.max_import_bytes
    options = ImportOptions(
        layer=layer,
        crs=crs,
        key=key,
        precision=precision,
        uncertainty_m=uncertainty_m,
        title_zh=title_zh,
        title_en=title_en,
        encoding=encoding,
        source_layer=source_layer,
        replace=replace,
        style_column=style_column,
        max_bytes=cap,
        max_archive_bytes=cap,
    )
    prepared = prepare_import(
        path, options, existing=existing_layers(geodata, overlay), plan_frame=plan_reader(store), progress=_progress
    )
    for note in prepared.notes:
        click.echo(f"note: {note}", err=True)
    if not prepared.ok:
        raise ValidationError(prepared.problems)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    result = run_import(
        prepared,
        geodata_dir=geodata,
        store=store,
        overlay=overlay,
        imported_at=stamp,
        max_bytes=cap,
        progress=_progress,
    )
    count = len(prepared.frame) if prepared.frame is not None else 0
    verb = "replaced the geometry of" if prepared.mode == "replace_bundled" else "imported"
    _built(result, f"{verb} {layer!r} from {prepared.file_name} ({count} features)")


@click.command()
@click.argument("name")
@db_option
@handle_errors
def restore(name: str, db_url: str | None) -> None:
    """Bring back the version of a layer that the last import, replace or remove took out."""
    from planatlas.imports.overlay import Overlay  # noqa: PLC0415 - loads geopandas; keeps --help fast
    from planatlas.imports.run import restore_layer  # noqa: PLC0415 - same

    settings, store, geodata = _context(db_url)
    overlay = Overlay(settings.user_geodata_dir)
    result = restore_layer(
        name,
        geodata_dir=geodata,
        store=store,
        overlay=overlay,
        max_bytes=settings.max_import_bytes,
        progress=_progress,
    )
    _built(result, f"restored the previous version of {name!r}")


@click.command()
@click.argument("name")
@db_option
@handle_errors
def remove(name: str, db_url: str | None) -> None:
    """Take an imported layer (or the official geometry of a replaced one) out of the atlas."""
    from planatlas.imports.overlay import Overlay  # noqa: PLC0415 - loads geopandas; keeps --help fast
    from planatlas.imports.run import remove_layer  # noqa: PLC0415 - same

    settings, store, geodata = _context(db_url)
    overlay = Overlay(settings.user_geodata_dir)
    result = remove_layer(
        name,
        geodata_dir=geodata,
        store=store,
        overlay=overlay,
        max_bytes=settings.max_import_bytes,
        progress=_progress,
    )
    _built(result, f"removed {name!r} (kept for 'planatlas restore {name}')")


@click.group()
def editor() -> None:
    """Who may change the atlas from the app (the Import page)."""


@editor.command("set-password")
@click.password_option("--password", prompt="Editor password", help="The new editor password (prompted).")
@handle_errors
def set_password(password: str) -> None:
    """Store a salted scrypt hash of the editor password in the user config (the Import page asks for it)."""
    from planatlas.imports.editor import set_editor_password  # noqa: PLC0415 - keeps --help fast

    path = set_editor_password(settings_from().config_dir, password)
    click.echo(f"editor password set ({path})")


@editor.command("clear")
@handle_errors
def clear_password() -> None:
    """Remove the editor password: the Import page becomes read-only."""
    from planatlas.imports.editor import clear_editor_password  # noqa: PLC0415 - keeps --help fast

    removed = clear_editor_password(settings_from().config_dir)
    click.echo("editor password removed" if removed else "no editor password was set")
