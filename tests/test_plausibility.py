"""Coordinate plausibility: web-map (GCJ-02/BD-09) points declared as EPSG are refused by validate and build alike."""

from __future__ import annotations

import shutil

import geopandas as gpd
import numpy as np
import pytest
import shapely

from conftest import GEODATA
from planatlas import crs as pcrs
from planatlas.catalog import parse_layer_spec
from planatlas.plausibility import offset_problems


@pytest.fixture
def bundled_copy(tmp_path):
    root = tmp_path / "geodata"
    shutil.copytree(GEODATA, root)
    return root


def test_bundled_geodata_is_plausible(bundled_build):
    _store, result = bundled_build
    assert not [p for p in result.problems if "look like" in p.message]


# The bundled point layers now take their positions from the gazetteer (places/*.csv), which
# converts each row from the crs it declares; the rule is tested on synthetic layers below.


# ---- the rule on synthetic layers ----------------------------------------------------------------------------------
NAMES = [f"地点{i}" for i in range(12)]
RNG = np.random.default_rng(13)
TRUE_LON = 115.86 + RNG.random(12) * 0.06
TRUE_LAT = 28.64 + RNG.random(12) * 0.06


def _specs(points_crs: str):
    """Catalogue entries of a reference layer (stations) and a checked point layer (places) sharing names."""
    return {
        name: parse_layer_spec(
            {
                "name": name,
                "title": {"zh": name, "en": name},
                "geometry_type": "Point",
                "key": "id",
                "geometry": {"source": f"sources/{name}.csv", "crs": crs},
            }
        )
        for name, crs in (("stations", "EPSG:4326"), ("places", points_crs))
    }


def _layer(lon, lat, *, precision="sourced", names=NAMES):
    return gpd.GeoDataFrame(
        {"id": [f"k{i}" for i in range(len(lon))], "name": names, "precision": precision},
        geometry=gpd.points_from_xy(lon, lat),
        crs=pcrs.STORAGE_CRS,
    )


def _check(places, *, declared="EPSG:4490", stations=None):
    specs = _specs(declared)
    built = {"stations": stations if stations is not None else _layer(TRUE_LON, TRUE_LAT), "places": places}
    located = {"places": frozenset(places["id"]), "stations": frozenset(built["stations"]["id"])}
    return offset_problems(specs, built, located)


def test_points_at_their_places_pass():
    assert _check(_layer(TRUE_LON, TRUE_LAT)) == []


def test_gcj02_points_are_caught():
    found = _check(_layer(*pcrs.wgs84_to_gcj02(TRUE_LON, TRUE_LAT)))
    assert [(p.layer, p.field) for p in found] == [("places", "geometry")]
    assert "look like GCJ-02 declared as EPSG:4490" in found[0].message
    assert "from 12 same-named place(s)" in found[0].message


def test_bd09_points_are_caught():
    found = _check(_layer(*pcrs.wgs84_to_bd09(TRUE_LON, TRUE_LAT)))
    assert len(found) == 1 and "look like BD-09 declared as EPSG:4490" in found[0].message


def test_points_declared_gcj02_are_not_second_guessed():
    assert _check(_layer(*pcrs.wgs84_to_gcj02(TRUE_LON, TRUE_LAT)), declared="GCJ-02") == []


def test_scatter_without_a_common_shift_passes():
    """Authored positions 300 m off in every direction are imprecise, not GCJ-02."""
    angle = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    dlon = 300 * np.cos(angle) / (111_320 * np.cos(np.radians(28.67)))
    dlat = 300 * np.sin(angle) / 110_570
    assert _check(_layer(TRUE_LON + dlon, TRUE_LAT + dlat)) == []


def test_namesakes_far_away_are_not_pairs():
    """A shift that matches GCJ-02 says nothing when the same-named reference is another place 5 km away."""
    far = _layer(TRUE_LON + 0.05, TRUE_LAT + 0.05)
    assert _check(_layer(*pcrs.wgs84_to_gcj02(TRUE_LON, TRUE_LAT)), stations=far) == []


def test_street_placed_references_are_not_used():
    """Only positions the atlas holds to a few hundred metres (surveyed, sourced) are references."""
    placed = _layer(TRUE_LON, TRUE_LAT, precision="street")
    assert _check(_layer(*pcrs.wgs84_to_gcj02(TRUE_LON, TRUE_LAT)), stations=placed) == []


def test_aliases_pair_places():
    stations = _layer(TRUE_LON, TRUE_LAT, names=[f"站{i}" for i in range(12)])
    places = _layer(*pcrs.wgs84_to_gcj02(TRUE_LON, TRUE_LAT), names=[f"景区{i}" for i in range(12)])
    places["aliases"] = [f"别名@1;站{i}@{i}" for i in range(12)]
    assert len(_check(places, stations=stations)) == 1
    assert _check(places.drop(columns="aliases"), stations=stations) == []


def test_a_polygon_reference_counts_by_distance():
    """A reference outline (a district, a street) pairs with a point by distance to the outline."""
    squares = [shapely.Point(x, y).buffer(0.001, cap_style="square") for x, y in zip(TRUE_LON, TRUE_LAT, strict=True)]
    stations = gpd.GeoDataFrame(
        {"id": [f"k{i}" for i in range(12)], "name": NAMES, "precision": "sourced"},
        geometry=squares,
        crs=pcrs.STORAGE_CRS,
    )
    assert _check(_layer(TRUE_LON, TRUE_LAT), stations=stations) == []
    assert len(_check(_layer(*pcrs.wgs84_to_gcj02(TRUE_LON, TRUE_LAT)), stations=stations)) == 1
