"""The presets, label tables and UI texts are packaged TOML data: they load, lazily, and bad data is located."""

from __future__ import annotations

import copy
import fnmatch
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from planatlas.datafiles import LazyMapping, read_toml, text_table
from planatlas.errors import DataFileError
from planatlas.i18n import TEXT
from planatlas.maps import PRESETS, Category
from planatlas.maps.presets import CATEGORIES, FIELD_TITLES, VALUE_LABELS
from planatlas.maps.presets.load import MENU, PACKAGE, load_categories, load_presets, parse_plan
from planatlas.maps.presets.model import Param, Preset

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "src" / "planatlas"


def _plan(name: str = "xihu.toml") -> dict:
    return copy.deepcopy(read_toml(PACKAGE, name))


def _preset(data: dict, name: str) -> dict:
    return next(p for p in data["presets"] if p["name"] == name)


def _layer(preset: dict, layer_id: str) -> dict:
    return next(layer for layer in preset["layers"] if layer.get("id") == layer_id)


def test_every_toml_preset_loads_in_menu_order():
    menu = read_toml(PACKAGE, MENU)
    presets = load_presets()
    assert list(presets) == menu["order"]
    declared = [p["name"] for f in menu["files"] for p in read_toml(PACKAGE, f)["presets"]]
    assert sorted(declared) == sorted(presets)
    for name, preset in presets.items():
        assert isinstance(preset, Preset) and preset.name == name and preset.layers
        assert preset.sources, name
    assert presets == PRESETS and list(PRESETS) == list(presets)


def test_templates_categories_and_params_are_filled_in():
    xihu = PRESETS["buildings"]
    assert xihu.layer("streets").labels_on_map and xihu.layer("district").interactive is False
    assert xihu.layer("by_status").style.categories == CATEGORIES["building_status"]
    assert all(isinstance(c, Category) for c in CATEGORIES["zones"])
    roads = PRESETS["jiuwang-roads"].layer("roads")
    assert roads.filters[0].value == Param("phase")
    assert [c.value for c in roads.style.categories] == [2021, 2022, 2023]
    stations = PRESETS["metro"].layer("stations").style.categories
    assert [c.value for c in stations] == [True, False]
    assert VALUE_LABELS["status"]["existing"] == {"zh": "已建成", "en": "existing"}
    assert VALUE_LABELS["category"]["museum"]["en"] == "museum"
    assert FIELD_TITLES["name"]["zh"] == "名称"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda s: s.update(kind="pie"),
            (
                "xihu.toml: preset 'metro', layer 'stations', field 'style.kind': "
                "should be one of 'single', 'categorical', 'graduated', got 'pie'"
            ),
        ),
        (lambda s: s.update(weight="thick"), "layer 'stations', field 'style.weight': should be a number, got 'thick'"),
        (
            lambda s: s.update(stroke_color="black"),
            "layer 'stations', field 'style': style stroke_color should be '#rrggbb', got 'black'",
        ),
        (lambda s: s.update(categories="nope"), "layer 'stations', field 'style.categories': should be one of 'zones'"),
        (
            lambda s: s["categories"][0].update(value=[1]),
            "field 'style.categories[0].value': should be a string or an integer or a number or true or false",
        ),
    ],
)
def test_a_malformed_style_is_located(edit, message):
    data = _plan()
    edit(_layer(_preset(data, "metro"), "stations")["style"])
    with pytest.raises(DataFileError) as info:
        parse_plan("xihu.toml", data, load_categories())
    assert message in str(info.value)


def test_an_unknown_layer_field_is_located():
    data = _plan()
    _layer(_preset(data, "metro"), "stations")["colour"] = "#ff0000"
    with pytest.raises(
        DataFileError,
        match=r"preset 'metro', layer 'stations', field 'colour': unknown field, should be one of id, layer",
    ):
        parse_plan("xihu.toml", data, load_categories())


def test_template_required_fields_and_params_are_located():
    data = _plan()
    _preset(data, "metro")["layers"][0]["use"] = "street"
    with pytest.raises(
        DataFileError,
        match=r"preset 'metro', layer #1, field 'use': should be one of 'streets', 'district', 'counties', got 'street'",
    ):
        parse_plan("xihu.toml", data, load_categories())
    data = _plan()
    del _preset(data, "metro")["title"]
    with pytest.raises(DataFileError, match=r"preset 'metro', field 'title': is required"):
        parse_plan("xihu.toml", data, load_categories())
    data = _plan("jiuwang.toml")
    _layer(data["presets"][0], "roads")["filters"][0]["value"] = {"parameter": "phase"}
    with pytest.raises(DataFileError, match=r"layer 'roads', field 'filters\[0\].value': should be"):
        parse_plan("jiuwang.toml", data, load_categories())
    data = _plan("jiuwang.toml")
    data["presets"][0]["parameters"][0]["default"] = []
    with pytest.raises(DataFileError, match=r"preset 'jiuwang-roads', parameter 'phase', field 'default'"):
        parse_plan("jiuwang.toml", data, load_categories())


def test_text_tables_need_every_language():
    with pytest.raises(
        DataFileError, match=r"texts.toml, field 'query.title': should give a text in each of 'zh', 'en'"
    ):
        text_table({"title": {"zh": "空间查询"}}, "texts.toml", "query", ("zh", "en"))
    assert text_table({"a": {"zh": "甲", "en": "A"}}, "f", "s", ("zh", "en")) == {"a": {"zh": "甲", "en": "A"}}


def test_lazy_mapping_calls_its_loader_on_first_use():
    calls = []

    def load():
        calls.append(1)
        return {"a": 1}

    lazy = LazyMapping(load)
    assert not calls
    assert lazy["a"] == 1 and "a" in lazy and "b" not in lazy and len(lazy) == 1 and dict(lazy) == {"a": 1}
    assert TEXT["query_title"]["en"] == "Spatial query"


def test_nothing_is_read_at_import():
    code = (
        "import planatlas.maps, planatlas.i18n, planatlas.render.interactive\n"
        "from planatlas.maps.presets.load import load_presets, load_categories, _plan_file\n"
        "from planatlas.maps.presets.labels import load_labels\n"
        "from planatlas.i18n import load_texts\n"
        "sizes = [f.cache_info().currsize for f in (load_presets, load_categories, _plan_file, load_labels, load_texts)]\n"
        "assert sizes == [0, 0, 0, 0, 0], sizes\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT, timeout=120)


def test_package_data_carries_every_data_file():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    data_files = [p.relative_to(PACKAGE_DIR).as_posix() for p in PACKAGE_DIR.rglob("*.toml")]
    assert data_files
    unshipped = [f for f in data_files if not any(fnmatch.fnmatch(f, g) for g in globs["planatlas"])]
    assert not unshipped
