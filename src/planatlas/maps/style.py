"""Map styles: colours, classes and legends shared by the interactive map and static export (pure).

This module is the ONE style source of the atlas. A :class:`Style` says how a layer is coloured;
:func:`resolve_style` completes it against the data actually drawn (automatic categories, graduated
class breaks) into a :class:`ResolvedStyle`, which then answers, for both renderers:

``resolved.class_index(frame)``
    per-feature class number (``-1`` = fallback colour); the interactive map ships this as the
    feature property ``_k`` and picks colours in JavaScript from ``resolved.js_palette()``;
``resolved.feature_colors(frame)`` / ``resolved.feature_widths(frame)``
    per-feature fill colour (hex) and line width (px), for matplotlib;
``resolved.legend(lang)``
    :class:`LegendEntry` list: colour, outline, width, symbol (``fill`` | ``line`` | ``point``),
    label in ``zh``/``en`` via ``entry.label_in(lang)`` and the number of features in the class.

Example (static export)::

    rs = resolve_style(preset_layer.style, gdf)
    gdf.plot(color=rs.feature_colors(gdf), linewidth=rs.feature_widths(gdf))
    for entry in rs.legend("zh"):
        handles.append(Patch(facecolor=entry.color, label=entry.label_in("zh")))
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from planatlas.catalog import LANGS

Kind = Literal["single", "categorical", "graduated"]
Symbol = Literal["fill", "line", "point"]

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
_HEX_DIGITS = set("0123456789abcdefABCDEF")


def check_color(color: str) -> str:
    """Return ``color`` if it is a ``#rrggbb`` hex colour, else raise ``ValueError``."""
    if not (isinstance(color, str) and len(color) == 7 and color[0] == "#" and set(color[1:]) <= _HEX_DIGITS):
        msg = f"colour should be '#rrggbb', got {color!r}"
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

    value: Any
    color: str
    label: Mapping[str, str] = field(default_factory=dict)
    #: Line width (px) for features of this class; ``None`` uses the style's ``weight``.
    weight: float | None = None

    def __post_init__(self) -> None:
        check_color(self.color)

    def label_in(self, lang: str) -> str:
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
        Graduated without ``breaks``: number of classes and ``"equal_interval"`` or ``"quantile"``.
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
    scheme: Literal["equal_interval", "quantile"] = "equal_interval"
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
    widths: Mapping[Any, float] = field(default_factory=dict)
    width_labels: Mapping[Any, Mapping[str, str]] = field(default_factory=dict)
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
        check_color(self.color)
        if self.stroke_color is not None:
            check_color(self.stroke_color)
        for c in self.palette:
            check_color(c)
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
    value: Any = None

    def label_in(self, lang: str) -> str:
        return text_in(self.label, lang, default=str(self.value))


@dataclass(frozen=True)
class ResolvedStyle:
    """A :class:`Style` completed against the data: its final classes and breaks."""

    style: Style
    symbol: Symbol
    #: Categorical: the classes in legend order, automatic ones appended.
    categories: tuple[Category, ...] = ()
    #: Graduated: class bounds ``[b0, …, bn]``; class i covers ``(b_i, b_{i+1}]`` (first closed).
    bounds: tuple[float, ...] = ()
    #: Graduated: colour of each class.
    class_colors: tuple[str, ...] = ()
    counts: tuple[int, ...] = ()

    # ---- per-feature values -------------------------------------------------------------
    def class_index(self, frame: pd.DataFrame) -> np.ndarray:
        """Class number of each feature (``-1``: fallback colour) as an int array."""
        n = len(frame)
        st = self.style
        if st.kind == "single" or n == 0:
            return np.zeros(n, dtype=int)
        values = frame[st.column] if st.column in frame else pd.Series([None] * n, index=frame.index)
        if st.kind == "categorical":
            lookup = {_norm(c.value): i for i, c in enumerate(self.categories)}
            return np.array([lookup.get(_norm(v), -1) for v in values], dtype=int)
        nums = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        return _graduated_index(nums, self.bounds)

    def palette(self) -> list[str]:
        """Colour of each class number (index ``-1`` is not included: see ``fallback``)."""
        st = self.style
        if st.kind == "single":
            return [st.color]
        if st.kind == "categorical":
            return [c.color for c in self.categories]
        return list(self.class_colors)

    def class_weights(self) -> list[float]:
        """Line width of each class number (categorical classes may set their own)."""
        st = self.style
        if st.kind == "categorical":
            return [c.weight if c.weight is not None else st.weight for c in self.categories]
        return [st.weight] * len(self.palette())

    @property
    def fallback(self) -> str:
        return self.style.color

    def feature_colors(self, frame: pd.DataFrame) -> list[str]:
        """Per-feature colour (hex) for static renderers."""
        pal = self.palette()
        return [pal[k] if k >= 0 else self.fallback for k in self.class_index(frame)]

    def width_index(self, frame: pd.DataFrame) -> np.ndarray:
        """Per-feature index into :meth:`width_values` (``-1``: the class or style weight)."""
        st = self.style
        if not st.width_column or not st.widths or st.width_column not in frame:
            return np.full(len(frame), -1, dtype=int)
        keys = [_norm(k) for k in st.widths]
        lookup = {k: i for i, k in enumerate(keys)}
        return np.array([lookup.get(_norm(v), -1) for v in frame[st.width_column]], dtype=int)

    def width_values(self) -> list[float]:
        return [float(w) for w in self.style.widths.values()]

    def feature_widths(self, frame: pd.DataFrame) -> list[float]:
        """Per-feature line width (px) for static renderers."""
        widths = self.width_values()
        cw = self.class_weights()
        out = []
        for k, w in zip(self.class_index(frame), self.width_index(frame), strict=True):
            if w >= 0:
                out.append(widths[w])
            elif 0 <= k < len(cw):
                out.append(cw[k])
            else:
                out.append(self.style.weight)
        return out

    def stroke_for(self, color: str) -> str:
        return self.style.stroke_color or color

    # ---- legend -------------------------------------------------------------------------
    def legend(self, lang: str = "zh", *, title: Mapping[str, str] | None = None) -> list[LegendEntry]:
        """Legend rows in drawing order; ``title`` labels a single-colour layer."""
        st = self.style
        common: dict[str, Any] = {
            "symbol": self.symbol,
            "weight": st.weight,
            "fill_opacity": st.fill_opacity if st.fill else 0.0,
            "dash": st.dash,
        }
        entries: list[LegendEntry] = []
        if st.kind == "single":
            label = st.label or title or {"zh": "", "en": ""}
            entries.append(
                LegendEntry(
                    color=st.color,
                    label=label,
                    stroke_color=self.stroke_for(st.color),
                    count=self.counts[0] if self.counts else None,
                    **common,
                )
            )
        elif st.kind == "categorical":
            for i, c in enumerate(self.categories):
                entries.append(
                    LegendEntry(
                        color=c.color,
                        label=c.label or {"zh": str(c.value), "en": str(c.value)},
                        stroke_color=self.stroke_for(c.color),
                        count=self.counts[i] if i < len(self.counts) else None,
                        value=c.value,
                        **{**common, "weight": c.weight if c.weight is not None else st.weight},
                    )
                )
        else:
            for i, color in enumerate(self.class_colors):
                lo, hi = self.bounds[i], self.bounds[i + 1]
                entries.append(
                    LegendEntry(
                        color=color,
                        label={lg: _range_label(lo, hi, first=i == 0, unit=text_in(st.unit, lg)) for lg in LANGS},
                        stroke_color=self.stroke_for(color),
                        count=self.counts[i] if i < len(self.counts) else None,
                        value=(lo, hi),
                        **common,
                    )
                )
        for value, width in st.widths.items():
            label = st.width_labels.get(value) or {"zh": str(value), "en": str(value)}
            entries.append(
                LegendEntry(
                    color="#444444",
                    label=label,
                    symbol="line",
                    weight=float(width),
                    stroke_color="#444444",
                    fill_opacity=0.0,
                    value=value,
                )
            )
        return entries

    def js_palette(self) -> dict[str, Any]:
        """What the browser needs to colour features from their ``_k``/``_w`` properties."""
        st = self.style
        return {
            "colors": self.palette(),
            "weights": self.class_weights(),
            "widths": self.width_values(),
            "fallback": self.fallback,
            "stroke": st.stroke_color,
            "fill": st.fill,
            "fillOpacity": st.fill_opacity,
            "strokeOn": st.stroke,
            "weight": st.weight,
            "opacity": st.opacity,
            "dash": st.dash,
            "radius": st.radius,
        }


def _norm(value: Any) -> Any:
    """Normalise values so 2021, 2021.0 and "2021" select the same category."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else str(float(value))
    return str(value)


def _graduated_index(nums: np.ndarray, bounds: Sequence[float]) -> np.ndarray:
    out = np.full(len(nums), -1, dtype=int)
    if len(bounds) < 2:
        return out
    for i in range(len(bounds) - 1):
        lo, hi = bounds[i], bounds[i + 1]
        sel = (nums <= hi) & ((nums >= lo) if i == 0 else (nums > lo))
        out[sel & (out < 0)] = i
    return out


def _fmt(x: float) -> str:
    return f"{x:g}" if not float(x).is_integer() else str(int(x))


def _range_label(lo: float, hi: float, *, first: bool, unit: str) -> str:
    unit = f" {unit}" if unit else ""
    if float(lo).is_integer() and float(hi).is_integer():
        a = int(lo) if first else int(lo) + 1
        return f"{a}{unit}" if a == int(hi) else f"{a}–{int(hi)}{unit}"
    return f"{_fmt(lo)}–{_fmt(hi)}{unit}"


def graduated_bounds(values: Iterable[float], *, classes: int, scheme: str) -> tuple[float, ...]:
    """Class bounds ``[min, b1, …, max]`` for numeric ``values``.

    Integer data get integer bounds (a choropleth of counts reads "3–5", not "2.8–5.6");
    duplicate bounds are dropped, so there may be fewer classes than asked for.
    """
    arr = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if classes < 1:
        msg = f"classes should be at least 1, got {classes!r}"
        raise ValueError(msg)
    if arr.size == 0:
        return ()
    lo, hi = float(arr.min()), float(arr.max())
    if lo == hi:
        return (lo, hi)
    if scheme == "equal_interval":
        cuts = np.linspace(lo, hi, classes + 1)
    elif scheme == "quantile":
        cuts = np.quantile(arr, np.linspace(0, 1, classes + 1))
    else:
        msg = f"scheme should be 'equal_interval' or 'quantile', got {scheme!r}"
        raise ValueError(msg)
    if np.all(np.equal(np.mod(arr, 1), 0)):
        cuts = np.ceil(cuts)
        cuts[0] = lo
    out: list[float] = []
    for c in cuts:
        if not out or c > out[-1]:
            out.append(float(c))
    out[-1] = max(out[-1], hi)
    return tuple(out)


def _sample(palette: Sequence[str], n: int) -> tuple[str, ...]:
    if n <= 0:
        return ()
    if n >= len(palette):
        return tuple(palette[i % len(palette)] for i in range(n))
    idx = np.linspace(0, len(palette) - 1, n).round().astype(int)
    return tuple(palette[i] for i in idx)


def resolve_style(style: Style, frame: pd.DataFrame, *, symbol: Symbol | None = None) -> ResolvedStyle:
    """Complete ``style`` against the features in ``frame``.

    Categorical: listed categories keep their order; values present in the data but not listed
    get palette colours after them (``auto_categories``). Listed categories absent from the data
    stay in the legend with ``count`` 0, so a legend means the same on every map of a series.
    Graduated: ``breaks`` (or ``classes``/``scheme`` over the data) and a sequential palette.
    """
    if symbol is None:
        symbol = geometry_symbol(frame)
    st = style
    if st.kind == "single":
        return ResolvedStyle(style=st, symbol=symbol, counts=(len(frame),))
    if st.column not in frame:
        have = ", ".join(map(str, frame.columns))
        msg = f"style column {st.column!r} is not in the data (columns: {have})"
        raise KeyError(msg)
    values = frame[st.column]
    if st.kind == "categorical":
        cats = list(st.categories)
        if st.auto_categories:
            known = {_norm(c.value) for c in cats}
            extra = sorted({_norm(v) for v in values if _norm(v) is not None} - known)
            used = {c.color for c in cats}
            pal = [c for c in (st.palette or CATEGORICAL_PALETTE) if c not in used] or list(CATEGORICAL_PALETTE)
            for i, v in enumerate(extra):
                rows = frame[values.map(_norm) == v]
                original = rows[st.column].iloc[0]
                color = pal[i % len(pal)]
                if st.color_column and st.color_column in frame:
                    # a value that is not a usable colour keeps the palette's
                    with contextlib.suppress(ValueError):
                        color = check_color(str(rows[st.color_column].iloc[0]))
                label = {
                    lg: str(rows[col].iloc[0])
                    for lg, col in st.label_columns.items()
                    if col in frame and pd.notna(rows[col].iloc[0])
                }
                cats.append(Category(value=original, color=color, label=label))
        resolved = ResolvedStyle(style=st, symbol=symbol, categories=tuple(cats))
        idx = resolved.class_index(frame)
        counts = tuple(int((idx == i).sum()) for i in range(len(cats)))
        return replace(resolved, counts=counts)
    nums = pd.to_numeric(values, errors="coerce")
    if st.breaks:
        lo = float(np.nanmin(nums)) if nums.notna().any() else 0.0
        bounds = (min(lo, st.breaks[0]), *st.breaks) if st.breaks[0] > lo else tuple(st.breaks)
        if len(bounds) == 1:
            bounds = (bounds[0], bounds[0])
    else:
        bounds = graduated_bounds(nums.dropna().tolist(), classes=st.classes, scheme=st.scheme)
    n = max(len(bounds) - 1, 0)
    sequential = st.palette or SEQUENTIAL_PALETTES["YlOrRd"]
    colors = _sample(sequential, n)
    resolved = ResolvedStyle(style=st, symbol=symbol, bounds=tuple(bounds), class_colors=colors)
    idx = resolved.class_index(frame)
    return replace(resolved, counts=tuple(int((idx == i).sum()) for i in range(n)))


def geometry_symbol(frame: pd.DataFrame) -> Symbol:
    """``point``, ``line`` or ``fill``, from the first geometry of a (Geo)DataFrame."""
    geoms = getattr(frame, "geometry", None)
    if geoms is None or len(frame) == 0:
        return "fill"
    types = set(geoms.geom_type.dropna().unique())
    if types and types <= {"Point", "MultiPoint"}:
        return "point"
    if types and types <= {"LineString", "MultiLineString"}:
        return "line"
    return "fill"


# ---- the query map ------------------------------------------------------------------------------
#: Colours of the query map (:func:`planatlas.render.query_map.query_map`): the matched features,
#: the reference features they were matched against, and the distance ring drawn around those.
QUERY_COLORS: Mapping[str, str] = {"match": "#1f77b4", "reference": "#d62728", "ring": "#d62728"}
