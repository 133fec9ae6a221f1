"""Vendored browser assets (Leaflet, Leaflet.draw) served from the installed package, never from a CDN: paths, check, inline data.

The files under ``planatlas/static/vendor/`` come unmodified from registry packages (npm tarballs);
``manifest.json`` records each package's version, licence, registry integrity hash and the sha256
of every file copied. They are committed, so ``pip install -e .`` (or a wheel) carries them. They
are produced at packaging time by the developer script ``tools/vendor_assets.py``; nothing here
writes into the package. ``python -m planatlas.render.assets verify`` checks the files against the
manifest.

Maps reference the assets either inline (``data:`` URIs, used for Streamlit's component iframe
and for self-contained HTML files) or at a URL prefix where ``STATIC_DIR`` is served.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
from functools import lru_cache
from pathlib import Path

from planatlas.errors import AssetError

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
MANIFEST = VENDOR_DIR / "manifest.json"
#: What to run, in a source checkout, when the vendored files are missing or differ.
REFRESH_HINT = "run, in a source checkout: python tools/vendor_assets.py"

#: What a map page loads, in order: (name, path relative to STATIC_DIR).
MAP_JS = (("leaflet", "vendor/leaflet/leaflet.js"),)
MAP_CSS = (("leaflet_css", "vendor/leaflet/leaflet.css"), ("planatlas_css", "planatlas.css"))
#: What the draw and measure tools add (Leaflet.draw), loaded after Leaflet.
DRAW_JS = (("leaflet_draw_js", "vendor/leaflet-draw/leaflet.draw.js"),)
DRAW_CSS = (("leaflet_draw_css", "vendor/leaflet-draw/leaflet.draw.css"),)
_MIME = {".png": "image/png", ".svg": "image/svg+xml"}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify_assets() -> dict[str, str]:
    """Check every vendored file against ``manifest.json``.

    Returns
    -------
    ``{"<package>/<relative path>": sha256}`` of every file checked.

    Raises
    ------
    AssetError
        Naming every missing or changed file at once.
    """
    if not MANIFEST.is_file():
        msg = f"{MANIFEST} is missing; {REFRESH_HINT}"
        raise AssetError(msg)
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    checked: dict[str, str] = {}
    problems = []
    for package, entry in manifest["packages"].items():
        for rel, digest in entry["files"].items():
            path = VENDOR_DIR / package / rel
            if not path.is_file():
                problems.append(f"{path} is missing")
            elif _sha256(path) != digest:
                problems.append(f"{path} differs from the manifest (sha256)")
            else:
                checked[f"{package}/{rel}"] = digest
    if problems:
        msg = "; ".join(problems) + f"; {REFRESH_HINT}"
        raise AssetError(msg)
    return checked


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


_URL_RE = re.compile(r"url\((['\"]?)(images/[^)'\"]+)\1\)")


@lru_cache(maxsize=8)
def inline_css(rel: str) -> str:
    """CSS text of ``STATIC_DIR/rel`` with its relative ``url(images/…)`` inlined as data URIs."""
    path = STATIC_DIR / rel
    text = path.read_text(encoding="utf-8")

    def sub(m: re.Match[str]) -> str:
        img = path.parent / m.group(2)
        mime = _MIME.get(img.suffix, "application/octet-stream")
        return f"url({_data_uri(img, mime)})" if img.is_file() else m.group(0)

    return _URL_RE.sub(sub, text)


@lru_cache(maxsize=8)
def asset_data_uri(rel: str) -> str:
    """A ``data:`` URI of ``STATIC_DIR/rel`` (CSS with its images inlined)."""
    if rel.endswith(".css"):
        css = inline_css(rel).encode("utf-8")
        return "data:text/css;base64," + base64.b64encode(css).decode()
    return _data_uri(STATIC_DIR / rel, "text/javascript")


def map_assets(
    base_url: str | None = None, *, draw: bool = False
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(js, css) lists of ``(name, url)`` for a map page: inline when ``base_url`` is None.

    ``draw`` adds Leaflet.draw (the draw and measure tools) after Leaflet.
    """
    js, css = (*MAP_JS, *DRAW_JS) if draw else MAP_JS, (*MAP_CSS, *DRAW_CSS) if draw else MAP_CSS
    for _, rel in (*js, *css):
        if not (STATIC_DIR / rel).is_file():
            msg = f"{STATIC_DIR / rel} is missing; {REFRESH_HINT}"
            raise AssetError(msg)
    if base_url is None:
        return ([(n, asset_data_uri(r)) for n, r in js], [(n, asset_data_uri(r)) for n, r in css])
    base = base_url.rstrip("/")
    return ([(n, f"{base}/{r}") for n, r in js], [(n, f"{base}/{r}") for n, r in css])


def main(argv: list[str] | None = None) -> int:
    """``python -m planatlas.render.assets verify``: check the vendored files, one line per file."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["verify"]:
        sys.stderr.write("usage: python -m planatlas.render.assets verify\n")
        return 2
    for rel, digest in verify_assets().items():
        sys.stdout.write(f"ok {digest[:12]} {rel}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
