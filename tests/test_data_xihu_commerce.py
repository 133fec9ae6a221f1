"""Xihu plan data, commerce & culture: buildings, business districts and attractions are complete
against the entity lists read off the plan (seed 000) by hand, and every feature is traceable."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import shapely

from conftest import GEODATA
from planatlas.crs import METRIC_CRS
from planatlas.provenance import parse_lines

SEED = "000_f23723ccf6c3a3ea.txt"
LAYERS = {
    "buildings": "building_id",
    "business_districts": "business_district_id",
    "attractions": "attraction_id",
}

# ---------------------------------------------------------------------------------------------
# Entity lists extracted from the plan text (line numbers of seed 000 in comments).
# ---------------------------------------------------------------------------------------------

# The lists are grouped as the plan groups them; keep ruff format from splitting them.
# fmt: off

#: Every named building, park, base, complex or supermarket (kind != theme_building).
NAMED_BUILDINGS = {
    # 特色楼宇 (103, 386; 83)
    "洪大服装世界", "长欣楼", "洪城大厦", "联发君悦", "百力佳", "喜盈门设计师楼", "亚太世纪中心",
    "太平洋保险大厦", "人保大厦", "洪城数码广场",
    # 图表3 商贸综合体 / 商场超市 (112-113)
    "朝阳洲天虹购物中心", "西湖万达广场", "丁公路乐盈广场", "中山路天虹购物商场", "中粮大悦城",
    "大润发（八一店）", "天虹超市（中山店）", "永辉超市（西湖万达店）", "天虹超市（朝阳天虹店）",
    "万家 MART（朝阳洲店）",
    # 专栏1 桃花 (276)
    "万马服饰城 T-time 直播基地", "城市万象广场", "VR 数字文化艺术产业园", "欧鹏湾", "绿地朝阳中心",
    "桃花商业广场", "恒盛商业广场", "广明大健康产业园", "嘉佑健康城", "台湾健康产业城", "热敏灸小镇",
    # 朝农 (278-282)
    "滨江国际", "东亚·朝阳 SOHO", "朝阳时代广场", "新力中心", "绿梦大厦",
    # 九洲 (284)
    "煤炭总部", "红星美凯龙全球家居博览中心",
    # 朝阳洲 (286)
    "力高皇冠写字楼", "滨江壹号环球中心", "滨江首府", "“梦想小街”流量经济产业园",
    # 广润门 (290)
    "动壹基地", "新华书店文化综合体", "万寿宫文创直播基地",
    # 南浦 (294)
    "华财大厦", "仕中心", "原交通银行永叔路大楼", "绿地象南中心", "年代星辰",
    # 绳金塔 (296)
    "八一大道数字酒店总部经济", "外贸产业服务基地",
    # 丁公路 (298)
    "苏宁易购", "国美电器", "江信国际", "恒茂国际", "长运商贸城", "智尚优学教育综合体", "星思域",
    # 南站 (302)
    "颐高数字文化创意产业园", "元空间数字经济产业园", "中国铁路南昌局集团有限公司区域总部",
    # 总部项目 (358), 专栏7 (390-406), 文创 (478), 金融楼宇 (516), 专栏16 商业综合体 (586)
    "新钢集团总部", "绿滋肴江西总部", "新鸥鹏华东区域总部", "中商谷盈江西总部", "兴赣建设总部",
    "喜盈门建材家具广场", "海联大厦", "博富大厦", "南昌压力管工业文化创意园",
    "玩美公园艺术中心+城市书房", "华龙国际大厦", "玖玖商业综合体", "东上谕亭商业综合体",
}

#: 特色楼宇 themes the plan assigns to a street without naming a building (专栏1).
STREET_THEMES = {
    ("taohua", "金银珠宝楼"), ("taohua", "创意设计楼"),  # 276
    ("chaonong", "家装设计楼"), ("chaonong", "数字经济楼"), ("chaonong", "健康产业楼"),  # 282
    ("jiuzhou", "建筑装饰楼"), ("jiuzhou", "商务会展楼"), ("jiuzhou", "创意设计楼"),  # 284
    ("jiuzhou", "金融保险楼"),
    ("chaoyangzhou", "总部型楼宇"),  # 286
    ("taoyuan", "数字经济楼"), ("taoyuan", "金融保险楼"),  # 288
    ("nanpu", "医疗健康类特色楼宇"),  # 294
    ("shengjinta", "金融保险楼"), ("shengjinta", "文旅产业楼"), ("shengjinta", "技能培训楼"),  # 296
    ("shengjinta", "人力资源楼"),
    ("dinggonglu", "金融保险楼"), ("dinggonglu", "数码电子楼"), ("dinggonglu", "教育培训楼"),  # 298
    ("dinggonglu", "人力资源楼"),
    ("nanzhan", "创意设计楼"), ("nanzhan", "检验检测楼"),  # 302
}

#: The 特色楼宇 of line 103 with the plan's theme wording.
THEMED_BUILDINGS = {
    "洪大服装世界": "服饰类", "长欣楼": "移动电子类", "洪城大厦": "教育培训类", "联发君悦": "建筑类",
    "百力佳": "数字经济类", "喜盈门设计师楼": "家装设计类", "亚太世纪中心": "金银珠宝交易类",
    "太平洋保险大厦": "保险类", "人保大厦": "保险类", "洪城数码广场": "电子信息产品交易类",
}

#: Live-streaming bases: 276, 298, 312, 326.
LIVE_STREAMING = {
    "洪大服装世界", "万马服饰城 T-time 直播基地", "绿梦大厦", "万寿宫文创直播基地", "百力佳",
    "丁公路乐盈广场", "星思域",
}

#: Status the plan states, for the features where it is unambiguous in one word.
IDLE = {"华财大厦", "仕中心", "原交通银行永叔路大楼"}  # 294
UNDER_CONSTRUCTION = {
    "中粮大悦城", "桃花商业广场", "恒盛商业广场", "VR 数字文化艺术产业园", "绿地象南中心", "年代星辰",
    "新钢集团总部", "绿滋肴江西总部", "新鸥鹏华东区域总部", "中商谷盈江西总部", "兴赣建设总部",
    "南昌压力管工业文化创意园", "玩美公园艺术中心+城市书房", "新华书店文化综合体",
}
STATUS_NOT_STATED = {"玖玖商业综合体", "东上谕亭商业综合体"}  # 专栏16 only
HQ_PROJECTS_358 = {
    "新钢集团总部", "绿滋肴江西总部", "中粮大悦城", "新鸥鹏华东区域总部", "中商谷盈江西总部",
    "兴赣建设总部",
}

#: 五大商圈 (footnote [2], line 91).
BUSINESS_CIRCLES = {
    "西湖区历史文化街区消费商圈", "大洪城批发零售商圈", "环八一广场消费商圈",
    "象湖西岸临湖文旅消费商圈", "朝阳新城滨江综合体消费商圈",
}
#: 三大历史文化街区 (footnote [3], line 93).
HISTORIC_BLOCKS = {"万寿宫历史文化街区", "绳金塔历史文化街区", "进贤仓历史文化街区"}
#: 三大专业市场 (footnote [4], line 95) with the members of 图表3 (lines 115-117) and stated counts.
PROFESSIONAL_MARKETS = {
    "大洪城16家专业批发市场": (
        [
            "洪大服装世界", "洪城家具市场", "江西省家电市场", "罗马服饰广场", "阳光灯饰广场",
            "鸿顺德国际商贸城", "万马欧韩服装城", "联信大市场", "鸿顺德建材城", "宝源综合大市场",
            "华东商贸城", "干货批发市场", "五华批发市场", "洪发大市场", "鸿顺德五金机电城",
            "江西桃苑灯具城",
        ],
        16,
    ),
    "万寿宫商城7家专业批发市场": (
        ["文具玩具市场", "窗帘专业市场", "韩国城批发商城", "喜洋洋新商城", "丹青画材大卖场"],
        7,
    ),
    "八一大道3家专业电子市场": (["洪城数码广场", "长运商贸城", "长欣楼"], 3),
}
#: Night-market, food and feature streets (107, 294, 298, 488, 专栏16 line 583).
STREETS_AND_MARKETS = {
    "中华米粉美食街（绿地井象天地）", "绿滋肴不夜城", "万寿宫美食街", "绳金塔美食街", "船山路美食街",
    "系马桩小吃街", "华侨城世纪水岸星空夜市", "丁公路夜经济消费中心", "金盘路慢生活一条街",
    "绳金塔民俗风情街二期", "井象文化历史街区",
}

#: 图表4 (lines 124-130): name -> level, verbatim.
TABLE4 = {
    "南昌八一起义纪念馆": "国家4A",
    "绳金塔历史文化街区景区": "国家4A (2023年申报)",
    "万寿宫历史文化街区景区": "国家4A",
    "华侨城欢乐象湖景区": "国家4A",
    "新四军军部旧址陈列馆": "国家4A",
    "黄秋园纪念馆": "—",
}
#: Other museums, red-culture sites, venues and landmarks the plan names.
OTHER_ATTRACTIONS = {
    "陆军博物馆", "江西省美术馆", "吴齐美术馆综合体", "东南分局", "江西国际影视文化城", "鸟屿浮云塔",
    "南昌古玩城", "玛雅乐园", "绳金塔大舞台",
    # parks and lakes (134, 490), the hotel groups, homestay brands and old brand the plan names (504, 597), 新中源 (506)
    "玩美公园", "朝阳市民公园", "西湖", "象湖", "美仑美奂", "永乐半山", "花苑酒店", "花筑", "云上四季民宿", "赣江宾馆",
    "新中源",
}
RED_CULTURE = {"南昌八一起义纪念馆", "新四军军部旧址陈列馆", "陆军博物馆", "东南分局"}

#: 专栏16 (lines 579-589): the 多点支撑 cluster types and the members that are points in these layers
#: (总部经济集聚区, line 581, names two areas, not points). Line of each type in the seed.
CLUSTER_16_LINES = {
    "数字经济产业集聚区": 580, "会展产业集聚区": 582, "特色夜市街区": 583, "专业市场集聚区": 584,
    "商业综合体": 586, "文化旅游集聚区": 587, "文化创意产业集聚区": 588, "健康养老产业集聚区": 589,
}
CLUSTER_16 = {
    "数字经济产业集聚区": {
        "“梦想小街”流量经济产业园", "颐高数字文化创意产业园", "元空间数字经济产业园",
        "VR 数字文化艺术产业园",
    },
    "会展产业集聚区": {"红星美凯龙全球家居博览中心", "喜盈门建材家具广场"},
    "特色夜市街区": {
        "万寿宫美食街", "绳金塔美食街", "船山路美食街", "中华米粉美食街（绿地井象天地）",
        "华侨城世纪水岸星空夜市", "绿滋肴不夜城",
    },
    "专业市场集聚区": set(PROFESSIONAL_MARKETS),
    "商业综合体": {
        "中山路天虹购物商场", "朝阳洲天虹购物中心", "西湖万达广场", "丁公路乐盈广场", "中粮大悦城",
        "动壹基地", "绿地象南中心", "玖玖商业综合体", "东上谕亭商业综合体",
    },
    "文化旅游集聚区": {
        "南昌八一起义纪念馆", "新四军军部旧址陈列馆", "陆军博物馆", "黄秋园纪念馆",
        "万寿宫历史文化街区", "绳金塔历史文化街区", "进贤仓历史文化街区",
        "中华米粉美食街（绿地井象天地）", "华侨城欢乐象湖景区",
    },
    "文化创意产业集聚区": {
        "新华书店文化综合体", "江西省美术馆", "玩美公园艺术中心+城市书房",
        "南昌压力管工业文化创意园", "江西国际影视文化城",
    },
    "健康养老产业集聚区": {"嘉佑健康城", "台湾健康产业城", "广明大健康产业园", "热敏灸小镇"},
}
# fmt: on


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_lines() -> list[str]:
    return (GEODATA / "seeds" / SEED).read_text(encoding="utf-8").splitlines()


def _attributes(layer: str) -> pd.DataFrame:
    return pd.read_csv(GEODATA / "attributes" / f"{layer}.csv", dtype=str, keep_default_na=False)


def _line_numbers(source_lines: str) -> set[int]:
    return {n for start, end in parse_lines(source_lines) for n in range(start, end + 1)}


def _names(frame: pd.DataFrame, mask=None) -> set[str]:
    return set(frame.loc[mask, "name"] if mask is not None else frame["name"])


# ---------------------------------------------------------------------------------------------
# Completeness against the plan
# ---------------------------------------------------------------------------------------------


def test_named_buildings_are_complete(bundled_atlas):
    b = bundled_atlas.read("buildings")
    named = _names(b, b["kind"] != "theme_building")
    assert sorted(NAMED_BUILDINGS - named) == [], "missing"
    assert sorted(named - NAMED_BUILDINGS) == [], "not in the expected list"


def test_street_themes_are_complete(bundled_atlas):
    b = bundled_atlas.read("buildings")
    themes = b[b["kind"] == "theme_building"]
    got = set(zip(themes["street_id"], themes["name"], strict=True))
    assert got == STREET_THEMES
    assert (themes["status"] == "planned").all()


def test_themed_buildings_keep_the_plan_theme(bundled_atlas):
    b = bundled_atlas.read("buildings").set_index("name")
    assert {n: b.loc[n, "theme"] for n in THEMED_BUILDINGS} == THEMED_BUILDINGS


def test_live_streaming_bases(bundled_atlas):
    b = bundled_atlas.read("buildings")
    assert _names(b, b["live_streaming_base"].astype(bool)) == LIVE_STREAMING


def test_status_as_the_plan_states_it(bundled_atlas):
    b = bundled_atlas.read("buildings")
    assert _names(b, b["status"] == "idle") == IDLE
    assert _names(b, b["status"] == "under_construction") == UNDER_CONSTRUCTION
    assert _names(b, b["status"].isna()) == STATUS_NOT_STATED
    assert b["status_text"].str.len().gt(0).all()
    # Where the plan contradicts itself, both wordings are kept.
    taiwan = b.set_index("name").loc["台湾健康产业城", "status_text"]
    assert "相继引入" in taiwan and "落地" in taiwan
    dayuecheng = b.set_index("name").loc["中粮大悦城", "status_text"]
    assert all(f"{n}" in dayuecheng for n in ("112", "418", "282", "358")) and "表述不一" in dayuecheng


def test_headquarters_projects_are_flagged(bundled_atlas):
    b = bundled_atlas.read("buildings")
    hq = _names(b, b["headquarters"].astype(bool))
    assert hq >= HQ_PROJECTS_358
    assert "中国铁路南昌局集团有限公司区域总部" in hq


def test_business_districts_are_complete(bundled_atlas):
    d = bundled_atlas.read("business_districts")
    by_cat = d.groupby("category")["name"].apply(set).to_dict()
    assert by_cat.pop("business_circle") == BUSINESS_CIRCLES
    assert by_cat.pop("historic_block") == HISTORIC_BLOCKS
    assert by_cat.pop("professional_market") == set(PROFESSIONAL_MARKETS)
    # every member market the plan lists (图表3 lines 115 and 117) is a feature of its own
    assert by_cat.pop("member_market") == {m for members, _ in PROFESSIONAL_MARKETS.values() for m in members}
    assert set().union(*by_cat.values()) == STREETS_AND_MARKETS


def test_professional_market_members(bundled_atlas):
    d = bundled_atlas.read("business_districts").set_index("name")
    for name, (members, count) in PROFESSIONAL_MARKETS.items():
        assert d.loc[name, "members"].split(";") == members, name
        assert int(d.loc[name, "member_count_stated"]) == count, name
    # Members that are also 特色楼宇 exist as buildings.
    buildings = set(bundled_atlas.read("buildings")["name"])
    assert {"洪大服装世界", "洪城数码广场", "长运商贸城", "长欣楼"} <= buildings


def test_attractions_are_complete_with_levels(bundled_atlas):
    a = bundled_atlas.read("attractions")
    in_table = a[a["in_table4"].astype(bool)]
    assert dict(zip(in_table["name"], in_table["level"], strict=True)) == TABLE4
    others = a[~a["in_table4"].astype(bool)]
    assert set(others["name"]) == OTHER_ATTRACTIONS
    assert others["level"].isna().all(), "the plan gives a level only in 图表4"
    assert _names(a, a["red_culture"].astype(bool)) == RED_CULTURE


def test_zhuanlan16_clusters_are_complete(bundled_atlas):
    got: dict[str, set[str]] = {}
    for layer in LAYERS:
        frame = bundled_atlas.read(layer)
        for name, clusters in zip(frame["name"], frame["cluster_16"], strict=True):
            if pd.isna(clusters):
                continue
            for cluster in clusters.split(";"):
                got.setdefault(cluster, set()).add(name)
    assert got == CLUSTER_16


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_zhuanlan16_membership_is_on_its_line(layer, seed_lines):
    problems = []
    for _, row in _attributes(layer).iterrows():
        spellings = [row["name"], row["name_written"]]
        spellings += [a.rpartition("@")[0] for a in row["aliases"].split(";") if a]
        for cluster in filter(None, row["cluster_16"].split(";")):
            line = CLUSTER_16_LINES[cluster]
            if line not in _line_numbers(row["source_lines"]):
                problems.append(f"{row[LAYERS[layer]]}: {cluster} but line {line} not cited")
            elif not any(s in seed_lines[line - 1] for s in spellings):
                problems.append(f"{row[LAYERS[layer]]}: no spelling of it on line {line}")
    assert problems == []


def test_ocr_slips_are_recorded_both_ways(bundled_atlas):
    b = bundled_atlas.read("buildings").set_index("name")
    assert b.loc["万寿宫文创直播基地", "name_written"] == "万善宫文创直播基地"
    d = bundled_atlas.read("business_districts").set_index("name")
    assert "贤仓历史文化街区@488" in d.loc["进贤仓历史文化街区", "aliases"].split(";")


# ---------------------------------------------------------------------------------------------
# Provenance: names, aliases and members are on the lines the feature cites
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_names_and_aliases_are_on_the_cited_lines(layer, seed_lines):
    problems = []
    for _, row in _attributes(layer).iterrows():
        key = row[LAYERS[layer]]
        cited = _line_numbers(row["source_lines"])
        if row["source_file"] != SEED:
            problems.append(f"{key}: source_file {row['source_file']!r}")
        if max(cited) > len(seed_lines):
            problems.append(f"{key}: cites line {max(cited)} beyond the seed")
            continue
        if not any(row["name_written"] in seed_lines[n - 1] for n in cited):
            problems.append(f"{key}: {row['name_written']!r} is on none of lines {row['source_lines']}")
        for alias in filter(None, row["aliases"].split(";")):
            text, _, line = alias.rpartition("@")
            if int(line) not in cited or text not in seed_lines[int(line) - 1]:
                problems.append(f"{key}: alias {alias!r} is not on a cited line")
        problems.extend(
            f"{key}: member {member!r} is on no cited line"
            for member in filter(None, row.get("members", "").split(";"))
            if not any(member in seed_lines[n - 1] for n in cited)
        )
    assert problems == []


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_every_feature_has_provenance(bundled_atlas, layer):
    frame = bundled_atlas.read(layer)
    assert len(frame) > 0
    assert (frame["source_file"] == SEED).all()
    assert frame["source_lines"].map(lambda s: bool(_line_numbers(s))).all()
    assert frame["geom_note"].str.len().gt(0).all()
    assert set(frame["precision"]) <= {"sourced", "address", "street", "schematic", "unlocated"}, (
        "nothing here is surveyed"
    )


# ---------------------------------------------------------------------------------------------
# Geometry: placement honest and readable
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_no_two_points_coincide(bundled_atlas, layer):
    """Distinct street placements stay apart; features naming the same place share its one point.

    Places put at one cited anchor (two sites by the same metro station) may share it.
    """
    frame = bundled_atlas.read(layer).to_crs(METRIC_CRS)
    frame = frame[frame["precision"].isin(["street", "schematic"]) | frame.duplicated("place_id", keep=False)]
    pts, places = frame.geometry.to_numpy(), frame["place_id"].to_numpy()
    xy = np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])
    pairs = list(itertools.combinations(range(len(xy)), 2))
    gaps = [float(np.hypot(*(xy[i] - xy[j]))) for i, j in pairs if places[i] != places[j]]
    assert min(g for g in gaps if g == g) >= 50.0
    same = [float(np.hypot(*(xy[i] - xy[j]))) for i, j in pairs if places[i] == places[j] and pts[i] is not None]
    assert all(g == 0.0 for g in same)


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_street_points_lie_in_their_street(bundled_atlas, layer):
    frame = bundled_atlas.read(layer)
    streets = bundled_atlas.read("streets").set_index("street_id")
    placed = frame[frame["precision"] == "street"]
    assert len(placed) > 0
    outside = [
        row[LAYERS[layer]]
        for _, row in placed.iterrows()
        if not streets.geometry[row["street_id"]].contains(row.geometry)
    ]
    assert outside == []


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_points_lie_in_xihu_district(bundled_atlas, layer):
    districts = bundled_atlas.read("districts").set_index("district_id")
    xihu = districts.geometry["xihu"]
    frame = bundled_atlas.read(layer)
    frame = frame[frame.geometry.notna()]
    assert frame[~frame.geometry.within(xihu)][LAYERS[layer]].tolist() == []


def test_unknown_locations_are_unlocated_without_geometry(bundled_atlas):
    b = bundled_atlas.read("buildings")
    unknown = b["street_basis"] == "unknown"
    assert unknown.sum() == 12
    assert (b.loc[unknown, "precision"] == "unlocated").all()
    # the others are placed in their street or finer, from a cited source
    assert b.loc[~unknown, "precision"].isin(["sourced", "address", "street"]).all()
    for layer in LAYERS:
        frame = bundled_atlas.read(layer)
        unlocated = frame[frame["precision"] == "unlocated"]
        assert unlocated.geometry.isna().all(), layer
        assert unlocated["geom_note"].str.startswith("UNLOCATED").all(), layer
        assert unlocated["street_id"].isna().all(), layer


def test_layers_take_positions_from_the_gazetteer():
    from planatlas.catalog import load_catalog

    catalog = load_catalog(GEODATA)
    for layer in LAYERS:
        spec = catalog[layer]
        assert spec.geometry.places == "place_id", layer
        assert spec.geometry.crs is None and spec.geometry.derive is None, layer
        assert spec.style.get("kind") == "categorical", layer


def test_style_hints_colour_every_category():
    from planatlas.catalog import load_catalog

    catalog = load_catalog(GEODATA)
    for layer in LAYERS:
        spec = catalog[layer]
        column = spec.style["column"]
        assert set(spec.style["colors"]) == set(spec.fields[column].enum), layer
