"""Resolve a style against the drawn features: final classes, per-feature colours and widths, legend.

:func:`resolve_style` completes a :class:`~planatlas.maps.style.Style` against the data actually
drawn (automatic categories, graduated class breaks) into a :class:`ResolvedStyle`, which then
answers, for both renderers:

``resolved.class_index(frame)``
    per-feature class number (``-1`` = fallback colour); the interactive map ships this as the
    feature property ``_k`` and picks colours in JavaScript from ``resolved.js_palette()``;
``resolved.feature_colors(frame)`` / ``resolved.feature_widths(frame)``
    per-feature fill colour (hex) and line width (px), for matplotlib;
``resolved.legend(lang)``
    :class:`~planatlas.maps.style.LegendEntry` list: colour, outline, width, symbol (``fill`` |
    ``line`` | ``point``), label in ``zh``/``en`` via ``entry.label_in(lang)`` and the number of
    features in the class.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from planatlas.catalog import LANGS
from planatlas.maps.classify import IntArray, class_of_values, graduated_bounds, norm_value, range_label, sample_colors
from planatlas.maps.style import (
    CATEGORICAL_PALETTE,
    SEQUENTIAL_PALETTES,
    Category,
    LegendEntry,
    Style,
    Symbol,
    check_color,
    text_in,
)


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
    #: Number of drawn features in each class.
    counts: tuple[int, ...] = ()

    # ---- per-feature values -------------------------------------------------------------
    def class_index(self, frame: pd.DataFrame) -> IntArray:
        """Class number of each feature (``-1``: fallback colour) as an int array."""
        n = len(frame)
        st = self.style
        if st.kind == "single" or n == 0:
            return np.zeros(n, dtype=int)
        values = frame[st.column] if st.column in frame else pd.Series([None] * n, index=frame.index)
        if st.kind == "categorical":
            lookup = {norm_value(c.value): i for i, c in enumerate(self.categories)}
            return np.array([lookup.get(norm_value(v), -1) for v in values], dtype=int)
        nums = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        return class_of_values(nums, self.bounds)

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
        """Colour of features no class takes (class ``-1``)."""
        return self.style.color

    def feature_colors(self, frame: pd.DataFrame) -> list[str]:
        """Per-feature colour (hex) for static renderers."""
        pal = self.palette()
        return [pal[k] if k >= 0 else self.fallback for k in self.class_index(frame)]

    def width_index(self, frame: pd.DataFrame) -> IntArray:
        """Per-feature index into :meth:`width_values` (``-1``: the class or style weight)."""
        st = self.style
        if not st.width_column or not st.widths or st.width_column not in frame:
            return np.full(len(frame), -1, dtype=int)
        keys = [norm_value(k) for k in st.widths]
        lookup = {k: i for i, k in enumerate(keys)}
        return np.array([lookup.get(norm_value(v), -1) for v in frame[st.width_column]], dtype=int)

    def width_values(self) -> list[float]:
        """Line width (px) of each width class, in the order of ``style.widths``."""
        return [float(w) for w in self.style.widths.values()]

    def feature_widths(self, frame: pd.DataFrame) -> list[float]:
        """Per-feature line width (px) for static renderers."""
        widths = self.width_values()
        cw = self.class_weights()
        out: list[float] = []
        for k, w in zip(self.class_index(frame), self.width_index(frame), strict=True):
            if w >= 0:
                out.append(widths[w])
            elif 0 <= k < len(cw):
                out.append(cw[k])
            else:
                out.append(self.style.weight)
        return out

    def stroke_for(self, color: str) -> str:
        """Outline colour of a class coloured ``color``."""
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
                        label={lg: range_label(lo, hi, first=i == 0, unit=text_in(st.unit, lg)) for lg in LANGS},
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
            known = {norm_value(c.value) for c in cats}
            present = {k for k in map(norm_value, values) if k is not None}
            extra = sorted(present - known, key=str)
            used = {c.color for c in cats}
            pal = [c for c in (st.palette or CATEGORICAL_PALETTE) if c not in used] or list(CATEGORICAL_PALETTE)
            for i, v in enumerate(extra):
                rows = frame[values.map(norm_value) == v]
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
    colors = sample_colors(sequential, n)
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
