"""Printed notes state how far positions may be off and where they come from; plans are named by title."""

from __future__ import annotations

import geopandas as gpd
import shapely

from planatlas.plans import plan_title, position_text
from planatlas.render.layers import MapLayer
from planatlas.render.notes import position_sources_note, source_note, uncertainty_note


def _layer(rows: dict[str, list[object]], title: str = "地点") -> MapLayer:
    n = len(next(iter(rows.values())))
    frame = gpd.GeoDataFrame(rows, geometry=[shapely.Point(i, i) for i in range(n)], crs=4548)
    return MapLayer(name="x", title=title, frame=frame, kind="point", facecolors=None, edgecolors=None)


def test_uncertainty_note_gives_the_range_and_the_schematic_count():
    a = _layer({"precision": ["sourced", "street"], "uncertainty_m": [75, 2610]})
    b = _layer({"precision": ["schematic", "unlocated"], "uncertainty_m": [1000, None]})
    assert uncertainty_note([a, b], "en") == "positions ±75–2610 m (1 schematic)"
    assert uncertainty_note([a, b], "zh") == "位置误差 ±75–2610 米（其中 1 个为示意位置）"
    assert uncertainty_note([_layer({"precision": ["sourced"], "uncertainty_m": [100]})], "en") == "positions ±100 m"
    assert uncertainty_note([_layer({"precision": ["sourced"]})], "en") == ""


def test_position_sources_are_named_shortly_most_used_first():
    layer = _layer(
        {
            "position_source": [
                "https://github.com/owner/metro-data/blob/abc/L2/x.json",
                "https://github.com/owner/metro-data/blob/abc/L2/x.json ; https://zh.wikipedia.org/wiki/A",
                "https://aroundus.com/p/1-pagoda",
                None,
            ]
        }
    )
    assert position_sources_note([layer]) == "github.com/owner/metro-data; aroundus.com; zh.wikipedia.org"


def test_sources_name_the_plans_by_their_titles():
    layer = _layer({"source_file": ["000_f23723ccf6c3a3ea.txt", "zh.wikipedia.org"], "source_lines": ["266", "n/a"]})
    note = source_note([layer], "zh")
    assert "《南昌市西湖区产业高质量发展规划（2022—2025年）》 (第266行)" in note
    assert "000_f23723ccf6c3a3ea.txt" not in note and "zh.wikipedia.org" in note
    assert plan_title("001_d4b95dcfe9f62ad4.txt", "zh").endswith("（征求意见2稿）")


def test_position_text_states_class_and_metres():
    assert position_text({"precision": "address", "uncertainty_m": 250.0}, "en") == "address ±250 m"
    assert position_text({"precision": "unlocated", "uncertainty_m": None}, "zh") == "位置未知（不绘制）"
    assert position_text({}, "en") is None
