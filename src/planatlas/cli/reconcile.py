"""The ``reconcile`` command family: plan figures beside what is mapped.

Commands: ``reconcile`` (group) with ``reconcile jiuwang`` and ``reconcile xinjian``.
"""

from __future__ import annotations

import json
import math

import click

from planatlas.cli.options import db_option, handle_errors, open_store_from, print_table
from planatlas.io.writers import csv_text
from planatlas.reconcile import COLUMN_LABELS, reconcile_jiuwang_from_store
from planatlas.store.base import LayerStore


def _cell(value: object, *, signed: bool = False, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    if signed and isinstance(value, int):
        return f"{value:+d}"
    return str(value)


@click.group()
def reconcile() -> None:
    """Set a plan's figures beside what the atlas maps, differences shown."""


@reconcile.command("jiuwang")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Plain-text table with notes, CSV of the table, or JSON with table and notes.",
)
@db_option
@handle_errors
def jiuwang(fmt: str, db_url: str | None) -> None:
    """Jiuwang road programme: plan count/km/investment per start year vs mapped count and km."""
    headers = {c: COLUMN_LABELS[c]["en"] for c in COLUMN_LABELS}
    headers["start_year"] = "start year 开工年份"

    store: LayerStore = open_store_from(db_url)
    try:
        result = reconcile_jiuwang_from_store(store)
    finally:
        store.dispose()
    table = result.table
    if fmt == "csv":
        click.echo(csv_text(table), nl=False)
        return
    if fmt == "json":
        records = json.loads(table.to_json(orient="records", force_ascii=False))
        payload = {"table": records, "notes": result.notes, "boundary": result.boundary}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    click.echo("Jiuwang New City road programme (seed 001 专栏6-1, lines 956-962): plan vs mapped")
    rows = [
        {
            headers[c]: _cell(rec[c], signed=c.startswith("diff_"), digits=1 if c.endswith("_pct") else 2)
            for c in table.columns
        }
        for rec in table.to_dict(orient="records")
    ]
    print_table(rows, columns=[headers[c] for c in table.columns])
    click.echo("Δ = mapped − plan. The plan gives no per-road length or cost; investment is the plan's only.")
    if result.boundary:
        b = result.boundary
        click.echo(
            f"new-city boundary: measured {b['measured_km2']:.2f} km² (EPSG:4548, {b['precision']}) vs plan "
            f"{_cell(b['plan_km2'])} km² ({b['plan_text']}); Δ {_cell(b['diff_km2'], signed=True)} km²"
        )
    if result.notes:
        click.echo("notes:")
        for note in result.notes:
            click.echo(f"  - {note}")


@reconcile.command("xinjian")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Plain-text table with notes, CSV of the table, or JSON with table and notes.",
)
@db_option
@handle_errors
def xinjian(fmt: str, db_url: str | None) -> None:
    """Xinjian spatial systems: the plan's counts and km (transport, frameworks, indicators) vs mapped."""
    from planatlas.reconcile_xinjian import reconcile_xinjian_from_store  # noqa: PLC0415 - loads geopandas

    store: LayerStore = open_store_from(db_url)
    try:
        result = reconcile_xinjian_from_store(store)
    finally:
        store.dispose()
    table = result.table
    if fmt == "csv":
        click.echo(csv_text(table), nl=False)
        return
    if fmt == "json":
        records = json.loads(table.to_json(orient="records", force_ascii=False))
        click.echo(json.dumps({"table": records, "notes": result.notes}, ensure_ascii=False, indent=2))
        return
    click.echo("Xinjian District plan (seed 001): plan figures vs mapped")
    shown = [c for c in table.columns if c not in ("plan_text", "note")]
    rows = [
        {
            c: _cell(rec[c], signed=c == "diff", digits=1) if c != "plan_value" else _cell(rec[c], digits=1)
            for c in shown
        }
        for rec in table.to_dict(orient="records")
    ]
    print_table(rows, columns=shown)
    click.echo("notes:")
    for rec in table.to_dict(orient="records"):
        if rec["note"]:
            click.echo(f"  - {rec['item']}: {rec['note']}")
    for note in result.notes:
        click.echo(f"  - {note}")
