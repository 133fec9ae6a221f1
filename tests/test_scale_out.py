"""Scale-out on one PostGIS: two app processes show the same atlas, and a layer written to it appears in both.

Nothing that matters lives in one app process: the atlas (data, metadata, version) is in PostGIS,
each process notices a new build through the metadata stamp, and each process's tile server cuts
the same tiles from the same tables. Checked on loopback with two ``streamlit run app.py``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from planatlas.store.postgis import PostGISStore
from test_postgis import generated_atlas

pytestmark = pytest.mark.postgis


def test_two_app_processes_on_one_postgis_see_the_same_new_layer(postgis_url, tmp_path: Path) -> None:
    from streamlit_session import ProtocolSession, serve_app

    # The app opens the store at its default schema (``planatlas``), as a deployment would.
    layers, meta = generated_atlas(seed=9, n=300)
    first = {k: v for k, v in layers.items() if k != "streets"}
    first_meta = {**meta, "layers": {k: v for k, v in meta["layers"].items() if k != "streets"}}
    store = PostGISStore(postgis_url)
    store.write(first, first_meta)
    env = {"PLANATLAS_DATABASE_URL": postgis_url, "PLANATLAS_TILED_ABOVE": "100"}

    async def view(server, query: str):
        async with ProtocolSession(server, timeout=90) as session:
            return await session.view(query)

    try:
        with (
            serve_app(tmp_path / "a.gpkg", tmp_path / "a.log", env=env) as app_a,
            serve_app(tmp_path / "b.gpkg", tmp_path / "b.log", env=env) as app_b,
        ):
            for server in (app_a, app_b):
                shown = asyncio.run(view(server, "page=atlas&layer=buildings"))
                assert shown.complete, shown.errors
                missing = asyncio.run(view(server, "page=atlas&layer=streets"))
                assert any("streets" in e for e in missing.errors), missing.errors
            store.write(layers, {**meta, "built_at": "scale-out-2"})  # a rebuild with one more layer
            for server in (app_a, app_b):
                shown = asyncio.run(view(server, "page=atlas&layer=streets"))
                assert shown.complete, shown.errors
    finally:
        store.dispose()
