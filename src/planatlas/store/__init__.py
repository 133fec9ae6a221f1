"""Atlas stores: the ``LayerStore`` contract, the embedded GeoPackage default and PostGIS, and ``open_store``."""

from __future__ import annotations

from planatlas.settings import Settings, get_settings
from planatlas.store.base import LayerStore, SpatialQueries
from planatlas.store.gpkg import GeoPackageStore

__all__ = ["GeoPackageStore", "LayerStore", "SpatialQueries", "open_store"]


def open_store(settings: Settings | None = None, *, url: str | None = None) -> LayerStore:
    """The store the settings point at: PostGIS when a database URL is set, else the GeoPackage."""
    if settings is None:
        settings = get_settings()
    url = url or settings.database_url
    if url:
        # sqlalchemy, geoalchemy2 and psycopg are loaded only when a database is used.
        from planatlas.store.postgis import PostGISStore  # noqa: PLC0415 - heavy, needed only with a database URL

        return PostGISStore(url)
    return GeoPackageStore(settings.atlas_path, tiled_above=settings.tiled_above)
