"""The registry of map presets (what each thematic map shows), one module per plan.

:mod:`~planatlas.maps.presets.model` declares the model (:class:`Preset`, :class:`PresetLayer`,
filters, parameters); :mod:`~planatlas.maps.presets.xihu` and :mod:`~planatlas.maps.presets.jiuwang`
declare the presets of each plan (a Xinjian module would sit beside them);
:mod:`~planatlas.maps.presets.labels` holds the attribute, precision and coded-value labels.
:data:`PRESETS` lists every preset in menu order; :func:`get_preset` looks one up by name.
"""

from __future__ import annotations

from collections.abc import Mapping

from planatlas.maps.presets.jiuwang import JIUWANG_ROADS
from planatlas.maps.presets.labels import (
    FIELD_TITLES,
    PRECISION_LABELS,
    VALUE_LABELS,
    field_title,
    schematic_note,
    value_label,
)
from planatlas.maps.presets.model import (
    Choice,
    CountJoin,
    Filter,
    Param,
    Preset,
    PresetLayer,
    PresetParameter,
)
from planatlas.maps.presets.xihu import BUILDINGS, COMMERCE_CULTURE, HQ_BY_STREET, METRO, ONE_BELT_FOUR_ZONES
from planatlas.maps.style import Scalar

#: Every preset by name, in menu order.
PRESETS: Mapping[str, Preset] = {
    p.name: p for p in (ONE_BELT_FOUR_ZONES, JIUWANG_ROADS, BUILDINGS, COMMERCE_CULTURE, HQ_BY_STREET, METRO)
}


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
