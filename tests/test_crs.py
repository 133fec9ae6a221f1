"""GCJ-02 / BD-09 transforms: published forward vectors and sub-metre inverses."""

import numpy as np
import pyproj
import pytest

from planatlas import crs


def test_forward_vectors_match_published_values():
    # The reference values quoted with the widely used closed-form GCJ-02 / BD-09 algorithm.
    lon, lat = crs.wgs84_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)
    blon, blat = crs.gcj02_to_bd09(116.404, 39.915)
    assert blon == pytest.approx(116.41036949371029, abs=1e-9)
    assert blat == pytest.approx(39.92133699351021, abs=1e-9)


def test_offset_in_nanchang_is_about_600_m():
    geod = pyproj.Geod(ellps="GRS80")
    glon, glat = crs.wgs84_to_gcj02(115.8858, 28.6820)
    _, _, dist = geod.inv(115.8858, 28.6820, glon, glat)
    assert 400 < dist < 800


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
        (crs.gcj02_to_bd09, crs.bd09_to_gcj02),
        (crs.wgs84_to_bd09, crs.bd09_to_wgs84),
    ],
)
def test_inverse_round_trip_is_below_half_a_metre(forward, inverse):
    rng = np.random.default_rng(42)
    lon = rng.uniform(73.6, 134.9, 5000)
    lat = rng.uniform(18.2, 53.5, 5000)
    back_lon, back_lat = inverse(*forward(lon, lat))
    geod = pyproj.Geod(ellps="GRS80")
    _, _, err = geod.inv(lon, lat, back_lon, back_lat)
    assert err.max() < 0.5
    # and the transform really moved the points (the test would pass for identity otherwise)
    _, _, moved = geod.inv(lon, lat, *forward(lon, lat))
    assert moved.min() > 10


def test_outside_china_is_unchanged_by_gcj02():
    lon, lat = crs.wgs84_to_gcj02([2.35, 139.7], [48.85, 35.7])
    assert lon.tolist() == [2.35, 139.7]
    assert lat.tolist() == [48.85, 35.7]


def test_geometry_conversion_is_vectorised_and_invertible():
    import shapely

    geoms = np.array([shapely.Point(115.88, 28.68), shapely.LineString([(115.8, 28.6), (115.9, 28.7)])])
    there = crs.canonical_to_offset(geoms, "GCJ-02")
    back = crs.offset_to_canonical(there, "gcj02")
    assert shapely.get_coordinates(back) == pytest.approx(shapely.get_coordinates(geoms), abs=1e-8)
    assert not np.allclose(shapely.get_coordinates(there), shapely.get_coordinates(geoms))
