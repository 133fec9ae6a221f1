"""What a build-time derivation sees and what it is: :class:`DeriveContext` and the :class:`Derivation` signature."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import geopandas as gpd

from planatlas.errors import CatalogError

if TYPE_CHECKING:
    import pandas as pd

    from planatlas.catalog import LayerSpec


@dataclass
class DeriveContext:
    """What a derivation may see: the geodata dir, the spec, the layers already built, its side inputs.

    ``inputs`` holds the files the derivation's declared side-input params name, read and checked
    by the build (:mod:`planatlas.derive.inputs`); a derivation never opens a file itself.
    """

    geodata_dir: Path
    spec: LayerSpec
    built: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict)
    inputs: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    def layer(self, name: str) -> gpd.GeoDataFrame:
        if name not in self.built:
            msg = f"layer {self.spec.name!r} needs layer {name!r}; add it to 'depends' in {self.spec.path}"
            raise CatalogError(msg)
        return self.built[name]

    def input(self, param: str) -> pd.DataFrame:
        """The side input the param ``param`` names (a GeoDataFrame in EPSG:4490 for geometry files)."""
        if param not in self.inputs:
            msg = f"layer {self.spec.name!r}: params.{param} was not read; declare it as a side input of the derivation"
            raise CatalogError(msg)
        return self.inputs[param]

    def geometry_input(self, param: str) -> gpd.GeoDataFrame:
        """The side-input geometry file the param ``param`` names, in EPSG:4490."""
        frame = self.input(param)
        if not isinstance(frame, gpd.GeoDataFrame):
            msg = f"layer {self.spec.name!r}: params.{param} names a table, not a geometry file"
            raise CatalogError(msg)
        return frame


class Derivation(Protocol):
    """A derivation: the layer's geometry source (EPSG:4490) or ``None``, the context and the spec's params."""

    def __call__(
        self, source: gpd.GeoDataFrame | None, /, *, ctx: DeriveContext, params: dict[str, Any]
    ) -> gpd.GeoDataFrame: ...
