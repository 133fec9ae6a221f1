"""Sources GDAL reads wrongly or not at all: each refused with file, layer, feature and field, the atlas unchanged.

Malformed geometries (a one-vertex line, an unclosed ring, NaN as a ring's first vertex) used to
escape as ``GEOSException`` tracebacks; a KML's second folder, a shapefile's missing or empty
``.dbf`` and a repeated GeoJSON member used to be dropped without a word.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from planatlas.build import build_atlas, validate_geodata
from planatlas.errors import SourceError, ValidationError
from planatlas.io import read_source
from planatlas.store.gpkg import GeoPackageStore

NORTH = [[115.86, 28.68], [115.9, 28.68], [115.9, 28.7], [115.86, 28.7], [115.86, 28.68]]


def _areas(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _write_areas(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")


def _one_vertex_line(doc: dict) -> None:
    doc["features"][0]["geometry"] = {"type": "LineString", "coordinates": [[115.87, 28.69]]}


def _unclosed_ring(doc: dict) -> None:
    doc["features"][0]["geometry"]["coordinates"] = [NORTH[:-1]]


def _nan_first_vertex(doc: dict) -> None:
    ring = [[float("nan"), 28.66], *doc["features"][1]["geometry"]["coordinates"][0][1:]]
    doc["features"][1]["geometry"]["coordinates"] = [ring]


def _infinite_vertex(doc: dict) -> None:
    ring = [list(v) for v in NORTH]
    ring[2][0] = float("inf")
    doc["features"][0]["geometry"]["coordinates"] = [ring]


MALFORMED = {
    "one-vertex LineString": (_one_vertex_line, "north", "a line has a single vertex"),
    "unclosed ring": (_unclosed_ring, "north", "a polygon ring is not closed"),
    "NaN as a polygon's first vertex": (_nan_first_vertex, "south", "not a finite number"),
    "infinite vertex in a closed ring": (_infinite_vertex, "north", "not a finite number"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_geometry_is_located_and_atlas_unchanged(case, mini_geodata, tmp_path):
    store = GeoPackageStore(tmp_path / "out" / "atlas.gpkg")
    build_atlas(mini_geodata, store)
    before = store.path.read_bytes()
    edit, feature, message = MALFORMED[case]
    path = mini_geodata / "sources/areas.geojson"
    doc = _areas(path)
    edit(doc)
    _write_areas(path, doc)
    with pytest.raises(ValidationError) as info:
        build_atlas(mini_geodata, store)
    expected = f"file sources/areas.geojson, layer areas, feature {feature}, field geometry: "
    found = [str(p) for p in info.value.problems]
    assert any(p.startswith(expected) and message in p for p in found), found
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["atlas.gpkg"]


def test_malformed_geometry_without_key_is_named_by_its_order(tmp_path):
    doc = {"type": "FeatureCollection", "features": []}
    for i in range(3):
        coords = [[115.87, 28.69]] if i == 2 else [[115.87, 28.69], [115.88, 28.7]]
        doc["features"].append(
            {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": coords}}
        )
    (tmp_path / "l.geojson").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SourceError, match=r"^file l.geojson, feature #3, field geometry: malformed geometry"):
        read_source(tmp_path / "l.geojson", crs="EPSG:4490")


def test_repeated_geojson_member_names_feature_and_member(mini_geodata):
    path = mini_geodata / "sources/areas.geojson"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('"precision":"schematic"}', '"precision":"schematic","precision":"surveyed"}', 1), encoding="utf-8"
    )
    found = [str(p) for p in validate_geodata(mini_geodata).problems]
    assert (
        "file sources/areas.geojson, layer areas, feature north, field precision: member 'precision' is given 2 times "
        "in one object; a reader keeps only the last value"
    ) in found


def test_repeated_member_in_a_geometry_and_at_the_top(tmp_path):
    text = (
        '{"type":"FeatureCollection","type":"FeatureCollection","features":[{"type":"Feature","properties":{"k":"a"},'
        '"geometry":{"type":"Point","coordinates":[115.89,28.68],"coordinates":[115.8,28.6]}}]}'
    )
    (tmp_path / "d.geojson").write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as info:
        read_source(tmp_path / "d.geojson", crs="EPSG:4490", key="k")
    found = [str(p) for p in info.value.problems]
    assert any(p.startswith("file d.geojson: member 'type' is given 2 times") for p in found), found
    assert any(p.startswith("file d.geojson, feature a, field geometry: member 'coordinates'") for p in found), found


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>m0</name><ExtendedData><Data name="mark_id"><value>m0</value></Data></ExtendedData><Point><coordinates>115.865,28.665</coordinates></Point></Placemark>
<Folder><name>现状</name>
<Placemark><name>m1</name><ExtendedData><Data name="mark_id"><value>m1</value></Data></ExtendedData><Point><coordinates>115.87,28.69</coordinates></Point></Placemark>
</Folder>
<Folder><name>规划</name>
<Placemark><name>m2</name><ExtendedData><Data name="mark_id"><value>m2</value></Data></ExtendedData><Point><coordinates>115.88,28.67</coordinates></Point></Placemark>
<Placemark><name>m3</name><ExtendedData><Data name="mark_id"><value>m3</value></Data></ExtendedData><Point><coordinates>115.89,28.69</coordinates></Point></Placemark>
</Folder>
</Document></kml>
"""


def test_kml_reads_every_folder(tmp_path):
    (tmp_path / "m.kml").write_text(KML, encoding="utf-8")
    got = read_source(tmp_path / "m.kml", crs="EPSG:4326")
    assert sorted(got["Name"]) == ["m0", "m1", "m2", "m3"]
    assert read_source(tmp_path / "m.kml", crs="EPSG:4326", layer="规划")["Name"].tolist() == ["m2", "m3"]
    with pytest.raises(SourceError, match=r"m.kml: has no layer '远景'; its layers are .*'现状', '规划'"):
        read_source(tmp_path / "m.kml", crs="EPSG:4326", layer="远景")


def test_kml_folders_all_reach_the_atlas(mini_geodata):
    (mini_geodata / "sources/marks.kml").write_text(KML, encoding="utf-8")
    (mini_geodata / "attributes/marks.csv").write_text(
        "mark_id,precision,uncertainty_m,source_file,source_lines\n"
        + "".join(f"m{i},sourced,100,000_test.txt,{30 + i}\n" for i in range(4)),
        encoding="utf-8",
    )
    (mini_geodata / "layers/marks.toml").write_text(
        'name = "marks"\ntitle = { zh = "标记", en = "Marks" }\ngeometry_type = "Point"\nkey = "mark_id"\n'
        '[geometry]\nsource = "sources/marks.kml"\ncrs = "EPSG:4326"\n'
        '[[joins]]\ntable = "attributes/marks.csv"\non = "mark_id"\n[fields.mark_id]\ntype = "str"\nrequired = true\n',
        encoding="utf-8",
    )
    result = validate_geodata(mini_geodata)
    assert result.ok, [str(p) for p in result.problems]
    assert sorted(result.layers["marks"]["mark_id"]) == ["m0", "m1", "m2", "m3"]


def test_geopackage_with_several_layers_must_name_one(tmp_path):
    frame = gpd.GeoDataFrame({"k": ["a"]}, geometry=[shapely.Point(115.89, 28.68)], crs=4490)
    frame.to_file(tmp_path / "two.gpkg", layer="现状")
    frame.to_file(tmp_path / "two.gpkg", layer="规划")
    with pytest.raises(SourceError, match=r"two.gpkg: holds 2 layers \('现状', '规划'\); name the one to read"):
        read_source(tmp_path / "two.gpkg", crs="EPSG:4490")
    assert read_source(tmp_path / "two.gpkg", crs="EPSG:4490", layer="规划")["k"].tolist() == ["a"]


def _areas_as_shapefile(mini_geodata: Path) -> Path:
    gpd.read_file(mini_geodata / "sources/areas.geojson").to_file(mini_geodata / "sources/areas.shp", encoding="UTF-8")
    (mini_geodata / "sources/areas.geojson").unlink()
    spec = mini_geodata / "layers/areas.toml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("areas.geojson", "areas.shp"), encoding="utf-8")
    return mini_geodata / "sources/areas.dbf"


DBF_DAMAGE = {
    "missing": (lambda dbf: dbf.unlink(), r"its attribute table areas.dbf is missing"),
    "0 bytes": (lambda dbf: dbf.write_bytes(b""), r"its attribute table areas.dbf is empty \(0 bytes\)"),
    "cut short": (
        lambda dbf: dbf.write_bytes(dbf.read_bytes()[:-30]),
        r"its attribute table areas.dbf is truncated or corrupt: its header promises 2 rows",
    ),
}


@pytest.mark.parametrize("damage", sorted(DBF_DAMAGE))
def test_shapefile_without_a_whole_dbf_is_refused(damage, mini_geodata, tmp_path):
    dbf = _areas_as_shapefile(mini_geodata)
    store = GeoPackageStore(tmp_path / "atlas.gpkg")
    build_atlas(mini_geodata, store)  # the shapefile with its .dbf builds
    before = store.path.read_bytes()
    edit, message = DBF_DAMAGE[damage]
    edit(dbf)
    with pytest.raises(ValidationError) as info:
        build_atlas(mini_geodata, store)
    found = [str(p) for p in info.value.problems]
    assert any(re.match(r"file sources/areas.shp, layer areas: " + message, p) for p in found), found
    assert store.path.read_bytes() == before
    # the single-file check says the same (before: "ok: 2 features", attributes gone)
    with pytest.raises(SourceError, match=message):
        read_source(mini_geodata / "sources/areas.shp", crs="EPSG:4490")


def test_zipped_shapefile_without_dbf_is_refused(tmp_path):
    frame = gpd.GeoDataFrame({"k": ["a"]}, geometry=[shapely.Point(115.89, 28.68)], crs=4490)
    frame.to_file(tmp_path / "s.shp", encoding="UTF-8")
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as zf:
        for part in tmp_path.glob("s.*"):
            if part.suffix not in {".zip", ".dbf"}:
                zf.write(part, part.name)
    with pytest.raises(
        SourceError, match=r"s.zip: .*its attribute table s.dbf is missing|s.shp: its attribute table s.dbf is missing"
    ):
        read_source(tmp_path / "s.zip", crs="EPSG:4490")


def test_shapefile_dbf_rows_must_pair_with_shapes(tmp_path):
    two = gpd.GeoDataFrame({"k": ["a", "b"]}, geometry=[shapely.Point(115.89, 28.68)] * 2, crs=4490)
    two.to_file(tmp_path / "s.shp", encoding="UTF-8")
    two.iloc[:1].to_file(tmp_path / "one.shp", encoding="UTF-8")
    (tmp_path / "s.dbf").write_bytes((tmp_path / "one.dbf").read_bytes())
    with pytest.raises(SourceError, match=r"s.shp: the .dbf holds 1 attribute rows but the .shp 2 shapes"):
        read_source(tmp_path / "s.shp", crs="EPSG:4490")


def test_unknown_cpg_encoding_is_named(tmp_path):
    gpd.GeoDataFrame({"k": ["a"]}, geometry=[shapely.Point(115.89, 28.68)], crs=4490).to_file(tmp_path / "s.shp")
    (tmp_path / "s.cpg").write_text("NOT-A-CODEC", encoding="ascii")
    with pytest.raises(SourceError, match=r"s.shp: encoding 'NOT-A-CODEC' .* is not an encoding Python knows"):
        read_source(tmp_path / "s.shp", crs="EPSG:4490")


def test_validate_names_the_layers_and_takes_one(tmp_path):
    from click.testing import CliRunner

    from planatlas.cli.main import cli

    frame = gpd.GeoDataFrame({"k": ["a"]}, geometry=[shapely.Point(115.89, 28.68)], crs=4490)
    frame.to_file(tmp_path / "two.gpkg", layer="现状")
    frame.to_file(tmp_path / "two.gpkg", layer="规划")
    runner = CliRunner()
    refused = runner.invoke(cli, ["validate", str(tmp_path / "two.gpkg"), "--crs", "EPSG:4490"], catch_exceptions=False)
    assert refused.exit_code == 3
    assert "file two.gpkg: holds 2 layers ('现状', '规划')" in refused.output
    taken = runner.invoke(
        cli, ["validate", str(tmp_path / "two.gpkg"), "--crs", "EPSG:4490", "--layer", "规划"], catch_exceptions=False
    )
    assert taken.exit_code == 0, taken.output
    assert "ok: 1 features (Point), converted to EPSG:4490; bounds [115.89, 28.68, 115.89, 28.68]" in taken.output
