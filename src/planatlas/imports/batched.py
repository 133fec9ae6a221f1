"""Large files read in batches (pyogrio's Arrow stream), with progress: a bureau's million footprints.

Used for GeoPackages, File Geodatabases and shapefiles above :data:`BATCH_ABOVE_BYTES`; smaller files
and the other formats go through :func:`planatlas.io.read_source`, which locates every bad geometry.
The same coordinate checks apply (:func:`planatlas.io.readers.to_canonical`): declared or recorded CRS,
inside China, lat/lon not swapped.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from planatlas.errors import SourceError
from planatlas.io.files import checked_size
from planatlas.io.geometry import nonfinite_problems
from planatlas.io.readers import to_canonical

#: Files larger than this are read in batches (smaller ones are read whole, with located geometry problems).
BATCH_ABOVE_BYTES = 64 * 1024 * 1024
#: Features per batch.
BATCH_SIZE = 100_000
_FORMATS = (".gpkg", ".gdb", ".shp")


def wants_batches(path: Path) -> bool:
    """Whether ``path`` is a large file of a format read in batches."""
    if path.suffix.lower() not in _FORMATS:
        return False
    size = sum(p.stat().st_size for p in path.iterdir()) if path.is_dir() else path.stat().st_size
    return size > BATCH_ABOVE_BYTES


def read_batched(
    path: Path,
    *,
    crs: str | None,
    layer: str | None,
    encoding: str | None,
    max_bytes: int,
    cap_setting: str,
    progress: Callable[[str], None] | None = None,
) -> gpd.GeoDataFrame:
    """Read ``path`` batch by batch into one frame in EPSG:4490, telling ``progress`` how far it got.

    Raises
    ------
    SourceError
        The file is above the cap, cannot be read, or its coordinates are not what is declared.
    """
    name = path.name
    checked_size(path, max_bytes=max_bytes, setting=cap_setting)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = pyogrio.read_info(path, layer=layer, encoding=encoding)
            total = int(info.get("features") or 0)
            frames = []
            done = 0
            with pyogrio.open_arrow(path, layer=layer, encoding=encoding, batch_size=BATCH_SIZE, use_pyarrow=True) as (
                meta,
                reader,
            ):
                geometry_column = meta.get("geometry_name") or "wkb_geometry"
                for batch in reader:
                    table = batch.to_pandas()
                    wkb = table.pop(geometry_column) if geometry_column in table else table.pop(table.columns[-1])
                    geoms = shapely.from_wkb(wkb.to_numpy(), on_invalid="raise")
                    frames.append(gpd.GeoDataFrame(table, geometry=geoms, crs=meta.get("crs")))
                    done += len(table)
                    if progress:
                        progress(f"read {done}/{total or '?'} features of {name}")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        msg = f"cannot be read as a vector file: {exc}"
        raise SourceError(msg, file=name) from exc
    except shapely.errors.GEOSException as exc:
        msg = f"a geometry cannot be built ({exc}); import a smaller extract to see which feature"
        raise SourceError(msg, file=name) from exc
    if not frames or not sum(len(f) for f in frames):
        msg = "the file holds no features"
        raise SourceError(msg, file=name)
    frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs)
    empty = frame.geometry.isna() | frame.geometry.is_empty
    if empty.any():
        rows = ", ".join(str(i + 1) for i in empty.to_numpy().nonzero()[0][:10])
        msg = f"features without geometry (rows {rows})"
        raise SourceError(msg, file=name)
    problems = nonfinite_problems(frame.geometry.to_numpy(), file=name, keys=None)
    if problems:
        raise SourceError(problems)
    return to_canonical(frame, declared=crs, file_crs=frame.crs, file=name)
