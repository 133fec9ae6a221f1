"""Plan versus map: what the Jiuwang road programme promises beside what is mapped (pure).

The plan (seed 001, 专栏6-1) gives, per start year and for three years, a number of roads, a length
in km, a total investment and an investment completed. The mapped side counts the ``jiuwang_roads``
features per start year and measures their (schematic) lines in EPSG:4548. Differences are shown,
never hidden, and places where the plan's own figures do not add up are listed as notes with both
numbers. Nothing here reads files or databases except :func:`reconcile_jiuwang_from_store`, which
only calls ``store.read``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from planatlas import crs as pcrs
from planatlas.datafiles import LazyMapping
from planatlas.i18n import TEXT
from planatlas.store.base import LayerStore

#: Label of the three-year row.
TOTAL_LABEL = "合计 total"
#: Project classes that are markers, not road lengths (excluded from the measured km).
JUNCTION_CLASSES = ("互通立交",)

#: The four figures the plan gives per year (column of jiuwang_roads) and for three years.
_MEASURES = (
    ("roads", "plan_year_roads", "plan_all_roads", "条", "roads"),
    ("km", "plan_year_length_km", "plan_all_length_km", "公里", "length"),
    ("investment", "plan_year_investment_yi", "plan_all_investment_yi", "亿元", "total investment"),
    ("completed", "plan_year_completed_yi", "plan_all_completed_yi", "亿元", "investment completed"),
)

#: Output columns of the reconciliation table, in order.
TABLE_COLUMNS = [
    "start_year",
    "plan_roads",
    "mapped_roads",
    "diff_roads",
    "plan_km",
    "mapped_km",
    "diff_km",
    "diff_km_pct",
    "plan_investment_yi",
    "plan_completed_yi",
    "mapped_classes",
]


@functools.cache
def _column_labels() -> Mapping[str, Mapping[str, str]]:
    return {c: TEXT[f"reconcile_{c}"] for c in TABLE_COLUMNS}


#: Column labels of the table for display (CLI and app), per language (``reconcile_*`` in :mod:`planatlas.i18n`).
COLUMN_LABELS: Mapping[str, Mapping[str, str]] = LazyMapping(_column_labels)


def labelled(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The table with display labels as column names (``lang`` ``zh`` or ``en``)."""
    return table.rename(columns={c: COLUMN_LABELS[c].get(lang, c) for c in table.columns if c in COLUMN_LABELS})


@dataclass
class JiuwangReconciliation:
    """The table (one row per start year, then the three-year row) and the notes on it."""

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    project_checks: pd.DataFrame | None = None
    boundary: dict[str, Any] | None = None


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _one_value(frame: pd.DataFrame, column: str, label: str, notes: list[str]) -> float | None:
    """The plan figure repeated on every project of a group; a note if the copies disagree."""
    values = pd.to_numeric(frame[column], errors="coerce").dropna().unique()
    if len(values) == 0:
        return None
    if len(values) > 1:
        shown = ", ".join(_fmt(v) for v in sorted(values))
        notes.append(f"{label}: column {column} holds different values ({shown}); the first is used")
    return float(values[0])


def measured_km(roads: gpd.GeoDataFrame, *, junction_classes: Iterable[str] = JUNCTION_CLASSES) -> float:
    """Length of the road segments in km, measured in EPSG:4548 (junction markers excluded)."""
    segments = roads[~roads["class"].isin(list(junction_classes))]
    if segments.empty:
        return 0.0
    return float(segments.to_crs(pcrs.METRIC_CRS).length.sum()) / 1000.0


def reconcile_jiuwang(
    roads: gpd.GeoDataFrame,
    *,
    projects: pd.DataFrame | None = None,
    junction_classes: Iterable[str] = JUNCTION_CLASSES,
) -> JiuwangReconciliation:
    """Plan figures beside mapped count and measured km, per start year and for three years.

    Parameters
    ----------
    roads
        The ``jiuwang_roads`` layer (any CRS; lengths are measured in EPSG:4548).
    projects
        Optionally the ``jiuwang_projects`` layer, whose programme figures are checked against
        the sums of their yearly figures (:func:`check_project_totals`).
    junction_classes
        Classes drawn as markers (the interchange): counted as roads, not measured as km.

    Returns
    -------
    JiuwangReconciliation
        ``table`` with :data:`TABLE_COLUMNS` (``diff_* = mapped − plan``) and ``notes``.
    """
    junction_classes = tuple(junction_classes)
    if roads.crs is None:
        msg = "roads should carry a CRS (the atlas stores EPSG:4490), got none"
        raise ValueError(msg)
    notes: list[str] = []
    rows: list[dict[str, Any]] = []
    years = sorted(int(y) for y in pd.to_numeric(roads["start_year"]).dropna().unique())
    per_year: dict[int, dict[str, float | None]] = {}
    for year in years:
        group = roads[pd.to_numeric(roads["start_year"]) == year]
        plan = {m: _one_value(group, col, str(year), notes) for m, col, _, _, _ in _MEASURES}
        per_year[year] = plan
        rows.append(_row(str(year), plan, group, junction_classes))
    total_plan = {m: _one_value(roads, col, TOTAL_LABEL, notes) for m, _, col, _, _ in _MEASURES}
    rows.append(_row(TOTAL_LABEL, total_plan, roads, junction_classes))
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    notes = _plan_self_checks(per_year, total_plan) + _year_remarks(roads, per_year) + notes
    if len(roads[roads["class"].isin(junction_classes)]):
        notes.append(
            "mapped km exclude the interchange (drawn as a ring marker, not a road length); "
            "the plan's km may include it"
        )
    notes.append(
        "mapped km are lengths of SCHEMATIC lines (road_axes, ±1–2 km), measured in EPSG:4548; a difference "
        "says how far the sketch is from the plan, not how far the plan is from reality"
    )
    checks = check_project_totals(projects) if projects is not None else None
    if checks is not None:
        for _, c in checks[~checks["consistent"]].iterrows():
            rel = "should equal" if c["relation"] == "=" else "should not exceed"
            notes.append(
                f"the plan disagrees with itself: {c['item']}: {c['parts']} = {_fmt(c['sum_yi'])} 亿元 {rel} the "
                f"stated {c['stated_label']} {_fmt(c['stated_yi'])} 亿元 (difference {c['difference_yi']:+.2f}); "
                "both are shown, neither corrected"
            )
    return JiuwangReconciliation(table=table, notes=notes, project_checks=checks)


def _row(
    label: str, plan: dict[str, float | None], group: gpd.GeoDataFrame, junction_classes: tuple[str, ...]
) -> dict[str, Any]:
    mapped_roads = len(group)
    km = round(measured_km(group, junction_classes=junction_classes), 2)
    plan_roads = plan["roads"]
    plan_km = plan["km"]
    counts = group["class"].value_counts()
    order = ["主干路", "次干路", "支路", *junction_classes]
    classes = " ".join(f"{c}{int(counts[c])}" for c in order if c in counts)
    return {
        "start_year": label,
        "plan_roads": None if plan_roads is None else int(plan_roads),
        "mapped_roads": mapped_roads,
        "diff_roads": None if plan_roads is None else mapped_roads - int(plan_roads),
        "plan_km": plan_km,
        "mapped_km": km,
        "diff_km": None if plan_km is None else round(km - plan_km, 2),
        "diff_km_pct": None if not plan_km else round(100.0 * (km - plan_km) / plan_km, 1),
        "plan_investment_yi": plan["investment"],
        "plan_completed_yi": plan["completed"],
        "mapped_classes": classes,
    }


def _plan_self_checks(per_year: dict[int, dict[str, float | None]], total: dict[str, float | None]) -> list[str]:
    """Where the yearly figures do not add up to the stated three-year figure."""
    notes = []
    for measure, _, _, unit, label in _MEASURES:
        parts = [per_year[y][measure] for y in per_year]
        stated = total[measure]
        if stated is None or any(p is None for p in parts):
            continue
        summed = round(sum(p for p in parts if p is not None), 2)
        if abs(summed - stated) > 0.005:
            shown = " + ".join(_fmt(p) for p in parts if p is not None)
            notes.append(
                f"the plan disagrees with itself: {label} per year {shown} = {_fmt(summed)} {unit}, "
                f"but the three-year total states {_fmt(stated)} {unit} (difference {summed - stated:+.2f}); "
                "both are shown, neither corrected"
            )
    return notes


def _year_remarks(roads: gpd.GeoDataFrame, per_year: dict[int, dict[str, float | None]]) -> list[str]:
    notes = []
    for year, plan in per_year.items():
        km, inv, done = plan["km"], plan["investment"], plan["completed"]
        if km is not None and inv is not None and km == inv:
            notes.append(
                f"{year}: length {_fmt(km)} 公里 and investment {_fmt(inv)} 亿元 are the same number "
                "(coincidence or a copy error in the plan); shown as stated"
            )
        if inv is not None and done is not None and done > inv:
            notes.append(
                f"{year}: investment completed {_fmt(done)} 亿元 exceeds the {_fmt(inv)} 亿元 of that year's "
                "new starts (completion includes continuing works)"
            )
    if "plan_listed_as" in roads.columns:
        relabelled = roads[roads["plan_listed_as"].astype(str) != roads["class"].astype(str)]
        for _, r in relabelled.iterrows():
            notes.append(f"{r['name']}: the plan lists it as a {r['plan_listed_as']}; classed {r['class']} here")
    return notes


def check_project_totals(projects: pd.DataFrame) -> pd.DataFrame:
    """Stated programme and project totals beside the sums of their yearly figures (亿元).

    One row per check: a programme's ``programme_completed_yi`` should equal the sum of its
    projects' yearly investment, its ``programme_total_investment_yi`` the sum of its projects'
    totals, and a project's three-year investment should not exceed its total (a project may
    continue after 2023). ``consistent`` says whether the plan's figures pass.
    """
    years = [c for c in ("plan_2021_yi", "plan_2022_yi", "plan_2023_yi") if c in projects.columns]
    frame = pd.DataFrame(projects).copy()
    for col in [*years, "plan_total_investment_yi", "programme_total_investment_yi", "programme_completed_yi"]:
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    rows = []

    def add(item: str, stated_label: str, stated: float, parts: list[float], relation: str) -> None:
        parts = [p for p in parts if pd.notna(p)]
        summed = round(sum(parts), 2)
        diff = round(summed - stated, 2)
        rows.append(
            {
                "item": item,
                "relation": relation,
                "stated_label": stated_label,
                "stated_yi": stated,
                "parts": " + ".join(_fmt(p) for p in parts),
                "sum_yi": summed,
                "difference_yi": diff,
                "consistent": abs(diff) < 0.005 if relation == "=" else diff < 0.005,
            }
        )

    for programme, group in frame.groupby("programme", sort=True):
        yearly = [v for _, r in group.sort_values("project_id").iterrows() for v in (r[y] for y in years)]
        done = group["programme_completed_yi"].dropna().unique()
        if len(done):
            add(f"{programme}: yearly investment", "三年内完成投资", float(done[0]), yearly, "=")
        total = group["programme_total_investment_yi"].dropna().unique()
        project_totals = group["plan_total_investment_yi"]
        if len(total) and project_totals.notna().all():
            add(f"{programme}: project totals", "总投资", float(total[0]), list(project_totals), "=")
    for _, r in frame.sort_values("project_id").iterrows():
        if pd.notna(r.get("plan_total_investment_yi")):
            yearly = [r[y] for y in years if pd.notna(r[y])]
            if len(yearly) == len(years):
                add(f"{r['name']}: yearly investment", "总投资", float(r["plan_total_investment_yi"]), yearly, "≤")
    columns = ["item", "relation", "stated_label", "stated_yi", "parts", "sum_yi", "difference_yi", "consistent"]
    return pd.DataFrame(rows, columns=columns)


def compare_boundary_area(areas: gpd.GeoDataFrame, *, key: str = "jiuwang_new_city") -> dict[str, Any]:
    """The new city's measured area (EPSG:4548) beside the plan's stated area.

    Returns ``{"plan_km2", "plan_text", "measured_km2", "diff_km2", "diff_pct", "precision"}``.
    """
    row = areas.loc[areas["area_id"] == key]
    if row.empty:
        msg = f"area {key!r} should be in the areas layer, got keys {sorted(areas['area_id'])}"
        raise ValueError(msg)
    measured = round(float(row.to_crs(pcrs.METRIC_CRS).area.iloc[0]) / 1e6, 2)
    plan = pd.to_numeric(row["plan_area_km2"], errors="coerce").iloc[0]
    plan_km2 = None if pd.isna(plan) else float(plan)
    return {
        "plan_km2": plan_km2,
        "plan_text": row["plan_area_text"].iloc[0] if "plan_area_text" in row else None,
        "measured_km2": measured,
        "diff_km2": None if plan_km2 is None else round(measured - plan_km2, 2),
        "diff_pct": None if not plan_km2 else round(100 * (measured - plan_km2) / plan_km2, 1),
        "precision": str(row["precision"].iloc[0]) if "precision" in row else None,
    }


#: Metro line 4's western stations, reported near the new city's north edge.
LINE4_WEST_STATIONS = ("白马山", "裕丰街", "璜溪")


def station_offsets(
    areas: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, *, names: Iterable[str] = LINE4_WEST_STATIONS
) -> list[str]:
    """Where the named stations lie relative to the new city (a cross-check of two sketches).

    One sentence per station found in ``stations`` (column ``name``, with or without 站): inside
    or how far outside the boundary, and how far from its northern edge, in EPSG:4548.
    """
    boundary = areas.loc[areas["area_id"] == "jiuwang_new_city"].to_crs(pcrs.METRIC_CRS).geometry.iloc[0]
    north_y = boundary.bounds[3]
    found = stations.to_crs(pcrs.METRIC_CRS)
    bare = found["name"].astype(str).str.removesuffix("站")
    out = []
    for name in names:
        rows = found[bare == name]
        if rows.empty:
            continue
        point = rows.geometry.iloc[0].representative_point()
        where = "inside" if boundary.contains(point) else f"{boundary.distance(point):.0f} m outside"
        offset = point.y - north_y
        precision = rows["precision"].iloc[0] if "precision" in rows else "?"
        out.append(
            f"metro station {name} ({precision}) lies {where} the new city, {abs(offset):.0f} m "
            f"{'north' if offset >= 0 else 'south'} of its northernmost point (line 4's western stations are expected near that edge)"
        )
    return out


def reconcile_jiuwang_from_store(store: LayerStore) -> JiuwangReconciliation:
    """Read ``jiuwang_roads`` (and ``jiuwang_projects``/``jiuwang_areas`` if built) and reconcile.

    When the atlas also holds ``metro_stations``, the positions of line 4's western stations
    relative to the new city are added to the notes as a cross-check.
    """
    roads = store.read("jiuwang_roads")
    built = set(store.layers())
    projects = store.read("jiuwang_projects") if "jiuwang_projects" in built else None
    result = reconcile_jiuwang(roads, projects=projects)
    if "jiuwang_areas" in built:
        areas = store.read("jiuwang_areas")
        result.boundary = compare_boundary_area(areas)
        if "metro_stations" in built:
            result.notes += station_offsets(areas, store.read("metro_stations"))
    return result


def jiuwang_reconciliation_table(store: LayerStore) -> pd.DataFrame:
    """The reconciliation table as a DataFrame, for the app; notes in ``.attrs['notes']``."""
    result = reconcile_jiuwang_from_store(store)
    table = result.table.copy()
    table.attrs["notes"] = list(result.notes)
    return table


__all__ = [
    "COLUMN_LABELS",
    "JUNCTION_CLASSES",
    "LINE4_WEST_STATIONS",
    "TABLE_COLUMNS",
    "TOTAL_LABEL",
    "JiuwangReconciliation",
    "check_project_totals",
    "compare_boundary_area",
    "jiuwang_reconciliation_table",
    "labelled",
    "measured_km",
    "reconcile_jiuwang",
    "reconcile_jiuwang_from_store",
    "station_offsets",
]
