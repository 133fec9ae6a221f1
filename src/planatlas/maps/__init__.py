"""Thematic maps: presets (what each map shows) and styles (colours, legends): the one style source.

Public API (used by ``planatlas.render.interactive`` and the static export)::

    from planatlas.maps import PRESETS, get_preset, load_frames, prepare_preset
    preset = get_preset("one-belt-four-zones")
    prepared = prepare_preset(preset, load_frames(preset, store), params={})
    for p in prepared:
        p.layer.title_in("zh"); p.frame; p.resolved.feature_colors(p.frame); p.resolved.legend("zh")
        p.schematic  # say "schematic" when True (see ``schematic_note(lang)``)

See :mod:`planatlas.maps.style`, :mod:`planatlas.maps.presets` and :mod:`planatlas.maps.frames`.
"""

from planatlas.maps.frames import (
    PreparedLayer,
    load_frames,
    prepare_layer,
    prepare_preset,
    prepared_bounds,
)
from planatlas.maps.presets import (
    PRECISION_LABELS,
    PRESETS,
    Preset,
    PresetLayer,
    field_title,
    get_preset,
    schematic_note,
)
from planatlas.maps.style import Category, LegendEntry, ResolvedStyle, Style, resolve_style

__all__ = [
    "PRECISION_LABELS",
    "PRESETS",
    "Category",
    "LegendEntry",
    "PreparedLayer",
    "Preset",
    "PresetLayer",
    "ResolvedStyle",
    "Style",
    "field_title",
    "get_preset",
    "load_frames",
    "prepare_layer",
    "prepare_preset",
    "prepared_bounds",
    "resolve_style",
    "schematic_note",
]
