"""Jiuwang New City: road projects solved between their termini, boundary, reconciliation, CLI."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from planatlas import crs as pcrs
from planatlas.derive.jiuwang import solve_road_projects
from planatlas.derive.jiuwang_areas import polygonise_bounded_area
from planatlas.errors import ValidationError
from planatlas.reconcile import TOTAL_LABEL, reconcile_jiuwang, reconcile_jiuwang_from_store

REPO = Path(__file__).resolve().parents[1]
GEODATA = REPO / "geodata"
SEED = GEODATA / "seeds" / "001_d4b95dcfe9f62ad4.txt"
JIUWANG_LAYERS = ("road_axes", "jiuwang_roads", "jiuwang_areas", "jiuwang_projects")


def _seed_lines() -> list[str]:
    return SEED.read_text(encoding="utf-8").splitlines()


def _copy_jiuwang_geodata(target: Path) -> Path:
    """The Jiuwang layers of the bundled geodata alone, so other layers' state cannot interfere."""
    for sub in ("layers", "sources", "attributes"):
        (target / sub).mkdir(parents=True)
    for name in JIUWANG_LAYERS:
        shutil.copy(GEODATA / "layers" / f"{name}.toml", target / "layers")
        for sub in ("sources", "attributes"):
            for path in (GEODATA / sub).glob(f"{name}*"):
                shutil.copy(path, target / sub)
    return target


@pytest.fixture(scope="module")
def jiuwang_store(tmp_path_factory: pytest.TempPathFactory):
    from planatlas.build import build_atlas
    from planatlas.store.gpkg import GeoPackageStore

    root = _copy_jiuwang_geodata(tmp_path_factory.mktemp("jiuwang") / "geodata")
    store = GeoPackageStore(root.parent / "atlas.gpkg")
    build_atlas(root, store)
    return store


@pytest.fixture(scope="module")
def roads(jiuwang_store) -> gpd.GeoDataFrame:
    return jiuwang_store.read("jiuwang_roads")


@pytest.fixture(scope="module")
def axes_metric(jiuwang_store) -> gpd.GeoDataFrame:
    return jiuwang_store.read("road_axes").to_crs(pcrs.METRIC_CRS)


# ---- the 23 projects -----------------------------------------------------------------------


def test_build_gives_23_projects_with_the_plans_class_and_year_split(roads):
    assert len(roads) == 23
    split = roads.groupby(["start_year", "class"]).size().to_dict()
    assert split == {
        (2021, "主干路"): 6,
        (2021, "次干路"): 3,
        (2021, "支路"): 5,
        (2022, "互通立交"): 1,
        (2022, "次干路"): 1,
        (2022, "支路"): 2,
        (2023, "主干路"): 1,
        (2023, "次干路"): 1,
        (2023, "支路"): 3,
    }
    assert set(roads["precision"]) == {"schematic"}


def test_project_names_and_termini_are_quoted_from_the_seed(roads):
    lines = _seed_lines()
    for _, r in roads.iterrows():
        first_line = int(str(r["source_lines"]).split(";")[0])
        assert r["plan_text"] in lines[first_line - 1], r["project_id"]
        if r["class"] != "互通立交":
            assert r["plan_text"].startswith(r["name"])
            assert f"{r['from_road']}-{r['to_road']}" in r["plan_text"]


def _axis(axes_metric: gpd.GeoDataFrame, name: str) -> shapely.Geometry:
    return axes_metric.loc[axes_metric["name"] == name].geometry.iloc[0]


def test_every_segment_ends_on_its_termini_and_lies_on_its_road(roads, axes_metric):
    metric = roads.to_crs(pcrs.METRIC_CRS)
    segments = metric[metric["class"] != "互通立交"]
    assert len(segments) == 22
    for _, r in segments.iterrows():
        line = r.geometry
        start, end = shapely.Point(line.coords[0]), shapely.Point(line.coords[-1])
        from_axis, to_axis = _axis(axes_metric, r["from_road"]), _axis(axes_metric, r["to_road"])
        forward = max(start.distance(from_axis), end.distance(to_axis))
        backward = max(start.distance(to_axis), end.distance(from_axis))
        assert min(forward, backward) < 1.0, (r["project_id"], forward, backward)
        road = _axis(axes_metric, r["road"])
        assert line.within(road.buffer(0.5)), r["project_id"]
        assert abs(road.project(end) - road.project(start)) == pytest.approx(line.length, abs=1.0)
        assert line.length > 100


def test_interchange_is_a_small_ring_at_the_junction(roads, axes_metric):
    metric = roads.to_crs(pcrs.METRIC_CRS)
    ring = metric.loc[metric["class"] == "互通立交"].geometry.iloc[0]
    assert ring.is_ring
    centre = shapely.Polygon(ring).centroid
    assert centre.distance(_axis(axes_metric, "石埠大道")) < 1.0
    assert centre.distance(_axis(axes_metric, "昌栗高速")) < 1.0
    radius = (shapely.Polygon(ring).area / 3.14159) ** 0.5
    assert 100 < radius < 400


def test_a_road_that_misses_its_terminus_is_an_error_naming_both(axes_metric):
    axes = axes_metric.copy()
    ningwang = _axis(axes, "宁王路")
    chatong = _axis(axes, "茶桐街")
    # Stop 宁王路 200 m before it reaches 茶桐街.
    cut = ningwang.project(ningwang.intersection(chatong)) - 200
    axes.loc[axes["name"] == "宁王路", "geometry"] = shapely.ops.substring(ningwang, 0, cut)
    projects = pd.DataFrame(
        [
            {
                "project_id": "jw-2021-08",
                "road": "宁王路",
                "from_road": "武功山大道",
                "to_road": "茶桐街",
                "class": "次干路",
            }
        ]
    )
    with pytest.raises(ValidationError) as info:
        solve_road_projects(axes, projects, key="project_id", layer="jiuwang_roads")
    (problem,) = info.value.problems
    assert "宁王路" in problem.message and "茶桐街" in problem.message
    assert problem.feature == "jw-2021-08" and problem.field == "to_road"


def test_unknown_terminus_is_reported_per_project(axes_metric):
    projects = pd.DataFrame(
        [{"project_id": "x", "road": "宁王路", "from_road": "武功山大道", "to_road": "不存在路", "class": "支路"}]
    )
    with pytest.raises(ValidationError, match="不存在路"):
        solve_road_projects(axes_metric, projects, key="project_id")


def test_the_build_fails_naming_road_and_terminus_when_an_axis_is_cut_short(tmp_path):
    from planatlas.build import validate_geodata

    root = _copy_jiuwang_geodata(tmp_path / "geodata")
    path = root / "sources" / "road_axes.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    for feature in data["features"]:
        if feature["properties"]["name"] == "竹园路":
            # Pull its north end back south of 洋湖一路.
            feature["geometry"]["coordinates"][-1][1] -= 0.002
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = validate_geodata(root)
    messages = [str(p) for p in result.problems if p.layer == "jiuwang_roads"]
    assert any("竹园路" in m and "洋湖一路" in m and "jw-2023-04" in m for m in messages), messages


# ---- boundary and structure -----------------------------------------------------------------


def test_boundary_is_the_face_enclosed_by_the_four_bounding_roads(jiuwang_store, axes_metric):
    areas = jiuwang_store.read("jiuwang_areas").to_crs(pcrs.METRIC_CRS)
    boundary = areas.loc[areas["area_id"] == "jiuwang_new_city"].iloc[0]
    ring = boundary.geometry.geoms[0].exterior
    for road in ("石埠大道", "武功山大道", "南昌绕城高速", "昌栗高速"):
        assert ring.intersection(_axis(axes_metric, road).buffer(1)).length > 1000, road
    assert boundary["area_km2_measured"] == pytest.approx(boundary.geometry.area / 1e6, abs=0.001)
    assert boundary["plan_area_km2"] == 15
    # Every road segment lies inside the new city (1 m tolerance for the edge roads); the
    # interchange ring is centred on the boundary's south-west corner.
    roads = jiuwang_store.read("jiuwang_roads").to_crs(pcrs.METRIC_CRS)
    segments = roads[roads["class"] != "互通立交"]
    assert segments.geometry.within(boundary.geometry.buffer(1)).all()
    ring = roads.loc[roads["class"] == "互通立交"].geometry.iloc[0]
    assert shapely.Polygon(ring).centroid.distance(boundary.geometry.boundary) < 1.0


def test_polygonising_an_open_ring_is_an_error_naming_the_roads(axes_metric):
    roads = {n: _axis(axes_metric, n) for n in ("石埠大道", "武功山大道", "南昌绕城高速")}
    with pytest.raises(ValidationError, match="石埠大道、武功山大道、南昌绕城高速"):
        polygonise_bounded_area(roads)


def test_structure_areas_lie_inside_the_boundary_and_districts_tile_it(jiuwang_store):
    areas = jiuwang_store.read("jiuwang_areas").to_crs(pcrs.METRIC_CRS).set_index("area_id")
    boundary = areas.loc["jiuwang_new_city"].geometry
    for key, geom in areas.geometry.items():
        assert geom.difference(boundary).area < 1.0, key
    north, south = areas.loc["district_north"].geometry, areas.loc["district_south"].geometry
    assert north.intersection(south).area < 1.0
    assert north.union(south).symmetric_difference(boundary).area < 1.0
    assert north.centroid.y > south.centroid.y


def test_project_markers_are_distinct_and_inside_their_area(jiuwang_store):
    areas = jiuwang_store.read("jiuwang_areas").to_crs(pcrs.METRIC_CRS).set_index("area_id")
    projects = jiuwang_store.read("jiuwang_projects").to_crs(pcrs.METRIC_CRS)
    assert len(projects) == 7
    for _, p in projects.iterrows():
        assert areas.loc[p["placed_in"]].geometry.contains(p.geometry), p["project_id"]
        assert "not the project's location" in p["geom_note"]
    coords = {(round(g.x), round(g.y)) for g in projects.geometry}
    assert len(coords) == len(projects)


# ---- reconciliation -------------------------------------------------------------------------


def _plan_figures_from_seed() -> dict[str, tuple[int, float, float, float]]:
    lines = _seed_lines()
    total = re.search(
        r"开工建设(\d+)条市政道路路网，建设长度为([\d.]+)公里，总投资([\d.]+)亿元，三年内完成投资([\d.]+)亿元",
        lines[955],
    )
    assert total, "line 956 no longer holds the three-year road totals"
    figures = {TOTAL_LABEL: total.groups()}
    for year, n in ((2021, 958), (2022, 960), (2023, 962)):
        m = re.search(
            r"开工建设(\d+)条道路[，、]\s*总长度\s*([\d.]+)公里，总投资([\d.]+)亿元，完成投资([\d.]+)亿元", lines[n - 1]
        )
        assert m, f"line {n} no longer holds the {year} road targets"
        figures[str(year)] = m.groups()
    return {k: (int(a), float(b), float(c), float(d)) for k, (a, b, c, d) in figures.items()}


def test_reconcile_plan_columns_equal_the_plans_figures(roads):
    table = reconcile_jiuwang(roads).table.set_index("start_year")
    expected = _plan_figures_from_seed()
    assert list(table.index) == ["2021", "2022", "2023", TOTAL_LABEL]
    for label, (n, km, inv, done) in expected.items():
        row = table.loc[label]
        assert (row["plan_roads"], row["plan_km"], row["plan_investment_yi"], row["plan_completed_yi"]) == (
            n,
            km,
            inv,
            done,
        )


def test_reconcile_mapped_km_are_measured_and_differences_shown(roads):
    table = reconcile_jiuwang(roads).table.set_index("start_year")
    geod = Geod(ellps="GRS80")
    segments = roads[roads["class"] != "互通立交"]
    for label, group in [*segments.groupby(segments["start_year"].astype(str)), (TOTAL_LABEL, segments)]:
        geodesic_km = sum(geod.geometry_length(g) for g in group.geometry) / 1000
        # EPSG:4548 (GK, CM 117°E) vs the ellipsoid: scale error < 0.05 % at Nanchang; table in 10 m.
        assert table.loc[label, "mapped_km"] == pytest.approx(geodesic_km, rel=5e-4, abs=0.006)  # km rounded to 10 m
        assert table.loc[label, "diff_km"] == pytest.approx(
            table.loc[label, "mapped_km"] - table.loc[label, "plan_km"], abs=0.006
        )
    assert (table["mapped_roads"] == [14, 4, 5, 23]).all()


def test_reconcile_shows_a_missing_project_as_a_difference(roads):
    fewer = roads[roads["project_id"] != "jw-2021-03"]
    table = reconcile_jiuwang(fewer).table.set_index("start_year")
    assert table.loc["2021", "mapped_roads"] == 13
    assert table.loc["2021", "diff_roads"] == -1
    assert table.loc[TOTAL_LABEL, "diff_roads"] == -1


def test_reconcile_notes_where_the_plan_disagrees_with_itself(roads, jiuwang_store):
    result = reconcile_jiuwang(roads, projects=jiuwang_store.read("jiuwang_projects"))
    text = "\n".join(result.notes)
    assert "7.24 + 17.48 + 17.04 = 41.76" in text and "41.81" in text
    assert "8.9" in text and "11.2" in text  # 学校、医院: stated completed vs yearly sum
    checks = result.project_checks.set_index("item")
    assert not checks.loc["学校、医院社会服务项目: yearly investment", "consistent"]
    assert checks.loc["水系提升改造项目: yearly investment", "consistent"]


# ---- CLI ------------------------------------------------------------------------------------


def test_cli_reconcile_jiuwang_prints_the_table(jiuwang_store, monkeypatch):
    from planatlas.cli.main import cli

    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(jiuwang_store.path))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    out = CliRunner().invoke(cli, ["reconcile", "jiuwang"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    header = next(line for line in lines if line.startswith("start year"))
    assert "plan km" in header and "mapped km (EPSG:4548, schematic)" in header
    row_2021 = next(line for line in lines if line.startswith("2021"))
    assert row_2021.split()[:5] == ["2021", "14", "14", "+0", "40.04"]
    assert any(line.startswith("合计 total") and "61.01" in line and "41.81" in line for line in lines)
    assert "41.76" in out.output
    boundary_line = next(line for line in lines if line.startswith("new-city boundary"))
    areas = jiuwang_store.read("jiuwang_areas").to_crs(pcrs.METRIC_CRS)
    measured = areas.loc[areas["area_id"] == "jiuwang_new_city"].area.iloc[0] / 1e6
    assert f"measured {measured:.2f} km²" in boundary_line and "plan 15.00 km² (15平方公里)" in boundary_line

    as_json = CliRunner().invoke(cli, ["reconcile", "jiuwang", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.output)
    expected = reconcile_jiuwang(jiuwang_store.read("jiuwang_roads")).table
    assert [r["mapped_km"] for r in payload["table"]] == list(expected["mapped_km"])


def test_cli_reconcile_without_an_atlas_fails_cleanly(tmp_path, monkeypatch):
    from planatlas.cli.main import cli

    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(tmp_path / "missing.gpkg"))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    out = CliRunner().invoke(cli, ["reconcile", "jiuwang"])
    assert out.exit_code != 0
    assert "Traceback" not in out.output


@pytest.mark.postgis
def test_reconcile_reads_the_same_table_from_postgis(jiuwang_store, postgis_url, tmp_path):
    from planatlas.build import build_atlas
    from planatlas.store.postgis import PostGISStore

    store = PostGISStore(postgis_url)
    try:
        build_atlas(_copy_jiuwang_geodata(tmp_path / "geodata"), store)
        from_postgis = reconcile_jiuwang_from_store(store)
    finally:
        store.dispose()
    from_gpkg = reconcile_jiuwang_from_store(jiuwang_store)
    pd.testing.assert_frame_equal(from_postgis.table, from_gpkg.table)
    assert from_postgis.notes == from_gpkg.notes
    assert from_postgis.boundary == from_gpkg.boundary


def test_station_offsets_say_where_line_4_stations_lie(jiuwang_store):
    from planatlas.reconcile import station_offsets

    areas = jiuwang_store.read("jiuwang_areas")
    boundary = areas.loc[areas["area_id"] == "jiuwang_new_city"].to_crs(pcrs.METRIC_CRS).geometry.iloc[0]
    top = boundary.bounds[3]
    inside = boundary.representative_point()
    stations = gpd.GeoDataFrame(
        {"name": ["璜溪站", "白马山", "八一馆"], "precision": ["sourced"] * 3},
        geometry=[shapely.Point(inside.x, top + 500), inside, shapely.Point(inside.x, top + 9000)],
        crs=pcrs.METRIC_CRS,
    ).to_crs(pcrs.STORAGE_CRS)
    notes = station_offsets(areas, stations)
    assert len(notes) == 2  # 裕丰街 absent, 八一馆 not asked for
    assert notes[0].startswith("metro station 白马山 (sourced) lies inside")
    gap = boundary.distance(shapely.Point(inside.x, top + 500))
    assert (
        "璜溪" in notes[1]
        and f"{gap:.0f} m outside" in notes[1]
        and "500 m north of its northernmost point" in notes[1]
    )
