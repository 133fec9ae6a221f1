"""The gazetteer: one row per real place in ``geodata/places/*.csv``, one position per place.

A point layer whose catalogue entry says ``[geometry] places = "<column>"`` takes each feature's
geometry, ``precision``, ``uncertainty_m`` and position provenance from the gazetteer row whose
``place_id`` is in that column, so a place named by several layers sits at one position.

Every row is checked and every problem is located by file, row (line of the CSV, header = row 1)
and field: ``place_id`` unique across files, a known ``crs``, lon/lat present exactly when the
precision is not ``unlocated``, a precision of the ladder, ``uncertainty_m`` a whole number of
metres, a ``position_source`` for cited positions, inside China, and each cited seed line naming
the place (``name_zh`` or an alias).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planatlas import crs as pcrs
from planatlas.atlas_source import file_sha256
from planatlas.catalog import IDENTIFIER, PLACE_FIELDS, PRECISION_CLASSES, UNLOCATED
from planatlas.errors import Problem, SourceError
from planatlas.io import read_table

#: Folder of the gazetteer inside a geodata directory, and the columns every file has, in order.
PLACES_DIR = "places"
PLACE_COLUMNS = (
    "place_id", "name_zh", "name_en", "aliases", "kind", "district", "lon", "lat", "crs", "precision",
    "uncertainty_m", "placed_by", "position_source", "position_licence", "seed_file", "seed_lines", "note",
)  # fmt: skip
#: The coordinate systems a row's lon/lat may be read in; converted to EPSG:4490 at build.
PLACE_CRS = ("EPSG:4490", "EPSG:4326", pcrs.GCJ02, pcrs.BD09)
#: Precision classes whose position cites where it comes from (``position_source`` required).
CITED_PRECISION = ("surveyed", "sourced", "address")
#: What a layer's features record when the plan does not name the place (gazetteer layer only).
NOT_IN_PLANS = "n/a"
_LINES = re.compile(r"(\d+)(?:-(\d+))?")


@dataclass(frozen=True)
class Gazetteer:
    """Every place of ``geodata/places/*.csv`` (index ``place_id``, geometry in EPSG:4490).

    ``rows`` holds the text columns (``name_zh`` … ``note``, ``uncertainty_m`` as a nullable int)
    plus ``file``; ``problems`` lists every row that failed a check (those rows are left out).
    """

    rows: gpd.GeoDataFrame
    sources: list[dict[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def __contains__(self, place_id: object) -> bool:
        return place_id in self.rows.index


def _empty_rows() -> gpd.GeoDataFrame:
    columns = [c for c in PLACE_COLUMNS if c not in ("place_id", "lon", "lat", "crs")]
    frame = gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in [*columns, "file"]}, geometry=[], crs=pcrs.STORAGE_CRS
    )
    return frame.rename_axis("place_id")


def load_gazetteer(root: str | Path) -> Gazetteer:
    """Read and check every ``places/*.csv`` of a geodata directory (an empty gazetteer if there is none)."""
    root = Path(root)
    folder = root / PLACES_DIR
    paths = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    problems: list[Problem] = []
    sources: list[dict[str, str]] = []
    frames: list[gpd.GeoDataFrame] = []
    seen: dict[str, str] = {}
    for path in paths:
        rel = path.relative_to(root).as_posix()
        try:
            table = read_table(path)
        except SourceError as exc:
            problems += [
                Problem(p.message, file=rel, layer=PLACES_DIR, feature=p.feature, field=p.field) for p in exc.problems
            ]
            continue
        sources.append({"path": rel, "sha256": file_sha256(path)})
        frame, found = _check_file(table, rel, seen, seeds=root / "seeds")
        problems += found
        frames.append(frame)
    rows = pd.concat(frames) if frames else _empty_rows()
    return Gazetteer(
        rows=gpd.GeoDataFrame(rows, geometry="geometry", crs=pcrs.STORAGE_CRS), sources=sources, problems=problems
    )


def _check_file(
    table: pd.DataFrame, rel: str, seen: dict[str, str], *, seeds: Path
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """One gazetteer file's rows that pass every check, as a frame in EPSG:4490, and the problems of the others."""
    missing = [c for c in PLACE_COLUMNS if c not in table.columns]
    extra = [c for c in table.columns if c not in PLACE_COLUMNS]
    if missing or extra:
        msg = f"columns should be exactly {', '.join(PLACE_COLUMNS)}"
        msg += f"; missing: {', '.join(missing)}" if missing else ""
        msg += f"; not known: {', '.join(extra)}" if extra else ""
        return _empty_rows(), [Problem(msg, file=rel, layer=PLACES_DIR)]
    table = table.map(lambda v: v.strip() if isinstance(v, str) else v)
    problems: list[Problem] = []
    keep: list[int] = []
    geoms: list[shapely.Geometry | None] = []
    uncertainty: list[int | None] = []
    seed_text: dict[str, list[str] | None] = {}
    records = [{str(k): str(v) for k, v in r.items()} for r in table.to_dict("records")]
    for i, row in enumerate(records):
        where = f"row {i + 2}"
        found: list[tuple[str, str]] = []
        pid = row["place_id"]
        if not IDENTIFIER.fullmatch(pid):
            found.append(
                ("place_id", f"should match {IDENTIFIER.pattern} (lower_snake ASCII, ≤ 63 characters), got {pid!r}")
            )
        elif pid in seen:
            found.append(
                ("place_id", f"{pid!r} is already a place in {seen[pid]}; place_id is unique across all files")
            )
        if not row["name_zh"]:
            found.append(("name_zh", "required value is empty"))
        precision = row["precision"]
        if precision not in PRECISION_CLASSES:
            found.append(("precision", f"{precision!r} is not one of {list(PRECISION_CLASSES)}"))
        unc, unc_problem = _uncertainty(row["uncertainty_m"], unlocated=precision == UNLOCATED)
        if unc_problem:
            found.append(("uncertainty_m", unc_problem))
        if precision in CITED_PRECISION and not row["position_source"]:
            found.append(
                ("position_source", f"precision {precision!r} needs the URL or dataset the position comes from")
            )
        geom, geom_problems = _position(row, unlocated=precision == UNLOCATED)
        found += geom_problems
        found += _citation_problems(row, seeds, seed_text)
        label = pid or where
        problems += [
            Problem(f"{where}: {msg}", file=rel, layer=PLACES_DIR, feature=label, field=fld) for fld, msg in found
        ]
        if found:
            continue
        seen[pid] = rel
        keep.append(i)
        geoms.append(geom)
        uncertainty.append(unc)
    kept = table.iloc[keep]
    frame = kept.drop(columns=["lon", "lat", "crs"]).set_index("place_id")
    frame["uncertainty_m"] = pd.array(uncertainty, dtype="Int64")
    frame["file"] = rel
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=pcrs.STORAGE_CRS), problems


def _uncertainty(text: str, *, unlocated: bool) -> tuple[int | None, str | None]:
    if not text:
        return None, None if unlocated else "required (whole metres ≥ 0) unless the precision is 'unlocated'"
    if not text.isdigit():
        return None, f"should be whole metres ≥ 0, got {text!r}"
    if unlocated:
        return None, "should be empty for an 'unlocated' place (it has no position)"
    return int(text), None


def _position(row: Mapping[str, str], *, unlocated: bool) -> tuple[shapely.Geometry | None, list[tuple[str, str]]]:
    """The row's point in EPSG:4490, or the problems of its lon/lat/crs."""
    lon_text, lat_text, crs = row["lon"], row["lat"], pcrs.normalize_crs_name(row["crs"]) if row["crs"] else ""
    if unlocated:
        if lon_text or lat_text:
            return None, [("lon", "an 'unlocated' place has no lon/lat; give a precision or remove the position")]
        return None, []
    if not lon_text or not lat_text:
        return None, [("lon" if not lon_text else "lat", "required unless the precision is 'unlocated'")]
    if crs not in PLACE_CRS:
        return None, [
            ("crs", f"should be one of {list(PLACE_CRS)} (the system lon/lat were read in), got {row['crs']!r}")
        ]
    try:
        lon, lat = float(lon_text), float(lat_text)
    except ValueError:
        return None, [("lon", f"lon/lat should be decimal degrees, got {lon_text!r}, {lat_text!r}")]
    if not (np.isfinite(lon) and np.isfinite(lat)) or not bool(pcrs.in_china([lon], [lat])[0]):
        return None, [("lon", f"({lon_text}, {lat_text}) is not inside China; lon first, then lat, in degrees")]
    point = shapely.Point(lon, lat)
    if pcrs.is_offset_system(crs):
        return pcrs.offset_to_canonical(np.array([point], dtype=object), crs)[0], []
    if crs != pcrs.STORAGE_CRS:
        point = gpd.GeoSeries([point], crs=crs).to_crs(pcrs.STORAGE_CRS).iloc[0]
    return point, []


def cited_lines(text: str) -> list[tuple[int, int]] | None:
    """``"12;30-32"`` as ``[(12, 12), (30, 32)]``; ``None`` if it is not such a list."""
    spans = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        match = _LINES.fullmatch(part)
        if match is None:
            return None
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first < 1 or last < first:
            return None
        spans.append((first, last))
    return spans


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def place_names(row: Mapping[str, str]) -> list[str]:
    """``name_zh`` and every alias of a row, without blanks."""
    return [n for n in (_squash(row["name_zh"]), *(_squash(a) for a in row["aliases"].split(";"))) if n]


def _citation_problems(
    row: Mapping[str, str], seeds: Path, cache: dict[str, list[str] | None]
) -> list[tuple[str, str]]:
    """Each cited span of ``seed_lines`` should name the place (checked where the seed file is bundled)."""
    seed, lines = row["seed_file"], row["seed_lines"]
    if not seed and not lines:
        return []
    if not seed or not lines:
        return [("seed_lines", "seed_file and seed_lines go together (both empty if the plans do not name the place)")]
    if "/" in seed or "\\" in seed or seed.startswith("."):
        return [("seed_file", f"should be a file name in seeds/, got {seed!r}")]
    spans = cited_lines(lines)
    if spans is None:
        return [("seed_lines", f"should be line numbers or ranges separated by ';' (e.g. 12;30-32), got {lines!r}")]
    if seed not in cache:
        path = seeds / seed
        cache[seed] = path.read_text(encoding="utf-8").splitlines() if path.is_file() else None
    text = cache[seed]
    if text is None:
        return []  # a geodata directory without its seeds: nothing to compare with
    names = place_names(row)
    found = []
    for first, last in spans:
        if last > len(text):
            found.append(("seed_lines", f"line {last} is past the end of {seed} ({len(text)} lines)"))
            continue
        cited = _squash("".join(text[first - 1 : last]))
        if not any(n in cited for n in names):
            span = str(first) if first == last else f"{first}-{last}"
            found.append(("seed_lines", f"{seed} line {span} names neither {row['name_zh']!r} nor an alias"))
    return found


def attach_places(
    frame: pd.DataFrame, gazetteer: Gazetteer, *, column: str, layer: str, origin: Mapping[str, str], key: str
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """``frame`` with each feature's point and :data:`PLACE_FIELDS` taken from the place in ``column``.

    A column the gazetteer provides may not also come from the layer's own files (one place,
    one position); a feature whose place is missing or not in the gazetteer is a problem.
    """
    where = origin.get(column)
    if column not in frame.columns:
        msg = f"column {column!r} (the layer's [geometry] places) is missing"
        return gpd.GeoDataFrame(frame), [Problem(msg, file=where, layer=layer, field=column)]
    problems = [
        Problem(
            f"comes from the gazetteer (places/*.csv) for a layer with [geometry] places; remove it from {origin.get(c)}",
            file=origin.get(c),
            layer=layer,
            field=c,
        )
        for c in (*PLACE_FIELDS, "geometry")
        if c in frame.columns
    ]
    ids = frame[column].astype("string").fillna("").str.strip()
    keys = frame[key].astype(str) if key in frame.columns else pd.Series(range(len(frame))).astype(str)
    for i in np.flatnonzero(~ids.isin(gazetteer.rows.index).to_numpy()):
        pid = ids.iloc[i]
        msg = "no place given" if not pid else f"place {pid!r} is not in the gazetteer (places/*.csv)"
        problems.append(Problem(msg, file=where, layer=layer, feature=keys.iloc[i], field=column))
    if problems:
        return gpd.GeoDataFrame(frame), problems
    places = gazetteer.rows.loc[ids.to_numpy()]
    out = frame.copy()
    for c in PLACE_FIELDS:
        out[c] = places[c].to_numpy()
    out["uncertainty_m"] = pd.array(places["uncertainty_m"].to_numpy(), dtype="Int64")
    return gpd.GeoDataFrame(out, geometry=list(places.geometry), crs=pcrs.STORAGE_CRS), []


def gazetteer_frame(gazetteer: Gazetteer) -> gpd.GeoDataFrame:
    """The whole gazetteer as a layer: one feature per place, plan citation as ``source_file``/``source_lines``."""
    rows = gazetteer.rows.reset_index()
    cited = rows["seed_file"].astype(str) != ""
    rows["source_file"] = rows["seed_file"].where(cited, "gazetteer")
    rows["source_lines"] = rows["seed_lines"].where(cited, NOT_IN_PLANS)
    rows = rows.rename(columns={"file": "gazetteer_file"})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=pcrs.STORAGE_CRS)


def precision_counts(frames: Iterable[pd.DataFrame]) -> dict[str, int]:
    """Features per precision class over several frames, in ladder order."""
    counts = pd.concat([f["precision"] for f in frames if "precision" in f.columns]).value_counts()
    return {c: int(counts[c]) for c in PRECISION_CLASSES if c in counts}


__all__ = [
    "CITED_PRECISION",
    "PLACES_DIR",
    "PLACE_COLUMNS",
    "PLACE_CRS",
    "PLACE_FIELDS",
    "Gazetteer",
    "attach_places",
    "cited_lines",
    "gazetteer_frame",
    "load_gazetteer",
    "place_names",
    "precision_counts",
]
