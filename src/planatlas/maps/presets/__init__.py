"""The registry of map presets (what each thematic map shows), declared as data, one TOML file per plan.

:mod:`~planatlas.maps.presets.model` declares the model (:class:`Preset`, :class:`PresetLayer`,
filters, parameters); ``xihu.toml`` and ``jiuwang.toml`` beside it declare the presets of each plan
(a Xinjian file would sit beside them, listed in ``menu.toml``), read by
:mod:`~planatlas.maps.presets.load` on first use; :mod:`~planatlas.maps.presets.labels` holds the
attribute, precision and coded-value labels (``labels.toml``). :data:`PRESETS` maps every preset
name to its preset in menu order (read on first use); :func:`get_preset` looks one up by name.
"""

from __future__ import annotations

from collections.abc import Mapping

from planatlas.datafiles import LazyMapping
from planatlas.maps.presets.labels import (
    FIELD_TITLES,
    PRECISION_LABELS,
    VALUE_LABELS,
    field_title,
    schematic_note,
    value_label,
)
from planatlas.maps.presets.load import load_categories, load_presets
from planatlas.maps.presets.model import (
    Choice,
    CountJoin,
    Filter,
    Param,
    Preset,
    PresetLayer,
    PresetParameter,
)
from planatlas.maps.style import Category, Scalar

#: Every preset by name, in menu order (read from the TOML files on first use).
PRESETS: Mapping[str, Preset] = LazyMapping(load_presets)
#: The category tables of the presets' categorical styles, by name (``zones``, ``building_status`` …).
CATEGORIES: Mapping[str, tuple[Category, ...]] = LazyMapping(load_categories)


def get_preset(name: str) -> Preset:
    """The preset called ``name`` (one of :data:`PRESETS`).

    Raises
    ------
    KeyError
        If there is no such preset; the message lists the names there are.
    """
    try:
        return PRESETS[name]
    except KeyError:
        msg = f"preset should be one of {', '.join(PRESETS)}, got {name!r}"
        raise KeyError(msg) from None


__all__ = [
    "CATEGORIES",
    "FIELD_TITLES",
    "PRECISION_LABELS",
    "PRESETS",
    "VALUE_LABELS",
    "Choice",
    "CountJoin",
    "Filter",
    "Param",
    "Preset",
    "PresetLayer",
    "PresetParameter",
    "Scalar",
    "field_title",
    "get_preset",
    "schematic_note",
    "value_label",
]
