"""The embedded default store: one GeoPackage, read and written with pyogrio."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from numpy.typing import NDArray

from planatlas.catalog import LayerSpec
from planatlas.errors import AtlasNotBuiltError, AtlasUnreadableError
from planatlas.io.writers import WRITE_ERRORS, file_mode, new_temp_file_beside, write_failure
from planatlas.store.base import (
    BBox,
    Columns,
    LayerFrame,
    LayerStore,
    ParsedSpecs,
    Where,
    cast_to_spec,
    check_columns,
    filter_equal,
)
from planatlas.store.gpkg_rtree import candidate_fids, fids_with_value, reach_boxes

METADATA_TABLE = "planatlas_metadata"
#: Suffix of the temporary GeoPackage a write builds beside the atlas (``.<atlas name>.<random>.tmp.gpkg``).
TEMP_SUFFIX = ".tmp.gpkg"
#: A bounded read picks features by id while they are at most this share of the layer (then one
#: sequential Arrow read of the whole layer is cheaper: measured 66k of 200k by id 0.39 s, all 0.29 s).
NEAR_SHARE = 0.2
#: What GDAL raises on a file that is not a readable GeoPackage (every pyogrio error derives from one).
_UNREADABLE = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)


class GeoPackageStore(LayerStore):
    """An atlas in a single GeoPackage file (opens in QGIS and ``ogrinfo``).

    Layers are GeoPackage feature tables named after the catalogue layers; attribute-only layers
    are GeoPackage attribute tables; ``planatlas_metadata`` holds the build metadata as JSON.
    """

    def __init__(self, path: str | Path, *, tiled_above: int | None = 5000) -> None:
        given = Path(path)
        # An atlas reached through a symbolic link (shared storage) is written where the link points:
        # renaming the new atlas over the link would replace the link and leave the shared atlas stale.
        self.path = given.resolve() if given.is_symlink() else given
        self._meta_cache: tuple[float, dict[str, Any]] | None = None
        self._specs = ParsedSpecs()
        #: Geometry layers with more features get vector tiles when written (None: never); setting ``tiled_above``.
        self.tiled_above = tiled_above

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.is_file()

    def dispose(self) -> None:
        """Nothing to release: every read opens and closes the file."""

    def _require(self) -> None:
        if not self.exists():
            msg = f"no atlas at {self.path}; run 'planatlas build' first"
            raise AtlasNotBuiltError(msg)

    def _unreadable(self, what: str) -> AtlasUnreadableError:
        msg = (
            f"the atlas {self.path} cannot be read ({what}): it is damaged or not a planatlas GeoPackage; "
            "it was left as it is. Rebuild it with 'planatlas build' (add --source DIR for an atlas built "
            "from your own geodata)"
        )
        return AtlasUnreadableError(msg)

    def metadata(self) -> dict[str, Any]:
        self._require()
        mtime = self.path.stat().st_mtime
        if self._meta_cache and self._meta_cache[0] == mtime:
            return self._meta_cache[1]
        try:
            table = pyogrio.read_dataframe(self.path, layer=METADATA_TABLE, read_geometry=False)
            meta: dict[str, Any] = json.loads(table.loc[table["key"] == "atlas", "value"].iloc[0])
        except (*_UNREADABLE, KeyError, IndexError, ValueError) as exc:  # ValueError: JSON
            what = f"no readable {METADATA_TABLE} table"
            raise self._unreadable(what) from exc
        self._meta_cache = (mtime, meta)
        return meta

    def layers(self) -> list[str]:
        return list(self.metadata()["layers"])

    def spec(self, name: str) -> LayerSpec:
        return self._specs.get(self.cache_key(), self.metadata(), name)

    def read(
        self, name: str, *, bbox: BBox | None = None, where: Where | None = None, columns: Columns | None = None
    ) -> LayerFrame:
        spec = self.spec(name)  # also rejects names not in the catalogue
        if columns is not None:
            check_columns(spec, columns, "columns")
        if where:
            check_columns(spec, list(where), "filter fields")
        wanted = None
        if columns is not None:
            wanted = list(dict.fromkeys([*columns, *(where or {})]))
            wanted = [c for c in wanted if c != "geometry"]
        kwargs: dict[str, Any] = {"layer": name, "columns": wanted}
        if spec.has_geometry and bbox is not None:
            kwargs["bbox"] = tuple(float(v) for v in bbox)
        frame = self._read_frame(name, spec, kwargs)
        if where:
            frame = filter_equal(frame, where)
        if columns is not None:
            keep = [c for c in columns if c != "geometry"]
            frame = frame[[*keep, "geometry"]] if spec.has_geometry else frame[keep]
        return frame.reset_index(drop=True)

    def _read_frame(self, name: str, spec: LayerSpec, kwargs: dict[str, Any]) -> LayerFrame:
        """One pyogrio read (through Arrow unless features are picked by id), cast to the catalogue's types."""
        try:
            frame = pyogrio.read_dataframe(
                self.path, read_geometry=spec.has_geometry, use_arrow="fids" not in kwargs, **kwargs
            )
        except _UNREADABLE as exc:
            what = f"layer {name!r} is unreadable"
            raise self._unreadable(what) from exc
        return cast_to_spec(frame, spec)

    def read_near(self, name: str, reference: NDArray[np.object_], distance: float) -> LayerFrame:
        """Features of ``name`` whose R-tree box meets a reference's reach (see :mod:`.gpkg_rtree`), in
        layer order; the whole layer when more than :data:`NEAR_SHARE` of it are candidates."""
        spec = self.spec(name)
        if not spec.has_geometry:
            return self.read(name)
        try:
            total = int(pyogrio.read_info(self.path, layer=name)["features"])
        except _UNREADABLE as exc:
            what = f"layer {name!r} is unreadable"
            raise self._unreadable(what) from exc
        fids = candidate_fids(self.path, name, reach_boxes(reference, distance), limit=int(NEAR_SHARE * total))
        if fids is None:
            return self.read(name)
        if not len(fids):
            return self._read_frame(name, spec, {"layer": name, "max_features": 1}).iloc[:0]
        return self._read_frame(name, spec, {"layer": name, "fids": fids}).reset_index(drop=True)

    def _write_tiles(
        self, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], metadata: Mapping[str, Any]
    ) -> set[Path]:
        """Vector tiles of the large geometry layers, named by the new atlas version (readers of the
        current atlas keep theirs); skipped where tippecanoe is not installed (the map then says so)."""
        # Imported here: planatlas.tiles reads stores, and only atlases with large layers need it.
        from planatlas.catalog import parse_layer_spec  # noqa: PLC0415
        from planatlas.tiles.build import (  # noqa: PLC0415
            build_layer_tiles,
            tile_columns,
            tiles_path,
            tippecanoe_available,
        )

        if self.tiled_above is None or not tippecanoe_available():
            return set()
        written = set()
        version = str(metadata.get("built_at"))
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame) and len(frame) > self.tiled_above:
                spec = parse_layer_spec(metadata["layers"][name]["spec"], where=f"atlas layer {name}")
                out = tiles_path(self.path, name, version)
                written.add(build_layer_tiles(frame, out, layer=name, attributes=tile_columns(spec)))
        return written

    def _drop_stale_tiles(self, *, keep: set[Path]) -> None:
        """Remove tiles of earlier atlas versions (nothing serves them any more)."""
        from planatlas.tiles.build import tiles_dir  # noqa: PLC0415

        folder = tiles_dir(self.path)
        if folder.is_dir():
            for old in folder.glob("*.pmtiles"):
                if old not in keep:
                    old.unlink(missing_ok=True)

    def read_key(self, name: str, value: str) -> LayerFrame:
        """The features of ``name`` whose key equals ``value``, found through SQLite (the value is
        bound) and read by id: a click on a layer of a million features reads one row, not the layer."""
        spec = self.spec(name)
        self._require()
        try:
            fids = fids_with_value(self.path, name, spec.key, value)
        except sqlite3.DatabaseError as exc:
            what = f"layer {name!r} is unreadable"
            raise self._unreadable(what) from exc
        if not len(fids):
            return self._read_frame(name, spec, {"layer": name, "max_features": 1}).iloc[:0]
        frame = self._read_frame(name, spec, {"layer": name, "fids": fids})
        return filter_equal(frame, {spec.key: value}).reset_index(drop=True)

    def write(self, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], metadata: Mapping[str, Any]) -> None:
        """Write every layer into a temporary GeoPackage beside the target, then rename it over."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = new_temp_file_beside(self.path, TEMP_SUFFIX)
        mode = file_mode(fd)  # a plain file's mode here; SQLite would create the GeoPackage 0644
        os.close(fd)
        tmp.unlink()
        try:
            for i, (name, frame) in enumerate(layers.items()):
                # GeoPackage 1.3 rather than GDAL's newest 1.4: QGIS and older GDALs open it warning-free.
                opts: dict[str, Any] = {"dataset_options": {"VERSION": "1.3"}} if i == 0 else {}
                if isinstance(frame, gpd.GeoDataFrame):
                    spec_type = metadata["layers"][name]["geometry_type"]
                    pyogrio.write_dataframe(
                        frame,
                        tmp,
                        layer=name,
                        driver="GPKG",
                        geometry_type=spec_type,
                        promote_to_multi=spec_type.startswith("Multi"),
                        **opts,
                    )
                else:
                    pyogrio.write_dataframe(pd.DataFrame(frame), tmp, layer=name, driver="GPKG", **opts)
            meta = pd.DataFrame({"key": ["atlas"], "value": [json.dumps(metadata, ensure_ascii=False)]})
            meta_opts = {} if layers else {"dataset_options": {"VERSION": "1.3"}}
            pyogrio.write_dataframe(meta, tmp, layer=METADATA_TABLE, driver="GPKG", **meta_opts)
            with tmp.open("rb+") as fh:
                os.fsync(fh.fileno())
            tmp.chmod(mode)
            tiles = self._write_tiles(layers, metadata)
            tmp.replace(self.path)
            self._drop_stale_tiles(keep=tiles)
        except WRITE_ERRORS as exc:  # a full disk, no permission: name the atlas, keep the previous one
            raise write_failure(self.path, exc) from exc
        finally:
            if tmp.exists():
                tmp.unlink()
        self._meta_cache = None
