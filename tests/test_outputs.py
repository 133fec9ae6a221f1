"""Writing outputs and the atlas: a name GDAL cannot hold or a full disk gives one clean message naming the path,
the previous file intact and nothing half-written beside it."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from planatlas.build import build_atlas
from planatlas.cli.main import cli
from planatlas.errors import OutputWriteError
from planatlas.io.writers import write_json
from planatlas.store.gpkg import GeoPackageStore

DISK_FULL = OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def run(tmp_path, monkeypatch, mini_geodata):
    """The CLI on an atlas built from the mini geodata, in a directory of its own."""
    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(tmp_path / "atlas" / "atlas.gpkg"))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    assert invoke("build", "--source", str(mini_geodata)).exit_code == 0
    return invoke


@pytest.mark.parametrize("name", ["x;y.gpkg", "x;y.geojson", "a\nb.gpkg"])
def test_output_name_gdal_cannot_hold_is_refused(run, tmp_path, monkeypatch, name):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    result = run("dump", "sites", "-o", name)
    assert result.exit_code == 2, result.output
    assert f"output path {name!r} cannot be written" in result.output
    assert "GDAL does not keep in a file name" in result.output
    assert "Traceback" not in result.output
    assert list(out.iterdir()) == []  # before: GDAL wrote '.x' here and the rename raised FileNotFoundError


def test_query_output_name_gdal_cannot_hold_is_refused(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("query", "within", "--layer", "sites", "--of", "areas", "--distance", "100m", "-o", "x;y.gpkg")
    assert result.exit_code != 0
    assert "output path 'x;y.gpkg' cannot be written" in result.output
    assert not (tmp_path / "x").exists() and not (tmp_path / ".x").exists()


def test_csv_output_may_hold_a_semicolon(run, tmp_path):
    result = run("dump", "sites", "-o", str(tmp_path / "x;y.csv"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x;y.csv").stat().st_size > 0


def _fail_writes(monkeypatch):
    def full(*args, **kwargs):
        raise DISK_FULL

    monkeypatch.setattr(pyogrio, "write_dataframe", full)
    monkeypatch.setattr(pd.DataFrame, "to_csv", full)


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv"])
def test_full_disk_while_dumping_keeps_the_previous_file(run, tmp_path, monkeypatch, fmt):
    target = tmp_path / "out" / f"sites.{fmt}"
    assert run("dump", "sites", "-o", str(target)).exit_code == 0
    before = target.read_bytes()
    _fail_writes(monkeypatch)
    result = run("dump", "sites", "-o", str(target))
    assert result.exit_code == 1, result.output
    assert f"{target} was not written: the disk is full" in result.output
    assert "Traceback" not in result.output
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_full_disk_while_writing_the_atlas_keeps_the_previous_one(run, tmp_path, monkeypatch, mini_geodata):
    atlas = tmp_path / "atlas" / "atlas.gpkg"
    before = atlas.read_bytes()
    _fail_writes(monkeypatch)
    result = run("build", "--source", str(mini_geodata))
    assert result.exit_code == 1, result.output
    assert f"{atlas} was not written: the disk is full" in result.output
    assert "Traceback" not in result.output
    assert atlas.read_bytes() == before
    assert sorted(p.name for p in atlas.parent.iterdir()) == ["atlas.gpkg"]


def test_full_disk_while_writing_the_report_keeps_the_previous_one(tmp_path, monkeypatch):
    report = tmp_path / "report.json"
    write_json(report, {"ok": True})
    before = report.read_bytes()

    def full(*args, **kwargs):
        raise DISK_FULL

    monkeypatch.setattr(json, "dump", full)
    with pytest.raises(OutputWriteError, match=r"report.json was not written: the disk is full"):
        write_json(report, {"ok": False})
    assert report.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 600 KB tmpfs: room for the mini atlas, not for the bundled one beside it (needs root to mount)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root; the monkeypatched tests above cover the same path")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(disk)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_really_full_disk_keeps_the_previous_atlas_and_dump(tiny_disk, mini_geodata):
    from conftest import GEODATA

    store = GeoPackageStore(tiny_disk / "atlas.gpkg")
    build_atlas(mini_geodata, store)
    before = store.path.read_bytes()
    with pytest.raises(OutputWriteError, match=rf"{store.path} was not written: the disk is full"):
        build_atlas(GEODATA, store)
    assert store.path.read_bytes() == before
    assert [p.name for p in tiny_disk.iterdir()] == ["atlas.gpkg"]
    layer = pyogrio.read_dataframe(store.path, layer="sites")
    from planatlas.io.writers import write_frame

    with pytest.raises(OutputWriteError, match=r"big.geojson was not written: the disk is full"):
        write_frame(pd.concat([layer] * 3000, ignore_index=True), tiny_disk / "big.geojson")
    assert [p.name for p in tiny_disk.iterdir()] == ["atlas.gpkg"]


def test_full_disk_while_exporting_a_page_keeps_the_previous_one(tmp_path, monkeypatch):
    from planatlas.render import write as writer

    target = tmp_path / "page.html"
    writer.atomic_write(target, lambda fh: fh.write(b"<p>previous</p>"))

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer.os, "fsync", full)
    with pytest.raises(OutputWriteError, match=r"page\.html was not written: the disk is full"):
        writer.atomic_write(target, lambda fh: fh.write(b"<p>new</p>"))
    assert target.read_bytes() == b"<p>previous</p>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]
