"""Property-based test of the readers: whatever the file holds, a clean result or a located error, never a traceback.

Random geometries (degenerate ones included: empty, one-vertex lines, unclosed or too-short rings,
NaN/infinite/out-of-range coordinates, wrong types), random attribute text in UTF-8 and GBK (with
and without ``.cpg``), and files cut short or with bytes flipped, in every format the readers take.
GDAL's warnings are printed, not raised, outside the test suite, so they are silenced here; every
exception other than :class:`SourceError` (and its subclasses) fails the property.
"""

from __future__ import annotations

import json
import math
import tempfile
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planatlas.errors import SourceError
from planatlas.io import read_source

#: Moderate example counts: the whole suite must stay well under 10 minutes on 2 cores.
#: No example database: nothing is written into the repository, every run draws afresh (and replays its failures).
SETTINGS = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
CJK = "八一广场绳金塔万寿宫西湖区南昌新建九望朝阳洲桃花丁公路站前中山西路文化街"

ODD = [math.nan, math.inf, -math.inf, 1e308, 0.0, 200.0, -91.0]
lons = st.one_of(st.floats(115.80, 116.00), st.sampled_from(ODD))
lats = st.one_of(st.floats(28.60, 28.75), st.sampled_from(ODD))
positions = st.one_of(
    st.tuples(lons, lats).map(list),
    st.lists(st.floats(115.8, 116.0), min_size=0, max_size=3),  # too few or too many ordinates
)


@st.composite
def rings(draw: st.DrawFn) -> list:
    points = draw(st.lists(positions, min_size=0, max_size=6))
    if points and draw(st.booleans()):
        points = [*points, points[0]]  # closed, unless the draw says otherwise
    return points


geometries = st.deferred(
    lambda: st.one_of(
        st.none(),
        st.builds(lambda c: {"type": "Point", "coordinates": c}, positions),
        st.builds(lambda c: {"type": "LineString", "coordinates": c}, st.lists(positions, max_size=5)),
        st.builds(lambda c: {"type": "Polygon", "coordinates": c}, st.lists(rings(), max_size=2)),
        st.builds(lambda c: {"type": "MultiPoint", "coordinates": c}, st.lists(positions, max_size=4)),
        st.builds(
            lambda c: {"type": "MultiPolygon", "coordinates": c}, st.lists(st.lists(rings(), max_size=2), max_size=2)
        ),
        st.builds(lambda g: {"type": "GeometryCollection", "geometries": g}, st.lists(geometries, max_size=2)),
        st.sampled_from([{"type": "Nowhere", "coordinates": [1, 2]}, {"type": "Point", "coordinates": "115,28"}, {}]),
    )
)
values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8))
features = st.builds(
    lambda key, name, extra, geometry: {
        "type": "Feature",
        "properties": {"key": key, "name": name, "extra": extra},
        "geometry": geometry,
    },
    st.one_of(st.none(), st.text(max_size=4), st.integers(0, 9)),
    st.text(max_size=8),  # any character but surrogates (hypothesis leaves those out of text)
    values,
    geometries,
)


def _read_cleanly(path: Path, **kwargs: object) -> gpd.GeoDataFrame | None:
    """The property: a GeoDataFrame in EPSG:4490 with finite coordinates, or a SourceError naming the file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            got = read_source(path, **kwargs)
        except SourceError as exc:
            assert exc.problems
            assert all(p.file and p.message for p in exc.problems), exc.problems
            return None
    assert isinstance(got, gpd.GeoDataFrame)
    assert got.crs.to_epsg() == 4490
    coords = shapely.get_coordinates(got.geometry.to_numpy())
    assert np.isfinite(coords).all()
    return got


@SETTINGS
@given(
    docs=st.lists(features, min_size=0, max_size=4),
    repeat=st.sampled_from([None, "key", "name", "coordinates", "type"]),
    allow_empty=st.booleans(),
)
def test_any_geojson_reads_cleanly(docs, repeat, allow_empty):
    text = json.dumps({"type": "FeatureCollection", "features": docs}, allow_nan=True, ensure_ascii=False)
    if repeat is not None:
        text = text.replace(f'"{repeat}": ', f'"{repeat}": null, "{repeat}": ', 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.geojson"
        path.write_text(text, encoding="utf-8")
        _read_cleanly(path, crs="EPSG:4490", key="key", allow_empty_geometry=allow_empty)


# no blanks: a .dbf pads text with spaces, so a blank value reads back as null, by the format
names = st.lists(st.text(alphabet=CJK + "ab1", min_size=1, max_size=6), min_size=1, max_size=5)


@SETTINGS
@given(names=names, encoding=st.sampled_from(["UTF-8", "GBK"]), keep_cpg=st.booleans())
def test_shapefile_text_in_either_encoding_reads_back(names, encoding, keep_cpg):
    frame = gpd.GeoDataFrame(
        {"key": [f"k{i}" for i in range(len(names))], "name": names},
        geometry=[shapely.Point(115.88 + i * 0.001, 28.68) for i in range(len(names))],
        crs=4490,
    )
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / "s.shp"
        frame.to_file(shp, encoding=encoding)
        if not keep_cpg:
            shp.with_suffix(".cpg").unlink(missing_ok=True)
        got = _read_cleanly(shp, crs="EPSG:4490")
    assert got is not None
    encoded = "".join(names).encode(encoding)
    ambiguous = encoding == "GBK" and not keep_cpg and _decodes_as_utf8(encoded)
    if not ambiguous:  # GBK bytes that happen to be valid UTF-8 cannot be told apart without a .cpg
        assert got["name"].tolist() == names


def _decodes_as_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _write(fmt: str, frame: gpd.GeoDataFrame, folder: Path) -> Path:
    if fmt == "csv":
        path = folder / "p.csv"
        table = frame.drop(columns="geometry").assign(lon=frame.geometry.x, lat=frame.geometry.y)
        table.to_csv(path, index=False)
        return path
    if fmt == "zip":
        frame.to_file(folder / "s.shp", encoding="UTF-8")
        path = folder / "s.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for part in folder.glob("s.*"):
                if part.suffix != ".zip":
                    zf.write(part, part.name)
        return path
    path = folder / f"p.{fmt}"
    frame.to_crs(4326 if fmt == "kml" else 4490).to_file(path, driver={"kml": "KML"}.get(fmt))
    return path


@SETTINGS
@given(
    fmt=st.sampled_from(["geojson", "gpkg", "kml", "csv", "zip", "shp"]),
    n=st.integers(1, 6),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=3),
    part=st.sampled_from([".shp", ".shx", ".dbf", ".prj", ".cpg"]),
)
def test_damaged_files_read_cleanly(fmt, n, cut, flips, part):
    frame = gpd.GeoDataFrame(
        {"key": [f"k{i}" for i in range(n)], "name": [CJK[i : i + 3] for i in range(n)]},
        geometry=[shapely.Point(115.88 + i * 0.002, 28.66 + i * 0.001) for i in range(n)],
        crs=4490,
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = _write("shp" if fmt == "shp" else fmt, frame, folder) if fmt != "shp" else folder / "s.shp"
        if fmt == "shp":
            frame.to_file(path, encoding="UTF-8")
        damaged = path.with_suffix(part) if fmt == "shp" else path
        if damaged.is_file():
            data = bytearray(damaged.read_bytes())
            for where, byte in flips:
                if data:
                    data[min(int(where * len(data)), len(data) - 1)] = byte
            damaged.write_bytes(bytes(data[: max(0, int(cut * len(data)))] if cut < 1 else data))
        crs = {"kml": "EPSG:4326", "csv": "EPSG:4490"}.get(fmt, "EPSG:4490")
        _read_cleanly(path, crs=crs, key="key")


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "kml", "csv", "zip"])
def test_undamaged_files_read_back(fmt, tmp_path):
    """The damage test's files are readable before the damage (else it would test nothing)."""
    frame = gpd.GeoDataFrame(
        {"key": ["k0", "k1"], "name": ["八一", "绳金塔"]},
        geometry=[shapely.Point(115.88, 28.66), shapely.Point(115.89, 28.67)],
        crs=4490,
    )
    path = _write(fmt, frame, tmp_path)
    got = _read_cleanly(path, crs="EPSG:4326" if fmt == "kml" else "EPSG:4490", key="key")
    assert got is not None and len(got) == 2
