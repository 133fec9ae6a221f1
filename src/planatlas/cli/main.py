"""The ``planatlas`` command group and the registration of every command family.

Each family lives in its own module and is added here explicitly with ``add_command``:
atlas data (:mod:`~planatlas.cli.atlas`), queries (:mod:`~planatlas.cli.query`), print and
HTML export (:mod:`~planatlas.cli.export`), the plan-versus-map reconciliation
(:mod:`~planatlas.cli.reconcile`) and the app server (:mod:`~planatlas.cli.serve`).
"""

from __future__ import annotations

import click

from planatlas import __version__
from planatlas.cli.atlas import build, datacard, dump, info, layers, validate
from planatlas.cli.export import export, export_series
from planatlas.cli.imports import editor, import_, remove, restore
from planatlas.cli.query import query
from planatlas.cli.reconcile import reconcile
from planatlas.cli.serve import app


@click.group()
@click.version_option(__version__, prog_name="planatlas")
def cli() -> None:
    """planatlas: the planning atlas of Xihu District and Jiuwang New City (Nanchang)."""


# atlas data
cli.add_command(build)
cli.add_command(validate)
cli.add_command(layers)
cli.add_command(info)
cli.add_command(dump)
cli.add_command(datacard)
# a bureau's own data in (the user geodata overlay), and who may change the atlas from the app
cli.add_command(import_)
cli.add_command(restore)
cli.add_command(remove)
cli.add_command(editor)
# spatial queries
cli.add_command(query)
# print pages, map series and offline HTML
cli.add_command(export)
cli.add_command(export_series)
# plan versus map
cli.add_command(reconcile)
# the Streamlit app
cli.add_command(app)


def main() -> None:  # pragma: no cover - console entry
    """Run the ``planatlas`` command."""
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
