"""The embedded default store: one GeoPackage, read and written with pyogrio."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from planatlas.catalog import LayerSpec
from planatlas.errors import AtlasDamagedError, AtlasNotBuiltError, PlanAtlasError
from planatlas.store.base import BBox, cast_to_spec, check_columns, filter_equal, spec_from_metadata

METADATA_TABLE = "planatlas_metadata"
#: What GDAL raises on a file that is not a readable GeoPackage (every pyogrio error derives from one).
_UNREADABLE = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)


class GeoPackageStore:
    """An atlas in a single GeoPackage file (opens in QGIS and ``ogrinfo``).

    Layers are GeoPackage feature tables named after the catalogue layers; attribute-only layers
    are GeoPackage attribute tables; ``planatlas_metadata`` holds the build metadata as JSON.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._meta_cache: tuple[float, dict[str, Any]] | None = None

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    def cache_key(self) -> str:
        """A key for what this atlas holds: where it is and when it was built (a rebuild changes it)."""
        try:
            built = self.metadata().get("built_at")
        except PlanAtlasError:
            built = None
        return f"{self!r}@{built}"

    def exists(self) -> bool:
        return self.path.is_file()

    def _require(self) -> None:
        if not self.exists():
            msg = f"no atlas at {self.path}; run 'planatlas build' first"
            raise AtlasNotBuiltError(msg)

    def _damaged(self, what: str) -> AtlasDamagedError:
        msg = (
            f"the atlas {self.path} is damaged or not a planatlas GeoPackage ({what}); "
            "rebuild it with 'planatlas build' (add --source DIR for an atlas built from your own geodata)"
        )
        return AtlasDamagedError(msg)

    def metadata(self) -> dict[str, Any]:
        self._require()
        mtime = self.path.stat().st_mtime
        if self._meta_cache and self._meta_cache[0] == mtime:
            return self._meta_cache[1]
        try:
            table = pyogrio.read_dataframe(self.path, layer=METADATA_TABLE, read_geometry=False)
            meta = json.loads(table.loc[table["key"] == "atlas", "value"].iloc[0])
        except (*_UNREADABLE, KeyError, IndexError, ValueError) as exc:  # ValueError: JSON
            what = f"no readable {METADATA_TABLE} table"
            raise self._damaged(what) from exc
        self._meta_cache = (mtime, meta)
        return meta

    def layers(self) -> list[str]:
        return list(self.metadata()["layers"])

    def spec(self, name: str) -> LayerSpec:
        return spec_from_metadata(self.metadata(), name)

    def read(
        self,
        name: str,
        *,
        bbox: BBox | None = None,
        where: Mapping[str, Any] | None = None,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
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
        try:
            frame = pyogrio.read_dataframe(self.path, read_geometry=spec.has_geometry, **kwargs)
        except _UNREADABLE as exc:
            what = f"layer {name!r} cannot be read"
            raise self._damaged(what) from exc
        frame = cast_to_spec(frame, spec)
        if where:
            frame = filter_equal(frame, where)
        if columns is not None:
            keep = [c for c in columns if c != "geometry"]
            frame = frame[[*keep, "geometry"]] if spec.has_geometry else frame[keep]
        return frame.reset_index(drop=True)

    def write(self, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], metadata: Mapping[str, Any]) -> None:
        """Write every layer into a temporary GeoPackage beside the target, then rename it over."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp.gpkg")
        os.close(fd)
        tmp = Path(tmp_name)
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
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            if tmp.exists():
                tmp.unlink()
        self._meta_cache = None
