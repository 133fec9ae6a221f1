"""What builds and writers leave on disk (issue 13, defect 6): no temporary litter, and plain file modes."""

from __future__ import annotations

import os
import select
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from conftest import REPO
from planatlas.build import build_atlas
from planatlas.errors import OutputWriteError, ValidationError
from planatlas.io.writers import write_frame, write_json
from planatlas.render.write import atomic_write
from planatlas.store.gpkg import GeoPackageStore

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="flock, umask and SIGKILL are POSIX")

#: Names an interrupted write of ``atlas.gpkg`` leaves: the temporary GeoPackage and SQLite's side files
#: (the random part as ``tempfile`` made it in earlier versions, and as planatlas makes it now).
LEFTOVERS = [
    ".atlas.gpkg.k_9x2pq1.tmp.gpkg",
    ".atlas.gpkg.k_9x2pq1.tmp.gpkg-journal",
    ".atlas.gpkg.0a1b2c3d.tmp.gpkg",
    ".atlas.gpkg.0a1b2c3d.tmp.gpkg-wal",
    ".atlas.gpkg.0a1b2c3d.tmp.gpkg-shm",
]
#: Files beside the atlas that only look alike: someone else's, never ours to delete.
NOT_OURS = [
    ".other.gpkg.0a1b2c3d.tmp.gpkg",
    ".atlas.gpkg.0a1b2c3d.tmp.gpkg.keep",
    "atlas.gpkg.0a1b2c3d.tmp.gpkg",
    "atlas.gpkg.bak",
    "notes.txt",
]


def _break(geodata: Path) -> None:
    """Make the mini geodata fail validation (a source file goes missing)."""
    (geodata / "sources" / "areas.geojson").unlink()


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_leftovers_of_interrupted_builds_are_removed_at_the_start_of_the_next(mini_geodata, tmp_path):
    folder = tmp_path / "atlas"
    store = GeoPackageStore(folder / "atlas.gpkg")
    build_atlas(mini_geodata, store)
    before = store.path.read_bytes()
    for name in LEFTOVERS + NOT_OURS:
        (folder / name).write_bytes(b"x" * 1000)
    _break(mini_geodata)
    messages: list[str] = []
    # Removed even though this build then fails: the start of a build cleans up.
    with pytest.raises(ValidationError, match=r"sources/areas\.geojson"):
        build_atlas(mini_geodata, store, progress=messages.append)
    assert _names(folder) == sorted(["atlas.gpkg", *NOT_OURS])
    assert store.path.read_bytes() == before
    assert "removed 5 temporary file(s) of an interrupted build (0.0 MB)" in messages


@posix_only
def test_a_killed_build_leaves_files_that_the_next_build_removes(mini_geodata, tmp_path):
    """SIGKILL a real build half-way through writing; the next build finds and removes what it left."""
    folder = tmp_path / "atlas"
    script = f"""
import signal, sys, pyogrio
from planatlas.build import build_atlas
from planatlas.store.gpkg import GeoPackageStore
real = pyogrio.write_dataframe
def first_layer_then_wait(*args, **kwargs):
    real(*args, **kwargs)
    print("written", flush=True)
    signal.pause()  # until the test kills us, half-way through the atlas
pyogrio.write_dataframe = first_layer_then_wait
build_atlas({str(mini_geodata)!r}, GeoPackageStore({str(folder / "atlas.gpkg")!r}))
"""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env) as proc:
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], 120)  # until the first layer is on disk
            assert ready and proc.stdout.readline().strip() == "written"
        finally:
            proc.send_signal(signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    left = _names(folder)
    assert left and all(n.startswith(".atlas.gpkg.") and ".tmp.gpkg" in n for n in left), left

    store = GeoPackageStore(folder / "atlas.gpkg")
    build_atlas(mini_geodata, store)
    assert _names(folder) == ["atlas.gpkg"]
    assert store.layers() == ["areas", "indicators", "sites"]


@posix_only
def test_the_temporary_file_of_a_build_in_progress_is_not_removed(mini_geodata, tmp_path):
    """A build writing holds a lock on the atlas folder; while it is held, a temp file there is not litter."""
    import fcntl

    folder = tmp_path / "atlas"
    folder.mkdir()
    live = folder / LEFTOVERS[0]
    live.write_bytes(b"being written")
    _break(mini_geodata)
    store = GeoPackageStore(folder / "atlas.gpkg")
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a build writing its atlas does
        with pytest.raises(ValidationError):
            build_atlas(mini_geodata, store)
        assert live.exists()
    finally:
        os.close(fd)
    with pytest.raises(ValidationError):
        build_atlas(mini_geodata, store)
    assert not live.exists()


def test_a_failing_build_leaves_no_temporary_file(mini_geodata, tmp_path, monkeypatch):
    folder = tmp_path / "atlas"
    store = GeoPackageStore(folder / "atlas.gpkg")

    # Bad geodata: refused before anything is written; the report is the only new file anywhere.
    broken = tmp_path / "broken"
    shutil.copytree(mini_geodata, broken)
    _break(broken)
    geodata_before = sorted(p.relative_to(broken) for p in broken.rglob("*"))
    with pytest.raises(ValidationError, match=r"sources/areas\.geojson"):
        build_atlas(broken, store, report_path=folder / "report.json")
    assert _names(folder) == ["report.json"]
    assert sorted(p.relative_to(broken) for p in broken.rglob("*")) == geodata_before

    # A write that fails half-way (the disk fills up) after SQLite opened its journal.
    import pyogrio

    real = pyogrio.write_dataframe
    calls = {"n": 0}

    def journal_then_full(frame, path, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            Path(f"{path}-journal").write_bytes(b"journal")
            raise OSError("No space left on device")
        return real(frame, path, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", journal_then_full)
    with pytest.raises(OutputWriteError, match=r"atlas\.gpkg was not written: the disk is full"):
        build_atlas(mini_geodata, store)
    assert _names(folder) == ["report.json"]


def test_a_report_that_cannot_be_written_leaves_no_temporary_file(tmp_path):
    with pytest.raises(TypeError, match="not JSON serializable"):
        write_json(tmp_path / "report.json", {"when": object()})
    assert _names(tmp_path) == []


@pytest.fixture(params=[0o022, 0o027, 0o002], ids=["umask022", "umask027", "umask002"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@posix_only
def test_every_output_has_the_mode_of_a_plainly_created_file(umask, mini_geodata, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    plain = out / "plain.txt"
    with plain.open("w", encoding="utf-8") as fh:
        fh.write("x")
    expected = _mode(plain)
    assert expected == 0o666 & ~umask

    store = GeoPackageStore(out / "atlas.gpkg")
    build_atlas(mini_geodata, store, report_path=out / "report.json")
    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(115.9, 28.7)], crs="EPSG:4490")
    written = [
        store.path,
        out / "report.json",
        write_frame(frame, out / "sites.csv"),
        write_frame(frame, out / "sites.geojson"),
        write_frame(frame, out / "sites.gpkg"),
        write_json(out / "data.json", {"a": 1}),
        atomic_write(out / "page.svg", lambda fh: fh.write(b"<svg/>")),
    ]
    assert {p.name: oct(_mode(p)) for p in written} == {p.name: oct(expected) for p in written}
