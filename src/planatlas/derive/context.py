"""What a build-time derivation sees and what it is: :class:`DeriveContext` and the :class:`Derivation` signature."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Unpack

from planatlas.errors import CatalogError
from planatlas.io import SourceOptions, read_source

if TYPE_CHECKING:
    import geopandas as gpd

    from planatlas.catalog import LayerSpec


@dataclass
class DeriveContext:
    """What a derivation may see: the geodata dir, the spec, and the layers already built."""

    geodata_dir: Path
    spec: LayerSpec
    built: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict)

    def layer(self, name: str) -> gpd.GeoDataFrame:
        if name not in self.built:
            msg = f"layer {self.spec.name!r} needs layer {name!r}; add it to 'depends' in {self.spec.path}"
            raise CatalogError(msg)
        return self.built[name]

    def read(self, path: str, *, crs: str, **options: Unpack[SourceOptions]) -> gpd.GeoDataFrame:
        """Read an extra source file (relative to the geodata dir) into EPSG:4490."""
        return read_source(self.geodata_dir / path, crs=crs, **options)


class Derivation(Protocol):
    """A derivation: the layer's geometry source (EPSG:4490) or ``None``, the context and the spec's params."""

    def __call__(
        self, source: gpd.GeoDataFrame | None, /, *, ctx: DeriveContext, params: dict[str, Any]
    ) -> gpd.GeoDataFrame: ...
