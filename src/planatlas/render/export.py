"""The one writer of map files: pages to PNG/PDF/SVG, series to one PDF, folium maps to offline HTML.

Every file is written atomically (a temporary file in the target directory, then ``os.replace``),
so an interrupted export never leaves a half-written file where the last good one was. The
functions at the bottom (``export_preset``, ``export_series``) are the I/O edge used by the CLI and
the app: they read the atlas store, call the pure renderers and write.
"""

from __future__ import annotations

import base64
import contextlib
import mimetypes
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from planatlas.errors import ExportError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from planatlas.render.page import PageSpec, RenderedPage
    from planatlas.render.series import SeriesUnit

#: Formats of single pages; ``html`` is the interactive map.
FORMATS = ("png", "pdf", "svg", "html")
PAGE_FORMATS = ("png", "pdf", "svg")
SERIES_BY = {"streets": ("streets", None), "zones": ("zones", ("kind", "zone"))}

_PDF_KEYS = {"title": "Title", "subject": "Subject", "keywords": "Keywords", "author": "Author"}
_SVG_KEYS = {"title": "Title", "subject": "Description", "keywords": "Keywords", "author": "Creator"}
_PNG_KEYS = {"title": "Title", "subject": "Description", "keywords": "Keywords", "author": "Author"}


# --------------------------------------------------------------------------------------------
# Atomic files
# --------------------------------------------------------------------------------------------


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(fh)`` on a temporary file next to ``path`` and move it into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def format_of(path: str | Path, fmt: str | None = None, *, allowed: Sequence[str] = FORMATS) -> str:
    """The export format: ``fmt`` if given, else the file suffix; checked against ``allowed``."""
    value = (fmt or Path(path).suffix.lstrip(".")).lower()
    if value not in allowed:
        msg = f"format should be one of {', '.join(allowed)}, got {value or '(no suffix)'!r}"
        raise ExportError(msg)
    return value


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def _figure(page: RenderedPage | Figure) -> Figure:
    from planatlas.render.page import RenderedPage

    return page.figure if isinstance(page, RenderedPage) else page


def _metadata(page: RenderedPage | Figure, fmt: str, extra: Mapping[str, str] | None) -> dict[str, Any]:
    from planatlas import __version__
    from planatlas.render.page import RenderedPage

    own = page.metadata if isinstance(page, RenderedPage) else {}
    meta: dict[str, str] = {**own, **(extra or {})}
    keys = {"pdf": _PDF_KEYS, "svg": _SVG_KEYS, "png": _PNG_KEYS}[fmt]
    out: dict[str, Any] = {keys[k]: v for k, v in meta.items() if k in keys and v}
    creator = f"planatlas {__version__}"
    if fmt == "pdf":
        out["Creator"] = creator
    elif fmt == "svg":
        out.setdefault("Creator", creator)
    else:
        out["Software"] = creator
    return out


def _rc(page: RenderedPage | Figure) -> Mapping[str, Any]:
    # The rcParams the page was drawn with (font, Type 42 embedding); rendered pages carry them.
    from planatlas.render.fonts import find_cjk_font, page_rc
    from planatlas.render.page import RenderedPage

    return page.rc if isinstance(page, RenderedPage) else page_rc(find_cjk_font())


def save_figure(
    page: RenderedPage | Figure, fh: IO[bytes], fmt: str, *, metadata: Mapping[str, str] | None = None
) -> None:
    """Write one page to an open binary file in ``fmt`` (png, pdf, svg) at the figure's dpi."""
    from planatlas.render.fonts import rc_context

    fmt = format_of("", fmt, allowed=PAGE_FORMATS)
    fig = _figure(page)
    with rc_context(_rc(page)):
        fig.savefig(fh, format=fmt, dpi=fig.dpi, facecolor="white", metadata=_metadata(page, fmt, metadata))


def figure_bytes(fig: RenderedPage | Figure, fmt: str, *, metadata: Mapping[str, str] | None = None) -> bytes:
    """One page as bytes (for downloads and previews)."""
    import io

    buf = io.BytesIO()
    save_figure(fig, buf, fmt, metadata=metadata)
    return buf.getvalue()


def write_figure(
    fig: RenderedPage | Figure, path: str | Path, *, fmt: str | None = None, metadata: Mapping[str, str] | None = None
) -> Path:
    """Write one page to ``path`` (format from ``fmt`` or the suffix), atomically."""
    fmt = format_of(path, fmt, allowed=PAGE_FORMATS)
    return atomic_write(path, lambda fh: save_figure(fig, fh, fmt, metadata=metadata))


def save_pdf_pages(figs: Iterable[RenderedPage | Figure], fh: IO[bytes], *, metadata: Mapping[str, str] | None = None) -> int:
    """Write pages into one PDF on an open file; returns the number of pages."""
    from matplotlib.backends.backend_pdf import PdfPages

    from planatlas.render.fonts import rc_context

    count = 0
    pdf: PdfPages | None = None
    try:
        for fig in figs:
            with rc_context(_rc(fig)):
                if pdf is None:
                    pdf = PdfPages(fh, metadata=_metadata(fig, "pdf", metadata))
                pdf.savefig(_figure(fig), facecolor="white")
            count += 1
    finally:
        if pdf is not None:
            with rc_context({"pdf.fonttype": 42}):
                pdf.close()
    if count == 0:
        msg = "no pages to write: the series has no units"
        raise ExportError(msg)
    return count


def write_pdf_pages(figs: Iterable[RenderedPage | Figure], path: str | Path, *, metadata: Mapping[str, str] | None = None) -> int:
    """Write pages (e.g. a map series) into one PDF atomically; returns the page count."""
    format_of(path, "pdf", allowed=("pdf",))
    pages: list[int] = []
    atomic_write(path, lambda fh: pages.append(save_pdf_pages(figs, fh, metadata=metadata)))
    return pages[0]


# --------------------------------------------------------------------------------------------
# Self-contained HTML
# --------------------------------------------------------------------------------------------

_SCRIPT_SRC = re.compile(r"<script\b([^>]*?)\bsrc=[\"']([^\"']+)[\"']([^>]*)>\s*</script>", re.I | re.S)
_LINK_CSS = re.compile(r"<link\b[^>]*?\bhref=[\"']([^\"']+)[\"'][^>]*>", re.I | re.S)
_CSS_URL = re.compile(r"url\(\s*([\"']?)([^)\"']+)\1\s*\)", re.I)


def default_asset_dirs() -> list[Path]:
    """Where the vendored Leaflet/plugin assets live (``planatlas/static``)."""
    root = Path(__file__).resolve().parents[1] / "static"
    return [root] if root.is_dir() else []


@dataclass
class _AssetIndex:
    dirs: list[Path]

    def __post_init__(self) -> None:
        self.by_name: dict[str, list[Path]] = {}
        for d in self.dirs:
            for p in d.rglob("*"):
                if p.is_file():
                    self.by_name.setdefault(p.name, []).append(p)

    def find(self, ref: str, *, base: Path | None = None) -> Path | None:
        """A local file for an asset reference: a path, a relative URL or a known CDN file name."""
        clean = ref.split("#", 1)[0].split("?", 1)[0]
        if clean.startswith("file://"):
            clean = clean[len("file://") :]
        if not re.match(r"^[a-z][a-z0-9+.-]*:", clean, re.I) and not clean.startswith("//"):
            candidates = []
            if base is not None:
                candidates.append(base / clean)
            candidates.append(Path(clean))
            for d in self.dirs:
                stripped = clean.lstrip("/")
                for prefix in ("app/static/", "static/", "planatlas/static/"):
                    if stripped.startswith(prefix):
                        stripped = stripped[len(prefix) :]
                candidates.append(d / stripped)
            for c in candidates:
                if c.is_file() and self._inside(c):
                    return c
        # A CDN URL: the vendored copy has the same file name; the URL path must end with the
        # vendored file's path relative to its asset dir, so leaflet.css never matches a plugin's.
        name = Path(clean).name
        hits = self.by_name.get(name, [])
        path_tail = clean.replace("\\", "/")
        for h in sorted(hits, key=lambda p: -len(p.parts)):
            rel = next((h.relative_to(d) for d in self.dirs if h.is_relative_to(d)), Path(h.name))
            parts = rel.parts
            for k in range(len(parts), 0, -1):
                if path_tail.endswith("/".join(parts[-k:])):
                    return h
        return hits[0] if len(hits) == 1 else None

    def _inside(self, path: Path) -> bool:
        # Relative references may only read the vendored asset directories.
        resolved = path.resolve()
        return any(resolved.is_relative_to(d.resolve()) for d in self.dirs)


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(css: str, base: Path, index: _AssetIndex, missing: list[str]) -> str:
    def repl(m: re.Match[str]) -> str:
        ref = m.group(2).strip()
        if ref.startswith("data:") or ref.startswith("#"):
            return m.group(0)
        found = index.find(ref, base=base)
        if found is None:
            missing.append(ref)
            return m.group(0)
        return f'url("{_data_uri(found)}")'

    return _CSS_URL.sub(repl, css)


def inline_assets(html: str, *, asset_dirs: Sequence[str | Path] | None = None) -> str:
    """Replace every ``<script src>`` and stylesheet ``<link>`` with the vendored file's content.

    CSS ``url(...)`` references (marker images, icon fonts) become data URIs. Raises
    :class:`ExportError` naming every asset that has no vendored copy, rather than writing a page
    that silently needs the network.
    """
    dirs = [Path(d) for d in asset_dirs] if asset_dirs is not None else default_asset_dirs()
    index = _AssetIndex(dirs)
    missing: list[str] = []

    def script(m: re.Match[str]) -> str:
        ref = m.group(2)
        if ref.startswith("data:"):
            return m.group(0)  # already inline
        found = index.find(ref)
        if found is None:
            missing.append(ref)
            return m.group(0)
        code = found.read_text(encoding="utf-8")
        # A literal </script> inside inlined code would end the element early.
        code = re.sub(r"</(script)", r"<\\/\1", code, flags=re.I)
        attrs = (m.group(1) + m.group(3)).strip()
        return f"<script{(' ' + attrs) if attrs else ''}>\n{code}\n</script>"

    def link(m: re.Match[str]) -> str:
        tag, ref = m.group(0), m.group(1)
        if not re.search(r"rel=[\"']?stylesheet", tag, re.I) or ref.startswith("data:"):
            return tag
        found = index.find(ref)
        if found is None:
            missing.append(ref)
            return tag
        css = _inline_css(found.read_text(encoding="utf-8"), found.parent, index, missing)
        return f"<style>\n{css}\n</style>"

    out = _SCRIPT_SRC.sub(script, html)
    out = _LINK_CSS.sub(link, out)
    if missing:
        listed = ", ".join(sorted(set(missing)))
        msg = (
            f"cannot make the HTML self-contained: no vendored copy of {listed} "
            f"(looked in {', '.join(str(d) for d in dirs) or 'no asset directory'})"
        )
        raise ExportError(msg)
    return out


def standalone_html(m: Any, *, asset_dirs: Sequence[str | Path] | None = None) -> str:
    """The full HTML of a folium map (or an HTML string) with every asset inlined."""
    html = m if isinstance(m, str) else m.get_root().render()
    return inline_assets(html, asset_dirs=asset_dirs)


def write_html(m: Any, path: str | Path, *, asset_dirs: Sequence[str | Path] | None = None) -> Path:
    """Write a folium map as one self-contained HTML file that opens offline, atomically."""
    data = standalone_html(m, asset_dirs=asset_dirs).encode("utf-8")

    def write(fh: IO[bytes]) -> None:
        fh.write(data)

    return atomic_write(path, write)


# --------------------------------------------------------------------------------------------
# The I/O edge: atlas store -> files
# --------------------------------------------------------------------------------------------


def get_export_preset(name: str) -> Any:
    """The map preset called ``name``; an unknown name is an :class:`ExportError` listing them."""
    from planatlas.maps import get_preset

    try:
        return get_preset(name)
    except KeyError as exc:
        raise ExportError(str(exc.args[0]) if exc.args else str(exc)) from None


def render_preset(
    store: Any,
    preset_name: str,
    *,
    page: PageSpec,
    params: Mapping[str, Any] | None = None,
    font_path: str | Path | None = None,
) -> RenderedPage:
    """Read a preset's layers from the store and draw its page."""
    from planatlas.maps.load import load_preset
    from planatlas.render.static import render_map

    preset = get_export_preset(preset_name)
    return render_map(load_preset(store, preset, params), page, font_path=font_path)


def export_preset(
    store: Any,
    preset_name: str,
    path: str | Path,
    *,
    fmt: str | None = None,
    page: PageSpec | None = None,
    params: Mapping[str, Any] | None = None,
    font_path: str | Path | None = None,
) -> Path:
    """Export one preset to ``path`` as PNG, PDF, SVG or self-contained HTML."""
    from planatlas.render.page import PageSpec

    fmt = format_of(path, fmt)
    page = page or PageSpec()
    get_export_preset(preset_name)
    if fmt == "html":
        return write_html(interactive_map(store, preset_name, lang=page.lang, params=params), path)
    fig = render_preset(store, preset_name, page=page, params=params, font_path=font_path)
    return write_figure(fig, path, fmt=fmt)


def interactive_map(store: Any, preset_name: str, *, lang: str, params: Mapping[str, Any] | None = None) -> Any:
    """The interactive (folium) map of a preset with no basemap, so the HTML works offline."""
    from planatlas.maps import load_preset
    from planatlas.render.interactive import interactive_map as build_map

    data = load_preset(store, get_export_preset(preset_name), params)
    return build_map(
        data.preset,
        dict(data.frames),
        lang=lang,
        params=data.params,
        basemap="none",
        keys=data.keys,
        field_titles=data.field_titles,
    )


#: Columns printed beside the map on series pages, in order (those the layer has).
SERIES_TEXT = {
    "streets": ("approach", "key_industries", "named_projects", "zones"),
    "zones": ("key_industries", "streets_as_written", "business_district_full"),
}
#: Column locating each unit's guidance in the plan (streets: the item of 专栏1).
SERIES_REFERENCE = {"streets": "guidance_no"}
#: How a street belongs to a zone (``zone_roles`` of layer ``streets``), as the plan words it.
ZONE_ROLES = {
    "whole": {"zh": "全部", "en": "whole"},
    "most": {"zh": "大部分", "en": "most"},
    "part": {"zh": "部分", "en": "part"},
    "riverside": {"zh": "滨江板块", "en": "riverside"},
}


def _zone_names(store: Any, frame: Any, lang: str) -> Any:
    """Streets' ``zones`` ids replaced by the zones' names and the street's role in each."""
    if "zones" not in frame.columns or "zones" not in store.layers():
        return frame
    zones = store.read("zones")
    col = "name_en" if lang == "en" and "name_en" in zones.columns else "name"
    names = dict(zip(zones[zones.columns[0]] if "zone_id" not in zones else zones["zone_id"], zones[col], strict=True))
    out = frame.copy()

    def label(row: Any) -> str:
        roles = dict(part.split(":", 1) for part in str(row.get("zone_roles") or "").split(";") if ":" in part)
        items = []
        for zone_id in str(row["zones"] or "").split(";"):
            zone_id = zone_id.strip()
            if not zone_id:
                continue
            role = ZONE_ROLES.get(roles.get(zone_id, ""), {}).get(lang)
            name = names.get(zone_id, zone_id)
            items.append(f"{name}（{role}）" if role and lang == "zh" else f"{name} ({role})" if role else name)
        return ";".join(items)

    out["zones"] = out.apply(label, axis=1)
    return out


def series_units_for(store: Any, by: str, *, lang: str) -> list[SeriesUnit]:
    """One unit per street (layer ``streets``) or per zone (layer ``zones``, kind ``zone``)."""
    from planatlas.render.series import series_units

    if by not in SERIES_BY:
        msg = f"series should be by one of {', '.join(SERIES_BY)}, got {by!r}"
        raise ExportError(msg)
    layer, where = SERIES_BY[by]
    frame = store.read(layer)
    if where is not None and where[0] in frame.columns:
        frame = frame[frame[where[0]] == where[1]]
    if by == "streets":
        frame = _zone_names(store, frame, lang)
    spec = store.spec(layer)
    titles = {name: f.title for name, f in spec.fields.items() if f.title}
    text = [c for c in SERIES_TEXT[by] if c in frame.columns] or None
    return series_units(
        frame,
        key=spec.key,
        lang=lang,
        text_fields=text,
        field_titles=titles,
        reference_field=SERIES_REFERENCE.get(by),
    )


def export_series(
    store: Any,
    preset_name: str,
    path: str | Path,
    *,
    by: str = "streets",
    page: PageSpec | None = None,
    params: Mapping[str, Any] | None = None,
    font_path: str | Path | None = None,
) -> int:
    """Write a map series (one page per street or zone) to one PDF; returns the page count."""
    from planatlas.maps.load import load_preset
    from planatlas.render.page import PageSpec
    from planatlas.render.series import render_series

    format_of(path, allowed=("pdf",))
    page = page or PageSpec(orientation="landscape")
    preset = get_export_preset(preset_name)
    units = series_units_for(store, by, lang=page.lang)
    figs = render_series(load_preset(store, preset, params), units, page, font_path=font_path)
    title = f"{preset.title_in(page.lang)} — {by}"
    return write_pdf_pages(figs, path, metadata={"title": title, "subject": preset.subtitle_in(page.lang)})
