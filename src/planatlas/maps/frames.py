"""Prepare what each preset layer draws: filters, count joins, metric rings, simplification (pure).

``prepare_preset_data(data)`` takes the :class:`~planatlas.maps.load.PresetData` that
:func:`~planatlas.maps.load.load_preset` read (frames and resolved parameters), applies filters,
count joins, metric buffers and display simplification and resolves each layer's style against
the rows actually drawn, returning :class:`PreparedLayer` s bottom to top, all in EPSG:4490. Both
the interactive map and the static export draw from these, so the two always agree on what is
shown and in which colour. Nothing here reads the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planatlas.crs import METRIC_CRS, STORAGE_CRS
from planatlas.maps.classify import norm_value
from planatlas.maps.load import PresetData
from planatlas.maps.presets import Filter, Param, Preset, PresetLayer
from planatlas.maps.resolve import ResolvedStyle, resolve_style


@dataclass(frozen=True)
class PreparedLayer:
    """A preset layer with its drawn rows (EPSG:4490) and its resolved style."""

    layer: PresetLayer
    frame: gpd.GeoDataFrame
    resolved: ResolvedStyle
    #: Number of drawn features per precision class.
    precision: Mapping[str, int]
    #: Catalogue key column of the drawn rows.
    key: str | None = None

    @property
    def schematic(self) -> bool:
        """Whether any drawn feature is schematic (renderers must say so)."""
        return self.precision.get("schematic", 0) > 0

    @property
    def official(self) -> bool:
        """Whether drawn features carry official geometry an import put in place of the plan's (not schematic then)."""
        column = self.frame.get("official_source")
        return column is not None and bool(column.notna().any())

    def label_column(self, lang: str) -> str | None:
        """The label column for ``lang`` (English names where the data has them)."""
        pl = self.layer
        if lang == "en" and pl.label_en and pl.label_en in self.frame:
            return pl.label_en
        return pl.label if pl.label and pl.label in self.frame else None


def apply_filter(frame: pd.DataFrame, flt: Filter, params: Mapping[str, object] | None = None) -> pd.DataFrame:
    """Rows of ``frame`` where the filter holds; a missing column or parameter is an error naming it."""
    value: object = flt.value
    if isinstance(value, Param):
        if not params or value.name not in params:
            msg = f"filter on {flt.column!r} needs parameter {value.name!r}"
            raise KeyError(msg)
        value = params[value.name]
    if flt.column not in frame:
        have = ", ".join(map(str, frame.columns))
        msg = f"filter column {flt.column!r} is not in the data (columns: {have})"
        raise KeyError(msg)
    col = frame[flt.column]
    op = flt.op
    if op == "notnull":
        mask = col.notna() & (col.astype(str) != "")
    elif op in ("==", "!="):
        eq = col.map(norm_value) == norm_value(value)
        mask = eq if op == "==" else ~eq
    elif op in ("in", "not in"):
        if not isinstance(value, Iterable) or isinstance(value, str):
            msg = f"filter {flt.column!r} {op} should compare with a list of values, got {value!r}"
            raise TypeError(msg)
        isin = col.map(norm_value).isin({norm_value(v) for v in value})
        mask = isin if op == "in" else ~isin
    else:
        if not isinstance(value, (Real, str)):
            msg = f"filter {flt.column!r} {op} should compare with a number, got {value!r}"
            raise TypeError(msg)
        nums = pd.to_numeric(col, errors="coerce")
        v = float(value)
        mask = {"<": nums < v, "<=": nums <= v, ">": nums > v, ">=": nums >= v}[op]
    return frame[mask.to_numpy(dtype=bool)]


def add_count(frame: pd.DataFrame, table: pd.DataFrame, *, on: str, table_on: str, column: str) -> pd.DataFrame:
    """Copy of ``frame`` with ``column`` = number of ``table`` rows whose ``table_on`` is ``on``."""
    for name, df, col in (("layer", frame, on), ("count table", table, table_on)):
        if col not in df:
            msg = f"{name} has no column {col!r} to count on"
            raise KeyError(msg)
    counts = table[table_on].map(norm_value).value_counts()
    out = frame.copy()
    out[column] = out[on].map(norm_value).map(counts).fillna(0).astype(int)
    return out


def _simplify(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Simplify in metres; polygon layers keep shared edges shared (coverage simplification)."""
    if len(gdf) == 0:
        return gdf
    metric = gdf.to_crs(METRIC_CRS)
    geoms = metric.geometry.values
    types = set(metric.geom_type.unique())
    if types <= {"Polygon", "MultiPolygon"}:
        try:
            simplified = shapely.coverage_simplify(np.asarray(geoms), tolerance_m)
        except shapely.errors.GEOSException:  # not a valid coverage: simplify each on its own
            simplified = shapely.simplify(np.asarray(geoms), tolerance_m, preserve_topology=True)
    elif types <= {"Point", "MultiPoint"}:
        return gdf
    else:
        simplified = shapely.simplify(np.asarray(geoms), tolerance_m, preserve_topology=True)
    out = metric.copy()
    out["geometry"] = simplified
    return out.to_crs(STORAGE_CRS)


def prepare_layer(
    pl: PresetLayer,
    frames: Mapping[str, pd.DataFrame],
    *,
    params: Mapping[str, object] | None = None,
    simplify: bool = True,
    key: str | None = None,
) -> PreparedLayer:
    """Filter, join, buffer and simplify one preset layer's data; resolve its style.

    Raises
    ------
    KeyError
        If the layer's catalogue layer was not loaded, or a filter needs a missing column or parameter.
    TypeError
        If the catalogue layer has no geometry.
    ValueError
        If the frame has no CRS.
    """
    if pl.layer not in frames:
        msg = f"preset layer {pl.id!r} needs catalogue layer {pl.layer!r}, which was not loaded"
        raise KeyError(msg)
    frame = frames[pl.layer]
    if not isinstance(frame, gpd.GeoDataFrame):
        msg = f"catalogue layer {pl.layer!r} has no geometry and cannot be drawn by {pl.id!r}"
        raise TypeError(msg)
    if frame.crs is None:
        msg = f"layer {pl.layer!r} has no CRS; expected {STORAGE_CRS}"
        raise ValueError(msg)
    if not frame.crs.equals(STORAGE_CRS):
        frame = frame.to_crs(STORAGE_CRS)
    for flt in pl.filters:
        frame = apply_filter(frame, flt, params)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if pl.count is not None:
        frame = add_count(
            frame,
            frames[pl.count.table],
            on=pl.count.on,
            table_on=pl.count.table_on,
            column=pl.count.column,
        )
    if pl.buffer_m:
        metric = gpd.GeoDataFrame(frame).to_crs(METRIC_CRS)
        metric["geometry"] = metric.geometry.buffer(pl.buffer_m, quad_segs=16)
        frame = metric.to_crs(STORAGE_CRS)
    elif simplify and pl.simplify_m:
        frame = _simplify(frame, pl.simplify_m)
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=STORAGE_CRS)
    resolved = resolve_style(pl.style, frame)
    counts = frame["precision"].value_counts() if "precision" in frame else {}
    precision = {str(k): int(v) for k, v in counts.items()}
    return PreparedLayer(layer=pl, frame=frame, resolved=resolved, precision=precision, key=key)


def prepare_preset_data(data: PresetData, *, simplify: bool = True) -> list[PreparedLayer]:
    """Every layer of ``data.preset`` prepared from ``data.frames`` with ``data.params``, bottom to top.

    ``data.keys`` gives each layer's key column; the interactive map uses it to identify clicked
    features. Simplification (``simplify``) is for display; leave it on unless measuring.
    """
    return [
        prepare_layer(pl, data.frames, params=data.params, simplify=simplify, key=data.keys.get(pl.layer))
        for pl in data.preset.layers
        if not (pl.context and pl.layer not in data.frames)
    ]


def prepare_preset(
    preset: Preset,
    frames: Mapping[str, pd.DataFrame],
    *,
    params: Mapping[str, object] | None = None,
    simplify: bool = True,
    keys: Mapping[str, str] | None = None,
) -> list[PreparedLayer]:
    """:func:`prepare_preset_data` for frames at hand (tests, benchmarks): parameters default per the preset."""
    data = PresetData.from_frames(preset, frames, params=params, keys=keys)
    return prepare_preset_data(data, simplify=simplify)


def prepared_bounds(
    layers: Sequence[PreparedLayer], ids: tuple[str, ...] = ()
) -> tuple[float, float, float, float] | None:
    """(minx, miny, maxx, maxy) of the named layers (all when ``ids`` is empty); None if empty."""
    chosen = [p for p in layers if not ids or p.layer.id in ids]
    boxes = [p.frame.total_bounds for p in chosen if len(p.frame)]
    if not boxes and ids:
        boxes = [p.frame.total_bounds for p in layers if len(p.frame)]
    if not boxes:
        return None
    arr = np.vstack(boxes)
    return (
        float(arr[:, 0].min()),
        float(arr[:, 1].min()),
        float(arr[:, 2].max()),
        float(arr[:, 3].max()),
    )
