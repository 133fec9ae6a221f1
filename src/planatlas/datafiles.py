"""Packaged data files: TOML tables read lazily from the package and turned into typed values.

The map presets (``maps/presets/*.toml``), their label tables and the UI texts (``texts.toml``) are
data, not code. :func:`read_toml` reads one packaged file through :mod:`importlib.resources` (so an
installed wheel works as a checkout does); :class:`LazyMapping` is a read-only mapping that calls its
loader on first use, so importing planatlas reads no file; :func:`build` turns a TOML table into a
frozen dataclass by the dataclass' type hints and :func:`convert` a value into any such type, with
every error located::

    xihu.toml: preset 'metro', layer 'stations', field 'style.kind': should be one of 'single', 'categorical', 'graduated', got 'pie'
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar, Union, cast, get_args, get_origin, get_type_hints

from planatlas.errors import DataFileError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D", bound="DataclassInstance")

#: Converters for types whose TOML form is not their fields: ``{type: convert(value, where, path)}``.
Special = Mapping[object, Callable[[object, str, str], object]]

__all__ = ["LazyMapping", "Special", "build", "convert", "fail", "read_toml", "text_entry", "text_table"]


def read_toml(package: str, name: str) -> dict[str, Any]:
    """The packaged TOML file ``name`` of ``package``, parsed."""
    try:
        text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
        return tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        msg = f"{name}: cannot read the data file ({exc})"
        raise DataFileError(msg) from exc


class LazyMapping(Mapping[K, V]):
    """A read-only mapping of what ``load()`` returns; ``load`` runs on first use (cache it)."""

    def __init__(self, load: Callable[[], Mapping[K, V]]) -> None:
        self._load = load

    def __getitem__(self, key: K) -> V:
        return self._load()[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return f"LazyMapping({dict(self._load())!r})"


def fail(where: str, path: str, message: str) -> NoReturn:
    """Raise :class:`DataFileError` ``"<where>, field '<path>': <message>"``."""
    msg = f"{where}, field {path!r}: {message}" if path else f"{where}: {message}"
    raise DataFileError(msg)


def _join(path: str, name: object) -> str:
    return f"{path}.{name}" if path else str(name)


def _one_of(values: Sequence[object]) -> str:
    return ", ".join(repr(v) for v in values)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def build(cls: type[D], data: object, where: str, path: str = "", special: Special | None = None) -> D:
    """An instance of dataclass ``cls`` from a TOML table (an instance passes through).

    Fields are converted by their type hints (:func:`convert`); an unknown or missing field, a
    value of the wrong type and an error of the dataclass' own checks raise :class:`DataFileError`
    naming ``where`` and the field ``path``.
    """
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        fail(where, path, f"should be a table, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for name in data:
        if name not in fields:
            fail(where, _join(path, name), f"unknown field, should be one of {', '.join(fields)}")
    for name, f in fields.items():
        if name not in data and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            fail(where, _join(path, name), "is required")
    hints = _hints(cls)
    kwargs = {name: convert(hints[name], value, where, _join(path, name), special) for name, value in data.items()}
    try:
        return cls(**kwargs)
    except ValueError as exc:
        fail(where, path, str(exc))


def _describe(tp: object) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    if get_origin(tp) in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in get_args(tp) if a is not type(None))
    if get_origin(tp) in (tuple, Sequence):
        return "a list"
    return names.get(cast("type", tp), "a table")


def _convert_union(tp: object, value: object, where: str, path: str, special: Special | None) -> object:
    members = [a for a in get_args(tp) if a is not type(None)]
    if len(members) == 1:
        return convert(members[0], value, where, path, special)
    for member in members:
        try:
            return convert(member, value, where, path, special)
        except DataFileError:
            continue
    fail(where, path, f"should be {_describe(tp)}, got {value!r}")


def _convert_scalar(tp: object, value: object, where: str, path: str) -> object:
    if tp is bool and isinstance(value, bool):
        return value
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp is str and isinstance(value, str):
        return value
    if tp not in (bool, int, float, str):
        msg = f"no TOML form for {tp!r}"
        raise TypeError(msg)
    fail(where, path, f"should be {_describe(tp)}, got {value!r}")


def convert(tp: object, value: object, where: str, path: str, special: Special | None = None) -> object:
    """``value`` (parsed TOML) as type ``tp``: a scalar, ``Literal``, union, tuple, mapping or dataclass.

    TOML arrays become tuples, tables dicts (or dataclasses), integers floats where a float is
    wanted; ``special`` converts the types listed in it.
    """
    if special and tp in special:
        return special[tp](value, where, path)
    origin = get_origin(tp)
    if origin is Literal:
        allowed = get_args(tp)
        if not any(value == a and type(value) is type(a) for a in allowed):
            fail(where, path, f"should be one of {_one_of(allowed)}, got {value!r}")
        return value
    if origin in (Union, types.UnionType):
        return _convert_union(tp, value, where, path, special)
    if origin in (tuple, Sequence):
        if not isinstance(value, list | tuple):
            fail(where, path, f"should be a list, got {value!r}")
        item = get_args(tp)[0]
        return tuple(convert(item, v, where, f"{path}[{i}]", special) for i, v in enumerate(value))
    if origin in (dict, Mapping):
        if not isinstance(value, dict):
            fail(where, path, f"should be a table, got {value!r}")
        key_type, value_type = get_args(tp)
        return {
            convert(key_type, k, where, path, special): convert(value_type, v, where, _join(path, k), special)
            for k, v in value.items()
        }
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return build(tp, value, where, path, special)
    return _convert_scalar(tp, value, where, path)


def text_entry(value: object, where: str, path: str, langs: Sequence[str]) -> dict[str, str]:
    """One text ``{"zh": …, "en": …}``, in every one of ``langs`` and no other."""
    entry = cast("dict[str, str]", convert(Mapping[str, str], value, where, path))
    if any(not entry.get(lang) for lang in langs) or set(entry) - set(langs):
        fail(where, path, f"should give a text in each of {_one_of(langs)}, got {entry!r}")
    return entry


def text_table(value: object, where: str, path: str, langs: Sequence[str]) -> dict[str, dict[str, str]]:
    """A table of texts ``{key: {"zh": …, "en": …}}`` (see :func:`text_entry`)."""
    if not isinstance(value, dict):
        fail(where, path, f"should be a table, got {value!r}")
    return {str(key): text_entry(entry, where, _join(path, key), langs) for key, entry in value.items()}
