"""What a derivation declares, and the check of a layer's ``params`` against it.

Each derivation is registered with a :class:`DerivationSpec`: its params as a :class:`Table` of
typed values (numbers finite, positive where a length must be; names of layers it reads; paths of
side-input files), and what its geometry source must hold. :func:`check_params` reports every
value that does not fit, located in the layer's ``.toml`` by its dotted param path
(``params.features.core.radius_m``), before the derivation runs, so a bad param is a located
problem rather than a traceback inside the derivation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from planatlas.catalog import relative_path_problem
from planatlas.errors import Problem

if TYPE_CHECKING:
    from planatlas.catalog import LayerSpec
    from planatlas.derive.context import Derivation

#: (dotted param path, what is wrong there) pairs, as a param check returns them.
Finding = tuple[str, str]


class Param(Protocol):
    """One declared param: ``check`` returns what is wrong with a value, located by dotted path."""

    def check(self, value: object, at: str, spec: LayerSpec) -> list[Finding]: ...


def _got(value: object) -> str:
    return f"got {value!r} ({type(value).__name__})"


@dataclass(frozen=True)
class Text:
    """A non-empty text value, optionally one of ``choices`` or matching ``pattern`` (whole value)."""

    choices: tuple[str, ...] | None = None
    pattern: str | None = None

    def check(self, value: object, at: str, spec: LayerSpec) -> list[Finding]:
        if not isinstance(value, str) or not value.strip():
            return [(at, f"should be non-empty text, {_got(value)}")]
        if self.choices is not None and value not in self.choices:
            return [(at, f"should be one of {list(self.choices)}, got {value!r}")]
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            return [(at, f"should match {self.pattern}, got {value!r}")]
        return []


@dataclass(frozen=True)
class LayerName:
    """The name of a layer the derivation reads: it must be listed in the layer's ``depends``."""

    def check(self, value: object, at: str, spec: LayerSpec) -> list[Finding]:
        if not isinstance(value, str) or not value:
            return [(at, f"should be the name of a layer, {_got(value)}")]
        if value not in spec.depends:
            return [(at, f"names layer {value!r}, which is not in 'depends' {list(spec.depends)}")]
        return []


@dataclass(frozen=True)
class Number:
    """A finite number (TOML integer or float, not a boolean), above ``minimum`` if one is given.

    ``unit`` is named in messages (``"metres"``); ``inclusive`` lets the value equal ``minimum``.
    """

    minimum: float | None = 0.0
    inclusive: bool = False
    unit: str = "metres"

    def check(self, value: object, at: str, spec: LayerSpec) -> list[Finding]:
        what = "a finite number"
        if self.minimum is not None:
            what = f"a finite number {'≥' if self.inclusive else '>'} {self.minimum:g}"
        what += f" of {self.unit}" if self.unit else ""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [(at, f"should be {what}, {_got(value)}")]
        number = float(value)
        if not math.isfinite(number):
            return [(at, f"should be {what}, got {value!r}")]
        if self.minimum is not None and (number < self.minimum or (number == self.minimum and not self.inclusive)):
            return [(at, f"should be {what}, got {value!r}")]
        return []


@dataclass(frozen=True)
class ListOf:
    """A list of ``item`` values, of ``min_len`` to ``max_len`` entries; ``single`` also takes one bare item."""

    item: Param
    min_len: int = 0
    max_len: int | None = None
    single: bool = False

    def check(self, value: object, at: str, spec: LayerSpec) -> list[Finding]:
        if self.single and not isinstance(value, list):
            return self.item.check(value, at, spec)
        if not isinstance(value, list):
            return [(at, f"should be a list, {_got(value)}")]
        if len(value) < self.min_len or (self.max_len is not None and len(value) > self.max_len):
            size = f"{self.min_len}" if self.max_len == self.min_len else f"{self.min_len} to {self.max_len or 'any'}"
            return [(at, f"should list {size} entries, got {len(value)}")]
        return [found for i, item in enumerate(value) for found in self.item.check(item, f"{at}[{i}]", spec)]


@dataclass(frozen=True)
class MapOf:
    """A table from text keys (at least ``min_len`` of them) to ``value`` values."""

    value: Param
    min_len: int = 0

    def check(self, value: object, at: str, spec: LayerSpec) -> list[Finding]:
        if not isinstance(value, Mapping):
            return [(at, f"should be a table, {_got(value)}")]
        if len(value) < self.min_len:
            return [(at, f"should have at least {self.min_len} entries, got {len(value)}")]
        return [found for key, item in value.items() for found in self.value.check(item, f"{at}.{key}", spec)]


@dataclass(frozen=True)
class Table:
    """A table with ``required`` and ``optional`` keys; any other key is refused (a misspelt param)."""

    required: Mapping[str, Param] = field(default_factory=dict)
    optional: Mapping[str, Param] = field(default_factory=dict)

    def check(self, value: object, at: str, spec: LayerSpec) -> list[Finding]:
        if not isinstance(value, Mapping):
            return [(at, f"should be a table, {_got(value)}")]
        known = {**self.required, **self.optional}
        found: list[Finding] = [(f"{at}.{k}", "is required") for k in self.required if k not in value]
        found += [
            (f"{at}.{k}", f"is not a param of this table; known: {', '.join(sorted(known)) or 'none'}")
            for k in value
            if k not in known
        ]
        for k, param in known.items():
            if k in value:
                found += param.check(value[k], f"{at}.{k}", spec)
        return found


@dataclass(frozen=True)
class Tagged:
    """A table whose ``tag`` key chooses which :class:`Table` it must be (a rule kind)."""

    tag: str
    variants: Mapping[str, Table]

    def check(self, value: object, at: str, spec: LayerSpec) -> list[Finding]:
        if not isinstance(value, Mapping):
            return [(at, f"should be a table, {_got(value)}")]
        kind = value.get(self.tag)
        if not isinstance(kind, str) or kind not in self.variants:
            return [(f"{at}.{self.tag}", f"should be one of {sorted(self.variants)}, got {kind!r}")]
        variant = self.variants[kind]
        return Table({self.tag: Text(), **variant.required}, variant.optional).check(value, at, spec)


@dataclass(frozen=True)
class GeometryFile:
    """A side-input geometry file inside the geodata directory, read in the CRS named by ``crs_param``.

    Its features must be of ``types``, valid, inside China and, where they carry ``precision``,
    of a known precision class: the checks a layer's own source gets.
    """

    types: tuple[str, ...]
    crs_param: str
    default_crs: str = "EPSG:4490"

    def check(self, value: object, at: str, spec: LayerSpec) -> list[Finding]:
        problem = relative_path_problem(value)
        return [] if problem is None else [(at, problem)]


@dataclass(frozen=True)
class TableFile:
    """A side-input attribute table (CSV) inside the geodata directory."""

    def check(self, value: object, at: str, spec: LayerSpec) -> list[Finding]:
        problem = relative_path_problem(value)
        return [] if problem is None else [(at, problem)]


@dataclass(frozen=True)
class SourceRule:
    """What a derivation's geometry source must hold: geometry ``types``; ``allow_missing`` rows without one.

    ``required``: the layer must name a source (else the derivation can work without one).
    """

    types: tuple[str, ...]
    allow_missing: bool = False
    required: bool = True


@dataclass(frozen=True)
class DerivationSpec:
    """A registered derivation: the function, its declared params, and its geometry source rule.

    ``source`` is ``None`` for a derivation that takes no geometry source (a layer naming one is refused).
    """

    func: Derivation
    params: Table
    source: SourceRule | None = None

    def side_inputs(self) -> dict[str, GeometryFile | TableFile]:
        """The params naming files the build reads for the derivation, by param name."""
        declared = {**self.params.required, **self.params.optional}
        return {k: p for k, p in declared.items() if isinstance(p, GeometryFile | TableFile)}


def check_params(spec: LayerSpec, declared: DerivationSpec) -> list[Problem]:
    """Every way the layer's ``params`` (and geometry source) miss the derivation's declaration.

    Each problem names the layer's ``.toml`` as file, the layer, and the dotted param path as field.
    """
    where = spec.path
    problems = [
        Problem(message, file=where, layer=spec.name, field=at)
        for at, message in declared.params.check(spec.geometry.params, "params", spec)
    ]
    if declared.source is None and spec.geometry.source:
        msg = f"derivation {spec.geometry.derive!r} takes no geometry source, got {spec.geometry.source!r}"
        problems.append(Problem(msg, file=where, layer=spec.name, field="source"))
    if declared.source is not None and declared.source.required and not spec.geometry.source:
        msg = f"derivation {spec.geometry.derive!r} needs a geometry source of {', '.join(declared.source.types)}"
        problems.append(Problem(msg, file=where, layer=spec.name, field="source"))
    return problems
