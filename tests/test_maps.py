"""Tests of planatlas.maps: styles, legends, filters, count joins, rings, presets."""

from __future__ import annotations

import math

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from planatlas.crs import METRIC_CRS
from planatlas.maps import PRESETS, Category, Style, get_preset, prepare_preset, resolve_style
from planatlas.maps.classify import graduated_bounds
from planatlas.maps.frames import add_count, apply_filter, prepare_layer
from planatlas.maps.presets import Filter, Param, PresetLayer


def _points(values, column="kind"):
    geoms = [Point(115.88 + i * 0.001, 28.66) for i in range(len(values))]
    return gpd.GeoDataFrame({column: values, "precision": "sourced"}, geometry=geoms, crs=4490)


def test_categorical_listed_then_automatic_categories_with_counts():
    st = Style(
        kind="categorical",
        column="kind",
        categories=(Category("a", "#ff0000", {"zh": "甲", "en": "A"}),),
    )
    gdf = _points(["a", "b", "a", "c", None])
    rs = resolve_style(st, gdf)
    assert [c.value for c in rs.categories] == ["a", "b", "c"]
    assert rs.counts == (2, 1, 1)
    colors = rs.feature_colors(gdf)
    assert colors[0] == colors[2] == "#ff0000"
    assert len({colors[1], colors[3], "#ff0000"}) == 3
    assert colors[4] == st.color  # no value: fallback colour
    legend = rs.legend("en")
    assert [e.label_in("en") for e in legend] == ["A", "b", "c"]
    assert legend[0].label_in("zh") == "甲"
    assert all(e.symbol == "point" for e in legend)


def test_categorical_matches_years_across_int_float_and_str():
    st = Style(
        kind="categorical",
        column="start_year",
        auto_categories=False,
        categories=(Category(2021, "#111111"), Category(2022, "#222222")),
    )
    gdf = _points([2021, 2022.0, "2021", 2023], column="start_year")
    rs = resolve_style(st, gdf)
    assert list(rs.class_index(gdf)) == [0, 1, 0, -1]


def test_width_by_class_in_features_and_legend():
    st = Style(
        kind="categorical",
        column="y",
        fill=False,
        weight=3,
        categories=(Category(1, "#111111"),),
        width_column="cls",
        widths={"主干路": 6, "支路": 2},
    )
    lines = [LineString([(115.8, 28.6), (115.81, 28.6)])] * 3
    gdf = gpd.GeoDataFrame({"y": [1, 1, 1], "cls": ["主干路", "支路", "其他"]}, geometry=lines, crs=4490)
    rs = resolve_style(st, gdf)
    assert rs.feature_widths(gdf) == [6.0, 2.0, 3.0]
    legend = rs.legend("zh")
    assert [(e.label_in("zh"), e.weight) for e in legend if e.value in ("主干路", "支路")] == [
        ("主干路", 6.0),
        ("支路", 2.0),
    ]


def test_graduated_integer_bounds_and_labels():
    assert graduated_bounds([0, 1, 2, 3, 10], classes=2, scheme="equal_interval") == (
        0.0,
        5.0,
        10.0,
    )
    gdf = _points([0, 3, 5, 6, 10], column="n")
    rs = resolve_style(Style(kind="graduated", column="n", classes=2, unit={"zh": "家", "en": "firms"}), gdf)
    assert list(rs.class_index(gdf)) == [0, 0, 0, 1, 1]
    assert [e.label_in("zh") for e in rs.legend("zh")] == ["0–5 家", "6–10 家"]
    assert [e.count for e in rs.legend("en")] == [3, 2]


def test_style_rejects_bad_colour_and_missing_column():
    with pytest.raises(ValueError, match="#rrggbb"):
        Style(color="red")
    with pytest.raises(ValueError, match="needs a column"):
        Style(kind="categorical")
    with pytest.raises(KeyError, match="theme"):
        resolve_style(Style(kind="categorical", column="theme"), _points(["a"]))


def test_filters_ops_and_params():
    gdf = _points([2021, 2022, 2023], column="start_year")
    flt = Filter("start_year", "<=", Param("phase"))
    assert len(apply_filter(gdf, flt, {"phase": 2022})) == 2
    assert len(apply_filter(gdf, Filter("start_year", "in", [2021, 2023]))) == 2
    assert len(apply_filter(gdf, Filter("start_year", "!=", "2021"))) == 2
    with pytest.raises(KeyError, match="phase"):
        apply_filter(gdf, flt, {})
    with pytest.raises(KeyError, match="nope"):
        apply_filter(gdf, Filter("nope", "==", 1))


def test_jiuwang_phase_filter_binds_and_validates():
    preset = get_preset("jiuwang-roads")
    assert preset.params_with_defaults({}) == {"phase": 2023}
    bound = preset.bind(phase=2021)
    assert bound.layer("roads").filters[0].value == 2021
    with pytest.raises(ValueError, match="phase should be one of 2021, 2022, 2023"):
        preset.bind(phase=2019)


def test_count_join_counts_rows_per_street_with_zero():
    streets = gpd.GeoDataFrame(
        {"street_id": ["a", "b", "c"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
        crs=4490,
    )
    hq = gpd.pd.DataFrame({"street_id": ["a", "a", "c", "a"]})
    out = add_count(streets, hq, on="street_id", table_on="street_id", column="hq_count")
    assert out["hq_count"].tolist() == [3, 0, 1]


def test_buffer_rings_are_metric_1km():
    pl = PresetLayer(id="rings", layer="stations", title={"zh": "环", "en": "rings"}, buffer_m=1000)
    prepared = prepare_layer(pl, {"stations": _points(["x"])})
    area = prepared.frame.to_crs(METRIC_CRS).area.iloc[0]
    assert area == pytest.approx(math.pi * 1000**2, rel=0.002)
    assert prepared.frame.crs.to_epsg() == 4490


def test_simplification_keeps_shared_edges_of_a_coverage():
    # two neighbours sharing a wiggly edge: simplified, they must still not overlap or gap
    import numpy as np

    xs = np.linspace(115.80, 115.90, 200)
    wiggle = [(x, 28.65 + 0.000005 * math.sin(i)) for i, x in enumerate(xs)]
    north = shapely.Polygon([*wiggle, (115.90, 28.70), (115.80, 28.70)])
    south = shapely.Polygon([*wiggle, (115.90, 28.60), (115.80, 28.60)])
    gdf = gpd.GeoDataFrame({"precision": ["schematic"] * 2}, geometry=[north, south], crs=4490)
    pl = PresetLayer(id="s", layer="streets", title={"zh": "街", "en": "s"}, simplify_m=5)
    out = prepare_layer(pl, {"streets": gdf}).frame
    assert (
        shapely.get_num_coordinates(out.geometry.values).sum()
        < shapely.get_num_coordinates(gdf.geometry.values).sum() / 2
    )
    m = out.to_crs(METRIC_CRS)
    assert m.geometry.iloc[0].intersection(m.geometry.iloc[1]).area < 1.0
    assert abs(m.union_all().area - gdf.to_crs(METRIC_CRS).union_all().area) < 10.0


def test_prepared_layer_reports_schematic():
    pl = PresetLayer(id="s", layer="streets", title={"zh": "街", "en": "s"})
    gdf = _points(["a", "b"])
    gdf["precision"] = ["schematic", "sourced"]
    prepared = prepare_layer(pl, {"streets": gdf})
    assert prepared.schematic
    assert prepared.precision == {"schematic": 1, "sourced": 1}


def test_presets_are_complete_and_bilingual():
    assert set(PRESETS) == {
        "one-belt-four-zones",
        "jiuwang-roads",
        "buildings",
        "commerce-culture",
        "hq-by-street",
        "metro",
    }
    for preset in PRESETS.values():
        assert preset.title["zh"] and preset.title["en"]
        for pl in preset.layers:
            assert pl.title["zh"] and pl.title["en"], (preset.name, pl.id)
    with pytest.raises(KeyError, match="preset should be one of"):
        get_preset("nope")


def test_prepare_preset_uses_parameter_defaults():
    roads = gpd.GeoDataFrame(
        {
            "start_year": [2021, 2022, 2023],
            "class": ["主干路", "支路", "次干路"],
            "precision": "schematic",
        },
        geometry=[LineString([(115.7, 28.6 + i * 0.01), (115.72, 28.6 + i * 0.01)]) for i in range(3)],
        crs=4490,
    )
    areas = gpd.GeoDataFrame(
        {"kind": ["新城范围", "一心"], "precision": "schematic"},
        geometry=[box(115.69, 28.59, 115.73, 28.64), box(115.70, 28.60, 115.71, 28.61)],
        crs=4490,
    )
    axes = gpd.GeoDataFrame({"kind": ["城市道路"]}, geometry=[LineString([(115.7, 28.6), (115.7, 28.7)])], crs=4490)
    projects = gpd.GeoDataFrame({"category": ["公园"]}, geometry=[Point(115.71, 28.62)], crs=4490)
    frames = {
        "jiuwang_roads": roads,
        "jiuwang_areas": areas,
        "road_axes": axes,
        "jiuwang_projects": projects,
    }
    preset = get_preset("jiuwang-roads")
    by_id = {p.layer.id: p for p in prepare_preset(preset, frames, params={"phase": 2022})}
    assert len(by_id["roads"].frame) == 2
    assert len(by_id["boundary"].frame) == 1 and len(by_id["structure"].frame) == 1
    default = {p.layer.id: p for p in prepare_preset(preset, frames)}
    assert len(default["roads"].frame) == 3


@pytest.fixture(scope="module")
def catalogue():
    from pathlib import Path

    from planatlas.catalog import load_catalog

    return load_catalog(Path(__file__).resolve().parents[1] / "geodata")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_layers_and_columns_exist_in_the_catalogue(name, catalogue):
    """Every preset names catalogue layers and declared fields (the data issue's contract)."""
    preset = get_preset(name)
    for pl in preset.layers:
        assert pl.layer in catalogue, f"{name}/{pl.id}: no catalogue layer {pl.layer!r}"
        spec = catalogue[pl.layer]
        assert spec.has_geometry, f"{name}/{pl.id}: {pl.layer!r} has no geometry"
        declared = set(spec.fields) | {"precision", "source_file", "source_lines"}
        wanted = pl.columns() - ({pl.count.column} if pl.count else set())
        missing = wanted - declared
        assert not missing, f"{name}/{pl.id}: {pl.layer!r} does not declare {sorted(missing)}"
        for flt in pl.filters:
            enum = spec.fields[flt.column].enum
            values = flt.value if isinstance(flt.value, (list, tuple)) else [flt.value]
            if enum and not any(hasattr(v, "name") for v in values):
                assert set(values) <= set(enum), f"{name}/{pl.id}: filter values {values} not in {enum}"
        if pl.style.kind == "categorical" and pl.style.categories:
            enum = spec.fields[pl.style.column].enum
            if enum:
                listed = {c.value for c in pl.style.categories}
                assert listed <= set(enum), f"{name}/{pl.id}: categories {listed - set(enum)} not in enum"
        if pl.count:
            assert pl.count.table in catalogue
            assert pl.count.table_on in catalogue[pl.count.table].fields


def test_graduated_explicit_breaks_and_out_of_range_fallback():
    gdf = _points([0, 2, 3, 9, 12], column="n")
    rs = resolve_style(Style(kind="graduated", column="n", breaks=(2, 5, 10), color="#000000"), gdf)
    assert rs.bounds == (0.0, 2, 5, 10)
    assert list(rs.class_index(gdf)) == [0, 0, 1, 2, -1]
    assert rs.feature_colors(gdf)[-1] == "#000000"
    assert [e.label_in("en") for e in rs.legend("en")] == ["0–2", "3–5", "6–10"]


def test_coded_values_read_in_both_languages():
    from planatlas.maps.presets import value_label

    assert value_label("status", "existing", "zh") == "已建成"
    assert value_label("status", "under_construction", "en") == "under construction"
    assert value_label("category", "historic_block", "zh") == "历史文化街区"
    assert value_label("kind", "industrial_park", "en") == "industrial park"
    assert value_label("status", "something else", "zh") == "something else"
    assert value_label("name", "existing", "zh") == "existing"  # only coded fields are translated


def test_on_map_labels_drop_a_suffix_only_where_asked():
    streets = get_preset("one-belt-four-zones").layer("streets")
    assert streets.map_label("Nanpu Subdistrict", "en") == "Nanpu"
    assert streets.map_label("南浦街道", "zh") == "南浦街道"
    assert streets.map_label(" Subdistrict", "en") == " Subdistrict"


def test_fisher_jenks_finds_the_natural_breaks():
    # three tight groups: the natural breaks fall between them, whatever equal intervals would say
    values = [1, 2, 3, 10, 11, 12, 20, 21, 22]
    assert graduated_bounds(values, classes=3, scheme="fisher_jenks") == (1.0, 3.0, 12.0, 22.0)
    assert graduated_bounds(values, classes=3, scheme="equal_interval") == (1.0, 8.0, 15.0, 22.0)
    floats = [0.5, 0.6, 0.7, 5.1, 5.2, 9.9]
    assert graduated_bounds(floats, classes=3, scheme="fisher_jenks") == (0.5, 0.7, 5.2, 9.9)
    # fewer distinct values than classes: as many classes as values allow
    assert graduated_bounds([1, 1, 2, 2, 5], classes=4, scheme="fisher_jenks") == (1.0, 2.0, 5.0)
    gdf = _points(values, column="n")
    rs = resolve_style(Style(kind="graduated", column="n", classes=3, scheme="fisher_jenks"), gdf)
    assert list(rs.class_index(gdf)) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [e.label_in("en") for e in rs.legend("en")] == ["1–3", "4–12", "13–22"]
    assert [e.count for e in rs.legend("en")] == [3, 3, 3]


def test_integer_cuts_survive_rounding_noise():
    # 38 + 3 * 14/6 is 45 exactly; computed in floating point it lands a hair above 45
    assert graduated_bounds([38, 52, 41, 45], classes=6, scheme="equal_interval") == (
        38.0,
        41.0,
        43.0,
        45.0,
        48.0,
        50.0,
        52.0,
    )
    # the 40th percentile of these six is 0, the 60th is 1: no spurious class (1, 2]
    assert graduated_bounds([0, 0, 0, 1, 2, 3], classes=5, scheme="quantile") == (0.0, 1.0, 2.0, 3.0)


def test_style_rejects_an_unknown_scheme():
    with pytest.raises(ValueError, match="scheme should be one of"):
        Style(kind="graduated", column="n", scheme="jenks")
    with pytest.raises(ValueError, match="scheme should be one of"):
        graduated_bounds([1, 2], classes=2, scheme="jenks")


def _jiuwang_frames():
    roads = gpd.GeoDataFrame(
        {"start_year": [2021, 2022, 2023], "class": ["主干路", "支路", "次干路"], "precision": "schematic"},
        geometry=[LineString([(115.7, 28.6 + i * 0.01), (115.72, 28.6 + i * 0.01)]) for i in range(3)],
        crs=4490,
    )
    areas = gpd.GeoDataFrame(
        {"kind": ["新城范围"], "precision": "schematic"}, geometry=[box(115.69, 28.59, 115.73, 28.64)], crs=4490
    )
    axes = gpd.GeoDataFrame({"kind": ["城市道路"]}, geometry=[LineString([(115.7, 28.6), (115.7, 28.7)])], crs=4490)
    projects = gpd.GeoDataFrame({"category": ["公园"]}, geometry=[Point(115.71, 28.62)], crs=4490)
    districts = gpd.GeoDataFrame({"district_id": ["xinjian"]}, geometry=[box(115.6, 28.5, 115.8, 28.8)], crs=4490)
    return {
        "jiuwang_roads": roads,
        "jiuwang_areas": areas,
        "road_axes": axes,
        "jiuwang_projects": projects,
        "districts": districts,
    }


class _FakeStore:
    """Just enough of a LayerStore for load_preset: read, spec, layers; records what is read."""

    def __init__(self, frames):
        self.frames = frames
        self.read_log = []

    def layers(self):
        return list(self.frames)

    def read(self, name):
        self.read_log.append(name)
        return self.frames[name]

    def spec(self, name):
        from types import SimpleNamespace

        title = SimpleNamespace(title={"zh": "开工年份", "en": "Start year"})
        fields = {"start_year": title, "class": SimpleNamespace(title={})} if name == "jiuwang_roads" else {}
        return SimpleNamespace(key=f"{name}_id", fields=fields)


def test_load_preset_reads_once_and_fills_parameter_defaults():
    from planatlas.maps import load_preset, prepare_preset_data

    store = _FakeStore(_jiuwang_frames())
    data = load_preset(store, "jiuwang-roads")
    assert data.params == {"phase": 2023}
    assert store.read_log == ["jiuwang_areas", "road_axes", "jiuwang_roads", "jiuwang_projects", "districts"]
    assert data.keys["jiuwang_roads"] == "jiuwang_roads_id"
    assert data.field_titles["jiuwang_roads"] == {"start_year": {"zh": "开工年份", "en": "Start year"}}
    assert data.districts is store.frames["districts"]
    by_id = {p.layer.id: p for p in prepare_preset_data(data)}
    assert len(by_id["roads"].frame) == 3
    assert by_id["roads"].key == "jiuwang_roads_id"
    phased = load_preset(store, "jiuwang-roads", {"phase": "2021"})
    assert phased.params == {"phase": 2021}
    assert len({p.layer.id: p for p in prepare_preset_data(phased)}["roads"].frame) == 1
    with pytest.raises(ValueError, match="phase should be one of"):
        load_preset(store, "jiuwang-roads", {"phase": 2019})
    with pytest.raises(KeyError, match="no parameter"):
        load_preset(store, "jiuwang-roads", {"year": 2021})


def test_preset_data_from_frames_resolves_parameters_once():
    from planatlas.maps import PresetData, prepare_preset_data

    frames = _jiuwang_frames()
    data = PresetData.from_frames(get_preset("jiuwang-roads"), frames, params={"phase": 2022})
    assert data.params == {"phase": 2022}
    assert data.districts is frames["districts"]
    assert len({p.layer.id: p for p in prepare_preset_data(data)}["roads"].frame) == 2
