"""The ``planatlas query`` command family: within, nearest, inside, intersects, summarize, coverage.

Commands: ``query`` (a click group). Each parses options, builds a
:class:`planatlas.query.QueryRequest`, answers it from the store (PostGIS when ``--db`` or
``PLANATLAS_DATABASE_URL`` is set, else the GeoPackage) and prints a table; ``-o`` also writes the
full result as GeoJSON, CSV or GeoPackage (by extension).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
import pandas as pd

from planatlas.cli.options import db_option, handle_errors, open_store_from, print_table
from planatlas.io.writers import format_from_path, write_frame
from planatlas.query import QueryRequest, QueryResult, parse_distance, run_query
from planatlas.store.base import LayerStore

#: Columns shown on the terminal besides the key (when present).
_SHOWN = ("name", "name_zh", "title", "nearest_key", "ref_key", "distance_m", "within_count", "zone_key", "zone_count")


def _parse_where(values: Sequence[str]) -> dict[str, Any]:
    """``name=八一广场`` pairs into a dict; a repeated field means "any of"."""
    where: dict[str, Any] = {}
    for item in values:
        field, sep, value = item.partition("=")
        if not sep or not field.strip():
            msg = f"should be FIELD=VALUE, got {item!r}"
            raise click.BadParameter(msg, param_hint="--where")
        field = field.strip()
        if field in where:
            prev = where[field]
            where[field] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            where[field] = value
    return where


def _distance(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parse_distance(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--distance") from exc
    return value


def _describe(where: dict[str, Any]) -> str:
    return "[" + ", ".join(f"{k}={v}" for k, v in where.items()) + "]" if where else ""


#: What the terminal says under the table: (result, rows shown in total, the selection as text).
Summary = Callable[[QueryResult, int, str], str]


def _ask(
    kind: str,
    *,
    layer: str,
    of: str,
    where: Sequence[str],
    db_url: str | None,
    output: Path | None,
    limit: int,
    summary: Summary,
    **options: Any,  # noqa: ANN401 - the QueryRequest fields of this kind (distance, pairs, by, value …)
) -> None:
    """Build the request (bad combinations are usage errors), answer it, print it and write ``-o``."""
    sel = _parse_where(where)
    if output is not None:
        try:
            format_from_path(output)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="-o") from exc
    try:
        rq = QueryRequest(kind=kind, layer=layer, of=of, where=sel, **options)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    store: LayerStore = open_store_from(db_url)
    try:
        result = run_query(store, rq)
        key = store.spec(rq.of if rq.kind == "summarize" else rq.layer).key
    finally:
        store.dispose()
    frame = result.frame
    _print(frame, key=key, limit=limit)
    click.echo(summary(result, len(frame), _describe(sel)) + f"  [{result.backend}]")
    if output is not None:
        write_frame(frame, output, layer=f"{rq.kind}_{rq.layer}")
        click.echo(f"wrote {len(frame)} rows to {output}", err=True)


def _print(frame: pd.DataFrame, *, key: str, limit: int) -> None:
    if "zone_key" in frame.columns and "share" in frame.columns:  # coverage
        columns = ["zone_key", "total", "within", "share"]
    else:
        columns = [key] + [c for c in (*_SHOWN, "count") if c in frame.columns and c != key]
        columns += [c for c in frame.columns if c.startswith("sum_")]
    shown = frame.head(limit) if limit > 0 else frame
    rows: list[dict[str, Any]] = []
    for shown_record in shown[columns].to_dict("records"):
        record = {str(name): value for name, value in shown_record.items()}
        for column in ("distance_m",):
            if column in record and record[column] is not None:
                record[column] = f"{record[column]:.1f}"
        if "share" in record:
            share = record["share"]
            record["share"] = "" if pd.isna(share) else f"{100 * share:.1f}%"
        rows.append(record)
    print_table(rows, columns)
    if limit > 0 and len(frame) > limit:
        click.echo(f"… {len(frame) - limit} more rows (use --limit 0 for all, or -o FILE)")


_layer_opt = click.option("--layer", "layer", required=True, help="Layer searched (e.g. buildings).")
_where_opt = click.option(
    "--where", "where", multiple=True, metavar="FIELD=VALUE", help="Select features of the --of layer (repeatable)."
)
_out_opt = click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the full result (.geojson, .csv or .gpkg).",
)
_limit_opt = click.option("--limit", default=20, show_default=True, help="Rows shown on the terminal (0: all).")


@click.group()
def query() -> None:
    """Spatial queries with exact distances in EPSG:4548, identical on GeoPackage and PostGIS."""


@query.command()
@_layer_opt
@click.option("--of", "of", required=True, help="Reference layer (e.g. metro_stations).")
@_where_opt
@click.option("--distance", required=True, help="Distance, e.g. 1km, 500m, 800.")
@click.option("--pairs", is_flag=True, help="One row per (feature, reference) pair instead of per feature.")
@_out_opt
@_limit_opt
@db_option
@handle_errors
def within(
    layer: str,
    of: str,
    where: tuple[str, ...],
    distance: str,
    pairs: bool,
    output: Path | None,
    limit: int,
    db_url: str | None,
) -> None:
    """Features of --layer within --distance of the selected --of features (true geometry distance)."""
    unit = "pairs" if pairs else "features"

    def summary(result: QueryResult, n: int, sel: str) -> str:
        return f"{n} {unit} of {layer} within {result.request.distance} of {of}{sel}"

    _ask(
        "within",
        layer=layer,
        of=of,
        where=where,
        db_url=db_url,
        output=output,
        limit=limit,
        summary=summary,
        distance=_distance(distance),
        pairs=pairs,
    )


@query.command()
@_layer_opt
@click.option("--of", "of", required=True, help="Reference layer.")
@_where_opt
@click.option("--max-distance", "max_distance", default=None, help="Ignore references farther than this.")
@_out_opt
@_limit_opt
@db_option
@handle_errors
def nearest(
    layer: str,
    of: str,
    where: tuple[str, ...],
    max_distance: str | None,
    output: Path | None,
    limit: int,
    db_url: str | None,
) -> None:
    """Each --layer feature's nearest --of feature and the exact distance to it."""
    _ask(
        "nearest",
        layer=layer,
        of=of,
        where=where,
        db_url=db_url,
        output=output,
        limit=limit,
        summary=lambda _r, n, sel: f"{n} features of {layer} with their nearest {of}{sel}",
        distance=_distance(max_distance),
    )


def _zone_command(kind: str, help_text: str) -> click.Command:
    @click.command(name=kind, help=help_text)
    @_layer_opt
    @click.option("--of", "--zone", "of", required=True, help="Zone layer (e.g. streets, zones).")
    @_where_opt
    @_out_opt
    @_limit_opt
    @db_option
    @handle_errors
    def command(
        layer: str, of: str, where: tuple[str, ...], output: Path | None, limit: int, db_url: str | None
    ) -> None:
        verb = "inside" if kind == "inside" else "meeting"
        _ask(
            kind,
            layer=layer,
            of=of,
            where=where,
            db_url=db_url,
            output=output,
            limit=limit,
            summary=lambda _r, n, sel: f"{n} features of {layer} {verb} {of}{sel}",
        )

    return command


query.add_command(_zone_command("inside", "Features of --layer inside (covered by) the selected zones."))
query.add_command(_zone_command("intersects", "Features of --layer inside or crossing the selected zones."))


@query.command()
@_layer_opt
@click.option("--by", "by", required=True, help="Zone layer to count per (e.g. streets).")
@_where_opt
@click.option("--value", default=None, help="Also sum this numeric field.")
@_out_opt
@_limit_opt
@db_option
@handle_errors
def summarize(
    layer: str,
    by: str,
    where: tuple[str, ...],
    value: str | None,
    output: Path | None,
    limit: int,
    db_url: str | None,
) -> None:
    """Count (and sum) --layer features per zone; each feature counts once, by its representative point."""
    _ask(
        "summarize",
        layer=layer,
        of=by,
        where=where,
        db_url=db_url,
        output=output,
        limit=limit,
        summary=lambda _r, n, sel: f"{layer} per {by}{sel}: {n} zones",
        value=value,
    )


@query.command()
@_layer_opt
@click.option("--of", "of", required=True, help="Reference layer (e.g. metro_stations).")
@_where_opt
@click.option("--by", "by", default="streets", show_default=True, help="Zone layer reported by.")
@click.option("--zone-where", "zone_where", multiple=True, metavar="FIELD=VALUE", help="Select zones of --by.")
@click.option("--distance", required=True, help="Distance, e.g. 800m.")
@click.option("--weight", default=None, help="Share of this numeric field instead of feature counts.")
@_out_opt
@_limit_opt
@db_option
@handle_errors
def coverage(
    layer: str,
    of: str,
    where: tuple[str, ...],
    by: str,
    zone_where: tuple[str, ...],
    distance: str,
    weight: str | None,
    output: Path | None,
    limit: int,
    db_url: str | None,
) -> None:
    """Share of --layer within --distance of any --of feature, per zone of --by and overall."""

    def summary(result: QueryResult, _n: int, sel: str) -> str:
        overall = result.frame.iloc[-1]
        share = "n/a" if pd.isna(overall["share"]) else f"{100 * overall['share']:.1f}%"
        return f"{share} of {layer} within {distance} of {of}{sel} overall"

    _ask(
        "coverage",
        layer=layer,
        of=of,
        where=where,
        db_url=db_url,
        output=output,
        limit=limit,
        summary=summary,
        by=by,
        zone_where=_parse_where(zone_where),
        distance=_distance(distance),
        value=weight,
    )
