"""The app under concurrent sessions: every page completes without an error.

Sessions speak Streamlit's websocket protocol (``tests/streamlit_session.py``), no browser. No
timing is asserted here; the timings, CPU per page view and RSS are ``bench/bench_load.py``'s.
"""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
import sys

import pytest
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from streamlit_session import REPO, PageView, app_errors, serve_app, view_pages

#: One session per query, all at once: three presets (one with a parameter) and two other pages.
QUERIES = [
    "preset=one-belt-four-zones",
    "preset=jiuwang-roads&phase=2022",
    "preset=metro&lang=en",
    "page=data",
    "page=query",
]


def _assert_is_a_whole_map(args: dict) -> None:
    """The map streamlit-folium sends: its script, the vendored assets served by the app, the map CSS."""
    assert "L.map(" in args["script"] and "L.geoJson(" in args["script"], args["script"][:500]
    assert any(link.endswith("vendor/leaflet/leaflet.js") for link in args["js_links"]), args["js_links"]
    assert any(link.endswith("planatlas.css") for link in args["css_links"]), args["css_links"]
    assert not any(link.startswith(("http:", "https:", "//")) for link in args["js_links"] + args["css_links"])


def _failures(views: list[PageView]) -> list[str]:
    return [f"{v.query}: finished={v.finished}, errors={v.errors}" for v in views if not v.complete]


@pytest.mark.slow
def test_concurrent_sessions_all_complete_their_pages(bundled_atlas, tmp_path):
    atlas = tmp_path / "atlas.gpkg"
    shutil.copyfile(bundled_atlas.path, atlas)
    with serve_app(atlas, tmp_path / "streamlit.log", timeout=60) as server:
        views = asyncio.run(view_pages(server, QUERIES, timeout=60))
        log = (tmp_path / "streamlit.log").read_text()
    assert [v.query for v in views] == QUERIES
    assert not _failures(views), _failures(views)
    for view in views:
        if view.query.startswith("preset="):
            assert view.elements["component_instance"] == 1, (view.query, view.elements)
            _assert_is_a_whole_map(json.loads(view.components["streamlit_folium.st_folium"]))
        else:
            assert view.elements["dataframe"] + view.elements["selectbox"] >= 1, (view.query, view.elements)
    assert "Traceback" not in log, log[-3000:]


def test_a_page_with_an_exception_or_error_is_not_complete():
    """The client counts the app's failures: an exception element, an error alert, a missing page."""
    exception = ForwardMsg()
    exception.delta.new_element.exception.type = "ValueError"
    exception.delta.new_element.exception.message = "boom"
    alert = ForwardMsg()
    alert.delta.new_element.alert.body = "the atlas is damaged"
    alert.delta.new_element.alert.format = Alert.ERROR
    warning = ForwardMsg()
    warning.delta.new_element.alert.body = "schematic"
    warning.delta.new_element.alert.format = Alert.WARNING
    missing = ForwardMsg()
    missing.page_not_found.page_name = "nowhere"
    assert app_errors(exception) == ["exception ValueError: boom"]
    assert app_errors(alert) == ["error shown: the atlas is damaged"]
    assert app_errors(warning) == []
    assert app_errors(missing) == ["page not found: 'nowhere'"]
    assert not PageView("x", finished=True, errors=["exception ValueError: boom"]).complete
    assert not PageView("x", finished=False).complete
    assert PageView("x", finished=True).complete


def _frozen(obj: object) -> bool:
    """Whether the collector tracks ``obj`` but no generation it scans holds it (``gc.freeze`` moved it)."""
    return gc.is_tracked(obj) and all(o is not obj for o in gc.get_objects())


def test_pages_take_the_loaded_heap_out_of_the_collectors_scans(bundled_atlas, monkeypatch, tmp_path):
    """Streamlit's full collection after every run must not rescan the libraries and the atlas caches.

    The first page freezes what is loaded; a later page that imports more (a classified map loads
    mapclassify's scikit-learn) freezes again, and a page that imports nothing new does not.
    """
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(bundled_atlas.path))
    monkeypatch.setenv("PLANATLAS_DATABASE_URL", "")
    (tmp_path / "pa_fresh_library.py").write_text("TABLE = [[i, str(i)] for i in range(100)]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    freezes: list[int] = []
    freeze = gc.freeze
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(len(sys.modules)) or freeze())
    st.cache_resource.clear()  # settings and the modules count at the last freeze are cached per process
    try:
        app = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
        app.query_params["preset"] = "metro"
        app.run()
        assert not app.exception, app.exception
        assert freezes
        assert _frozen(st)  # e.g. a module object loaded before the first page
        app.run()  # a rerun may still import a few modules lazily (Streamlit's own)
        before = len(freezes)
        app.run()
        assert len(freezes) == before  # nothing new imported: no freeze
        import pa_fresh_library  # a library a page imports lazily

        assert not _frozen(pa_fresh_library.TABLE)
        app.run()
        assert len(freezes) == before + 1
        assert _frozen(pa_fresh_library.TABLE)
    finally:
        gc.unfreeze()
        st.cache_resource.clear()
        sys.modules.pop("pa_fresh_library", None)


def test_planatlas_app_serves_with_two_malloc_arenas_unless_told_otherwise(bundled_atlas, monkeypatch):
    """Freed session memory goes back to few arenas; an operator's own ``MALLOC_ARENA_MAX`` wins."""
    from click.testing import CliRunner

    from planatlas.cli import serve

    started: list[dict[str, str]] = []
    monkeypatch.setattr(serve.subprocess, "call", lambda cmd, **kw: started.append(kw["env"]) or 0)
    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(bundled_atlas.path))
    monkeypatch.setenv("PLANATLAS_DATABASE_URL", "")
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert CliRunner().invoke(serve.app, []).exit_code == 0
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert CliRunner().invoke(serve.app, []).exit_code == 0
    assert [env["MALLOC_ARENA_MAX"] for env in started] == ["2", "8"]
    assert started[0]["PLANATLAS_ATLAS_PATH"] == str(bundled_atlas.path)  # the rest of the environment passes
