"""Build-time geometry derivations: named functions that compute a layer's geometry.

A derivation is listed by name in :data:`DERIVATIONS` and named in a layer's ``[geometry] derive``.
It receives the layer's geometry source (already converted to EPSG:4490, or ``None``), a
:class:`DeriveContext` giving the layers built before it, and the spec's ``params``; it returns a
GeoDataFrame in EPSG:4490 holding the key column, the geometry and any geometry-side fields
(``precision`` …). It reports bad input by raising :class:`planatlas.errors.ValidationError`
with located :class:`planatlas.errors.Problem` records.
"""

from __future__ import annotations

from collections.abc import Mapping

from planatlas.derive import common, jiuwang, xihu
from planatlas.derive.context import Derivation, DeriveContext
from planatlas.errors import CatalogError

#: Every derivation a layer spec may name, registered here explicitly.
DERIVATIONS: Mapping[str, Derivation] = {
    "place_in_street": common.place_in_street,
    "cnmaps_district": xihu.cnmaps_district,
    "street_partition": xihu.street_partition,
    "zones_from_streets": xihu.zones_from_streets,
    "metro_lines_from_stations": xihu.metro_lines_from_stations,
    "solve_jiuwang_roads": jiuwang.solve_jiuwang_roads,
    "derive_jiuwang_areas": jiuwang.derive_jiuwang_areas,
    "place_jiuwang_projects": jiuwang.place_jiuwang_projects,
}


def get_derivation(name: str) -> Derivation:
    """The derivation a layer spec names; a :class:`CatalogError` listing the known ones otherwise."""
    try:
        return DERIVATIONS[name]
    except KeyError:
        msg = f"unknown derivation {name!r}; known: {', '.join(sorted(DERIVATIONS))}"
        raise CatalogError(msg) from None


__all__ = ["DERIVATIONS", "Derivation", "DeriveContext", "get_derivation"]
