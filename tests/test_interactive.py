"""Tests of planatlas.render.interactive: offline assets, escaping, JS colouring, legend, basemaps."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box

from planatlas.crs import wgs84_to_gcj02
from planatlas.maps import get_preset
from planatlas.maps.load import PresetData
from planatlas.render.assets import STATIC_DIR, map_assets, verify_assets
from planatlas.render.basemaps import BASEMAPS
from planatlas.render.interactive import (
    View,
    build_map,
    feature_collection,
    legend_html,
    popup_html,
)

PROV = {
    "precision": "schematic",
    "source_file": "000_f23723ccf6c3a3ea.txt",
    "source_lines": "266-270",
}
EVIL = "<script>alert('x')</script>"
KEYS = {
    "streets": "street_id",
    "zones": "zone_id",
    "districts": "district_id",
    "clusters": "cluster_id",
}


@pytest.fixture
def frames():
    streets = gpd.GeoDataFrame(
        [
            {
                "street_id": f"s{i}",
                "name": EVIL if i == 0 else f"街道{i}",
                "zone": "z",
                "industries": "数字经济",
                **PROV,
            }
            for i in range(4)
        ],
        geometry=[box(115.86 + i * 0.01, 28.62, 115.87 + i * 0.01, 28.66) for i in range(4)],
        crs=4490,
    )
    zones = gpd.GeoDataFrame(
        [
            {
                "zone_id": "commerce_tourism_culture",
                "name": "商旅文融合发展示范区",
                "kind": "zone",
                **PROV,
            },
            {"zone_id": "digital_economy", "name": "数字经济发展引领区", "kind": "zone", **PROV},
            {"zone_id": "belt", "name": "赣江东岸总部经济带", "kind": "belt", **PROV},
        ],
        geometry=[
            box(115.86, 28.62, 115.88, 28.66),
            box(115.88, 28.62, 115.90, 28.66),
            box(115.895, 28.62, 115.90, 28.66),
        ],
        crs=4490,
    )
    clusters = gpd.GeoDataFrame(
        [
            {
                "cluster_id": "c1",
                "name": "万寿宫历史文化街区",
                "cluster_type": "文化旅游集聚区",
                **PROV,
                "precision": "sourced",
            },
            {
                "cluster_id": "c2",
                "name": "玖玖商业综合体",
                "cluster_type": "商业综合体",
                **PROV,
                "precision": "unlocated",
            },
        ],
        geometry=[Point(115.8712345678, 28.6312345678), None],
        crs=4490,
    )
    districts = gpd.GeoDataFrame(
        [{"district_id": "xihu", "name": "西湖区", **PROV}],
        geometry=[box(115.86, 28.62, 115.90, 28.66)],
        crs=4490,
    )
    return {
        "streets": streets,
        "zones": zones,
        "districts": districts,
        "clusters": clusters,
    }


def _data(name, frames, *, keys=None, params=None):
    """What ``load_preset`` would return for these frames (no store needed)."""
    preset = get_preset(name)
    return PresetData(
        preset=preset,
        frames=frames,
        keys=keys or {},
        field_titles={},
        params=preset.params_with_defaults(params),
    )


def _html(m):
    """Rendered HTML with JSON's \\uXXXX escapes decoded, i.e. the strings the browser sees."""
    raw = m.get_root().render()
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), raw)


def test_vendored_assets_match_manifest_and_are_local():
    checked = verify_assets()
    assert "leaflet/leaflet.js" in checked
    js, css = map_assets()
    assert all(url.startswith("data:") for _, url in [*js, *css])
    js_served, _ = map_assets("/static")
    assert js_served == [("leaflet", "/static/vendor/leaflet/leaflet.js")]
    assert (STATIC_DIR / "vendor" / "leaflet" / "LICENSE").read_text().startswith("BSD 2-Clause")


def test_map_html_loads_nothing_from_the_network(frames):
    h = _html(build_map(_data("one-belt-four-zones", frames, keys=KEYS)))
    srcs = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', h)
    assert srcs, "the map should load Leaflet"
    assert all(s.startswith("data:") for s in srcs), [s[:60] for s in srcs if not s.startswith("data:")]
    for cdn in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrapcdn", "unpkg"):
        assert cdn not in h


def test_attribute_with_script_tag_is_escaped(frames):
    h = _html(build_map(_data("one-belt-four-zones", frames, keys=KEYS)))
    assert EVIL not in h  # even after decoding JSON escapes: the text is HTML-escaped
    assert "<script>alert" not in h
    assert "&lt;script&gt;alert" in h
    row = frames["streets"].iloc[0].to_dict()
    popup = popup_html(row, fields=["zone", "source_file"], lang="zh", label="name", layer_title="街道")
    assert "<script>" not in popup
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in popup
    # the plan is named by its title; the seed file name stays in the provenance fields
    assert "《南昌市西湖区产业高质量发展规划（2022—2025年）》 第 266-270 行" in popup
    assert "000_f23723ccf6c3a3ea.txt" not in popup


def test_popup_states_precision_uncertainty_and_position_source():
    row = {
        "name": "甲",
        "precision": "sourced",
        "uncertainty_m": 75,
        "position_source": "https://example.org/a?b=<c>",
        "source_file": "001_d4b95dcfe9f62ad4.txt",
        "source_lines": "12",
    }
    fields = ["uncertainty_m", "position_source", "source_file", "source_lines"]
    zh = popup_html(row, fields=fields, lang="zh", label="name", layer_title="L")
    assert "公开资料坐标 ±75 米" in zh
    assert "位置来源: https://example.org/a?b=&lt;c&gt;" in zh
    assert "《新建区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要》（征求意见2稿） 第 12 行" in zh
    en = popup_html(
        {**row, "precision": "street", "uncertainty_m": 2610.0}, fields=fields, lang="en", label="name", layer_title="L"
    )
    assert "street only ±2610 m" in en and "lines 12" in en
    unlocated = popup_html(
        {**row, "precision": "unlocated", "uncertainty_m": None},
        fields=fields,
        lang="en",
        label="name",
        layer_title="L",
    )
    assert "±" not in unlocated


def test_colours_come_from_a_feature_property_not_a_style_function(frames):
    m = build_map(_data("one-belt-four-zones", frames, keys=KEYS))
    h = _html(m)
    assert "_styler(feature)" not in h  # folium's per-feature switch
    assert "switch(" not in h
    prepared_zones = [
        c
        for c in m._children.values()
        if getattr(c, "data", None) and c.data["features"] and c.data["features"][0]["properties"]["_l"] == "zones"
    ]
    ks = [f["properties"]["_k"] for f in prepared_zones[0].data["features"]]
    assert ks == [0, 2]  # 商旅文 is listed first, 数字经济 third in the preset's zone colours
    assert '"#e69f00"' in h and '"#56b4e9"' in h


def test_coordinates_are_rounded_to_6_decimals(frames):
    from planatlas.maps import prepare_preset

    prepared = prepare_preset(get_preset("one-belt-four-zones"), frames, keys=KEYS)
    nodes = next(p for p in prepared if p.layer.id == "clusters")
    fc = feature_collection(nodes, lang="zh")
    assert list(fc["features"][0]["geometry"]["coordinates"]) == [115.871235, 28.631235]
    assert fc["features"][0]["properties"]["_id"] == "c1"
    assert len(fc["features"]) == 1  # an unlocated cluster has no geometry and is not drawn
    assert "bbox" not in json.dumps(fc)


def test_layer_control_and_legend_in_both_languages(frames):
    zh = _html(build_map(_data("one-belt-four-zones", frames, keys=KEYS), lang="zh"))
    en = _html(build_map(_data("one-belt-four-zones", frames, keys=KEYS), lang="en"))
    assert "四区协同（示意）" in zh
    assert "Four zones (schematic)" in en
    assert "Digital-economy leading zone" in en
    assert "Many nodes: industry clusters" in en and "（示意）" not in en


def test_legend_lists_categories_counts_and_schematic_note(frames):
    from planatlas.maps import prepare_preset

    prepared = prepare_preset(get_preset("one-belt-four-zones"), frames, keys=KEYS)
    legend = legend_html(prepared, lang="en")
    assert "Commerce–tourism–culture demonstration zone" in legend
    assert "(1)" in legend
    assert "Service-industry innovation model zone" not in legend  # absent from the data
    assert "Schematic:" in legend
    assert legend.index("Xihu District") < legend.index("Four zones")  # top layer first


def test_visible_layers_and_view(frames):
    m = build_map(
        _data("one-belt-four-zones", frames, keys=KEYS),
        visible={"zones", "district"},
        view=View(28.64, 115.88, 14),
    )
    shown = {
        c.data["features"][0]["properties"]["_l"]: c.show
        for c in m._children.values()
        if getattr(c, "data", None) and c.data.get("features")
    }
    assert shown == {
        "zones": True,
        "streets": False,
        "belt": False,
        "clusters": False,
        "district": True,
    }
    assert m.location == [28.64, 115.88]
    with pytest.raises(ValueError, match="not in preset"):
        build_map(_data("one-belt-four-zones", frames), visible={"nope"})


def test_amap_shifts_data_to_gcj02_and_attributes(frames):
    m = build_map(_data("one-belt-four-zones", frames, keys=KEYS), basemap="amap")
    h = _html(m)
    assert "高德地图 AutoNavi" in h and "webrd0{s}.is.autonavi.com" in h
    cluster = next(
        c
        for c in m._children.values()
        if getattr(c, "data", None) and c.data["features"] and c.data["features"][0]["properties"]["_l"] == "clusters"
    )
    lon, lat = cluster.data["features"][0]["geometry"]["coordinates"]
    glon, glat = wgs84_to_gcj02(115.8712345678, 28.6312345678)
    assert (lon, lat) == (round(float(glon), 6), round(float(glat), 6))
    assert abs(lon - 115.871235) > 0.003  # ~ 500 m: a real shift


def test_tianditu_needs_a_key_and_uses_it(frames):
    with pytest.raises(ValueError, match="PLANATLAS_TIANDITU_KEY"):
        build_map(_data("one-belt-four-zones", frames), basemap="tianditu")
    h = _html(
        build_map(
            _data("one-belt-four-zones", frames),
            basemap="tianditu",
            tianditu_key="abc123",
            lang="en",
        )
    )
    assert "tk=abc123" in h and "LAYER=eva" in h and "天地图 Tianditu" in h
    assert set(BASEMAPS) == {"none", "osm", "positron", "tianditu", "amap"}
    osm = _html(build_map(_data("one-belt-four-zones", frames), basemap="osm"))
    assert "OpenStreetMap</a> contributors" in osm


def test_lines_carry_width_class_and_phase_filter():
    roads = gpd.GeoDataFrame(
        {
            "road_id": ["r1", "r2", "r3"],
            "name": ["宁王路", "庆荣路", "武功山大道"],
            "start_year": [2021, 2022, 2023],
            "class": ["支路", "次干路", "主干路"],
            **PROV,
        },
        geometry=[LineString([(115.7, 28.6 + i * 0.01), (115.72, 28.6 + i * 0.01)]) for i in range(3)],
        crs=4490,
    )
    areas = gpd.GeoDataFrame(
        {"area_id": ["b"], "kind": ["新城范围"], "name": ["九望新城"], **PROV},
        geometry=[box(115.69, 28.59, 115.73, 28.64)],
        crs=4490,
    )
    axes = gpd.GeoDataFrame(
        {"axis_id": ["a"], "name": ["石埠大道"], "kind": ["城市道路"], **PROV},
        geometry=[LineString([(115.69, 28.59), (115.69, 28.64)])],
        crs=4490,
    )
    projects = gpd.GeoDataFrame(
        {"project_id": ["p"], "name": ["九望湖公园"], "category": ["公园"], **PROV},
        geometry=[Point(115.71, 28.62)],
        crs=4490,
    )
    m = build_map(
        _data(
            "jiuwang-roads",
            {
                "jiuwang_roads": roads,
                "jiuwang_areas": areas,
                "road_axes": axes,
                "jiuwang_projects": projects,
            },
            params={"phase": 2022},
            keys={"jiuwang_roads": "road_id"},
        )
    )
    layer = next(
        c
        for c in m._children.values()
        if getattr(c, "data", None) and c.data["features"] and c.data["features"][0]["properties"]["_l"] == "roads"
    )
    props = [f["properties"] for f in layer.data["features"]]
    assert [(p["_id"], p["_k"], p["_w"]) for p in props] == [("r1", 0, 2), ("r2", 1, 1)]


def test_same_inputs_give_identical_html(frames):
    """Stable element ids: Streamlit does not remount an unchanged map, exports diff cleanly."""
    a = build_map(_data("one-belt-four-zones", frames, keys=KEYS)).get_root().render()
    b = build_map(_data("one-belt-four-zones", frames, keys=KEYS)).get_root().render()
    assert a == b
    c = build_map(_data("one-belt-four-zones", frames, keys=KEYS), lang="en").get_root().render()
    assert a != c


def test_too_many_features_is_refused_with_advice(frames):
    with pytest.raises(ValueError, match="more than max_features=5; filter the layers, aggregate"):
        build_map(_data("one-belt-four-zones", frames), max_features=5)
