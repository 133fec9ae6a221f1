"""Build-time geometry derivations: named functions that compute a layer's geometry.

A derivation is listed by name in :data:`DERIVATIONS` and named in a layer's ``[geometry] derive``.
Each is registered with a :class:`DerivationSpec` declaring its params (typed, ranged), its side
inputs and what its geometry source must hold; the build checks all of them
(:mod:`planatlas.derive.inputs`) before the derivation runs.
It receives the layer's geometry source (already converted to EPSG:4490, or ``None``), a
:class:`DeriveContext` giving the layers built before it and its side inputs, and the spec's ``params``; it returns a
GeoDataFrame in EPSG:4490 holding the key column, the geometry and any geometry-side fields
(``precision`` …). It reports bad input by raising :class:`planatlas.errors.ValidationError`
with located :class:`planatlas.errors.Problem` records.
"""

from __future__ import annotations

from collections.abc import Mapping

from planatlas.derive import common, jiuwang, jiuwang_areas, xihu
from planatlas.derive.context import Derivation, DeriveContext
from planatlas.derive.schema import DerivationSpec
from planatlas.errors import CatalogError

#: Every derivation a layer spec may name, with its declaration, registered here explicitly.
DERIVATIONS: Mapping[str, DerivationSpec] = {
    "place_in_street": common.PLACE_IN_STREET,
    "cnmaps_district": xihu.CNMAPS_DISTRICT,
    "street_partition": xihu.STREET_PARTITION,
    "zones_from_streets": xihu.ZONES_FROM_STREETS,
    "metro_lines_from_stations": xihu.METRO_LINES_FROM_STATIONS,
    "solve_jiuwang_roads": jiuwang.SOLVE_JIUWANG_ROADS,
    "derive_jiuwang_areas": jiuwang_areas.DERIVE_JIUWANG_AREAS,
    "place_jiuwang_projects": jiuwang_areas.PLACE_JIUWANG_PROJECTS,
}


def get_derivation(name: str) -> DerivationSpec:
    """The derivation a layer spec names, with its declaration; a :class:`CatalogError` listing the known ones otherwise."""
    try:
        return DERIVATIONS[name]
    except KeyError:
        msg = f"unknown derivation {name!r}; known: {', '.join(sorted(DERIVATIONS))}"
        raise CatalogError(msg) from None


__all__ = ["DERIVATIONS", "Derivation", "DerivationSpec", "DeriveContext", "get_derivation"]
