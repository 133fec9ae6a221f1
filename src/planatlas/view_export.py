"""Export what the Atlas page shows (its extent, visible layers, basemap and language), and series as a zip of PNGs.

The Atlas page's one-click export: the preset's print page (:func:`planatlas.render.static.render_map`)
with only the layers switched on, framed to the extent on screen (converted to EPSG:4548), in the
page's language. An online basemap is not printed (its tiles are neither offline nor licensed for
print here): the page names it in its notes. Series pages (one per street or zone) can come as
one PDF (:func:`planatlas.export.series_bytes`) or as PNG files in a zip (:func:`series_png_zip`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyproj import Transformer

from planatlas.crs import METRIC_CRS, STORAGE_CRS
from planatlas.errors import ExportError
from planatlas.export import _series, get_export_preset
from planatlas.i18n import t
from planatlas.maps.load import load_preset
from planatlas.maps.style import text_in
from planatlas.render.basemaps import BASEMAPS
from planatlas.render.page import PageSpec, RenderedPage
from planatlas.render.static import render_map
from planatlas.render.write import figure_bytes, format_of

if TYPE_CHECKING:
    from planatlas.store.base import LayerStore

__all__ = ["ViewState", "series_png_zip", "view_bytes", "view_page"]

#: (west, south, east, north) in CGCS2000 lon/lat, as the map reports its bounds.
LonLatBounds = tuple[float, float, float, float]


def _metric_bounds(bounds: LonLatBounds) -> tuple[float, float, float, float]:
    """The extent in EPSG:4548 covering ``bounds`` (its four corners projected)."""
    west, south, east, north = bounds
    if not (west < east and south < north):
        msg = f"the view's bounds should be west < east and south < north, got {bounds!r}"
        raise ExportError(msg)
    tr = Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True)
    xs, ys = tr.transform([west, east, west, east], [south, south, north, north])
    return min(xs), min(ys), max(xs), max(ys)


class ViewState:
    """What the Atlas page shows: preset, parameters, visible layer ids, extent and basemap."""

    def __init__(
        self,
        preset: str,
        *,
        params: Mapping[str, Any] | None = None,
        visible: Sequence[str] | None = None,
        bounds: LonLatBounds | None = None,
        basemap: str = "none",
    ) -> None:
        self.preset = preset
        self.params = dict(params or {})
        self.visible = None if visible is None else tuple(visible)
        self.bounds = bounds
        self.basemap = basemap


def view_page(
    store: LayerStore, view: ViewState, *, page: PageSpec, font_path: str | Path | None = None
) -> RenderedPage:
    """The print page of ``view`` in ``page.lang``.

    Raises
    ------
    ExportError
        For an unknown preset, no visible layer, or bounds that are not an extent.
    """
    preset = get_export_preset(view.preset)
    data = load_preset(store, preset, view.params)
    notes = []
    if view.visible is not None:
        kept = tuple(pl for pl in preset.layers if pl.id in view.visible)
        if not kept:
            msg = f"no layer of preset {preset.name!r} is switched on; switch one on to export the view"
            raise ExportError(msg)
        ids = {pl.id for pl in kept}
        narrowed = replace(preset, layers=kept, extent=tuple(e for e in preset.extent if e in ids))
        data = replace(data, preset=narrowed)
    if view.basemap != "none" and view.basemap in BASEMAPS:
        notes.append(
            t("print_basemap_not_printed", page.lang, basemap=text_in(BASEMAPS[view.basemap].title, page.lang))
        )
    bounds = None if view.bounds is None else _metric_bounds(view.bounds)
    return render_map(data, page, font_path=font_path, bounds=bounds, notes=notes)


def view_bytes(
    store: LayerStore, view: ViewState, *, fmt: str, page: PageSpec, font_path: str | Path | None = None
) -> bytes:
    """The view as the bytes of a PNG or PDF page (for the Atlas page's download)."""
    fmt = format_of("", fmt, allowed=("png", "pdf"))
    return figure_bytes(view_page(store, view, page=page, font_path=font_path), fmt)


def series_png_zip(
    store: LayerStore,
    name: str,
    *,
    by: str = "streets",
    page: PageSpec | None = None,
    params: Mapping[str, Any] | None = None,
    font_path: str | Path | None = None,
) -> tuple[bytes, int]:
    """A map series as a zip of PNG pages (``001_<title>.png`` …) and its page count."""
    page = page or PageSpec(orientation="landscape")
    pages, _metadata = _series(store, name, by=by, page=page, params=params, font_path=font_path)
    out = io.BytesIO()
    count = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:  # PNGs are compressed already
        for count, rendered in enumerate(pages, start=1):
            title = str(rendered.metadata.get("title") or "page").replace("/", "_")[:60]
            archive.writestr(f"{count:03d}_{title}.png", figure_bytes(rendered, "png"))
    if not count:
        msg = f"the series of {name!r} by {by!r} has no pages"
        raise ExportError(msg)
    return out.getvalue(), count
