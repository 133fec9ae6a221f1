"""Official geometry in place of a bundled layer's: features matched, plan attributes kept.

An import onto a bundled layer (``--replace``) keeps every feature the plan describes, with all
its attributes and citations, and swaps its geometry for the official one where a feature of the
import matches it by key, Chinese name or alias (``南浦街道`` = ``南浦`` = ``nanpu``). The build then
derives whatever depends on the layer (zones from streets, points placed in streets) from the new
geometry, because it derives them from the built layer.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planatlas import crs as pcrs
from planatlas.catalog import FieldSpec, LayerSpec

#: Column the official geometry's file name is kept in, on every feature it placed.
OFFICIAL_SOURCE = "official_source"
#: Plan columns whose values name a feature (besides the key).
_NAME_COLUMNS = ("name", "name_zh", "name_en", "name_written", "aliases")
#: Words that may follow a place name in one source and not in another (longest first).
_SUFFIXES = (
    "街道办事处", "街道办", "街道", "管理处", "办事处", "新区", "片区", "社区", "镇", "乡", "区", "县", "街",
    " subdistrict", " sub-district", " street", " town", " township", " district",
)  # fmt: skip


def name_forms(value: object) -> set[str]:
    """The comparable forms of a name: trimmed, lower-cased, without spaces, with and without its suffix."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return set()
    forms = set()
    for piece in re.split(r"[;；,，/、]", str(value)):
        text = re.sub(r"\s+", " ", piece.strip().lower())
        if not text:
            continue
        forms.add(text.replace(" ", ""))
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                forms.add(text.removesuffix(suffix).strip().replace(" ", ""))
                break
    return forms


@dataclass(frozen=True)
class Matching:
    """Which import feature (row) gives each plan feature its geometry, and what matched nothing."""

    pairs: dict[str, int]
    plan_unmatched: list[str]
    import_unmatched: list[str]
    ambiguous: list[str]


def match_features(plan: pd.DataFrame, key: str, labels: Sequence[object]) -> Matching:
    """Match the import's features (``labels``: each one's key or name) to the plan's by key, name or alias.

    A plan feature matched by two import features, or an import feature matching two plan features,
    is ``ambiguous`` and left unmatched (the geometry of neither is guessed).
    """
    forms_of: dict[str, set[str]] = {}
    for _, row in plan.iterrows():
        plan_key = str(row[key])
        forms = name_forms(plan_key)
        for column in _NAME_COLUMNS:
            if column in plan.columns:
                forms |= name_forms(row[column])
        forms_of[plan_key] = forms
    ambiguous: list[str] = []
    import_unmatched: list[str] = []
    claims: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        wanted = name_forms(label)
        hits = [k for k, forms in forms_of.items() if wanted & forms]
        if len(hits) == 1:
            claims.setdefault(hits[0], []).append(i)
        else:
            (ambiguous if hits else import_unmatched).append(str(label))
    pairs = {k: rows[0] for k, rows in claims.items() if len(rows) == 1}
    ambiguous += [str(labels[i]) for rows in claims.values() if len(rows) > 1 for i in rows]
    plan_unmatched = [k for k in forms_of if k not in pairs]
    return Matching(pairs=pairs, plan_unmatched=plan_unmatched, import_unmatched=import_unmatched, ambiguous=ambiguous)


def official_spec(spec: LayerSpec, record: Mapping[str, Any]) -> LayerSpec:
    """``spec`` as the data card should describe it once official geometry replaced its own."""
    file, date = record.get("file", "?"), str(record.get("imported_at", ""))[:10]
    precision = record.get("precision", "surveyed")
    unmatched = record.get("plan_unmatched") or []
    limits = (
        f"OFFICIAL geometry ({precision}) from the imported file {file} (sha256 {str(record.get('sha256', ''))[:12]}, "
        f"imported {date}); every plan attribute and citation is kept."
    )
    if unmatched:
        limits += f" Features without an official match keep the earlier geometry: {', '.join(map(str, unmatched))}."
    fields = dict(spec.fields)
    fields[OFFICIAL_SOURCE] = FieldSpec(
        name=OFFICIAL_SOURCE, type="str", title={"zh": "官方几何来源", "en": "Official geometry from"}
    )
    return dataclasses.replace(
        spec,
        fields=fields,
        source=f"{spec.source}; geometry: official data imported from {file} ({date})",
        limits=limits,
    )


def apply_replacement(frame: gpd.GeoDataFrame, spec: LayerSpec, official: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` with the geometry and precision of the features ``official`` has, by the layer's key.

    ``official`` holds the key, ``precision``, ``uncertainty_m``, :data:`OFFICIAL_SOURCE` and the geometry (EPSG:4490).
    An ``area_km2`` column, a measurement of the geometry, is measured again (EPSG:4548).
    """
    frame = frame.copy()
    by_key = official.set_index(official[spec.key].astype(str))
    keys = frame[spec.key].astype(str)
    hit = keys.isin(by_key.index).to_numpy()
    chosen = keys[hit]
    geoms = frame.geometry.to_numpy().copy()
    geoms[hit] = by_key.geometry.reindex(chosen).to_numpy()
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    frame.loc[hit, "precision"] = by_key["precision"].reindex(chosen).to_numpy()
    if "uncertainty_m" in by_key.columns:
        frame.loc[hit, "uncertainty_m"] = by_key["uncertainty_m"].reindex(chosen).to_numpy()
    frame[OFFICIAL_SOURCE] = None
    frame.loc[hit, OFFICIAL_SOURCE] = by_key[OFFICIAL_SOURCE].reindex(chosen).to_numpy()
    if "area_km2" in frame.columns and hit.any():
        measured = gpd.GeoSeries(geoms[hit], crs=frame.crs).to_crs(pcrs.METRIC_CRS).area / 1e6
        frame.loc[hit, "area_km2"] = measured.round(3).to_numpy()
    return frame


def unmatched_text(values: Iterable[str]) -> str:
    """A short listing for messages."""
    items = list(values)
    return ", ".join(items[:20]) + (f" … ({len(items)} in all)" if len(items) > 20 else "") if items else "none"
