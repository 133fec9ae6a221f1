"""Where a vector tile comes from: the atlas's PMTiles archives (GeoPackage) or PostGIS (``ST_AsMVT``)."""

from __future__ import annotations

import mmap
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from planatlas.store.base import LayerStore, SpatialQueries
from planatlas.store.gpkg import GeoPackageStore
from planatlas.tiles.build import TILE_MAX_ZOOM, TILE_MIN_ZOOM, tile_columns, tiles_path

__all__ = ["PMTilesSource", "PostGISTileSource", "Tile", "TileSource", "tile_attributes", "tile_source"]


@dataclass(frozen=True)
class Tile:
    """One MVT tile as stored: ``data`` gzip-compressed when ``gzipped``."""

    data: bytes
    gzipped: bool


class TileSource(Protocol):
    """The tiles of an atlas's large layers, by z/x/y."""

    min_zoom: int
    max_zoom: int

    def has_tiles(self, layer: str) -> bool:
        """Whether ``layer`` can be drawn from this source's tiles."""

    def tile(self, layer: str, z: int, x: int, y: int) -> Tile | None:
        """The tile, or None where the layer has none (outside its zooms or extent)."""

    def close(self) -> None:
        """Release what the source holds (mapped files); it reopens on demand."""


def tile_attributes(store: LayerStore, layer: str) -> list[str]:
    """The attributes a tile carries (see :func:`planatlas.tiles.build.tile_columns`)."""
    return tile_columns(store.spec(layer))


class PMTilesSource:
    """The PMTiles archives built beside a GeoPackage atlas (:func:`planatlas.tiles.build.tiles_path`)."""

    def __init__(self, atlas: Path, version: str) -> None:
        self.atlas, self.version = atlas, version
        self.min_zoom, self.max_zoom = TILE_MIN_ZOOM, TILE_MAX_ZOOM
        self._readers: dict[str, Any] = {}
        self._maps: list[mmap.mmap] = []
        self._lock = threading.Lock()

    def path(self, layer: str) -> Path:
        return tiles_path(self.atlas, layer, self.version)

    def has_tiles(self, layer: str) -> bool:
        return self.path(layer).is_file()

    def _reader(self, layer: str) -> Any:  # noqa: ANN401 - pmtiles ships no types
        with self._lock:
            reader = self._readers.get(layer)
            if reader is None:
                from pmtiles.reader import Reader  # noqa: PLC0415 - optional dependency

                with self.path(layer).open("rb") as handle:  # the map stays valid once the file is closed
                    view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                self._maps.append(view)
                reader = self._readers[layer] = Reader(lambda offset, length: view[offset : offset + length])  # type: ignore[no-untyped-call]
            return reader

    def close(self) -> None:
        """Unmap the archives (a later tile maps them again)."""
        with self._lock:
            self._readers.clear()
            for view in self._maps:
                view.close()
            self._maps.clear()

    def tile(self, layer: str, z: int, x: int, y: int) -> Tile | None:
        if not self.has_tiles(layer):
            return None
        reader = self._reader(layer)
        data = reader.get(z, x, y)
        if data is None:
            return None
        gzipped = int(reader.header()["tile_compression"].value) == 2
        return Tile(bytes(data), gzipped)


class PostGISTileSource:
    """Tiles cut on request by PostGIS (``ST_AsMVT``) from the atlas tables: nothing to build."""

    def __init__(self, store: Any) -> None:  # noqa: ANN401 - a PostGISStore (imported lazily)
        self.store = store
        self.min_zoom, self.max_zoom = TILE_MIN_ZOOM, TILE_MAX_ZOOM

    def has_tiles(self, layer: str) -> bool:
        return self.store.spec(layer).has_geometry  # type: ignore[no-any-return]

    def close(self) -> None:
        """Nothing to release: the store keeps its connections."""

    def tile(self, layer: str, z: int, x: int, y: int) -> Tile | None:
        from planatlas.store.postgis.tiles import mvt_tile  # noqa: PLC0415 - needs the database stack

        if z < self.min_zoom:
            return None
        data = mvt_tile(self.store, layer, z, x, y, tile_attributes(self.store, layer))
        return Tile(data, gzipped=False)


def tile_source(store: LayerStore) -> TileSource:
    """The tile source of ``store``: PostGIS cuts tiles itself; a GeoPackage has its archives beside it."""
    if isinstance(store, SpatialQueries):
        return PostGISTileSource(store)
    if not isinstance(store, GeoPackageStore):
        msg = f"{store!r} keeps no vector tiles"
        raise TypeError(msg)
    return PMTilesSource(store.path, str(store.metadata().get("built_at")))
