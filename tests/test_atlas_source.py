"""An atlas remembers what it was built from, and start-up and export rebuild only from that (issue 13, defect 1).

A bureau builds its own geodata (``planatlas build --source DIR``); ``planatlas export``, ``planatlas app``
and the app's start-up (:func:`planatlas.build.ensure_atlas`) must never put the bundled atlas in its place.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import GEODATA, REPO
from planatlas.build import build_atlas, ensure_atlas
from planatlas.cli.main import cli
from planatlas.errors import AtlasUnreadableError
from planatlas.settings import BUNDLED_GEODATA, Settings
from planatlas.store.gpkg import GeoPackageStore

MINI_LAYERS = ["areas", "indicators", "sites"]
BUREAU_LAYER = "bureau_indicators"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _layer_names(output: str) -> list[str]:
    """The first column of ``planatlas layers`` output (below the header and its rule)."""
    return [line.split()[0] for line in output.splitlines()[2:] if line.strip()]


@pytest.fixture
def bureau_geodata(tmp_path: Path) -> Path:
    """A bureau's geodata: the bundled tree plus one layer the bundled tree does not have."""
    root = tmp_path / "bureau_geodata"
    shutil.copytree(GEODATA, root)
    text = (root / "layers" / "plan_indicators.toml").read_text(encoding="utf-8")
    extra = text.replace('name = "plan_indicators"', f'name = "{BUREAU_LAYER}"', 1)
    assert extra != text
    (root / "layers" / f"{BUREAU_LAYER}.toml").write_text(extra, encoding="utf-8")
    return root


@pytest.fixture
def gpkg_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``PLANATLAS_*`` pointing the CLI at a fresh GeoPackage path and the bundled geodata."""
    atlas = tmp_path / "atlas" / "atlas.gpkg"
    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(atlas))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLANATLAS_GEODATA_DIR", raising=False)
    return atlas


def test_the_atlas_records_the_directory_and_checksums_it_was_built_from(mini_geodata, bundled_atlas, tmp_path):
    store = GeoPackageStore(tmp_path / "a.gpkg")
    build_atlas(mini_geodata, store)
    source = store.metadata()["source"]
    assert source["geodata_dir"] == str(mini_geodata.resolve())
    toml = mini_geodata / "layers" / "areas.toml"
    assert source["files"]["layers/areas.toml"] == _digest(toml)
    assert source["files"]["attributes/areas.csv"] == _digest(mini_geodata / "attributes" / "areas.csv")
    assert source["bundled"] is False
    assert source["not_bundled_layers"] == MINI_LAYERS

    bundled = bundled_atlas.metadata()["source"]
    assert bundled["geodata_dir"] == str(BUNDLED_GEODATA.resolve())
    assert bundled["bundled"] is True and bundled["not_bundled_layers"] == []


def test_a_copy_of_the_bundled_tree_names_only_its_own_layers_as_not_bundled(bureau_geodata, tmp_path):
    store = GeoPackageStore(tmp_path / "a.gpkg")
    build_atlas(bureau_geodata, store)
    source = store.metadata()["source"]
    assert source["bundled"] is False
    assert source["not_bundled_layers"] == [BUREAU_LAYER]


def test_export_the_app_and_layers_keep_a_bureau_atlas(bureau_geodata, gpkg_env, tmp_path):
    runner = CliRunner()
    built = runner.invoke(cli, ["build", "--source", str(bureau_geodata)])
    assert built.exit_code == 0, built.output
    before = _digest(gpkg_env)

    out = tmp_path / "map.html"
    exported = runner.invoke(cli, ["export", "one-belt-four-zones", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert out.is_file()
    assert _digest(gpkg_env) == before  # not rebuilt, let alone from the bundled geodata

    listed = runner.invoke(cli, ["layers"])
    assert listed.exit_code == 0, listed.output
    assert BUREAU_LAYER in _layer_names(listed.output)
    own = runner.invoke(cli, ["info", BUREAU_LAYER])
    assert f"built from: {bureau_geodata.resolve()} (own geodata; this layer is not in the bundled" in own.output
    same = runner.invoke(cli, ["info", "plan_indicators"])
    assert "(own geodata; this layer is as in the bundled geodata)" in same.output

    # The app's start-up (app.py), with the settings it reads from the environment.
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()  # settings and atlas are cached per process: start as a fresh server would
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    app.run()
    assert not app.exception, app.exception
    assert _digest(gpkg_env) == before
    assert BUREAU_LAYER in GeoPackageStore(gpkg_env).layers()


def test_ensure_atlas_rebuilds_only_from_the_recorded_source(mini_geodata, tmp_path, capsys):
    atlas = tmp_path / "a.gpkg"
    settings = Settings(atlas_path=atlas)  # geodata_dir: the bundled tree
    build_atlas(mini_geodata, GeoPackageStore(atlas))
    before = _digest(atlas)

    store = ensure_atlas(settings)
    assert _digest(atlas) == before
    assert store.layers() == MINI_LAYERS

    # The bureau edits its data: the atlas follows that directory, still not the bundled one.
    path = mini_geodata / "attributes" / "areas.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("北片", "北区"), encoding="utf-8")
    store = ensure_atlas(settings)
    assert _digest(atlas) != before
    assert store.layers() == MINI_LAYERS
    assert "北区" in store.read("areas")["name"].tolist()
    after_edit = _digest(atlas)

    # The directory is gone: the atlas is kept as it is, and stderr says why nothing was rebuilt.
    shutil.rmtree(mini_geodata)
    capsys.readouterr()
    store = ensure_atlas(settings)
    assert _digest(atlas) == after_edit
    assert store.layers() == MINI_LAYERS
    err = capsys.readouterr().err
    assert str(mini_geodata.resolve()) in err
    assert "no longer exists" in err and "kept as it is" in err
    assert "Traceback" not in err


def test_ensure_atlas_builds_from_the_settings_when_there_is_no_atlas(mini_geodata, tmp_path):
    settings = Settings(atlas_path=tmp_path / "a.gpkg", geodata_dir=mini_geodata)
    store = ensure_atlas(settings)
    assert store.layers() == MINI_LAYERS
    assert store.metadata()["source"]["geodata_dir"] == str(mini_geodata.resolve())


def test_ensure_atlas_leaves_an_imported_atlas_alone(bundled_build, tmp_path):
    """An atlas written without a geodata directory has nothing to be rebuilt from."""
    _, result = bundled_build
    metadata = {k: v for k, v in result.metadata.items() if k not in ("source", "geodata_dir")}
    store = GeoPackageStore(tmp_path / "a.gpkg")
    store.write(
        {"streets": result.layers["streets"]}, {**metadata, "layers": {"streets": metadata["layers"]["streets"]}}
    )
    before = _digest(store.path)
    assert ensure_atlas(Settings(atlas_path=store.path)).layers() == ["streets"]
    assert _digest(store.path) == before


def test_an_atlas_of_an_older_planatlas_follows_the_directory_it_names(mini_geodata, tmp_path):
    """Atlases built before the ``source`` record name their directory and the files each layer read."""
    store = GeoPackageStore(tmp_path / "a.gpkg")
    result = build_atlas(mini_geodata, store)
    legacy = {k: v for k, v in result.metadata.items() if k != "source"}
    store.write(result.layers, legacy)
    before = _digest(store.path)
    settings = Settings(atlas_path=store.path)
    assert ensure_atlas(settings).layers() == MINI_LAYERS
    assert _digest(store.path) == before

    path = mini_geodata / "attributes" / "areas.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("北片", "北区"), encoding="utf-8")
    store = ensure_atlas(settings)
    assert "北区" in store.read("areas")["name"].tolist()
    assert store.metadata()["source"]["geodata_dir"] == str(mini_geodata.resolve())

    # A relative directory cannot be found again: kept, and said so.
    store.write(result.layers, {**legacy, "geodata_dir": "geodata"})
    before = _digest(store.path)
    said: list[str] = []
    assert ensure_atlas(settings, notify=said.append).layers() == MINI_LAYERS
    assert _digest(store.path) == before
    assert len(said) == 1 and "built from geodata, a relative path" in said[0] and "kept as it is" in said[0]


def test_a_configured_geodata_dir_does_not_replace_an_atlas_built_elsewhere(mini_geodata, tmp_path):
    """``PLANATLAS_GEODATA_DIR`` builds a missing atlas; an existing one keeps its own directory, with a notice."""
    other = tmp_path / "other"
    shutil.copytree(mini_geodata, other)
    (other / "layers" / "indicators.toml").unlink()
    store = GeoPackageStore(tmp_path / "a.gpkg")
    build_atlas(mini_geodata, store)
    before = _digest(store.path)
    said: list[str] = []
    kept = ensure_atlas(Settings(atlas_path=store.path, geodata_dir=other), notify=said.append)
    assert kept.layers() == MINI_LAYERS
    assert _digest(store.path) == before
    assert len(said) == 1
    assert str(mini_geodata.resolve()) in said[0] and f"planatlas build --source {other}" in said[0]


def test_ensure_atlas_does_not_replace_an_unreadable_atlas(tmp_path):
    atlas = tmp_path / "a.gpkg"
    atlas.write_bytes(b"not a geopackage, but maybe a bureau's only copy")
    before = _digest(atlas)
    with pytest.raises(AtlasUnreadableError, match=r"a\.gpkg.*cannot be read.*planatlas build"):
        ensure_atlas(Settings(atlas_path=atlas))
    assert _digest(atlas) == before


def test_app_command_keeps_a_bureau_atlas(mini_geodata, gpkg_env, monkeypatch):
    import subprocess

    runner = CliRunner()
    built = runner.invoke(cli, ["build", "--source", str(mini_geodata)])
    assert built.exit_code == 0, built.output
    before = _digest(gpkg_env)
    launched: list[list[str]] = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, **_: launched.append(cmd) or 0)
    started = runner.invoke(cli, ["app", "--port", "8599"])
    assert started.exit_code == 0, started.output
    assert launched and "streamlit" in launched[0]
    assert _digest(gpkg_env) == before
    listed = runner.invoke(cli, ["layers"])
    assert _layer_names(listed.output) == MINI_LAYERS


@pytest.mark.postgis
def test_postgis_bureau_atlas_is_kept_and_follows_its_source(mini_geodata, postgis_url):
    import psycopg

    from planatlas.store.postgis import PostGISStore

    # A database of its own, so no other test's atlas shares the default schema.
    conninfo = postgis_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE DATABASE bureau_source")
    url = postgis_url.rsplit("/", 1)[0] + "/bureau_source"
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")

    runner = CliRunner()
    built = runner.invoke(cli, ["build", "--source", str(mini_geodata), "--db", url])
    assert built.exit_code == 0, built.output
    settings = Settings(database_url=url)
    with PostGISStore(url) as store:
        built_at = store.metadata()["built_at"]
    store = ensure_atlas(settings)
    try:
        assert store.layers() == MINI_LAYERS
        assert store.metadata()["built_at"] == built_at
    finally:
        store.dispose()
    listed = runner.invoke(cli, ["layers", "--db", url])
    assert listed.exit_code == 0, listed.output
    assert _layer_names(listed.output) == MINI_LAYERS

    path = mini_geodata / "attributes" / "areas.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("北片", "北区"), encoding="utf-8")
    store = ensure_atlas(settings)
    try:
        assert store.layers() == MINI_LAYERS
        assert "北区" in store.read("areas")["name"].tolist()
    finally:
        store.dispose()
