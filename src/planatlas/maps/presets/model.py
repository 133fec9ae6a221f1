"""The preset model: what a thematic map shows, declared as data (layers, filters, parameters).

A :class:`Preset` is a titled list of :class:`PresetLayer` s drawn bottom to top. Each preset layer
names a catalogue layer (``layer``), its zh/en ``title``, a :class:`~planatlas.maps.style.Style`,
row ``filters``, a ``label`` column, the attribute ``fields`` its popup shows, and optional
derived geometry (``buffer_m``: rings around points, measured in EPSG:4548) or a ``count`` join
(a choropleth of how many rows of another layer reference each feature). Presets may declare
:class:`PresetParameter` s (the Jiuwang ``phase``); a filter value ``Param("phase")`` is bound
with ``preset.bind(phase=2022)`` or at preparation time. :meth:`Preset.params_with_defaults` is
the one place parameter defaults are filled in.

The presets themselves are data beside this module, one TOML file per plan (``xihu.toml``,
``jiuwang.toml``), built into these dataclasses by :mod:`~planatlas.maps.presets.load`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, TypeVar

from planatlas.maps.style import Scalar, Style, text_in

FilterOp = Literal["==", "!=", "in", "not in", "<", "<=", ">", ">=", "notnull"]
_OPS = ("==", "!=", "in", "not in", "<", "<=", ">", ">=", "notnull")
T = TypeVar("T")


@dataclass(frozen=True)
class Param:
    """A filter value supplied by a preset parameter at render time."""

    name: str


@dataclass(frozen=True)
class Filter:
    """Keep rows where ``column op value`` holds (``value`` may be a :class:`Param`)."""

    column: str
    op: FilterOp = "=="
    value: Scalar | Sequence[Scalar] | Param | None = None

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            msg = f"filter op should be one of {_OPS}, got {self.op!r}"
            raise ValueError(msg)


@dataclass(frozen=True)
class Choice:
    """One allowed value of a :class:`PresetParameter` and its zh/en label."""

    value: Scalar
    label: Mapping[str, str]

    def label_in(self, lang: str) -> str:
        """The label in ``lang`` (the value itself when there is none)."""
        return text_in(self.label, lang, default=str(self.value))


@dataclass(frozen=True)
class PresetParameter:
    """A user choice of a preset (e.g. the Jiuwang construction phase)."""

    name: str
    title: Mapping[str, str]
    choices: tuple[Choice, ...]
    default: Scalar

    def choice(self, value: object) -> Choice:
        """The choice whose value reads as ``value`` (``2022`` and ``"2022"`` alike)."""
        for c in self.choices:
            if str(c.value) == str(value):
                return c
        allowed = ", ".join(str(c.value) for c in self.choices)
        msg = f"{self.name} should be one of {allowed}, got {value!r}"
        raise ValueError(msg)


@dataclass(frozen=True)
class CountJoin:
    """Count the rows of catalogue layer ``table`` whose ``table_on`` equals this layer's ``on``."""

    table: str
    on: str
    table_on: str
    column: str = "count"
    title: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PresetLayer:
    """One drawn layer of a preset.

    Parameters
    ----------
    id
        Unique within the preset (a catalogue layer may be drawn twice, e.g. zones and the belt).
    layer
        Catalogue layer name.
    title
        ``{"zh": …, "en": …}`` shown in the layer control and the legend.
    style
        Colours, classes, widths.
    filters
        All must hold for a row to be drawn.
    label
        Column labelling features (map labels, tooltips); ``label_en`` is used in English
        when the data has it.
    fields
        Attributes the popup/side panel shows, before the provenance fields.
    buffer_m
        Draw ``buffer_m``-metre rings (EPSG:4548) around the features instead of the features.
    count
        Add a count column from another layer (choropleths).
    show
        Visible when the map opens.
    legend
        Listed in the legend.
    interactive
        Tooltips, popups and click-to-details.
    simplify_m
        Display simplification tolerance in metres (shared edges kept for polygon coverages).
    labels_on_map
        Draw the label on the map (permanently), not only as a tooltip.
    map_label_strip
        Per language, a suffix dropped from on-map labels so they fit ("Nanpu Subdistrict" is
        labelled "Nanpu"); tooltips, popups and exports keep the full name.
    context
        Background drawn when the atlas holds the layer and left out when it does not (an atlas
        built from a geodata directory without it still draws the preset).
    """

    id: str
    layer: str
    title: Mapping[str, str]
    style: Style = field(default_factory=Style)
    filters: tuple[Filter, ...] = ()
    label: str | None = "name"
    label_en: str | None = "name_en"
    fields: tuple[str, ...] = ()
    buffer_m: float | None = None
    count: CountJoin | None = None
    show: bool = True
    legend: bool = True
    interactive: bool = True
    simplify_m: float | None = None
    labels_on_map: bool = False
    map_label_strip: Mapping[str, str] = field(default_factory=dict)
    context: bool = False

    def title_in(self, lang: str) -> str:
        """The layer title in ``lang``."""
        return text_in(self.title, lang, default=self.id)

    def map_label(self, name: str, lang: str) -> str:
        """The on-map form of a label (see ``map_label_strip``)."""
        suffix = self.map_label_strip.get(lang)
        return name.removesuffix(suffix) if suffix and name.endswith(suffix) and name != suffix else name

    def columns(self) -> set[str]:
        """Catalogue columns this layer reads (style, filters, label, fields, count key)."""
        cols = set(self.style.columns()) | {f.column for f in self.filters} | set(self.fields)
        if self.label:
            cols.add(self.label)
        if self.count:
            cols.add(self.count.on)
            cols.discard(self.count.column)
            cols -= self.style.columns() & {self.count.column}
        return cols


def _lookup(items: Mapping[str, T], key: str, missing: str) -> T:
    """``items[key]``, or a ``KeyError`` saying ``missing``."""
    if key not in items:
        raise KeyError(missing)
    return items[key]


@dataclass(frozen=True)
class Preset:
    """A thematic map: title, subtitle (plan and year), layers bottom to top, parameters."""

    name: str
    title: Mapping[str, str]
    subtitle: Mapping[str, str]
    layers: tuple[PresetLayer, ...]
    parameters: tuple[PresetParameter, ...] = ()
    #: Layer ids whose extent frames the map (default: every layer).
    extent: tuple[str, ...] = ()
    #: Seed files the preset draws on (for the source note of exports).
    sources: tuple[str, ...] = ()
    description: Mapping[str, str] = field(default_factory=dict)
    #: Sources beyond the plan and caveats the map must carry (language -> text): the attribution
    #: of the interactive map and the notes of a printed page show it.
    credits: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = [pl.id for pl in self.layers]
        if len(ids) != len(set(ids)):
            msg = f"preset {self.name!r}: layer ids should be unique, got {ids!r}"
            raise ValueError(msg)

    def title_in(self, lang: str) -> str:
        """The map title in ``lang``."""
        return text_in(self.title, lang, default=self.name)

    def subtitle_in(self, lang: str) -> str:
        """The subtitle (plan and year) in ``lang``."""
        return text_in(self.subtitle, lang)

    def credits_in(self, lang: str) -> str:
        """The credits and caveats in ``lang`` ('' when the preset has none)."""
        return text_in(self.credits, lang) if self.credits else ""

    def layer(self, layer_id: str) -> PresetLayer:
        """The preset layer with id ``layer_id``."""
        by_id = {pl.id: pl for pl in self.layers}
        return _lookup(by_id, layer_id, f"preset {self.name!r} has no layer {layer_id!r}; it has {list(by_id)}")

    def catalogue_layers(self) -> list[str]:
        """Catalogue layers to load (drawn layers and count tables), in first-use order."""
        names: list[str] = []
        for pl in self.layers:
            for n in (pl.layer, pl.count.table if pl.count else None):
                if n and n not in names:
                    names.append(n)
        return names

    def parameter(self, name: str) -> PresetParameter:
        """The parameter called ``name``."""
        by_name = {p.name: p for p in self.parameters}
        return _lookup(by_name, name, f"preset {self.name!r} has no parameter {name!r}")

    def params_with_defaults(self, params: Mapping[str, object] | None = None) -> dict[str, Scalar]:
        """Parameter values with defaults filled in, each checked against its choices.

        The one place defaults are filled: :func:`planatlas.maps.load.load_preset` calls it and
        hands the result to every renderer in :attr:`PresetData.params`.

        Raises
        ------
        KeyError
            If ``params`` names a parameter the preset does not have.
        ValueError
            If a value is not one of its parameter's choices.
        """
        given = dict(params or {})
        unknown = set(given) - {p.name for p in self.parameters}
        if unknown:
            msg = f"preset {self.name!r} has no parameter(s) {sorted(unknown)}"
            raise KeyError(msg)
        return {p.name: p.choice(given.get(p.name, p.default)).value for p in self.parameters}

    def bind(self, **params: object) -> Preset:
        """A copy with every :class:`Param` filter value replaced by its value."""
        values = self.params_with_defaults(params)

        def bind_filter(f: Filter) -> Filter:
            return replace(f, value=values[f.value.name]) if isinstance(f.value, Param) else f

        layers = tuple(replace(pl, filters=tuple(bind_filter(f) for f in pl.filters)) for pl in self.layers)
        return replace(self, layers=layers, parameters=())
