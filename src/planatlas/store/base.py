"""The ``LayerStore`` interface every atlas backend implements, and helpers they share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import geopandas as gpd
import pandas as pd

from planatlas.catalog import PROVENANCE_FIELDS, LayerSpec, parse_layer_spec
from planatlas.errors import LayerNotFoundError

BBox = tuple[float, float, float, float]


@runtime_checkable
class LayerStore(Protocol):
    """An atlas: validated, joined layers in EPSG:4490 plus the build metadata."""

    def cache_key(self) -> str:
        """A key that changes whenever the atlas content changes (location + build time); caches use it."""

    def exists(self) -> bool:
        """Whether an atlas has been written here."""

    def layers(self) -> list[str]:
        """Layer names, in build order."""

    def metadata(self) -> dict[str, Any]:
        """Build metadata: version, build time, per-layer titles, counts, bboxes, sources, specs, report."""

    def spec(self, name: str) -> LayerSpec:
        """The catalogue entry the layer was built from."""

    def read(
        self,
        name: str,
        *,
        bbox: BBox | None = None,
        where: Mapping[str, Any] | None = None,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        """Read a layer (EPSG:4490), optionally clipped to a lon/lat bbox and filtered by equality."""

    def write(self, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], metadata: Mapping[str, Any]) -> None:
        """Replace the whole atlas atomically: readers see the old atlas or the new one, never a mix."""


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
    unknown = [n for n in names if n not in allowed]
    if unknown:
        msg = f"{what} {unknown} not in layer {spec.name!r}; its fields are {sorted(spec.fields)}"
        raise LayerNotFoundError(msg)


def filter_equal(frame: pd.DataFrame, where: Mapping[str, Any]) -> pd.DataFrame:
    """Rows whose columns equal the given values (a list/tuple/set value means "any of")."""
    mask = pd.Series(True, index=frame.index)
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
