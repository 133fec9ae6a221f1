"""Honest layer dumps: one layer as GeoJSON, GeoPackage or CSV that says what it is.

A dump written by ``planatlas dump`` (and the app's downloads) carries

- the layer's own name (the GeoJSON collection ``name``, the GeoPackage table), never a temporary
  file's name;
- a caveat (:func:`caveat_text`): how many features at each precision class and their uncertainty,
  that schematic geometry is not surveyed, the sources and licence of the catalogue entry, and the
  plans the features cite, by title (the GeoJSON ``description``, the GeoPackage table description,
  and a ``README`` row in the figures table);
- the plan's group figures once: columns ``plan_year_*`` hold a figure of all the features sharing a
  ``start_year`` and ``plan_all_*`` one of the whole layer. Repeated on every feature, a GIS summing
  a column would count a total many times, so the dump moves them to a table of their own
  (:func:`split_group_figures`): the ``<layer>_plan_figures`` table of the GeoPackage, the
  ``plan_figures`` member of the GeoJSON collection, a ``<file>.plan_figures.csv`` beside a CSV;
- real geometry types: a closed ring in a line layer marks a node (the Jiuwang interchange is drawn
  as a ring around its junction), not a road of that length, so it is written as the point at the
  ring's centre and its measured length is left empty (:func:`rings_to_points`).

Pure functions build the :class:`Dump`; :func:`write_dump` is the one place that writes, atomically.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from planatlas import __version__
from planatlas.catalog import SEED_XIHU, SEED_XINJIAN
from planatlas.io.writers import FORMATS, format_from_path, replacing, write_frame

if TYPE_CHECKING:
    from planatlas.catalog import LayerSpec

#: How exports name the plans (the seed files stay in the features' provenance fields).
PLAN_TITLES: Mapping[str, str] = {
    SEED_XIHU: "《南昌市西湖区产业高质量发展规划（2022—2025年）》",
    SEED_XINJIAN: "《新建区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要》（征求意见2稿）",
}
#: Column prefixes of group figures and the column that names the group ('' = the whole layer).
GROUP_FIGURES: Mapping[str, str] = {"plan_year_": "start_year", "plan_all_": ""}
#: Columns that measure a line's length: meaningless for a ring written as its centre point.
LENGTH_COLUMNS = ("measured_length_m",)
PRECISION_ORDER = ("surveyed", "sourced", "approximate", "address", "street", "schematic", "unlocated")


@dataclass(frozen=True)
class Dump:
    """What a dump writes: the features, the group figures (or ``None``) and the caveat, under ``name``."""

    name: str
    features: pd.DataFrame
    figures: pd.DataFrame | None
    caveat: str


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def split_group_figures(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``frame`` without its group-figure columns, and those figures one row per group.

    The figures table has a ``scope`` column (``all`` or ``start_year=2021``…) and the figure
    columns without their prefix; a column that differs inside a group is not a group figure and
    stays on the features (so nothing a feature says alone is lost).
    """
    rows: list[dict[str, object]] = []
    moved: list[str] = []
    for prefix, group in GROUP_FIGURES.items():
        cols = [c for c in frame.columns if c.startswith(prefix)]
        if not cols or (group and group not in frame.columns):
            continue
        keys = frame[group] if group else pd.Series("all", index=frame.index)
        table = pd.DataFrame(frame[cols]).assign(_key=keys.to_numpy())
        consistent = [c for c in cols if (table.groupby("_key", dropna=False)[c].nunique(dropna=False) <= 1).all()]
        if not consistent:
            continue
        firsts = table.groupby("_key", dropna=False, sort=True)[consistent].first()
        for key, values in firsts.iterrows():
            row: dict[str, object] = {"scope": f"{group}={key}" if group else "all"}
            row.update({c.removeprefix(prefix): values[c] for c in consistent})
            rows.append(row)
        moved.extend(consistent)
    if not rows:
        return frame, None
    return frame.drop(columns=moved), pd.DataFrame(rows)


def rings_to_points(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    """Closed rings of a line layer as the points at their centres (lengths emptied), and how many."""
    geoms = frame.geometry
    is_ring = geoms.notna() & (geoms.geom_type == "LineString") & geoms.is_closed & ~geoms.is_empty
    n = int(is_ring.sum())
    if not n:
        return frame, 0
    out = frame.copy()
    centres = [shapely.Polygon(ring.coords).centroid for ring in geoms[is_ring]]
    out.loc[is_ring, out.geometry.name] = gpd.GeoSeries(centres, index=out.index[is_ring], crs=out.crs)
    for col in LENGTH_COLUMNS:
        if col in out.columns:
            out[col] = out[col].astype("float64")
            out.loc[is_ring, col] = float("nan")
    return out, n


def precision_summary(frame: pd.DataFrame) -> str:
    """'12 sourced (±100 m), 3 schematic (±500–1500 m), 1 unlocated' over the features."""
    if "precision" not in frame.columns:
        return ""
    parts = []
    counts = frame["precision"].map(_text).value_counts()
    for cls in sorted(counts.index, key=lambda c: (PRECISION_ORDER.index(c) if c in PRECISION_ORDER else 99, c)):
        text = f"{counts[cls]} {cls or 'unclassed'}"
        if "uncertainty_m" in frame.columns:
            unc = pd.to_numeric(frame.loc[frame["precision"].map(_text) == cls, "uncertainty_m"], errors="coerce")
            unc = unc.dropna()
            if len(unc):
                lo, hi = int(unc.min()), int(unc.max())
                text += f" (±{lo} m)" if lo == hi else f" (±{lo}–{hi} m)"
        parts.append(text)
    return ", ".join(parts)


def caveat_text(frame: pd.DataFrame, spec: LayerSpec, *, rings: int = 0, figures: bool = False) -> str:
    """The caveat a dump carries (English, with the plans' Chinese titles)."""
    lines = [f"planatlas {__version__}, layer {spec.name} ({spec.title_in('en')} / {spec.title_in('zh')})."]
    summary = precision_summary(frame)
    if summary:
        lines.append(f"Precision: {summary}.")
    if "precision" in frame.columns and (frame["precision"].map(_text) == "schematic").any():
        lines.append(
            "Schematic features are drawn from the plan's wording, not surveyed: read them as a diagram, "
            "not as positions or lengths."
        )
    if "precision" in frame.columns and (frame["precision"].map(_text) == "unlocated").any():
        lines.append("Unlocated features have no geometry: they are listed, never drawn or measured.")
    if rings:
        lines.append(
            f"{rings} feature(s) drawn on maps as a ring around a junction are written as the junction point "
            "(a node, not a road of the ring's length); their measured length is left empty."
        )
    if figures:
        lines.append(
            "The plan's group figures (columns plan_year_* per start_year, plan_all_* for the whole layer) "
            "are in a table of their own, once per group: do not sum them over features."
        )
    cited = sorted(
        {f.strip() for v in frame.get("source_file", pd.Series(dtype=object)) for f in _text(v).split(";") if f.strip()}
    )
    plans = [f"{PLAN_TITLES[f]} ({f})" for f in cited if f in PLAN_TITLES]
    others = [f for f in cited if f not in PLAN_TITLES]
    if plans:
        lines.append("Plans cited: " + "; ".join(plans) + ".")
    if others:
        lines.append("Other sources cited by features: " + "; ".join(others) + ".")
    if spec.source:
        lines.append(f"Sources: {spec.source}")
    if spec.licence:
        lines.append(f"Licence: {spec.licence}")
    if spec.limits:
        lines.append(f"Limits: {spec.limits}")
    lines.append("Coordinates: CGCS2000 (EPSG:4490) longitude/latitude.")
    return "\n".join(lines)


def prepare_dump(frame: pd.DataFrame, spec: LayerSpec) -> Dump:
    """The :class:`Dump` of one layer read from the atlas."""
    rings = 0
    if isinstance(frame, gpd.GeoDataFrame) and spec.geometry_type in ("LineString", "MultiLineString"):
        frame, rings = rings_to_points(frame)
    features, figures = split_group_figures(frame)
    caveat = caveat_text(frame, spec, rings=rings, figures=figures is not None)
    return Dump(name=spec.name, features=features, figures=figures, caveat=caveat)


def geojson_bytes(dump: Dump) -> bytes:
    """``dump`` as GeoJSON bytes (for a download): the collection's name, caveat and figures as in a file."""
    features = json.loads(gpd.GeoDataFrame(dump.features).to_json(drop_id=True, ensure_ascii=False))["features"]
    data: dict[str, object] = {"type": "FeatureCollection", "name": dump.name, "description": dump.caveat}
    if dump.figures is not None:
        data["plan_figures"] = json.loads(dump.figures.to_json(orient="records", force_ascii=False))
    data["features"] = features
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def write_dump(dump: Dump, path: str | Path, *, fmt: str | None = None) -> list[Path]:
    """Write ``dump`` to ``path`` (format from ``fmt`` or the extension), atomically; the paths written."""
    path = Path(path)
    fmt = fmt or format_from_path(path)
    if fmt == "csv":
        written = [write_frame(dump.features, path, fmt="csv", layer=dump.name)]
        if dump.figures is not None:
            side = path.with_name(f"{path.stem}.plan_figures.csv")
            written.append(write_frame(dump.figures, side, fmt="csv", layer=f"{dump.name}_plan_figures"))
        return written
    if fmt == "gpkg":
        if dump.figures is None:
            return [write_frame(dump.features, path, fmt="gpkg", layer=dump.name, description=dump.caveat)]
        # Two tables in one file, written together into the temporary file, then moved in one step.
        with replacing(path, suffix=FORMATS["gpkg"]) as tmp:
            tmp.unlink()
            pyogrio.write_dataframe(
                dump.features, tmp, driver="GPKG", layer=dump.name, layer_options={"DESCRIPTION": dump.caveat}
            )
            pyogrio.write_dataframe(
                dump.figures,
                tmp,
                driver="GPKG",
                layer=f"{dump.name}_plan_figures",
                append=True,
                layer_options={"DESCRIPTION": f"Group figures of layer {dump.name}, once per group."},
            )
        return [path]
    # GeoJSON: the collection named for the layer, the caveat as its description, figures as a member.
    write_frame(dump.features, path, fmt="geojson", layer=dump.name, description=dump.caveat)
    if dump.figures is not None:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["plan_figures"] = json.loads(dump.figures.to_json(orient="records", force_ascii=False))
        with replacing(path, suffix=FORMATS["geojson"]) as tmp:
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return [path]
