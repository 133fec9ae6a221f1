"""The layer catalogue: one declarative spec per layer, read from ``geodata/layers/*.toml``."""

from __future__ import annotations

import codecs
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import UnionType
from typing import Any

from planatlas.errors import CatalogError, LayerNotFoundError

GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "None",
)
FIELD_TYPES = {"str": str, "int": int, "float": float, "bool": bool}
#: The precision ladder, finest first: official data; a cited published coordinate or permissive dataset;
#: placed at a cited intersection or address; somewhere in its street or town; drawn from plan wording;
#: no geometry (listed, never drawn).
PRECISION_CLASSES = ("surveyed", "sourced", "address", "street", "schematic", "unlocated")
#: Precision of features the plan names but nobody can place: stored without geometry, never drawn.
UNLOCATED = "unlocated"
#: Precision classes of drawn features, most precise first (legends and print notes follow it).
PRECISION_ORDER = ("surveyed", "sourced", "address", "street", "schematic")
#: Languages every user-facing text is written in; the first is the default.
LANGS = ("zh", "en")
#: The plan documents bundled in ``geodata/seeds/``: Xihu industry plan 2022–2025, Xinjian 14th five-year plan.
SEED_XIHU = "000_f23723ccf6c3a3ea.txt"
SEED_XINJIAN = "001_d4b95dcfe9f62ad4.txt"
#: Fields every geometry feature must carry (from its source or a joined table).
PROVENANCE_FIELDS = ("precision", "uncertainty_m", "source_file", "source_lines")
#: ``uncertainty_m`` of a feature whose source states none, by precision class: the stated value of
#: schematic geometry (drawn from plan wording). Every other class states its own (a point's comes
#: from the gazetteer or its street's radius); ``unlocated`` features have none.
STATED_UNCERTAINTY_M = {"schematic": 1000}
#: Columns a layer with ``[geometry] places`` takes from the gazetteer (besides geometry and ``precision``).
PLACE_FIELDS = ("precision", "uncertainty_m", "position_source", "position_licence", "placed_by")
#: Layer names the rest of the product relies on.
#: What a layer, key, field or join-key name may be: it becomes a table or column name in
#: GeoPackage and PostGIS, so lower-case ASCII, and at most 63 characters (PostgreSQL's limit).
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,62}")
#: Layer-name prefixes the stores keep for themselves: the atlas metadata table (planatlas_metadata),
#: GeoPackage's and SQLite's system tables and spatial indexes, PostgreSQL's catalogues.
RESERVED_LAYER_PREFIXES = ("planatlas_", "gpkg_", "rtree_", "sqlite_", "pg_")
CORE_LAYERS = (
    "districts",
    "streets",
    "zones",
    "buildings",
    "business_districts",
    "attractions",
    "metro_stations",
    "metro_lines",
    "hq_enterprises",
    "plan_indicators",
    "jiuwang_roads",
    "jiuwang_areas",
)

#: The one colour notation of styles (catalogue ``[style]`` and map presets): ``#rrggbb``.
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
#: Keys of a catalogue ``[style]`` table that hold one colour, and those holding several.
_STYLE_COLOR_KEYS = ("color", "stroke_color")
_STYLE_COLOR_TABLES = ("colors", "palette")


def is_hex_color(value: object) -> bool:
    """Whether ``value`` is a ``#rrggbb`` colour (the only notation styles accept)."""
    return isinstance(value, str) and HEX_COLOR.fullmatch(value) is not None


def _check_style_colors(style: object, where: str) -> None:
    """Refuse a ``[style]`` table whose colours are not ``#rrggbb``, naming every bad entry at once."""
    if not isinstance(style, Mapping):
        msg = f"{where} [style] should be a table, got {style!r}"
        raise CatalogError(msg)
    bad = [f"{key} = {style[key]!r}" for key in _STYLE_COLOR_KEYS if key in style and not is_hex_color(style[key])]
    for key in _STYLE_COLOR_TABLES:
        colors = style.get(key)
        if colors is None:
            continue
        items = (
            colors.items() if isinstance(colors, Mapping) else enumerate(colors) if isinstance(colors, list) else None
        )
        if items is None:
            bad.append(f"{key} = {colors!r} (a table or list of colours)")
            continue
        bad += [f"{key}.{name} = {value!r}" for name, value in items if not is_hex_color(value)]
    if bad:
        msg = f"{where} [style] colours should be '#rrggbb': {'; '.join(bad)}"
        raise CatalogError(msg)


@dataclass(frozen=True)
class FieldSpec:
    """Schema of one attribute: type, whether it must be filled, allowed values."""

    name: str
    type: str = "str"
    required: bool = False
    enum: tuple[Any, ...] | None = None
    title: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JoinSpec:
    """A plan-attribute table joined to the layer's geometries on ``on``."""

    table: str
    on: str
    optional: bool = False


@dataclass(frozen=True)
class GeometrySpec:
    """Where a layer's geometry comes from: a source file, a derivation, or both."""

    source: str | None = None
    crs: str | None = None
    derive: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)  # lon/lat/encoding/layer
    places: str | None = None  # the column holding each feature's gazetteer key (places/*.csv)


@dataclass(frozen=True)
class LayerSpec:
    """One catalogue entry."""

    name: str
    title: Mapping[str, str]
    geometry_type: str
    key: str
    fields: Mapping[str, FieldSpec]
    geometry: GeometrySpec
    joins: tuple[JoinSpec, ...] = ()
    depends: tuple[str, ...] = ()
    description: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    licence: str = ""
    limits: str = ""
    notes: str = ""
    style: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None

    @property
    def has_geometry(self) -> bool:
        return self.geometry_type != "None"

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("zh") or self.name

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, stored in the atlas metadata."""
        return {
            "name": self.name,
            "title": dict(self.title),
            "description": dict(self.description),
            "geometry_type": self.geometry_type,
            "key": self.key,
            "fields": {
                n: {
                    "type": f.type,
                    "required": f.required,
                    "enum": list(f.enum) if f.enum else None,
                    "title": dict(f.title),
                }
                for n, f in self.fields.items()
            },
            "geometry": {
                "source": self.geometry.source,
                "crs": self.geometry.crs,
                "derive": self.geometry.derive,
                "places": self.geometry.places,
                "params": dict(self.geometry.params),
                **dict(self.geometry.options),
            },
            "joins": [{"table": j.table, "on": j.on, "optional": j.optional} for j in self.joins],
            "depends": list(self.depends),
            "source": self.source,
            "licence": self.licence,
            "limits": self.limits,
            "notes": self.notes,
            "style": dict(self.style),
        }


def _require(data: Mapping[str, Any], key: str, where: str) -> object:
    if key not in data:
        msg = f"{where}: '{key}' is required"
        raise CatalogError(msg)
    value: object = data[key]
    return value


def _require_text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = _require(data, key, where)
    if not isinstance(value, str):
        msg = f"{where}: '{key}' should be text, got {value!r}"
        raise CatalogError(msg)
    return value


def identifier_problem(name: object) -> str | None:
    """Why ``name`` cannot be a layer or field name, or ``None`` if it can."""
    if isinstance(name, str) and IDENTIFIER.fullmatch(name):
        return None
    return (
        f"should match {IDENTIFIER.pattern} (lower-case letters, digits and '_', starting with a letter), got {name!r}"
    )


def _refuse_unless(value: object, problem: str | None, what: str, where: str) -> str:
    """``value`` as text, or a :class:`CatalogError` saying where, what and ``problem``."""
    if problem is not None:
        msg = f"{where}: {what} {problem}"
        raise CatalogError(msg)
    return str(value)


def _require_identifier(value: object, what: str, where: str) -> str:
    return _refuse_unless(value, identifier_problem(value), what, where)


def relative_path_problem(value: object) -> str | None:
    """Why ``value`` is not a path inside the geodata directory, or ``None`` if it is one.

    Checked on the text alone (absolute paths, drive letters and ``..`` parts are refused); the
    reader checks again after resolving symbolic links (:func:`confine_path`).
    """
    if not isinstance(value, str) or not value.strip():
        return f"should be a path relative to the geodata directory, got {value!r}"
    if any(ord(ch) < 0x20 for ch in value):  # NUL cannot reach the OS; the others are no file name anyone meant
        return f"should be a path relative to the geodata directory, got {value!r}, which holds a control character"
    posix, windows = PurePosixPath(value), PureWindowsPath(value)
    if posix.is_absolute() or windows.is_absolute() or windows.drive:
        return f"should be a path relative to the geodata directory, got the absolute path {value!r}"
    if ".." in posix.parts or ".." in windows.parts:
        return f"should be a path inside the geodata directory, got {value!r}, which steps out with '..'"
    return None


def confine_path(root: Path, relative: str) -> tuple[Path, str | None]:
    """``root / relative`` and, if it is not inside ``root`` (symbolic links resolved), why not."""
    problem = relative_path_problem(relative)
    if problem is not None:
        return root, problem
    path = root / relative
    if not path.resolve().is_relative_to(root.resolve()):
        return path, f"should be a path inside the geodata directory, got {relative!r}, which leads outside it"
    return path, None


def _require_path(value: object, what: str, where: str) -> str:
    return _refuse_unless(value, relative_path_problem(value), what, where)


#: ``[geometry]`` keys passed to the reader (:class:`planatlas.io.SourceOptions`), with their types.
_SOURCE_OPTIONS: Mapping[str, type] = {
    "lon": str,
    "lat": str,
    "encoding": str,
    "layer": str,
    "max_bytes": int,
    "max_archive_bytes": int,
}


def _geometry_spec(data: object, where: str) -> GeometrySpec:
    """The ``[geometry]`` table, each key checked: a confined source path, a params table, reader options."""
    if not isinstance(data, Mapping):
        msg = f"{where}: [geometry] should be a table, got {data!r}"
        raise CatalogError(msg)
    gdata = dict(data)
    source, crs, derive = gdata.pop("source", None), gdata.pop("crs", None), gdata.pop("derive", None)
    params = gdata.pop("params", {})
    places = gdata.pop("places", None)
    if places is not None:
        _require_identifier(places, "[geometry] places (the column holding the gazetteer key)", where)
        if derive is not None:
            msg = f"{where}: [geometry] places and derive exclude each other (a place's position is the gazetteer's)"
            raise CatalogError(msg)
    if source is not None:
        _require_path(source, "[geometry] source", where)
    for what, value in (("crs", crs), ("derive", derive)):
        if value is not None and not isinstance(value, str):
            msg = f"{where}: [geometry] {what} should be text, got {value!r}"
            raise CatalogError(msg)
    if not isinstance(params, Mapping):
        msg = f"{where}: [geometry] params should be a table, got {params!r}"
        raise CatalogError(msg)
    for key, value in gdata.items():
        kind = _SOURCE_OPTIONS.get(key)
        if kind is None:
            known = ", ".join(["source", "crs", "derive", "params", "places", *_SOURCE_OPTIONS])
            msg = f"{where}: [geometry] {key!r} is not a geometry setting; known: {known}"
            raise CatalogError(msg)
        if kind is str:
            fits = isinstance(value, str)
        else:
            fits = isinstance(value, int) and not isinstance(value, bool) and value > 0
        if not fits:
            what = "a positive whole number" if kind is int else "text"
            msg = f"{where}: [geometry] {key} should be {what}, got {value!r}"
            raise CatalogError(msg)
    encoding = gdata.get("encoding")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            msg = f'{where}: [geometry] encoding should be a text encoding such as "GBK" or "UTF-8", got {encoding!r}'
            raise CatalogError(msg) from None
    return GeometrySpec(source=source, crs=crs, derive=derive, params=params, options=gdata, places=places)


#: The keys of a layer entry, of a ``[fields.x]`` table and of a ``[[joins]]`` entry (a misspelt key is refused).
_LAYER_KEYS = (
    "name", "title", "description", "geometry_type", "key", "depends", "source", "licence", "limits", "notes",
    "geometry", "joins", "fields", "style",
)  # fmt: skip
_FIELD_KEYS = ("type", "required", "enum", "title")
_JOIN_KEYS = ("table", "on", "optional")


def _refuse_unknown(data: Mapping[str, Any], known: tuple[str, ...], what: str, where: str) -> None:
    unknown = [k for k in data if k not in known]
    if unknown:
        msg = f"{where}: {what} {', '.join(map(repr, unknown))} not known; known: {', '.join(known)}"
        raise CatalogError(msg)


def _require_type(value: object, kind: type | tuple[type, ...], what: str, where: str) -> None:
    names = {str: "text", bool: "true or false", list: "a list", dict: "a table"}
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        expected = names.get(kind, "a table") if isinstance(kind, type) else "a table"
        msg = f"{where}: {what} should be {expected}, got {value!r}"
        raise CatalogError(msg)


def _require_items(value: object, kind: type | UnionType, what: str, where: str, *, expected: str) -> None:
    """``value`` is a list whose every item is a ``kind``; else a :class:`CatalogError` saying what was expected."""
    if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
        msg = f"{where}: {what} should {expected}, got {value!r}"
        raise CatalogError(msg)


def _text_table(value: object, what: str, where: str) -> Mapping[str, str]:
    """A ``{ zh = "…", en = "…" }`` table of texts (no other value types)."""
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        msg = f'{where}: {what} should be a table of texts such as {{ zh = "…", en = "…" }}, got {value!r}'
        raise CatalogError(msg)
    return value


def _field_spec(fname: object, fdata: object, where: str) -> FieldSpec:
    """One ``[fields.<name>]`` table, every key checked."""
    name = _require_identifier(fname, "field name", where)
    what = f"[fields.{name}]"
    if not isinstance(fdata, Mapping):
        msg = f"{where}: {what} should be a table, got {fdata!r}"
        raise CatalogError(msg)
    _refuse_unknown(fdata, _FIELD_KEYS, f"{what} key(s)", where)
    ftype = fdata.get("type", "str")
    if ftype not in FIELD_TYPES:
        msg = f"{where}: field '{name}' type should be one of {tuple(FIELD_TYPES)}, got {ftype!r}"
        raise CatalogError(msg)
    required = fdata.get("required", False)
    _require_type(required, bool, f"{what} required", where)
    enum = fdata.get("enum")
    if enum is not None:
        _require_type(enum, list, f"{what} enum", where)
        _require_items(enum, str | int | float, f"{what} enum", where, expected="list values (text or numbers)")
    return FieldSpec(
        name=name,
        type=ftype,
        required=required,
        enum=tuple(enum) if enum is not None else None,
        title=_text_table(fdata.get("title", {}), f"{what} title", where),
    )


def _join_spec(j: object, key: str, where: str) -> JoinSpec:
    """One ``[[joins]]`` entry: a confined table path, an identifier to join on, ``optional`` true or false."""
    if not isinstance(j, Mapping):
        msg = f"{where}: [[joins]] entries should be tables, got {j!r}"
        raise CatalogError(msg)
    _refuse_unknown(j, _JOIN_KEYS, "[[joins]] key(s)", where)
    table = _require_path(_require_text(j, "table", where), "[[joins]] table", where)
    on = _require_identifier(j.get("on", key), "[[joins]] on", where)
    optional = j.get("optional", False)
    _require_type(optional, bool, "[[joins]] optional", where)
    return JoinSpec(table=table, on=on, optional=optional)


def _places_layer_problem(geometry: GeometrySpec, geometry_type: str, where: str) -> None:
    """A layer positioned by the gazetteer is a Point layer whose own source, if any, is a CSV table."""
    if geometry_type != "Point":
        msg = f'{where}: [geometry] places needs geometry_type = "Point" (one place, one point), got {geometry_type!r}'
        raise CatalogError(msg)
    if geometry.source is not None and not geometry.source.lower().endswith(".csv"):
        msg = f"{where}: [geometry] source of a layer with places should be a CSV table, got {geometry.source!r}"
        raise CatalogError(msg)
    if geometry.crs is not None or geometry.options:
        msg = f"{where}: [geometry] places takes positions from the gazetteer; drop crs/lon/lat and reader options"
        raise CatalogError(msg)


def parse_layer_spec(data: Mapping[str, Any], *, where: str = "<layer spec>") -> LayerSpec:
    """Build a :class:`LayerSpec` from a parsed TOML mapping, checking its shape.

    Names become table and column names in the store, so they must match :data:`IDENTIFIER`;
    file paths must stay inside the geodata directory.
    """
    _refuse_unknown(data, _LAYER_KEYS, "key(s)", where)
    name = _require_identifier(_require_text(data, "name", where), "layer name", where)
    if name.startswith(RESERVED_LAYER_PREFIXES):
        msg = f"{where}: layer name {name!r} starts with a prefix the atlas stores reserve {RESERVED_LAYER_PREFIXES}"
        raise CatalogError(msg)
    geometry_type = _require_text(data, "geometry_type", where)
    if geometry_type not in GEOMETRY_TYPES:
        msg = f"{where}: geometry_type should be one of {GEOMETRY_TYPES}, got {geometry_type!r}"
        raise CatalogError(msg)
    key = _require_identifier(_require_text(data, "key", where), "key", where)
    title = _require(data, "title", where)
    if not isinstance(title, Mapping) or not all(isinstance(title.get(lang), str) for lang in LANGS):
        msg = f"{where}: title should be a table with 'zh' and 'en', got {title!r}"
        raise CatalogError(msg)
    raw_fields = data.get("fields", {})
    _require_type(raw_fields, dict, "[fields]", where)
    fields = {str(fname): _field_spec(fname, fdata, where) for fname, fdata in raw_fields.items()}
    if key not in fields:
        fields[key] = FieldSpec(name=key, type="str", required=True)
    geometry = _geometry_spec(data.get("geometry") or {}, where)
    if geometry.places is not None:
        _places_layer_problem(geometry, geometry_type, where)
    elif geometry.source and not geometry.crs and geometry_type != "None":
        msg = f"{where}: [geometry] source {geometry.source!r} must declare its crs"
        raise CatalogError(msg)
    if geometry_type != "None" and not (geometry.source or geometry.derive or geometry.places):
        msg = f"{where}: [geometry] needs a source, a derive or places"
        raise CatalogError(msg)
    style = data.get("style", {})
    _check_style_colors(style, f"{where}: layer {name!r}")
    raw_joins = data.get("joins", [])
    _require_type(raw_joins, list, "[[joins]]", where)
    joins = tuple(_join_spec(j, key, where) for j in raw_joins)
    for what in ("source", "licence", "limits", "notes"):
        _require_type(data.get(what, ""), str, what, where)
    depends = data.get("depends", [])
    _require_items(depends, str, "depends", where, expected="be a list of layer names")
    return LayerSpec(
        name=name,
        title=title,
        geometry_type=geometry_type,
        key=key,
        fields=fields,
        geometry=geometry,
        joins=joins,
        depends=tuple(depends),
        description=_text_table(data.get("description", {}), "description", where),
        source=data.get("source", ""),
        licence=data.get("licence", ""),
        limits=data.get("limits", ""),
        notes=data.get("notes", ""),
        style=style,
        path=where,
    )


class Catalog(Mapping[str, LayerSpec]):
    """All layer specs of a geodata directory, in build (dependency) order."""

    def __init__(self, specs: list[LayerSpec], root: Path | None = None) -> None:
        self.root = root
        by_name: dict[str, LayerSpec] = {}
        for spec in specs:
            if spec.name in by_name:
                msg = f"layer {spec.name!r} is declared twice ({by_name[spec.name].path}, {spec.path})"
                raise CatalogError(msg)
            by_name[spec.name] = spec
        self._specs = {name: by_name[name] for name in _topological(by_name)}

    def __getitem__(self, name: str) -> LayerSpec:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(self._specs)
            msg = f"unknown layer {name!r}; the catalogue has: {known}"
            raise LayerNotFoundError(msg) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)


def _topological(specs: Mapping[str, LayerSpec]) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            msg = f"layer dependencies form a cycle: {' -> '.join((*chain, name))}"
            raise CatalogError(msg)
        if name not in specs:
            msg = f"{specs[chain[-1]].path}: layer {chain[-1]!r} depends on unknown layer {name!r}"
            raise CatalogError(msg)
        state[name] = 1
        for dep in specs[name].depends:
            visit(dep, (*chain, name))
        state[name] = 2
        order.append(name)

    for name in sorted(specs):
        visit(name, ())
    return order


def load_catalog(geodata_dir: str | Path) -> Catalog:
    """Read every ``layers/*.toml`` of a geodata directory into a :class:`Catalog`."""
    root = Path(geodata_dir)
    layer_dir = root / "layers"
    if not layer_dir.is_dir():
        msg = f"{root}: not a geodata directory (no 'layers/' folder with layer .toml files)"
        raise CatalogError(msg)
    specs = []
    for path in sorted(layer_dir.glob("*.toml")):
        where = str(path.relative_to(root))
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            msg = f"{where}: not valid UTF-8 TOML: {exc}"
            raise CatalogError(msg) from exc
        except OSError as exc:  # a directory named *.toml, a file we may not read
            msg = f"{where}: cannot be read as a layer entry ({exc.strerror or exc})"
            raise CatalogError(msg) from exc
        specs.append(parse_layer_spec(data, where=where))
    if not specs:
        # an atlas built from no layers would replace the one there with an empty one
        msg = f"{root}: not a geodata directory ('layers/' holds no layer .toml files)"
        raise CatalogError(msg)
    return Catalog(specs, root=root)
