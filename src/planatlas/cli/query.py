"""The ``planatlas query`` command family: within, nearest, inside, intersects, summarize, coverage.

Commands: ``query`` (a click group). Each parses options, builds a
:class:`planatlas.query.QueryRequest`, answers it from the store (PostGIS when ``--db`` or
``PLANATLAS_DATABASE_URL`` is set, else the GeoPackage) and prints a table; ``-o`` also writes the
full result as GeoJSON, CSV or GeoPackage (by extension).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pandas as pd

from planatlas.cli.options import FILE, db_option, handle_errors, open_store_from, option_group, print_table
from planatlas.io.writers import format_from_path, write_frame
from planatlas.query import QueryRequest, QueryResult, parse_distance, run_query
from planatlas.query.reference import AT_CRS, format_at, parse_at
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


def _at_reference(of: str | None, at: str | None, at_crs: str) -> tuple[str, Any]:
    """``(of, point)`` from ``--of`` or ``--at``/``--at-crs``: exactly one of ``--of`` and ``--at``."""
    if (of is None) == (at is None):
        msg = "give either --of LAYER (with --where) or --at LON,LAT, not both or neither"
        raise click.UsageError(msg)
    if at is None:
        assert of is not None  # checked above
        return of, None
    try:
        point = parse_at(at, crs=at_crs)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from exc
    return f"point {format_at(point)}", point


_AT_OPTIONS = (
    click.option("--at", "at", default=None, metavar="LON,LAT", help="Ask around this point instead of --of features."),
    click.option(
        "--at-crs",
        "at_crs",
        default="EPSG:4490",
        show_default=True,
        type=click.Choice(AT_CRS, case_sensitive=False),
        help="CRS of --at: CGCS2000, or GCJ-02/BD-09 for a point read off a web map (converted).",
    ),
)


def _at_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_AT_OPTIONS):
        func = option(func)
    return func


def _describe(where: dict[str, Any]) -> str:
    return "[" + ", ".join(f"{k}={v}" for k, v in where.items()) + "]" if where else ""


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


#: What the terminal says under the table: (result, rows shown in total, the selection as text).
Summary = Callable[[QueryResult, int, str], str]

_QUESTION_OPTIONS = (
    click.option("--layer", "layer", required=True, help="Layer searched (e.g. buildings)."),
    click.option(
        "--where", "where", multiple=True, metavar="FIELD=VALUE", help="Select features of the --of layer (repeatable)."
    ),
    click.option(
        "-o",
        "--output",
        "output",
        type=FILE,
        default=None,
        help="Also write the full result (.geojson, .csv or .gpkg).",
    ),
    click.option("--limit", default=20, show_default=True, help="Rows shown on the terminal (0: all)."),
    db_option,
)


@dataclass(frozen=True)
class Question:
    """The options every query command shares; :meth:`ask` answers one kind of query with them."""

    layer: str
    where: tuple[str, ...]
    output: Path | None
    limit: int
    db_url: str | None

    def ask(self, kind: str, *, of: str, summary: Summary, **options: Any) -> None:  # noqa: ANN401 - QueryRequest fields
        """Build the request (bad combinations are usage errors), answer it, print it and write ``-o``."""
        sel = _parse_where(self.where)
        if self.output is not None:
            try:
                format_from_path(self.output)
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="-o") from exc
        if options.get("at") is not None and sel:
            msg = "--where selects --of features; it cannot be used with --at"
            raise click.UsageError(msg)
        try:
            rq = QueryRequest(kind=kind, layer=self.layer, of=of, where=sel, **options)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
        store: LayerStore = open_store_from(self.db_url)
        try:
            result = run_query(store, rq)
            key = store.spec(rq.of if rq.kind == "summarize" and rq.at is None else rq.layer).key
        finally:
            store.dispose()
        frame = result.frame
        _print(frame, key=key, limit=self.limit)
        click.echo(summary(result, len(frame), _describe(sel)) + f"  [{result.backend}]")
        if self.output is not None:
            write_frame(frame, self.output, layer=f"{rq.kind}_{rq.layer}")
            click.echo(f"wrote {len(frame)} rows to {self.output}", err=True)


_question_options = option_group("question", Question, _QUESTION_OPTIONS)


@click.group()
def query() -> None:
    """Spatial queries with exact distances in EPSG:4548, identical on GeoPackage and PostGIS."""


@query.command()
@_question_options
@click.option("--of", "of", default=None, help="Reference layer (e.g. metro_stations); or --at.")
@_at_options
@click.option("--distance", required=True, help="Distance, e.g. 1km, 500m, 800.")
@click.option("--pairs", is_flag=True, help="One row per (feature, reference) pair instead of per feature.")
@handle_errors
def within(question: Question, of: str | None, at: str | None, at_crs: str, distance: str, pairs: bool) -> None:
    """Features of --layer within --distance of the selected --of features or of the point --at."""
    unit = "pairs" if pairs else "features"
    of, point = _at_reference(of, at, at_crs)
    if point is not None and pairs:
        msg = "--pairs needs --of features; around one point every feature has one pair"
        raise click.UsageError(msg)

    def summary(result: QueryResult, n: int, sel: str) -> str:
        return f"{n} {unit} of {question.layer} within {result.request.distance} of {of}{sel}"

    question.ask("within", of=of, summary=summary, distance=_distance(distance), pairs=pairs, at=point)


@query.command()
@_question_options
@click.option("--of", "of", default=None, help="Reference layer; or --at.")
@_at_options
@click.option("--max-distance", "max_distance", default=None, help="Ignore references farther than this.")
@click.option("--count", "count", type=click.IntRange(min=1), default=None, help="With --at: only the N nearest.")
@handle_errors
def nearest(
    question: Question, of: str | None, at: str | None, at_crs: str, max_distance: str | None, count: int | None
) -> None:
    """Each --layer feature's nearest --of feature; with --at, the --layer features nearest the point."""
    of, point = _at_reference(of, at, at_crs)

    def summary(_result: QueryResult, n: int, sel: str) -> str:
        if point is not None:
            return f"{n} features of {question.layer} nearest {of}"
        return f"{n} features of {question.layer} with their nearest {of}{sel}"

    question.ask("nearest", of=of, summary=summary, distance=_distance(max_distance), at=point, limit=count)


def _zone_command(kind: str, help_text: str) -> click.Command:
    verb = "inside" if kind == "inside" else "meeting"

    @click.command(name=kind, help=help_text)
    @_question_options
    @click.option("--of", "--zone", "of", required=True, help="Zone layer (e.g. streets, zones).")
    @handle_errors
    def command(question: Question, of: str) -> None:
        def summary(_result: QueryResult, n: int, sel: str) -> str:
            return f"{n} features of {question.layer} {verb} {of}{sel}"

        question.ask(kind, of=of, summary=summary)

    return command


query.add_command(_zone_command("inside", "Features of --layer inside (covered by) the selected zones."))
query.add_command(_zone_command("intersects", "Features of --layer inside or crossing the selected zones."))


@query.command()
@_question_options
@click.option("--by", "by", required=True, help="Zone layer to count per (e.g. streets).")
@click.option("--value", default=None, help="Also sum this numeric field.")
@handle_errors
def summarize(question: Question, by: str, value: str | None) -> None:
    """Count (and sum) --layer features per zone; each feature counts once, by its representative point."""

    def summary(_result: QueryResult, n: int, sel: str) -> str:
        return f"{question.layer} per {by}{sel}: {n} zones"

    question.ask("summarize", of=by, summary=summary, value=value)


@query.command()
@_question_options
@click.option("--of", "of", required=True, help="Reference layer (e.g. metro_stations).")
@click.option("--by", "by", default="streets", show_default=True, help="Zone layer reported by.")
@click.option("--zone-where", "zone_where", multiple=True, metavar="FIELD=VALUE", help="Select zones of --by.")
@click.option("--distance", required=True, help="Distance, e.g. 800m.")
@click.option("--weight", default=None, help="Share of this numeric field instead of feature counts.")
@handle_errors
def coverage(
    question: Question, of: str, by: str, zone_where: tuple[str, ...], distance: str, weight: str | None
) -> None:
    """Share of --layer within --distance of any --of feature, per zone of --by and overall."""

    def summary(result: QueryResult, _n: int, sel: str) -> str:
        overall = result.frame.iloc[-1]
        share = "n/a" if pd.isna(overall["share"]) else f"{100 * overall['share']:.1f}%"
        return f"{share} of {question.layer} within {distance} of {of}{sel} overall"

    question.ask(
        "coverage",
        of=of,
        summary=summary,
        by=by,
        zone_where=_parse_where(zone_where),
        distance=_distance(distance),
        value=weight,
    )
