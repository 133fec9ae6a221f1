"""Vector tiles straight from PostGIS: ``ST_AsMVT`` of one z/x/y tile of a catalogue layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from planatlas.store.base import check_columns
from planatlas.store.postgis.sql import quote
from planatlas.tiles.build import THIN_FACTOR, TILE_MAX_ZOOM

if TYPE_CHECKING:
    from planatlas.store.postgis.queries import PostGISStore

#: MVT extent (tile units per side) and the buffer around a tile, as tippecanoe writes them.
EXTENT, BUFFER = 4096, 64
#: From this zoom on every feature is in its tiles.
FULL_ZOOM = TILE_MAX_ZOOM


def mvt_tile(store: PostGISStore, layer: str, z: int, x: int, y: int, columns: Sequence[str]) -> bytes:
    """The MVT tile ``z/x/y`` of ``layer`` with ``columns`` as attributes (empty bytes: no feature).

    The tile's envelope is carried to EPSG:4490 for the GiST index on ``geom`` (Web Mercator keeps
    meridians and parallels straight, so the envelope stays a box); features are clipped and
    quantised by ``ST_AsMVTGeom`` in EPSG:3857. Layer and column names come from the catalogue
    (checked, quoted); z/x/y and the layer name inside the tile are bound values.
    """
    spec = store.spec(layer)
    check_columns(spec, list(columns), "tile attributes")
    attrs = "".join(f", t.{quote(c)}" for c in columns)
    # Below the deepest zoom a tile would hold a whole district: keep a deterministic sample of one
    # feature in THIN_FACTOR^(FULL_ZOOM - z) (by a hash of the key), as a thinned overview.
    keep = THIN_FACTOR ** max(FULL_ZOOM - z, 0)
    sql = (
        "WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env) "  # noqa: S608 - catalogue identifiers, quoted
        f"SELECT ST_AsMVT(q, %(name)s, {EXTENT}, 'mvt_geom') FROM ("
        f"SELECT ST_AsMVTGeom(ST_Transform(t.geom, 3857), b.env, {EXTENT}, {BUFFER}, true) AS mvt_geom{attrs} "
        f"FROM {store._table(layer)} t, b WHERE t.geom && ST_Transform(b.env, 4490)"
        f" AND mod(abs(hashtext(t.{quote(spec.key)}::text)), %(keep)s) = 0"
        ") q WHERE q.mvt_geom IS NOT NULL"
    )
    _, rows = store._fetch(sql, {"z": z, "x": x, "y": y, "name": layer, "keep": keep})
    return bytes(rows[0][0]) if rows and rows[0][0] is not None else b""
