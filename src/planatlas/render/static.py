"""Static map pages: a map preset and its layers -> a print-ready matplotlib Figure (pure).

Everything is drawn in the metric CRS (EPSG:4548, CGCS2000 3-degree Gauss-Krüger CM 117°E), so the
scale bar is true and the page can be measured. Geometries go straight from shapely coordinate
arrays into matplotlib collections (``PathCollection`` / ``LineCollection`` / ``scatter``), which
is several times faster than ``GeoDataFrame.plot`` (see PERF_NOTES). Colours, classes and legend
entries come from the map presets of :mod:`planatlas.maps` (the one style source shared with the
interactive map) through :func:`resolve_layers`; the page furniture (title, legend, scale bar,
north arrow, inset, sources and precision note, labels) is drawn here.

Functions here return :class:`~matplotlib.figure.Figure` objects and write nothing; files are
written by :mod:`planatlas.render.export`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from planatlas.catalog import LANGS, PROVENANCE_FIELDS
from planatlas.crs import METRIC_CRS, to_metric
from planatlas.errors import MissingFontError, PresetDataError
from planatlas.i18n import t, texts

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

Lang = Literal["zh", "en"]
GeomKind = Literal["polygon", "line", "point"]

#: Paper sizes in millimetres, portrait (width, height).
PAPERS_MM: dict[str, tuple[float, float]] = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
ORIENTATIONS = ("portrait", "landscape")

#: CJK font families tried in order. TrueType-outline fonts come first: matplotlib embeds fonts in
#: PDF as TrueType (Type 42) subsets, and a CFF-outline font such as Noto Sans CJK ends up in a
#: TrueType slot (FontFile2), which poppler flags and strict viewers may reject (matplotlib issue
#: #20870). Noto Sans CJK is still used, with ``CJKFont.outlines == "cff"``, when nothing else is
#: installed.
CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Noto Sans SC",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
)
#: Where common packages install those fonts (registered with matplotlib if its cache predates them).
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)
FONT_INSTALL_HINT = (
    "install a CJK font, e.g. on Debian/Ubuntu `sudo apt-get install fonts-wqy-microhei` "
    "(TrueType outlines, embedded cleanly in PDF; `fonts-noto-cjk` also works), see the README, "
    "or pass font_path= a .ttf/.ttc file with Chinese glyphs"
)
_CHECK_GLYPHS = "西湖区街道规划"


# --------------------------------------------------------------------------------------------
# Page specification
# --------------------------------------------------------------------------------------------


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
        Draw the small locator map of the district in Nanchang (needs a ``districts`` frame).
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
        w, h = PAPERS_MM[self.paper]
        return (h, w) if self.orientation == "landscape" else (w, h)

    @property
    def pixel_size(self) -> tuple[int, int]:
        """Raster size in pixels: the paper size at ``dpi``, rounded."""
        w, h = self.size_mm
        return round(w / 25.4 * self.dpi), round(h / 25.4 * self.dpi)

    @property
    def size_inches(self) -> tuple[float, float]:
        # Exactly pixel_size / dpi, so a PNG has the paper's pixel size to the pixel.
        w, h = self.pixel_size
        return w / self.dpi, h / self.dpi

    @property
    def font_scale(self) -> float:
        """Text scale relative to A4 (A3 text is larger so the page reads at the same distance)."""
        w, h = self.size_mm
        return math.sqrt((w * h) / (210.0 * 297.0))

    @property
    def today(self) -> _dt.date:
        return self.date or _dt.date.today()


# --------------------------------------------------------------------------------------------
# Fonts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CJKFont:
    """The font every text on a page is set in.

    ``outlines`` is ``"truetype"`` or ``"cff"``; ``bold`` says whether the family has a bold face
    (titles are emboldened with a thin outline stroke when it has not).
    """

    family: str
    path: str
    outlines: str = "truetype"
    bold: bool = False


_FONT_CACHE: dict[str | None, CJKFont] = {}


def _has_glyphs(path: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(path)
    except (OSError, RuntimeError, ValueError):
        return False
    charmap = font.get_charmap()
    return all(ord(ch) in charmap for ch in _CHECK_GLYPHS)


def font_outlines(path: str) -> str:
    """``"cff"`` for PostScript-outline (CFF/CFF2) OpenType fonts, else ``"truetype"``."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    with TTFont(path, fontNumber=0, lazy=True) as font:  # fontTools ships no type hints
        return "cff" if ("CFF " in font or "CFF2" in font) else "truetype"


def _has_bold(family: str) -> bool:
    from matplotlib import font_manager as fm

    return any(
        f.name == family and (f.weight in ("bold", "heavy", "black") or (isinstance(f.weight, int) and f.weight >= 600))
        for f in fm.fontManager.ttflist
    )


def _make_font(family: str, path: str) -> CJKFont:
    return CJKFont(family=family, path=path, outlines=font_outlines(path), bold=_has_bold(family))


def find_cjk_font(font_path: str | Path | None = None) -> CJKFont:
    """Find (and register with matplotlib) a font that has Chinese glyphs.

    TrueType-outline families are preferred (see :data:`CJK_FAMILIES`).

    Parameters
    ----------
    font_path
        A font file to use instead of searching the system (.ttf, .otf or .ttc).

    Raises
    ------
    MissingFontError
        When no such font is installed, with the command that installs one.
    """
    key = str(font_path) if font_path else None
    if key in _FONT_CACHE:
        return _FONT_CACHE[key]
    from matplotlib import font_manager as fm

    if font_path is not None:
        path = Path(font_path)
        if not path.is_file():
            msg = f"font_path should be an existing font file, got {str(path)!r}"
            raise MissingFontError(msg)
        if not _has_glyphs(str(path)):
            msg = f"font {str(path)!r} has no Chinese glyphs; {FONT_INSTALL_HINT}"
            raise MissingFontError(msg)
        fm.fontManager.addfont(str(path))
        given = _make_font(fm.FontProperties(fname=str(path)).get_name(), str(path))
        _FONT_CACHE[key] = given
        return given

    def lookup() -> CJKFont | None:
        fallback = None
        for family in CJK_FAMILIES:
            try:
                path = fm.findfont(fm.FontProperties(family=family), fallback_to_default=False)
            except ValueError:
                continue
            if not _has_glyphs(path):
                continue
            font = _make_font(family, path)
            if font.outlines == "truetype":
                return font
            fallback = fallback or font
        return fallback

    found: CJKFont | None = lookup()
    if found is None or found.outlines != "truetype":
        # matplotlib's font cache may predate the font package: register known files and retry.
        for candidate in CJK_FONT_FILES:
            if Path(candidate).is_file():
                fm.fontManager.addfont(candidate)
        found = lookup()
    if found is None:
        msg = f"no font with Chinese glyphs found (tried {', '.join(CJK_FAMILIES)}); {FONT_INSTALL_HINT}"
        raise MissingFontError(msg)
    _FONT_CACHE[key] = found
    return found


def underlay(text: Any, *, linewidth: float, color: str) -> Any:
    """Draw a stroked copy of ``text`` just beneath it (a halo or a faux-bold outline).

    Matplotlib turns text with path effects into outlines in PDF and SVG, which would drop it
    from the PDF's text layer; the copy carries the effect, the original stays real text.
    """
    import matplotlib.patheffects as pe
    from matplotlib.text import Text

    copy = Text()
    copy.update_from(text)
    copy.set_text(text.get_text())
    copy.set_position(text.get_position())
    copy.set_transform(text.get_transform())
    copy.set_zorder(text.get_zorder() - 0.001)
    copy.set_gid("underlay")
    copy.set_path_effects([pe.Stroke(linewidth=linewidth, foreground=color)])
    container = text.axes if text.axes is not None else text.figure
    container.add_artist(copy)
    text.planatlas_underlay = copy
    return copy


def embolden(text: Any, font: CJKFont, *, size: float) -> Any:
    """Bold ``text`` of ``size`` pt: the bold face if the family has one, else a thin outline."""
    if font.bold:
        text.set_fontweight("bold")
    else:
        underlay(text, linewidth=max(0.15, size * 0.03), color=text.get_color())
    return text


#: rcParams a page must be drawn and saved with: embedded TrueType (Type 42) subsets in PDF/PS,
#: so the text layer stays searchable, and text as paths in SVG so it needs no installed font.
#: matplotlib's rcParams are process-global: pages drawn or saved at the same time (two app
#: sessions) would reset each other's font embedding, so drawing and saving take turns.
_RC_LOCK = threading.RLock()


@contextlib.contextmanager
def rc_context(rc: Mapping[str, Any]) -> Iterator[None]:
    """``matplotlib.rc_context`` for a page's rcParams, one page at a time."""
    import matplotlib

    with _RC_LOCK, matplotlib.rc_context(dict(rc)):  # type: ignore[arg-type]  # keys checked at run time
        yield


def _figure(ax: Axes) -> Figure:
    fig = ax.get_figure(root=True)
    assert fig is not None
    return fig  # type: ignore[return-value]


def _renderer(ax: Axes) -> Any:
    # Pages are drawn on an Agg canvas (see _new_figure), which has a renderer to measure text.
    return _figure(ax).canvas.get_renderer()  # type: ignore[attr-defined]


def page_rc(font: CJKFont) -> dict[str, Any]:
    return {
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "path",
        "font.family": [font.family],
        "axes.unicode_minus": False,
        # Unhinted glyph advances, so raster text lines up with its halo/outline underlay (drawn
        # as a path) and with the PDF/SVG text.
        "text.hinting": "no_hinting",
        "path.simplify": True,
    }


# --------------------------------------------------------------------------------------------
# Resolved layers: the neutral drawing form the preset adapter produces
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LegendEntry:
    """One legend row: a swatch drawn like the features and its label."""

    label: str
    kind: GeomKind
    facecolor: Any = None
    edgecolor: Any = None
    linewidth: float = 0.8
    linestyle: Any = "-"
    marker: str = "o"


@dataclass
class MapLayer:
    """A layer ready to draw: its frame in the metric CRS and per-feature colours.

    ``facecolors`` / ``edgecolors`` are RGBA arrays with one row per feature (or ``None`` for no
    fill / no outline); ``label_column`` names the column labels are taken from.
    """

    name: str
    title: str
    frame: gpd.GeoDataFrame
    kind: GeomKind
    facecolors: np.ndarray | None
    edgecolors: np.ndarray | None
    linewidth: float = 0.8
    linewidths: np.ndarray | None = None
    linestyle: Any = "-"
    marker: str = "o"
    marker_size: float = 18.0
    legend: list[LegendEntry] = field(default_factory=list)
    label_column: str | None = None
    label_priority: int = 0
    rasterized: bool = False
    zorder: float = 1.0
    #: Legend heading; the title marked "(schematic)" where any drawn feature is.
    legend_title: str = ""


def rgba_array(colors: Sequence[Any] | str | None, n: int, *, alpha: float = 1.0) -> np.ndarray | None:
    """One RGBA row per feature from a colour or a sequence of colours (``None`` stays ``None``)."""
    from matplotlib.colors import to_rgba, to_rgba_array

    if colors is None:
        return None
    if isinstance(colors, str):
        rgba = np.tile(np.array(to_rgba(colors), dtype=float), (n, 1))
    else:
        rgba = to_rgba_array(list(colors)) if len(colors) else np.zeros((0, 4))
        if len(rgba) != n:
            msg = f"expected {n} colours, one per feature, got {len(rgba)}"
            raise ValueError(msg)
    rgba = rgba.astype(float, copy=True)
    rgba[:, 3] *= alpha
    return rgba


# --------------------------------------------------------------------------------------------
# Geometry -> matplotlib collections
# --------------------------------------------------------------------------------------------


def polygon_paths(geoms: Any) -> list[Any]:
    """One compound :class:`~matplotlib.path.Path` per (multi)polygon, holes included (vectorised)."""
    import shapely
    from matplotlib.path import Path as MplPath

    # Matplotlib fills with the non-zero winding rule: holes must wind against their shell.
    geoms = shapely.orient_polygons(np.asarray(geoms, dtype=object))
    n = len(geoms)
    parts, part_feature = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    if len(coords) == 0:
        return [MplPath(np.empty((0, 2))) for _ in range(n)]
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    starts = np.r_[0, np.flatnonzero(np.diff(coord_ring)) + 1]
    ends = np.r_[starts[1:] - 1, len(coords) - 1]
    codes[starts] = MplPath.MOVETO
    codes[ends] = MplPath.CLOSEPOLY
    coord_feature = part_feature[ring_part[coord_ring]]
    counts = np.bincount(coord_feature, minlength=n)
    bounds = np.cumsum(counts)[:-1]
    return [MplPath(c, k) for c, k in zip(np.split(coords, bounds), np.split(codes, bounds), strict=True)]


def line_segments(geoms: Any) -> tuple[list[np.ndarray], np.ndarray]:
    """Coordinate arrays of every line part and the feature index each part belongs to."""
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    parts, part_feature = shapely.get_parts(geoms, return_index=True)
    coords, coord_part = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        return [], np.empty(0, dtype=int)
    counts = np.bincount(coord_part, minlength=len(parts))
    return np.split(coords, np.cumsum(counts)[:-1]), part_feature


def point_coords(geoms: Any) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of every point (multipoints exploded) and the feature index of each."""
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    parts, part_feature = shapely.get_parts(geoms, return_index=True)
    keep = ~shapely.is_empty(parts)
    coords = shapely.get_coordinates(parts[keep])
    return coords, part_feature[keep]


def draw_layer(ax: Axes, layer: MapLayer) -> None:
    """Draw a resolved layer on ``ax`` with one collection (fast path, no GeoDataFrame.plot)."""
    from matplotlib.collections import LineCollection, PathCollection

    frame = layer.frame
    if len(frame) == 0:
        return
    geoms = frame.geometry.values
    if layer.kind == "polygon":
        paths = polygon_paths(geoms)
        coll = PathCollection(
            paths,
            facecolors=layer.facecolors if layer.facecolors is not None else "none",
            edgecolors=layer.edgecolors if layer.edgecolors is not None else "none",
            linewidths=layer.linewidths if layer.linewidths is not None else layer.linewidth,
            linestyles=layer.linestyle,
            zorder=layer.zorder,
        )
        # Paths are in data coordinates; the default identity offset leaves them in place.
        coll.set_transform(ax.transData)
        coll.set_rasterized(layer.rasterized)
        ax.add_collection(coll, autolim=False)
    elif layer.kind == "line":
        segments, owner = line_segments(geoms)
        colors = layer.edgecolors if layer.edgecolors is not None else layer.facecolors
        lines = LineCollection(
            segments,
            colors=colors[owner] if colors is not None else "black",
            linewidths=layer.linewidths[owner] if layer.linewidths is not None else layer.linewidth,
            linestyles=layer.linestyle,
            capstyle="round",
            joinstyle="round",
            zorder=layer.zorder,
        )
        lines.set_rasterized(layer.rasterized)
        ax.add_collection(lines, autolim=False)
    else:
        coords, owner = point_coords(geoms)
        if len(coords) == 0:
            return
        ax.scatter(
            coords[:, 0],
            coords[:, 1],
            s=layer.marker_size,
            marker=layer.marker,
            facecolors=layer.facecolors[owner] if layer.facecolors is not None else "none",
            edgecolors=layer.edgecolors[owner] if layer.edgecolors is not None else "none",
            linewidths=max(layer.linewidth * 0.8, 0.3),
            zorder=layer.zorder,
            rasterized=layer.rasterized,
        )


# --------------------------------------------------------------------------------------------
# Preset adapter: planatlas.maps (the one style source) -> MapLayer
# --------------------------------------------------------------------------------------------

#: Leaflet sizes are screen pixels; on paper a pixel is drawn as this many points.
PX_TO_PT = 0.6


def _dash(dash: str | None, width_px: float) -> Any:
    """Leaflet ``dashArray`` ("8 4", px) -> matplotlib dash tuple (scaled by the line width)."""
    if not dash:
        return "-"
    try:
        values = [float(v) for v in re.split(r"[ ,]+", dash.strip()) if v]
    except ValueError:
        return "--"
    if not values:
        return "-"
    scale = max(width_px, 0.1)
    return (0, tuple(v / scale for v in values))


def _mpl_kind(symbol: str) -> GeomKind:
    return {"fill": "polygon", "line": "line", "point": "point"}.get(symbol, "polygon")  # type: ignore[return-value]


def map_layer(prepared: Any, lang: str, *, label_priority: int = 0, label: bool = True) -> MapLayer:
    """One :class:`planatlas.maps.PreparedLayer` as a drawable :class:`MapLayer`.

    Colours, widths, opacity, dashes and legend rows all come from the prepared layer's
    ``ResolvedStyle``; only the pixel-to-point conversion for paper happens here.
    """
    pl = prepared.layer
    rs = prepared.resolved
    st = rs.style
    frame = to_metric(prepared.frame, name=pl.layer)
    n = len(frame)
    kind = _mpl_kind(rs.symbol)
    colors = rs.feature_colors(frame) if n else []
    widths_px = np.asarray(rs.feature_widths(frame) if n else [], dtype=float)
    face = edge = None
    if kind == "line":
        edge = rgba_array(colors, n, alpha=st.opacity)
    else:
        if st.fill:
            face = rgba_array(colors, n, alpha=st.fill_opacity)
        if st.stroke:
            edge = (
                rgba_array(st.stroke_color, n, alpha=st.opacity)
                if st.stroke_color
                else rgba_array(colors, n, alpha=st.opacity)
            )
    legend: list[LegendEntry] = []
    if pl.legend:
        for e in rs.legend(lang, title=pl.title):
            ekind = _mpl_kind(e.symbol)
            legend.append(
                LegendEntry(
                    label=e.label_in(lang),
                    kind=ekind,
                    facecolor=(_with_alpha(e.color, e.fill_opacity) if e.fill_opacity > 0 else None)
                    if ekind != "line"
                    else None,
                    edgecolor=(e.stroke_color or e.color) if st.stroke or ekind == "line" else None,
                    linewidth=max(e.weight * PX_TO_PT, 0.3),
                    linestyle=_dash(e.dash, e.weight),
                )
            )
    label_column = prepared.label_column(lang) if label else None
    title = pl.title_in(lang)
    # Same marking as the interactive layer control (planatlas.render.interactive.layer_title).
    legend_title = title + (("（示意）" if lang == "zh" else " (schematic)") if prepared.schematic else "")
    width_px = float(np.median(widths_px)) if n else st.weight
    return MapLayer(
        name=pl.id,
        title=title,
        legend_title=legend_title,
        frame=frame,
        kind=kind,
        facecolors=face,
        edgecolors=edge,
        linewidth=max(width_px * PX_TO_PT, 0.2),
        linewidths=widths_px * PX_TO_PT if n and np.ptp(widths_px) > 0 else None,
        linestyle=_dash(st.dash, width_px),
        marker_size=(2 * st.radius * PX_TO_PT) ** 2,
        legend=legend,
        label_column=label_column,
        label_priority=label_priority,
        rasterized=n > 20000,
    )


def _with_alpha(color: str, alpha: float) -> tuple[float, float, float, float]:
    from matplotlib.colors import to_rgba

    r, g, b, _ = to_rgba(color)
    return (r, g, b, alpha)


def resolve_layers(prepared: Sequence[Any], lang: str) -> list[MapLayer]:
    """Drawable layers of a prepared preset, bottom to top, hidden-by-default layers left out.

    Labels: layers the preset labels on the map first, then point layers (placed only where
    there is room); polygons and lines without ``labels_on_map`` are explained by the legend.
    """
    out = []
    for z, p in enumerate(prepared):
        pl = p.layer
        if not pl.show:
            continue
        is_point = _mpl_kind(p.resolved.symbol) == "point"
        label = pl.interactive and (pl.labels_on_map or (is_point and len(p.frame) <= 80))
        priority = 2 if pl.labels_on_map else 1
        layer = map_layer(p, lang, label_priority=priority, label=label)
        layer.zorder = 1 + z
        out.append(layer)
    return out


def prepare(preset: Any, frames: Mapping[str, Any], *, params: Mapping[str, Any] | None = None) -> list[Any]:
    """Prepare a preset's catalogue frames with :func:`planatlas.maps.prepare_preset`."""
    from planatlas.maps import prepare_preset

    try:
        return prepare_preset(preset, frames, params=params)
    except (KeyError, TypeError) as exc:
        reason = exc.args[0] if exc.args else exc
        msg = f"preset {preset.name!r} does not match the atlas data: {reason}"
        raise PresetDataError(msg) from exc


def preset_extent(preset: Any, prepared: Sequence[Any]) -> np.ndarray | None:
    """Metric bounds of the layers that frame the preset (``preset.extent``), or None."""
    from planatlas.maps import prepared_bounds

    bounds = prepared_bounds(list(prepared), tuple(getattr(preset, "extent", ()) or ()))
    if bounds is None:
        return None
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4490", METRIC_CRS, always_xy=True)
    xs, ys = tr.transform([bounds[0], bounds[2], bounds[0], bounds[2]], [bounds[1], bounds[1], bounds[3], bounds[3]])
    return np.array([min(xs), min(ys), max(xs), max(ys)])


# --------------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------------


def _char_em(ch: str) -> float:
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1.0
    if ch.isspace():
        return 0.28
    if ch.isupper() or ch in "mwMW@%":
        return 0.68
    return 0.55


def text_width_pt(text: str, fontsize: float) -> float:
    """Approximate advance width of a one-line text in points (Noto Sans CJK metrics)."""
    return sum(_char_em(c) for c in text) * fontsize


_NO_LINE_START = set("，。、；：？！）》」』】,.;:?!)%·")
_TOKEN = re.compile(r"[A-Za-z0-9_\-./:%()（）·'’]+|\s+|.", re.S)


def wrap_text(text: str, width_pt: float, fontsize: float) -> list[str]:
    """Break text into lines no wider than ``width_pt``; CJK breaks anywhere, Latin at spaces."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        width = 0.0
        for token in _TOKEN.findall(paragraph):
            w = text_width_pt(token, fontsize)
            if line and width + w > width_pt and token[0] not in _NO_LINE_START:
                lines.append(line.rstrip())
                line, width = ("", 0.0) if token.isspace() else (token, w)
                continue
            line += token
            width += w
        lines.append(line.rstrip())
    return lines


def fit_text(
    text: str, *, width_pt: float, height_pt: float, fontsize: float, min_fontsize: float = 5.5
) -> tuple[list[str], float, bool]:
    """Wrap text to a box, shrinking the font until it fits; returns (lines, size, truncated)."""
    size = fontsize
    while True:
        lines = wrap_text(text, width_pt, size)
        if len(lines) * size * 1.45 <= height_pt:
            return lines, size, False
        if size <= min_fontsize:
            break
        size = max(min_fontsize, size * 0.92)
    keep = max(1, int(height_pt / (size * 1.45)))
    lines = lines[:keep]
    lines[-1] = lines[-1][: max(0, len(lines[-1]) - 1)] + "…"
    return lines, size, True


def merge_line_ranges(values: Iterable[Any], *, limit: int = 6) -> str:
    """``'266', '268-270;294'`` -> ``'266, 268–270, 294'`` (first ``limit`` ranges, then '…')."""
    numbers: set[int] = set()
    for value in values:
        for piece in re.split(r"[;,\s]+", str(value or "")):
            m = re.fullmatch(r"(\d+)(?:\s*[-–]\s*(\d+))?", piece.strip())
            if m:
                a = int(m.group(1))
                b = int(m.group(2) or a)
                numbers.update(range(min(a, b), max(a, b) + 1))
    if not numbers:
        return ""
    ordered = sorted(numbers)
    ranges: list[tuple[int, int]] = []
    start = prev = ordered[0]
    for n in ordered[1:]:
        if n != prev + 1:
            ranges.append((start, prev))
            start = n
        prev = n
    ranges.append((start, prev))
    text = ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in ranges[:limit])
    return text + (", …" if len(ranges) > limit else "")


# --------------------------------------------------------------------------------------------
# Provenance notes
# --------------------------------------------------------------------------------------------


def precision_counts(layers: Sequence[MapLayer]) -> dict[str, dict[str, int]]:
    """``{precision class: {layer title: feature count}}`` over the drawn features."""
    out: dict[str, dict[str, int]] = {}
    for layer in layers:
        if "precision" not in layer.frame.columns:
            continue
        for cls, n in layer.frame["precision"].value_counts().items():
            out.setdefault(str(cls), {})[layer.title] = int(n)
    return out


def precision_notes(layers: Sequence[MapLayer], lang: str) -> list[str]:
    """Sentences naming the layers at each precision class below 'surveyed' (schematic first)."""
    words = texts("print_", lang)
    counts = precision_counts(layers)
    sep = "、" if lang == "zh" else ", "
    notes = []
    for cls in ("schematic", "street", "approximate"):
        if cls in counts:
            titles = sep.join(counts[cls])
            if cls == "schematic":
                from planatlas.maps import schematic_note

                note = schematic_note(lang).rstrip("。.")
                notes.append(f"{note}（{titles}）" if lang == "zh" else f"{note} ({titles})")
            else:
                notes.append(words[cls].format(layers=titles))
    return notes


def source_note(layers: Sequence[MapLayer], lang: str, *, limit: int = 4) -> str:
    """'seed file (lines …)' for every source file the drawn features cite."""
    words = texts("print_", lang)
    lines_by_file: dict[str, list[Any]] = {}
    for layer in layers:
        frame = layer.frame
        if "source_file" not in frame.columns:
            continue
        cited = frame["source_lines"] if "source_lines" in frame.columns else [""] * len(frame)
        for file, lines in zip(frame["source_file"], cited, strict=True):
            if file is None or (isinstance(file, float) and math.isnan(file)):
                continue
            lines_by_file.setdefault(str(file), []).append(lines)
    parts = []
    for file, cited in sorted(lines_by_file.items()):
        merged = merge_line_ranges(cited, limit=limit)
        parts.append(f"{file} ({words['lines'].format(lines=merged)})" if merged else file)
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------
# Map furniture
# --------------------------------------------------------------------------------------------


def nice_scale_length(map_width_m: float, *, fraction: float = 0.25) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^n m) close to ``fraction`` of the map width."""
    if map_width_m <= 0:
        msg = f"map width should be positive metres, got {map_width_m!r}"
        raise ValueError(msg)
    target = map_width_m * fraction
    exp = math.floor(math.log10(target))
    best = 10.0**exp
    for mult in (1, 2, 5, 10):
        cand = mult * 10.0**exp
        if cand <= target:
            best = cand
    return best


def format_distance(metres: float) -> str:
    if metres >= 1000:
        km = metres / 1000
        return f"{km:g} km"
    return f"{metres:g} m"


def meridian_convergence(x: float, y: float) -> float:
    """Angle in degrees from grid north to true north at a point of EPSG:4548 (positive = east)."""
    from pyproj import CRS, Proj, Transformer

    lon, lat = Transformer.from_crs(METRIC_CRS, "EPSG:4490", always_xy=True).transform(x, y)
    proj = Proj(CRS.from_user_input(METRIC_CRS))
    return float(proj.get_factors(lon, lat).meridian_convergence)


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


class _Page:
    """Millimetre layout helper: boxes measured from the page's top-left corner."""

    def __init__(self, fig: Figure, spec: PageSpec, font: CJKFont):
        self.fig = fig
        self.spec = spec
        self.font = font
        self.w_mm, self.h_mm = spec.size_mm
        self.s = spec.font_scale

    def rect(self, x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
        """Figure-fraction rectangle of a box given in mm from the top-left."""
        return (x / self.w_mm, 1 - (y + h) / self.h_mm, w / self.w_mm, h / self.h_mm)

    def axes(self, x: float, y: float, w: float, h: float, **kw: Any) -> Axes:
        return self.fig.add_axes(self.rect(x, y, w, h), **kw)

    def text(self, x: float, y: float, s: str, *, size: float, **kw: Any) -> Any:
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
        self, x: float, y: float, lines: Sequence[str], *, size: float, leading: float = 1.45, **kw: Any
    ) -> float:
        """Draw lines of text top-down from (x, y) mm; return the y (mm) below the last line."""
        step = size * self.s * leading * 25.4 / 72
        if lines:
            self.text(x, y, "\n".join(lines), size=size, linespacing=leading, **kw)
        return y + step * len(lines)


def draw_scale_bar(ax: Axes, font: CJKFont, *, fontsize: float) -> Bbox:
    """Alternating black/white scale bar in the lower left of a metric map; returns its bbox."""
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width, height = x1 - x0, y1 - y0
    length = nice_scale_length(width)
    n = 4 if str(length)[0] in "12" else 5
    seg = length / n
    bx = x0 + width * 0.04
    by = y0 + height * 0.035
    bh = height * 0.008
    bg = Rectangle(
        (bx - width * 0.012, by - height * 0.012),
        length + width * 0.05,
        bh + height * 0.045,
        facecolor="white",
        edgecolor="none",
        alpha=0.8,
        zorder=20,
    )
    ax.add_patch(bg)
    for i in range(n):
        ax.add_patch(
            Rectangle(
                (bx + i * seg, by),
                seg,
                bh,
                facecolor="black" if i % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.5,
                zorder=21,
            )
        )
    for value in (0.0, length / 2, length):
        label = format_distance(value) if value == length else f"{value / (1000 if length >= 1000 else 1):g}"
        ax.text(
            bx + value,
            by + bh + height * 0.006,
            label,
            ha="center",
            va="bottom",
            fontsize=fontsize,
            fontfamily=font.family,
            zorder=22,
        )
    return bg.get_window_extent()


def draw_north_arrow(ax: Axes, font: CJKFont, *, lang: str, fontsize: float, points: np.ndarray | None = None) -> Bbox:
    """North arrow turned by the meridian convergence to point at true north.

    It goes in the upper right, or the upper left when fewer of ``points`` (metric point
    features) lie there.
    """
    from matplotlib.patches import Polygon as MplPolygon
    from matplotlib.transforms import Affine2D

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    gamma = meridian_convergence((x0 + x1) / 2, (y0 + y1) / 2)
    # Arrow in axes-fraction units, corrected for the axes' aspect so it is not squashed.
    bbox = ax.get_position()
    fig_w, fig_h = _figure(ax).get_size_inches()
    aspect = (bbox.width * fig_w) / (bbox.height * fig_h)
    size = 0.045
    cx, cy = 1 - size * 1.4 / aspect, 1 - size * 2.2
    if points is not None and len(points):
        frac = (points - [x0, y0]) / [x1 - x0, y1 - y0]
        top = frac[:, 1] > 1 - size * 3.4
        right = (top & (frac[:, 0] > 1 - size * 2.8 / aspect)).sum()
        left = (top & (frac[:, 0] < size * 2.8 / aspect)).sum()
        if left < right:
            cx = size * 1.4 / aspect
    pts = np.array([[0, 1], [0.42, -0.6], [0, -0.25], [-0.42, -0.6]]) * size
    rot = Affine2D().rotate_deg(-gamma)
    pts = rot.transform(pts)
    pts[:, 0] /= aspect
    left = np.array([pts[0], pts[2], pts[3]]) + np.array([cx, cy])
    right = np.array([pts[0], pts[1], pts[2]]) + np.array([cx, cy])
    ax.add_patch(
        MplPolygon(
            left, closed=True, transform=ax.transAxes, facecolor="black", edgecolor="black", linewidth=0.6, zorder=22
        )
    )
    ax.add_patch(
        MplPolygon(
            right, closed=True, transform=ax.transAxes, facecolor="white", edgecolor="black", linewidth=0.6, zorder=22
        )
    )
    label = ax.text(
        cx,
        cy + size * 1.15,
        t("print_north", lang),
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=fontsize,
        fontfamily=font.family,
        zorder=22,
    )
    embolden(label, font, size=fontsize)
    from matplotlib.patches import FancyBboxPatch
    from matplotlib.transforms import Bbox as _Bbox

    corners = ax.transAxes.transform(np.vstack([left, right]))
    lb = label.get_window_extent(_renderer(ax))
    extent = _Bbox.union([_Bbox.from_extents(*corners.min(0), *corners.max(0)), lb]).expanded(1.5, 1.15)
    # A light backing so the arrow reads over busy map content.
    (bx0, by0), (bx1, by1) = ax.transAxes.inverted().transform(extent.get_points())
    ax.add_patch(
        FancyBboxPatch(
            (bx0, by0),
            bx1 - bx0,
            by1 - by0,
            boxstyle="round,pad=0,rounding_size=0.01",
            transform=ax.transAxes,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=21,
        )
    )
    return extent


def label_anchors(layer: MapLayer) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Anchor points (metric), label texts and feature areas/lengths for a layer's labels."""
    import shapely

    frame = layer.frame
    col = layer.label_column
    if not col or col not in frame.columns or len(frame) == 0:
        return np.empty((0, 2)), [], np.empty(0)
    geoms = frame.geometry.values
    texts = frame[col].astype("string").fillna("").tolist()
    if layer.kind == "polygon":
        pts = shapely.point_on_surface(geoms)
        weight = shapely.area(geoms)
    elif layer.kind == "line":
        merged = shapely.line_merge(geoms)
        pts = shapely.line_interpolate_point(merged, 0.5, normalized=True)
        weight = shapely.length(geoms)
    else:
        pts = shapely.centroid(geoms)
        weight = np.ones(len(frame))
    coords = shapely.get_coordinates(pts)
    ok = ~shapely.is_empty(pts)
    if len(coords) != len(frame):
        coords_full = np.full((len(frame), 2), np.nan)
        coords_full[ok] = coords
        coords = coords_full
    return coords, texts, np.asarray(weight, dtype=float)


def place_labels(
    ax: Axes,
    layers: Sequence[MapLayer],
    font: CJKFont,
    *,
    fontsize: float,
    obstacles: Sequence[Bbox] = (),
    max_labels: int = 400,
) -> list[Any]:
    """Greedy label placement: highest priority first, each at the first candidate spot whose
    box overlaps no placed label, no obstacle (scale bar, north arrow) and stays in the map."""
    renderer = _renderer(ax)
    frame_box = ax.get_window_extent(renderer)
    px_per_pt = ax.figure.dpi / 72.0
    # Boxes (x0, y0, x1, y1) in display units that labels must not cover: the furniture, every
    # point marker (up to a few thousand) and, as they are placed, the labels themselves.
    blocked = [np.array([[b.x0, b.y0, b.x1, b.y1] for b in obstacles]).reshape(-1, 4)]
    marker_r: dict[str, float] = {}
    for layer in layers:
        if layer.kind != "point" or not len(layer.frame):
            continue
        r = math.sqrt(layer.marker_size) / 2 * px_per_pt
        marker_r[layer.name] = r
        if len(layer.frame) <= 5000:
            pts = ax.transData.transform(point_coords(layer.frame.geometry.values)[0])
            blocked.append(np.column_stack([pts - r, pts + r]))
    boxes = np.vstack(blocked)
    texts: list[Any] = []

    candidates: list[tuple[int, float, MapLayer, np.ndarray, str]] = []
    for layer in layers:
        coords, labels, weight = label_anchors(layer)
        for xy, text, wgt in zip(coords, labels, weight, strict=True):
            if not text or not np.all(np.isfinite(xy)):
                continue
            candidates.append((layer.label_priority, float(wgt), layer, xy, text))
    # Higher priority first, then bigger features first.
    candidates.sort(key=lambda c: (-c[0], -c[1]))
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for _prio, _w, layer, xy, text in candidates[: max_labels * 3]:
        if not (x0 <= xy[0] <= x1 and y0 <= xy[1] <= y1):
            continue
        size = fontsize * (1.1 if layer.kind == "polygon" else 0.9)
        gap = marker_r.get(layer.name, 0.0) + 1.5 * px_per_pt
        if layer.kind == "point":
            offsets: list[tuple[float, float, Any, Any]] = [
                (gap, 0, "left", "center"),
                (-gap, 0, "right", "center"),
                (0, gap, "center", "bottom"),
                (0, -gap, "center", "top"),
                (gap, gap, "left", "bottom"),
                (-gap, gap, "right", "bottom"),
                (gap, -gap, "left", "top"),
                (-gap, -gap, "right", "top"),
            ]
        else:
            step = size * 1.6 * px_per_pt
            offsets = [
                (0, 0, "center", "center"),
                (0, step, "center", "center"),
                (0, -step, "center", "center"),
                (step * 2, 0, "center", "center"),
                (-step * 2, 0, "center", "center"),
            ]
        anchor = ax.transData.transform(xy)
        artist = ax.text(
            xy[0],
            xy[1],
            text,
            fontsize=size,
            fontfamily=font.family,
            color="#222222",
            zorder=30 + layer.label_priority,
        )
        for dx, dy, ha, va in offsets:
            artist.set_position(tuple(ax.transData.inverted().transform(anchor + np.array([dx, dy]))))
            artist.set_horizontalalignment(ha)
            artist.set_verticalalignment(va)
            box = artist.get_window_extent(renderer)
            if not frame_box.contains(box.x0, box.y0) or not frame_box.contains(box.x1, box.y1):
                continue
            hit = (boxes[:, 0] < box.x1) & (boxes[:, 2] > box.x0) & (boxes[:, 1] < box.y1) & (boxes[:, 3] > box.y0)
            if hit.any():
                continue
            grown = box.expanded(1.05, 1.15)
            boxes = np.vstack([boxes, [grown.x0, grown.y0, grown.x1, grown.y1]])
            texts.append(artist)
            underlay(artist, linewidth=2.2, color="white")
            break
        else:
            artist.remove()
        if len(texts) >= max_labels:
            break
    return texts


def _pack_legend(groups: Sequence[Sequence[Any]], per_col: int) -> list[tuple[int, int]]:
    """(column, row) of every legend row; a layer's rows start a new column rather than split,
    unless the layer alone is longer than a column."""
    placement: list[tuple[int, int]] = []
    col, row = 0, 0
    for group in groups:
        if row and row + len(group) > per_col:
            col, row = col + 1, 0
        for _ in group:
            if row >= per_col:
                col, row = col + 1, 0
            placement.append((col, row))
            row += 1
    return placement


def draw_legend(ax: Axes, layers: Sequence[MapLayer], font: CJKFont, *, fontsize: float, title: str) -> None:
    """Flow the legend rows of every layer into columns filling ``ax`` (axis off)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    groups: list[list[tuple[str, LegendEntry | None]]] = []
    for layer in layers:
        if not layer.legend:
            continue
        groups.append([(layer.legend_title or layer.title, None), *((e.label, e) for e in layer.legend)])
    rows = [row for group in groups for row in group]
    if not rows:
        return
    renderer = _renderer(ax)
    box = ax.get_window_extent(renderer)
    px_per_pt = ax.figure.dpi / 72.0
    size = fontsize
    for _ in range(14):
        row_h = size * 1.55 * px_per_pt / box.height
        title_h = size * 2.0 * px_per_pt / box.height
        per_col = max(1, int((1 - title_h) / row_h))
        placement = _pack_legend(groups, per_col)
        ncols = max(c for c, _ in placement) + 1
        col_w_pt = box.width / px_per_pt / ncols
        widest = max(text_width_pt(label, size) + (size * 2.6 if e else 0) for label, e in rows)
        if widest <= col_w_pt or size <= 5:
            break
        size *= 0.9
    heading = ax.text(0, 1, title, ha="left", va="top", fontsize=size * 1.1, fontfamily=font.family)
    embolden(heading, font, size=size * 1.1)
    col_w = 1 / ncols
    sw = size * 1.9 * px_per_pt / box.width  # swatch width
    sh = size * 0.9 * px_per_pt / box.height
    for (label, entry), (col, r) in zip(rows, placement, strict=True):
        x = col * col_w
        y = 1 - title_h - (r + 0.5) * row_h
        if entry is None:
            header = ax.text(
                x,
                y,
                label,
                ha="left",
                va="center",
                fontsize=size,
                fontfamily=font.family,
                color="#222222",
            )
            embolden(header, font, size=size)
            continue
        if entry.kind == "polygon":
            ax.add_patch(
                Rectangle(
                    (x, y - sh / 2),
                    sw,
                    sh,
                    facecolor=entry.facecolor or "none",
                    edgecolor=entry.edgecolor or "none",
                    linewidth=entry.linewidth,
                    linestyle=entry.linestyle,
                )
            )
        elif entry.kind == "line":
            ax.add_line(
                Line2D(
                    [x, x + sw],
                    [y, y],
                    color=entry.edgecolor or entry.facecolor,
                    linewidth=entry.linewidth,
                    linestyle=entry.linestyle,
                )
            )
        else:
            ax.add_line(
                Line2D(
                    [x + sw / 2],
                    [y],
                    marker=entry.marker,
                    markersize=size * 0.8,
                    markerfacecolor=entry.facecolor or "none",
                    markeredgecolor=entry.edgecolor or "none",
                    linestyle="none",
                )
            )
        ax.text(x + sw * 1.35, y, label, ha="left", va="center", fontsize=size, fontfamily=font.family)


def draw_inset(
    ax: Axes,
    districts: gpd.GeoDataFrame,
    extent: Sequence[float],
    font: CJKFont,
    *,
    label_column: str | None,
    fontsize: float,
    title: str,
) -> None:
    """Locator map: every district outlined, the ones under the map filled, the map frame in red."""
    import shapely
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Rectangle

    frame = to_metric(districts, name="districts")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.5)
        spine.set_color("#666666")
    if len(frame) == 0:
        return
    box = shapely.box(*extent)
    # The districts the map is about: those covering a good share of the map frame.
    overlap = shapely.area(shapely.intersection(frame.geometry.values, box))
    hit = overlap >= 0.25 * box.area
    if not hit.any() and overlap.max() > 0:
        hit = overlap == overlap.max()
    faces = np.where(hit[:, None], [[0.85, 0.85, 0.85, 1.0]], [[1.0, 1.0, 1.0, 1.0]])
    coll = PathCollection(polygon_paths(frame.geometry.values), facecolors=faces, edgecolors="#555555", linewidths=0.4)
    coll.set_transform(ax.transData)
    ax.add_collection(coll, autolim=False)
    x0, y0, x1, y1 = extent
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="#d62728", linewidth=1.0, zorder=5))
    tb = np.array(frame.total_bounds)
    b = (min(tb[0], x0), min(tb[1], y0), max(tb[2], x1), max(tb[3], y1))
    pos = ax.get_position()
    fw, fh = _figure(ax).get_size_inches()
    ext = fit_extent(b, (pos.width * fw) / (pos.height * fh), pad=0.04)
    ax.set_xlim(ext[0], ext[2])
    ax.set_ylim(ext[1], ext[3])
    ax.set_aspect("equal", adjustable="datalim")
    if label_column and label_column in frame.columns:
        box_w = (x1 - x0) / (ext[2] - ext[0])
        for xy, text, is_hit in zip(
            shapely.get_coordinates(shapely.point_on_surface(frame.geometry.values)),
            frame[label_column].astype("string").fillna(""),
            hit,
            strict=True,
        ):
            if not (is_hit or len(frame) <= 12):
                continue
            if is_hit and box_w < 0.25:
                # A small map frame would hide its district's name: put the name beside it.
                label = ax.text(
                    x1,
                    (y0 + y1) / 2,
                    f" {text}",
                    ha="left",
                    va="center",
                    fontsize=fontsize * 0.8,
                    fontfamily=font.family,
                    color="#d62728",
                    zorder=6,
                )
            else:
                label = ax.text(
                    xy[0],
                    xy[1],
                    text,
                    ha="center",
                    va="center",
                    fontsize=fontsize * 0.8,
                    fontfamily=font.family,
                    color="#333333",
                    zorder=4,
                )
            underlay(label, linewidth=1.6, color="white")
    ax.set_title(title, fontsize=fontsize, fontfamily=font.family, loc="left", pad=2)


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    map: tuple[float, float, float, float]
    legend: tuple[float, float, float, float]
    inset: tuple[float, float, float, float] | None
    notes: tuple[float, float, float, float]
    side: tuple[float, float, float, float] | None = None


def _layout(spec: PageSpec, *, side_text: bool = False, inset: bool = True) -> _Layout:
    """Page boxes in mm (x, y from top-left, w, h) for the map, legend, inset, notes, side text."""
    w, h = spec.size_mm
    s = spec.font_scale
    m = 10.0 * s
    title_h = 22.0 * s
    notes_h = 17.0 * s
    top = m + title_h
    if spec.orientation == "landscape":
        panel_w = (120.0 if side_text else 68.0) * s
        map_w = w - 2 * m - panel_w - 5 * s
        map_h = h - top - m - notes_h
        px = m + map_w + 5 * s
        mapbox = (m, top, map_w, map_h)
        if side_text:
            legend_h = map_h * 0.34
            return _Layout(
                mapbox,
                (px, top, panel_w, legend_h),
                None,
                (m, top + map_h + 3 * s, w - 2 * m, notes_h - 3 * s),
                side=(px, top + legend_h + 3 * s, panel_w, map_h - legend_h - 3 * s),
            )
        inset_h = panel_w * 0.8 if inset else 0.0
        legend_h = map_h - (inset_h + 6 * s if inset else 0)
        return _Layout(
            mapbox,
            (px, top, panel_w, legend_h),
            (px, top + map_h - inset_h, panel_w, inset_h) if inset else None,
            (m, top + map_h + 3 * s, w - 2 * m, notes_h - 3 * s),
        )
    band_h = (95.0 if side_text else 48.0) * s
    map_h = h - top - m - notes_h - band_h - 4 * s
    band_y = top + map_h + 4 * s
    mapbox = (m, top, w - 2 * m, map_h)
    notes = (m, band_y + band_h + 3 * s, w - 2 * m, notes_h - 3 * s)
    if side_text:
        legend_w = (w - 2 * m) * 0.3
        return _Layout(
            mapbox,
            (m, band_y, legend_w, band_h),
            None,
            notes,
            side=(m + legend_w + 5 * s, band_y, w - 2 * m - legend_w - 5 * s, band_h),
        )
    inset_w = band_h * 1.15 if inset else 0.0
    legend_w = w - 2 * m - (inset_w + 5 * s if inset else 0)
    return _Layout(
        mapbox, (m, band_y, legend_w, band_h), (m + legend_w + 5 * s, band_y, inset_w, band_h) if inset else None, notes
    )


def _new_figure(spec: PageSpec) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=spec.size_inches, dpi=spec.dpi, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def _data_bounds(layers: Sequence[MapLayer]) -> np.ndarray:
    bounds = [ly.frame.total_bounds for ly in layers if len(ly.frame)]
    if not bounds:
        msg = "nothing to draw: every layer of the preset is empty"
        raise ValueError(msg)
    arr = np.array(bounds)
    return np.array([arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max()])


def _draw_map_axes(
    page: _Page,
    box: tuple[float, float, float, float],
    layers: Sequence[MapLayer],
    bounds: Sequence[float] | np.ndarray,
    *,
    focus: Any = None,
    labels: bool = True,
    pad: float = 0.06,
) -> tuple[Axes, tuple[float, float, float, float]]:
    """The map frame: layers, optional focus mask, scale bar, north arrow and labels."""
    import shapely
    from matplotlib.collections import PathCollection

    ax = page.axes(*box)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.8)
    ax.set_facecolor("#fbfbf8")
    extent = fit_extent(bounds, box[2] / box[3], pad=pad)
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal", adjustable="box", anchor="C")
    for layer in layers:
        draw_layer(ax, layer)
    if focus is not None:
        # Grey out everything outside the focus unit so the page reads as being about it.
        mask = shapely.difference(shapely.box(*extent).buffer(1.0), focus)
        coll = PathCollection(polygon_paths([mask]), facecolors=[(1, 1, 1, 0.55)], edgecolors="none")
        coll.set_transform(ax.transData)
        coll.set_zorder(15)
        ax.add_collection(coll, autolim=False)
        outline = PathCollection(polygon_paths([focus]), facecolors="none", edgecolors="#d62728", linewidths=1.6)
        outline.set_transform(ax.transData)
        outline.set_zorder(16)
        ax.add_collection(outline, autolim=False)
    size = 6.5 * page.s
    obstacles = [draw_scale_bar(ax, page.font, fontsize=size)]
    points = [point_coords(ly.frame.geometry.values)[0] for ly in layers if ly.kind == "point" and len(ly.frame)]
    obstacles.append(
        draw_north_arrow(
            ax,
            page.font,
            lang=page.spec.lang,
            fontsize=size * 1.3,
            points=np.vstack(points) if points else None,
        )
    )
    if labels:
        place_labels(ax, layers, page.font, fontsize=size, obstacles=obstacles)
    return ax, extent


def _draw_title(page: _Page, title: str, subtitle: str, *, right: str = "") -> None:
    m = 10.0 * page.s
    embolden(page.text(m, m, title, size=17), page.font, size=17 * page.s)
    if subtitle:
        page.text(m, m + 9.5 * page.s, subtitle, size=9.5, color="#333333")
    if right:
        page.text(page.w_mm - m, m + 1.5 * page.s, right, size=8, color="#555555", ha="right")


def _draw_notes(
    page: _Page, box: tuple[float, float, float, float], layers: Sequence[MapLayer], *, extra: Sequence[str] = ()
) -> None:
    from planatlas import __version__

    lang = page.spec.lang
    words = texts("print_", lang)
    sep = "：" if lang == "zh" else ": "
    parts = []
    sources = source_note(layers, lang)
    if sources:
        parts.append(f"{words['sources']}{sep}{sources}")
    parts.extend(extra)
    notes = precision_notes(layers, lang)
    if notes:
        parts.append(f"{words['precision']}{sep}" + ("；" if lang == "zh" else "; ").join(notes))
    parts.append(f"{words['crs']} · {words['made'].format(version=__version__, date=page.spec.today.isoformat())}")
    x, y, w, h = box
    size = 6.0
    width_pt = w / 25.4 * 72 / page.s
    text = "\n".join(parts)
    lines, fitted, _ = fit_text(
        text, width_pt=width_pt, height_pt=h / 25.4 * 72 / page.s, fontsize=size, min_fontsize=4.5
    )
    page.lines(x, y, lines, size=fitted, leading=1.35, color="#333333")


def render_map(
    preset: Any,
    frames: Mapping[str, Any],
    *,
    params: Mapping[str, Any] | None = None,
    page: PageSpec | None = None,
    districts: gpd.GeoDataFrame | None = None,
    district_label: str | None = "name",
    title: str | None = None,
    subtitle: str | None = None,
    font_path: str | Path | None = None,
) -> Figure:
    """Draw one print page of a preset: title, map, legend, scale bar, north arrow, notes, inset.

    Parameters
    ----------
    preset
        A :class:`planatlas.maps.Preset` (``get_preset(name)``).
    frames
        The catalogue layers the preset needs (``planatlas.maps.load_frames``), EPSG:4490.
    params
        Preset parameters (e.g. the Jiuwang ``phase``); defaults per the preset.
    page
        Paper, orientation, dpi, language; A4 portrait 300 dpi in Chinese by default.
    districts
        District outlines for the locator inset; ``frames["districts"]`` when ``None``.
    title, subtitle
        Override the preset's title and its plan subtitle.
    font_path
        A CJK font file to use instead of the installed Noto Sans CJK.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; write it with :func:`planatlas.render.export.write_figure`.
    """

    spec = page or PageSpec()
    font = find_cjk_font(font_path)
    prepared = prepare(preset, frames, params=params)
    if districts is None:
        districts = frames.get("districts")
    with rc_context(page_rc(font)):
        layers = resolve_layers(prepared, spec.lang)
        fig = _new_figure(spec)
        pg = _Page(fig, spec, font)
        show_inset = spec.inset and districts is not None and len(districts) > 1
        lay = _layout(spec, inset=show_inset)
        _draw_title(
            pg,
            title or preset.title_in(spec.lang),
            subtitle if subtitle is not None else preset.subtitle_in(spec.lang),
            right=_params_text(preset, params, spec.lang),
        )
        bounds = preset_extent(preset, prepared)
        if bounds is None:
            bounds = _data_bounds(layers)
        _ax, extent = _draw_map_axes(pg, lay.map, layers, bounds, labels=spec.labels)
        legend_ax = pg.axes(*lay.legend)
        draw_legend(legend_ax, layers, font, fontsize=7.0 * pg.s, title=t("print_legend", spec.lang))
        if show_inset and lay.inset is not None:
            assert districts is not None
            inset_ax = pg.axes(*lay.inset)
            if spec.lang == "en" and district_label and f"{district_label}_en" in districts.columns:
                district_label = f"{district_label}_en"
            draw_inset(
                inset_ax,
                districts,
                extent,
                font,
                label_column=district_label,
                fontsize=6.5 * pg.s,
                title=t("print_inset", spec.lang),
            )
        _draw_notes(pg, lay.notes, layers)
    fig.planatlas_rc = page_rc(font)  # type: ignore[attr-defined]
    fig.planatlas_meta = {  # type: ignore[attr-defined]
        "title": title or preset.title_in(spec.lang),
        "subject": subtitle if subtitle is not None else preset.subtitle_in(spec.lang),
        "keywords": f"planatlas; {preset.name}; EPSG:4548",
    }
    return fig


def _params_text(preset: Any, params: Mapping[str, Any] | None, lang: str) -> str:
    """'Construction phase: 2021–22' for presets with parameters, else ''."""
    if not getattr(preset, "parameters", ()):
        return ""
    values = preset.params_with_defaults(params)
    sep = "：" if lang == "zh" else ": "
    return "  ".join(
        f"{p.title.get(lang) or p.name}{sep}{p.choice(values[p.name]).label_in(lang)}" for p in preset.parameters
    )


@dataclass(frozen=True)
class SeriesUnit:
    """One page of a map series: the unit's key, name, geometry (metric) and guidance text."""

    key: str
    name: str
    geometry: Any
    paragraphs: tuple[tuple[str, str], ...]
    #: Where the plan gives this guidance, e.g. "专栏1序号 （二）" (empty when unknown).
    reference: str = ""


def series_units(
    frame: gpd.GeoDataFrame,
    *,
    key: str,
    lang: str = "zh",
    name_column: str = "name",
    text_fields: Sequence[str] | None = None,
    field_titles: Mapping[str, Mapping[str, str]] | None = None,
    reference_field: str | None = None,
) -> list[SeriesUnit]:
    """Pages of a series from a streets/zones frame: one unit per feature, in key order.

    ``text_fields`` are the columns printed beside the map (each under its field title); by
    default every text column other than the key, names, geometry and provenance columns.
    ``reference_field`` names a column locating the guidance in the plan (shown by the heading).
    """
    import pandas as pd

    from planatlas.maps import field_title

    metric = to_metric(frame, name="series")
    if key not in metric.columns:
        msg = f"series key column {key!r} is not in the layer; columns: {list(metric.columns)}"
        raise ValueError(msg)
    if text_fields is None:
        skip = {key, name_column, f"{name_column}_en", metric.geometry.name, *PROVENANCE_FIELDS}
        text_fields = [
            c
            for c in metric.columns
            if c not in skip and (metric[c].dtype == object or str(metric[c].dtype).startswith("str"))
        ]
    name_col = f"{name_column}_en" if lang == "en" and f"{name_column}_en" in metric.columns else name_column
    units = []
    for _, row in metric.sort_values(key).iterrows():
        paragraphs = []
        for col in text_fields:
            value = row.get(col)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            if str(value).strip() == "":
                continue
            # Lists are stored ';'-separated; print them the way the plan writes lists.
            text = re.sub(r"\s*;\s*", "、" if lang == "zh" else "; ", str(value).strip())
            title = field_title(col, lang, field_titles)
            if title == col:  # no title anywhere: at least not a raw identifier
                title = col.replace("_", " ").capitalize()
            paragraphs.append((title, text))
        name = row.get(name_col) if name_col in metric.columns else None
        reference = ""
        if reference_field and reference_field in metric.columns and pd.notna(row.get(reference_field)):
            reference = f"{field_title(reference_field, lang, field_titles)} {row[reference_field]}"
        units.append(
            SeriesUnit(
                key=str(row[key]),
                name=str(name or row[key]),
                geometry=row.geometry,
                paragraphs=tuple(paragraphs),
                reference=reference,
            )
        )
    return units


def render_series_page(
    preset: Any,
    layers: Sequence[MapLayer],
    unit: SeriesUnit,
    *,
    page: PageSpec,
    font: CJKFont,
    number: int,
    total: int,
    subtitle: str,
) -> Figure:
    """One series page: the map zoomed to ``unit`` and its guidance text beside it."""
    import shapely

    fig = _new_figure(page)
    pg = _Page(fig, page, font)
    words = texts("print_", page.lang)
    lay = _layout(page, side_text=True, inset=False)
    preset_title = preset.title_in(page.lang)
    _draw_title(
        pg,
        unit.name,
        f"{preset_title} · {subtitle}" if subtitle else preset_title,
        right=words["page"].format(n=number, total=total),
    )
    bounds = np.array(unit.geometry.bounds)
    _draw_map_axes(pg, lay.map, layers, bounds, focus=unit.geometry, labels=page.labels, pad=0.18)
    legend_ax = pg.axes(*lay.legend)
    draw_legend(legend_ax, layers, font, fontsize=6.5 * pg.s, title=words["legend"])
    assert lay.side is not None
    x, y, w, h = lay.side
    heading = words["guidance"] + (f" · {unit.reference}" if unit.reference else "")
    embolden(pg.text(x, y, heading, size=10), font, size=10 * pg.s)
    y += 7 * pg.s
    body = "\n".join(f"【{head}】{text}" if head else text for head, text in unit.paragraphs)
    body = body or words["no_guidance"]
    width_pt = w / 25.4 * 72 / pg.s
    lines, size, _ = fit_text(
        body, width_pt=width_pt, height_pt=(h - 7 * pg.s) / 25.4 * 72 / pg.s, fontsize=10, min_fontsize=5.0
    )
    pg.lines(x, y, lines, size=size, leading=1.45, color="#222222")
    # The notes cite only what lies on this page's unit.
    shapely.prepare(unit.geometry)
    focus_layers = [
        replace(ly, frame=ly.frame[shapely.intersects(ly.frame.geometry.values, unit.geometry)]) for ly in layers
    ]
    _draw_notes(pg, lay.notes, focus_layers)
    fig.planatlas_rc = page_rc(font)  # type: ignore[attr-defined]
    fig.planatlas_meta = {"title": f"{unit.name} — {preset_title}", "subject": subtitle}  # type: ignore[attr-defined]
    return fig


def _check_series_overlap(preset: Any, layers: Sequence[MapLayer], units: Sequence[SeriesUnit]) -> None:
    """A series of units the preset draws nothing on (Jiuwang roads by Xihu street) is an error."""
    import shapely

    if not units:
        return
    area = shapely.union_all([u.geometry for u in units])
    if not any(len(ly.frame) and shapely.intersects(ly.frame.geometry.values, area).any() for ly in layers):
        msg = f"preset {preset.name!r} draws nothing inside these series units; choose a preset that covers them"
        raise PresetDataError(msg)


def render_series(
    preset: Any,
    frames: Mapping[str, Any],
    units: Sequence[SeriesUnit],
    *,
    params: Mapping[str, Any] | None = None,
    page: PageSpec | None = None,
    subtitle: str | None = None,
    font_path: str | Path | None = None,
) -> Iterator[Figure]:
    """Yield one page per unit (street or zone), each zoomed to it with its guidance beside it.

    Pages are generated lazily so a long series never holds every figure in memory; the preset's
    layers are prepared and styled once for the whole series.
    """

    spec = page or PageSpec(orientation="landscape")
    font = find_cjk_font(font_path)
    prepared = prepare(preset, frames, params=params)
    with rc_context(page_rc(font)):
        layers = resolve_layers(prepared, spec.lang)
    _check_series_overlap(preset, layers, units)
    sub = subtitle if subtitle is not None else preset.subtitle_in(spec.lang)
    for i, unit in enumerate(units, start=1):
        with rc_context(page_rc(font)):
            fig = render_series_page(
                preset, layers, unit, page=spec, font=font, number=i, total=len(units), subtitle=sub
            )
        yield fig  # outside the lock: the caller saves it (and takes the lock again)
