"""Options, settings, store access and error handling shared by every planatlas command family."""

from __future__ import annotations

import dataclasses
import functools
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from planatlas.errors import (
    AtlasNotBuiltError,
    AtlasUnreadableError,
    CatalogError,
    LayerNotFoundError,
    PlanAtlasError,
    SourceError,
    ValidationError,
)
from planatlas.settings import Settings, get_settings

if TYPE_CHECKING:
    from planatlas.store.base import LayerStore

P = ParamSpec("P")
R = TypeVar("R")

#: Exit codes: 0 ok; 1 other planatlas error; 2 usage (click); 3 invalid data; 4 not found (a layer, or the
#: atlas itself: not built yet, deleted, or damaged and needing a rebuild).
EXIT_ERROR, EXIT_INVALID, EXIT_NOT_FOUND = 1, 3, 4


class PlanAtlasClickError(click.ClickException):
    """A planatlas error as click reports it: one message and a meaningful exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn planatlas errors into one clear message and a meaningful exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (ValidationError, SourceError) as exc:
            lines = [str(p) for p in exc.problems]
            head = f"{len(lines)} problem(s) found:" if len(lines) > 1 else "problem found:"
            raise PlanAtlasClickError("\n  ".join([head, *lines]), EXIT_INVALID) from exc
        except (AtlasNotBuiltError, AtlasUnreadableError, LayerNotFoundError) as exc:
            raise PlanAtlasClickError(str(exc), EXIT_NOT_FOUND) from exc
        except CatalogError as exc:
            raise PlanAtlasClickError(str(exc), EXIT_INVALID) from exc
        except PlanAtlasError as exc:
            raise PlanAtlasClickError(str(exc), EXIT_ERROR) from exc

    return wrapper


#: Option types of paths: a file to write or read, a folder to read.
FILE = click.Path(dir_okay=False, path_type=Path)
FOLDER = click.Path(file_okay=False, path_type=Path)

db_option = click.option(
    "--db",
    "db_url",
    default=None,
    metavar="URL",
    help="PostGIS URL (postgresql+psycopg://…); defaults to PLANATLAS_DATABASE_URL, else the GeoPackage.",
)


source_option = click.option("--source", type=FOLDER, help="Geodata directory (default: the bundled geodata/).")
report_option = click.option("--report", type=FILE, help="Write the validation report as JSON here.")


Command = Callable[..., None]


def option_group(
    name: str, group: type[object], options: Sequence[Callable[[Command], Command]]
) -> Callable[[Command], Command]:
    """A decorator adding ``options`` to a command and handing their values to it as one ``group``.

    ``group`` is a dataclass whose fields are named like the options' parameters; the command
    receives ``name=group(**values)`` instead of one argument per option (shared option sets stay
    declared once, and the commands that share them take one typed object).
    """
    fields = [f.name for f in dataclasses.fields(group)]  # type: ignore[arg-type]  # a dataclass type by contract

    def decorator(func: Command) -> Command:
        @functools.wraps(func)
        def command(*args: object, **kwargs: object) -> None:
            values = {field: kwargs.pop(field) for field in fields}
            func(*args, **{name: group(**values)}, **kwargs)

        decorated: Command = command
        for option in reversed(options):
            decorated = option(decorated)
        return decorated

    return decorator


def settings_from(db_url: str | None = None) -> Settings:
    """The ``PLANATLAS_*`` settings, with ``--db`` on top when given."""
    overrides = {"database_url": db_url} if db_url else {}
    return get_settings(**overrides)


def open_store_from(db_url: str | None = None) -> LayerStore:
    """The atlas ``--db`` (or the settings) point at."""
    from planatlas.store import open_store  # noqa: PLC0415 - loads geopandas; keeps --help fast

    return open_store(settings_from(db_url))


def _display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide CJK characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def print_table(rows: Sequence[Mapping[str, object]], columns: list[str] | None = None) -> None:
    """Print rows as an aligned plain-text table (wide CJK characters count double)."""
    if not rows:
        click.echo("(no rows)")
        return
    columns = columns or list(rows[0])
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(_display_width(c), *(_display_width(row[i]) for row in cells)) for i, c in enumerate(columns)]

    def fmt(values: list[str]) -> str:
        return "  ".join(v + " " * (w - _display_width(v)) for v, w in zip(values, widths, strict=True)).rstrip()

    click.echo(fmt(columns))
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo(fmt(row))
