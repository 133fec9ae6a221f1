"""A plain map of any one layer over the district outlines: how an imported layer is viewed and exported.

Named ``layer:<name>`` wherever a preset name is taken (the Atlas page's ``?layer=NAME``, the
Export page, ``planatlas export layer:NAME``). The layer is coloured by its catalogue ``[style]``
column (chosen at import), or by a column given here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from planatlas.catalog import LayerSpec
from planatlas.maps.presets import Preset, PresetLayer, get_preset
from planatlas.maps.style import Style

#: Prefix of the generated presets' names.
LAYER_PREFIX = "layer:"
#: The outlines every layer map is drawn over (when the atlas has them).
OUTLINE_LAYER = "districts"


def is_layer_preset(name: str) -> bool:
    """Whether ``name`` names a generated one-layer map."""
    return name.startswith(LAYER_PREFIX)


def layer_style(spec: LayerSpec, column: str | None = None) -> Style:
    """The layer's style: by ``column`` (categories, or classes for numbers), else as its catalogue says."""
    declared: Mapping[str, Any] = spec.style
    column = column or declared.get("column")
    color = str(declared.get("color") or "#d62728")
    points = spec.geometry_type in ("Point", "MultiPoint")
    look: dict[str, Any] = {"weight": 1.0 if not points else 1.5, "fill_opacity": 0.6, "radius": 5.0}
    if spec.geometry_type in ("LineString", "MultiLineString"):
        look = {"weight": 2.5, "fill": False}
    if not column or column not in spec.fields:
        return Style(kind="single", color=color, **look)
    if spec.fields[column].type in ("int", "float"):
        return Style(kind="graduated", column=column, color=color, scheme="quantile", **look)
    return Style(kind="categorical", column=column, color=color, auto_categories=True, **look)


def layer_preset(spec: LayerSpec, *, column: str | None = None, outlines: bool = True) -> Preset:
    """The one-layer map of ``spec``, over the district outlines when ``outlines``."""
    label = spec.style.get("label") if isinstance(spec.style.get("label"), str) else None
    shown_fields = tuple(f for f in spec.fields if f not in ("source_lines",))[:8]
    layers = []
    if outlines:
        layers.append(
            PresetLayer(
                id=OUTLINE_LAYER,
                layer=OUTLINE_LAYER,
                title={"zh": "区界", "en": "District outlines"},
                style=Style(kind="single", color="#333333", fill=False, weight=2.0),
                label="name",
                label_en="name_en",
                interactive=False,
                legend=True,
            )
        )
    layers.append(
        PresetLayer(
            id=spec.name,
            layer=spec.name,
            title=dict(spec.title),
            style=layer_style(spec, column),
            label=label if label in spec.fields else None,
            label_en=None,
            fields=shown_fields,
        )
    )
    return Preset(
        name=f"{LAYER_PREFIX}{spec.name}",
        title=dict(spec.title),
        subtitle={"zh": f"图层 {spec.name}", "en": f"Layer {spec.name}"},
        layers=tuple(layers),
        extent=(spec.name,),
    )


def preset_for(name: str, spec_of: Callable[[str], LayerSpec], *, layers: list[str] | None = None) -> Preset:
    """The preset called ``name``: a bundled one, or ``layer:<layer>`` built from ``spec_of(layer)``."""
    if not is_layer_preset(name):
        return get_preset(name)
    layer = name.removeprefix(LAYER_PREFIX)
    spec = spec_of(layer)
    return layer_preset(spec, outlines=layers is None or OUTLINE_LAYER in layers)
