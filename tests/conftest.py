"""Shared fixtures: the bundled atlas built once per session, tiny geodata trees.

Fixture modules beside this file are loaded as plugins (``pytest_plugins``), so every test sees
their fixtures without importing them; ``tests`` is on the import path (``pythonpath`` in
pyproject.toml). What ``CI`` means is decided in ``_ci.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# One throwaway PostGIS cluster per session (fixture ``postgis_url``), shared by every module that asks for it.
pytest_plugins = ["conftest_postgis"]

REPO = Path(__file__).resolve().parents[1]
GEODATA = REPO / "geodata"


@pytest.fixture(scope="session")
def bundled_build(tmp_path_factory: pytest.TempPathFactory):
    """Build the bundled geodata once into a temporary GeoPackage; returns (store, BuildResult)."""
    from planatlas.build import build_atlas
    from planatlas.store.gpkg import GeoPackageStore

    store = GeoPackageStore(tmp_path_factory.mktemp("atlas") / "atlas.gpkg")
    result = build_atlas(GEODATA, store)
    return store, result


@pytest.fixture(scope="session")
def bundled_atlas(bundled_build):
    """The bundled atlas as a GeoPackageStore (built once per session)."""
    return bundled_build[0]


@pytest.fixture
def mini_geodata(tmp_path: Path) -> Path:
    """A copy of the small valid geodata tree in tests/data/mini, safe to break."""
    target = tmp_path / "geodata"
    shutil.copytree(REPO / "tests" / "data" / "mini", target)
    return target


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Invoke the ``planatlas`` CLI on ``tmp_path/atlas.gpkg``; exceptions it does not turn into a message propagate."""
    from click.testing import CliRunner

    from planatlas.cli.main import cli

    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(tmp_path / "atlas.gpkg"))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke
