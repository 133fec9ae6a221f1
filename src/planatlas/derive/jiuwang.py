"""Jiuwang New City geometry solved from the plan's words: road projects cut between their termini,
the new-city boundary polygonised from its four bounding roads, its structure, and project markers.

The plan (seed 001, 专栏6-1) names each road project as ``道路（起点道路-终点道路）`` and gives no
alignment. The centrelines of every road it names are authored once (layer ``road_axes``, schematic);
everything here is computed from those axes in the metric CRS, so a change to one axis moves every
project, boundary and structure feature that depends on it, and a project whose road does not reach
one of its termini is an error naming both, never a silently shortened line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.ops import substring

from planatlas import crs as pcrs
from planatlas.catalog import PRECISION_ORDER
from planatlas.derive.context import DeriveContext
from planatlas.derive.schema import (
    DerivationSpec,
    LayerName,
    ListOf,
    Number,
    Table,
    TableFile,
    Text,
)
from planatlas.errors import Problem, ValidationError

#: Project classes drawn as a junction marker instead of a segment.
DEFAULT_JUNCTION_CLASSES = ("互通立交",)
#: Radius of the ring that marks an interchange at its junction, in metres.
DEFAULT_INTERCHANGE_RADIUS_M = 150.0
#: Two roads whose intersection is a line (one runs along the other) cannot bound a segment.
_OVERLAP_TOLERANCE_M = 1.0


# --------------------------------------------------------------------------------------------
# Pure solvers (metric CRS in, metric CRS out)
# --------------------------------------------------------------------------------------------


def coarsest_precision(values: Iterable[str]) -> str:
    """The coarsest of several precision classes (``schematic`` beats ``sourced`` …)."""
    # PRECISION_ORDER runs from best to worst: a derived feature is as coarse as its coarsest input.
    ranks = [PRECISION_ORDER.index(v) for v in values if v in PRECISION_ORDER]
    return PRECISION_ORDER[max(ranks)] if ranks else "schematic"


def axis_lookup(
    axes: gpd.GeoDataFrame, *, name_field: str, layer: str | None
) -> tuple[dict[str, shapely.LineString], dict[str, str], list[Problem]]:
    """Map road name -> single LineString axis (metric) and its precision."""
    problems: list[Problem] = []
    lines: dict[str, shapely.LineString] = {}
    precision: dict[str, str] = {}
    for name, group in axes.groupby(name_field, sort=True):
        geom = shapely.line_merge(shapely.union_all(group.geometry.to_numpy()))
        if geom.geom_type != "LineString":
            problems.append(
                Problem(
                    f"axis of {name!r} should be one continuous line, got {geom.geom_type}",
                    layer=layer,
                    feature=str(name),
                    field="geometry",
                )
            )
            continue
        lines[str(name)] = geom
        precision[str(name)] = coarsest_precision(group.get("precision", pd.Series(["schematic"])).astype(str))
    return lines, precision, problems


def crossing(road: shapely.LineString, other: shapely.LineString) -> tuple[shapely.Point | None, str | None]:
    """The single point where ``road`` meets ``other``; else ``None`` and why not."""
    inter = road.intersection(other)
    if inter.is_empty:
        gap = road.distance(other)
        return None, f"does not meet it (nearest approach {gap:.0f} m)"
    points = [g for g in getattr(inter, "geoms", [inter]) if g.geom_type == "Point"]
    along = [g for g in getattr(inter, "geoms", [inter]) if g.geom_type != "Point" and g.length > _OVERLAP_TOLERANCE_M]
    if along:
        return None, "runs along it instead of crossing it"
    if len(points) != 1:
        where = ", ".join(f"{road.project(p):.0f} m" for p in points)
        return None, f"meets it {len(points)} times (at {where} along the road); the terminus is ambiguous"
    return points[0], None


def solve_road_projects(
    axes: gpd.GeoDataFrame,
    projects: pd.DataFrame,
    *,
    key: str,
    name_field: str = "name",
    junction_classes: Iterable[str] = DEFAULT_JUNCTION_CLASSES,
    interchange_radius_m: float = DEFAULT_INTERCHANGE_RADIUS_M,
    layer: str | None = None,
    file: str | None = None,
) -> gpd.GeoDataFrame:
    """Cut each project out of its road's axis between its two termini.

    Parameters
    ----------
    axes
        Road centrelines in a metric CRS, one road per ``name_field`` value, with ``precision``.
    projects
        One row per project: ``key``, ``road``, ``from_road``, ``to_road`` and ``class``.
    key
        The project key column.
    name_field
        Column of ``axes`` holding the road names the projects refer to.
    junction_classes
        Project classes (the interchange) drawn as a ring of ``interchange_radius_m`` around the
        point where ``road`` meets ``to_road`` instead of a segment.
    layer, file
        Where problems are reported.

    Returns
    -------
    GeoDataFrame in the CRS of ``axes`` with ``key``, ``geometry``, ``precision``, ``geom_note``
    and ``measured_length_m`` (segment length; empty for junction markers).

    Raises
    ------
    ValidationError
        Listing every project whose road or terminus is missing, or whose road does not meet a
        terminus exactly once; the message names the road and the terminus.
    """
    if axes.crs is None or not axes.crs.is_projected:
        msg = f"axes must be in a projected (metric) CRS, got {axes.crs!r}"
        raise ValueError(msg)
    lines, precision, problems = axis_lookup(axes, name_field=name_field, layer=layer)
    junctions = set(junction_classes)
    rows: list[dict[str, Any]] = []
    for _, project in projects.iterrows():
        pid = str(project[key])
        road_name = str(project["road"]).strip()
        ends = {"from_road": str(project["from_road"]).strip(), "to_road": str(project["to_road"]).strip()}
        missing = [(f, n) for f, n in (("road", road_name), *ends.items()) if n not in lines]
        for fld, name in missing:
            problems.append(
                Problem(f"road {name!r} has no axis in the road axes", file=file, layer=layer, feature=pid, field=fld)
            )
        if missing:
            continue
        road = lines[road_name]
        used = [road_name, *ends.values()]
        if str(project.get("class", "")) in junctions:
            point, why = crossing(road, lines[ends["to_road"]])
            if point is None:
                problems.append(
                    Problem(
                        f"road {road_name!r} cannot carry the interchange with {ends['to_road']!r}: it {why}",
                        file=file,
                        layer=layer,
                        feature=pid,
                        field="to_road",
                    )
                )
                continue
            ring = shapely.LineString(point.buffer(interchange_radius_m, quad_segs=16).exterior.coords)
            rows.append(
                {
                    key: pid,
                    "geometry": ring,
                    "precision": coarsest_precision(precision[n] for n in used),
                    "geom_note": (
                        f"互通立交: ring of radius {interchange_radius_m:.0f} m around the crossing of "
                        f"{road_name} and {ends['to_road']} (road_axes); a marker, not a road length."
                    ),
                    "measured_length_m": None,
                }
            )
            continue
        cuts: list[float] = []
        for fld, terminus in ends.items():
            point, why = crossing(road, lines[terminus])
            if point is None:
                problems.append(
                    Problem(
                        f"road {road_name!r} cannot end on its terminus {terminus!r}: it {why}",
                        file=file,
                        layer=layer,
                        feature=pid,
                        field=fld,
                    )
                )
                continue
            cuts.append(road.project(point))
        if len(cuts) != 2:
            continue
        start, end = sorted(cuts)
        if end - start < _OVERLAP_TOLERANCE_M:
            problems.append(
                Problem(
                    f"road {road_name!r} meets {ends['from_road']!r} and {ends['to_road']!r} at the same place; "
                    "the segment would be empty",
                    file=file,
                    layer=layer,
                    feature=pid,
                    field="to_road",
                )
            )
            continue
        segment = substring(road, start, end)
        rows.append(
            {
                key: pid,
                "geometry": segment,
                "precision": coarsest_precision(precision[n] for n in used),
                "geom_note": (
                    f"Part of {road_name} between its crossings with {ends['from_road']} and "
                    f"{ends['to_road']}, cut from the schematic road_axes; {segment.length:.0f} m is the "
                    "schematic length, not a length given by the plan."
                ),
                "measured_length_m": round(segment.length, 1),
            }
        )
    if problems:
        raise ValidationError(problems)
    frame = pd.DataFrame(rows, columns=[key, "geometry", "precision", "geom_note", "measured_length_m"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=axes.crs)


# --------------------------------------------------------------------------------------------
# Build-time derivations (I/O through the context)
# --------------------------------------------------------------------------------------------


def plan_table(ctx: DeriveContext, params: Mapping[str, Any], need: Iterable[str]) -> tuple[str, pd.DataFrame]:
    """The ``projects`` side input (read by the build) and its path, with the columns ``need`` present."""
    path = str(params["projects"])
    table = ctx.input("projects")
    absent = [c for c in need if c not in table.columns]
    if absent:
        raise ValidationError(
            [Problem(f"column {c!r} is missing", file=path, layer=ctx.spec.name, field=c) for c in absent]
        )
    return path, table


def metric_axes(ctx: DeriveContext, params: Mapping[str, Any]) -> gpd.GeoDataFrame:
    return ctx.layer(params.get("axes_layer", "road_axes")).to_crs(pcrs.METRIC_CRS)


def solve_jiuwang_roads(
    source: gpd.GeoDataFrame | None, *, ctx: DeriveContext, params: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Jiuwang road projects as the part of each road between its two termini.

    Params: ``axes_layer`` (default ``road_axes``; name column ``name``), ``projects`` (the plan
    table with ``road``/``from_road``/``to_road``/``class``), ``junction_classes`` and
    ``interchange_radius_m``.
    """
    spec = ctx.spec
    table_path, projects = plan_table(ctx, params, [spec.key, "road", "from_road", "to_road", "class"])
    solved = solve_road_projects(
        metric_axes(ctx, params),
        projects,
        key=spec.key,
        name_field=params.get("axes_name_field", "name"),
        junction_classes=params.get("junction_classes", DEFAULT_JUNCTION_CLASSES),
        interchange_radius_m=float(params.get("interchange_radius_m", DEFAULT_INTERCHANGE_RADIUS_M)),
        layer=spec.name,
        file=table_path,
    )
    return solved.to_crs(pcrs.STORAGE_CRS)


# --------------------------------------------------------------------------------------------
# Declarations: params each derivation takes, checked before it runs
# --------------------------------------------------------------------------------------------

NOTE = {"note": Text()}

SOLVE_JIUWANG_ROADS = DerivationSpec(
    solve_jiuwang_roads,
    params=Table(
        required={"projects": TableFile()},
        optional={
            "axes_layer": LayerName(),
            "axes_name_field": Text(),
            "junction_classes": ListOf(Text()),
            "interchange_radius_m": Number(),
        },
    ),
)
__all__ = ["NOTE", "axis_lookup", "coarsest_precision", "crossing", "metric_axes", "plan_table", "solve_road_projects"]
