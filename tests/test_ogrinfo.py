"""The atlas GeoPackage opens cleanly in GDAL's ogrinfo (as QGIS would open it)."""

import shutil
import subprocess

from _ci import skip_unless_available


def test_ogrinfo_opens_atlas_without_warnings(bundled_atlas):
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        skip_unless_available("GDAL's ogrinfo is not installed (Debian: gdal-bin)")
    proc = subprocess.run(
        [ogrinfo, "-so", "-al", str(bundled_atlas.path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and "ERROR" not in proc.stderr
    for layer in bundled_atlas.layers():
        assert f"Layer name: {layer}" in proc.stdout
