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
