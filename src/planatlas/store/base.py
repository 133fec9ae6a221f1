"""The store contract (``LayerStore``, ``SpatialQueries``) and the helpers the store backends share.

``LayerStore`` is what every atlas backend implements; ``SpatialQueries`` is a store that also answers
the spatial queries itself (PostGIS), which :func:`planatlas.query.run_query` hands them to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeAlias, runtime_checkable

import geopandas as gpd
import pandas as pd

from planatlas.catalog import PLACE_FIELDS, PROVENANCE_FIELDS, LayerSpec, parse_layer_spec
from planatlas.errors import LayerNotFoundError, PlanAtlasError

BBox = tuple[float, float, float, float]
#: Equality filters: column → value, or → a list/tuple/set of values meaning "any of".
Where: TypeAlias = Mapping[str, Any]
#: Columns to read (identifiers from the catalogue only).
Columns: TypeAlias = Sequence[str]
#: A layer as read: a GeoDataFrame in EPSG:4490, or a DataFrame for attribute-only layers.
LayerFrame: TypeAlias = gpd.GeoDataFrame | pd.DataFrame


@runtime_checkable
class LayerStore(Protocol):
    """An atlas: validated, joined layers in EPSG:4490 plus the build metadata."""

    def cache_key(self) -> str:
        """A key that changes whenever the atlas content changes (location + build time); caches use it.

        Stores that subclass ``LayerStore`` inherit this one: where the atlas is (the store's repr)
        and when it was built (a rebuild changes it).
        """
        try:
            built = self.metadata().get("built_at")
        except PlanAtlasError:
            built = None
        return f"{self!r}@{built}"

    def exists(self) -> bool:
        """Whether an atlas has been written here."""

    def layers(self) -> list[str]:
        """Layer names, in build order."""

    def metadata(self) -> dict[str, Any]:
        """Build metadata: version, build time, per-layer titles, counts, bboxes, sources, specs, report."""

    def spec(self, name: str) -> LayerSpec:
        """The catalogue entry the layer was built from."""

    def read(
        self, name: str, *, bbox: BBox | None = None, where: Where | None = None, columns: Columns | None = None
    ) -> LayerFrame:
        """Read a layer (EPSG:4490), optionally clipped to a lon/lat bbox and filtered by equality."""

    def write(self, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], metadata: Mapping[str, Any]) -> None:
        """Replace the whole atlas atomically: readers see the old atlas or the new one, never a mix."""

    def dispose(self) -> None:
        """Release what the store holds open (connections); it stays usable and reopens on demand."""


@runtime_checkable
class SpatialQueries(LayerStore, Protocol):
    """A store that answers the spatial queries itself (pushed down), with the semantics and output
    columns of the pure functions in :mod:`planatlas.query`.

    Layers are named as in the catalogue; ``where`` selects features of the reference or zone layer
    by equality (a list/tuple/set value means "any of"); ``columns`` limits the target columns
    returned (``[]``: the key only, without geometry).
    """

    def within_distance(
        self,
        target: str,
        reference: str,
        *,
        distance: str | float,
        where: Where | None = None,
        pairs: bool = False,
        distances: bool = True,
        columns: Columns | None = None,
    ) -> LayerFrame:
        """Features of ``target`` within ``distance`` of the selected ``reference`` features."""

    def nearest(
        self,
        target: str,
        reference: str,
        *,
        where: Where | None = None,
        max_distance: str | float | None = None,
        columns: Columns | None = None,
    ) -> LayerFrame:
        """Each ``target`` feature's nearest selected ``reference`` feature and the distance to it."""

    def inside(
        self, target: str, zones: str, *, where: Where | None = None, columns: Columns | None = None
    ) -> LayerFrame:
        """Features of ``target`` covered by (boundary included) at least one selected zone."""

    def intersects(
        self, target: str, zones: str, *, where: Where | None = None, columns: Columns | None = None
    ) -> LayerFrame:
        """Features of ``target`` sharing at least one point with a selected zone."""

    def summarize(self, target: str, zones: str, *, value: str | None = None, where: Where | None = None) -> LayerFrame:
        """Count (and sum of ``value``) of ``target`` features per zone, one zone per feature."""

    def coverage(
        self,
        target: str,
        reference: str,
        zones: str,
        *,
        distance: str | float,
        weight: str | None = None,
        where: Where | None = None,
        zone_where: Where | None = None,
    ) -> pd.DataFrame:
        """Share of ``target`` within ``distance`` of the selected references, per zone and overall."""


class ParsedSpecs:
    """Layer specs parsed once per atlas version: a rebuild changes the cache key and starts afresh."""

    def __init__(self) -> None:
        self._state: tuple[str | None, dict[str, LayerSpec]] = (None, {})

    def get(self, cache_key: str, metadata: Mapping[str, Any], name: str) -> LayerSpec:
        """The spec of layer ``name`` in ``metadata``, whose atlas has ``cache_key``."""
        key, specs = self._state
        if key != cache_key:
            specs = {}
            # One tuple swap: a reader on another thread sees the old pair or the new one.
            self._state = (cache_key, specs)
        spec = specs.get(name)
        if spec is None:
            spec = specs[name] = spec_from_metadata(metadata, name)
        return spec


def spec_from_metadata(metadata: Mapping[str, Any], name: str) -> LayerSpec:
    layers = metadata.get("layers", {})
    if name not in layers:
        known = ", ".join(layers) or "none (is the atlas built?)"
        msg = f"unknown layer {name!r}; the atlas has: {known}"
        raise LayerNotFoundError(msg)
    return parse_layer_spec(layers[name]["spec"], where=f"atlas layer {name}")


def check_columns(spec: LayerSpec, names: Sequence[str], what: str) -> None:
    """Reject column names that are not in the catalogue (identifiers come only from it)."""
    allowed = set(spec.fields) | {"geometry"}
    if spec.has_geometry:
        allowed |= set(PROVENANCE_FIELDS)  # every geometry layer carries them, declared or not
    if spec.geometry.places:
        allowed |= set(PLACE_FIELDS)  # taken from the gazetteer
    unknown = [n for n in names if n not in allowed]
    if unknown:
        msg = f"{what} {unknown} not in layer {spec.name!r}; its fields are {sorted(spec.fields)}"
        raise LayerNotFoundError(msg)


def filter_equal(frame: pd.DataFrame, where: Mapping[str, Any]) -> pd.DataFrame:
    """Rows whose columns equal the given values (a list/tuple/set value means "any of")."""
    mask = pd.Series(data=True, index=frame.index)
    for column, value in where.items():
        values = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
        col = frame[column]
        mask &= col.isin(values) | col.astype("string").isin([str(v) for v in values])
    return frame.loc[mask]


def cast_to_spec(frame: pd.DataFrame, spec: LayerSpec) -> pd.DataFrame:
    """Restore declared dtypes after a round trip through a store (nullable ints come back as floats)."""
    for name, field in spec.fields.items():
        if name not in frame.columns:
            continue
        if field.type == "int":
            frame[name] = pd.to_numeric(frame[name]).round().astype("Int64")
        elif field.type == "bool":
            frame[name] = frame[name].astype("boolean")
        elif field.type == "float":
            frame[name] = pd.to_numeric(frame[name]).astype("float64")
    return frame
