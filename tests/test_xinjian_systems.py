"""The Xinjian spatial systems of seed 001: indicator boxes, frameworks, transport, reconciliation, presets."""

from __future__ import annotations

import csv
import json
import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from conftest import GEODATA
from planatlas import crs as pcrs
from planatlas.catalog import PRECISION_CLASSES, SEED_XINJIAN, UNLOCATED
from planatlas.maps import get_preset, load_preset, prepare_preset_data
from planatlas.reconcile_xinjian import PLAN_FIGURES, reconcile_xinjian

SEED = (GEODATA / "seeds" / SEED_XINJIAN).read_text(encoding="utf-8").split("\n")
SYSTEM_LAYERS = (
    "xinjian_transport_points",
    "xinjian_transport_lines",
    "xinjian_framework_areas",
    "xinjian_framework_lines",
)
GAZETTEER_COLUMNS = [
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


def _line(n: int) -> str:
    return SEED[n - 1]


def _cited(lines: str) -> list[int]:
    """Line numbers of a ``source_lines`` value (``34;33-38``), in order."""
    out: list[int] = []
    for part in str(lines).split(";"):
        a, _, b = part.partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


# ---- indicators ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def indicators(bundled_atlas) -> pd.DataFrame:
    return bundled_atlas.read("xinjian_indicators")


def test_indicator_boxes_hold_every_row_of_the_plan(indicators):
    counts = indicators["plan_table"].value_counts().to_dict()
    assert counts == {"专栏1-1": 31, "专栏2-1": 24}
    gdp = indicators.loc[(indicators["plan_table"] == "专栏2-1") & (indicators["name"] == "地区生产总值（亿元）")].iloc[
        0
    ]
    assert (gdp["value_2020"], gdp["target_2025"], gdp["growth"], gdp["indicator_type"]) == (
        "382",
        "545",
        "7.5%左右",
        "预期性",
    )
    old = indicators.loc[(indicators["plan_table"] == "专栏1-1") & (indicators["name"] == "地区生产总值（亿元）")].iloc[
        0
    ]
    assert (old["value_2015"], old["target_2020"], old["value_2020"]) == ("257.94", "585", "382")


def test_every_indicator_value_is_a_cell_of_its_cited_row(indicators):
    for rec in indicators.to_dict(orient="records"):
        lines = _cited(rec["source_lines"])
        assert rec["name"] == _line(lines[0]).strip(), rec["indicator_id"]
        cells = [_line(n).strip() for n in lines[1:]]
        for col in ("value_2015", "target_2020", "value_2020", "target_2025", "growth", "indicator_type"):
            value = rec[col]
            if isinstance(value, str) and value:
                assert value in cells, (rec["indicator_id"], col, value)


# ---- the four system layers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def systems(bundled_atlas) -> dict[str, gpd.GeoDataFrame]:
    return {name: bundled_atlas.read(name) for name in SYSTEM_LAYERS}


def test_every_feature_cites_a_line_that_names_it(systems):
    for layer, frame in systems.items():
        assert len(frame) > 5, layer
        for rec in frame.to_dict(orient="records"):
            assert rec["source_file"] == SEED_XINJIAN
            names = [rec["name"], *str(rec.get("aliases") or "").split(";")]
            first = _line(_cited(rec["source_lines"])[0])
            assert any(n and n in first for n in names), (layer, rec["name"], rec["source_lines"])


def test_precision_uncertainty_and_geometry_agree(systems):
    for layer, frame in systems.items():
        for rec in frame.to_dict(orient="records"):
            assert rec["precision"] in PRECISION_CLASSES
            if rec["precision"] == UNLOCATED:
                assert rec["geometry"] is None or rec["geometry"].is_empty, (layer, rec["name"])
            else:
                assert rec["geometry"] is not None and not rec["geometry"].is_empty, (layer, rec["name"])
                assert int(rec["uncertainty_m"]) >= 300, (layer, rec["name"])
        drawn = frame.loc[frame["precision"] != UNLOCATED, "precision"]
        assert set(drawn) <= {"sourced", "street", "schematic"}, layer


def test_drawn_systems_lie_in_or_at_the_district(systems, bundled_atlas):
    districts = pcrs.to_metric(bundled_atlas.read("districts"))
    xinjian = districts.loc[districts["district_id"] == "xinjian"].geometry.iloc[0]
    points = pcrs.to_metric(systems["xinjian_transport_points"].dropna(subset=["geometry"]))
    # inside 新建区, or within a town radius of it: the GeoNames seat of 厚田乡, a township of the
    # plan, lies 2.6 km outside the cnmaps outline (the places layer notes it in 红谷滩区)
    far = {
        n: round(g.distance(xinjian))
        for n, g in zip(points["name"], points.geometry, strict=True)
        if g.distance(xinjian) > 0
    }
    assert all(d < 5000 for d in far.values()) and set(far) <= {"厚田港区", "厚田互通", "厚田乡客运站"}, far
    for layer in ("xinjian_framework_areas", "xinjian_transport_lines"):
        frame = pcrs.to_metric(systems[layer].dropna(subset=["geometry"]))
        for name, geom in zip(frame["name"], frame.geometry, strict=True):
            assert geom.intersects(xinjian), (layer, name)


def test_located_share_of_transport_items(systems):
    items = pd.concat([systems["xinjian_transport_points"], systems["xinjian_transport_lines"]])
    located = (items["precision"] != UNLOCATED).mean()
    assert len(items) >= 60 and located >= 0.6, (len(items), located)


def test_the_airport_is_the_cited_coordinate(systems):
    airport = systems["xinjian_transport_points"].set_index("place_id").loc["xj_changbei_airport"]
    assert airport["precision"] == "sourced" and "wikipedia.org" in airport["position_source"]
    assert shapely.Point(115.90, 28.865).distance(airport.geometry) < 1e-5  # CGCS2000 ≈ WGS84 at centimetres


def test_gazetteer_file_has_the_shared_columns_and_rules():
    with (GEODATA / "places" / "xinjian_transport.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == GAZETTEER_COLUMNS
        rows = list(reader)
    ids = [r["place_id"] for r in rows]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-z][a-z0-9_]{0,62}", i) for i in ids)
    for r in rows:
        assert (r["lon"] == "") == (r["precision"] == UNLOCATED), r["place_id"]
        assert r["crs"] in ("", "EPSG:4326", "EPSG:4490", "GCJ-02", "BD-09"), r["place_id"]
        if r["precision"] != UNLOCATED:
            assert r["placed_by"] and int(r["uncertainty_m"]) >= 300, r["place_id"]
        if r["precision"] == "street":  # somewhere in its town: at least the town radius
            assert int(r["uncertainty_m"]) >= 2000, r["place_id"]


# ---- reconciliation ----------------------------------------------------------------------------


def test_plan_figures_are_quoted_from_their_lines():
    for fig in PLAN_FIGURES:
        text = " ".join(_line(n) for n in _cited(fig.source_lines))
        for fragment in fig.plan_text.split(" … "):
            assert fragment in text, (fig.item, fragment)
        if fig.basis == "stated":
            # written as digits, or as a word the plan's name carries (两个, 五集群, 三区三园, 三纵两横)
            words = {2: "两", 5: "五", 6: "三区三园"}
            number = f"{fig.plan_value:g}"
            assert number in text or words.get(int(fig.plan_value), "?") in text or fig.item == "铁路网", fig.item


def test_reconcile_counts_located_rows_and_measures_km():
    lines = gpd.GeoDataFrame(
        {
            "kind": ["高速公路", "高速公路", "铁路"],
            "project": ["高速公路建设"] * 3,
            "precision": ["schematic", UNLOCATED, "schematic"],
        },
        geometry=[
            shapely.LineString([(115.7, 28.6), (115.7, 28.7)]),
            None,
            shapely.LineString([(115.7, 28.6), (115.8, 28.6)]),
        ],
        crs="EPSG:4490",
    )
    result = reconcile_xinjian({"xinjian_transport_lines": lines})
    table = result.table.set_index("item")
    assert table.loc["高速公路", "mapped_present"] == 2 and table.loc["高速公路", "mapped_located"] == 1
    km = table.loc["高速公路里程", "mapped_km"]
    assert 10.5 < km < 11.5  # 0.1° of latitude
    assert table.loc["高速公路里程", "diff"] == pytest.approx(km - 192.2, abs=0.05)
    assert table.loc["港区", "mapped_present"] is None or pd.isna(table.loc["港区", "mapped_present"])
    assert any("xinjian_transport_points" in n for n in result.notes)


def test_cli_reconcile_xinjian(bundled_atlas, monkeypatch):
    from planatlas.cli.main import cli

    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(bundled_atlas.path))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    out = CliRunner().invoke(cli, ["reconcile", "xinjian"])
    assert out.exit_code == 0, out.output
    assert "192.2" in out.output and "农村客运场站" in out.output and "the text says 17" in out.output
    payload = json.loads(CliRunner().invoke(cli, ["reconcile", "xinjian", "--format", "json"]).output)
    rows = {r["item"]: r for r in payload["table"]}
    assert rows["港区"]["mapped_present"] == 4 and rows["专栏2-1 指标"]["mapped_located"] == 24


# ---- presets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "layer_id"),
    [
        ("xinjian-spatial", {}, "directions"),
        ("xinjian-spatial", {"framework": "一带一谷五集群"}, "areas"),
        ("xinjian-spatial", {"framework": "生态功能区"}, "areas"),
        ("xinjian-transport", {}, "nodes"),
    ],
)
def test_presets_draw_the_systems(bundled_atlas, name, params, layer_id):
    prepared = {p.layer.id: p for p in prepare_preset_data(load_preset(bundled_atlas, get_preset(name), params))}
    frame = prepared[layer_id].frame
    assert len(frame) >= 4
    assert (frame["precision"] != UNLOCATED).all()
    assert prepared[layer_id].schematic


def test_project_rows_count_and_sum_the_stated_investments():
    from planatlas.reconcile_xinjian import investment_yi, project_rows

    assert investment_yi("项目总投资为7731万元@540;项目占地面积6821.25平方米@540") == pytest.approx(0.7731)
    assert investment_yi("项目计划总投资约1.7亿元@541") == 1.7
    assert investment_yi("预计2022年底建成@556") is None
    projects = gpd.GeoDataFrame(
        {
            "category": ["汽车", "汽车", "数字经济"],
            "box": ["专栏3-1", "专栏3-1", "专栏3-11"],
            "figures": ["项目总投资为7731万元@540", "项目计划总投资约1.7亿元@541", ""],
            "precision": ["street", UNLOCATED, UNLOCATED],
        },
        geometry=[shapely.Point(115.8, 28.7), None, None],
        crs="EPSG:4490",
    )
    rows = project_rows(projects).set_index("item")
    assert rows.loc["汽车", "plan_value"] == pytest.approx(2.47)
    assert (rows.loc["汽车", "mapped_present"], rows.loc["汽车", "mapped_located"]) == (2, 1)
    assert pd.isna(rows.loc["数字经济", "plan_value"]) and "0 of 1" in rows.loc["数字经济", "note"]


def _xinjian_section_script(atlas_path: str, preset_name: str | None) -> None:
    from pathlib import Path

    from planatlas.store.gpkg import GeoPackageStore
    from planatlas.ui.reconciliation import xinjian_section

    xinjian_section(GeoPackageStore(Path(atlas_path)), "en", preset_name)


@pytest.mark.parametrize(
    ("preset_name", "topics", "tables"),
    [("xinjian-transport", {"交通 transport"}, 1), ("xinjian-spatial", {"空间格局 frameworks"}, 2), (None, None, 2)],
)
def test_the_app_section_shows_the_rows_of_its_map(bundled_atlas, preset_name, topics, tables):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(
        _xinjian_section_script, args=(str(bundled_atlas.path), preset_name), default_timeout=60
    ).run()
    assert not app.exception and not app.warning
    assert len(app.dataframe) == tables
    shown = app.dataframe[0].value
    assert set(shown["topic"]) == topics if topics else len(set(shown["topic"])) >= 3
    if tables == 2:
        boxes = set(app.dataframe[1].value["plan_table"])
        assert boxes == ({"专栏2-1"} if preset_name else {"专栏1-1", "专栏2-1"})
