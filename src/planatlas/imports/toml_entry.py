"""The catalogue entry of an imported layer, written by planatlas (the user never writes TOML)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from planatlas.imports.prepare import PreparedImport

#: Colours of a categorical style over an imported column (cycled).
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
#: A column with more distinct values than this is styled as one colour, not by category.
_MAX_CATEGORIES = len(_PALETTE)


def _text(value: object) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(str(value), ensure_ascii=False)


def _field_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "float"
    return "str"


def _style(prepared: PreparedImport) -> list[str]:
    frame = prepared.frame
    assert frame is not None
    wanted = prepared.options.style_column
    column = {v: k for k, v in prepared.columns.items()}.get(wanted or "", wanted)
    lines = ["", "[style]"]
    if column and column in frame.columns:
        values = [str(v) for v in pd.unique(frame[column].dropna())]
        if 0 < len(values) <= _MAX_CATEGORIES:
            colors = ", ".join(f"{_text(v)} = {_text(_PALETTE[i])}" for i, v in enumerate(sorted(values)))
            lines += ['kind = "categorical"', f"column = {_text(column)}", f"colors = {{ {colors} }}"]
        else:
            lines += ['kind = "single"', f"column = {_text(column)}"]
    else:
        lines.append('kind = "single"')
    lines.append('color = "#d62728"')
    label = next((c for c in ("name", "mc", "name_zh") if c in frame.columns), prepared.key)
    lines.append(f"label = {_text(label)}")
    return lines


def layer_entry(prepared: PreparedImport, record: Mapping[str, Any]) -> str:
    """The ``layers/<name>.toml`` of an imported layer: title, key, fields with the original column names."""
    opts = prepared.options
    frame = prepared.frame
    assert frame is not None
    name = opts.layer
    title_zh = opts.title_zh or opts.title_en or name
    title_en = opts.title_en or opts.title_zh or name
    date = str(record.get("imported_at", ""))[:10]
    crs = f"{prepared.crs} ({'given at import' if prepared.crs_from == 'given' else 'recorded in the file'})"
    lines = [
        f"# Written by planatlas import on {record.get('imported_at', '')}; do not edit (import again to change).",
        f"name = {_text(name)}",
        f"title = {{ zh = {_text(title_zh)}, en = {_text(title_en)} }}",
        f"description = {{ zh = {_text(f'导入自 {prepared.file_name}')}, en = {_text(f'Imported from {prepared.file_name}')} }}",
        f"geometry_type = {_text(prepared.geometry_type)}",
        f"key = {_text(prepared.key)}",
        f"source = {_text(f'imported from {prepared.file_name} (sha256 {prepared.sha256[:12]}) on {date}; CRS {crs}')}",
        f"licence = {_text('the importing office’s own data (terms as that office sets them)')}",
        f"limits = {_text(f'precision {opts.precision} as declared at import; geometry as in the file, converted to EPSG:4490')}",
        "",
        "[geometry]",
        f'source = "sources/{name}.gpkg"',
        'crs = "EPSG:4490"',
    ]
    originals = prepared.columns
    for column in frame.columns:
        if column in ("geometry", "precision", "source_file"):
            continue
        lines += ["", f"[fields.{column}]", f"type = {_text(_field_type(frame[column]))}"]
        if column == prepared.key:
            lines.append("required = true")
        original = originals.get(column) or (prepared.key_from if column == prepared.key else None)
        if column == "source_lines":
            original = "plan lines"
        if original:
            lines.append(f"title = {{ zh = {_text(original)}, en = {_text(original)} }}")
    lines += _style(prepared)
    return "\n".join(lines) + "\n"
