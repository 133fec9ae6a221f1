"""Tables as an Excel workbook (XLSX, one sheet per table), for downloads: openpyxl, imported when used.

Text cells that a spreadsheet would run (``= + - @``…) are written as text with a leading quote,
as CSV files are (:func:`planatlas.io.writers.csv_cell`); missing values are empty cells.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from planatlas.io.writers import csv_cell

__all__ = ["xlsx_bytes"]

#: Excel's limit on a sheet name.
_SHEET_NAME_MAX = 31


def _cell(value: Any) -> Any:  # noqa: ANN401 - any table value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | int | float | str):
        return csv_cell(value)
    if hasattr(value, "item"):  # numpy scalars
        return _cell(value.item())
    return str(csv_cell(str(value)))


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """The bytes of an XLSX workbook with one sheet per ``{name: table}`` (names cut to 31 characters)."""
    try:
        from openpyxl import Workbook  # noqa: PLC0415 - optional heavy import, only for this download
    except ModuleNotFoundError as exc:
        msg = "XLSX downloads need openpyxl: pip install openpyxl"
        raise ModuleNotFoundError(msg) from exc
    book = Workbook()
    book.remove(book.active)
    for name, table in sheets.items():
        sheet = book.create_sheet(title=str(name)[:_SHEET_NAME_MAX])
        frame = pd.DataFrame(table)
        if "geometry" in frame.columns:
            frame = frame.drop(columns="geometry")
        sheet.append([_cell(str(c)) for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
