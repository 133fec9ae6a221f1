"""Streamlit pages of the app: each module exposes ``render_page(store, settings, lang)``.

``atlas`` and ``data`` live here; ``query`` and ``export`` are provided by their own modules and
shown as placeholders until installed.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PAGES = ("atlas", "query", "export", "data")


def page_module(page: str) -> ModuleType | None:
    """The module drawing ``page``, or None if that page's module is not installed."""
    if page not in PAGES:
        msg = f"page should be one of {', '.join(PAGES)}, got {page!r}"
        raise ValueError(msg)
    name = f"{__name__}.{page}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise
    return module if hasattr(module, "render_page") else None


def stable_choice(widget, label, options, *, state_key, lang, default=None, **kwargs):  # type: ignore[no-untyped-def]
    """A Streamlit choice widget whose value survives a language switch.

    Streamlit treats a widget whose label or labels change as a new widget and resets it, so the
    chosen value lives under ``state_key`` and the widget is keyed per language.
    """
    import streamlit as st

    options = list(options)
    if state_key not in st.session_state:
        st.session_state[state_key] = default
    value = st.session_state[state_key]
    widget_key = f"{state_key}__{lang}"

    def remember() -> None:
        st.session_state[state_key] = st.session_state[widget_key]

    if widget is st.multiselect:
        kwargs["default"] = [v for v in (value or []) if v in options]
    else:
        kwargs["index"] = options.index(value) if value in options else 0
    if widget_key in st.session_state:
        # A stale widget state from an earlier visit to this language must not win.
        del st.session_state[widget_key]
    chosen = widget(label, options, key=widget_key, on_change=remember, **kwargs)
    st.session_state[state_key] = chosen
    return chosen
