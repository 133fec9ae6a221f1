"""The printed page: paper, orientation and dpi, the boxes of a page layout, and its blank figure.

:class:`PageSpec` says what page to draw; :func:`page_layout` places the map, legend, inset,
notes and guidance text on it in millimetres; :class:`Sheet` turns those millimetres into figure
axes and text; :class:`RenderedPage` is what a renderer returns (the figure, the rcParams it must
be saved with and its document metadata).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from planatlas.catalog import LANGS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from planatlas.render.fonts import CJKFont

#: Paper sizes in millimetres, portrait (width, height).
PAPERS_MM: dict[str, tuple[float, float]] = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
ORIENTATIONS = ("portrait", "landscape")

#: A box on the page in millimetres: x and y of its top-left corner from the page's top-left, w, h.
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PageSpec:
    """Paper, orientation, resolution and language of an exported page.

    Parameters
    ----------
    paper
        ``"A4"`` or ``"A3"``.
    orientation
        ``"portrait"`` or ``"landscape"``.
    dpi
        Raster resolution (PNG, and rasterised layers in PDF/SVG).
    lang
        ``"zh"`` or ``"en"`` for page texts and layer titles.
    inset
        Draw the small locator map of the district in Nanchang (needs district outlines).
    labels
        Draw feature labels (greedy placement without collisions).
    date
        Date printed on the page; today when ``None``.
    """

    paper: str = "A4"
    orientation: str = "portrait"
    dpi: int = 300
    lang: str = "zh"
    inset: bool = True
    labels: bool = True
    date: _dt.date | None = None

    def __post_init__(self) -> None:
        if self.paper not in PAPERS_MM:
            msg = f"paper should be one of {tuple(PAPERS_MM)}, got {self.paper!r}"
            raise ValueError(msg)
        if self.orientation not in ORIENTATIONS:
            msg = f"orientation should be one of {ORIENTATIONS}, got {self.orientation!r}"
            raise ValueError(msg)
        if self.lang not in LANGS:
            msg = f"lang should be one of {LANGS}, got {self.lang!r}"
            raise ValueError(msg)
        if not isinstance(self.dpi, int) or not 30 <= self.dpi <= 1200:
            msg = f"dpi should be an integer between 30 and 1200, got {self.dpi!r}"
            raise ValueError(msg)

    @property
    def size_mm(self) -> tuple[float, float]:
        """Paper width and height in millimetres, in this orientation."""
        w, h = PAPERS_MM[self.paper]
        return (h, w) if self.orientation == "landscape" else (w, h)

    @property
    def pixel_size(self) -> tuple[int, int]:
        """Raster size in pixels: the paper size at ``dpi``, rounded."""
        w, h = self.size_mm
        return round(w / 25.4 * self.dpi), round(h / 25.4 * self.dpi)

    @property
    def size_inches(self) -> tuple[float, float]:
        """Figure size: exactly ``pixel_size / dpi``, so a PNG has the paper's pixel size to the pixel."""
        w, h = self.pixel_size
        return w / self.dpi, h / self.dpi

    @property
    def font_scale(self) -> float:
        """Text scale relative to A4 (A3 text is larger so the page reads at the same distance)."""
        w, h = self.size_mm
        return math.sqrt((w * h) / (210.0 * 297.0))

    @property
    def today(self) -> _dt.date:
        """The date printed on the page (today's local date when ``date`` is ``None``)."""
        return self.date or _dt.datetime.now().astimezone().date()


@dataclass(frozen=True)
class RenderedPage:
    """One drawn page: the figure and what writing it needs.

    Parameters
    ----------
    figure
        The page, on an Agg canvas, not attached to pyplot.
    rc
        The rcParams it was drawn with and must be saved with (font, Type 42 embedding).
    metadata
        Document metadata: ``title``, ``subject`` and ``keywords`` (empty values are left out).
    """

    figure: Figure
    rc: Mapping[str, Any]
    metadata: Mapping[str, str] = field(default_factory=dict)


def new_figure(spec: PageSpec) -> Figure:
    """A blank white page of ``spec``'s size and dpi on an Agg canvas (so text can be measured)."""
    # matplotlib is imported when a page is drawn: PageSpec stays light for the CLI and HTML export.
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - heavy, see above
    from matplotlib.figure import Figure  # noqa: PLC0415 - heavy, see above

    fig = Figure(figsize=spec.size_inches, dpi=spec.dpi, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def figure_of(ax: Axes) -> Figure:
    """The page ``ax`` is drawn on."""
    fig = ax.get_figure(root=True)
    assert fig is not None
    return fig


def renderer_of(ax: Axes) -> RendererAgg:
    """The renderer of the Agg canvas of ``ax``'s page (see :func:`new_figure`), to measure text."""
    renderer: RendererAgg = figure_of(ax).canvas.get_renderer()  # type: ignore[attr-defined]  # an Agg canvas
    return renderer


def fit_extent(
    bounds: Sequence[float] | np.ndarray, aspect: float, *, pad: float = 0.06, min_size: float = 400.0
) -> tuple[float, float, float, float]:
    """Grow (xmin, ymin, xmax, ymax) by ``pad`` and to the axes' width/height ``aspect``."""
    xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    w = max(xmax - xmin, min_size)
    h = max(ymax - ymin, min_size)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    w *= 1 + 2 * pad
    h *= 1 + 2 * pad
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


class Sheet:
    """A page being drawn, measured in millimetres from its top-left corner."""

    def __init__(self, fig: Figure, spec: PageSpec, font: CJKFont) -> None:
        self.fig = fig
        self.spec = spec
        self.font = font
        self.w_mm, self.h_mm = spec.size_mm
        self.s = spec.font_scale

    def rect(self, x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
        """Figure-fraction rectangle of a box given in mm from the top-left."""
        return (x / self.w_mm, 1 - (y + h) / self.h_mm, w / self.w_mm, h / self.h_mm)

    def axes(self, x: float, y: float, w: float, h: float) -> Axes:
        """New axes filling the box (x, y, w, h) mm."""
        return self.fig.add_axes(self.rect(x, y, w, h))

    def text(self, x: float, y: float, s: str, *, size: float, **kw: Any) -> Text:  # noqa: ANN401 - Text properties
        """Text anchored at (x, y) mm from the top-left (top-aligned by default)."""
        kw.setdefault("va", "top")
        return self.fig.text(
            x / self.w_mm,
            1 - y / self.h_mm,
            s,
            fontsize=size * self.s,
            fontfamily=self.font.family,
            **kw,
        )

    def lines(
        self,
        x: float,
        y: float,
        lines: Sequence[str],
        *,
        size: float,
        leading: float = 1.45,
        **kw: Any,  # noqa: ANN401 - Text properties
    ) -> float:
        """Draw lines of text top-down from (x, y) mm; return the y (mm) below the last line."""
        step = size * self.s * leading * 25.4 / 72
        if lines:
            self.text(x, y, "\n".join(lines), size=size, linespacing=leading, **kw)
        return y + step * len(lines)


@dataclass(frozen=True)
class Layout:
    """Where things go on a page: boxes in mm (see :data:`Box`)."""

    map: Box
    legend: Box
    inset: Box | None
    notes: Box
    #: Guidance text beside the map on series pages.
    side: Box | None = None


def _grid(spec: PageSpec) -> tuple[float, float, float, float, float, float]:
    """Page width and height, text scale, margin, top of the map and notes height (mm)."""
    w, h = spec.size_mm
    s = spec.font_scale
    m = 10.0 * s
    return w, h, s, m, m + 22.0 * s, 17.0 * s


def _landscape_layout(spec: PageSpec, *, side_text: bool, inset: bool) -> Layout:
    w, h, s, m, top, notes_h = _grid(spec)
    panel_w = (120.0 if side_text else 68.0) * s
    map_w = w - 2 * m - panel_w - 5 * s
    map_h = h - top - m - notes_h
    px = m + map_w + 5 * s
    mapbox = (m, top, map_w, map_h)
    notes = (m, top + map_h + 3 * s, w - 2 * m, notes_h - 3 * s)
    if side_text:
        legend_h = map_h * 0.34
        side = (px, top + legend_h + 3 * s, panel_w, map_h - legend_h - 3 * s)
        return Layout(mapbox, (px, top, panel_w, legend_h), None, notes, side=side)
    inset_h = panel_w * 0.8 if inset else 0.0
    legend_h = map_h - (inset_h + 6 * s if inset else 0)
    inset_box = (px, top + map_h - inset_h, panel_w, inset_h) if inset else None
    return Layout(mapbox, (px, top, panel_w, legend_h), inset_box, notes)


def page_layout(spec: PageSpec, *, side_text: bool = False, inset: bool = True) -> Layout:
    """Page boxes for the map, legend, inset, notes and (series pages) the guidance text.

    Portrait pages put the legend, inset or text in a band under the map; landscape pages in a
    panel beside it. The title takes the top 22 mm and the notes the bottom 17 mm (A4; scaled).
    """
    if spec.orientation == "landscape":
        return _landscape_layout(spec, side_text=side_text, inset=inset)
    w, h, s, m, top, notes_h = _grid(spec)
    band_h = (95.0 if side_text else 48.0) * s
    map_h = h - top - m - notes_h - band_h - 4 * s
    band_y = top + map_h + 4 * s
    mapbox = (m, top, w - 2 * m, map_h)
    notes = (m, band_y + band_h + 3 * s, w - 2 * m, notes_h - 3 * s)
    if side_text:
        legend_w = (w - 2 * m) * 0.3
        side = (m + legend_w + 5 * s, band_y, w - 2 * m - legend_w - 5 * s, band_h)
        return Layout(mapbox, (m, band_y, legend_w, band_h), None, notes, side=side)
    inset_w = band_h * 1.15 if inset else 0.0
    legend_w = w - 2 * m - (inset_w + 5 * s if inset else 0)
    inset_box = (m + legend_w + 5 * s, band_y, inset_w, band_h) if inset else None
    return Layout(mapbox, (m, band_y, legend_w, band_h), inset_box, notes)
