"""The app on a missing or damaged atlas (AppTest, no browser): one message, no server path, and recovery without a restart."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from planatlas.i18n import t
from planatlas.ui import PAGES

APP = Path(__file__).resolve().parents[1] / "app.py"
MINI = Path(__file__).parent / "data" / "mini"


@pytest.fixture(scope="module")
def good_atlas(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The mini geodata built once: the bytes of a good atlas to break and restore."""
    from planatlas.build import build_atlas
    from planatlas.store.gpkg import GeoPackageStore

    path = tmp_path_factory.mktemp("good") / "atlas.gpkg"
    build_atlas(MINI, GeoPackageStore(path))
    return path.read_bytes()


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app pointed at ``tmp_path/atlas.gpkg`` and a copy of the mini geodata; caches emptied.

    Streamlit's caches live as long as the process, so the settings and store another test cached
    must not leak in.
    """
    import streamlit as st

    geodata = tmp_path / "bureau_geodata"
    shutil.copytree(MINI, geodata)
    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(tmp_path / "atlas.gpkg"))
    monkeypatch.setenv("PLANATLAS_GEODATA_DIR", str(geodata))
    monkeypatch.setenv("PLANATLAS_LANGUAGE", "en")
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield tmp_path / "atlas.gpkg"
    st.cache_resource.clear()
    st.cache_data.clear()


def _protos(node: object) -> Iterator[str]:
    """The text of every element the app drew (its protobuf), depth first."""
    proto = getattr(node, "proto", None)
    if proto is not None:
        yield str(proto)
    for child in getattr(node, "children", {}).values():
        yield from _protos(child)


def _app(page: str):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=120)
    app.session_state["pa_page"] = page
    return app


def _show(app, page: str):
    """Switch the sidebar to ``page`` (English labels) and run."""
    return app.radio(key="pa_page__en").set_value(page).run()


def _assert_unavailable(app, tmp_path: Path, *, missing: bool) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert [e.value for e in app.error] == [t("atlas_missing" if missing else "atlas_damaged", "en")]
    drawn = "\n".join(_protos(app._tree))
    assert str(tmp_path) not in drawn  # neither the atlas' nor the geodata's server path
    assert "Traceback" not in drawn and "pyogrio" not in drawn
    assert not app.dataframe  # the page itself is not drawn


def test_a_damaged_atlas_shows_one_message_on_every_page_and_the_rebuild_button_recovers(app_env, good_atlas):
    app_env.write_bytes(good_atlas[: len(good_atlas) // 2])
    app = _app("atlas").run()
    _assert_unavailable(app, app_env.parent, missing=False)
    for page in sorted(PAGES, key=lambda p: p == "data"):  # ending on the Data page, whose table shows the rebuild
        _assert_unavailable(_show(app, page), app_env.parent, missing=False)
    # a bureau's geodata directory: the button says which one, by name only
    [button] = app.button
    assert button.label == t("atlas_rebuild_dir", "en", dir="bureau\\_geodata")
    assert t("atlas_rebuild_hint", "en") in [c.value for c in app.caption]

    button.click().run()  # rebuilds from PLANATLAS_GEODATA_DIR, then reruns: no restart
    assert not app.exception and not app.error
    shown = app.dataframe[0].value
    assert set(shown.iloc[:, 0]) == {"areas", "indicators", "sites"}


def test_an_atlas_damaged_while_cached_is_dropped_and_a_restored_one_is_picked_up(app_env, good_atlas):
    app_env.write_bytes(good_atlas)
    app = _app("data").run()
    assert not app.exception and len(app.dataframe) >= 1
    app_env.write_bytes(b"not a GeoPackage\n" * 64)  # damaged under the running app
    _assert_unavailable(app.run(), app_env.parent, missing=False)
    _assert_unavailable(_show(app, "query"), app_env.parent, missing=False)
    app_env.write_bytes(good_atlas)  # restored from a backup, outside the app
    _show(app, "data")
    assert not app.exception and not app.error
    assert set(app.dataframe[0].value.iloc[:, 0]) == {"areas", "indicators", "sites"}


def test_an_atlas_deleted_while_cached_says_missing_then_is_rebuilt(app_env, good_atlas):
    app_env.write_bytes(good_atlas)
    app = _app("data").run()
    assert not app.exception
    app_env.unlink()
    _assert_unavailable(app.run(), app_env.parent, missing=True)
    app.run()  # start-up builds an absent atlas from PLANATLAS_GEODATA_DIR, as on first start
    assert not app.exception and not app.error
    assert app_env.is_file() and len(app.dataframe) >= 1


def test_a_layer_unreadable_behind_good_metadata_shows_the_message_not_a_traceback(app_env, good_atlas):
    import sqlite3

    app_env.write_bytes(good_atlas)
    with sqlite3.connect(app_env) as con:
        for table in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions", "gpkg_ogr_contents"):
            con.execute(f"DELETE FROM {table} WHERE lower(table_name) = 'areas'")  # noqa: S608 - fixed names
        con.execute("DROP TABLE areas")
    app = _app("data").run()
    assert not app.exception
    assert t("atlas_damaged", "en") in [e.value for e in app.error]
    assert str(app_env.parent) not in "\n".join(_protos(app._tree))


def test_the_bundled_atlas_offers_a_rebuild_from_the_bundled_data(app_env, good_atlas, monkeypatch):
    from planatlas.atlas_source import is_bundled
    from planatlas.settings import get_settings

    monkeypatch.delenv("PLANATLAS_GEODATA_DIR")
    assert is_bundled(get_settings().geodata_dir)
    app_env.write_bytes(b"")
    app = _app("export").run()
    _assert_unavailable(app, app_env.parent, missing=False)
    assert [b.label for b in app.button] == [t("atlas_rebuild_bundled", "en")]
