"""pyogrio reads of one vector file: the layer to read chosen (every KML folder), bad geometries located by feature."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import NDArray

from planatlas.errors import SourceError
from planatlas.io.geometry import wkb_problems

#: Formats whose layers are folders of one dataset (read together), not separate datasets (one must be named).
_FOLDER_FORMATS = {".kml"}
_READ_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)


def read_vector(path: Path, *, encoding: str | None, layer: str | None, key: str | None) -> gpd.GeoDataFrame:
    """The features of ``path`` in the CRS the file records, every geometry built or located as bad.

    A file with several layers must name the one to read (``layer``), except a KML, whose folders
    are read one after the other (GDAL would read the first folder only, losing the rest silently).

    Raises
    ------
    SourceError
        The file cannot be read, holds several layers and none is named, or has geometries GEOS
        cannot build (one problem per feature, by ``key`` where the file has it, else ``#n``).
    """
    name = path.name
    if path.suffix.lower() == ".kml" and b"<NetworkLink" in path.read_bytes():
        # GDAL reads only the file: the features behind the link would be missing without a word
        msg = "holds a <NetworkLink>, whose features are not read; put them in the file (or export it with them)"
        raise SourceError(msg, file=name)
    layers = _layer_names(path)
    listing = ", ".join(repr(n) for n in layers) or "none"
    if layer is not None:
        if layer not in layers:
            msg = f"has no layer {layer!r}; its layers are {listing}"
            raise SourceError(msg, file=name)
        return _read_layer(path, layer=layer, encoding=encoding, key=key)
    if len(layers) <= 1:
        return _read_layer(path, layer=layers[0] if layers else None, encoding=encoding, key=key)
    if path.suffix.lower() not in _FOLDER_FORMATS:
        msg = f'holds {len(layers)} layers ({listing}); name the one to read (layer = "…" in the layer\'s [geometry]; validate --layer)'
        raise SourceError(msg, file=name)
    frames = [_read_layer(path, layer=folder, encoding=encoding, key=key, prefix=f"{folder} ") for folder in layers]
    kept = [f for f in frames if len(f)]
    if not kept:
        return frames[0]
    return gpd.GeoDataFrame(pd.concat(kept, ignore_index=True), geometry="geometry", crs=kept[0].crs)


def _layer_names(path: Path) -> list[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a listing's GDAL warnings come back when the layer is read
            listed = pyogrio.list_layers(path)
    except _READ_ERRORS as exc:
        msg = f"cannot be read as a vector file: {exc}"
        raise SourceError(msg, file=path.name) from exc
    return [str(row[0]) for row in listed]


def _read_layer(
    path: Path, *, layer: str | None, encoding: str | None, key: str | None, prefix: str = ""
) -> gpd.GeoDataFrame:
    name = path.name
    kwargs: dict[str, Any] = {}
    if layer is not None:
        kwargs["layer"] = layer
    if encoding is not None:
        kwargs["encoding"] = encoding
    # GDAL's warnings about a feature (an unclosed ring …) are kept until we know whether the read
    # fails with a located problem, which says the same thing better; otherwise they are passed on.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pyogrio.read_dataframe(path, **kwargs)
        except shapely.errors.GEOSException as exc:
            blobs, keys = _raw_geometries(path, kwargs, key=key)
            problems = wkb_problems(blobs, file=name, keys=keys, prefix=prefix)
            if problems:
                raise SourceError(problems) from exc
            msg = f"a geometry cannot be built: {exc}"
            raise SourceError(msg, file=name) from exc
        except _READ_ERRORS as exc:
            msg = f"cannot be read as a vector file: {exc}"
            raise SourceError(msg, file=name) from exc
        except UnicodeDecodeError as exc:
            msg = f"attribute text is not in encoding {encoding}: {exc}"
            raise SourceError(msg, file=name) from exc
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if not isinstance(frame, gpd.GeoDataFrame):  # an attribute table: GDAL reads it without a geometry column
        where = f"layer {layer!r}" if layer is not None else "the file"
        msg = f"{where} has no geometry column (an attribute table); a geometry source needs geometries"
        raise SourceError(msg, file=name)
    return frame


def _raw_geometries(
    path: Path, kwargs: dict[str, Any], *, key: str | None
) -> tuple[NDArray[np.object_], NDArray[np.object_] | None]:
    """The file's geometries as WKB and its ``key`` values, read again without building any geometry."""
    meta, _fids, blobs, fields = pyogrio.raw.read(path, **kwargs)
    columns = dict(zip(meta["fields"], fields, strict=True))
    return blobs, columns.get(key) if key is not None else None
