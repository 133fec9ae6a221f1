"""Readers: every format, declared CRSs, encodings, archives, and each kind of bad file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from planatlas import crs as pcrs
from planatlas.errors import ArchiveTooLargeError, SourceError
from planatlas.io import read_source
from planatlas.io.readers import suspect_gcj02

NAMES = ["八一广场", "绳金塔"]


def _frame(crs="EPSG:4490"):
    return gpd.GeoDataFrame(
        {"key": ["a", "b"], "name": NAMES},
        geometry=[shapely.Point(115.8926, 28.6800), shapely.Point(115.8870, 28.6640)],
        crs=crs,
    )


def test_geojson_gpkg_kml_round_trip(tmp_path):
    frame = _frame()
    frame.to_file(tmp_path / "a.geojson")
    frame.to_file(tmp_path / "a.gpkg", layer="pts")
    frame.to_crs(4326).to_file(tmp_path / "a.kml", driver="KML")
    for name, declared in (("a.geojson", "EPSG:4490"), ("a.gpkg", "EPSG:4490"), ("a.kml", "EPSG:4326")):
        got = read_source(tmp_path / name, crs=declared)
        assert got.crs.to_epsg() == 4490
        assert shapely.get_coordinates(got.geometry) == pytest.approx(shapely.get_coordinates(frame.geometry), abs=1e-7)
    assert read_source(tmp_path / "a.gpkg", crs=None)["name"].tolist() == NAMES


def test_projected_source_is_converted(tmp_path):
    _frame().to_crs(pcrs.METRIC_CRS).to_file(tmp_path / "m.gpkg")
    got = read_source(tmp_path / "m.gpkg", crs="EPSG:4548")
    assert got.geometry.x.iloc[0] == pytest.approx(115.8926, abs=1e-7)


def test_declared_crs_contradicting_file_is_rejected(tmp_path):
    _frame().to_crs(pcrs.METRIC_CRS).to_file(tmp_path / "m.gpkg")
    with pytest.raises(SourceError, match=r"m.gpkg.*declared CRS EPSG:3857 but the file records"):
        read_source(tmp_path / "m.gpkg", crs="EPSG:3857")


def test_gcj02_and_bd09_sources_are_converted(tmp_path):
    frame = _frame()
    gcj = frame.copy()
    gcj["geometry"] = pcrs.canonical_to_offset(frame.geometry.to_numpy(), "GCJ-02")
    gcj.to_file(tmp_path / "g.geojson")
    got = read_source(tmp_path / "g.geojson", crs="GCJ-02")
    assert shapely.get_coordinates(got.geometry) == pytest.approx(shapely.get_coordinates(frame.geometry), abs=1e-8)
    bd = frame.copy()
    bd["geometry"] = pcrs.canonical_to_offset(frame.geometry.to_numpy(), "BD-09")
    bd.to_file(tmp_path / "b.geojson")
    got = read_source(tmp_path / "b.geojson", crs="BD-09")
    assert shapely.get_coordinates(got.geometry) == pytest.approx(shapely.get_coordinates(frame.geometry), abs=1e-8)


def test_shapefile_with_cpg(tmp_path):
    _frame().to_file(tmp_path / "s.shp", encoding="UTF-8")
    assert (tmp_path / "s.cpg").exists()
    assert read_source(tmp_path / "s.shp", crs="EPSG:4490")["name"].tolist() == NAMES


def test_gbk_shapefile_without_cpg_is_detected(tmp_path):
    _frame().to_file(tmp_path / "s.shp", encoding="GBK")
    (tmp_path / "s.cpg").unlink(missing_ok=True)
    assert read_source(tmp_path / "s.shp", crs="EPSG:4490")["name"].tolist() == NAMES


def test_zipped_shapefile(tmp_path):
    _frame().to_file(tmp_path / "s.shp", encoding="GBK")
    (tmp_path / "s.cpg").unlink(missing_ok=True)
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as zf:
        for part in tmp_path.glob("s.*"):
            if part.suffix != ".zip":
                zf.write(part, f"folder/{part.name}")
    assert read_source(tmp_path / "s.zip", crs="EPSG:4490")["name"].tolist() == NAMES


def test_csv_lon_lat(tmp_path):
    (tmp_path / "p.csv").write_text("key,name,x,y\na,八一广场,115.8926,28.68\n", encoding="utf-8")
    got = read_source(tmp_path / "p.csv", crs="EPSG:4490", lon="x", lat="y")
    assert got.geometry.iloc[0].equals(shapely.Point(115.8926, 28.68))


def test_csv_bad_number_names_row_and_field(tmp_path):
    (tmp_path / "p.csv").write_text("key,lon,lat\na,115.89,28.68\nb,东经,28.6\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"file p.csv, feature row 3, field lon: '东经' is not a number"):
        read_source(tmp_path / "p.csv", crs="EPSG:4490")


def test_empty_file(tmp_path):
    (tmp_path / "e.geojson").write_bytes(b"")
    with pytest.raises(SourceError, match=r"e.geojson: the file is empty"):
        read_source(tmp_path / "e.geojson", crs="EPSG:4490")


def test_file_over_size_cap(tmp_path):
    _frame().to_file(tmp_path / "a.geojson")
    with pytest.raises(SourceError, match="above the cap"):
        read_source(tmp_path / "a.geojson", crs="EPSG:4490", max_bytes=10)


def test_truncated_zip(tmp_path):
    _frame().to_file(tmp_path / "s.shp")
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as zf:
        for part in tmp_path.glob("s.*"):
            if part.suffix != ".zip":
                zf.write(part, part.name)
    data = (tmp_path / "s.zip").read_bytes()
    (tmp_path / "t.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=r"t.zip: .*(truncated|corrupt)"):
        read_source(tmp_path / "t.zip", crs="EPSG:4490")


def test_zip_bomb_is_stopped_by_bytes_read(tmp_path):
    # A 20 MB run of zeros compresses to ~20 KB; the cap counts bytes actually decompressed.
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.geojson", b"\0" * (20 * 1024 * 1024))
    assert (tmp_path / "bomb.zip").stat().st_size < 200_000
    with pytest.raises(ArchiveTooLargeError, match=r"bomb.zip: expands beyond the cap of 1048576 bytes"):
        read_source(tmp_path / "bomb.zip", crs="EPSG:4490", max_archive_bytes=1024 * 1024)


def test_lat_lon_swapped(tmp_path):
    swapped = _frame()
    swapped["geometry"] = shapely.transform(swapped.geometry.to_numpy(), lambda c: c[:, ::-1])
    swapped.to_file(tmp_path / "w.geojson")
    with pytest.raises(SourceError, match=r"w.geojson: .*latitude and longitude are swapped"):
        read_source(tmp_path / "w.geojson", crs="EPSG:4490")


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_metres_declared_as_degrees(tmp_path):
    metric = _frame().to_crs(pcrs.METRIC_CRS)
    metric.set_crs(None, allow_override=True).to_file(tmp_path / "m.geojson")
    with pytest.raises(SourceError, match=r"look like metres"):
        read_source(tmp_path / "m.geojson", crs="EPSG:4490")


def test_outside_china(tmp_path):
    paris = gpd.GeoDataFrame({"key": ["p"]}, geometry=[shapely.Point(2.35, 48.85)], crs=4490)
    paris.to_file(tmp_path / "p.geojson")
    with pytest.raises(SourceError, match=r"outside China"):
        read_source(tmp_path / "p.geojson", crs="EPSG:4490")


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_missing_crs(tmp_path):
    gpd.GeoDataFrame({"key": ["a"]}, geometry=[shapely.Point(115.9, 28.7)]).to_file(tmp_path / "n.gpkg")
    with pytest.raises(SourceError, match=r"n.gpkg: the file records no CRS and none was declared"):
        read_source(tmp_path / "n.gpkg", crs=None)


def test_empty_geometry_rows_are_rejected_unless_allowed(tmp_path):
    (tmp_path / "p.csv").write_text("key,lon,lat\na,115.89,28.68\nb,,\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"without geometry \(rows 2\)"):
        read_source(tmp_path / "p.csv", crs="EPSG:4490")
    assert read_source(tmp_path / "p.csv", crs="EPSG:4490", allow_empty_geometry=True).geometry.isna().sum() == 1


def test_suspect_gcj02_detects_web_map_points_declared_wgs84():
    district = shapely.box(115.880, 28.660, 115.900, 28.690)
    rng = [
        shapely.Point(115.880 + 0.02 * (i % 10) / 10 + 0.001, 28.660 + 0.03 * (i // 10) / 10 + 0.001)
        for i in range(100)
    ]
    truth = gpd.GeoSeries(rng, crs=4490)
    as_gcj = gpd.GeoSeries(pcrs.canonical_to_offset(truth.to_numpy(), "GCJ-02"), crs=4490)
    ref = gpd.GeoSeries([district], crs=4490)
    assert suspect_gcj02(as_gcj, ref)
    assert not suspect_gcj02(truth, ref)


def test_read_source_keeps_html_as_data(tmp_path):
    (tmp_path / "p.csv").write_text('key,name,lon,lat\na,"<script>alert(1)</script>",115.89,28.68\n', encoding="utf-8")
    assert read_source(tmp_path / "p.csv", crs="EPSG:4490")["name"].iloc[0] == "<script>alert(1)</script>"


def test_unsupported_suffix(tmp_path: Path):
    (tmp_path / "x.dxf").write_text("0\nEOF\n")
    with pytest.raises(SourceError, match=r"unsupported file type '.dxf'"):
        read_source(tmp_path / "x.dxf", crs="EPSG:4490")
