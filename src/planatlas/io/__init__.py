"""Files in and out: readers for geometry sources and plan-attribute tables, and the one writer of output files.

:mod:`.readers` is the public entry for reading (:mod:`.vector`, :mod:`.shapefile`, :mod:`.geojson` and
:mod:`.geometry` are its private checks); :mod:`.writers` writes layers, query results, reports and the
data card atomically (page and HTML exports go through :mod:`planatlas.render.write`, which uses it).

Every reader returns a GeoDataFrame in the canonical CRS (EPSG:4490) after an explicit
conversion from the CRS the caller declares, and rejects files whose coordinates cannot be what
was declared (outside China, lat/lon swapped, metres declared as degrees).
"""

from planatlas.io.readers import SourceOptions, read_source
from planatlas.io.tables import read_table

__all__ = ["SourceOptions", "read_source", "read_table"]
