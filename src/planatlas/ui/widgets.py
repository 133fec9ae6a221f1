"""Streamlit widgets shared by the app and its pages: a choice that survives a language switch."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar, cast

import streamlit as st

OptionT = TypeVar("OptionT")


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
    if widget_key in st.session_state:
        # A stale widget state from an earlier visit to this language must not win.
        del st.session_state[widget_key]
    chosen = widget(label, choices, index=index, key=widget_key, on_change=remember, **kwargs)
    st.session_state[state_key] = chosen
    # with an index set, radio and selectbox return one of the options
    return cast("OptionT", chosen)
