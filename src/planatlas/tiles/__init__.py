"""Vector tiles of large layers: built with the atlas, served on localhost by the app process, drawn by Leaflet.

- :mod:`~planatlas.tiles.build`: a layer → a PMTiles archive of MVT tiles (tippecanoe), beside the
  GeoPackage atlas, named by the atlas version so a rebuild never serves stale tiles;
- :mod:`~planatlas.tiles.source`: where a tile comes from: the PMTiles archive, or PostGIS
  (``ST_AsMVT`` per tile, bound z/x/y, identifiers from the catalogue);
- :mod:`~planatlas.tiles.server`: a small HTTP server in the app process (``/tiles/…``, ``/feature/…``).
"""

from planatlas.tiles.build import TILE_MAX_ZOOM, TILE_MIN_ZOOM, TILED_ABOVE, build_layer_tiles, tiles_dir
from planatlas.tiles.source import PMTilesSource, PostGISTileSource, TileSource, tile_source

__all__ = [
    "TILED_ABOVE",
    "TILE_MAX_ZOOM",
    "TILE_MIN_ZOOM",
    "PMTilesSource",
    "PostGISTileSource",
    "TileSource",
    "build_layer_tiles",
    "tile_source",
    "tiles_dir",
]
