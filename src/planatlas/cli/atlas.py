"""The atlas commands: ``build``, ``validate``, ``layers``, ``info``, ``dump`` and ``datacard``.

Parse options, call the library, print. Modules that load geopandas are imported inside the
command that needs them, so ``planatlas --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from planatlas.catalog import load_catalog
from planatlas.cli.options import (
    FILE,
    db_option,
    handle_errors,
    open_store_from,
    print_table,
    report_option,
    settings_from,
    source_option,
)
from planatlas.crs import is_offset_system
from planatlas.datacard import provenance_texts, render_datacard
from planatlas.errors import SourceError, ValidationError
from planatlas.settings import get_settings


def _progress(message: str) -> None:
    click.echo(message, err=True)


@click.command()
@source_option
@report_option
@click.option("--atlas", type=FILE, help="GeoPackage to write (default: PLANATLAS_ATLAS_PATH).")
@db_option
@handle_errors
def build(source: Path | None, report: Path | None, atlas: Path | None, db_url: str | None) -> None:
    """Validate geodata and write the atlas atomically (nothing changes if anything is wrong)."""
    from planatlas.build import build_atlas  # noqa: PLC0415 - loads geopandas; keeps --help fast
    from planatlas.imports.overlay import Overlay  # noqa: PLC0415 - same
    from planatlas.store import open_store  # noqa: PLC0415 - loads geopandas; keeps --help fast

    overrides: dict[str, object] = {}
    if atlas is not None:
        overrides["atlas_path"] = atlas
    if db_url:
        overrides["database_url"] = db_url
    settings = get_settings(**overrides)
    store = open_store(settings)
    overlay = Overlay(settings.user_geodata_dir)
    result = build_atlas(
        source or settings.geodata_dir,
        store,
        report_path=report,
        progress=_progress,
        overlay=overlay if overlay.root.is_dir() else None,
        max_bytes=settings.max_import_bytes,
    )
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    total = sum(m["count"] for m in result.metadata["layers"].values())
    click.echo(f"built {len(result.layers)} layers ({total} features) into {store!r}")


@click.command()
@db_option
@handle_errors
def layers(db_url: str | None) -> None:
    """List the atlas layers with title, geometry type, count, precision and origin (bundled or imported: file, checksum, date)."""
    from planatlas.imports.run import layer_origins  # noqa: PLC0415 - loads geopandas; keeps --help fast

    meta = open_store_from(db_url).metadata()
    lang = settings_from(db_url).language
    origins = layer_origins(meta)
    rows = [
        {
            "name": name,
            "title": m["title"].get(lang, name),
            "geometry": m["geometry_type"],
            "count": m["count"],
            "precision": ", ".join(f"{k} {v}" for k, v in m["precision"].items()) or "-",
            **origins[name],
        }
        for name, m in meta["layers"].items()
    ]
    print_table(rows)


@click.command()
@click.argument("layer")
@db_option
@handle_errors
def info(layer: str, db_url: str | None) -> None:
    """Show one layer's catalogue entry, provenance and build metadata."""
    store = open_store_from(db_url)
    atlas_meta = store.metadata()
    meta = atlas_meta["layers"].get(layer)
    spec = store.spec(layer)
    click.echo(f"{spec.name}: {spec.title.get('zh')} / {spec.title.get('en')}")
    click.echo(f"geometry: {spec.geometry_type}   key: {spec.key}   features: {meta['count']}")
    if meta.get("bbox"):
        click.echo(f"bbox (EPSG:4490): {meta['bbox']}")
    if meta.get("precision"):
        click.echo("precision: " + ", ".join(f"{k} {v}" for k, v in meta["precision"].items()))
    for key, text in provenance_texts(spec):
        click.echo(f"{key}: {text}")
    click.echo("fields:")
    for f in spec.fields.values():
        extra = " required" if f.required else ""
        extra += f" one of {list(f.enum)}" if f.enum else ""
        click.echo(f"  {f.name} ({f.type}){extra}")
    click.echo("source files:")
    for s in meta["sources"]:
        click.echo(f"  {s['path']}  sha256 {s['sha256'][:16]}…")
    click.echo(f"built from: {_built_from(atlas_meta, layer)}")


def _built_from(atlas_meta: dict[str, Any], layer: str) -> str:
    """Where the atlas was built from, and whether ``layer`` is as in the bundled geodata."""
    record = atlas_meta.get("source") or {}
    if not record.get("geodata_dir"):
        return "no geodata directory recorded (imported layers)"
    if record.get("bundled"):
        return f"{record['geodata_dir']} (the bundled geodata)"
    if layer in record.get("not_bundled_layers", []):
        return f"{record['geodata_dir']} (own geodata; this layer is not in the bundled geodata as it is here)"
    return f"{record['geodata_dir']} (own geodata; this layer is as in the bundled geodata)"


def _validate_directory(path: Path, report: Path | None) -> None:
    """Validate a whole geodata directory, writing only the optional report."""
    from planatlas.build import validate_geodata  # noqa: PLC0415 - loads geopandas; keeps --help fast
    from planatlas.io.writers import write_json  # noqa: PLC0415 - same

    result = validate_geodata(path, progress=_progress)
    if report is not None:
        write_json(report, result.report())
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    if not result.ok:
        raise ValidationError(result.problems)
    click.echo(f"ok: {len(result.layers)} layers valid")


@click.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--crs", default=None, help="Declared CRS of a single file: EPSG:nnnn, GCJ-02 or BD-09.")
@click.option("--layer", "layer", default=None, help="Layer of a multi-layer single file (GeoPackage; a KML folder).")
@report_option
@click.option(
    "--within",
    default=None,
    metavar="LAYER",
    help="Atlas layer the file's features should fall in; detects GCJ-02 data declared as WGS84/CGCS2000.",
)
@handle_errors
def validate(path: Path, crs: str | None, layer: str | None, report: Path | None, within: str | None) -> None:
    """Validate a geodata directory, or read-check one source file, writing nothing else."""
    if path.is_dir():
        _validate_directory(path, report)
        return
    from planatlas.io import read_source  # noqa: PLC0415 - loads geopandas; keeps --help fast
    from planatlas.io.readers import suspect_gcj02  # noqa: PLC0415 - loads geopandas; keeps --help fast

    frame = read_source(path, crs=crs, layer=layer)
    if within:
        reference = open_store_from(None).read(within)
        if (
            crs
            and not is_offset_system(crs)
            and suspect_gcj02(frame.geometry.representative_point(), reference.geometry)
        ):
            msg = (
                f"declared {crs}, but its features fit layer {within!r} far better read as GCJ-02: "
                "this looks like web-map (AMap/Tencent) coordinates; declare --crs GCJ-02"
            )
            raise SourceError(msg, file=path.name)
    types = ", ".join(sorted(set(frame.geom_type.dropna())))
    click.echo(
        f"ok: {len(frame)} features ({types}), converted to EPSG:4490; bounds {[round(float(v), 5) for v in frame.total_bounds]}"
    )


@click.command()
@click.argument("layer")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["geojson", "gpkg", "csv"]),
    default=None,
    help="Output format (default: from the extension).",
)
@click.option("-o", "--output", type=FILE, required=True)
@db_option
@handle_errors
def dump(layer: str, fmt: str | None, output: Path, db_url: str | None) -> None:
    """Write one layer to GeoJSON, GeoPackage or CSV, with its caveat and its plan figures once."""
    from planatlas.dumps import prepare_dump, write_dump  # noqa: PLC0415 - loads geopandas; keeps --help fast

    store = open_store_from(db_url)
    frame = store.read(layer)
    dump = prepare_dump(frame, store.spec(layer))
    try:
        written = write_dump(dump, output, fmt=fmt)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="-o/--output") from exc
    extra = f" (plan figures: {len(dump.figures)} rows)" if dump.figures is not None else ""
    click.echo(f"wrote {len(frame)} features of {layer} to {', '.join(map(str, written))}{extra}")


@click.command()
@source_option
@click.option("--check", is_flag=True, help="Fail if geodata/README.md is not up to date.")
@handle_errors
def datacard(source: Path | None, check: bool) -> None:
    """Regenerate geodata/README.md (the data card) from the layer catalogue."""
    root = source or settings_from().geodata_dir
    text = render_datacard(load_catalog(root))
    target = Path(root) / "README.md"
    if check:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            msg = f"{target} is out of date; run 'planatlas datacard'"
            raise click.ClickException(msg)
        click.echo(f"{target} is up to date")
        return
    from planatlas.io.writers import write_text  # noqa: PLC0415 - loads geopandas; keeps --help fast

    write_text(target, text)
    click.echo(f"wrote {target}")
