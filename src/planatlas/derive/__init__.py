"""Build-time geometry derivations: named functions that compute a layer's geometry.

A derivation is registered with :func:`derivation` and named in a layer's ``[geometry] derive``.
It receives the layer's geometry source (already converted to EPSG:4490, or ``None``), a
:class:`DeriveContext` giving the layers built before it, and the spec's ``params``; it returns a
GeoDataFrame in EPSG:4490 holding the key column, the geometry and any geometry-side fields
(``precision`` …). It reports bad input by raising :class:`planatlas.errors.ValidationError`
with located :class:`planatlas.errors.Problem` records.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

from planatlas.errors import CatalogError
from planatlas.io import SourceOptions, read_source

if TYPE_CHECKING:
    import geopandas as gpd

    from planatlas.catalog import LayerSpec

Derivation = Callable[..., "gpd.GeoDataFrame"]
_REGISTRY: dict[str, Derivation] = {}


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


def derivation(name: str) -> Callable[[Derivation], Derivation]:
    """Register ``func`` as the derivation called ``name``."""

    def register(func: Derivation) -> Derivation:
        _REGISTRY[name] = func
        return func

    return register


def get_derivation(name: str) -> Derivation:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")
    try:
        return _REGISTRY[name]
    except KeyError:
        msg = f"unknown derivation {name!r}; known: {', '.join(sorted(_REGISTRY))}"
        raise CatalogError(msg) from None
