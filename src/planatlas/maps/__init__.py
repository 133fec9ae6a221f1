"""Thematic maps: presets (what each map shows), the loading edge, styles (colours, classes, legends).

Public API (used by :mod:`planatlas.render.interactive` and :mod:`planatlas.render.static`)::

    from planatlas.maps import load_preset, prepare_preset_data
    data = load_preset(store, "jiuwang-roads", {"phase": 2022})  # the only read of the store
    for p in prepare_preset_data(data):                            # PreparedLayer, bottom to top
        p.layer.title_in("zh"); p.frame; p.resolved.feature_colors(p.frame); p.resolved.legend("zh")
        p.schematic  # say "schematic" when True (see ``schematic_note(lang)``)

Modules: :mod:`~planatlas.maps.presets` (the presets, one TOML file per plan, and label tables),
:mod:`~planatlas.maps.load` (store → :class:`PresetData`), :mod:`~planatlas.maps.frames` (filters,
joins, rings, simplification), :mod:`~planatlas.maps.style` (colours, :class:`Style`),
:mod:`~planatlas.maps.classify` (class breaks by mapclassify), :mod:`~planatlas.maps.resolve`
(a style against the drawn features: classes, colours, legend).
"""

from planatlas.maps.frames import (
    PreparedLayer,
    prepare_layer,
    prepare_preset,
    prepare_preset_data,
    prepared_bounds,
)
from planatlas.maps.load import PresetData, load_preset
from planatlas.maps.presets import (
    PRECISION_LABELS,
    PRESETS,
    Preset,
    PresetLayer,
    field_title,
    get_preset,
    schematic_note,
    value_label,
)
from planatlas.maps.resolve import ResolvedStyle, resolve_style
from planatlas.maps.style import Category, LegendEntry, Style

__all__ = [
    "PRECISION_LABELS",
    "PRESETS",
    "Category",
    "LegendEntry",
    "PreparedLayer",
    "Preset",
    "PresetData",
    "PresetLayer",
    "ResolvedStyle",
    "Style",
    "field_title",
    "get_preset",
    "load_preset",
    "prepare_layer",
    "prepare_preset",
    "prepare_preset_data",
    "prepared_bounds",
    "resolve_style",
    "schematic_note",
    "value_label",
]
