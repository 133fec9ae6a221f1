"""Shared fixtures: the bundled atlas built once per session, tiny geodata trees, CI rules."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# One throwaway PostGIS cluster per session, shared by every module that asks for it.
from conftest_postgis import postgis_url  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
GEODATA = REPO / "geodata"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def skip_unless_available(reason: str) -> None:
    """Skip on a laptop that lacks an optional system tool; fail under CI=true, where it must exist."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must not skip; .ci/run installs it)")
    pytest.skip(reason)


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
