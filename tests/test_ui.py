"""Tests of the app's library side: permalink parsing, UI text, Data page tables, details lookup."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from planatlas.i18n import LANGS, TEXT, check_lang, t
from planatlas.render.interactive import View
from planatlas.ui import PAGES, atlas, data, page_renderer
from planatlas.ui.atlas import feature_details, format_view, parse_view
from planatlas.ui.data import catalogue_table, layer_geojson, search_rows


def test_view_round_trips_and_rejects_bad_input():
    view = parse_view("28.65,115.88,13.5")
    assert view == View(28.65, 115.88, 13.5)
    assert parse_view(format_view(view)) == view
    for bad in (None, "", "1,2", "a,b,c", "95,115,13", "28,115,40", "28,115,13,1"):
        assert parse_view(bad) is None


def test_every_ui_text_has_both_languages():
    for key, entry in TEXT.items():
        assert entry.get("zh") and entry.get("en"), key
    assert t("rows_shown", "en", n=3, total=10) == "3 of 10 rows"
    assert t("page_atlas", "fr") == "图集"  # unknown language falls back to Chinese
    assert check_lang("en") == "en" and check_lang("<script>") == "zh"
    with pytest.raises(KeyError, match="no UI text"):
        t("nope", "zh")


def test_pages_resolve_to_their_render_functions():
    assert tuple(PAGES) == ("atlas", "query", "export", "data")
    assert page_renderer("atlas") is atlas.render_page
    assert page_renderer("data") is data.render_page
    with pytest.raises(ValueError, match="page should be one of"):
        page_renderer("admin")


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_has_a_render_function_and_a_title(name):
    render = PAGES[name]
    assert callable(render)
    assert render.__name__ == "render_page"
    assert render.__module__ == f"planatlas.ui.{name}"
    assert list(inspect.signature(render).parameters) == ["store", "settings", "lang"]
    for lang in LANGS:
        assert TEXT[f"page_{name}"][lang]


def test_importing_the_pages_declares_no_component():
    """Nothing runs at import: the asset component is declared when the first map is drawn."""
    code = (
        "import streamlit.components.v1 as components\n"
        "calls = []\n"
        "components.declare_component = lambda *a, **k: calls.append(a)\n"
        "import planatlas.ui, planatlas.ui.atlas, planatlas.cli.main\n"
        "assert calls == [], calls\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr


def test_search_rows_is_literal_and_case_insensitive():
    frame = gpd.GeoDataFrame(
        {"name": ["万寿宫", "Tianhong (朝阳)", "a.b"], "n": [1, 2, 3]},
        geometry=[Point(0, 0)] * 3,
        crs=4490,
    )
    assert search_rows(frame, "tianhong")["n"].tolist() == [2]
    assert search_rows(frame, "(朝阳")["n"].tolist() == [2]  # not a regex
    assert search_rows(frame, ".")["n"].tolist() == [3]
    assert len(search_rows(frame, "  ")) == 3
    assert b'"type": "FeatureCollection"' in layer_geojson(frame)


def test_catalogue_table_and_details_from_the_bundled_atlas(bundled_atlas):
    meta = bundled_atlas.metadata()
    table = catalogue_table(meta, "en")
    assert list(table["Layer"]) == list(meta["layers"])
    streets = table.set_index("Layer").loc["streets"]
    assert streets["Features"] == meta["layers"]["streets"]["count"]
    assert "schematic" in streets["Precision"]
    assert "sources/" in streets["Source files"] or "attributes/" in streets["Source files"]
    zh = catalogue_table(meta, "zh")
    assert "图层" in zh.columns and "示意" in zh.set_index("图层").loc["streets", "精度"]

    streets_frame = bundled_atlas.read("streets")
    first = streets_frame.iloc[0]
    from planatlas.maps import field_title

    spec = bundled_atlas.spec("streets")
    titles = {f: dict(fs.title) for f, fs in spec.fields.items() if fs.title}
    rows = feature_details(bundled_atlas, "streets", first["street_id"], "zh")
    assert (field_title("name", "zh", titles), first["name"]) in rows
    # the precision with its uncertainty; the plan by its title (the seed file name is not shown)
    title = "《南昌市西湖区产业高质量发展规划（2022—2025年）》"
    assert rows[-3:] == [
        ("精度", "示意 ±1000 米"),
        ("来源文件", title),
        ("来源行号", str(first["source_lines"])),
    ]  # provenance last
    assert feature_details(bundled_atlas, "streets", "no-such-street' OR '1'='1", "zh") is None


def test_search_rows_on_attribute_only_frames():
    frame = pd.DataFrame({"indicator": ["社会消费品零售总额", "税收"], "unit": ["亿元", "亿元"]})
    assert search_rows(frame, "税")["indicator"].tolist() == ["税收"]


def test_plan_quote_is_the_cited_plan_text(bundled_atlas):
    from planatlas.ui.atlas import plan_quote

    hq = bundled_atlas.read("hq_enterprises")
    row = hq.iloc[0]
    quote = plan_quote(bundled_atlas, "hq_enterprises", row["hq_id"])
    assert row["name"] in quote  # 附件2 row names the enterprise on the cited line


def test_details_show_booleans_in_words(bundled_atlas):
    from planatlas.ui.atlas import feature_details

    b = bundled_atlas.read("buildings")
    key = b.loc[b["precision"] == "street", "building_id"].iloc[0]
    rows = dict(feature_details(bundled_atlas, "buildings", key, "zh"))
    assert "False" not in rows.values() and "True" not in rows.values()
