"""Atlas stores: the ``LayerStore`` interface, the embedded GeoPackage default and PostGIS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from planatlas.store.base import LayerStore
from planatlas.store.gpkg import GeoPackageStore

if TYPE_CHECKING:
    from planatlas.settings import Settings

__all__ = ["GeoPackageStore", "LayerStore", "open_store"]


def open_store(settings: Settings | None = None, *, url: str | None = None) -> LayerStore:
    """The store the settings point at: PostGIS when a database URL is set, else the GeoPackage."""
    if settings is None:
        from planatlas.settings import get_settings

        settings = get_settings()
    url = url or settings.database_url
    if url:
        from planatlas.store.postgis import PostGISStore

        return PostGISStore(url)
    return GeoPackageStore(settings.atlas_path)
