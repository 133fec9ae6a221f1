"""Vendor the map's browser assets (Leaflet, Leaflet.draw) into the source tree: a packaging-time developer script.

Fetches each npm package with ``npm pack``, checks the tarball against the registry's integrity
hash, copies the listed files unmodified into ``src/planatlas/static/vendor/<package>/`` and
rewrites ``manifest.json`` (version, licence, integrity, sha256 of every file). Run it from a
source checkout when a vendored version changes, then commit the result::

    python tools/vendor_assets.py

The installed package only reads and verifies these files (``planatlas.render.assets``); it never
runs npm or writes into itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parents[1] / "src" / "planatlas" / "static" / "vendor"
MANIFEST = VENDOR_DIR / "manifest.json"


@dataclass(frozen=True)
class NpmPackage:
    """An npm package to vendor and the tarball members copied from it (``package/`` prefix dropped)."""

    name: str
    version: str
    license: str
    files: tuple[str, ...]


PACKAGES = (
    NpmPackage(
        name="leaflet",
        version="1.9.4",
        license="BSD-2-Clause",
        files=(
            "dist/leaflet.js",
            "dist/leaflet.css",
            "dist/images/layers.png",
            "dist/images/layers-2x.png",
            "dist/images/marker-icon.png",
            "dist/images/marker-icon-2x.png",
            "dist/images/marker-shadow.png",
            "LICENSE",
        ),
    ),
    # Vector tiles (MVT) drawn on canvas, for layers above a few thousand features. The bundled build
    # includes its decoders (pbf, @mapbox/vector-tile: BSD-3-Clause); the package has no LICENSE file,
    # its package.json declares the licence and README.md carries the notice.
    NpmPackage(
        name="leaflet.vectorgrid",
        version="1.3.0",
        license="Beerware (bundles pbf and @mapbox/vector-tile, BSD-3-Clause)",
        files=("dist/Leaflet.VectorGrid.bundled.min.js", "README.md", "package.json"),
    ),
    # The map's draw tools (query by a drawn rectangle, polygon or circle; measure a line or area).
    # The tarball has no LICENSE file: package.json carries the MIT licence declaration.
    NpmPackage(
        name="leaflet-draw",
        version="1.0.4",
        license="MIT",
        files=(
            "dist/leaflet.draw.js",
            "dist/leaflet.draw.css",
            "dist/images/spritesheet.png",
            "dist/images/spritesheet-2x.png",
            "dist/images/spritesheet.svg",
            "package.json",
        ),
    ),
)


class VendorError(RuntimeError):
    """npm is missing, or a tarball is not what the registry says it is."""


def _pack(package: NpmPackage, workdir: Path, npm: str) -> tuple[Path, str]:
    """``npm pack`` one package into ``workdir``; return the tarball and its checked integrity."""
    ref = f"{package.name}@{package.version}"
    out = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [npm, "pack", ref, "--json"], cwd=workdir, check=True, capture_output=True, text=True
    )
    info = json.loads(out.stdout)[0]
    tarball = workdir / info["filename"]
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if integrity != info["integrity"]:
        msg = f"{ref}: tarball integrity {integrity} differs from npm's {info['integrity']}"
        raise VendorError(msg)
    return tarball, integrity


def _copy_files(package: NpmPackage, tarball: Path) -> dict[str, str]:
    """Copy the package's listed members; return ``{path under vendor/<package>: sha256}``."""
    files: dict[str, str] = {}
    with tarfile.open(tarball) as tar:
        for member in package.files:
            data = tar.extractfile(f"package/{member}")
            if data is None:
                msg = f"{package.name}@{package.version}: {member} not in the tarball"
                raise VendorError(msg)
            rel = member.removeprefix("dist/")
            dest = VENDOR_DIR / package.name / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            content = data.read()
            dest.write_bytes(content)
            files[rel] = hashlib.sha256(content).hexdigest()
    return files


def vendor_assets(*, npm: str = "npm") -> dict[str, object]:
    """Fetch every package in :data:`PACKAGES`, copy its files and write the manifest; return it."""
    if shutil.which(npm) is None:
        msg = f"{npm!r} not found; install Node.js/npm to refresh the vendored assets"
        raise VendorError(msg)
    packages: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for package in PACKAGES:
            tarball, integrity = _pack(package, Path(tmp), npm)
            packages[package.name] = {
                "version": package.version,
                "license": package.license,
                "integrity": integrity,
                "files": _copy_files(package, tarball),
            }
    manifest: dict[str, object] = {"source": "npm registry via `npm pack`", "packages": packages}
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


if __name__ == "__main__":
    sys.stdout.write(json.dumps(vendor_assets(), indent=2) + "\n")
