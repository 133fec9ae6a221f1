"""How outputs name the plans (by their titles) and state a feature's position (class, ±metres, source)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from planatlas.catalog import SEED_XIHU, SEED_XINJIAN
from planatlas.i18n import t
from planatlas.maps.presets import PRECISION_LABELS
from planatlas.maps.style import text_in

#: The text key of each bundled plan's title (``texts.toml``), by seed file name.
PLAN_TEXT_KEYS = {SEED_XIHU: "plan_000", SEED_XINJIAN: "plan_001"}


def plan_title(source_file: object, lang: str) -> str:
    """The title of the plan a seed file holds; other sources (a web page, a dataset) as they are."""
    key = PLAN_TEXT_KEYS.get(str(source_file))
    return t(key, lang) if key else str(source_file)


def whole_metres(value: object) -> int | None:
    """``uncertainty_m`` as an int, or ``None`` when empty (an unlocated feature has none)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value))
    except ValueError:
        return None
    return None if math.isnan(number) else round(number)


def position_text(row: Mapping[str, Any], lang: str) -> str | None:
    """``'公开资料坐标 ±75 米'``: the precision class and uncertainty of one feature (plain text)."""
    precision = row.get("precision")
    if not isinstance(precision, str) or not precision:
        return None
    label = text_in(PRECISION_LABELS.get(precision), lang, default=precision)
    metres = whole_metres(row.get("uncertainty_m"))
    return f"{label} {t('position_pm', lang, m=metres)}" if metres is not None else label


__all__ = ["PLAN_TEXT_KEYS", "plan_title", "position_text", "whole_metres"]
