"""Export commands: ``export`` (one print page or offline HTML) and ``export-series`` (a map series).

Commands: ``export`` (attribute ``export``) and ``export-series`` (attribute ``export_series``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from planatlas.catalog import LANGS
from planatlas.cli.options import FILE, db_option, handle_errors, option_group, settings_from
from planatlas.errors import ExportError
from planatlas.maps.presets import get_preset
from planatlas.maps.style import Scalar
from planatlas.render.page import PageSpec

if TYPE_CHECKING:
    from planatlas.settings import Settings
    from planatlas.store.base import LayerStore


_PRESET_HELP = (
    "Map preset (see 'planatlas export --help' and the app's map menu), e.g. one-belt-four-zones, metro, "
    "xinjian-spatial; or layer:NAME, one layer (e.g. an imported one) over the district outlines."
)


_PAGE_OPTIONS = (
    click.option("--paper", type=click.Choice(["A4", "A3"]), default="A4", show_default=True),
    click.option(
        "--orientation",
        type=click.Choice(["portrait", "landscape"]),
        default=None,
        help="Page orientation [default: portrait; landscape for series].",
    ),
    click.option(
        "--dpi",
        type=click.IntRange(30, 1200),
        default=300,
        show_default=True,
        help="Resolution of PNG pages and rasterised dense layers.",
    ),
    click.option(
        "--lang",
        type=click.Choice(LANGS),
        default=None,
        help="Page language [default: PLANATLAS_LANGUAGE, else zh].",
    ),
    click.option(
        "--param",
        "params",
        multiple=True,
        metavar="NAME=VALUE",
        help="Preset parameter, e.g. --param phase=2022 for jiuwang-roads.",
    ),
    click.option("--no-inset", is_flag=True, help="Leave out the locator inset."),
    click.option("--no-labels", is_flag=True, help="Leave out feature labels."),
    click.option(
        "--font",
        "font",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        help="CJK font file to use instead of the installed one.",
    ),
)


@dataclass(frozen=True)
class PageChoices:
    """What the page options asked for; :meth:`resolve` checks them against the preset and settings."""

    paper: str
    orientation: str | None
    dpi: int
    lang: str | None
    params: tuple[str, ...]
    no_inset: bool
    no_labels: bool
    font: Path | None

    def resolve(self, preset: str, db_url: str | None, *, default_orientation: str) -> tuple[Settings, PageSpec]:
        """The settings and the page; an unknown preset or a missing CJK font is a usage error."""
        _known_preset(preset)
        settings = settings_from(db_url)
        page = PageSpec(
            paper=self.paper,
            orientation=self.orientation or default_orientation,
            dpi=self.dpi,
            lang=self.lang or settings.language,
            inset=not self.no_inset,
            labels=not self.no_labels,
        )
        return settings, page


_page_options = option_group("choices", PageChoices, _PAGE_OPTIONS)


def _parse_params(values: tuple[str, ...], preset_name: str) -> dict[str, Scalar]:
    """``NAME=VALUE`` pairs checked against the preset's parameters and their choices.

    Defaults are filled by the preset (``Preset.params_with_defaults``), the one place that does.
    """
    params: dict[str, Scalar] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            msg = f"should be NAME=VALUE, got {item!r}"
            raise click.BadParameter(msg, param_hint="--param")
        if name.strip() in params:  # the last one would win without a word
            msg = f"parameter {name.strip()!r} is given more than once"
            raise click.BadParameter(msg, param_hint="--param")
        params[name.strip()] = int(value) if value.strip().lstrip("-").isdigit() else value.strip()
    if preset_name.startswith("layer:"):  # a one-layer map has no parameters
        if params:
            msg = "a layer: map takes no parameters"
            raise click.BadParameter(msg, param_hint="--param")
        return {}
    try:
        checked: dict[str, Scalar] = get_preset(preset_name).params_with_defaults(params)
    except (KeyError, ValueError) as exc:
        raise click.BadParameter(str(exc.args[0] if exc.args else exc), param_hint="--param") from exc
    return checked


def _store(settings: Settings) -> LayerStore:
    from planatlas.build import ensure_atlas  # noqa: PLC0415 - geopandas only when a command runs

    return ensure_atlas(settings)


def _known_preset(name: str) -> None:
    if name.startswith("layer:"):  # any one layer over the district outlines; the store names an unknown one
        return
    try:
        get_preset(name)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0] if exc.args else exc), param_hint="PRESET") from exc


def _check_font(font: Path | None) -> None:
    from planatlas.render.fonts import find_cjk_font  # noqa: PLC0415 - matplotlib only when a page is drawn

    find_cjk_font(font)


@click.command("export")
@click.argument("preset")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["png", "pdf", "svg", "html"]),
    default=None,
    help="Output format [default: from the -o extension].",
)
@_page_options
@click.option("-o", "--output", type=FILE, required=True)
@db_option
@handle_errors
def export(preset: str, fmt: str | None, choices: PageChoices, output: Path, db_url: str | None) -> None:
    """Export PRESET as a print page (PNG, PDF, SVG) or as one self-contained offline HTML file."""
    from planatlas import export as exporter  # noqa: PLC0415 - matplotlib and folium only when exporting
    from planatlas.render.write import format_of  # noqa: PLC0415 - same

    try:
        fmt = format_of(output, fmt)
    except ExportError as exc:
        raise click.BadParameter(str(exc), param_hint="--format/-o") from exc
    settings, page = choices.resolve(preset, db_url, default_orientation="portrait")
    if fmt != "html":
        _check_font(choices.font)
    params = _parse_params(choices.params, preset)
    exporter.export_preset(_store(settings), preset, output, fmt=fmt, page=page, params=params, font_path=choices.font)
    click.echo(f"wrote {preset} ({fmt}, {page.paper} {page.orientation}, {page.lang}) to {output}")


@click.command("export-series")
@click.argument("preset")
@click.option(
    "--by",
    type=click.Choice(["streets", "zones", "towns"]),
    default="streets",
    show_default=True,
    help="One page per street, per zone or per Xinjian town (use with preset xinjian-towns).",
)
@_page_options
@click.option("-o", "--output", type=FILE, required=True, help="PDF file to write (one page per unit).")
@db_option
@handle_errors
def export_series(preset: str, by: str, choices: PageChoices, output: Path, db_url: str | None) -> None:
    """Export a map series of PRESET: one PDF page per street (or zone), with its plan guidance."""
    from planatlas import export as exporter  # noqa: PLC0415 - matplotlib and folium only when exporting

    if output.suffix.lower() != ".pdf":
        msg = f"a series is written as PDF, got {output.name!r}"
        raise click.BadParameter(msg, param_hint="-o")
    settings, page = choices.resolve(preset, db_url, default_orientation="landscape")
    _check_font(choices.font)
    params = _parse_params(choices.params, preset)
    count = exporter.export_series(
        _store(settings), preset, output, by=by, page=page, params=params, font_path=choices.font
    )
    click.echo(f"wrote {count} pages ({by}) of {preset} to {output}")
