"""The Import page without a browser (AppTest): read-only without an editor, the password asked and a
wrong one refused (nothing written, attempts limited), the CLI that sets it."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from planatlas.cli.main import cli
from planatlas.i18n import t
from planatlas.imports.editor import check_editor_password, set_editor_password

APP = Path(__file__).resolve().parents[1] / "app.py"
MINI = Path(__file__).parent / "data" / "mini"


@pytest.fixture
def page_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    import streamlit as st

    from planatlas.build import build_atlas
    from planatlas.store.gpkg import GeoPackageStore

    geodata = tmp_path / "geodata"
    shutil.copytree(MINI, geodata)
    build_atlas(geodata, GeoPackageStore(tmp_path / "atlas.gpkg"))
    paths = {"atlas": tmp_path / "atlas.gpkg", "config": tmp_path / "config", "overlay": tmp_path / "user_geodata"}
    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(paths["atlas"]))
    monkeypatch.setenv("PLANATLAS_GEODATA_DIR", str(geodata))
    monkeypatch.setenv("PLANATLAS_CONFIG_DIR", str(paths["config"]))
    monkeypatch.setenv("PLANATLAS_USER_GEODATA_DIR", str(paths["overlay"]))
    monkeypatch.setenv("PLANATLAS_LANGUAGE", "en")
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield paths
    st.cache_resource.clear()
    st.cache_data.clear()


def _page():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=120)
    app.session_state["pa_page"] = "imports"
    return app.run()


def test_imports_are_off_without_an_editor(page_env: dict[str, Path]) -> None:
    app = _page()
    assert not app.exception
    assert [i.value for i in app.info] == [t("import_off", "en")]
    assert not app.text_input  # no password field, no form to fill


def test_a_wrong_password_is_refused_and_attempts_are_limited(page_env: dict[str, Path]) -> None:
    set_editor_password(page_env["config"], "the right one")
    before = hashlib.sha256(page_env["atlas"].read_bytes()).hexdigest()
    app = _page()
    for _ in range(5):
        app.text_input(key="pa_editor_password").input("guess")
        app.button[0].click().run()
        assert [e.value for e in app.error] == [t("import_wrong_password", "en")]
    app.text_input(key="pa_editor_password").input("the right one")
    app.button[0].click().run()
    # the sixth attempt within the window is not even checked, although it is right
    assert app.error and "Too many wrong passwords" in app.error[0].value
    assert hashlib.sha256(page_env["atlas"].read_bytes()).hexdigest() == before
    assert not page_env["overlay"].exists()
    fresh = _page()  # another session may try
    fresh.text_input(key="pa_editor_password").input("the right one")
    fresh.button[0].click().run()
    assert not fresh.error, [e.value for e in fresh.error]
    assert [s.value for s in fresh.success] == [t("import_unlocked", "en")]


def test_editor_set_password_from_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANATLAS_CONFIG_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["editor", "set-password"], input="a long secret\na long secret\n")
    assert result.exit_code == 0, result.output
    assert check_editor_password(tmp_path, "a long secret")
    assert not check_editor_password(tmp_path, "a long secreT")
    short = CliRunner().invoke(cli, ["editor", "set-password"], input="short\nshort\n")
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    assert CliRunner().invoke(cli, ["editor", "clear"]).exit_code == 0
    assert not check_editor_password(tmp_path, "a long secret")
