"""Whether a point layer's coordinates sit where the atlas already puts the same places (GCJ-02 declared as EPSG).

A web-map (AMap, Tencent: GCJ-02; Baidu: BD-09) coordinate read as CGCS2000/WGS84 lands some
500-1000 m from the true place, inside the district and China, so no range check notices it. What
does notice is a place the atlas already holds under the same name: the metro station 万寿宫 for
the scenic area whose alias is 万寿宫. For every such pair this module measures how far the layer's
point is from the reference as declared and as it would be if the file were GCJ-02 (or BD-09); when
the offset reading is clearly the better fit across the layer, the layer is refused with that
explanation. Nothing here reads files: it sees the layers a build has made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planatlas import crs as pcrs
from planatlas.catalog import LayerSpec
from planatlas.errors import Problem

#: A pair farther apart than this under both readings is two places sharing a name, not one place.
MAX_PAIR_M = 2000.0
#: The offset reading must fit at least this much better: median distance below this share of the declared one.
MAX_RATIO = 0.5
#: Reference features: positions the atlas holds to within a few hundred metres (or with no precision given).
REFERENCE_PRECISION = frozenset({"surveyed", "sourced", "address"})
#: Columns holding a feature's names; ``aliases`` lists ``text@line`` entries separated by ``;``.
NAME_COLUMNS = ("name", "name_written", "name_zh", "aliases")
#: Names shorter than this (one character) say too little to pair two places.
MIN_NAME_LENGTH = 2
#: Worked examples quoted in the message.
EXAMPLES = 3
_COMPASS = ("east", "north-east", "north", "north-west", "west", "south-west", "south", "south-east")
_POINT_TYPES = frozenset({"Point", "MultiPoint"})


@dataclass(frozen=True)
class _Pair:
    """One point of the checked layer and a reference feature sharing one of its names (metric CRS)."""

    feature: str
    name: str
    reference_layer: str
    reference: shapely.Geometry


def source_located_keys(frame: gpd.GeoDataFrame | pd.DataFrame, key: str) -> frozenset[str]:
    """Keys of the features whose geometry the source file gives (not placed later by a derivation)."""
    if key not in frame.columns or not isinstance(frame, gpd.GeoDataFrame):
        return frozenset()
    present = ~(frame.geometry.isna() | frame.geometry.is_empty)
    return frozenset(frame.loc[present, key].astype(str))


def offset_problems(
    specs: Mapping[str, LayerSpec],
    built: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
    located: Mapping[str, frozenset[str]],
) -> list[Problem]:
    """One problem per point layer whose source points fit same-named places better read as GCJ-02 or BD-09.

    Parameters
    ----------
    specs
        The catalogue entries of the built layers (the declared CRS is read from them).
    built
        The layers a build made, in EPSG:4490.
    located
        Per layer, the keys whose geometry came from its source file (see :func:`source_located_keys`).
    """
    suspects: dict[str, Problem] = {}
    # A layer found suspect is no reference for the others: two layers shifted alike agree with each other.
    while True:
        trusted = {n: f for n, f in built.items() if n not in suspects}
        found = {
            name: problem
            for name in trusted
            if name in specs
            and (problem := _layer_problem(specs[name], trusted, located.get(name, frozenset()))) is not None
        }
        if not found:
            return list(suspects.values())
        suspects.update(found)


def _layer_problem(
    spec: LayerSpec, built: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], located: frozenset[str]
) -> Problem | None:
    declared = spec.geometry.crs
    frame = built[spec.name]
    if (
        spec.geometry_type not in _POINT_TYPES
        or not located
        or declared is None
        or pcrs.is_offset_system(declared)
        or not isinstance(frame, gpd.GeoDataFrame)
    ):
        return None
    mine = frame[frame[spec.key].astype(str).isin(located)]
    pairs = _pairs(mine, spec, built)
    if not pairs:
        return None
    centres = shapely.centroid(mine.geometry.to_numpy())  # a MultiPoint's centre; a Point itself
    geo = {str(k): g for k, g in zip(mine[spec.key].astype(str), centres, strict=True)}
    for system in pcrs.OFFSET_SYSTEMS:
        problem = _test_system(spec, pairs, geo, system=system, declared=declared)
        if problem is not None:
            return problem
    return None


def _test_system(
    spec: LayerSpec, pairs: list[_Pair], geo: Mapping[str, shapely.Geometry], *, system: str, declared: str
) -> Problem | None:
    """The problem if reading the layer's points as ``system`` fits the references clearly better."""
    keys = sorted({p.feature for p in pairs})
    row = {k: i for i, k in enumerate(keys)}
    which = np.array([row[p.feature] for p in pairs])
    references = np.array([p.reference for p in pairs], dtype=object)
    as_declared = _metric([geo[k] for k in keys])[which]
    as_offset = _metric(pcrs.offset_to_canonical([geo[k] for k in keys], system))[which]
    d_declared = shapely.distance(as_declared, references)
    d_offset = shapely.distance(as_offset, references)
    same_place = np.minimum(d_declared, d_offset) <= MAX_PAIR_M
    if not same_place.any():
        return None
    med_declared = float(np.median(d_declared[same_place]))
    med_offset = float(np.median(d_offset[same_place]))
    if med_offset >= MAX_RATIO * med_declared:
        return None
    kept = np.flatnonzero(same_place)
    east, north = np.median(_shifts(as_declared[kept], references[kept]), axis=0)
    # the pairs the offset reading explains best
    best = kept[np.argsort(d_offset[kept] - d_declared[kept], kind="stable")[:EXAMPLES]]
    examples = "; ".join(
        f"{pairs[i].feature}: {d_declared[i]:.0f} m from {pairs[i].name} in {pairs[i].reference_layer}, "
        f"{d_offset[i]:.0f} m read as {system}"
        for i in best
    )
    message = (
        f"these points look like {system} declared as {declared}: as declared they sit a median "
        f"{med_declared:.0f} m from {len(kept)} same-named place(s) the atlas already holds (median shift "
        f"{np.hypot(east, north):.0f} m toward the {_direction(east, north)}), read as {system} {med_offset:.0f} m "
        f'({examples}); declare crs = "{system}" in the layer\'s [geometry] if the coordinates come from a '
        "Chinese web map"
    )
    return Problem(message, file=spec.geometry.source, layer=spec.name, field="geometry")


def _pairs(
    mine: gpd.GeoDataFrame, spec: LayerSpec, built: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]
) -> list[_Pair]:
    """Each (located point, reference feature) sharing a name, the reference in the metric CRS."""
    references: dict[str, list[tuple[str, shapely.Geometry]]] = {}
    for name, frame in built.items():
        if name == spec.name or not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None or frame.empty:
            continue
        usable = ~(frame.geometry.isna() | frame.geometry.is_empty)
        if "precision" in frame.columns:
            usable &= frame["precision"].isin(REFERENCE_PRECISION)
        ref = frame.loc[usable]
        metric = pcrs.metric_geometries(ref, name=name)
        for names, geom in zip(_names(ref), metric, strict=True):
            for text in names:
                references.setdefault(text, []).append((name, geom))
    pairs: list[_Pair] = []
    for key, names in zip(mine[spec.key].astype(str), _names(mine), strict=True):
        seen: set[int] = set()
        for text in sorted(names):
            for layer, geom in references.get(text, []):
                if id(geom) not in seen:
                    seen.add(id(geom))
                    pairs.append(_Pair(feature=key, name=text, reference_layer=layer, reference=geom))
    return pairs


def _names(frame: pd.DataFrame) -> list[set[str]]:
    """Every name each feature goes by: its name columns, each alias without its ``@line`` suffix."""
    found: list[set[str]] = [set() for _ in range(len(frame))]
    for column in NAME_COLUMNS:
        if column not in frame.columns:
            continue
        for i, value in enumerate(frame[column].tolist()):
            if isinstance(value, str):
                found[i].update(_split_names(value) if column == "aliases" else [value.strip()])
    return [{n for n in names if len(n) >= MIN_NAME_LENGTH} for names in found]


def _split_names(value: str) -> Iterable[str]:
    return (part.split("@", 1)[0].strip() for part in value.split(";"))


def _metric(geoms: Sequence[shapely.Geometry] | NDArray[np.object_]) -> NDArray[np.object_]:
    return pcrs.metric_geometries(gpd.GeoSeries(list(geoms), crs=pcrs.STORAGE_CRS))


def _shifts(points: NDArray[np.object_], references: NDArray[np.object_]) -> NDArray[np.float64]:
    """East and north metres from the nearest point of each reference to its point."""
    lines = shapely.shortest_line(references, points)
    ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    return np.asarray(ends[:, 1] - ends[:, 0], dtype="float64")


def _direction(east: float, north: float) -> str:
    sector = int(np.round(np.degrees(np.arctan2(north, east)) / 45.0)) % len(_COMPASS)
    return _COMPASS[sector]
