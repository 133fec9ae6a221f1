"""Derivations shared by several layers: points placed inside their street."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planatlas import crs as pcrs
from planatlas.derive.context import DeriveContext
from planatlas.derive.schema import DerivationSpec, LayerName, SourceRule, Table, Text
from planatlas.errors import Problem, ValidationError

#: Minimum spacing between placed points, and from located points, in metres.
MIN_SPACING_M = 60.0


def place_in_street(source: gpd.GeoDataFrame | None, *, ctx: DeriveContext, params: dict[str, Any]) -> gpd.GeoDataFrame:
    """Give features known only by street a deterministic point inside that street.

    Rows that already have a geometry are kept. Rows without one must have precision ``street``;
    each street's such rows, sorted by key, take the interior points of a hexagonal grid inside the
    street polygon (shrunk by half a spacing so no point sits on an edge), spread evenly over the
    candidates and at least ``MIN_SPACING_M`` from every other point of the layer, so placed points
    never sit on top of each other or of located features.
    """
    spec = ctx.spec
    if source is None:
        raise ValidationError([Problem("place_in_street needs a geometry source", layer=spec.name)])
    street_layer = params.get("street_layer", "streets")
    field = params.get("street_field", "street_id")
    streets = ctx.layer(street_layer)
    street_key = ctx.spec.key if field not in streets.columns else field
    polygons = dict(zip(streets[street_key], streets.to_crs(pcrs.METRIC_CRS).geometry, strict=True))
    out = source.copy()
    if field not in out.columns:
        raise ValidationError(
            [Problem(f"column {field!r} is missing", file=spec.geometry.source, layer=spec.name, field=field)]
        )
    problems: list[Problem] = []
    # 'unlocated' features stay without geometry: the plan names them, nobody can place them
    missing = (out.geometry.isna() | out.geometry.is_empty) & (out.get("precision") != "unlocated")
    has_geometry = ~(out.geometry.isna() | out.geometry.is_empty)
    located = out.loc[has_geometry].to_crs(pcrs.METRIC_CRS).geometry.to_numpy()
    placed_metric: dict[int, shapely.Point] = {}
    radius: dict[int, int] = {}
    for street, group in out.loc[missing].groupby(field, sort=True):
        keys = group[spec.key].astype(str)
        for _, row in group.iterrows():
            if row.get("precision") != "street":
                problems.append(
                    Problem(
                        f"has no geometry but precision {row.get('precision')!r}; only 'street' features are placed",
                        file=spec.geometry.source,
                        layer=spec.name,
                        feature=str(row[spec.key]),
                        field="geometry",
                    )
                )
        if street not in polygons:
            problems.extend(
                Problem(
                    f"street {street!r} is not in layer {street_layer!r}",
                    file=spec.geometry.source,
                    layer=spec.name,
                    feature=key,
                    field=field,
                )
                for key in keys
            )
            continue
        order = group.index[np.argsort(keys.to_numpy(), kind="stable")]
        points = _spread_points(polygons[street], len(order), avoid=located)
        if len(points) < len(order):
            problems.append(
                Problem(
                    f"street {street!r} has room for only {len(points)} of {len(order)} placed points",
                    layer=spec.name,
                    field=field,
                )
            )
            continue
        placed_metric.update(zip(order, points, strict=False))
        radius.update((i, street_radius_m(polygons[street], p)) for i, p in zip(order, points, strict=False))
    if problems:
        raise ValidationError(problems)
    if placed_metric:
        placed = gpd.GeoSeries(list(placed_metric.values()), index=list(placed_metric), crs=pcrs.METRIC_CRS).to_crs(
            pcrs.STORAGE_CRS
        )
        geoms = out.geometry.copy()
        geoms.loc[placed.index] = placed
        out = out.set_geometry(geoms)
        # object: a source's own values stay as written (the schema casts and checks them)
        stated = out["uncertainty_m"] if "uncertainty_m" in out.columns else pd.Series(None, index=out.index)
        out["uncertainty_m"] = stated.astype(object)
        out.loc[list(radius), "uncertainty_m"] = list(radius.values())
    return out.set_crs(pcrs.STORAGE_CRS, allow_override=True)


def street_radius_m(polygon: shapely.Geometry, point: shapely.Point) -> int:
    """How far the true position of a feature placed at ``point`` inside ``polygon`` may be: the
    distance to the polygon's farthest vertex, rounded up to 10 m (metric CRS)."""
    coords = shapely.get_coordinates(polygon)
    far = float(np.hypot(coords[:, 0] - point.x, coords[:, 1] - point.y).max()) if len(coords) else 0.0
    return int(np.ceil(far / 10.0) * 10)


def _spread_points(polygon: shapely.Geometry, n: int, *, avoid: np.ndarray) -> list[shapely.Point]:
    """``n`` points inside ``polygon`` (metric CRS), evenly chosen from a hexagonal grid."""
    if n == 0:
        return []
    spacing = MIN_SPACING_M
    inner = polygon.buffer(-spacing / 2)
    if inner.is_empty:
        inner = polygon
    minx, miny, maxx, maxy = inner.bounds
    xs = np.arange(minx, maxx + spacing, spacing)
    ys = np.arange(miny, maxy + spacing, spacing * np.sqrt(3) / 2)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + (np.arange(len(ys))[:, None] % 2) * spacing / 2
    cx, cy = gx.ravel(), gy.ravel()
    keep = shapely.contains_xy(inner, cx, cy)
    cx, cy = cx[keep], cy[keep]
    if len(avoid):
        near = shapely.dwithin(shapely.union_all(avoid), shapely.points(cx, cy), spacing)
        cx, cy = cx[~near], cy[~near]
    if len(cx) < n:
        return [shapely.Point(x, y) for x, y in zip(cx, cy, strict=True)]
    # Order candidates from the street's representative point outwards, then take every k-th so
    # points spread over the street instead of clustering at one corner.
    centre = polygon.representative_point()
    order = np.argsort(np.hypot(cx - centre.x, cy - centre.y), kind="stable")
    step = max(1, len(order) // n)
    chosen = order[::step][:n]
    return [shapely.Point(cx[i], cy[i]) for i in chosen]


PLACE_IN_STREET = DerivationSpec(
    place_in_street,
    params=Table(optional={"street_layer": LayerName(), "street_field": Text()}),
    source=SourceRule(("Point",), allow_missing=True),
)
