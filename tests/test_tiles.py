"""Vector tiles of a large layer: built with the GeoPackage atlas, served by the tile server, cut by PostGIS."""

from __future__ import annotations

import gzip
import json
import math
import urllib.error
import urllib.request
from pathlib import Path

import mapbox_vector_tile as mvt
import numpy as np
import pytest
import shapely

from planatlas.store.gpkg import GeoPackageStore
from planatlas.tiles.build import THIN_FACTOR, TILE_MAX_ZOOM, overview_min_zooms, tiles_dir
from planatlas.tiles.server import TileServer
from test_postgis import generated_atlas

N = 6000  # above the default tiled_above (5000): the buildings get tiles, the stations do not


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture(scope="module")
def tiled(tmp_path_factory: pytest.TempPathFactory):
    layers, meta = generated_atlas(seed=5, n=N)
    path = tmp_path_factory.mktemp("tiles") / "atlas.gpkg"
    store = GeoPackageStore(path)
    store.write(layers, meta)
    server = TileServer(store).start()
    yield layers, store, server
    server.close()


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - a loopback URL of the test's server
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_only_the_large_layer_gets_tiles_named_by_the_atlas_version(tiled) -> None:
    _, store, _ = tiled
    files = sorted(p.name for p in tiles_dir(store.path).iterdir())
    assert len(files) == 1 and files[0].startswith("buildings-") and files[0].endswith(".pmtiles")


def test_a_deepest_tile_holds_every_feature_that_meets_it(tiled) -> None:
    layers, _, server = tiled
    buildings = layers["buildings"]
    centre = buildings.geometry.union_all().centroid
    x, y = _tile_of(centre.x, centre.y, TILE_MAX_ZOOM)
    status, headers, data = _get(server.tile_url("buildings").format(z=TILE_MAX_ZOOM, x=x, y=y))
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "immutable" in headers["Cache-Control"]
    raw = gzip.decompress(data) if headers.get("Content-Encoding") == "gzip" else data
    keys = {f["properties"]["building_id"] for f in mvt.decode(raw)["buildings"]["features"]}
    # The tile's lon/lat box, shrunk by a little so features on its edge need not be in it.
    n = 2**TILE_MAX_ZOOM
    west, east = x / n * 360 - 180, (x + 1) / n * 360 - 180
    north = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    south = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 1) / n))))
    inner = shapely.box(west + 1e-5, south + 1e-5, east - 1e-5, north - 1e-5)
    expected = set(buildings.loc[buildings.intersects(inner), "building_id"])
    assert len(expected) > 20
    assert expected <= keys


def test_the_overview_keeps_one_feature_in_thin_factor_per_zoom_step() -> None:
    zooms = overview_min_zooms(400_000, min_zoom=10, max_zoom=14)
    assert zooms.min() == 10 and zooms.max() == 14
    share_13 = float(np.mean(zooms <= 13))
    assert abs(share_13 - 1 / THIN_FACTOR) < 0.005
    share_12 = float(np.mean(zooms <= 12))
    assert abs(share_12 - 1 / THIN_FACTOR**2) < 0.002
    assert (
        overview_min_zooms(1000, min_zoom=10, max_zoom=14) == overview_min_zooms(1000, min_zoom=10, max_zoom=14)
    ).all()


def test_feature_details_by_key_and_refusals(tiled) -> None:
    layers, _, server = tiled
    key = layers["buildings"]["building_id"].iloc[7]
    status, _, data = _get(server.feature_url("buildings") + key)
    assert status == 200
    body = json.loads(data)
    assert body["properties"]["building_id"] == key
    assert body["properties"]["floors"] == str(layers["buildings"]["floors"].iloc[7])
    # A value is bound, never spliced into SQL: quotes find nothing.
    assert _get(server.feature_url("buildings") + "b%27%20OR%20%271%27%3D%271")[0] == 404
    assert _get(server.url + "/feature/no_such_layer/x")[0] == 404
    stale = server.tile_url("buildings").split("/tiles/")[1].split("/")[0]
    assert _get(server.url + "/tiles/000000000000/buildings/14/1/1.pbf")[0] == 404
    assert _get(server.url + f"/tiles/{stale}/buildings/3/99/1.pbf")[0] == 404  # x outside zoom 3
    assert _get(server.url + "/anything")[0] == 404


def test_a_key_is_read_by_id_not_with_the_whole_layer(tiled) -> None:
    layers, store, _ = tiled
    key = layers["buildings"]["building_id"].iloc[42]
    row = store.read_key("buildings", key)
    assert row["building_id"].tolist() == [key]
    assert row.geometry.iloc[0].equals_exact(layers["buildings"].geometry.iloc[42], 1e-9)
    assert len(store.read_key("buildings", "b' OR '1'='1")) == 0


def test_a_rebuild_serves_new_tiles_and_drops_the_old(tiled, tmp_path: Path) -> None:
    layers, meta = generated_atlas(seed=6, n=N)
    path = tmp_path / "atlas.gpkg"
    store = GeoPackageStore(path)
    store.write(layers, meta)
    first = {p.name for p in tiles_dir(path).iterdir()}
    meta = {**meta, "built_at": "generated-6-again"}
    store.write(layers, meta)
    second = {p.name for p in tiles_dir(path).iterdir()}
    assert len(first) == len(second) == 1 and first != second


@pytest.mark.postgis
def test_postgis_cuts_the_same_features_into_a_tile(tiled, postgis_url) -> None:
    from planatlas.store.postgis import PostGISStore
    from planatlas.tiles.source import PostGISTileSource

    layers, store, server = tiled
    pg = PostGISStore(postgis_url, schema="tiles6k")
    try:
        pg.write(layers, store.metadata())
        centre = layers["buildings"].geometry.union_all().centroid
        x, y = _tile_of(centre.x, centre.y, TILE_MAX_ZOOM)
        tile = PostGISTileSource(pg).tile("buildings", TILE_MAX_ZOOM, x, y)
        assert tile is not None and not tile.gzipped
        pg_keys = {f["properties"]["building_id"] for f in mvt.decode(tile.data)["buildings"]["features"]}
        _, headers, data = _get(server.tile_url("buildings").format(z=TILE_MAX_ZOOM, x=x, y=y))
        raw = gzip.decompress(data) if headers.get("Content-Encoding") == "gzip" else data
        gpkg_keys = {f["properties"]["building_id"] for f in mvt.decode(raw)["buildings"]["features"]}
        assert len(pg_keys) > 20
        # Both clip with a buffer; the features whose shapes lie inside the tile are in both.
        assert len(pg_keys & gpkg_keys) >= 0.9 * min(len(pg_keys), len(gpkg_keys))
        assert PostGISTileSource(pg).tile("buildings", 5, 0, 0) is None  # below the overview zooms
    finally:
        pg.dispose()
