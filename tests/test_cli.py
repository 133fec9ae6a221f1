"""The planatlas CLI: commands, exit codes, one clear message and never a traceback."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from planatlas.cli.main import cli
from planatlas.cli.options import EXIT_INVALID, EXIT_NOT_FOUND

#: Every top-level command, by family: atlas data, queries, export, reconciliation, the app.
COMMANDS = (
    "build",
    "validate",
    "layers",
    "info",
    "dump",
    "datacard",
    "query",
    "export",
    "export-series",
    "reconcile",
    "app",
)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_is_registered(name):
    assert name in cli.commands
    assert isinstance(cli.commands[name], click.Command)
    assert cli.commands[name].name == name


def test_help_lists_every_command():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:", 1)[1]
    names = {line.split()[0] for line in listed.splitlines() if line.strip()}
    assert set(COMMANDS) <= names


@pytest.fixture
def built(run, mini_geodata):
    """The mini geodata built into the run's atlas."""
    result = run("build", "--source", str(mini_geodata))
    assert result.exit_code == 0, result.output
    return result


def test_build(run, mini_geodata, tmp_path):
    result = run("build", "--source", str(mini_geodata), "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    assert "built 3 layers (7 features)" in result.output
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["ok"]


def test_layers(run, built):
    listing = run("layers")
    assert listing.exit_code == 0
    lines = {line.split()[0]: line for line in listing.output.splitlines()[2:]}
    assert set(lines) == {"areas", "indicators", "sites"}
    assert "片区" in lines["areas"] and "schematic 2" in lines["areas"]
    assert "sourced 1, street 3" in lines["sites"]


def test_info(run, built):
    info = run("info", "sites")
    assert info.exit_code == 0
    assert "key: site_id   features: 4" in info.output and "sources/sites.csv" in info.output


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_dump(run, built, tmp_path, fmt):
    out = tmp_path / f"sites.{fmt}"
    dumped = run("dump", "sites", "--format", fmt, "-o", str(out))
    assert dumped.exit_code == 0, dumped.output
    assert out.stat().st_size > 0
    if fmt == "csv":
        assert "<script>" in out.read_text(encoding="utf-8-sig")


def test_build_failure_exit_code_and_messages(run, mini_geodata):
    assert run("build", "--source", str(mini_geodata)).exit_code == 0
    path = mini_geodata / "attributes/areas.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("core", "centre"), encoding="utf-8")
    result = run("build", "--source", str(mini_geodata))
    assert result.exit_code == EXIT_INVALID
    assert "field kind: 'centre' is not one of" in result.output
    assert "Traceback" not in result.output


def test_unknown_layer_and_missing_atlas(run, mini_geodata):
    missing = run("layers")
    assert missing.exit_code == EXIT_NOT_FOUND
    assert "run 'planatlas build' first" in missing.output
    run("build", "--source", str(mini_geodata))
    unknown = run("info", "nowhere")
    assert unknown.exit_code == EXIT_NOT_FOUND
    assert "unknown layer 'nowhere'" in unknown.output


def test_validate_directory_and_file(run, mini_geodata, tmp_path):
    ok = run("validate", str(mini_geodata))
    assert ok.exit_code == 0 and "3 layers valid" in ok.output
    one = run("validate", str(mini_geodata / "sources/areas.geojson"), "--crs", "EPSG:4490")
    assert one.exit_code == 0 and "2 features" in one.output
    bad = tmp_path / "bad.csv"
    bad.write_text("key,lon,lat\na,28.68,115.89\n", encoding="utf-8")
    swapped = run("validate", str(bad), "--crs", "EPSG:4490")
    assert swapped.exit_code == EXIT_INVALID
    assert "bad.csv" in swapped.output and "swapped" in swapped.output


def test_dump_rejects_unknown_extension(run, mini_geodata, tmp_path):
    run("build", "--source", str(mini_geodata))
    result = run("dump", "sites", "-o", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2
    assert "output format should be one of" in result.output


def test_validate_within_detects_gcj02_declared_as_wgs84(run, mini_geodata, tmp_path):
    import geopandas as gpd
    import shapely

    from planatlas import crs as pcrs

    run("build", "--source", str(mini_geodata))
    # points filling the two areas; read as WGS84, the ~600 m GCJ-02 shift carries the eastern and
    # southern ones out of them
    truth = [shapely.Point(115.8605 + 0.0039 * (i % 10), 28.6605 + 0.0039 * (i // 10)) for i in range(100)]
    web = pcrs.canonical_to_offset(truth, "GCJ-02")
    gpd.GeoDataFrame({"k": range(100)}, geometry=list(web), crs=4326).to_file(tmp_path / "web.geojson")
    wrong = run("validate", str(tmp_path / "web.geojson"), "--crs", "EPSG:4326", "--within", "areas")
    right = run("validate", str(tmp_path / "web.geojson"), "--crs", "GCJ-02", "--within", "areas")
    assert right.exit_code == 0, right.output
    assert wrong.exit_code == EXIT_INVALID
    assert "web.geojson" in wrong.output and "declare --crs GCJ-02" in wrong.output
