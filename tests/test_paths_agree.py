"""Every path that answers ``within`` gives the same answer at 10k features: the GeoPackage R-tree read
with a GEOS tree (a CLI call), the cached ``ProximityIndex`` (the app), PostGIS pushed down, brute force."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planatlas.crs import metric_geometries
from planatlas.query import QueryRequest, run_query
from planatlas.store.gpkg import GeoPackageStore
from test_postgis import generated_atlas

N = 10_000
DISTANCE = 600.0


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, gpd.GeoDataFrame], dict, Path]:
    layers, meta = generated_atlas(seed=3, n=N)
    path = tmp_path_factory.mktemp("agree") / "atlas.gpkg"
    GeoPackageStore(path).write(layers, meta)
    return layers, meta, path


def brute_pairs(layers: dict[str, gpd.GeoDataFrame], station_ids: list[str]) -> set[tuple[str, str]]:
    """Every (building, station) pair within DISTANCE, by GEOS distance over all combinations."""
    b, s = layers["buildings"], layers["metro_stations"]
    s = s[s["station_id"].isin(station_ids)]
    bg, sg = metric_geometries(b), metric_geometries(s)
    d = shapely.distance(bg[:, None], sg[None, :])
    bi, si = np.nonzero(d <= DISTANCE)
    return set(zip(b["building_id"].to_numpy()[bi], s["station_id"].to_numpy()[si], strict=True))


SELECTIONS = {
    "one": {"station_id": "s03"},
    "set": {"station_id": ["s01", "s07", "s10"]},
    "all": {},
}


@pytest.mark.parametrize("selection", list(SELECTIONS))
def test_rtree_read_tree_index_and_cached_index_agree_with_brute_force(generated, selection: str) -> None:
    layers, _, path = generated
    where = SELECTIONS[selection]
    store = GeoPackageStore(path)
    ids = layers["metro_stations"]["station_id"].tolist()
    chosen = (
        ids if not where else ([where["station_id"]] if isinstance(where["station_id"], str) else where["station_id"])
    )
    expected = brute_pairs(layers, chosen)
    assert len(expected) > 50  # the fixture puts buildings near every selection

    pairs_rq = QueryRequest(
        kind="within", layer="buildings", of="metro_stations", where=where, distance=DISTANCE, pairs=True
    )
    once = run_query(store, pairs_rq).frame
    cached = run_query(store, pairs_rq, cache={}).frame
    for frame in (once, cached):
        assert set(zip(frame["building_id"], frame["ref_key"], strict=True)) == expected

    rq = QueryRequest(kind="within", layer="buildings", of="metro_stations", where=where, distance=DISTANCE)
    once_f = run_query(store, rq).frame
    cached_f = run_query(store, rq, cache={}).frame
    assert once_f["building_id"].tolist() == cached_f["building_id"].tolist()  # same rows, same order
    assert once_f["nearest_key"].tolist() == cached_f["nearest_key"].tolist()
    assert once_f["within_count"].tolist() == cached_f["within_count"].tolist()
    np.testing.assert_allclose(once_f["distance_m"], cached_f["distance_m"], rtol=0, atol=1e-6)
    pd.testing.assert_frame_equal(
        once_f.drop(columns=["distance_m", "geometry"]), cached_f.drop(columns=["distance_m", "geometry"])
    )
    assert shapely.equals_exact(once_f.geometry.values, cached_f.geometry.values, tolerance=0).all()


def test_one_station_reads_only_candidates_from_the_rtree(generated) -> None:
    layers, _, path = generated
    store = GeoPackageStore(path)
    station = layers["metro_stations"].iloc[[3]]
    near = store.read_near("buildings", metric_geometries(station), DISTANCE)
    assert 0 < len(near) < N / 5  # the bounded read happened, not a whole-layer read
    # A superset of the answer, in layer order.
    keys = near["building_id"].tolist()
    assert keys == sorted(keys)
    expected = {b for b, _ in brute_pairs(layers, ["s03"])}
    assert expected <= set(keys)


def test_all_stations_fall_back_to_one_whole_layer_read(generated) -> None:
    layers, _, path = generated
    store = GeoPackageStore(path)
    near = store.read_near("buildings", metric_geometries(layers["metro_stations"]), DISTANCE)
    assert len(near) == N


def test_a_reference_far_from_every_feature_reads_nothing(generated) -> None:
    _, _, path = generated
    store = GeoPackageStore(path)
    far = gpd.GeoSeries([shapely.Point(400_000, 3_000_000)], crs="EPSG:4548")
    near = store.read_near("buildings", np.asarray(far.values), DISTANCE)
    assert len(near) == 0
    assert list(near.columns) == list(store.read("buildings").columns)


@pytest.mark.postgis
def test_postgis_pushdown_agrees_with_the_rtree_path(generated, postgis_url) -> None:
    from planatlas.store.postgis import PostGISStore

    layers, meta, path = generated
    pg = PostGISStore(postgis_url, schema="agree10k")
    try:
        pg.write(layers, meta)
        for where in SELECTIONS.values():
            rq = QueryRequest(kind="within", layer="buildings", of="metro_stations", where=where, distance=DISTANCE)
            # Row order is by distance on both; equal distances come in fetch order on PostGIS.
            ours = run_query(GeoPackageStore(path), rq).frame.sort_values("building_id", ignore_index=True)
            pushed = run_query(pg, rq).frame.sort_values("building_id", ignore_index=True)
            assert len(ours) > 50
            assert ours["building_id"].tolist() == pushed["building_id"].tolist()
            assert ours["nearest_key"].tolist() == pushed["nearest_key"].tolist()
            assert ours["within_count"].tolist() == pushed["within_count"].tolist()
            np.testing.assert_allclose(ours["distance_m"], pushed["distance_m"], rtol=0, atol=1e-6)
    finally:
        pg.dispose()
