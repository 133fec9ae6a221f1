"""Label tables of the maps: attribute titles, precision classes, coded values, the schematic caption.

The tables are data (``labels.toml`` beside this module), read on first use. Catalogue field titles
(``geodata/layers/*.toml``) take precedence over :data:`FIELD_TITLES`; :func:`value_label` turns
coded values (``existing``) into words (已建成) for popups, the details panel and exports: the
values of ``[values.<field>]`` and of the preset category tables ``[value_categories]`` names.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from planatlas.catalog import LANGS
from planatlas.datafiles import LazyMapping, convert, fail, read_toml, text_entry, text_table
from planatlas.i18n import t
from planatlas.maps.presets.load import PACKAGE, load_categories
from planatlas.maps.style import text_in

LABELS_FILE = "labels.toml"
_SECTIONS = ("field_titles", "precision", "schematic_note", "value_categories", "values")

__all__ = [
    "FIELD_TITLES",
    "PRECISION_LABELS",
    "VALUE_LABELS",
    "Labels",
    "field_title",
    "load_labels",
    "schematic_note",
    "value_label",
]


@dataclass(frozen=True)
class Labels:
    """The label tables of ``labels.toml``."""

    field_titles: Mapping[str, Mapping[str, str]]
    precision: Mapping[str, Mapping[str, str]]
    schematic_note: Mapping[str, str]
    values: Mapping[str, Mapping[str, Mapping[str, str]]]


def _value_labels(data: Mapping[str, object]) -> dict[str, dict[str, Mapping[str, str]]]:
    """Coded-value labels by field: from the named category tables, then ``[values.<field>]``."""
    tables = load_categories()
    named = convert(Mapping[str, tuple[str, ...]], data.get("value_categories", {}), LABELS_FILE, "value_categories")
    values: dict[str, dict[str, Mapping[str, str]]] = {}
    for field, names in cast("dict[str, tuple[str, ...]]", named).items():
        for name in names:
            if name not in tables:
                fail(
                    LABELS_FILE,
                    f"value_categories.{field}",
                    f"should name category tables ({', '.join(tables)}), got {name!r}",
                )
            values.setdefault(field, {}).update({str(c.value): c.label for c in tables[name]})
    explicit = data.get("values", {})
    if not isinstance(explicit, dict):
        fail(LABELS_FILE, "values", f"should be a table, got {explicit!r}")
    for field, table in explicit.items():
        values.setdefault(field, {}).update(text_table(table, LABELS_FILE, f"values.{field}", LANGS))
    return values


@functools.cache
def load_labels() -> Labels:
    """The label tables, read from ``labels.toml`` (once)."""
    data = read_toml(PACKAGE, LABELS_FILE)
    for key in data:
        if key not in _SECTIONS:
            fail(LABELS_FILE, key, f"unknown table, should be one of {', '.join(_SECTIONS)}")
    return Labels(
        field_titles=text_table(data.get("field_titles", {}), LABELS_FILE, "field_titles", LANGS),
        precision=text_table(data.get("precision", {}), LABELS_FILE, "precision", LANGS),
        schematic_note=text_entry(data.get("schematic_note"), LABELS_FILE, "schematic_note", LANGS),
        values=_value_labels(data),
    )


#: Titles of common attribute names (catalogue field titles take precedence).
FIELD_TITLES: Mapping[str, Mapping[str, str]] = LazyMapping(lambda: load_labels().field_titles)
#: Labels of the precision classes.
PRECISION_LABELS: Mapping[str, Mapping[str, str]] = LazyMapping(lambda: load_labels().precision)
#: Display labels of coded attribute values, by field name (popups, details panel, exports).
VALUE_LABELS: Mapping[str, Mapping[str, Mapping[str, str]]] = LazyMapping(lambda: load_labels().values)


def field_title(name: str, lang: str, catalogue_titles: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """Title of an attribute in ``lang``: the catalogue's, else a common one, else the name."""
    if catalogue_titles and catalogue_titles.get(name):
        return text_in(catalogue_titles[name], lang, default=name)
    if name not in FIELD_TITLES and name.endswith("_id"):
        return t("field_id", lang)
    return text_in(FIELD_TITLES.get(name), lang, default=name)


def schematic_note(lang: str) -> str:
    """The caption shown wherever schematic geometry is drawn."""
    return load_labels().schematic_note.get(lang, "schematic")


def value_label(field: str, value: object, lang: str) -> str:
    """How a coded value reads in ``lang`` (``existing`` -> 已建成); other values unchanged."""
    text = str(value)
    labels = VALUE_LABELS.get(field, {})
    return text_in(labels.get(text), lang, default=text) if text in labels else text
