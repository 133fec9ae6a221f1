"""The ``app`` command: build the atlas if there is none, then serve the Streamlit app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from planatlas.cli.options import handle_errors, settings_from

#: Environment the server runs with (the operator's own values win). glibc gives threads that
#: allocate their own malloc arenas, up to eight per core, and Streamlit runs each session's script
#: in a thread: after 20 concurrent sessions closed, 35-65 MB stayed in those arenas; with two, 10-20 MB,
#: at the same CPU per page view (``bench/bench_load.py``).
SERVER_ENV = {"MALLOC_ARENA_MAX": "2"}


def _app_script() -> Path:
    """``app.py`` of the source checkout, else of the working directory."""
    app_py = Path(__file__).resolve().parents[3] / "app.py"
    return app_py if app_py.is_file() else Path.cwd() / "app.py"


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--port", default=8501, show_default=True)
@click.pass_context
@handle_errors
def app(ctx: click.Context, port: int) -> None:
    """Build the atlas if absent, then serve the Streamlit app.

    An existing atlas is rebuilt only from the directory it was built from, and only if that changed.
    """
    from planatlas.build import ensure_atlas  # noqa: PLC0415 - loads geopandas; keeps --help fast

    ensure_atlas(settings_from())
    app_py = _app_script()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_py),
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        *ctx.args,
    ]
    # run from the app's folder so Streamlit reads its .streamlit/config.toml (offline settings)
    env = {**SERVER_ENV, **os.environ}
    raise SystemExit(subprocess.call(cmd, cwd=app_py.parent, env=env))  # noqa: S603 - fixed argv, no shell
