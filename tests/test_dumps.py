"""Honest dumps: named for the layer, with a caveat, group figures once, real geometry types."""

from __future__ import annotations

import json
import sqlite3

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from conftest import GEODATA
from planatlas.catalog import load_catalog
from planatlas.dumps import PLAN_TITLES, prepare_dump, rings_to_points, split_group_figures, write_dump


@pytest.fixture(scope="module")
def roads(bundled_atlas):
    return bundled_atlas.read("jiuwang_roads"), bundled_atlas.spec("jiuwang_roads")


def test_group_figures_leave_the_features_once_per_group():
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "start_year": [2021, 2021, 2022],
            "plan_year_km": [40.04, 40.04, 8.93],
            "plan_year_note": ["x", "y", "z"],  # differs inside a year: a feature's own value, kept
            "plan_all_km": [61.01, 61.01, 61.01],
        }
    )
    features, figures = split_group_figures(frame)
    assert list(features.columns) == ["id", "start_year", "plan_year_note"]
    assert figures is not None
    assert figures.to_dict("records") == [
        {"scope": "start_year=2021", "km": 40.04},
        {"scope": "start_year=2022", "km": 8.93},
        {"scope": "all", "km": 61.01},
    ]
    plain = pd.DataFrame({"id": ["a"], "plan_text": ["…"]})
    assert split_group_figures(plain) == (plain, None)


def test_a_closed_ring_of_a_line_layer_is_written_as_its_centre():
    ring = shapely.Point(0, 0).buffer(150, quad_segs=16).exterior
    frame = gpd.GeoDataFrame(
        {"id": ["road", "node"], "measured_length_m": [1200.0, 942.0]},
        geometry=[shapely.LineString([(0, 0), (1000, 0)]), shapely.LineString(ring.coords)],
        crs=4548,
    )
    out, n = rings_to_points(frame)
    assert n == 1
    assert list(out.geometry.geom_type) == ["LineString", "Point"]
    assert out.geometry.iloc[1].distance(shapely.Point(0, 0)) < 1e-6
    assert out["measured_length_m"].iloc[0] == 1200.0 and pd.isna(out["measured_length_m"].iloc[1])


def test_geojson_dump_is_named_cautioned_and_sums_nothing_twice(roads, tmp_path):
    frame, spec = roads
    path = tmp_path / "roads.geojson"
    write_dump(prepare_dump(frame, spec), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["name"] == "jiuwang_roads"  # not the temporary file's name
    caveat = data["description"]
    assert "Precision: 23 schematic" in caveat and "not surveyed" in caveat
    assert PLAN_TITLES["001_d4b95dcfe9f62ad4.txt"] in caveat and "Licence:" in caveat
    props = data["features"][0]["properties"]
    assert not [k for k in props if k.startswith(("plan_year_", "plan_all_"))]
    figures = {row["scope"]: row for row in data["plan_figures"]}
    assert figures["all"]["length_km"] == 61.01
    # the per-year lengths are there once each: they add up to the three-year total
    years = [row["length_km"] for scope, row in figures.items() if scope.startswith("start_year=")]
    assert round(sum(years), 2) == 61.01
    # the interchange is the junction point, not a 942 m ring line
    types = {f["properties"]["class"]: f["geometry"]["type"] for f in data["features"]}
    assert types["互通立交"] == "Point"
    assert {t for c, t in types.items() if c != "互通立交"} == {"LineString"}


def test_gpkg_dump_holds_the_layer_and_its_figures_table(roads, tmp_path):
    frame, spec = roads
    path = tmp_path / "roads.gpkg"
    write_dump(prepare_dump(frame, spec), path)
    assert [name for name, _ in pyogrio.list_layers(path)] == ["jiuwang_roads", "jiuwang_roads_plan_figures"]
    with sqlite3.connect(path) as con:
        desc = dict(con.execute("SELECT table_name, description FROM gpkg_contents").fetchall())
    assert "Precision: 23 schematic" in desc["jiuwang_roads"]
    figures = pyogrio.read_dataframe(path, layer="jiuwang_roads_plan_figures")
    assert len(figures) == 4 and set(figures["scope"]) >= {"all", "start_year=2021"}


def test_metro_dump_credits_the_dataset_and_states_uncertainty(bundled_atlas, tmp_path):
    spec = load_catalog(GEODATA)["metro_stations"]
    dump = prepare_dump(bundled_atlas.read("metro_stations"), spec)
    assert dump.figures is None
    assert "(±100 m)" in dump.caveat and "1 unlocated" in dump.caveat
    assert "East Asian metro dataset" in dump.caveat and "CC BY 4.0" in dump.caveat
    path = tmp_path / "stations.geojson"
    write_dump(dump, path)
    assert json.loads(path.read_text(encoding="utf-8"))["name"] == "metro_stations"


def test_cli_dump_names_the_collection_and_adds_the_caveat(run, mini_geodata, tmp_path):
    assert run("build", "--source", str(mini_geodata)).exit_code == 0
    out = tmp_path / "sites.geojson"
    result = run("dump", "sites", "-o", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["name"] == "sites" and data["description"].startswith("planatlas ")
    assert "plan_figures" not in data  # the mini layer has no group figures


def test_the_apps_geojson_download_is_the_honest_dump(roads):
    from planatlas.ui.data import layer_geojson

    frame, spec = roads
    data = json.loads(layer_geojson(frame, spec))
    assert data["name"] == "jiuwang_roads" and "Precision: 23 schematic" in data["description"]
    assert len(data["plan_figures"]) == 4 and len(data["features"]) == 23
    assert not [k for k in data["features"][0]["properties"] if k.startswith("plan_year_")]
