"""The one writer of output files: drawn pages to PNG/PDF/SVG, page series to one PDF, maps to offline HTML.

Every file is written atomically (a temporary file in the target directory, then a rename), so an
interrupted export never leaves a half-written file where the last good one was. The renderers
(:mod:`planatlas.render.static`, :mod:`planatlas.render.interactive`) return objects; this module
turns them into bytes or files; :mod:`planatlas.export` runs store → load → render → write.
"""

from __future__ import annotations

import base64
import io
import mimetypes
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import folium

from planatlas import __version__
from planatlas.errors import ExportError
from planatlas.io.writers import replacing

if TYPE_CHECKING:
    from planatlas.render.page import RenderedPage

#: Formats of single pages; ``html`` is the interactive map.
FORMATS = ("png", "pdf", "svg", "html")
PAGE_FORMATS = ("png", "pdf", "svg")

_PDF_KEYS = {"title": "Title", "subject": "Subject", "keywords": "Keywords", "author": "Author"}
_SVG_KEYS = {"title": "Title", "subject": "Description", "keywords": "Keywords", "author": "Creator"}
_PNG_KEYS = {"title": "Title", "subject": "Description", "keywords": "Keywords", "author": "Author"}


# --------------------------------------------------------------------------------------------
# Atomic files
# --------------------------------------------------------------------------------------------


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(fh)`` on a temporary file next to ``path`` and move it into place.

    A failed write (a full disk, no permission) leaves any previous file at ``path`` as it was and
    no temporary file behind, and is raised as :class:`~planatlas.errors.OutputWriteError` naming ``path``.
    """
    target = Path(path)
    with replacing(target, suffix=".part") as tmp, tmp.open("wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    return target


def format_of(path: str | Path, fmt: str | None = None, *, allowed: Sequence[str] = FORMATS) -> str:
    """The export format: ``fmt`` if given, else the file suffix; checked against ``allowed``.

    Raises
    ------
    ExportError
        If the format is not one of ``allowed``.
    """
    value = (fmt or Path(path).suffix.lstrip(".")).lower()
    if value not in allowed:
        msg = f"format should be one of {', '.join(allowed)}, got {value or '(no suffix)'!r}"
        raise ExportError(msg)
    return value


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------


def _metadata(page: RenderedPage, fmt: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    meta = {**page.metadata, **(extra or {})}
    keys = {"pdf": _PDF_KEYS, "svg": _SVG_KEYS, "png": _PNG_KEYS}[fmt]
    out = {keys[k]: v for k, v in meta.items() if k in keys and v}
    creator = f"planatlas {__version__}"
    if fmt == "pdf":
        out["Creator"] = creator
    elif fmt == "svg":
        out.setdefault("Creator", creator)
    else:
        out["Software"] = creator
    return out


def save_figure(page: RenderedPage, fh: IO[bytes], fmt: str, *, metadata: Mapping[str, str] | None = None) -> None:
    """Write one page to an open binary file in ``fmt`` (png, pdf, svg) at the figure's dpi."""
    from planatlas.render.fonts import rc_context  # noqa: PLC0415 - matplotlib only when a page is written

    fmt = format_of("", fmt, allowed=PAGE_FORMATS)
    drawn = page
    fig = drawn.figure
    with rc_context(drawn.rc):
        fig.savefig(fh, format=fmt, dpi=fig.dpi, facecolor="white", metadata=_metadata(drawn, fmt, metadata))


def figure_bytes(page: RenderedPage, fmt: str, *, metadata: Mapping[str, str] | None = None) -> bytes:
    """One page as bytes (for downloads and previews)."""
    buf = io.BytesIO()
    save_figure(page, buf, fmt, metadata=metadata)
    return buf.getvalue()


def write_figure(
    page: RenderedPage, path: str | Path, *, fmt: str | None = None, metadata: Mapping[str, str] | None = None
) -> Path:
    """Write one page to ``path`` (format from ``fmt`` or the suffix), atomically."""
    fmt = format_of(path, fmt, allowed=PAGE_FORMATS)
    return atomic_write(path, lambda fh: save_figure(page, fh, fmt, metadata=metadata))


def save_pdf_pages(pages: Iterable[RenderedPage], fh: IO[bytes], *, metadata: Mapping[str, str] | None = None) -> int:
    """Write pages into one PDF on an open file; returns the number of pages.

    Raises
    ------
    ExportError
        If there are no pages.
    """
    from matplotlib.backends.backend_pdf import PdfPages  # noqa: PLC0415 - matplotlib only when a page is written

    from planatlas.render.fonts import rc_context  # noqa: PLC0415 - matplotlib only when a page is written

    count = 0
    pdf: PdfPages | None = None
    try:
        for page in pages:
            drawn = page
            with rc_context(drawn.rc):
                if pdf is None:
                    pdf = PdfPages(fh, metadata=_metadata(drawn, "pdf", metadata))
                pdf.savefig(drawn.figure, facecolor="white")  # type: ignore[no-untyped-call]  # not annotated in matplotlib
            count += 1
    finally:
        if pdf is not None:
            with rc_context({"pdf.fonttype": 42}):
                pdf.close()  # type: ignore[no-untyped-call]  # not annotated in matplotlib
    if count == 0:
        msg = "no pages to write: the series has no units"
        raise ExportError(msg)
    return count


def pdf_pages_bytes(pages: Iterable[RenderedPage], *, metadata: Mapping[str, str] | None = None) -> tuple[bytes, int]:
    """Pages as one PDF in memory (for downloads) and the page count."""
    buf = io.BytesIO()
    count = save_pdf_pages(pages, buf, metadata=metadata)
    return buf.getvalue(), count


def write_pdf_pages(
    pages: Iterable[RenderedPage], path: str | Path, *, metadata: Mapping[str, str] | None = None
) -> int:
    """Write pages (e.g. a map series) into one PDF atomically; returns the page count."""
    format_of(path, "pdf", allowed=("pdf",))
    counts: list[int] = []
    atomic_write(path, lambda fh: counts.append(save_pdf_pages(pages, fh, metadata=metadata)))
    return counts[0]


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
        if ref.startswith(("data:", "#")):
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


def standalone_html(m: folium.Map | str, *, asset_dirs: Sequence[str | Path] | None = None) -> str:
    """The full HTML of a folium map (or an HTML string) with every asset inlined."""
    html = m if isinstance(m, str) else str(m.get_root().render())
    return inline_assets(html, asset_dirs=asset_dirs)


def write_html(m: folium.Map | str, path: str | Path, *, asset_dirs: Sequence[str | Path] | None = None) -> Path:
    """Write a folium map as one self-contained HTML file that opens offline, atomically."""
    data = standalone_html(m, asset_dirs=asset_dirs).encode("utf-8")

    def write(fh: IO[bytes]) -> None:
        fh.write(data)

    return atomic_write(path, write)
