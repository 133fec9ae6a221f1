"""The presets from their TOML files (``maps/presets/*.toml``), read once, on first use.

``menu.toml`` names the plan files and the menu order; each plan file declares its presets, the
layer templates they share and the category tables of its categorical styles (the format is
described at the top of ``xihu.toml``). :func:`load_presets` and :func:`load_categories` read them
through :mod:`importlib.resources` and cache the result; nothing is read at import. Errors are
:class:`~planatlas.errors.DataFileError` s that say where::

    xihu.toml: preset 'metro', layer 'stations', field 'style.kind': should be one of 'single', 'categorical', 'graduated', got 'pie'
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from planatlas.datafiles import Special, build, convert, fail, read_toml
from planatlas.maps.presets.model import Param, Preset, PresetLayer, PresetParameter
from planatlas.maps.style import Category

PACKAGE = "planatlas.maps.presets"
MENU = "menu.toml"
_PLAN_KEYS = ("defaults", "templates", "categories", "presets")

__all__ = ["MENU", "PACKAGE", "load_categories", "load_presets", "parse_plan"]


def _param(value: object, where: str, path: str) -> Param:
    """A filter value ``{ param = "phase" }``."""
    if not (isinstance(value, dict) and set(value) == {"param"} and isinstance(value["param"], str)):
        fail(where, path, f'should be {{ param = "<name>" }}, got {value!r}')
    return Param(value["param"])


_SPECIAL: Special = {Param: _param}


def _table(data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        fail(where, key, f"should be a table, got {value!r}")
    return value


@functools.cache
def _plan_file(name: str) -> dict[str, Any]:
    data = read_toml(PACKAGE, name)
    for key in data:
        if key not in _PLAN_KEYS:
            fail(name, key, f"unknown table, should be one of {', '.join(_PLAN_KEYS)}")
    return data


def _categories(data: Mapping[str, Any], where: str) -> dict[str, tuple[Category, ...]]:
    tables = _table(data, "categories", where)
    return {
        name: tuple(
            build(Category, c, where, f"categories.{name}[{i}]")
            for i, c in enumerate(_list(rows, where, f"categories.{name}"))
        )
        for name, rows in tables.items()
    }


def _list(value: object, where: str, path: str) -> list[Any]:
    if not isinstance(value, list):
        fail(where, path, f"should be a list, got {value!r}")
    return value


def _name(raw: object, key: str, index: int) -> str:
    """How an entry of a list is named in errors: its ``key`` (id, name), else its position."""
    value = raw.get(key) if isinstance(raw, dict) else None
    return repr(value) if isinstance(value, str) else f"#{index + 1}"


def _layer(
    raw: object,
    templates: Mapping[str, Any],
    categories: Mapping[str, tuple[Category, ...]],
    where: str,
    index: int,
) -> PresetLayer:
    """Layer ``index`` of a preset: its template (``use``) filled in, its named category table looked up."""
    if not isinstance(raw, dict):
        fail(f"{where}, layer #{index + 1}", "", f"should be a table, got {raw!r}")
    if "use" in raw:
        use = raw["use"]
        if not isinstance(use, str) or use not in templates:
            fail(
                f"{where}, layer {_name(raw, 'id', index)}",
                "use",
                f"should be one of {_quoted(templates)}, got {use!r}",
            )
        raw = {**templates[use], **{k: v for k, v in raw.items() if k != "use"}}
    where = f"{where}, layer {_name(raw, 'id', index)}"
    style = raw.get("style")
    if isinstance(style, dict) and isinstance(style.get("categories"), str):
        name = style["categories"]
        if name not in categories:
            fail(where, "style.categories", f"should be one of {_quoted(categories)}, got {name!r}")
        raw = {**raw, "style": {**style, "categories": categories[name]}}
    return build(PresetLayer, raw, where, special=_SPECIAL)


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(map(repr, names))


def parse_plan(name: str, data: Mapping[str, Any], categories: Mapping[str, tuple[Category, ...]]) -> list[Preset]:
    """The presets of plan file ``name`` (its parsed TOML ``data``), in file order."""
    defaults = _table(data, "defaults", name)
    templates = _table(data, "templates", name)
    presets: list[Preset] = []
    for i, raw in enumerate(_list(data.get("presets", []), name, "presets")):
        where = f"{name}: preset {_name(raw, 'name', i)}"
        if not isinstance(raw, dict):
            fail(where, "", f"should be a table, got {raw!r}")
        layers = tuple(
            _layer(layer, templates, categories, where, j)
            for j, layer in enumerate(_list(raw.get("layers", []), where, "layers"))
        )
        parameters = tuple(
            build(PresetParameter, p, f"{where}, parameter {_name(p, 'name', j)}")
            for j, p in enumerate(_list(raw.get("parameters", []), where, "parameters"))
        )
        presets.append(build(Preset, {**defaults, **raw, "layers": layers, "parameters": parameters}, where))
    return presets


def _menu() -> tuple[tuple[str, ...], tuple[str, ...]]:
    data = read_toml(PACKAGE, MENU)
    files = convert(tuple[str, ...], data.get("files"), MENU, "files")
    order = convert(tuple[str, ...], data.get("order"), MENU, "order")
    assert isinstance(files, tuple) and isinstance(order, tuple)
    return files, order


@functools.cache
def load_categories() -> Mapping[str, tuple[Category, ...]]:
    """Every category table of the plan files, by name."""
    tables: dict[str, tuple[Category, ...]] = {}
    for file in _menu()[0]:
        for table, categories in _categories(_plan_file(file), file).items():
            if table in tables:
                fail(file, f"categories.{table}", "is declared by another plan file too")
            tables[table] = categories
    return MappingProxyType(tables)


@functools.cache
def load_presets() -> Mapping[str, Preset]:
    """Every preset by name, in menu order."""
    files, order = _menu()
    categories = load_categories()
    found: dict[str, Preset] = {}
    for file in files:
        for preset in parse_plan(file, _plan_file(file), categories):
            if preset.name in found:
                fail(file, "", f"preset {preset.name!r} is declared twice")
            found[preset.name] = preset
    if sorted(order) != sorted(found):
        fail(MENU, "order", f"should list each of {_quoted(found)} once, got {list(order)!r}")
    return MappingProxyType({name: found[name] for name in order})
