"""Provenance: parse a feature's ``source_lines`` and fetch the plan text it cites."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_RANGE = re.compile(r"^\s*(\d+)\s*(?:[-–]\s*(\d+))?\s*$")


def parse_lines(source_lines: str) -> list[tuple[int, int]]:
    """``"410-415;433"`` → ``[(410, 415), (433, 433)]``; raises ValueError naming the bad part."""
    spans = []
    for part in re.split(r"[;,，；]", str(source_lines)):
        if not part.strip():
            continue
        m = _RANGE.match(part)
        if not m:
            msg = f"source_lines should look like '412' or '410-415;433', got {source_lines!r}"
            raise ValueError(msg)
        start, end = int(m.group(1)), int(m.group(2) or m.group(1))
        if end < start or start < 1:
            msg = f"source_lines range {part.strip()!r} is empty or starts before line 1"
            raise ValueError(msg)
        spans.append((start, end))
    if not spans:
        msg = f"source_lines is empty: {source_lines!r}"
        raise ValueError(msg)
    return spans


@lru_cache(maxsize=8)
def _seed_lines(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8").splitlines())


def cited_text(geodata_dir: str | Path, source_file: str, source_lines: str, *, max_chars: int = 1200) -> str:
    """The plan text a feature cites (from ``geodata/seeds/``), blank lines dropped, truncated."""
    path = Path(geodata_dir) / "seeds" / source_file
    if not path.is_file():
        return ""
    lines = _seed_lines(path)
    parts: list[str] = []
    for start, end in parse_lines(source_lines):
        parts.extend(line.strip() for line in lines[start - 1 : end] if line.strip())
    text = "\n".join(parts)
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def seed_line_count(geodata_dir: str | Path, source_file: str) -> int | None:
    """How many lines the plan document ``source_file`` has, or None when it is not in ``geodata/seeds/``."""
    path = Path(geodata_dir) / "seeds" / source_file
    return len(_seed_lines(path)) if path.is_file() else None
