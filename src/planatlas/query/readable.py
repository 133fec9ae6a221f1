"""A query's answer as a planner reads it: the table's columns, numbers for zh/en, the question as a title (pure).

The table leads with name, distance (m), nearest reference, street, precision and uncertainty; the
keys and provenance go to a second table (the app shows it behind an expander). Numbers follow
the reader's language: ``1.2 公里`` / ``1.2 km``, ``3.4万`` / ``34,000``, ``41.76 亿元`` (a plan
figure keeps its own unit). :func:`edge_line` says how many answers lie closer to the distance
edge than their own position uncertainty (issue 10): those could fall either side of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from planatlas.catalog import PROVENANCE_FIELDS
from planatlas.i18n import t
from planatlas.maps.presets import PRECISION_LABELS
from planatlas.maps.style import text_in
from planatlas.query.columns import DISTANCE, NEAREST_KEY
from planatlas.query.distance import parse_distance
from planatlas.query.zones import assign_zones

__all__ = [
    "PLANNER_COLUMNS",
    "ReadableAnswer",
    "edge_line",
    "format_count",
    "format_distance",
    "format_yuan",
    "question_title",
    "readable_answer",
    "street_counts",
]

#: The planner's columns, in order (text keys ``query_col_<name>``).
PLANNER_COLUMNS = ("name", "distance_m", "nearest", "street", "precision", "uncertainty_m")
#: Provenance columns shown behind the expander, when the layer has them.
_PROVENANCE = (*PROVENANCE_FIELDS, "position_source", "geom_note", "coord_basis", "placed_by")
#: How a reference of these layers is named in a question title ("八一广场站", "Bayi Square station").
_REFERENCE_SUFFIX: Mapping[str, Mapping[str, str]] = {"metro_stations": {"zh": "站", "en": " station"}}


def format_distance(metres: float, lang: str) -> str:
    """``412米`` / ``412 m`` under 1 km, ``1.2公里`` / ``1.2 km`` from 1 km (whole km without decimals)."""
    if metres < 1000:
        return f"{metres:.0f}米" if lang == "zh" else f"{metres:.0f} m"
    km = metres / 1000
    text = f"{km:.0f}" if math.isclose(km, round(km)) else f"{km:.1f}".rstrip("0").rstrip(".")
    return f"{text}公里" if lang == "zh" else f"{text} km"


def format_count(n: float, lang: str) -> str:
    """A count: ``3.4万`` / ``34,000`` from ten thousand (zh), thousands separators (en)."""
    if lang == "zh":
        if abs(n) >= 1e8:
            return f"{n / 1e8:.2f}".rstrip("0").rstrip(".") + "亿"
        if abs(n) >= 1e4:
            return f"{n / 1e4:.1f}".rstrip("0").rstrip(".") + "万"
        return f"{n:g}"
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.2f}"


def format_yuan(yi: float, lang: str) -> str:
    """An amount given in 亿元 (the plan's unit): ``41.76 亿元`` / ``4.176 billion yuan``."""
    if lang == "zh":
        return f"{yi:g} 亿元"
    return f"{yi / 10:g} billion yuan ({yi:g} 亿元)"


def question_title(*, kind: str, layer_title: str, reference: str, distance: str | float | None, lang: str) -> str:
    """The question in words, e.g. ``距八一广场站1公里范围内的商务楼宇`` / ``… within 1 km of Bayi Square station``."""
    dist = "" if distance is None else format_distance(parse_distance(distance), lang)
    return t(f"query_q_{kind}", lang, layer=layer_title, ref=reference, d=dist)


def reference_name(layer: str, names: Sequence[str], lang: str) -> str:
    """The reference as a title names it: the selected features' names (suffixed per layer), or ``""``."""
    suffix = _REFERENCE_SUFFIX.get(layer, {}).get(lang, "")
    shown = [f"{n}{suffix}" for n in names[:3]]
    more = len(names) - len(shown)
    text = ("、" if lang == "zh" else ", ").join(shown)
    return text + (t("query_q_more", lang, n=more) if more > 0 else "")


@dataclass(frozen=True)
class ReadableAnswer:
    """The two tables of an answer: ``table`` (planner's columns, titled in the reader's language)
    and ``details`` (key and provenance, same rows); ``columns`` maps planner names to titles."""

    table: pd.DataFrame
    details: pd.DataFrame
    columns: Mapping[str, str]


def _streets_of(
    frame: gpd.GeoDataFrame, streets: gpd.GeoDataFrame | None, street_names: Mapping[str, str]
) -> list[str]:
    """Each row's street: its recorded ``street_id``, else the street holding its representative point."""
    n = len(frame)
    ids: list[object] = [None] * n
    if "street_id" in frame.columns:
        ids = list(frame["street_id"])
    missing = [i for i, v in enumerate(ids) if v is None or (isinstance(v, float) and math.isnan(v)) or v == ""]
    if missing and streets is not None and len(streets) and isinstance(frame, gpd.GeoDataFrame):
        assigned = assign_zones(frame.iloc[missing], streets, zone_key="street_id")
        for i, value in zip(missing, assigned, strict=True):
            ids[i] = value
    return [
        "" if v is None or (isinstance(v, float) and math.isnan(v)) else street_names.get(str(v), str(v)) for v in ids
    ]


def readable_answer(
    frame: pd.DataFrame,
    *,
    key: str,
    lang: str,
    reference_names: Mapping[str, str],
    streets: gpd.GeoDataFrame | None = None,
) -> ReadableAnswer:
    """The planner's table and the details table of a within/nearest/inside/intersects answer.

    Parameters
    ----------
    frame
        The answer's rows (:attr:`QueryResult.frame`), one per feature found.
    key
        The found layer's key column.
    reference_names
        Reference key → its name, for the "nearest reference" column.
    streets
        The streets layer (``street_id``, ``name``), to name each row's street.
    """
    street_names = {} if streets is None else dict(zip(streets["street_id"].astype(str), streets["name"], strict=True))
    titles = {c: t(f"query_col_{c}", lang) for c in PLANNER_COLUMNS}
    n = len(frame)
    name = frame["name"] if "name" in frame.columns else frame[key]
    table = pd.DataFrame({titles["name"]: name.astype(str).to_numpy()})
    if DISTANCE in frame.columns:
        table[titles["distance_m"]] = pd.to_numeric(frame[DISTANCE]).round(1).to_numpy()
    if NEAREST_KEY in frame.columns:
        table[titles["nearest"]] = [reference_names.get(str(k), str(k)) for k in frame[NEAREST_KEY]]
    if isinstance(frame, gpd.GeoDataFrame):
        table[titles["street"]] = _streets_of(frame, streets, street_names)
    if "precision" in frame.columns:
        table[titles["precision"]] = [
            text_in(PRECISION_LABELS.get(str(p)), lang, default=str(p)) for p in frame["precision"]
        ]
    uncertainty = frame["uncertainty_m"] if "uncertainty_m" in frame.columns else pd.Series([np.nan] * n)
    table[titles["uncertainty_m"]] = pd.to_numeric(uncertainty, errors="coerce").to_numpy()
    detail_cols = [key, *[c for c in _PROVENANCE if c in frame.columns and c != key]]
    details = pd.DataFrame({c: frame[c].to_numpy() for c in detail_cols})
    details.insert(0, titles["name"], name.astype(str).to_numpy())
    return ReadableAnswer(table, details, titles)


def edge_line(frame: pd.DataFrame, *, distance: str | float, lang: str) -> str:
    """ "N of M answers lie within their own position uncertainty of the D edge" (issue 10), in ``lang``.

    An answer counts when ``|D - distance_m| <= uncertainty_m``: moved by its uncertainty it could
    fall outside (or another one inside). Answers without a recorded uncertainty are said so.
    """
    metres = parse_distance(distance)
    total = len(frame)
    if DISTANCE not in frame.columns or not total:
        return ""
    unc = pd.to_numeric(frame.get("uncertainty_m", pd.Series([np.nan] * total)), errors="coerce").to_numpy(float)
    dist = pd.to_numeric(frame[DISTANCE]).to_numpy(float)
    known = ~np.isnan(unc)
    near = int(np.sum(known & (np.abs(metres - dist) <= unc)))
    line = t("query_edge", lang, n=near, m=total, d=format_distance(metres, lang))
    if not known.all():
        line += t("query_edge_unknown", lang, k=int(np.sum(~known)))
    return line


def street_counts(table: pd.DataFrame, *, street_title: str, count_title: str) -> pd.DataFrame:
    """How many answers per street (most first, then by name)."""
    if street_title not in table.columns or not len(table):
        return pd.DataFrame({street_title: [], count_title: []})
    counts = table[street_title].replace("", "—").value_counts()
    out = counts.rename_axis(street_title).reset_index(name=count_title)
    return out.sort_values([count_title, street_title], ascending=[False, True], kind="stable").reset_index(drop=True)
