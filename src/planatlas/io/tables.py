"""CSV tables (plan attributes, lon/lat sources): read whole as text, or refused with the row and column named."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pandas as pd

from planatlas.errors import Problem, SourceError
from planatlas.io.files import checked_size
from planatlas.io.geometry import MAX_LISTED

#: Default cap on a single table file.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def read_table(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> pd.DataFrame:
    """Read a UTF-8 CSV table as strings (empty cells stay ``""``).

    The header must name every column once; every row must have as many fields as the header (a
    row with one more would otherwise shift its values into the next column, or turn the first
    column into an index); no cell may hold a NUL character (PostgreSQL text cannot).

    Raises
    ------
    SourceError
        Every problem found, located by file, row (``row n`` is line n of a file without quoted
        line breaks, the header being row 1) and column.
    """
    path = Path(path)
    name = path.name
    checked_size(path, max_bytes=max_bytes)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text (byte {exc.start}); save the table as UTF-8"
        raise SourceError(msg, file=name) from exc
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), strict=True) if row]
    except csv.Error as exc:
        msg = f"not a well-formed CSV: {exc}"
        raise SourceError(msg, file=name) from exc
    if not rows:
        msg = "the file holds no header row (only blank lines)"
        raise SourceError(msg, file=name)
    header = [c.strip() for c in rows[0]]
    problems = _header_problems(header, file=name)
    problems += _row_problems(header, rows[1:], file=name)
    if problems:
        if len(problems) > MAX_LISTED:
            more = len(problems) - MAX_LISTED
            problems = [*problems[:MAX_LISTED], Problem(f"… and {more} more problems", file=name)]
        raise SourceError(problems)
    return pd.DataFrame(rows[1:], columns=header, dtype=str)


def _header_problems(header: list[str], *, file: str) -> list[Problem]:
    problems = [
        Problem(f"the header's column {i + 1} has no name", file=file, feature="row 1")
        for i, col in enumerate(header)
        if not col
    ]
    problems += [
        Problem(f"the header names column {col!r} {n} times; each column once", file=file, feature="row 1", field=col)
        for col, n in Counter(header).items()
        if col and n > 1
    ]
    return problems


def _row_problems(header: list[str], rows: list[list[str]], *, file: str) -> list[Problem]:
    problems: list[Problem] = []
    for i, row in enumerate(rows, start=2):
        if len(row) != len(header):
            msg = f"has {len(row)} fields but the header {len(header)}; quote values holding ','"
            problems.append(Problem(msg, file=file, feature=f"row {i}"))
            continue
        problems += [
            Problem("holds a NUL character (byte 0)", file=file, feature=f"row {i}", field=col)
            for col, cell in zip(header, row, strict=True)
            if "\x00" in cell
        ]
    return problems
