"""Readers for geometry sources and plan-attribute tables; one public entry point each.

Every reader returns a GeoDataFrame in the canonical CRS (EPSG:4490) after an explicit
conversion from the CRS the caller declares, and rejects files whose coordinates cannot be what
was declared (outside China, lat/lon swapped, metres declared as degrees).
"""

from planatlas.io.readers import SourceOptions, read_source
from planatlas.io.tables import read_table

__all__ = ["SourceOptions", "read_source", "read_table"]
