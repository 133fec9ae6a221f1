"""Xihu public facilities, water/road skeleton, plan areas and 2025 targets (issue 11, Xihu part):
complete against lists read off plan 000 by hand, every row citing lines that name it, figures verbatim."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
import shapely

from conftest import GEODATA
from planatlas.crs import METRIC_CRS
from planatlas.maps.frames import prepare_preset_data
from planatlas.maps.load import load_preset

SEED = "000_f23723ccf6c3a3ea.txt"
SEED_LINES = (GEODATA / "seeds" / SEED).read_text(encoding="utf-8").split("\n")

# fmt: off
#: Facilities the plan names (line): 87, 134, 430, 540-556, 621/629. The health parks of 87 live in buildings.
FACILITIES = {
    "西湖区康复颐养中心", "桃花街道热敏灸体验中心", "南昌第七医院朝阳院区热敏灸体检中心",  # 87
    "江西热敏灸医院", "众康医疗医院", "南昌大学第四附属医院",  # 540, 544, 548
    "嘉佑曙光骨科医院", "仁爱妇产医院", "南昌爱尔眼科医院",  # 552
    "西湖区妇幼保健院托育中心", "卡蜜拉国际婴幼儿中心", "吉的堡英慈托育中心", "江滩体育公园", "南昌华侨城运动公园",  # 554
    "交通银行永叔路21号项目",  # 556
    "站前路小学", "金盘路小学", "松柏小学", "外国语学校",  # 134
    "区市民中心",  # 621, 629
    "孺子路农贸市场", "羊子巷农贸市场", "系马桩农贸市场", "福山农贸市场", "抚河农贸市场",  # 430
    "悦庭农贸市场", "永乐农贸市场",  # 430
}
WATER = {"赣江", "西湖", "象湖", "抚河", "桃花河", "龙河"}  # 134
ROADS = {"沿江快速路", "“四横四纵”交通线网"}  # 132; plus three bridges
AREAS = {"象山南路医疗设备商贸带", "豫章历史文化走廊", "象山南路文旅轴", "站前西路以南文旅产业发展区",
         "站前西路以北现代商贸服务区", "临湖生态文化走廊"}  # 294, 296, 490, 506
# fmt: on
TABLES = ("xihu_facilities", "xihu_water", "xihu_roads", "xihu_plan_areas")


def parse_lines(cited: str) -> list[int]:
    """Line numbers of a ``source_lines`` value (``87;540-556``)."""
    out: list[int] = []
    for part in str(cited).split(";"):
        lo, _, hi = part.strip().partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def _named_on(row_names: list[str], lines: str) -> list[int]:
    """The cited lines that name none of ``row_names``."""
    return [n for n in parse_lines(lines) if not any(x in SEED_LINES[n - 1] for x in row_names)]


@pytest.mark.parametrize("layer", TABLES)
def test_every_row_cites_lines_that_name_it(bundled_atlas, layer):
    frame = bundled_atlas.read(layer)
    assert len(frame) >= 5
    missing = {}
    for _, row in frame.iterrows():
        names = [row["name"], *[a for a in str(row.get("aliases") or "").split(";") if a]]
        assert row["source_file"] == SEED
        if bad := _named_on(names, row["source_lines"]):
            missing[row["name"]] = bad
    assert missing == {}


def test_a_row_citing_the_wrong_line_is_caught():
    # the check above must be able to fail: 赣江 is not named on line 87
    assert _named_on(["赣江", "一江"], "87;134") == [87]


def test_gazetteer_rows_match_the_layer_and_cite_their_lines():
    with (GEODATA / "places" / "xihu_facilities.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        names = [r["name_zh"], *[a for a in r["aliases"].split(";") if a]]
        assert _named_on(names, r["seed_lines"]) == [], r["place_id"]
        located = r["precision"] != "unlocated"
        assert bool(r["lon"]) == located == bool(r["lat"]) == bool(r["uncertainty_m"]), r["place_id"]
        if located:
            assert r["crs"] == "EPSG:4490"
            assert r["placed_by"]
            assert r["position_source"]


def test_plan_lists_are_present(bundled_atlas):
    present = {
        "facilities": set(bundled_atlas.read("xihu_facilities")["name"]),
        "water": set(bundled_atlas.read("xihu_water")["name"]),
        "roads": set(bundled_atlas.read("xihu_roads")["name"]),
        "areas": set(bundled_atlas.read("xihu_plan_areas")["name"]),
    }
    assert FACILITIES - present["facilities"] == set()
    assert WATER - present["water"] == set()
    assert ROADS - present["roads"] == set()
    assert AREAS - present["areas"] == set()
    bridges = bundled_atlas.read("xihu_roads").query("kind == 'bridge'")
    assert len(bridges) == 3  # "三条跨江大桥" (132)


def test_unlocated_are_listed_not_drawn(bundled_atlas):
    for layer in TABLES:
        frame = bundled_atlas.read(layer)
        unlocated = frame["precision"] == "unlocated"
        assert frame.geometry[unlocated].isna().all()
        assert frame.geometry[~unlocated].notna().all()
        assert (frame.loc[~unlocated, "uncertainty_m"] > 0).all()


def test_bridges_cross_the_ganjiang_band_in_the_cited_order(bundled_atlas):
    water = bundled_atlas.read("xihu_water").set_index("water_id").to_crs(METRIC_CRS)
    roads = bundled_atlas.read("xihu_roads").set_index("road_id").to_crs(METRIC_CRS)
    river = water.geometry["ganjiang"]
    xihu = bundled_atlas.read("districts").set_index("district_id").to_crs(METRIC_CRS).geometry["xihu"]
    for key in ("nanchang_daqiao", "chaoyang_daqiao", "shengmi_daqiao"):
        bridge = roads.geometry[key]
        assert bridge.intersects(river)
        assert bridge.intersects(xihu)  # lands on the Xihu bank
    # north to south: 南昌大桥, 朝阳大桥 (~2.5 km upstream), 生米大桥 (~3.5 km further)
    ys = [roads.geometry[k].centroid.y for k in ("nanchang_daqiao", "chaoyang_daqiao", "shengmi_daqiao")]
    assert ys == sorted(ys, reverse=True)
    gap = roads.geometry["nanchang_daqiao"].centroid.distance(roads.geometry["chaoyang_daqiao"].centroid)
    assert 1_800 < gap < 3_200
    # the river lies outside the district and along its west edge
    assert river.intersection(xihu).area < 0.01 * river.area
    assert river.centroid.x < xihu.centroid.x


def test_plan_areas_sit_in_the_streets_the_plan_names(bundled_atlas):
    areas = bundled_atlas.read("xihu_plan_areas").set_index("area_id").to_crs(METRIC_CRS)
    streets = bundled_atlas.read("streets").set_index("street_id").to_crs(METRIC_CRS)
    for key, row in areas.iterrows():
        union = shapely.union_all([streets.geometry[s] for s in row["street_ids"].split(";")])
        assert row.geometry.difference(union.buffer(1.0)).area < 1.0, key
    north, south = areas.geometry["zhanqian_xilu_bei_shangmao"], areas.geometry["zhanqian_xilu_nan_wenlv"]
    assert north.centroid.y > south.centroid.y
    assert north.intersection(south).area < 1.0
    assert abs(north.area + south.area - streets.geometry["shengjinta"].area) < 1e-4 * north.area  # rounding only


def test_targets_are_verbatim_with_unit_and_year(bundled_atlas):
    targets = bundled_atlas.read("xihu_targets")
    for _, row in targets.iterrows():
        assert any(row["text"] in SEED_LINES[n - 1] for n in parse_lines(row["source_lines"])), row["target_id"]
        assert row["year"] == 2025
        assert row["unit"]
        assert row["quantity"].split("；")[0].split(" ")[0] in row["text"]
    by_id = targets.set_index("target_id")
    # the figures the issue names, attached to what they concern
    assert "5 个以上直播基地" in by_id.loc["t_zhibo_jidi", "text"]
    assert "8—10 个商务楼宇改造升级" in by_id.loc["t_louyu_gaizao", "text"]
    assert by_id.loc["t_dixiao_yongdi", "quantity"] == "934.4"
    assert by_id.loc["t_dixiao_yongdi", "unit"] == "亩"
    assert by_id.loc["t_dixiao_yongdi", "concerns_keys"] == "xihu"
    assert "1—2个" in by_id.loc["t_yejian_jiequ", "text"]


def test_target_keys_point_at_features(bundled_atlas):
    targets = bundled_atlas.read("xihu_targets")
    for _, row in targets[targets["concerns_keys"].fillna("") != ""].iterrows():
        frame = bundled_atlas.read(row["concerns_layer"])
        key = bundled_atlas.spec(row["concerns_layer"]).key
        assert set(row["concerns_keys"].split(";")) <= set(frame[key]), row["target_id"]


def test_facility_targets_quote_the_plan(bundled_atlas):
    fac = bundled_atlas.read("xihu_facilities")
    quoted = fac["targets_2025"].fillna("")
    assert (quoted != "").sum() >= 10
    for text in quoted[quoted != ""]:
        for part in text.split("；"):
            sentence, line = part.rsplit("（", 1)
            assert sentence in SEED_LINES[int(line.rstrip("）")) - 1]


@pytest.mark.parametrize("name", ["xihu-facilities", "xihu-water-roads"])
def test_presets_load_with_features_and_say_schematic(bundled_atlas, name):
    data = load_preset(bundled_atlas, name)
    prepared = prepare_preset_data(data)
    drawn = sum(len(p.frame) for p in prepared if p.layer.layer.startswith("xihu_"))
    assert drawn >= 4
    assert any(p.schematic for p in prepared)
    frames = pd.concat([data.frames[f] for f in data.frames if f.startswith("xihu_")])
    assert frames.geometry.notna().sum() >= 4


def test_facility_map_title_states_the_drawn_and_unlocated_counts(bundled_atlas):
    from planatlas.maps.presets import get_preset

    fac = bundled_atlas.read("xihu_facilities")
    located = int(fac.geometry.notna().sum())
    title = get_preset("xihu-facilities").layer("facilities").title
    assert f"{len(fac)}处，{located}处按街道示意落点，{len(fac) - located}处未定位" in title["zh"]
    assert f"{len(fac)}, {located} placed in their street, {len(fac) - located} unlocated" in title["en"]
