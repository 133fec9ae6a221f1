"""The notes at the foot of a printed page: the sources cited, the precision of what is drawn, the CRS and date.

Every drawn feature carries its provenance (``source_file``, ``source_lines``, ``precision``);
the notes name the seed files with merged line ranges and the layers drawn below 'surveyed'
precision, so a reader of the paper knows what is schematic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from planatlas import __version__
from planatlas.i18n import texts
from planatlas.maps import schematic_note
from planatlas.plans import plan_title, whole_metres
from planatlas.render.labels import fit_text
from planatlas.render.layers import MapLayer
from planatlas.render.page import Box, Sheet


def merge_line_ranges(values: Iterable[object], *, limit: int = 6) -> str:
    """``'266', '268-270;294'`` -> ``'266, 268–270, 294'`` (first ``limit`` ranges, then '…')."""
    numbers: set[int] = set()
    for value in values:
        for piece in re.split(r"[;,\s]+", str(value or "")):
            m = re.fullmatch(r"(\d+)(?:\s*[-–]\s*(\d+))?", piece.strip())
            if m:
                a = int(m.group(1))
                b = int(m.group(2) or a)
                numbers.update(range(min(a, b), max(a, b) + 1))
    if not numbers:
        return ""
    ordered = sorted(numbers)
    ranges: list[tuple[int, int]] = []
    start = prev = ordered[0]
    for n in ordered[1:]:
        if n != prev + 1:
            ranges.append((start, prev))
            start = n
        prev = n
    ranges.append((start, prev))
    text = ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in ranges[:limit])
    return text + (", …" if len(ranges) > limit else "")


def precision_counts(layers: Sequence[MapLayer]) -> dict[str, dict[str, int]]:
    """``{precision class: {layer title: feature count}}`` over the drawn features."""
    out: dict[str, dict[str, int]] = {}
    for layer in layers:
        if "precision" not in layer.frame.columns:
            continue
        for cls, n in layer.frame["precision"].value_counts().items():
            out.setdefault(str(cls), {})[layer.title] = int(n)
    return out


def precision_notes(layers: Sequence[MapLayer], lang: str) -> list[str]:
    """Sentences naming the layers at each precision class below 'surveyed' (schematic first)."""
    words = texts("print_", lang)
    counts = precision_counts(layers)
    sep = "、" if lang == "zh" else ", "
    notes = []
    for cls in ("schematic", "street", "address", "sourced"):
        if cls not in counts:
            continue
        titles = sep.join(counts[cls])
        if cls == "schematic":
            note = schematic_note(lang).rstrip("。.")
            notes.append(f"{note}（{titles}）" if lang == "zh" else f"{note} ({titles})")
        else:
            notes.append(words[cls].format(layers=titles))
    return notes


def source_note(layers: Sequence[MapLayer], lang: str, *, limit: int = 4) -> str:
    """'seed file (lines …)' for every source file the drawn features cite."""
    words = texts("print_", lang)
    lines_by_file: dict[str, list[object]] = {}
    for layer in layers:
        frame = layer.frame
        if "source_file" not in frame.columns:
            continue
        cited = frame["source_lines"] if "source_lines" in frame.columns else [""] * len(frame)
        for file, lines in zip(frame["source_file"], cited, strict=True):
            if file is None or (isinstance(file, float) and math.isnan(file)):
                continue
            lines_by_file.setdefault(str(file), []).append(lines)
    parts = []
    for file, cited_lines in sorted(lines_by_file.items()):
        merged = merge_line_ranges(cited_lines, limit=limit)
        title = plan_title(file, lang)
        parts.append(f"{title} ({words['lines'].format(lines=merged)})" if merged else title)
    return "; ".join(parts)


def uncertainty_note(layers: Sequence[MapLayer], lang: str) -> str:
    """'positions ±75–1500 m (12 schematic)' over the drawn features that state an uncertainty."""
    words = texts("print_", lang)
    metres: list[int] = []
    schematic = 0
    for layer in layers:
        frame = layer.frame
        if "uncertainty_m" not in frame.columns:
            continue
        values = [m for m in (whole_metres(v) for v in frame["uncertainty_m"]) if m is not None]
        metres += values
        if "precision" in frame.columns:
            schematic += int((frame["precision"] == "schematic").sum())
    if not metres:
        return ""
    lo, hi = min(metres), max(metres)
    note = words["uncertainty"].format(lo=lo, hi=hi) if lo != hi else words["uncertainty_one"].format(lo=lo)
    if schematic:
        extra = words["uncertainty_schematic"].format(n=schematic)
        note += f"（{extra}）" if lang == "zh" else f" ({extra})"
    return note


def _source_label(source: str) -> str:
    """A page or dataset short enough for a printed note: a URL's host (and repository on GitHub)."""
    match = re.match(r"https?://([^/\s]+)(/[^/\s]+/[^/\s]+)?", source)
    if match is None:
        return source if len(source) <= 48 else source[:47] + "…"
    host = match.group(1)
    return host + (match.group(2) or "") if host == "github.com" else host


def position_sources_note(layers: Sequence[MapLayer], *, limit: int = 3) -> str:
    """The pages and datasets the drawn positions come from (``position_source``), most used first."""
    counts: dict[str, int] = {}
    for layer in layers:
        frame = layer.frame
        if "position_source" not in frame.columns:
            continue
        for value in frame["position_source"]:
            for part in str(value or "").split(" ; "):
                part = part.strip()
                if part and part != "nan":
                    label = _source_label(part)
                    counts[label] = counts.get(label, 0) + 1
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    return "; ".join(ranked[:limit]) + ("; …" if len(ranked) > limit else "")


def draw_notes(sheet: Sheet, box: Box, layers: Sequence[MapLayer], *, extra: Sequence[str] = ()) -> None:
    """Sources, ``extra`` lines, precision notes and the CRS/version/date line, fitted to ``box``."""
    lang = sheet.spec.lang
    words = texts("print_", lang)
    sep = "：" if lang == "zh" else ": "
    parts = []
    sources = source_note(layers, lang)
    if sources:
        parts.append(f"{words['sources']}{sep}{sources}")
    parts.extend(extra)
    notes = precision_notes(layers, lang)
    uncertainty = uncertainty_note(layers, lang)
    if uncertainty:
        notes = [uncertainty, *notes]
    if notes:
        parts.append(f"{words['precision']}{sep}" + ("；" if lang == "zh" else "; ").join(notes))
    parts.append(f"{words['crs']} · {words['made'].format(version=__version__, date=sheet.spec.today.isoformat())}")
    positions = position_sources_note(layers)
    if positions:  # last: on a crowded page it is what gets shortened
        parts.append(f"{words['position_sources']}{sep}{positions}")
    x, y, w, h = box
    lines, fitted, _ = fit_text(
        "\n".join(parts),
        width_pt=w / 25.4 * 72 / sheet.s,
        height_pt=h / 25.4 * 72 / sheet.s,
        fontsize=6.0,
        min_fontsize=4.5,
    )
    sheet.lines(x, y, lines, size=fitted, leading=1.35, color="#333333")
