"""The metro network: every station of lines 1-4 from a cited dataset, the gazetteer rows that hold
their positions, the lines drawn through them in order, and the plan's citations."""

from __future__ import annotations

import csv
import itertools
import shutil
import statistics
import tomllib

import pytest
import shapely
from pyproj import Geod

from conftest import GEODATA
from planatlas.crs import METRIC_CRS

SEED = "000_f23723ccf6c3a3ea.txt"
SEED_XINJIAN = "001_d4b95dcfe9f62ad4.txt"
NODES = GEODATA.parent / "tools" / "data" / "east_asian_metro_nanchang_nodes.csv"
LAYERS = ("districts", "metro_stations", "metro_lines")
GEOD = Geod(ellps="WGS84")

# fmt: off
#: Line 132 of seed 000: the transfer stations (中转站) the plan names in the district, and their lines.
PLAN_TRANSFER_STATIONS = {"八一馆": {"1", "3"}, "绳金塔": {"3", "4"}, "丁公路北": {"1", "4"},
                          "丁公路南": {"2", "4"}}
#: Line 1525 of seed 001: line 4's western stations in 新建区.
LINE4_WEST = ["白马山", "裕丰街", "璜溪"]
#: Stations per line in the dataset's network (interchanges counted on each line they serve).
STATIONS_PER_LINE = {"1": 34, "2": 37, "3": 22, "4": 29}
#: Interchanges of the network (two lines each).
INTERCHANGES = {"地铁大厦", "八一广场", "八一馆", "丁公路北", "青山路口", "丁公路南", "西站南广场",
                "绳金塔", "上沙沟"}
#: zh.wikipedia infobox coordinates (WGS84) of 8 stations, read for this atlas before the dataset was
#: found: an independent check of the dataset's CRS and error.
ENCYCLOPEDIA = {
    "秋水广场": (115.8547376, 28.6845964), "滕王阁": (115.8732619, 28.676716),
    "八一广场": (115.89847, 28.67812), "孔目湖": (115.8530516, 28.7360389),
    "庐山南大道": (115.8603326, 28.7045854), "雅苑路": (115.8522698, 28.6953605),
    "南昌西站": (115.7885498, 28.6272244), "京东大道": (115.9680506, 28.6957799),
}
# fmt: on


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def read_csv(path):
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def seed_line(name: str, line: int) -> str:
    return (GEODATA / "seeds" / name).read_text(encoding="utf-8").split("\n")[line - 1]


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory):
    from planatlas.build import build_atlas
    from planatlas.store.gpkg import GeoPackageStore

    root = tmp_path_factory.mktemp("metro") / "geodata"
    shutil.copytree(GEODATA, root, ignore=shutil.ignore_patterns("*.toml"))
    (root / "layers").mkdir(exist_ok=True)
    for name in LAYERS:
        shutil.copy(GEODATA / "layers" / f"{name}.toml", root / "layers")
    store = GeoPackageStore(root.parent / "atlas.gpkg")
    build_atlas(root, store)
    return {name: store.read(name) for name in LAYERS}


@pytest.fixture(scope="module")
def places() -> dict[str, dict[str, str]]:
    return {row["name_zh"]: row for row in read_csv(GEODATA / "places" / "metro.csv")}


def test_gazetteer_rows_are_the_dataset_verbatim(places):
    """Every dataset node is one gazetteer row with the dataset's coordinate, cited with its licence."""
    nodes = read_csv(NODES)
    assert len(nodes) == 113
    for node in nodes:
        name = node["name"].removeprefix("南昌").removesuffix("(地铁站)")
        row = places[name]
        assert (float(row["lon"]), float(row["lat"])) == (float(node["lon"]), float(node["lat"])), name
        assert row["crs"] == "EPSG:4326"
        assert row["precision"] == "sourced" and row["uncertainty_m"] == "100", name
        assert "east-asian-metro-dataset" in row["position_source"] and row["position_licence"] == "CC BY 4.0"
        assert row["place_id"].startswith("metro_")
    assert len({row["place_id"] for row in places.values()}) == len(places) == 114
    planned = places["兴业大道"]
    assert planned["precision"] == "unlocated" and planned["lon"] == planned["lat"] == ""


def test_dataset_is_wgs84_and_close_to_the_encyclopedia(places):
    """Against the 8 encyclopedia coordinates: median under 60 m, worst under 100 m (GCJ-02 would be ~500 m)."""
    errors = [metres((float(places[n]["lon"]), float(places[n]["lat"])), ll) for n, ll in ENCYCLOPEDIA.items()]
    assert statistics.median(errors) < 60
    assert max(errors) < 100


def test_plan_citations_name_the_station(places):
    """A station the plan names cites the plan line; that line contains the station's name."""
    cited = {n for n, row in places.items() if row["seed_file"]}
    assert cited == set(PLAN_TRANSFER_STATIONS) | set(LINE4_WEST) | {"兴业大道", "昌北机场"}
    for name in cited:
        row = places[name]
        assert name in seed_line(row["seed_file"], int(row["seed_lines"])), name
    assert all(places[n]["seed_file"] == SEED for n in PLAN_TRANSFER_STATIONS)
    assert all(places[n]["seed_file"] == SEED_XINJIAN for n in LINE4_WEST)


def test_layer_holds_every_station_at_its_gazetteer_position(layers, places):
    st = layers["metro_stations"].set_index("name")
    assert set(st.index) == set(places)
    assert int((st["status"] == "operating").sum()) == 113
    for name, row in st.iterrows():
        place = places[name]
        assert row["station_id"] == place["place_id"]
        if place["precision"] == "unlocated":
            assert row.geometry is None or row.geometry.is_empty
            assert row["status"] == "planned"
            continue
        # stored in CGCS2000: the WGS84 value to centimetres
        assert abs(row.geometry.x - float(place["lon"])) < 1e-6 and abs(row.geometry.y - float(place["lat"])) < 1e-6


def test_lines_membership_and_interchanges(layers):
    st = layers["metro_stations"].set_index("name")
    located = st.loc[st["status"] == "operating"]
    for line_id, count in STATIONS_PER_LINE.items():
        assert int(located["lines"].str.split(";").apply(lambda ls, i=line_id: i in ls).sum()) == count
    assert set(located.index[located["interchange"].astype(bool)]) == INTERCHANGES
    for name, row in st.iterrows():
        assert bool(row["interchange"]) == (len(row["lines"].split(";")) > 1), name
    for name, lines in PLAN_TRANSFER_STATIONS.items():
        assert set(st.loc[name, "lines"].split(";")) == lines
    xinjian = layers["districts"].set_index("district_id").to_crs(METRIC_CRS).geometry["xinjian"]
    metric = located.to_crs(METRIC_CRS).geometry
    for name in [*LINE4_WEST, "昌北机场"]:
        assert xinjian.contains(metric[name]), name


def test_lines_pass_through_every_station_in_order(layers):
    spec = tomllib.loads((GEODATA / "layers" / "metro_lines.toml").read_text(encoding="utf-8"))
    runs = spec["geometry"]["params"]["runs"]
    lines = layers["metro_lines"].set_index("line_id")
    st = layers["metro_stations"].set_index("name")
    metric = st.loc[st["status"] == "operating"].to_crs(METRIC_CRS).geometry
    assert set(lines.index) == set(runs) == {"1", "2", "3", "4"}
    for line_id, line_runs in runs.items():
        assert len(line_runs) == 1, line_id  # one unbroken run: every station of the line is held
        run = line_runs[0]
        assert len(run) == len(set(run)) == STATIONS_PER_LINE[line_id]
        for a, b in itertools.pairwise(run):
            assert 300 < metric[a].distance(metric[b]) < 7000, (line_id, a, b)
        geom = lines.loc[line_id, "geometry"]
        (part,) = shapely.get_parts(geom)
        coords = [(round(x, 7), round(y, 7)) for x, y in part.coords]
        expected = [(round(st.geometry[n].x, 7), round(st.geometry[n].y, 7)) for n in run]
        assert coords == expected, line_id
        assert lines.loc[line_id, "station_count"] == len(run)
    # the plan's line-4 stations in 新建区 start line 4, in the order the plan lists them
    assert runs["4"][0][:3] == LINE4_WEST


def test_opening_dates_only_where_a_page_gives_them(layers):
    """Line 1 phase one (双港–瑶湖西, 24 stations) opened 2015-12-26; 雅苑路 with line 2; others unknown."""
    spec = tomllib.loads((GEODATA / "layers" / "metro_lines.toml").read_text(encoding="utf-8"))
    line1 = spec["geometry"]["params"]["runs"]["1"][0]
    phase1 = line1[line1.index("双港") : line1.index("瑶湖西") + 1]
    st = layers["metro_stations"].set_index("name")
    opened = st["opened"].fillna("").astype(str)
    assert len(phase1) == 24
    assert all(opened[n].startswith("2015-12-26") for n in phase1)
    assert set(opened.index[opened != ""]) == set(phase1) | {"雅苑路"}
