"""Errors raised by planatlas, and the located ``Problem`` records that bad data produces."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can.

    Parameters
    ----------
    message
        What is wrong and, where possible, what was expected.
    file
        The source file (relative to the geodata directory where possible).
    layer
        The catalogue layer the file feeds.
    feature
        The feature key (or row number when the key is missing).
    field
        The attribute or ``geometry``.
    """

    message: str
    file: str | None = None
    layer: str | None = None
    feature: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = [
            f"{label} {value!s}"
            for label, value in (
                ("file", self.file),
                ("layer", self.layer),
                ("feature", self.feature),
                ("field", self.field),
            )
            if value not in (None, "")
        ]
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


class PlanAtlasError(Exception):
    """Base class of every error planatlas raises on purpose."""


class SourceError(PlanAtlasError, ValueError):
    """A source file cannot be read or does not hold what it declares."""

    def __init__(self, problems: list[Problem] | Problem | str, *, file: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems, file=file)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ValidationError(SourceError):
    """The geodata failed validation; ``problems`` lists every finding."""


class CatalogError(PlanAtlasError, ValueError):
    """A layer specification is malformed."""


class DataFileError(PlanAtlasError, ValueError):
    """A packaged data file (map presets, label tables, UI texts) is malformed; the message says where."""


class LayerNotFoundError(PlanAtlasError, LookupError):
    """A layer name is not in the catalogue or the store."""


class AtlasNotBuiltError(PlanAtlasError, FileNotFoundError):
    """The atlas has not been built yet at the configured location."""


class AtlasUnreadableError(PlanAtlasError, OSError):
    """An atlas exists where the settings point but cannot be read (truncated, empty, not SQLite, no
    metadata, a layer table gone); it is left untouched.

    The message names the file and says to rebuild it; the app shows its own text instead, so no
    server path reaches a browser.
    """


#: What a store raises when there is no readable atlas (not built, deleted, damaged); the app shows
#: its own message for these, never theirs (they name server paths).
ATLAS_UNAVAILABLE: tuple[type[PlanAtlasError], ...] = (AtlasNotBuiltError, AtlasUnreadableError)


class ArchiveTooLargeError(SourceError):
    """An archive expands beyond the configured size cap."""


class OutputNameError(PlanAtlasError, ValueError):
    """An output path the file writer (GDAL) cannot hold, such as a name with ``;`` or a control character."""


class OutputWriteError(PlanAtlasError, OSError):
    """An output file or the atlas could not be written (disk full, no permission …); the previous file is intact."""


class ExportError(PlanAtlasError, ValueError):
    """An export cannot be produced as asked (unknown format, unresolvable asset, …)."""


class MissingFontError(PlanAtlasError, RuntimeError):
    """No font with Chinese glyphs is available, so a page would print tofu boxes."""


class PresetDataError(PlanAtlasError, LookupError):
    """A preset asks for a layer or column the atlas data does not have."""


class AssetError(PlanAtlasError, FileNotFoundError):
    """A vendored asset is missing or differs from the manifest."""


class PostGISError(PlanAtlasError, RuntimeError):
    """The database refused an operation (the message names it)."""
