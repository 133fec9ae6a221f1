"""Asking the map without a browser (issue 16): a point or drawn shape as the reference, place search,
the planner's table and its numbers, downloads, the print page, the view export and the CLI's ``--at``.

Every answer is checked against an independent computation (brute-force distances in EPSG:4548,
``covered_by``) or against the same question asked through the reference layer.
"""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from planatlas.crs import METRIC_CRS, STORAGE_CRS, gcj02_to_wgs84
from planatlas.query import QueryRequest, run_query
from planatlas.query.places import Place, nearest_place, place_index, search_places
from planatlas.query.readable import (
    edge_line,
    format_count,
    format_distance,
    question_title,
    readable_answer,
    street_counts,
)
from planatlas.query.reference import drawn_reference, parse_at

BAYI = (115.89782695, 28.67851232)


def _metres(frame: gpd.GeoDataFrame, point: Point) -> np.ndarray:
    here = gpd.GeoSeries([point], crs=STORAGE_CRS).to_crs(METRIC_CRS).iloc[0]
    return frame.to_crs(METRIC_CRS).geometry.distance(here).to_numpy()


# ---- the reference: a point or a drawn shape ---------------------------------------------------------
def test_parse_at_reads_lon_lat_and_converts_web_map_points():
    assert parse_at("115.89782695, 28.67851232").coords[0] == BAYI
    lon, lat = gcj02_to_wgs84(115.9043, 28.6755)
    converted = parse_at("115.9043,28.6755", crs="gcj02")
    assert converted.x == pytest.approx(float(lon), abs=1e-6) and converted.y == pytest.approx(float(lat), abs=1e-6)
    assert 0.004 < abs(converted.x - 115.9043) < 0.01  # GCJ-02 is hundreds of metres off in Nanchang
    for bad, why in (("28.67851232,115.89782695", "LON,LAT"), ("115.9", "LON,LAT"), ("a,b", "LON,LAT")):
        with pytest.raises(ValueError, match=why):
            parse_at(bad)
    with pytest.raises(ValueError, match="CRS should be one of"):
        parse_at("115.9,28.6", crs="EPSG:3857")


def test_drawn_reference_keeps_circles_and_areas_and_ignores_junk():
    circle = {"type": "Feature", "properties": {"radius": 250.5}, "geometry": {"type": "Point", "coordinates": BAYI}}
    ref = drawn_reference(circle)
    assert ref is not None and ref.radius_m == 250.5 and ref.geometry.equals(Point(BAYI))
    square = {"type": "Feature", "properties": {}, "geometry": box(115.89, 28.67, 115.91, 28.69).__geo_interface__}
    ref = drawn_reference(square)
    assert ref is not None and ref.radius_m is None and ref.geometry.area > 0
    far = {"type": "Feature", "properties": {}, "geometry": box(2.0, 48.0, 2.1, 48.1).__geo_interface__}
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[115.8, 28.6], [115.9, 28.7], [115.9, 28.6], [115.8, 28.7], [115.8, 28.6]]],
    }
    for junk in (
        None,
        {},
        {"geometry": "x"},
        far,
        {"type": "Feature", "geometry": bowtie},
        {"geometry": {"type": "Point", "coordinates": BAYI}},
    ):
        assert drawn_reference(junk) is None, junk


def test_within_a_point_is_the_question_asked_of_the_station_there(bundled_atlas):
    """At the station's own coordinate, "within 1 km of here" gives the station's answer, distances included."""
    by_point = run_query(
        bundled_atlas,
        QueryRequest(
            kind="within", layer="buildings", of="here", at=parse_at("115.89782695,28.67851232"), distance="1km"
        ),
    ).frame
    by_layer = run_query(
        bundled_atlas,
        QueryRequest(kind="within", layer="buildings", of="metro_stations", where={"name": "八一广场"}, distance="1km"),
    ).frame
    assert len(by_point) > 0
    assert list(by_point["building_id"]) == list(by_layer["building_id"])
    np.testing.assert_allclose(by_point["distance_m"], by_layer["distance_m"], atol=1e-6)
    everything = bundled_atlas.read("buildings")
    brute = everything[_metres(everything, Point(BAYI)) <= 1000]
    assert set(brute["building_id"]) == set(by_point["building_id"])
    elsewhere = run_query(
        bundled_atlas,
        QueryRequest(kind="within", layer="buildings", of="here", at=Point(115.85, 28.64), distance="1km"),
    ).frame
    assert set(elsewhere["building_id"]) != set(by_point["building_id"])  # the point matters


def test_nearest_to_a_point_lists_the_closest_first(bundled_atlas):
    rq = QueryRequest(kind="nearest", layer="metro_stations", of="here", at=Point(BAYI), limit=3)
    frame = run_query(bundled_atlas, rq).frame
    stations = bundled_atlas.read("metro_stations")
    stations = stations[~(stations.geometry.isna() | stations.geometry.is_empty)]
    brute = np.sort(_metres(stations, Point(BAYI)))[:3]
    np.testing.assert_allclose(frame["distance_m"], brute, atol=1e-6)
    assert frame["name"].iloc[0] == "八一广场"
    with pytest.raises(ValueError, match="limit"):
        QueryRequest(kind="nearest", layer="metro_stations", of="here", at=Point(BAYI), limit=0)
    with pytest.raises(ValueError, match="coverage"):
        QueryRequest(kind="coverage", layer="buildings", of="here", at=Point(BAYI), distance="1km", by="streets")


def test_inside_and_summarize_a_drawn_area(bundled_atlas):
    area = box(115.88, 28.66, 115.92, 28.69)
    inside = run_query(bundled_atlas, QueryRequest(kind="inside", layer="buildings", of="area", at=area)).frame
    everything = bundled_atlas.read("buildings")
    brute = everything[everything.geometry.covered_by(area)]
    assert len(brute) > 0 and set(inside["building_id"]) == set(brute["building_id"])
    summary = run_query(bundled_atlas, QueryRequest(kind="summarize", layer="buildings", of="area", at=area)).frame
    assert int(summary["count"].sum()) == len(brute)  # every building inside counted once, in one street


# ---- place search --------------------------------------------------------------------------------------
def test_search_ranks_exact_then_prefix_then_substring_and_reads_aliases(bundled_atlas):
    places = place_index(bundled_atlas)
    found = search_places(places, "八一广场")
    assert found[0].name == "八一广场" and found[0].layer == "metro_stations"
    assert [p.name for p in found[1:]] and all("八一广场" in "".join(p.names) for p in found)
    assert "Bayi Square" in search_places(places, "bayi square")[0].names  # case-insensitive, English names
    hongda = search_places(places, "洪大服装大厦")  # an alias written 洪大服装大厦@408 in the data
    assert hongda and hongda[0].name == "洪大服装世界"
    assert search_places(places, "") == [] and search_places(places, "没有这个地方") == []
    assert len(search_places(places, "街", limit=3)) <= 3


def test_nearest_place_names_a_clicked_point_only_when_close():
    places = [
        Place("metro_stations", "a", "八一广场", ("八一广场",), *BAYI, "sourced"),
        Place("x", "u", "无位置", ("无位置",), None, None, "unlocated"),
    ]
    assert nearest_place(places, BAYI[0] + 0.001, BAYI[1], within_m=150) is places[0]  # about 98 m east
    assert nearest_place(places, BAYI[0] + 0.003, BAYI[1], within_m=150) is None  # about 290 m east


# ---- the planner's table and its numbers ----------------------------------------------------------------
def test_numbers_read_in_chinese_and_english():
    assert format_distance(412.4, "zh") == "412米" and format_distance(412.4, "en") == "412 m"
    assert format_distance(1000, "zh") == "1公里" and format_distance(1250, "en") == "1.2 km"
    assert format_count(34000, "zh") == "3.4万" and format_count(34000, "en") == "34,000"
    assert format_count(2.5e8, "zh") == "2.5亿"
    title = question_title(kind="within", layer_title="商务楼宇", reference="八一广场站", distance="1km", lang="zh")
    assert title == "距八一广场站1公里范围内的商务楼宇"
    title = question_title(
        kind="within", layer_title="Buildings", reference="Bayi Square station", distance=500, lang="en"
    )
    assert title == "Buildings within 500 m of Bayi Square station"


def test_readable_table_leads_with_what_a_planner_reads(bundled_atlas):
    result = run_query(
        bundled_atlas, QueryRequest(kind="within", layer="buildings", of="八一广场站", at=Point(BAYI), distance="1km")
    )
    streets = bundled_atlas.read("streets", columns=["street_id", "name"])
    readable = readable_answer(
        result.frame, key="building_id", lang="zh", reference_names={"八一广场站": "八一广场站"}, streets=streets
    )
    assert list(readable.table.columns) == [
        "名称",
        "距离（米）",
        "最近参照",
        "所在街道",
        "位置精度",
        "位置不确定性（米）",
    ]
    assert list(readable.table["名称"]) == list(result.frame["name"])  # closest first, as the query answers
    np.testing.assert_allclose(readable.table["距离（米）"], result.frame["distance_m"], atol=0.05)
    np.testing.assert_array_equal(readable.table["位置不确定性（米）"], result.frame["uncertainty_m"])
    names = dict(zip(streets["street_id"], streets["name"], strict=True))
    assert list(readable.table["所在街道"]) == [names[s] for s in result.frame["street_id"]]
    assert "building_id" in readable.details.columns and "source_lines" in readable.details.columns
    counts = street_counts(readable.table, street_title="所在街道", count_title="结果数")
    assert counts["结果数"].sum() == len(result.frame) > 0 and counts["结果数"].is_monotonic_decreasing


def test_edge_line_counts_answers_within_their_uncertainty_of_the_edge():
    frame = pd.DataFrame({"distance_m": [995.0, 500.0, 1000.0, 950.0], "uncertainty_m": [10.0, 20.0, np.nan, 40.0]})
    assert edge_line(frame, distance="1km", lang="en") == (
        "1 of 4 answers lie within their own position uncertainty of the 1 km edge (they could fall on either side)."
        " 1 have no recorded uncertainty."
    )
    assert edge_line(frame.assign(uncertainty_m=75.0), distance="1km", lang="zh").startswith(
        "4 条结果中有 3 条距1公里边界"
    )


# ---- downloads, the print page and the view export ---------------------------------------------------------
def test_xlsx_and_csv_open_in_excel_as_text_not_formulas():
    from openpyxl import load_workbook

    from planatlas.io.writers import frame_bytes
    from planatlas.io.xlsx import xlsx_bytes

    table = pd.DataFrame({"名称": ['=HYPERLINK("x")', "人力资源楼"], "距离（米）": [412.1, np.nan]})
    sheet = load_workbook(io.BytesIO(xlsx_bytes({"within_buildings": table}))).active
    assert [c.value for c in sheet[1]] == ["名称", "距离（米）"]
    assert sheet["A2"].value == '\'=HYPERLINK("x")' and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == 412.1 and sheet["B3"].value is None
    assert frame_bytes(table, "csv", layer="q").startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads Chinese


def test_print_page_is_titled_with_the_question(bundled_atlas):
    from planatlas.render.answer_page import render_answer_page
    from planatlas.render.page import PageSpec

    result = run_query(
        bundled_atlas, QueryRequest(kind="within", layer="buildings", of="八一广场站", at=Point(BAYI), distance="1km")
    )
    title = "距八一广场站1公里范围内的商务楼宇与产业载体"
    page = render_answer_page(result, title=title, page=PageSpec(dpi=40), streets=bundled_atlas.read("streets"))
    texts = [t.get_text() for t in page.figure.findobj(lambda a: hasattr(a, "get_text"))]
    assert title in texts and page.metadata["title"] == title
    assert any(f"{len(result.frame)} 条结果" in t for t in texts)
    labelled = set(texts) & set(result.frame["name"])
    assert len(labelled) >= max(1, len(result.frame) // 2), labelled  # the matches are labelled


def test_view_export_frames_the_view_and_keeps_only_visible_layers(bundled_atlas):
    from planatlas.errors import ExportError
    from planatlas.render.page import PageSpec
    from planatlas.view_export import ViewState, view_bytes, view_page

    bounds = (115.88, 28.66, 115.91, 28.69)
    page = view_page(
        bundled_atlas,
        ViewState("one-belt-four-zones", visible=["zones"], bounds=bounds, basemap="amap"),
        page=PageSpec(dpi=40),
    )
    texts = " ".join(t.get_text() for t in page.figure.findobj(lambda a: hasattr(a, "get_text")))
    assert "AMap" in texts or "高德" in texts  # the online basemap is named, not printed
    maps = [ax for ax in page.figure.axes if ax.get_xlim()[1] - ax.get_xlim()[0] > 1000]
    width = maps[0].get_xlim()[1] - maps[0].get_xlim()[0]
    assert 2500 < width < 6000  # about 3 km across, not the whole district
    assert "Streets" not in texts and "街道边界" not in texts  # the street layer was switched off
    with pytest.raises(ExportError, match="switched on"):
        view_page(bundled_atlas, ViewState("one-belt-four-zones", visible=[]), page=PageSpec(dpi=40))
    assert view_bytes(bundled_atlas, ViewState("one-belt-four-zones"), fmt="pdf", page=PageSpec(dpi=40)).startswith(
        b"%PDF"
    )


def test_series_as_a_zip_of_pngs(bundled_atlas):
    from planatlas.export import series_units_for
    from planatlas.render.page import PageSpec
    from planatlas.view_export import series_png_zip

    data, count = series_png_zip(
        bundled_atlas, "one-belt-four-zones", by="zones", page=PageSpec(orientation="landscape", dpi=30)
    )
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert count == len(names) == len(series_units_for(bundled_atlas, "zones", lang="zh")) > 1
    assert all(n.endswith(".png") for n in names) and names[0].startswith("001_")


# ---- the map's tools and the CLI -----------------------------------------------------------------------
def test_query_map_tools_are_vendored_and_translated(bundled_atlas):
    from planatlas.render.assets import verify_assets
    from planatlas.render.query_map import query_map

    assert "leaflet-draw/leaflet.draw.js" in verify_assets()
    html = (
        query_map(
            None, key="building_id", ref_key="ref_id", lang="zh", tools=True, context=[bundled_atlas.read("streets")]
        )
        .get_root()
        .render()
    )
    assert "L.Control.Draw" in html and "cdnjs" not in html and "cdn.jsdelivr" not in html
    assert json.dumps("画矩形查询")[1:-1] in html  # the toolbar's texts, JSON-escaped in the map script
    assert "Draw a rectangle to ask" in query_map(None, key="k", ref_key="r", lang="en", tools=True).get_root().render()


def test_draw_texts_name_real_leaflet_draw_strings():
    """Every text replaced in L.drawLocal is one Leaflet.draw 1.0.4 has (a renamed one would stay English)."""
    from planatlas.render.assets import VENDOR_DIR
    from planatlas.render.map_tools import _DRAW_TEXTS

    source = (VENDOR_DIR / "leaflet-draw" / "leaflet.draw.js").read_text(encoding="utf-8")
    for path, _key in _DRAW_TEXTS:
        assert f"{path.rsplit('.', 1)[-1]}:" in source, path


def test_cli_asks_around_a_point(run, bundled_build, tmp_path, monkeypatch):
    import shutil

    shutil.copy(bundled_build[0].path, tmp_path / "atlas.gpkg")
    by_point = run(
        "query",
        "within",
        "--layer",
        "buildings",
        "--at",
        "115.89782695,28.67851232",
        "--distance",
        "1km",
        "--limit",
        "0",
    )
    by_layer = run(
        "query",
        "within",
        "--layer",
        "buildings",
        "--of",
        "metro_stations",
        "--where",
        "name=八一广场",
        "--distance",
        "1km",
        "--limit",
        "0",
    )
    n = int(by_layer.output.strip().splitlines()[-1].split()[0])
    assert by_point.exit_code == 0
    assert f"{n} features of buildings within 1km of point 115.897827,28.678512" in by_point.output
    keys = [line.split()[0] for line in by_layer.output.splitlines()[2 : 2 + n]]
    assert n > 0 and len(keys) == n and all(k in by_point.output for k in keys)
    shifted = run(
        "query", "within", "--layer", "buildings", "--at", "115.9043,28.6755", "--at-crs", "GCJ-02", "--distance", "1km"
    )
    lon, lat = gcj02_to_wgs84(115.9043, 28.6755)
    assert f"point {float(lon):.6f},{float(lat):.6f}" in shifted.output
    both = run(
        "query", "within", "--layer", "buildings", "--of", "metro_stations", "--at", "115.9,28.6", "--distance", "1km"
    )
    assert both.exit_code == 2 and "either --of" in both.output
    swapped = run("query", "within", "--layer", "buildings", "--at", "28.6,115.9", "--distance", "1km")
    assert swapped.exit_code == 2 and "LON,LAT" in swapped.output
