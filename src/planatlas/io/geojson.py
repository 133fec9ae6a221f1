"""GeoJSON text checks GDAL does not make: members given twice in one object (a JSON reader keeps only the last)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from planatlas.errors import Problem, SourceError
from planatlas.io.geometry import MAX_LISTED


class _Members(dict[str, Any]):
    """A JSON object that remembers the members its text gave more than once."""

    repeated: dict[str, int]

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> _Members:
        obj = cls(pairs)
        counts = Counter(k for k, _ in pairs)
        obj.repeated = {k: n for k, n in counts.items() if n > 1}
        return obj


def check_members(path: Path, *, key: str | None = None) -> None:
    """Refuse a JSON file that is not UTF-8 JSON or that gives a member twice in one object.

    ``{"name": "a", "name": "b"}`` is legal JSON text but its meaning is undefined; GDAL (like most
    readers) keeps the last value and says nothing, so one of the two values would be lost silently.

    Raises
    ------
    SourceError
        One problem per repeated member, naming the feature (its ``key`` property, else ``#n``) and
        the member (``field`` is the property name, or ``geometry``).
    """
    name = path.name
    try:
        doc = json.loads(path.read_bytes(), object_pairs_hook=_Members.from_pairs)
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text (byte {exc.start}); GeoJSON must be UTF-8"
        raise SourceError(msg, file=name) from exc
    except json.JSONDecodeError as exc:
        msg = f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise SourceError(msg, file=name) from exc
    except RecursionError as exc:
        msg = "not readable JSON: nested too deeply"
        raise SourceError(msg, file=name) from exc
    problems = [_locate(where, member, times, doc, file=name, key=key) for where, member, times in _repeats(doc, ())]
    problems += _nul_problems(doc, file=name, key=key)
    problems += _coordinate_problems(doc, file=name, key=key)
    if len(problems) > MAX_LISTED:
        more = len(problems) - MAX_LISTED
        problems = [*problems[:MAX_LISTED], Problem(f"… and {more} more repeated members", file=name)]
    if problems:
        raise SourceError(problems)


def _repeats(node: object, where: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str, int]]:
    """(path to the object, member, times) for every member given more than once, depth first."""
    stack: list[tuple[object, tuple[str | int, ...]]] = [(node, where)]
    while stack:
        current, at = stack.pop()
        if isinstance(current, _Members):
            for member, times in current.repeated.items():
                yield at, member, times
            stack.extend((value, (*at, k)) for k, value in reversed(current.items()))
        elif isinstance(current, list):
            stack.extend((value, (*at, i)) for i, value in reversed(list(enumerate(current))))


def _locate(
    where: tuple[str | int, ...], member: str, times: int, doc: object, *, file: str, key: str | None
) -> Problem:
    message = f"member {member!r} is given {times} times in one object; a reader keeps only the last value"
    if len(where) < 2 or where[0] != "features" or not isinstance(where[1], int):  # not inside a feature
        inside = "/".join(map(str, where)) or "the top-level object"
        return Problem(f"{message} (in {inside})", file=file)
    index = where[1]
    feature = doc["features"][index] if isinstance(doc, dict) else None
    props = feature.get("properties") if isinstance(feature, dict) else None
    label = f"#{index + 1}"
    if key is not None and isinstance(props, dict) and props.get(key) not in (None, ""):
        label = str(props[key])
    rest = where[2:]
    if not rest:
        field = "geometry" if member == "geometry" else member
        return Problem(message, file=file, feature=label, field=field)
    if rest[0] == "properties":
        field = member if len(rest) == 1 else str(rest[1])
        return Problem(message, file=file, feature=label, field=field)
    if rest[0] == "geometry":
        return Problem(message, file=file, feature=label, field="geometry")
    return Problem(f"{message} (in {'/'.join(map(str, rest))})", file=file, feature=label)


def _nul_problems(doc: object, *, file: str, key: str | None) -> list[Problem]:
    """Property texts holding a NUL character: GDAL cuts the text there, so the rest would be lost silently."""
    features = doc.get("features") if isinstance(doc, dict) else None
    problems: list[Problem] = []
    for i, feature in enumerate(features if isinstance(features, list) else []):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            continue
        label = str(props[key]) if key is not None and props.get(key) not in (None, "") else f"#{i + 1}"
        problems += [
            Problem("holds a NUL character (byte 0)", file=file, feature=label, field=str(field))
            for field, value in props.items()
            if isinstance(value, str) and "\x00" in value
        ]
    return problems


def _coordinate_problems(doc: object, *, file: str, key: str | None) -> list[Problem]:
    """Geometries whose coordinates are not all numbers: GDAL drops the whole geometry and says nothing."""
    features = doc.get("features") if isinstance(doc, dict) else None
    problems: list[Problem] = []
    for i, feature in enumerate(features if isinstance(features, list) else []):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict):
            continue
        bad = _first_non_number(geometry.get("coordinates", []))
        if bad is _NONE:
            continue
        props = feature.get("properties") if isinstance(feature, dict) else None
        label = f"#{i + 1}"
        if key is not None and isinstance(props, dict) and props.get(key) not in (None, ""):
            label = str(props[key])
        msg = f"coordinates should be numbers, got {bad!r}; a reader would drop the whole geometry"
        problems.append(Problem(msg, file=file, feature=label, field="geometry"))
    return problems


_NONE = object()


def _first_non_number(node: object) -> object:
    """The first leaf of a coordinates array that is not a number, or ``_NONE``."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            stack.extend(reversed(current))
        elif isinstance(current, bool) or not isinstance(current, int | float):
            return current
    return _NONE
