"""Every text planatlas shows, in Chinese (default) and English: one table, looked up with :func:`t` (pure).

The table is data, ``texts.toml`` in the package, read on first use. Keys are grouped by prefix (the
section of the file): none for the app shell and atlas pages, ``query_`` for the Query page,
``export_`` for the Export page, ``print_`` for printed pages, ``reconcile_`` for the
columns of the plan-versus-map table and ``import_`` for the Import page and one-layer maps. Feature names stay in the plan's language.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

from planatlas.catalog import LANGS
from planatlas.datafiles import LazyMapping, fail, read_toml, text_table

DEFAULT_LANG = "zh"
LANG_NAMES = {"zh": "中文", "en": "English"}

__all__ = ["DEFAULT_LANG", "LANGS", "LANG_NAMES", "TEXT", "check_lang", "load_texts", "t", "texts"]

TEXTS_FILE = "texts.toml"
#: The sections of ``texts.toml`` and the prefix each gives its keys.
SECTIONS: Mapping[str, str] = {
    "app": "",
    "query": "query_",
    "export": "export_",
    "print": "print_",
    "reconcile": "reconcile_",
    "import": "import_",
}


@functools.cache
def load_texts() -> Mapping[str, Mapping[str, str]]:
    """Every text by prefixed key, read from ``texts.toml`` (once)."""
    data = read_toml("planatlas", TEXTS_FILE)
    table: dict[str, Mapping[str, str]] = {}
    for section in data:
        if section not in SECTIONS:
            fail(TEXTS_FILE, section, f"unknown section, should be one of {', '.join(SECTIONS)}")
        for key, entry in text_table(data[section], TEXTS_FILE, section, LANGS).items():
            if SECTIONS[section] + key in table:
                fail(TEXTS_FILE, f"{section}.{key}", f"key {SECTIONS[section] + key!r} is given twice")
            table[SECTIONS[section] + key] = entry
    return MappingProxyType(table)


#: Every text by key (``query_title``), each ``{"zh": …, "en": …}`` (read on first use).
TEXT: Mapping[str, Mapping[str, str]] = LazyMapping(load_texts)


def t(key: str, lang: str, **fmt: object) -> str:
    """The text ``key`` in ``lang`` (falls back to Chinese), formatted with ``fmt``."""
    try:
        entry = TEXT[key]
    except KeyError:
        msg = f"no UI text {key!r} in planatlas.i18n"
        raise KeyError(msg) from None
    text = entry.get(lang) or entry[DEFAULT_LANG]
    return text.format(**fmt) if fmt else text


def texts(prefix: str, lang: str) -> dict[str, str]:
    """Every text whose key starts with ``prefix``, in ``lang``, keyed without the prefix."""
    return {key.removeprefix(prefix): t(key, lang) for key in TEXT if key.startswith(prefix)}


def check_lang(lang: object) -> str:
    """``lang`` if it is a supported language, else the default (for untrusted URL input)."""
    return lang if isinstance(lang, str) and lang in LANGS else DEFAULT_LANG
