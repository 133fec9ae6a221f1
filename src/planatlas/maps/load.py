"""The one loading edge of every map: store → a preset's frames, keys, field titles and parameters.

Renderers (:mod:`planatlas.render.interactive`, :mod:`planatlas.render.static`) and writers take a
:class:`PresetData` and never read the store themselves; parameter defaults are filled once, by
:meth:`Preset.params_with_defaults <planatlas.maps.presets.model.Preset.params_with_defaults>`,
when the :class:`PresetData` is made (:func:`load_preset`, or :meth:`PresetData.from_frames` for
frames already at hand). :func:`planatlas.maps.frames.prepare_preset_data` then prepares the layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from planatlas.maps.presets import Preset, get_preset
from planatlas.maps.style import Scalar

if TYPE_CHECKING:
    # the store package imports the catalogue and GeoPackage machinery maps do not otherwise need
    from planatlas.store.base import LayerStore

#: Layer drawn in the locator inset of printed pages, when the atlas has it.
INSET_LAYER = "districts"
#: Layers the inset prefers, in order: all county-level units of Nanchang first (context), then the
#: plan districts alone.
INSET_LAYERS = ("counties", INSET_LAYER)


@dataclass(frozen=True)
class PresetData:
    """Everything a renderer needs to draw one preset, read from the store once.

    Parameters
    ----------
    preset
        The thematic map.
    frames
        Catalogue layer name → its frame (EPSG:4490), for every layer the preset draws or counts.
    keys
        Catalogue layer name → its key column (identifies clicked features).
    field_titles
        Catalogue layer name → field → {lang: title}, for popups and the details panel.
    params
        The preset's parameter values with defaults filled in and checked against their choices.
    districts
        The district outlines for the locator inset, or ``None`` when the atlas has none.
    """

    preset: Preset
    frames: Mapping[str, pd.DataFrame]
    keys: Mapping[str, str]
    field_titles: Mapping[str, Mapping[str, Mapping[str, str]]]
    params: Mapping[str, Scalar] = field(default_factory=dict)
    districts: pd.DataFrame | None = None

    @classmethod
    def from_frames(
        cls,
        preset: Preset,
        frames: Mapping[str, pd.DataFrame],
        *,
        params: Mapping[str, object] | None = None,
        keys: Mapping[str, str] | None = None,
        field_titles: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
        districts: pd.DataFrame | None = None,
    ) -> PresetData:
        """The data of ``preset`` from frames already read, its parameters resolved with their defaults.

        ``districts`` defaults to the frame of the inset layer when ``frames`` has it.

        Raises
        ------
        KeyError
            If ``params`` names a parameter the preset does not have.
        ValueError
            If a parameter value is not one of its choices.
        """
        return cls(
            preset=preset,
            frames=frames,
            keys=keys or {},
            field_titles=field_titles or {},
            params=preset.params_with_defaults(params),
            districts=districts if districts is not None else frames.get(INSET_LAYER),
        )


def load_preset(store: LayerStore, name: str | Preset, params: Mapping[str, object] | None = None) -> PresetData:
    """Read what preset ``name`` draws from ``store`` and resolve its parameters.

    Raises
    ------
    KeyError
        If there is no preset called ``name`` or a parameter is unknown.
    ValueError
        If a parameter value is not one of its choices.
    """
    preset = name if isinstance(name, Preset) else get_preset(name)
    held = store.layers()
    context = {pl.layer for pl in preset.layers if pl.context} - set(held)
    frames = {layer: store.read(layer) for layer in preset.catalogue_layers() if layer not in context}
    specs = {layer: store.spec(layer) for layer in frames}
    keys = {layer: spec.key for layer, spec in specs.items()}
    titles = {layer: {f: dict(fs.title) for f, fs in spec.fields.items() if fs.title} for layer, spec in specs.items()}
    inset = next((name for name in INSET_LAYERS if name in frames or name in held), None)
    districts = None if inset is None else frames[inset] if inset in frames else store.read(inset)
    return PresetData.from_frames(preset, frames, params=params, keys=keys, field_titles=titles, districts=districts)
