"""Every text key the code asks for exists in the one table, in both languages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from planatlas.i18n import LANGS, TEXT, t, texts

SRC = Path(__file__).resolve().parents[1] / "src" / "planatlas"
APP = Path(__file__).resolve().parents[1] / "app.py"


def _literal_keys() -> set[tuple[str, str]]:
    """(file, key) for every ``t("literal", …)`` call, including both arms of ``t("a" if c else "b", …)``."""
    found: set[tuple[str, str]] = set()
    for path in [*SRC.rglob("*.py"), APP]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t"):
                continue
            if not node.args:
                continue
            arg = node.args[0]
            arms = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
            found |= {(path.name, a.value) for a in arms if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return found


def test_every_literal_text_key_exists():
    keys = _literal_keys()
    assert len(keys) > 50, "the scan should find the app's texts"
    missing = sorted((f, k) for f, k in keys if k not in TEXT)
    assert not missing


@pytest.mark.parametrize("lang", LANGS)
def test_print_texts_are_one_section(lang):
    words = texts("print_", lang)
    assert words["north"] == t("print_north", lang)
    assert {"legend", "inset", "sources", "schematic"} <= set(words)
