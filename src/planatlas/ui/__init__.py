"""The app's pages, registered by name: each page module exposes ``render_page(store, settings, lang)``.

Every page is imported here plainly and listed in :data:`PAGES`, in the order the app shows them;
a page's title is the ``page_<name>`` text of :mod:`planatlas.i18n`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeAlias

from planatlas.settings import Settings
from planatlas.store.base import LayerStore
from planatlas.ui import atlas, data, export, imports, query

#: A page: draws itself from the atlas, the settings and the UI language.
PageRenderer: TypeAlias = Callable[[LayerStore, Settings, str], None]

#: Every page of the app, in the order the app lists them.
PAGES: Mapping[str, PageRenderer] = {
    "atlas": atlas.render_page,
    "query": query.render_page,
    "export": export.render_page,
    "data": data.render_page,
    "imports": imports.render_page,
}

__all__ = ["PAGES", "PageRenderer", "page_renderer"]


def page_renderer(page: str) -> PageRenderer:
    """The function drawing ``page``.

    Parameters
    ----------
    page
        A name in :data:`PAGES`.

    Returns
    -------
    The page's ``render_page``.

    Raises
    ------
    ValueError
        When ``page`` is not a registered page.
    """
    if page not in PAGES:
        msg = f"page should be one of {', '.join(PAGES)}, got {page!r}"
        raise ValueError(msg)
    return PAGES[page]
