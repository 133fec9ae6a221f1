"""Vendored browser assets (Leaflet) served from the installed package, never from a CDN.

The files under ``planatlas/static/vendor/`` come unmodified from registry packages (npm tarballs
fetched with ``npm pack``); ``manifest.json`` records each package's version, licence, registry
integrity hash and the sha256 of every file copied. They are committed, so ``pip install -e .``
(or a wheel) carries them; ``python -m planatlas.render.assets refresh`` re-fetches them with
``npm pack`` and rewrites the manifest, and ``python -m planatlas.render.assets verify`` checks
the files against it.

Maps reference the assets either inline (``data:`` URIs, used for Streamlit's component iframe
and for self-contained HTML files) or at a URL prefix where ``STATIC_DIR`` is served.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from functools import lru_cache
from pathlib import Path

from planatlas.errors import AssetError

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
MANIFEST = VENDOR_DIR / "manifest.json"

#: npm packages vendored, and the files copied from each tarball (``package/`` prefix dropped).
PACKAGES: dict[str, dict[str, object]] = {
    "leaflet": {
        "version": "1.9.4",
        "license": "BSD-2-Clause",
        "files": [
            "dist/leaflet.js",
            "dist/leaflet.css",
            "dist/images/layers.png",
            "dist/images/layers-2x.png",
            "dist/images/marker-icon.png",
            "dist/images/marker-icon-2x.png",
            "dist/images/marker-shadow.png",
            "LICENSE",
        ],
    },
}

#: What a map page loads, in order: (name, path relative to STATIC_DIR).
MAP_JS = (("leaflet", "vendor/leaflet/leaflet.js"),)
MAP_CSS = (("leaflet_css", "vendor/leaflet/leaflet.css"), ("planatlas_css", "planatlas.css"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _dest(package: str, member: str) -> Path:
    rel = member.removeprefix("dist/")
    return VENDOR_DIR / package / rel


def verify_assets() -> dict[str, str]:
    """Check every vendored file against ``manifest.json``; return ``{relative path: sha256}``."""
    if not MANIFEST.is_file():
        msg = f"{MANIFEST} is missing; run: python -m planatlas.render.assets refresh"
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
        msg = "; ".join(problems) + "; run: python -m planatlas.render.assets refresh"
        raise AssetError(msg)
    return checked


def refresh_assets(*, npm: str = "npm") -> dict[str, object]:
    """Fetch each package with ``npm pack`` from the npm registry, copy its files, write the manifest."""
    if shutil.which(npm) is None:
        msg = f"{npm!r} not found; install Node.js/npm to refresh the vendored assets"
        raise AssetError(msg)
    manifest: dict[str, object] = {"source": "npm registry via `npm pack`", "packages": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for package, spec in PACKAGES.items():
            ref = f"{package}@{spec['version']}"
            out = subprocess.run(  # noqa: S603 - fixed argv, no shell
                [npm, "pack", ref, "--json"], cwd=tmp, check=True, capture_output=True, text=True
            )
            info = json.loads(out.stdout)[0]
            tarball = Path(tmp) / info["filename"]
            integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
            if integrity != info["integrity"]:
                msg = f"{ref}: tarball integrity {integrity} differs from npm's {info['integrity']}"
                raise AssetError(msg)
            files: dict[str, str] = {}
            with tarfile.open(tarball) as tar:
                for member in spec["files"]:  # type: ignore[attr-defined]
                    data = tar.extractfile(f"package/{member}")
                    if data is None:
                        msg = f"{ref}: {member} not in the tarball"
                        raise AssetError(msg)
                    dest = _dest(package, member)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(data.read())
                    files[str(dest.relative_to(VENDOR_DIR / package))] = _sha256(dest)
            manifest["packages"][package] = {  # type: ignore[index]
                "version": spec["version"],
                "license": spec["license"],
                "integrity": info["integrity"],
                "files": files,
            }
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


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
        return f"url({_data_uri(img, 'image/png')})" if img.is_file() else m.group(0)

    return _URL_RE.sub(sub, text)


@lru_cache(maxsize=8)
def asset_data_uri(rel: str) -> str:
    """A ``data:`` URI of ``STATIC_DIR/rel`` (CSS with its images inlined)."""
    if rel.endswith(".css"):
        css = inline_css(rel).encode("utf-8")
        return "data:text/css;base64," + base64.b64encode(css).decode()
    return _data_uri(STATIC_DIR / rel, "text/javascript")


def map_assets(base_url: str | None = None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(js, css) lists of ``(name, url)`` for a map page: inline when ``base_url`` is None."""
    for _, rel in (*MAP_JS, *MAP_CSS):
        if not (STATIC_DIR / rel).is_file():
            msg = f"{STATIC_DIR / rel} is missing; run: python -m planatlas.render.assets refresh"
            raise AssetError(msg)
    if base_url is None:
        return (
            [(n, asset_data_uri(r)) for n, r in MAP_JS],
            [(n, asset_data_uri(r)) for n, r in MAP_CSS],
        )
    base = base_url.rstrip("/")
    return ([(n, f"{base}/{r}") for n, r in MAP_JS], [(n, f"{base}/{r}") for n, r in MAP_CSS])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["refresh"]:
        manifest = refresh_assets()
        print(json.dumps(manifest, indent=2))
        return 0
    if args == ["verify"]:
        for rel, digest in verify_assets().items():
            print(f"ok {digest[:12]} {rel}")
        return 0
    print("usage: python -m planatlas.render.assets refresh|verify")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
