"""The build: joins, schema, geometry checks, atomic writes, and every bad input named in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planatlas.build import build_atlas, validate_geodata
from planatlas.errors import ValidationError
from planatlas.store.gpkg import GeoPackageStore


def _problems(root: Path) -> list[str]:
    return [str(p) for p in validate_geodata(root).problems]


def _set(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_mini_builds_joins_and_places(mini_geodata, tmp_path):
    store = GeoPackageStore(tmp_path / "a.gpkg")
    result = build_atlas(mini_geodata, store, report_path=tmp_path / "r.json")
    assert result.warnings == []
    assert store.layers() == ["areas", "indicators", "sites"]
    areas = store.read("areas")
    assert areas.geom_type.unique().tolist() == ["MultiPolygon"]
    assert areas.set_index("area_id")["residents"].to_dict()["north"] == 1200
    assert str(areas["residents"].dtype) == "Int64"
    sites = store.read("sites").set_index("site_id")
    # HTML is kept as data, verbatim (escaping happens where it is displayed)
    assert sites.loc["s1", "name"] == '<script>alert("x")</script>'
    # street-precision points are inside their area and apart from each other and the located one
    areas_m = areas.set_index("area_id").to_crs(4548).geometry
    sites_m = sites.to_crs(4548).geometry
    for key in ("s2", "s3", "s4"):
        assert areas_m[sites.loc[key, "area_id"]].contains(sites_m[key])
    dists = [sites_m[a].distance(sites_m[b]) for a in sites_m.index for b in sites_m.index if a < b]
    assert min(dists) >= 60
    # GCJ-02 source converted explicitly: s1 moved ~600 m from its declared web-map position
    assert sites.loc["s1"].geometry.x < 115.885
    meta = store.metadata()
    assert meta["layers"]["sites"]["precision"] == {"sourced": 1, "street": 3}
    assert {s["path"] for s in meta["layers"]["sites"]["sources"]} == {"sources/sites.csv", "attributes/sites.csv"}
    assert all(len(s["sha256"]) == 64 for s in meta["layers"]["areas"]["sources"])
    assert meta["planatlas_version"] and meta["built_at"]
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["ok"] is True
    indicators = store.read("indicators")
    assert indicators["value_2021"].tolist() == ["670.68亿元"]


def test_placement_is_deterministic(mini_geodata, tmp_path):
    a, b = GeoPackageStore(tmp_path / "a.gpkg"), GeoPackageStore(tmp_path / "b.gpkg")
    build_atlas(mini_geodata, a)
    build_atlas(mini_geodata, b)
    assert a.read("sites").geometry.equals(b.read("sites").geometry)


def test_store_read_filters(mini_geodata, tmp_path):
    store = GeoPackageStore(tmp_path / "a.gpkg")
    build_atlas(mini_geodata, store)
    assert store.read("sites", where={"area_id": "south"})["site_id"].tolist() == ["s4"]
    assert len(store.read("areas", bbox=(115.86, 28.69, 115.90, 28.70))) == 1
    assert list(store.read("sites", columns=["name"]).columns) == ["name", "geometry"]
    with pytest.raises(LookupError, match="not in layer 'sites'"):
        store.read("sites", where={"name; DROP TABLE sites": "x"})
    with pytest.raises(LookupError, match="unknown layer 'nope'"):
        store.read("nope")


BAD_INPUTS = {
    "self-intersecting polygon": (
        "sources/areas.geojson",
        lambda t: t.replace("[115.9,28.68],[115.9,28.7],[115.86,28.7]", "[115.9,28.7],[115.9,28.68],[115.86,28.7]", 1),
        r"file sources/areas.geojson, layer areas, feature north, field geometry: invalid geometry: Self-intersection",
    ),
    "mixed geometry types": (
        "sources/areas.geojson",
        lambda t: t.replace(
            '"geometry":{"type":"Polygon","coordinates":[[[115.86,28.66]',
            '"geometry":{"type":"LineString","coordinates":[[115.86,28.66],[115.9,28.7]]},"x":{"c":[[[115.86,28.66]',
            1,
        ),
        r"layer areas, feature south, field geometry: geometry type should be MultiPolygon, got LineString",
    ),
    "duplicate key": (
        "attributes/areas.csv",
        lambda t: t + "north,又一个北片,core,1,000_test.txt,13\n",
        r"file attributes/areas.csv, layer areas, feature north, field area_id: duplicate key",
    ),
    "attribute row with no geometry": (
        "attributes/areas.csv",
        lambda t: t + "east,东片,core,1,000_test.txt,13\n",
        r"file attributes/areas.csv, layer areas, feature east, field area_id: attribute row has no geometry",
    ),
    "geometry with no attributes": (
        "attributes/areas.csv",
        lambda t: "\n".join(line for line in t.splitlines() if not line.startswith("south")) + "\n",
        r"file attributes/areas.csv, layer areas, feature south, field area_id: geometry has no attribute row",
    ),
    "required attribute empty": (
        "attributes/areas.csv",
        lambda t: t.replace("north,北片", "north,"),
        r"file attributes/areas.csv, layer areas, feature north, field name: required value is empty",
    ),
    "enumeration violated": (
        "attributes/areas.csv",
        lambda t: t.replace("core", "centre"),
        r"layer areas, feature north, field kind: 'centre' is not one of \['core', 'edge'\]",
    ),
    "wrong type": (
        "attributes/areas.csv",
        lambda t: t.replace("1200", "约1200"),
        r"layer areas, feature north, field residents: '约1200' is not a valid int",
    ),
    "missing provenance": (
        "attributes/areas.csv",
        lambda t: t.replace("000_test.txt,10", "000_test.txt,"),
        r"layer areas, feature north, field source_lines: required value is empty",
    ),
    "coordinates outside China": (
        "sources/sites.csv",
        lambda t: t.replace("115.885,28.690", "2.35,48.85"),
        r"file sources/sites.csv, layer sites, feature s1, field geometry: coordinate \(2.35000, 48.85000\) lies outside China",
    ),
    "lat/lon swapped": (
        "sources/sites.csv",
        lambda t: t.replace("115.885,28.690", "28.690,115.885"),
        r"layer sites: .*latitude and longitude are swapped",
    ),
    "empty source file": (
        "sources/areas.geojson",
        lambda t: "",
        r"file sources/areas.geojson, layer areas: the file is empty",
    ),
    "street point with wrong precision": (
        "sources/sites.csv",
        lambda t: t.replace("s2,,,street", "s2,,,sourced"),
        r"layer sites, feature s2, field geometry: has no geometry but precision 'sourced'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_named_and_atlas_unchanged(case, mini_geodata, tmp_path):
    store = GeoPackageStore(tmp_path / "atlas.gpkg")
    build_atlas(mini_geodata, store)
    before = store.path.read_bytes()
    rel, edit, expected = BAD_INPUTS[case]
    path = mini_geodata / rel
    _set(path, edit(path.read_text(encoding="utf-8")))
    with pytest.raises(ValidationError) as info:
        build_atlas(mini_geodata, store, report_path=tmp_path / "report.json")
    messages = "\n".join(str(p) for p in info.value.problems)
    assert any(__import__("re").search(expected, str(p)) for p in info.value.problems), messages
    assert store.path.read_bytes() == before  # byte-for-byte untouched
    assert not list(tmp_path.glob(".atlas.gpkg.*"))  # no temp file left behind
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["ok"] is False and report["problems"]


def test_every_problem_is_reported_at_once(mini_geodata):
    path = mini_geodata / "attributes/areas.csv"
    _set(path, path.read_text(encoding="utf-8").replace("core", "centre").replace("north,北片", "north,"))
    found = _problems(mini_geodata)
    assert any("field name: required value is empty" in p for p in found)
    assert any("field kind: 'centre'" in p for p in found)


def test_dependent_layer_is_not_built_when_its_dependency_fails(mini_geodata):
    path = mini_geodata / "attributes/areas.csv"
    _set(path, path.read_text(encoding="utf-8").replace("core", "centre"))
    found = _problems(mini_geodata)
    assert any("layer sites: not built because layer(s) ['areas'] failed" in p for p in found)


def test_undeclared_column_is_a_warning(mini_geodata):
    path = mini_geodata / "attributes/areas.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    _set(path, "\n".join([lines[0] + ",extra", *(line + ",x" for line in lines[1:])]) + "\n")
    result = validate_geodata(mini_geodata)
    assert result.ok
    assert [str(w) for w in result.warnings] == [
        "file attributes/areas.csv, layer areas, field extra: column is not declared in the layer's [fields]"
    ]


def test_interrupted_write_leaves_atlas_untouched(mini_geodata, tmp_path, monkeypatch):
    store = GeoPackageStore(tmp_path / "atlas.gpkg")
    build_atlas(mini_geodata, store)
    before = store.path.read_bytes()
    import pyogrio

    real = pyogrio.write_dataframe
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", failing)
    with pytest.raises(OSError, match=r"atlas.gpkg was not written: the disk is full; nothing there was changed"):
        build_atlas(mini_geodata, store)
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.glob("*atlas.gpkg*")) == ["atlas.gpkg"]


def test_ensure_atlas_builds_then_rebuilds_when_geodata_changes(mini_geodata, tmp_path):
    from planatlas.build import atlas_is_stale, ensure_atlas
    from planatlas.settings import Settings

    settings = Settings(atlas_path=tmp_path / "a.gpkg", geodata_dir=mini_geodata)
    store = ensure_atlas(settings)
    assert store.exists() and not atlas_is_stale(store)
    path = mini_geodata / "attributes/areas.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("北片", "北区"), encoding="utf-8")
    assert atlas_is_stale(store)
    store = ensure_atlas(settings)
    assert "北区" in store.read("areas")["name"].tolist()


def test_unlocated_features_have_no_geometry_and_others_must(mini_geodata, tmp_path):
    path = mini_geodata / "sources/sites.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("s4,,,street", "s4,,,unlocated"), encoding="utf-8")
    store = GeoPackageStore(tmp_path / "a.gpkg")
    build_atlas(mini_geodata, store)
    sites = store.read("sites").set_index("site_id")
    assert sites.geometry["s4"] is None and sites.loc["s4", "precision"] == "unlocated"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "s1,115.885,28.690,sourced,north,100", "s1,115.885,28.690,unlocated,north,"
        ),
        encoding="utf-8",
    )
    found = _problems(mini_geodata)
    assert any("feature s1, field precision: precision 'unlocated' but the feature has a geometry" in p for p in found)
