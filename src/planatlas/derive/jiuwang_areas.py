"""Jiuwang New City's areas and project markers, from the plan's words and the road axes.

The new-city boundary is polygonised from its four bounding roads; structure areas follow the
plan's rules (discs at junctions, bands along roads and the river, halves split by a road); project
markers are spread inside their area. Roads and their projects are in :mod:`.jiuwang`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.ops import split as split_geometry

from planatlas import crs as pcrs
from planatlas.derive.context import DeriveContext
from planatlas.derive.jiuwang import NOTE, axis_lookup, coarsest_precision, crossing, metric_axes, plan_table
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

__all__ = ["DERIVE_JIUWANG_AREAS", "PLACE_JIUWANG_PROJECTS", "polygonise_bounded_area", "spread_points"]


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
        point, why = crossing(lines[a], lines[b])
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
    axes = metric_axes(ctx, params)
    lines, precision, problems = axis_lookup(axes, name_field=params.get("axes_name_field", "name"), layer=spec.name)
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
    table_path, table = plan_table(ctx, params, [spec.key, "placed_in"])
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


# ---- declarations: params each derivation takes, checked before it runs ----
DERIVE_JIUWANG_AREAS = DerivationSpec(
    derive_jiuwang_areas,
    params=Table(
        required={
            "bounding_roads": ListOf(Text(), min_len=2),
            "features": MapOf(
                Tagged(
                    "rule",
                    {
                        "boundary": Table(optional=NOTE),
                        "disc": Table({"roads": ListOf(Text(), min_len=2, max_len=2), "radius_m": Number()}, NOTE),
                        "road_band": Table({"road": Text(), "half_width_m": Number()}, NOTE),
                        "river_band": Table({"half_width_m": Number()}, NOTE),
                        "split": Table({"road": Text()}, {"side": Text(choices=("north", "south")), **NOTE}),
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
