"""Map styles: the atlas' colours and how a layer is coloured, the one style source of both renderers.

This module holds the colour constants (palettes, fallback) and the declarations: a :class:`Style`
says how a preset layer is coloured (one colour, a colour per category, or graduated classes of
a number); :class:`Category` is one coloured class; :class:`LegendEntry` one legend row.
:func:`planatlas.maps.resolve.resolve_style` completes a style against the drawn features;
:mod:`planatlas.maps.classify` computes class breaks.

Example (static export)::

    rs = resolve_style(preset_layer.style, gdf)
    gdf.plot(color=rs.feature_colors(gdf), linewidth=rs.feature_widths(gdf))
    for entry in rs.legend("zh"):
        handles.append(Patch(facecolor=entry.color, label=entry.label_in("zh")))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from planatlas.catalog import is_hex_color

#: How a style colours features: one colour, a colour per category, classes of a number.
Kind = Literal["single", "categorical", "graduated"]
#: Legend symbol of a layer, from its geometry.
Symbol = Literal["fill", "line", "point"]
#: How graduated classes are cut when a style gives no explicit ``breaks`` (see
#: :func:`planatlas.maps.classify.graduated_bounds`).
Scheme = Literal["equal_interval", "quantile", "fisher_jenks"]
#: A data value a class is keyed by (a code, a year, a flag).
Scalar = str | int | float | bool

#: Categorical palette: Okabe–Ito plus Tableau hues; distinct in print and for colour-blind readers.
CATEGORICAL_PALETTE: tuple[str, ...] = (
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#cc79a7",
    "#0072b2",
    "#d55e00",
    "#f0e442",
    "#8c564b",
    "#7f7f7f",
    "#17becf",
    "#bcbd22",
    "#9467bd",
)
#: Sequential palettes (ColorBrewer, light to dark) for graduated styles, by number of classes.
SEQUENTIAL_PALETTES: Mapping[str, tuple[str, ...]] = {
    "YlOrRd": ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"),
    "Blues": ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"),
    "Purples": ("#f2f0f7", "#dadaeb", "#bcbddc", "#9e9ac8", "#756bb1", "#54278f"),
}
FALLBACK_COLOR = "#9e9e9e"


def check_color(color: str, what: str = "colour") -> str:
    """Return ``color`` if it is a ``#rrggbb`` hex colour, else raise ``ValueError`` naming ``what``."""
    if not is_hex_color(color):
        msg = f"{what} should be '#rrggbb', got {color!r}"
        raise ValueError(msg)
    return color.lower()


def text_in(text: Mapping[str, str] | str | None, lang: str, default: str = "") -> str:
    """Pick ``lang`` from a ``{"zh": …, "en": …}`` mapping (falling back to zh, then any)."""
    if text is None:
        return default
    if isinstance(text, str):
        return text
    return text.get(lang) or text.get("zh") or next(iter(text.values()), default) or default


@dataclass(frozen=True)
class Category:
    """One class of a categorical style: the data value, its colour and its legend label."""

    value: Scalar
    color: str
    label: Mapping[str, str] = field(default_factory=dict)
    #: Line width (px) for features of this class; ``None`` uses the style's ``weight``.
    weight: float | None = None

    def __post_init__(self) -> None:
        check_color(self.color, f"colour of category {self.value!r}")

    def label_in(self, lang: str) -> str:
        """The legend label in ``lang`` (the value itself when there is none)."""
        return text_in(self.label, lang, default=str(self.value))


@dataclass(frozen=True)
class Style:
    """How one preset layer is drawn.

    Parameters
    ----------
    kind
        ``single`` (one colour), ``categorical`` (a colour per value of ``column``) or
        ``graduated`` (classes of a numeric ``column``).
    column
        Attribute driving the colour (categorical, graduated).
    color
        Colour of ``single`` styles, and of values no category lists (unless ``auto_categories``).
    categories
        Categorical classes in legend order.
    auto_categories
        Give data values that no category lists a palette colour (and a legend entry labelled with
        the value) instead of the fallback colour.
    breaks
        Graduated: explicit upper class bounds (ascending); the last must cover the maximum.
    classes, scheme
        Graduated without ``breaks``: number of classes and how to cut them: ``"equal_interval"``,
        ``"quantile"`` or ``"fisher_jenks"`` (natural breaks).
    palette
        Colours for automatic categories or graduated classes (defaults: categorical palette,
        YlOrRd).
    unit
        Graduated legend unit, ``{"zh": "家", "en": "enterprises"}``.
    fill, fill_opacity, stroke, stroke_color, weight, opacity, dash, radius
        Geometry look: polygons/points are filled when ``fill``; the outline colour is
        ``stroke_color`` or the class colour; ``weight`` is the line width in px; ``dash`` a dash
        pattern like ``"6 4"``; ``radius`` the point radius in px.
    width_column, widths
        Line width by class: ``{value: px}`` for values of ``width_column`` (legend shows them).
    width_labels
        Legend labels of the ``widths`` classes.
    label
        Legend label of a ``single`` style (defaults to the layer title).
    color_column, label_columns
        Automatic categories take their colour from ``color_column`` (``#rrggbb`` values in the
        data, e.g. official metro line colours) and their zh/en labels from ``label_columns``
        (``{"zh": "name", "en": "name_en"}``) when the data has them.
    """

    kind: Kind = "single"
    column: str | None = None
    color: str = "#555555"
    categories: tuple[Category, ...] = ()
    auto_categories: bool = True
    breaks: tuple[float, ...] | None = None
    classes: int = 5
    scheme: Scheme = "equal_interval"
    palette: tuple[str, ...] = ()
    unit: Mapping[str, str] = field(default_factory=dict)
    fill: bool = True
    fill_opacity: float = 0.55
    stroke: bool = True
    stroke_color: str | None = None
    weight: float = 1.5
    opacity: float = 0.9
    dash: str | None = None
    radius: float = 6.0
    width_column: str | None = None
    widths: Mapping[Scalar, float] = field(default_factory=dict)
    width_labels: Mapping[Scalar, Mapping[str, str]] = field(default_factory=dict)
    label: Mapping[str, str] = field(default_factory=dict)
    color_column: str | None = None
    label_columns: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ("single", "categorical", "graduated"):
            msg = f"style kind should be 'single', 'categorical' or 'graduated', got {self.kind!r}"
            raise ValueError(msg)
        if self.kind != "single" and not self.column:
            msg = f"a {self.kind} style needs a column"
            raise ValueError(msg)
        check_color(self.color, "style color")
        if self.stroke_color is not None:
            check_color(self.stroke_color, "style stroke_color")
        for i, c in enumerate(self.palette):
            check_color(c, f"style palette[{i}]")
        if self.scheme not in get_args(Scheme):
            msg = f"graduated scheme should be one of {', '.join(get_args(Scheme))}, got {self.scheme!r}"
            raise ValueError(msg)
        if self.breaks is not None and list(self.breaks) != sorted(self.breaks):
            msg = f"graduated breaks should ascend, got {self.breaks!r}"
            raise ValueError(msg)

    def columns(self) -> set[str]:
        """Attributes this style reads."""
        return {c for c in (self.column, self.width_column) if c}

    @classmethod
    def from_hints(cls, hints: Mapping[str, Any]) -> Style:
        """A style from a catalogue ``[style]`` table (kind, column, colors, color)."""
        kind = hints.get("kind", "single")
        colors = hints.get("colors") or {}
        cats = tuple(Category(value=v, color=c) for v, c in colors.items())
        return cls(
            kind=kind,
            column=hints.get("column"),
            color=hints.get("color", "#555555"),
            categories=cats,
        )


@dataclass(frozen=True)
class LegendEntry:
    """One legend row: symbol, colours, width and the label in each language."""

    color: str
    label: Mapping[str, str]
    symbol: Symbol = "fill"
    stroke_color: str | None = None
    weight: float = 1.5
    fill_opacity: float = 0.55
    dash: str | None = None
    count: int | None = None
    #: The category value, the ``(low, high)`` bounds of a graduated class, or the width class.
    value: Scalar | tuple[float, float] | None = None

    def label_in(self, lang: str) -> str:
        """The legend label in ``lang`` (the value itself when there is none)."""
        return text_in(self.label, lang, default=str(self.value))


# ---- the query map ------------------------------------------------------------------------------
#: Colours of the query map (:func:`planatlas.render.query_map.query_map`): the matched features,
#: the reference features they were matched against, the distance ring drawn around those, and a searched place.
QUERY_COLORS: Mapping[str, str] = {"match": "#1f77b4", "reference": "#d62728", "ring": "#d62728", "focus": "#ff7f00"}
