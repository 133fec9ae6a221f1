"""The gazetteer (places/*.csv): each row checked in place, and point layers positioned from it by key."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import GEODATA
from planatlas import crs as pcrs
from planatlas.build import build_atlas, validate_geodata
from planatlas.catalog import PRECISION_CLASSES, parse_layer_spec
from planatlas.errors import CatalogError
from planatlas.gazetteer import PLACE_COLUMNS, cited_lines, load_gazetteer, place_names
from planatlas.store.gpkg import GeoPackageStore

HEADER = ",".join(PLACE_COLUMNS)
SEED = "\n".join(["第一行", "规划建设甲广场和乙大厦。", "丙公园（又称丙园）提升改造。", "无关的一行。"]) + "\n"
ROWS = {
    "a.csv": [
        (
            "jia_plaza,甲广场,Jia Plaza,,commercial_complex,西湖区,115.8900,28.6700,EPSG:4326,sourced,75,"
            "encyclopedia coordinate,https://example.org/jia,CC BY-SA 4.0,000_test.txt,2,"
        ),
        (
            "yi_tower,乙大厦,Yi Tower,,office_building,西湖区,115.8950,28.6650,GCJ-02,address,200,"
            "intersection 甲路 × 乙路,https://example.org/yi,CC BY-SA 4.0,000_test.txt,2,"
        ),
    ],
    "b.csv": [
        (
            "bing_park,丙公园,Bing Park,丙园,park,西湖区,115.8850,28.6600,EPSG:4490,street,800,"
            "street interior,,authored for planatlas CC0,000_test.txt,3,"
        ),
        "ding_market,丁市场,Ding Market,,market,西湖区,,,,unlocated,,,,,,,no position known",
    ],
}
SPOTS_TOML = """
name = "spots"
title = { zh = "点", en = "Spots" }
geometry_type = "Point"
key = "spot_id"

[geometry]
places = "place_id"

[[joins]]
table = "attributes/spots.csv"
on = "spot_id"

[fields.spot_id]
type = "str"
required = true
[fields.place_id]
type = "str"
required = true
[fields.uncertainty_m]
type = "int"
"""
SPOTS = "spot_id,place_id,source_file,source_lines\nsp1,jia_plaza,000_test.txt,2\nsp2,bing_park,000_test.txt,3\n"
SPOTS_TOO = SPOTS_TOML.replace('"spots"', '"spots_too"').replace("attributes/spots.csv", "attributes/spots_too.csv")
PLACES_TOML = (GEODATA / "layers" / "places.toml").read_text(encoding="utf-8")


@pytest.fixture
def gaz_tree(mini_geodata: Path) -> Path:
    """The mini tree with a gazetteer of four places, its seed, the places layer and two layers keyed on it."""
    root = mini_geodata
    (root / "places").mkdir()
    for name, rows in ROWS.items():
        (root / "places" / name).write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    (root / "seeds").mkdir()
    (root / "seeds" / "000_test.txt").write_text(SEED, encoding="utf-8")
    (root / "layers" / "places.toml").write_text(PLACES_TOML, encoding="utf-8")
    (root / "layers" / "spots.toml").write_text(SPOTS_TOML, encoding="utf-8")
    (root / "attributes" / "spots.csv").write_text(SPOTS, encoding="utf-8")
    (root / "layers" / "spots_too.toml").write_text(SPOTS_TOO, encoding="utf-8")
    (root / "attributes" / "spots_too.csv").write_text(
        "spot_id,place_id,source_file,source_lines\nt1,jia_plaza,000_test.txt,2\nt2,yi_tower,000_test.txt,2\n",
        encoding="utf-8",
    )
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}: the case would test nothing"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_layers_take_positions_from_the_gazetteer(gaz_tree, tmp_path):
    store = GeoPackageStore(tmp_path / "a.gpkg")
    result = build_atlas(gaz_tree, store)
    assert result.warnings == []
    spots = store.read("spots").set_index("spot_id")
    # EPSG:4326 is CGCS2000 to centimetres: stored as read
    assert spots.geometry["sp1"].x == pytest.approx(115.89, abs=1e-6)
    assert spots.loc["sp1", "precision"] == "sourced"
    assert int(spots.loc["sp1", "uncertainty_m"]) == 75
    assert spots.loc["sp1", "position_source"] == "https://example.org/jia"
    assert spots.loc["sp2", "precision"] == "street"
    assert spots.loc["sp2", "placed_by"] == "street interior"
    # one place, one position: the same place in two layers is the same point
    too = store.read("spots_too").set_index("spot_id")
    assert too.geometry["t1"].equals(spots.geometry["sp1"])
    # GCJ-02 rows are converted explicitly (~500 m in Nanchang), not taken as read
    lon, lat = pcrs.gcj02_to_wgs84([115.8950], [28.6650])
    assert too.geometry["t2"].x == pytest.approx(float(lon[0]), abs=1e-7)
    assert too.geometry["t2"].y == pytest.approx(float(lat[0]), abs=1e-7)
    assert abs(too.geometry["t2"].x - 115.8950) > 0.003
    meta = store.metadata()["layers"]
    assert {"places/a.csv", "places/b.csv"} <= {s["path"] for s in meta["spots"]["sources"]}
    assert meta["spots"]["precision"] == {"sourced": 1, "street": 1}


def test_places_layer_holds_every_place(gaz_tree, tmp_path):
    store = GeoPackageStore(tmp_path / "a.gpkg")
    build_atlas(gaz_tree, store)
    places = store.read("places").set_index("place_id")
    assert sorted(places.index) == ["bing_park", "ding_market", "jia_plaza", "yi_tower"]
    assert places.geometry["ding_market"] is None or places.geometry["ding_market"].is_empty
    assert places.loc["bing_park", "aliases"] == "丙园"
    assert places.loc["jia_plaza", "source_lines"] == "2"
    assert places.loc["ding_market", "source_file"] == "gazetteer"
    assert places.loc["ding_market", "source_lines"] == "n/a"
    assert places.loc["yi_tower", "gazetteer_file"] == "places/a.csv"


BAD_ROWS = {
    "duplicate id across files": (
        "b.csv", "bing_park,", "jia_plaza,", ("file places/b.csv, layer places, feature jia_plaza, field place_id: "
        "row 2: 'jia_plaza' is already a place in places/a.csv"),
    ),
    "unknown crs": ("a.csv", "EPSG:4326,", "WGS-84,", "feature jia_plaza, field crs: row 2: should be one of"),
    "position on an unlocated place": (
        "b.csv", "ding_market,丁市场,Ding Market,,market,西湖区,,",
        "ding_market,丁市场,Ding Market,,market,西湖区,115.9,28.6",
        "feature ding_market, field lon: row 3: an 'unlocated' place has no lon/lat",
    ),
    "no position on a located place": (
        "a.csv", "115.8900,28.6700,", ",28.6700,", "feature jia_plaza, field lon: row 2: required unless",
    ),
    "precision off the ladder": ("a.csv", "sourced,75", "approximate,75", "field precision: row 2: 'approximate' is not one of"),
    "uncertainty not whole metres": ("a.csv", "sourced,75", "sourced,75.5", "field uncertainty_m: row 2: should be whole metres"),
    "uncertainty missing": ("a.csv", "sourced,75", "sourced,", "field uncertainty_m: row 2: required"),
    "sourced without a source": (
        "a.csv", "https://example.org/jia,", ",", "feature jia_plaza, field position_source: row 2: precision 'sourced' needs",
    ),
    "outside China": ("a.csv", "115.8900,28.6700,", "-115.8900,28.6700,", "field lon: row 2: (-115.8900, 28.6700) is not inside China"),
    "cited line does not name it": ("b.csv", "000_test.txt,3,", "000_test.txt,4,", "field seed_lines: row 2: 000_test.txt line 4 names neither '丙公园' nor an alias"),
    "cited line past the end": ("b.csv", "000_test.txt,3,", "000_test.txt,3;40,", "field seed_lines: row 2: line 40 is past the end"),
    "bad place id": ("a.csv", "jia_plaza,", "Jia Plaza,", "field place_id: row 2: should match"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_each_bad_row_is_named_by_file_row_and_field(gaz_tree, case):
    file, old, new, expected = BAD_ROWS[case]
    _edit(gaz_tree / "places" / file, old, new)
    result = validate_geodata(gaz_tree)
    messages = [str(p) for p in result.problems]
    assert any(expected in m for m in messages), messages
    # layers keyed on the gazetteer wait for it; the others build
    assert "spots" not in result.layers and "places" not in result.layers
    assert "sites" in result.layers


def test_alias_satisfies_the_citation(gaz_tree):
    _edit(gaz_tree / "seeds" / "000_test.txt", "丙公园（又称丙园）", "丙园")
    assert validate_geodata(gaz_tree).problems == []


def test_wrong_columns_are_refused(gaz_tree):
    _edit(gaz_tree / "places" / "a.csv", ",note", ",remark")
    messages = [str(p) for p in validate_geodata(gaz_tree).problems]
    assert any("file places/a.csv" in m and "missing: note; not known: remark" in m for m in messages), messages


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "sp2,bing_park",
            "sp2,wu_place",
            "layer spots, feature sp2, field place_id: place 'wu_place' is not in the gazetteer",
        ),
        ("sp2,bing_park", "sp2,", "layer spots, feature sp2, field place_id: no place given"),
    ],
)
def test_layer_rows_without_a_known_place_are_refused(gaz_tree, old, new, expected):
    _edit(gaz_tree / "attributes" / "spots.csv", old, new)
    messages = [str(p) for p in validate_geodata(gaz_tree).problems]
    assert any(expected in m for m in messages), messages


def test_a_layer_may_not_bring_its_own_position(gaz_tree):
    rows = SPOTS.replace("place_id,source_file", "place_id,precision,source_file").replace("_plaza,", "_plaza,sourced,")
    (gaz_tree / "attributes" / "spots.csv").write_text(rows.replace("_park,", "_park,street,"), encoding="utf-8")
    messages = [str(p) for p in validate_geodata(gaz_tree).problems]
    expected = "file attributes/spots.csv, layer spots, field precision: comes from the gazetteer"
    assert any(expected in m for m in messages), messages


@pytest.mark.parametrize(
    ("geometry", "expected"),
    [
        ({"places": "place_id", "derive": "place_in_street"}, "places and derive exclude each other"),
        ({"places": "place_id", "source": "sources/x.geojson"}, "should be a CSV table"),
        ({"places": "place_id", "source": "sources/x.csv", "crs": "GCJ-02"}, "drop crs"),
        ({"places": "Place"}, "[geometry] places"),
    ],
)
def test_catalogue_refuses_places_with_other_geometry_settings(geometry, expected):
    data = {"name": "x", "title": {"zh": "x", "en": "x"}, "geometry_type": "Point", "key": "x_id", "geometry": geometry}
    with pytest.raises(CatalogError, match=r".*" + expected.replace("[", r"\[").replace("]", r"\]")):
        parse_layer_spec(data)
    data["geometry"] = {"places": "place_id"}
    data["geometry_type"] = "Polygon"
    with pytest.raises(CatalogError, match='places needs geometry_type = "Point"'):
        parse_layer_spec(data)


def test_cited_lines_and_names():
    assert cited_lines("12;30-32") == [(12, 12), (30, 32)]
    assert cited_lines("12,13") is None
    assert cited_lines("5-3") is None
    assert place_names({"name_zh": "丙 公园", "aliases": "丙园; 丙 园"}) == ["丙公园", "丙园", "丙园"]


def test_bundled_gazetteer_is_clean_and_cites_lines_that_name_each_place():
    gaz = load_gazetteer(GEODATA)
    assert gaz.problems == []
    seeds = {p.name: p.read_text(encoding="utf-8").splitlines() for p in (GEODATA / "seeds").glob("*.txt")}
    for pid, row in gaz.rows.iterrows():
        assert row["precision"] in PRECISION_CLASSES
        if not row["seed_file"]:
            continue
        names = place_names(row)
        for first, last in cited_lines(row["seed_lines"]) or []:
            text = "".join(seeds[row["seed_file"]][first - 1 : last]).replace(" ", "")
            assert any(n in text for n in names), (pid, first)


def _squashed(name: object) -> str:
    return "".join(str(name).split()).strip('“”"')


def test_a_name_shared_by_point_layers_sits_at_one_place(bundled_build):
    """Any name carried by point features of several layers lies within 150 m across them (issue 10)."""
    _store, result = bundled_build
    spots: dict[str, list[tuple[str, object]]] = {}
    for layer, frame in result.layers.items():
        if layer == "places" or "name" not in frame.columns or not hasattr(frame, "geometry"):
            continue
        if frame.geom_type.dropna().ne("Point").any():
            continue
        metric = frame.to_crs(pcrs.METRIC_CRS)
        for name, geom in zip(metric["name"], metric.geometry, strict=True):
            if geom is not None and not geom.is_empty:
                spots.setdefault(_squashed(name), []).append((layer, geom))
    shared = {n: s for n, s in spots.items() if len({layer for layer, _ in s}) > 1}
    assert len(shared) >= 20  # the names the issue counted are among them
    far = {
        n: round(max(a.distance(b) for _, a in s for _, b in s))
        for n, s in shared.items()
        if max(a.distance(b) for _, a in s for _, b in s) > 150
    }
    assert far == {}


def test_xihu_places_count_by_precision(bundled_build):
    """The Xihu layers' places, by precision: the numbers the data card and closing note quote."""
    _store, result = bundled_build
    places = result.layers["places"]
    xihu = places[places["gazetteer_file"] == "places/xihu.csv"]
    assert set(xihu["precision"]) <= {"sourced", "address", "street", "schematic", "unlocated"}
    # a cited position always names its source and licence
    cited = xihu[xihu["precision"].isin(["sourced", "address"])]
    assert (cited["position_source"].str.len() > 0).all() and (cited["position_licence"].str.len() > 0).all()
