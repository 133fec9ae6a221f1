"""Held-out bad inputs of the hardening audit: each refused with its place named, no traceback, atlas unchanged.

Before: a join table's ``1e999`` or ``99999999999999999999999`` in an ``int`` field was stored as
-2**63; a row with one field too many shifted the table into an index; a repeated or nameless
header came out as ``name.1``/``Unnamed: 2``; a BOM-only table, a ``title = "x"``, a
``description = 5``, a NUL in a path and a directory named ``x.toml`` were tracebacks; misspelt or
mistyped catalogue keys (``requird``, ``required = "no"``, ``optional = "yes"``, ``enum = "core"``,
``on = "area id"``) were accepted; an empty ``layers/`` built an empty atlas over the old one; and
``query … -o`` naming the atlas replaced the atlas with the query's rows.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

AREAS_HEADER = "area_id,name,kind,residents,source_file,source_lines\n"
SOUTH_ROW = "south,南片,edge,,000_test.txt,11-12\n"


def _table(text: str | bytes) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        target = root / "attributes" / "areas.csv"
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")

    return mutate


def _edit(old: str, new: str, relative: str = "layers/areas.toml") -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        path = root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return mutate


def _empty_layers(root: Path) -> None:
    for path in (root / "layers").iterdir():
        path.unlink()


def _toml_directory(root: Path) -> None:
    (root / "layers" / "extra.toml").mkdir()


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "int past int64": (
        _table(AREAS_HEADER + "north,北片,core,99999999999999999999999,000_test.txt,10\n" + SOUTH_ROW),
        r"file attributes/areas\.csv, layer areas, feature north, field residents: '9+' is not a valid int",
    ),
    "int 1e999": (
        _table(AREAS_HEADER + "north,北片,core,1e999,000_test.txt,10\n" + SOUTH_ROW),
        r"feature north, field residents: '1e999' is not a valid int",
    ),
    "int inf": (
        _table(AREAS_HEADER + "north,北片,core,inf,000_test.txt,10\n" + SOUTH_ROW),
        r"feature north, field residents: 'inf' is not a valid int",
    ),
    "row with a field too many": (
        _table(AREAS_HEADER + "north,北片,core,1200,000_test.txt,10,EXTRA\n" + SOUTH_ROW),
        r"file attributes/areas\.csv, layer areas, feature row 2: has 7 fields but the header 6",
    ),
    "row with a field too few": (
        _table(AREAS_HEADER + "north,北片,core,1200,000_test.txt\n" + SOUTH_ROW),
        r"feature row 2: has 5 fields but the header 6",
    ),
    "repeated header": (
        _table(
            "area_id,name,name,residents,source_file,source_lines\nnorth,北片,core,1200,000_test.txt,10\n" + SOUTH_ROW
        ),
        r"file attributes/areas\.csv, layer areas, feature row 1, field name: the header names column 'name' 2 times",
    ),
    "nameless header column": (
        _table("area_id,name,,residents,source_file,source_lines\nnorth,北片,core,1200,000_test.txt,10\n" + SOUTH_ROW),
        r"feature row 1: the header's column 3 has no name",
    ),
    "table holding only a BOM": (_table(b"\xef\xbb\xbf"), r"file attributes/areas\.csv, layer areas: .*no header row"),
    "NUL in a cell": (
        _table(AREAS_HEADER + "north,北\x00片,core,1200,000_test.txt,10\n" + SOUTH_ROW),
        r"feature row 2, field name: holds a NUL character",
    ),
    "a column named fid (GeoPackage's feature id)": (
        _table(
            AREAS_HEADER.replace("\n", ",fid\n")
            + "north,北片,core,1200,000_test.txt,10,x\nsouth,南片,edge,,000_test.txt,11-12,y\n"
        ),
        r"file attributes/areas\.csv, layer areas, field fid: column name 'fid' is taken by the atlas stores",
    ),
    "a column named GEOM": (
        _table(
            AREAS_HEADER.replace("\n", ",GEOM\n")
            + "north,北片,core,1200,000_test.txt,10,x\nsouth,南片,edge,,000_test.txt,11-12,y\n"
        ),
        r"field GEOM: column name 'GEOM' is taken by the atlas stores",
    ),
    "unknown [geometry] encoding": (
        _edit('crs = "EPSG:4490"', 'crs = "EPSG:4490"\nencoding = "nope"'),
        r"layers/areas\.toml: \[geometry\] encoding should be a text encoding .*got 'nope'",
    ),
    "unknown top-level table": (
        _edit('licence = "CC0"', 'licence = "CC0"\n[stlye]\ncolor = "#ffffff"'),
        r"layers/areas\.toml: key\(s\) 'stlye' not known",
    ),
    "misspelt field key": (
        _edit('[fields.residents]\ntype = "int"', '[fields.residents]\ntype = "int"\nrequird = true'),
        r"\[fields\.residents\] key\(s\) 'requird' not known",
    ),
    "required as text": (
        _edit("required = true", 'required = "no"'),
        r"\[fields\.area_id\] required should be true or false, got 'no'",
    ),
    "enum as text": (
        _edit('enum = ["core", "edge"]', 'enum = "core"'),
        r"\[fields\.kind\] enum should be a list, got 'core'",
    ),
    "field title as text": (
        _edit('[fields.residents]\ntype = "int"', '[fields.residents]\ntype = "int"\ntitle = "x"'),
        r"\[fields\.residents\] title should be a table of texts",
    ),
    "description as a number": (
        _edit('key = "area_id"', 'key = "area_id"\ndescription = 5'),
        r"layers/areas\.toml: description should be a table of texts",
    ),
    "title text as a number": (
        _edit('title = { zh = "片区", en = "Areas" }', 'title = { zh = 1, en = "Areas" }'),
        r"layers/areas\.toml: title should be a table with 'zh' and 'en'",
    ),
    "join key not an identifier": (
        _edit('on = "area_id"', 'on = "area id"'),
        r"\[\[joins\]\] on should match .*got 'area id'",
    ),
    "join optional as text": (
        _edit('on = "area_id"', 'on = "area_id"\noptional = "yes"'),
        r"\[\[joins\]\] optional should be true or false",
    ),
    "misspelt join key": (
        _edit('on = "area_id"', 'on = "area_id"\ntabel = "x"'),
        r"\[\[joins\]\] key\(s\) 'tabel' not known",
    ),
    "data-card text as a number": (
        _edit('source = "test fixture"', "source = 5"),
        r"layers/areas\.toml: source should be text, got 5",
    ),
    "NUL in a source path": (
        _edit('source = "sources/areas.geojson"', 'source = "sources/areas.geojson\\u0000x"'),
        r"\[geometry\] source should be a path .*control character",
    ),
    "a directory named *.toml": (_toml_directory, r"layers/extra\.toml: cannot be read as a layer entry"),
    "layers/ without entries": (_empty_layers, r"'layers/' holds no layer \.toml files"),
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("case", list(CASES))
def test_validate_and_build_refuse_with_the_place_named(case: str, mini_geodata: Path, run, tmp_path: Path) -> None:
    good = tmp_path / "good"
    shutil.copytree(mini_geodata, good)
    assert run("build", "--source", str(good)).exit_code == 0
    atlas = tmp_path / "atlas.gpkg"
    before = _sha(atlas)
    mutate, expected = CASES[case]
    mutate(mini_geodata)
    for args in (("validate", str(mini_geodata)), ("build", "--source", str(mini_geodata))):
        result = run(*args)
        assert result.exit_code == 3, result.output
        assert "Traceback" not in result.output
        assert re.search(expected, result.output), result.output
    assert _sha(atlas) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".atlas")) == []


def test_an_unknown_dependency_names_the_layer_file(mini_geodata: Path, run) -> None:
    _edit('depends = ["areas"]', 'depends = ["nope"]', "layers/sites.toml")(mini_geodata)
    result = run("validate", str(mini_geodata))
    assert result.exit_code == 3
    assert "layers/sites.toml: layer 'sites' depends on unknown layer 'nope'" in result.output


def test_an_output_naming_the_atlas_is_refused_and_the_atlas_kept(mini_geodata: Path, run, tmp_path: Path) -> None:
    assert run("build", "--source", str(mini_geodata)).exit_code == 0
    atlas = tmp_path / "atlas.gpkg"
    before = _sha(atlas)
    query = run("query", "within", "--layer", "sites", "--of", "areas", "--distance", "1km", "-o", str(atlas))
    dump = run("dump", "sites", "-o", str(atlas))
    report = run("validate", str(mini_geodata), "--report", str(atlas))
    for result in (query, dump, report):
        assert result.exit_code != 0, result.output
        assert "is a planatlas atlas; an output written there would replace it" in result.output
    assert _sha(atlas) == before
    assert run("layers").exit_code == 0


def _shapefile(folder: Path, names: list[str], *, encoding: str = "GBK") -> Path:
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame(
        {"area_id": ["north", "south"], "note": names},
        geometry=[shapely.Point(115.88, 28.69), shapely.Point(115.88, 28.67)],
        crs="EPSG:4490",
    )
    shp = folder / "areas.shp"
    frame.to_file(shp, encoding=encoding)
    return shp


def _zip(folder: Path, shp: Path, extra: dict[str, bytes] | None = None) -> Path:
    import zipfile

    archive = folder / "areas.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in sorted(shp.parent.glob("areas.*")):
            if part.suffix != ".zip":
                zf.writestr(part.name, part.read_bytes())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return archive


@pytest.mark.parametrize("cpg", [None, "GBK"])
def test_a_dbf_byte_that_is_not_its_encoding_is_refused_by_feature_and_field(tmp_path: Path, cpg: str | None) -> None:
    from planatlas.errors import SourceError
    from planatlas.io import read_source

    shp = _shapefile(tmp_path, ["北片", "南"])
    tmp_path.joinpath("areas.cpg").unlink(missing_ok=True)
    if cpg:
        tmp_path.joinpath("areas.cpg").write_text(cpg)
    dbf = tmp_path / "areas.dbf"
    data = bytearray(dbf.read_bytes())
    at = data.find("南".encode("gbk"))
    data[at : at + 2] = b"\x81\x20"  # a GBK lead byte without a valid trail byte
    dbf.write_bytes(bytes(data))
    with pytest.raises(SourceError) as caught:
        read_source(shp, crs="EPSG:4490", key="area_id")
    (problem,) = caught.value.problems
    assert (problem.file, problem.feature, problem.field) == ("areas.shp", "#2", "note")
    assert "bytes 81 20 are not" in problem.message


def test_zip_entries_that_flatten_to_one_name_are_refused(tmp_path: Path) -> None:
    from planatlas.errors import SourceError
    from planatlas.io import read_source

    archive = _zip(tmp_path, _shapefile(tmp_path, ["北片", "南片"]), {"sub/areas.dbf": b"not the attribute table"})
    with pytest.raises(SourceError, match=r"entries 'areas\.dbf' and 'sub/areas\.dbf' have the same file name"):
        read_source(archive, crs="EPSG:4490")


def test_an_encrypted_zip_entry_is_a_located_problem(tmp_path: Path) -> None:
    from planatlas.errors import SourceError
    from planatlas.io import read_source

    archive = _zip(tmp_path, _shapefile(tmp_path, ["北片", "南片"]))
    data = bytearray(archive.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the 'encrypted' bit of every entry
        at = data.find(signature)
        while at != -1:
            data[at + flag_at] |= 1
            at = data.find(signature, at + 4)
    archive.write_bytes(bytes(data))
    with pytest.raises(SourceError, match=r"areas\.zip: entry 'areas\.\w+' cannot be extracted .*without a password"):
        read_source(archive, crs="EPSG:4490")


def test_a_problem_inside_a_zip_names_the_zip_and_the_member(tmp_path: Path) -> None:
    from planatlas.errors import SourceError
    from planatlas.io import read_source

    shp = _shapefile(tmp_path, ["北片", "南片"])
    tmp_path.joinpath("areas.cpg").write_text("FOO-42")
    archive = _zip(tmp_path, shp)
    with pytest.raises(SourceError) as caught:
        read_source(archive, crs="EPSG:4490")
    (problem,) = caught.value.problems
    assert problem.file == "areas.zip"
    assert problem.message.startswith("areas.shp: encoding 'FOO-42'")


def _areas_with(mini: Path, *, altitude: bool = False, note: str | None = None) -> None:
    import json

    path = mini / "sources" / "areas.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    feature = doc["features"][0]
    if altitude:  # as Google Earth writes every KML vertex: ",0"
        feature["geometry"]["coordinates"] = [
            [[x, y, 0.0] for x, y in ring] for ring in feature["geometry"]["coordinates"]
        ]
    if note is not None:
        feature["properties"]["note"] = note
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_heights_are_dropped_so_the_atlas_stays_two_dimensional(mini_geodata: Path, tmp_path: Path) -> None:
    import shapely

    from planatlas.build import build_atlas
    from planatlas.store.gpkg import GeoPackageStore

    _areas_with(mini_geodata, altitude=True)
    store = GeoPackageStore(tmp_path / "z.gpkg")
    build_atlas(mini_geodata, store)  # warnings are errors: pyogrio warned of Z in a 2-D layer
    assert not shapely.has_z(store.read("areas").geometry.to_numpy()).any()


def test_a_nul_in_a_source_property_is_refused_by_validate(mini_geodata: Path) -> None:
    from planatlas.build import validate_geodata

    _areas_with(mini_geodata, note="a\x00b")
    problems = [str(p) for p in validate_geodata(mini_geodata).problems]
    assert (
        "file sources/areas.geojson, layer areas, feature north, field note: holds a NUL character (byte 0)" in problems
    )


@pytest.mark.postgis
def test_postgis_builds_what_validate_accepts(mini_geodata: Path, postgis_url: str) -> None:
    from planatlas.build import build_atlas
    from planatlas.store.postgis import PostGISStore

    _areas_with(mini_geodata, altitude=True)
    with PostGISStore(postgis_url, schema="heights") as store:
        build_atlas(mini_geodata, store)
        assert len(store.read("areas")) == 2


@pytest.mark.parametrize("coordinates", [["115.885", "28.69"], [115.885, None], [True, 28.69]])
def test_coordinates_that_are_not_numbers_are_refused_not_dropped(tmp_path: Path, coordinates: list[object]) -> None:
    """A derivation's source keeps rows without geometry (they are placed later): a dropped geometry went unseen."""
    import json

    from planatlas.errors import SourceError
    from planatlas.io import read_source

    features = [
        {"type": "Feature", "properties": {"site_id": "s1"}, "geometry": {"type": "Point", "coordinates": coordinates}},
        {
            "type": "Feature",
            "properties": {"site_id": "s2"},
            "geometry": {"type": "Point", "coordinates": [115.88, 28.7]},
        },
    ]
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        read_source(path, crs="GCJ-02", allow_empty_geometry=True, key="site_id")
    (problem,) = caught.value.problems
    assert (problem.file, problem.feature, problem.field) == ("sites.geojson", "s1", "geometry")
    assert problem.message.startswith("coordinates should be numbers, got ")


def test_an_atlas_behind_a_symbolic_link_is_rebuilt_where_the_link_points(
    mini_geodata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from planatlas.cli.main import cli

    shared = tmp_path / "shared" / "atlas.gpkg"
    link = tmp_path / "atlas.gpkg"
    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(shared))
    assert CliRunner().invoke(cli, ["build", "--source", str(mini_geodata)]).exit_code == 0
    link.symlink_to(shared)
    before = _sha(shared)
    _edit("北片", "北片区", "attributes/areas.csv")(mini_geodata)
    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(link))
    result = CliRunner().invoke(cli, ["build", "--source", str(mini_geodata)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert _sha(shared) != before


def test_a_geopackage_attribute_table_as_geometry_source_is_a_located_problem(tmp_path: Path) -> None:
    import pandas as pd
    import pyogrio

    from planatlas.errors import SourceError
    from planatlas.io import read_source

    path = tmp_path / "areas.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"area_id": ["north"]}), path, layer="a", driver="GPKG")
    with pytest.raises(SourceError, match=r"areas\.gpkg: layer 'a' has no geometry column \(an attribute table\)"):
        read_source(path, crs="EPSG:4490")


def test_a_directory_named_as_a_source_is_called_a_directory(tmp_path: Path) -> None:
    from planatlas.errors import SourceError
    from planatlas.io import read_source, read_table

    folder = tmp_path / "areas.geojson"
    folder.mkdir()
    for read in (lambda: read_source(folder, crs="EPSG:4490"), lambda: read_table(folder)):
        with pytest.raises(SourceError, match="is a directory, not a file"):
            read()


def test_a_kml_network_link_is_refused_rather_than_read_without_its_features(tmp_path: Path) -> None:
    from planatlas.errors import SourceError
    from planatlas.io import read_source

    path = tmp_path / "places.kml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Placemark><name>p1</name><Point><coordinates>115.88,28.69</coordinates></Point></Placemark>"
        "<NetworkLink><Link><href>http://127.0.0.1:9/more.kml</href></Link></NetworkLink></Document></kml>",
        encoding="utf-8",
    )
    with pytest.raises(SourceError, match=r"places\.kml: holds a <NetworkLink>, whose features are not read"):
        read_source(path, crs="EPSG:4490")


def test_a_preset_parameter_given_twice_is_refused(run) -> None:
    result = run("export", "jiuwang-roads", "--param", "phase=2022", "--param", "phase=2023", "-o", "j.html")
    assert result.exit_code == 2
    assert "parameter 'phase' is given more than once" in result.output
