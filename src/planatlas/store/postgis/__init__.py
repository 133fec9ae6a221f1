"""The PostGIS store (GeoAlchemy2, psycopg): layer tables, atomic loading, spatial queries pushed down to SQL.

Modules: :mod:`~planatlas.store.postgis.sql` (identifiers, quoting, URL, value conversions),
:mod:`~planatlas.store.postgis.load` (the atlas loaded in one transaction),
:mod:`~planatlas.store.postgis.tables` (connections, metadata, reading; the ``LayerStore`` part) and
:mod:`~planatlas.store.postgis.queries` (:class:`PostGISStore`, the ``SpatialQueries`` part). SQL
lives only here; identifiers come only from the catalogue and are checked and quoted; every value is
a bound parameter.
"""

from planatlas.store.postgis.queries import PostGISStore
from planatlas.store.postgis.sql import normalize_url

__all__ = ["PostGISStore", "normalize_url"]
