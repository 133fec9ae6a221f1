"""A missing or damaged atlas: one clear message and exit code from the CLI, never a traceback or a silent rebuild."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from planatlas.cli.options import EXIT_NOT_FOUND
from planatlas.errors import AtlasNotBuiltError, AtlasUnreadableError, PlanAtlasError
from planatlas.store.gpkg import GeoPackageStore

#: The small valid geodata tree (read only here: builds never write into their source).
MINI = Path(__file__).parent / "data" / "mini"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def mini_atlas_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The tests/data/mini geodata built once: the bytes of a good atlas to break."""
    from planatlas.build import build_atlas

    path = tmp_path_factory.mktemp("good") / "atlas.gpkg"
    build_atlas(MINI, GeoPackageStore(path))
    return path.read_bytes()


def _no_metadata_gpkg(path: Path) -> None:
    """A valid GeoPackage that is not a planatlas atlas (no planatlas_metadata table)."""
    import geopandas as gpd
    from shapely.geometry import Point

    gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(115.9, 28.7)], crs="EPSG:4490").to_file(path, driver="GPKG")


#: How an atlas gets damaged: each writes ``path`` from the good atlas' bytes.
DAMAGES = {
    "zero bytes": lambda path, good: path.write_bytes(b""),
    "not SQLite": lambda path, good: path.write_bytes(b"this is not a GeoPackage\n" * 100),
    "truncated": lambda path, good: path.write_bytes(good[: len(good) // 2]),
    "header only": lambda path, good: path.write_bytes(good[:4096]),
    "no metadata table": lambda path, good: _no_metadata_gpkg(path),
}


@pytest.fixture(params=list(DAMAGES))
def damaged_atlas(request: pytest.FixtureRequest, tmp_path: Path, mini_atlas_bytes: bytes) -> Path:
    path = tmp_path / "atlas.gpkg"
    DAMAGES[request.param](path, mini_atlas_bytes)
    return path


def test_the_store_raises_a_located_atlas_damaged_error(damaged_atlas):
    store = GeoPackageStore(damaged_atlas)
    for call in (store.metadata, store.layers, lambda: store.read("sites")):
        with pytest.raises(AtlasUnreadableError) as info:
            call()
        assert isinstance(info.value, PlanAtlasError) and isinstance(info.value, OSError)
        assert str(damaged_atlas) in str(info.value) and "planatlas build" in str(info.value)


def test_a_layer_table_unreadable_behind_good_metadata_is_damaged(tmp_path, mini_atlas_bytes):
    """Metadata still readable, a layer's table gone: the read names the layer, not GDAL's error."""
    import sqlite3

    path = tmp_path / "atlas.gpkg"
    path.write_bytes(mini_atlas_bytes)
    with sqlite3.connect(path) as con:
        # GDAL warns of a table listed but absent: delist it too, so only the read fails
        for table in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions", "gpkg_ogr_contents"):
            con.execute(f"DELETE FROM {table} WHERE lower(table_name) = 'sites'")  # noqa: S608 - fixed names
        con.execute("DROP TABLE sites")
    store = GeoPackageStore(path)
    assert "sites" in store.layers()
    with pytest.raises(AtlasUnreadableError, match="layer 'sites' is unreadable"):
        store.read("sites")


def _reading_commands(tmp_path: Path) -> dict[str, list[str]]:
    """Every command that reads the atlas, with arguments valid for the mini atlas."""
    areas = MINI / "sources" / "areas.geojson"
    return {
        "layers": ["layers"],
        "info": ["info", "sites"],
        "dump": ["dump", "sites", "-o", str(tmp_path / "out" / "sites.csv")],
        "query within": ["query", "within", "--layer", "sites", "--of", "areas", "--distance", "1km"],
        "query nearest": ["query", "nearest", "--layer", "sites", "--of", "areas"],
        "query summarize": ["query", "summarize", "--layer", "sites", "--by", "areas"],
        "reconcile": ["reconcile", "jiuwang"],
        "validate --within": ["validate", str(areas), "--crs", "EPSG:4490", "--within", "areas"],
        "export": ["export", "one-belt-four-zones", "-o", str(tmp_path / "out" / "map.html")],
        "export-series": ["export-series", "one-belt-four-zones", "--by", "streets", "-o", str(tmp_path / "s.pdf")],
    }


@pytest.mark.parametrize("command", list(_reading_commands(Path())))
def test_cli_on_a_damaged_atlas_says_rebuild_and_leaves_it_alone(run, damaged_atlas, tmp_path, command):
    """Truncated, empty, not SQLite or not an atlas: exit 4, the file named, no traceback, no rebuild."""
    before = _sha256(damaged_atlas)
    result = run(*_reading_commands(tmp_path)[command])
    assert result.exit_code == EXIT_NOT_FOUND, result.output
    assert "cannot be read" in result.output and "damaged or not a planatlas GeoPackage" in result.output
    assert str(damaged_atlas) in result.output and "Rebuild it with 'planatlas build'" in result.output
    assert "Traceback" not in result.output
    assert _sha256(damaged_atlas) == before  # export and app never replace what they cannot read
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [c for c in _reading_commands(Path()) if not c.startswith("export")])
def test_cli_on_a_deleted_atlas_says_build_it(run, tmp_path, mini_atlas_bytes, command):
    atlas = tmp_path / "atlas.gpkg"
    atlas.write_bytes(mini_atlas_bytes)
    assert run("layers").exit_code == 0
    atlas.unlink()
    result = run(*_reading_commands(tmp_path)[command])
    assert result.exit_code == EXIT_NOT_FOUND, result.output
    assert f"no atlas at {atlas}; run 'planatlas build' first" in result.output
    assert "Traceback" not in result.output


def test_the_app_command_refuses_a_damaged_atlas_before_serving(run, damaged_atlas, monkeypatch):
    served: list[object] = []
    # never start a server here, even when the check regresses
    monkeypatch.setattr("planatlas.cli.serve.subprocess.call", lambda *a, **k: served.append(a) or 0)
    before = _sha256(damaged_atlas)
    result = run("app", "--port", "1")
    assert served == []
    assert result.exit_code == EXIT_NOT_FOUND and "Traceback" not in result.output
    assert "damaged or not a planatlas GeoPackage" in result.output and _sha256(damaged_atlas) == before


def test_build_replaces_a_damaged_atlas(run, damaged_atlas):
    """The way out the message names works on every kind of damage."""
    assert run("build", "--source", str(MINI)).exit_code == 0
    assert GeoPackageStore(damaged_atlas).layers() == ["areas", "indicators", "sites"]


def test_a_missing_atlas_is_not_built_error_not_damaged(tmp_path):
    with pytest.raises(AtlasNotBuiltError):
        GeoPackageStore(tmp_path / "nowhere.gpkg").metadata()
