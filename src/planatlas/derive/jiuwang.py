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
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.ops import split as split_geometry
from shapely.ops import substring

from planatlas import crs as pcrs
from planatlas.catalog import PRECISION_ORDER
from planatlas.derive.context import DeriveContext
from planatlas.derive.schema import (
    DerivationSpec,
    GeometryFile,
    LayerName,
    ListOf,
    MapOf,
    Number,
    Table,
    TableFile,
    Tagged,
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
    """The coarsest of several precision classes (``schematic`` beats ``approximate`` …)."""
    # PRECISION_ORDER runs from best to worst: a derived feature is as coarse as its coarsest input.
    ranks = [PRECISION_ORDER.index(v) for v in values if v in PRECISION_ORDER]
    return PRECISION_ORDER[max(ranks)] if ranks else "schematic"


def _axis_lookup(
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


def _crossing(road: shapely.LineString, other: shapely.LineString) -> tuple[shapely.Point | None, str | None]:
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
    lines, precision, problems = _axis_lookup(axes, name_field=name_field, layer=layer)
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
            point, why = _crossing(road, lines[ends["to_road"]])
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
            point, why = _crossing(road, lines[terminus])
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


def polygonise_bounded_area(
    roads: Mapping[str, shapely.LineString],
    *,
    touch_tolerance_m: float = 1.0,
    min_edge_m: float = 10.0,
    layer: str | None = None,
    feature: str | None = None,
) -> shapely.Polygon:
    """The one face enclosed by all the given roads (metric), found by polygonising them.

    The roads are noded together and polygonised; the answer is the face whose boundary runs
    along every road for at least ``min_edge_m``. Anything else (no face, several) is reported.
    """
    noded = shapely.union_all(list(roads.values()))
    faces = list(shapely.polygonize(list(getattr(noded, "geoms", [noded]))).geoms)
    bounded = []
    for face in faces:
        ring = face.exterior
        if all(ring.intersection(road.buffer(touch_tolerance_m)).length >= min_edge_m for road in roads.values()):
            bounded.append(face)
    if len(bounded) == 1:
        return bounded[0]
    names = "、".join(roads)
    if not faces:
        open_ends = [
            f"{a} does not meet {b}"
            for a in roads
            for b in roads
            if a < b and roads[a].distance(roads[b]) > touch_tolerance_m
        ]
        why = "; ".join(open_ends) or "they do not close a ring"
        msg = f"the bounding roads {names} enclose no area: {why}"
    else:
        msg = f"the bounding roads {names} enclose {len(bounded)} areas bordered by all of them, expected 1"
    raise ValidationError([Problem(msg, layer=layer, feature=feature, field="geometry")])


def spread_points(area: shapely.Geometry, n: int, *, inset_m: float = 150.0) -> list[shapely.Point]:
    """``n`` deterministic, distinct points inside ``area`` (metric), spread along its middle row.

    Points are placed on the horizontal line through the area's representative point, clipped to
    the area shrunk by ``inset_m``, at equal fractions of that line's length: never on an edge,
    never on top of each other.
    """
    if n == 0:
        return []
    inner = area.buffer(-inset_m)
    if inner.is_empty:
        inner = area
    centre = inner.representative_point()
    minx, _, maxx, _ = inner.bounds
    row = shapely.LineString([(minx - 1, centre.y), (maxx + 1, centre.y)]).intersection(inner)
    parts = sorted(getattr(row, "geoms", [row]), key=lambda g: -g.length)
    line = parts[0] if parts and not parts[0].is_empty else None
    if line is None or line.length == 0:
        return [centre] if n == 1 else []
    return [line.interpolate((i + 1) / (n + 1), normalized=True) for i in range(n)]


# --------------------------------------------------------------------------------------------
# Build-time derivations (I/O through the context)
# --------------------------------------------------------------------------------------------


def _plan_table(ctx: DeriveContext, params: Mapping[str, Any], need: Iterable[str]) -> tuple[str, pd.DataFrame]:
    """The ``projects`` side input (read by the build) and its path, with the columns ``need`` present."""
    path = str(params["projects"])
    table = ctx.input("projects")
    absent = [c for c in need if c not in table.columns]
    if absent:
        raise ValidationError(
            [Problem(f"column {c!r} is missing", file=path, layer=ctx.spec.name, field=c) for c in absent]
        )
    return path, table


def _metric_axes(ctx: DeriveContext, params: Mapping[str, Any]) -> gpd.GeoDataFrame:
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
    table_path, projects = _plan_table(ctx, params, [spec.key, "road", "from_road", "to_road", "class"])
    solved = solve_road_projects(
        _metric_axes(ctx, params),
        projects,
        key=spec.key,
        name_field=params.get("axes_name_field", "name"),
        junction_classes=params.get("junction_classes", DEFAULT_JUNCTION_CLASSES),
        interchange_radius_m=float(params.get("interchange_radius_m", DEFAULT_INTERCHANGE_RADIUS_M)),
        layer=spec.name,
        file=table_path,
    )
    return solved.to_crs(pcrs.STORAGE_CRS)


def _band(line: shapely.Geometry, half_width_m: float, clip: shapely.Geometry) -> shapely.Geometry:
    return line.buffer(half_width_m, cap_style="flat").intersection(clip)


class _RuleError(ValueError):
    """One area rule cannot be applied; the message becomes a located problem."""


@dataclass(frozen=True)
class _AreaFrame:
    """What every area rule is applied to: road axes (metric), the boundary, and the river if given."""

    lines: Mapping[str, shapely.LineString]
    boundary: shapely.Geometry
    river: shapely.Geometry | None
    river_source: str | None


@dataclass(frozen=True)
class _RuleArea:
    """An area a rule produced, the roads it used besides the bounding ones, and how it was made."""

    geom: shapely.Geometry
    roads: list[str]
    how: str


def _rule_area(kind: object, rule: Mapping[str, Any], frame: _AreaFrame, bounding: list[str]) -> _RuleArea:
    """Apply one ``features`` rule of :func:`derive_jiuwang_areas`; raise :class:`_RuleError` if it cannot be."""
    lines, boundary = frame.lines, frame.boundary
    if kind == "boundary":
        return _RuleArea(boundary, [], f"Polygonised from its bounding roads {'、'.join(bounding)} (road_axes).")
    if kind == "disc":
        a, b = rule["roads"]
        point, why = _crossing(lines[a], lines[b])
        if point is None:
            msg = f"{a!r} and {b!r}: {a} {why}"
            raise _RuleError(msg)
        radius = float(rule["radius_m"])
        geom = point.buffer(radius, quad_segs=16).intersection(boundary)
        return _RuleArea(geom, [a, b], f"Disc of radius {radius:.0f} m around the crossing of {a} and {b}.")
    if kind == "road_band":
        road = rule["road"]
        half = float(rule["half_width_m"])
        how = f"Band {2 * half:.0f} m wide along {road}, inside the boundary."
        return _RuleArea(_band(lines[road], half, boundary), [road], how)
    if kind == "river_band":
        if frame.river is None:
            msg = "rule 'river_band' needs params.river"
            raise _RuleError(msg)
        half = float(rule["half_width_m"])
        how = f"Band {2 * half:.0f} m wide along the river line {frame.river_source}, inside the boundary."
        return _RuleArea(_band(frame.river, half, boundary), [], how)
    if kind == "split":
        road = rule["road"]
        pieces = list(split_geometry(boundary, lines[road]).geoms)
        if len(pieces) < 2:
            msg = f"road {road!r} does not cross the boundary; cannot split"
            raise _RuleError(msg)
        pieces.sort(key=lambda g: g.centroid.y)
        north = rule.get("side") == "north"
        how = f"The part of the boundary {'north' if north else 'south'} of {road}."
        return _RuleArea(pieces[-1] if north else pieces[0], [road], how)
    msg = f"unknown rule {kind!r}"
    raise _RuleError(msg)


def _named_roads(bounding: Iterable[str], rules: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Every road the boundary and the rules name (each must have an axis)."""
    named = set(bounding)
    for rule in rules.values():
        named.update(rule.get("roads", []))
        if "road" in rule:
            named.add(rule["road"])
    return named


def derive_jiuwang_areas(
    source: gpd.GeoDataFrame | None, *, ctx: DeriveContext, params: dict[str, Any]
) -> gpd.GeoDataFrame:
    """New-city boundary polygonised from its bounding roads, and its structure features.

    Params: ``bounding_roads`` (list of road names in ``axes_layer``), ``river`` and ``river_crs``
    (an extra line source, e.g. 肖峰河), and ``features``: key -> rule table, one of

    - ``{rule = "boundary"}``: the polygonised boundary;
    - ``{rule = "disc", roads = [a, b], radius_m}``: a disc around the crossing of two roads;
    - ``{rule = "road_band", road, half_width_m}``: a band along a road, inside the boundary;
    - ``{rule = "river_band", half_width_m}``: a band along the river, inside the boundary;
    - ``{rule = "split", road, side = "north"|"south"}``: the boundary's part on one side of a road.

    Each output row carries ``precision`` (coarsest input), ``geom_note`` (the rule, plus the rule's
    ``note``) and ``area_km2_measured`` (EPSG:4548).
    """
    spec = ctx.spec
    axes = _metric_axes(ctx, params)
    lines, precision, problems = _axis_lookup(axes, name_field=params.get("axes_name_field", "name"), layer=spec.name)
    bounding = list(params.get("bounding_roads", []))
    rules: Mapping[str, Mapping[str, Any]] = params.get("features", {})
    problems.extend(
        Problem(f"road {name!r} has no axis in the road axes", layer=spec.name, field="params")
        for name in sorted(_named_roads(bounding, rules) - set(lines))
    )
    if problems:
        raise ValidationError(problems)
    boundary = polygonise_bounded_area({n: lines[n] for n in bounding}, layer=spec.name, feature="boundary")
    base_precision = coarsest_precision(precision[n] for n in bounding)
    river = None
    river_precision = "schematic"
    if "river" in params:
        river_src = ctx.geometry_input("river").to_crs(pcrs.METRIC_CRS)
        river = shapely.line_merge(shapely.union_all(river_src.geometry.to_numpy()))
        river_precision = coarsest_precision(river_src.get("precision", pd.Series(["schematic"])).astype(str))
    frame = _AreaFrame(lines=lines, boundary=boundary, river=river, river_source=params.get("river"))
    rows: list[dict[str, Any]] = []
    for key in sorted(rules):
        rule = rules[key]
        kind = rule.get("rule")
        try:
            area = _rule_area(kind, rule, frame, bounding)
        except _RuleError as exc:
            problems.append(Problem(str(exc), layer=spec.name, feature=key, field="params"))
            continue
        # Clipping can leave slivers of lower dimension on the boundary; an area keeps its polygons.
        geom = shapely.union_all([g for g in shapely.get_parts(area.geom) if g.geom_type == "Polygon"])
        if geom.is_empty:
            problems.append(
                Problem(f"rule {kind!r} gives an empty area", layer=spec.name, feature=key, field="geometry")
            )
            continue
        inputs = [precision[n] for n in [*bounding, *area.roads]]
        if kind == "river_band":
            inputs.append(river_precision)
        rows.append(
            {
                spec.key: key,
                "geometry": geom,
                "precision": coarsest_precision([base_precision, *inputs]),
                "geom_note": f"{area.how} {rule.get('note', '')}".strip(),
                "area_km2_measured": round(geom.area / 1e6, 3),
            }
        )
    if problems:
        raise ValidationError(problems)
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=pcrs.METRIC_CRS).to_crs(pcrs.STORAGE_CRS)


def place_jiuwang_projects(
    source: gpd.GeoDataFrame | None, *, ctx: DeriveContext, params: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Mark projects whose site the plan does not give inside the area they belong to.

    Params: ``areas_layer`` (default ``jiuwang_areas``), ``projects`` (table with the key and
    ``placed_in``, an area key) and ``inset_m``. Each area's projects,
    sorted by key, are spread along the area's middle row (:func:`spread_points`), so markers are
    deterministic and never coincide; ``geom_note`` says the site is not public.
    """
    spec = ctx.spec
    table_path, table = _plan_table(ctx, params, [spec.key, "placed_in"])
    areas_layer = params.get("areas_layer", "jiuwang_areas")
    areas = ctx.layer(areas_layer)
    area_key = params.get("areas_key", "area_id")
    polygons = dict(zip(areas[area_key].astype(str), areas.to_crs(pcrs.METRIC_CRS).geometry, strict=True))
    area_precision = dict(zip(areas[area_key].astype(str), areas["precision"].astype(str), strict=True))
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    for area, group in table.groupby("placed_in", sort=True):
        keys = sorted(group[spec.key].astype(str))
        if area not in polygons:
            problems += [
                Problem(
                    f"area {area!r} is not in layer {areas_layer!r}",
                    file=table_path,
                    layer=spec.name,
                    feature=k,
                    field="placed_in",
                )
                for k in keys
            ]
            continue
        points = spread_points(polygons[area], len(keys), inset_m=float(params.get("inset_m", 150.0)))
        if len(points) < len(keys):
            problems.append(
                Problem(
                    f"area {area!r} has no room for {len(keys)} markers",
                    file=table_path,
                    layer=spec.name,
                    field="placed_in",
                )
            )
            continue
        for k, pt in zip(keys, points, strict=True):
            rows.append(
                {
                    spec.key: k,
                    "geometry": pt,
                    "precision": coarsest_precision([area_precision[area], "schematic"]),
                    "geom_note": (
                        f"Site not given by the plan or any public source used here: a marker placed "
                        f"deterministically inside {area} ({areas_layer}), not the project's location."
                    ),
                }
            )
    if problems:
        raise ValidationError(problems)
    frame = pd.DataFrame(rows, columns=[spec.key, "geometry", "precision", "geom_note"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=pcrs.METRIC_CRS).to_crs(pcrs.STORAGE_CRS)


# --------------------------------------------------------------------------------------------
# Declarations: params each derivation takes, checked before it runs
# --------------------------------------------------------------------------------------------

_NOTE = {"note": Text()}

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
DERIVE_JIUWANG_AREAS = DerivationSpec(
    derive_jiuwang_areas,
    params=Table(
        required={
            "bounding_roads": ListOf(Text(), min_len=2),
            "features": MapOf(
                Tagged(
                    "rule",
                    {
                        "boundary": Table(optional=_NOTE),
                        "disc": Table({"roads": ListOf(Text(), min_len=2, max_len=2), "radius_m": Number()}, _NOTE),
                        "road_band": Table({"road": Text(), "half_width_m": Number()}, _NOTE),
                        "river_band": Table({"half_width_m": Number()}, _NOTE),
                        "split": Table({"road": Text()}, {"side": Text(choices=("north", "south")), **_NOTE}),
                    },
                ),
                min_len=1,
            ),
        },
        optional={
            "axes_layer": LayerName(),
            "axes_name_field": Text(),
            "river": GeometryFile(("LineString", "MultiLineString"), crs_param="river_crs"),
            "river_crs": Text(),
        },
    ),
)
PLACE_JIUWANG_PROJECTS = DerivationSpec(
    place_jiuwang_projects,
    params=Table(
        required={"projects": TableFile()},
        optional={
            "areas_layer": LayerName(),
            "areas_key": Text(),
            "inset_m": Number(inclusive=True),
        },
    ),
)

__all__ = [
    "coarsest_precision",
    "polygonise_bounded_area",
    "solve_road_projects",
    "spread_points",
]
