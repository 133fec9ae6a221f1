"""Streamlit widgets shared by the app and its pages: a choice that survives a language switch, plain text."""

from __future__ import annotations

import html
import re
import string
from collections.abc import Callable, Iterable
from typing import TypeVar, cast

import streamlit as st

from planatlas.errors import ATLAS_UNAVAILABLE

OptionT = TypeVar("OptionT")

#: Every ASCII punctuation character: CommonMark lets a backslash make each one literal.
_MARKDOWN_PUNCTUATION = re.compile(f"([{re.escape(string.punctuation)}])")


def plain_markdown(text: object) -> str:
    """``text`` escaped so Streamlit's Markdown shows it literally.

    ``st.caption``, ``st.error``, ``st.warning``, ``st.info`` and widget labels render Markdown, so
    catalogue or attribute text such as ``![x](http://host/t.png)`` would make the viewer's browser
    fetch from another host, and ``:red[…]`` or ``$…$`` would be styled. Every ASCII punctuation
    character is backslash-escaped (CommonMark's rule), which leaves no image, link, HTML, directive
    or formula; line breaks are kept as hard breaks.

    Parameters
    ----------
    text
        Text from the catalogue, the data or an error message (``str()`` is applied).

    Returns
    -------
    Markdown whose rendering is ``text`` itself.
    """
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", str(text))
    return "  \n".join(escaped.splitlines())


def error_text(error: BaseException) -> str:
    """An error's message for a page, as plain text (:func:`plain_markdown`).

    A missing or damaged atlas is raised again instead: the app replaces the page with its own
    message for it, since the error's message names server paths.

    Raises
    ------
    AtlasNotBuiltError, AtlasUnreadableError
        ``error`` itself, when it is one of these.
    """
    if isinstance(error, ATLAS_UNAVAILABLE):
        raise error
    return plain_markdown(error)


def html_text(text: object) -> str:
    """``text`` for an HTML block inside ``st.markdown(..., unsafe_allow_html=True)``.

    Escapes HTML and turns line breaks into ``<br>``: a blank line would end the HTML block and
    let Markdown (an image fetching from another host) through.
    """
    return "<br>".join(html.escape(line) for line in str(text).splitlines())


def stable_choice(
    widget: Callable[..., object],
    label: str,
    options: Iterable[OptionT],
    *,
    state_key: str,
    lang: str,
    default: OptionT | None = None,
    **kwargs: object,
) -> OptionT:
    """A Streamlit single-choice widget whose value survives a language switch.

    Streamlit treats a widget whose label or labels change as a new widget and resets it, so the
    chosen value lives under ``state_key`` and the widget is keyed per language.

    Parameters
    ----------
    widget
        ``st.radio`` or ``st.selectbox``.
    label
        The widget's label in ``lang``.
    options
        The values to choose from (labels come from ``format_func`` in ``kwargs``).
    state_key
        Session-state key holding the chosen value across languages.
    lang
        The UI language; the widget itself is keyed per language.
    default
        The value before the user has chosen one (the first option when None).
    **kwargs
        Passed on to ``widget``.

    Returns
    -------
    The chosen option.
    """
    choices = list(options)
    if state_key not in st.session_state:
        st.session_state[state_key] = default
    value = st.session_state[state_key]
    widget_key = f"{state_key}__{lang}"

    def remember() -> None:
        st.session_state[state_key] = st.session_state[widget_key]

    index = choices.index(value) if value in choices else 0
    if widget_key in st.session_state and st.session_state[widget_key] == value and value in choices:
        # Set together with ``state_key`` by a callback that changes the choice (the Atlas page's
        # "ask about this" opens the Query page): the session state moves the widget; no index.
        chosen = widget(label, choices, key=widget_key, on_change=remember, **kwargs)
        st.session_state[state_key] = chosen
        return cast("OptionT", chosen)
    if widget_key in st.session_state:
        # A stale widget state from an earlier visit to this language must not win.
        del st.session_state[widget_key]
    chosen = widget(label, choices, index=index, key=widget_key, on_change=remember, **kwargs)
    st.session_state[state_key] = chosen
    # with an index set, radio and selectbox return one of the options
    return cast("OptionT", chosen)
