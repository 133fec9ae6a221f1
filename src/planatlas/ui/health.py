"""The app's "the atlas is missing or damaged" state: a cheap check per run, one message, a rebuild.

A running app caches its store. When the atlas file is deleted, truncated or replaced by something
that is not an atlas, every page would otherwise fail with a traceback naming server paths until a
restart. :func:`check_atlas` is called on every run (cheap: the GeoPackage re-reads its metadata
only when the file changed); when it fails the app drops its cached store and draws
:func:`render_unavailable` instead of the page, so a rebuilt or restored atlas is picked up by the
next run.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from planatlas.atlas_source import is_bundled
from planatlas.errors import ATLAS_UNAVAILABLE, AtlasNotBuiltError, PlanAtlasError
from planatlas.i18n import t
from planatlas.settings import Settings
from planatlas.store.base import LayerStore
from planatlas.ui.widgets import plain_markdown

__all__ = ["ATLAS_UNAVAILABLE", "check_atlas", "render_unavailable"]


def check_atlas(store: LayerStore) -> None:
    """Raise unless the atlas can be read.

    Parameters
    ----------
    store
        The atlas the app shows.

    Raises
    ------
    AtlasNotBuiltError
        The atlas is not there (never built, or deleted).
    AtlasUnreadableError
        The atlas is there but is not a readable atlas.
    """
    store.metadata()


def render_unavailable(
    error: PlanAtlasError,
    settings: Settings,
    lang: str,
    *,
    rebuild: Callable[[Settings], object],
) -> None:
    """Say that the atlas is missing or damaged and offer to rebuild it; nothing else is drawn.

    The message is the app's own text: the error's message names server paths, so it is not shown.

    Parameters
    ----------
    error
        What :func:`check_atlas` (or a page) raised, one of :data:`ATLAS_UNAVAILABLE`.
    settings
        Where the atlas lives and the geodata directory the button rebuilds from.
    lang
        The UI language.
    rebuild
        Builds the atlas from ``settings.geodata_dir`` into the configured store
        (:func:`planatlas.build.build_atlas` in the app); called when the button is pressed,
        after which the app reruns and draws the page.
    """
    missing = isinstance(error, AtlasNotBuiltError)
    st.error(t("atlas_missing" if missing else "atlas_damaged", lang))
    if is_bundled(settings.geodata_dir):
        label = t("atlas_rebuild_bundled", lang)
    else:
        # the directory's name only: its full path is the server's business
        label = t("atlas_rebuild_dir", lang, dir=plain_markdown(settings.geodata_dir.name))
    st.caption(t("atlas_rebuild_hint", lang))
    if not st.button(label, key="pa_rebuild_atlas", type="primary"):
        return
    try:
        with st.spinner(t("atlas_rebuilding", lang)):
            rebuild(settings)
    except (PlanAtlasError, OSError):  # OSError: e.g. a full disk; the previous file is left as it was
        # the problems name files on the server; 'planatlas validate' shows them to its operator
        st.error(t("atlas_rebuild_failed", lang))
        return
    st.rerun()
