"""The pure query library: exact semantics near the threshold, against independent brute force."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from planatlas import query as q

# A point near Nanchang in EPSG:4548 (metres); geometries are authored here and handed to the
# queries in EPSG:4490, as the atlas stores them.
X0, Y0 = 500_000.0, 3_170_000.0
D = 1000.0


def frame(keys, geoms, *, metric: bool = False, **columns) -> gpd.GeoDataFrame:
    """A layer authored in EPSG:4548, handed over in EPSG:4490 (or kept metric, for exact ties/touches)."""
    data = {"key": list(keys), **columns}
    layer = gpd.GeoDataFrame(data, geometry=list(geoms), crs="EPSG:4548")
    return layer if metric else layer.to_crs("EPSG:4490")


def at(angle: float, dist: float) -> tuple[float, float]:
    return X0 + dist * math.cos(angle), Y0 + dist * math.sin(angle)


def brute_pairs(target: gpd.GeoDataFrame, reference: gpd.GeoDataFrame, distance: float) -> dict:
    """Every (target key, reference key) -> GEOS distance <= distance, by checking all pairs."""
    tg = target.to_crs(4548).geometry.values
    rg = reference.to_crs(4548).geometry.values
    out = {}
    for i, a in enumerate(tg):
        for j, b in enumerate(rg):
            d = shapely.distance(a, b)
            if d <= distance:
                out[(target["key"].iloc[i], reference["key"].iloc[j])] = d
    return out


# -- parse_distance ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metres"),
    [("1km", 1000.0), ("500m", 500.0), ("1.5 km", 1500.0), ("800", 800.0), (300, 300.0), ("2公里", 2000.0)],
)
def test_parse_distance(text, metres):
    assert q.parse_distance(text) == metres


@pytest.mark.parametrize("bad", ["-1km", "abc", "1 mile", "", True, -5, float("nan")])
def test_parse_distance_rejects(bad):
    with pytest.raises(ValueError, match="distance"):
        q.parse_distance(bad)


# -- within_distance near the threshold --------------------------------------------------------------


@pytest.fixture
def threshold_case():
    """Hand-made targets around one station where buffer and centroid shortcuts give wrong answers."""
    station = frame(["s"], [shapely.Point(X0, Y0)])
    half = math.pi / 64  # midway between two vertices of shapely's default buffer(1000) polygon
    targets = {
        # inside: a point 999.5 m away between buffer vertices (the buffer polygon is 1.2 m short there)
        "chord_in": shapely.Point(*at(half, 999.5)),
        # inside: a long thin footprint whose nearest edge is 999.5 m away but centroid 1 029.5 m
        "thin_in": shapely.box(X0 + 999.5, Y0 - 5, X0 + 1059.5, Y0 + 5),
        # outside: a box just beyond the ring, its nearest corner 1 000.5 m away
        "corner_out": shapely.box(*at(math.pi / 4, 1000.5), *(c + 30 for c in at(math.pi / 4, 1000.5))),
        # inside by 1 mm / outside by 1 mm
        "edge_in": shapely.box(X0 - 40, Y0 + 999.999, X0 + 40, Y0 + 1030),
        "edge_out": shapely.box(X0 - 40, Y0 - 1030, X0 + 40, Y0 - 1000.001),
        # a U whose bounding-box centre (the station) lies in the notch, outside the polygon: 10 m
        "u_notch": shapely.Polygon(
            [
                (X0 - 30, Y0 - 30),
                (X0 + 30, Y0 - 30),
                (X0 + 30, Y0 + 30),
                (X0 + 10, Y0 + 30),
                (X0 + 10, Y0 - 10),
                (X0 - 10, Y0 - 10),
                (X0 - 10, Y0 + 30),
                (X0 - 30, Y0 + 30),
            ]
        ),
        # a multipolygon: one far part, one near part at 900 m
        "multi_in": shapely.MultiPolygon(
            [shapely.box(X0 + 5000, Y0, X0 + 5020, Y0 + 20), shapely.box(X0 - 920, Y0 - 10, X0 - 900, Y0 + 10)]
        ),
        # a huge zone-like polygon (takes the STRtree path) 700 m away
        "big_in": shapely.box(X0 + 700, Y0 - 8000, X0 + 9000, Y0 - 0.001),
        # a line crossing near the station at 999 m
        "line_in": shapely.LineString([(X0 - 2000, Y0 - 999), (X0 + 2000, Y0 - 999)]),
        # far away
        "far": shapely.box(X0 + 3000, Y0 + 3000, X0 + 3020, Y0 + 3020),
    }
    target = frame(targets.keys(), targets.values())
    return target, station


def test_threshold_case_defeats_the_shortcuts(threshold_case):
    """The fixture is meaningful: buffer and centroid shortcuts really get it wrong."""
    target, station = threshold_case
    tg = target.to_crs(4548).set_index("key").geometry
    ring = station.to_crs(4548).geometry.iloc[0].buffer(D)  # shapely's default polygon
    assert not ring.intersects(tg["chord_in"])
    centre = station.to_crs(4548).geometry.iloc[0]
    assert tg["thin_in"].centroid.distance(centre) > D
    assert tg["u_notch"].contains(shapely.Point(X0, Y0)) is False


def test_within_distance_exact_near_threshold(threshold_case):
    target, station = threshold_case
    result = q.within_distance(target, station, distance="1km", target_key="key", reference_key="key")
    expected = {"chord_in", "thin_in", "edge_in", "u_notch", "multi_in", "big_in", "line_in"}
    assert set(result["key"]) == expected
    brute = brute_pairs(target, station, D)
    assert {k for k, _ in brute} == expected
    got = dict(zip(result["key"], result["distance_m"], strict=True))
    for (k, _), d in brute.items():
        assert got[k] == pytest.approx(d, abs=1e-6)
    assert got["u_notch"] == pytest.approx(10.0, abs=1e-6)
    assert got["edge_in"] == pytest.approx(999.999, abs=1e-6)
    assert (result["nearest_key"] == "s").all()
    assert list(result["distance_m"]) == sorted(result["distance_m"])
    assert result.crs == target.crs  # results keep the input CRS and geometry


def test_within_distance_without_distances_same_features(threshold_case):
    target, station = threshold_case
    full = q.within_distance(target, station, distance=D, target_key="key", reference_key="key")
    fast = q.within_distance(target, station, distance=D, target_key="key", reference_key="key", distances=False)
    assert set(fast["key"]) == set(full["key"])
    assert "distance_m" not in fast.columns
    assert (fast["within_count"] == 1).all()


def test_point_inside_polygon_is_distance_zero():
    hall = shapely.box(X0 - 50, Y0 - 50, X0 + 50, Y0 + 50)
    courtyard = shapely.Polygon(hall.exterior, [shapely.box(X0 - 20, Y0 - 20, X0 + 20, Y0 + 20).exterior.coords])
    target = frame(
        ["hall", "collection", "courtyard"],
        [hall, shapely.GeometryCollection([shapely.Point(X0 + 500, Y0), hall]), courtyard],
    )
    station = frame(["s"], [shapely.Point(X0 + 10, Y0 + 5)])  # inside the hall, in the courtyard's hole
    result = q.within_distance(target, station, distance="15m", target_key="key", reference_key="key")
    got = dict(zip(result["key"], result["distance_m"], strict=True))
    assert got["hall"] == 0.0 and got["collection"] == 0.0
    assert got["courtyard"] == pytest.approx(10.0, abs=1e-6)  # to the hole's edge at x0 + 20


def _random_layer(rng: np.random.Generator, n: int, spread: float) -> list:
    geoms = []
    for i in range(n):
        x, y = X0 + rng.uniform(-spread, spread), Y0 + rng.uniform(-spread, spread)
        w, h = rng.uniform(10, 60, 2)
        kind = i % 6
        if kind == 0:
            g = shapely.box(x, y, x + w, y + h)
        elif kind == 1:
            g = shapely.affinity.rotate(shapely.box(x, y, x + w, y + h), rng.uniform(0, 90))
        elif kind == 2:  # L-shape (concave)
            g = shapely.Polygon([(x, y), (x + w, y), (x + w, y + 10), (x + 10, y + 10), (x + 10, y + h), (x, y + h)])
        elif kind == 3:
            g = shapely.Point(x, y)
        elif kind == 4:
            g = shapely.LineString([(x, y), (x + w, y + h), (x + 2 * w, y)])
        else:
            g = shapely.MultiPolygon([shapely.box(x, y, x + w, y + h), shapely.box(x + 80, y, x + 90, y + 10)])
        geoms.append(g)
    return geoms


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_within_distance_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    target = frame([f"t{i:04d}" for i in range(600)], _random_layer(rng, 600, 2500))
    # Stations: points, plus one small polygon and one long line as references.
    refs = [shapely.Point(X0 + rng.uniform(-2000, 2000), Y0 + rng.uniform(-2000, 2000)) for _ in range(6)]
    refs += [shapely.box(X0, Y0, X0 + 40, Y0 + 40), shapely.LineString([(X0 - 3000, Y0 + 500), (X0 + 3000, Y0 + 700)])]
    reference = frame([f"r{j}" for j in range(len(refs))], refs)
    brute = brute_pairs(target, reference, 600.0)

    pairs = q.within_distance(target, reference, distance=600, target_key="key", reference_key="key", pairs=True)
    got = dict(zip(zip(pairs["key"], pairs["ref_key"], strict=True), pairs["distance_m"], strict=True))
    assert got.keys() == brute.keys()
    assert max(abs(got[k] - brute[k]) for k in brute) < 1e-6

    features = q.within_distance(target, reference, distance=600, target_key="key", reference_key="key")
    per_target: dict[str, list[tuple[float, str]]] = {}
    for (t, r), d in brute.items():
        per_target.setdefault(t, []).append((d, r))
    assert set(features["key"]) == set(per_target)
    for row in features.itertuples():
        best = min(per_target[row.key])
        assert row.nearest_key == best[1]
        assert row.distance_m == pytest.approx(best[0], abs=1e-6)
        assert row.within_count == len(per_target[row.key])

    counts = q.within_distance(target, reference, distance=600, target_key="key", reference_key="key", distances=False)
    assert dict(zip(counts["key"], counts["within_count"], strict=True)) == {t: len(v) for t, v in per_target.items()}


def test_within_distance_many_pairs_at_the_threshold():
    """Footprints placed so their true distance is D ± 1 cm: every one decided correctly."""
    rng = np.random.default_rng(7)
    station = shapely.Point(X0, Y0)
    geoms, expected = [], set()
    for i in range(400):
        angle = rng.uniform(0, 2 * math.pi)
        offset = 0.01 if i % 2 else -0.01
        # A rotated square whose nearest vertex points at the station, at D + offset.
        cx, cy = at(angle, D + offset + 20 * math.sqrt(2))
        square = shapely.affinity.rotate(shapely.box(cx - 20, cy - 20, cx + 20, cy + 20), math.degrees(angle) + 45)
        geoms.append(square)
        if offset < 0:
            expected.add(f"t{i:03d}")
    target = frame([f"t{i:03d}" for i in range(400)], geoms)
    result = q.within_distance(target, frame(["s"], [station]), distance=D, target_key="key", reference_key="key")
    assert set(result["key"]) == expected
    assert set(result["key"]) == {k for k, _ in brute_pairs(target, frame(["s"], [station]), D)}


def test_nearest_ties_go_to_the_smallest_key():
    # Metric input (a round trip through EPSG:4490 would break the exact tie in the last bits).
    target = frame(["a"], [shapely.Point(X0, Y0)], metric=True)
    reference = frame(
        ["南站", "b", "a2"],
        [shapely.Point(X0 + 100, Y0), shapely.Point(X0 - 100, Y0), shapely.Point(X0, Y0 + 100)],
        metric=True,
    )
    near = q.nearest(target, reference, target_key="key", reference_key="key")
    assert list(near["nearest_key"]) == ["a2"]
    within = q.within_distance(target, reference, distance=100, target_key="key", reference_key="key")
    assert list(within["nearest_key"]) == ["a2"]
    assert list(within["within_count"]) == [3]


def test_nearest_matches_brute_force_and_max_distance():
    rng = np.random.default_rng(3)
    target = frame([f"t{i}" for i in range(200)], _random_layer(rng, 200, 3000))
    pts = [shapely.Point(X0 + rng.uniform(-3000, 3000), Y0 + rng.uniform(-3000, 3000)) for _ in range(15)]
    reference = frame([f"r{j:02d}" for j in range(15)], pts)
    tg, rg = target.to_crs(4548).geometry.values, reference.to_crs(4548).geometry.values
    result = q.nearest(target, reference, target_key="key", reference_key="key").set_index("key")
    assert len(result) == 200
    for i, geom in enumerate(tg):
        dists = [shapely.distance(geom, r) for r in rg]
        j = int(np.argmin(dists))
        assert result.loc[f"t{i}", "nearest_key"] == f"r{j:02d}"
        assert result.loc[f"t{i}", "distance_m"] == pytest.approx(dists[j], abs=1e-6)
    capped = q.nearest(target, reference, max_distance="500m", target_key="key", reference_key="key")
    assert set(capped["key"]) == set(result.index[result["distance_m"] <= 500])


def test_nearest_with_nothing_in_reach_is_empty():
    """Every reference beyond max_distance: no rows (as PostGIS answers), not an error."""
    target = frame(["a", "b"], [shapely.Point(X0, Y0), shapely.Point(X0 + 50, Y0)], metric=True)
    reference = frame(["far"], [shapely.Point(X0 + 5000, Y0)], metric=True)
    capped = q.nearest(target, reference, max_distance="100m", target_key="key", reference_key="key")
    assert len(capped) == 0 and {"nearest_key", "distance_m"} <= set(capped.columns)
    assert len(q.nearest(target, reference, target_key="key", reference_key="key")) == 2


# -- zones ---------------------------------------------------------------------------------------------


@pytest.fixture
def two_streets():
    # Metric, so that a footprint on a street's edge lies exactly on it (a straight edge in EPSG:4548
    # is not straight in lon/lat; real atlas layers share their vertices instead).
    zones = frame(
        ["west", "east"],
        [shapely.box(X0 - 1000, Y0, X0, Y0 + 1000), shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)],
        metric=True,
    )
    buildings = frame(
        ["w1", "w2", "e1", "straddle", "edge", "out"],
        [
            shapely.box(X0 - 500, Y0 + 100, X0 - 450, Y0 + 150),
            shapely.box(X0 - 300, Y0 + 600, X0 - 260, Y0 + 640),
            shapely.box(X0 + 200, Y0 + 200, X0 + 260, Y0 + 260),
            shapely.box(X0 - 10, Y0 + 500, X0 + 40, Y0 + 540),  # mostly east
            shapely.box(X0 - 1000, Y0 + 300, X0 - 950, Y0 + 320),  # touches the outer boundary
            shapely.box(X0 + 5000, Y0, X0 + 5050, Y0 + 50),
        ],
        floors=[3, 5, 10, 20, 1, 7],
        metric=True,
    )
    return buildings, zones


def test_inside_and_intersects(two_streets):
    buildings, zones = two_streets
    inside = q.inside(buildings, zones, zone_key="key")
    assert dict(zip(inside["key"], inside["zone_key"], strict=True)) == {
        "w1": "west",
        "w2": "west",
        "e1": "east",
        "edge": "west",
    }
    crossing = q.intersects(buildings, zones, zone_key="key").set_index("key")
    assert set(crossing.index) == {"w1", "w2", "e1", "straddle", "edge"}
    assert crossing.loc["straddle", "zone_count"] == 2
    assert crossing.loc["straddle", "zone_key"] == "east"  # "east" < "west"


def test_summarize_counts_each_feature_once(two_streets):
    buildings, zones = two_streets
    summary = q.summarize(buildings, zones, value="floors", zone_key="key").set_index("key")
    assert summary.loc["west", "count"] == 3
    assert summary.loc["east", "count"] == 2  # e1 + the straddler, whose representative point is east
    assert summary["count"].sum() == 5  # intersects-based counting would give 6
    assert summary.loc["east", "sum_floors"] == 30
    assert summary.loc["west", "sum_floors"] == 9


def test_coverage_per_zone_and_overall(two_streets):
    buildings, zones = two_streets
    station = frame(["s"], [shapely.Point(X0 - 480, Y0 + 120)])
    cov = q.coverage(buildings, station, zones, distance="600m", zone_key="key", target_key="key", reference_key="key")
    brute = {k for k, _ in brute_pairs(buildings, station, 600)}
    assert brute == {"w1", "w2", "edge"}
    rows = cov.set_index("zone_key")
    assert (rows.loc["west", "total"], rows.loc["west", "within"]) == (3, 3)
    assert (rows.loc["east", "total"], rows.loc["east", "within"]) == (2, 0)
    assert rows.loc[q.OVERALL, "total"] == 6  # the building outside every street counts overall
    assert rows.loc[q.OVERALL, "share"] == pytest.approx(3 / 6)
    weighted = q.coverage(
        buildings, station, zones, distance=600, weight="floors", zone_key="key", target_key="key", reference_key="key"
    ).set_index("zone_key")
    assert weighted.loc["west", "share"] == pytest.approx(1.0)
    assert weighted.loc[q.OVERALL, "share"] == pytest.approx(9 / 46)


# -- inputs ---------------------------------------------------------------------------------------------


def test_inputs_without_crs_are_refused():
    target = gpd.GeoDataFrame({"key": ["a"]}, geometry=[shapely.Point(0, 0)])
    with pytest.raises(ValueError, match="no CRS"):
        q.within_distance(target, target, distance=1)


def test_wrong_key_and_stale_index_are_refused(threshold_case):
    target, station = threshold_case
    with pytest.raises(KeyError, match="nope"):
        q.within_distance(target, station, distance=1, target_key="nope")
    index = q.ProximityIndex.from_frame(target.iloc[:3])
    with pytest.raises(ValueError, match="index was built for 3"):
        q.within_distance(target, station, distance=1, target_key="key", reference_key="key", index=index)


def test_reused_index_gives_the_same_answer(threshold_case):
    target, station = threshold_case
    index = q.ProximityIndex.from_frame(target)
    first = q.within_distance(target, station, distance=D, target_key="key", reference_key="key", index=index)
    other = q.within_distance(target, station, distance=2000, target_key="key", reference_key="key", index=index)
    again = q.within_distance(target, station, distance=D, target_key="key", reference_key="key", index=index)
    pd.testing.assert_frame_equal(first, again)
    assert set(first["key"]) < set(other["key"])
    assert "edge_out" in set(other["key"]) - set(first["key"])


# -- run_query: one entry, the backend chosen by the store contract ------------------------------------


def test_store_contract_picks_the_backend():
    from planatlas.store import GeoPackageStore, LayerStore, SpatialQueries
    from planatlas.store.postgis import PostGISStore

    gpkg = GeoPackageStore("nowhere.gpkg")
    assert isinstance(gpkg, LayerStore) and not isinstance(gpkg, SpatialQueries)
    pg = PostGISStore("postgresql://nobody@127.0.0.1:1/none")  # no connection until used
    assert isinstance(pg, LayerStore) and isinstance(pg, SpatialQueries)


def test_run_query_embedded_keeps_the_index_per_cache_key(bundled_atlas):
    rq = q.QueryRequest(
        kind="within", layer="buildings", of="metro_stations", where={"name": "八一广场"}, distance="1km"
    )
    cache: dict = {}
    first = q.run_query(bundled_atlas, rq, cache=cache)
    assert first.backend == "embedded" and len(first.frame) > 0
    assert list(cache) == [(bundled_atlas.cache_key(), "buildings")]
    index = cache[(bundled_atlas.cache_key(), "buildings")]
    again = q.run_query(bundled_atlas, rq, cache=cache)
    assert cache[(bundled_atlas.cache_key(), "buildings")] is index  # reused, not rebuilt
    pd.testing.assert_frame_equal(again.frame, first.frame)
    pd.testing.assert_frame_equal(q.run_query(bundled_atlas, rq).frame, first.frame)


# -- the CLI on the bundled atlas -----------------------------------------------------------------------


def test_cli_within_bayi_guangchang(bundled_atlas, monkeypatch, tmp_path):
    from planatlas.cli.main import cli

    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(bundled_atlas.path))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    out = tmp_path / "result.csv"
    res = CliRunner().invoke(
        cli,
        [
            "query",
            "within",
            "--layer",
            "buildings",
            "--of",
            "metro_stations",
            "--where",
            "name=八一广场",
            "--distance",
            "1km",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    buildings = bundled_atlas.read("buildings")
    station = bundled_atlas.read("metro_stations", where={"name": "八一广场"})
    expected = {
        k
        for k, _ in brute_pairs(
            buildings.rename(columns={"building_id": "key"}), station.rename(columns={"station_id": "key"}), D
        )
    }
    assert expected
    written = pd.read_csv(out)
    assert set(written["building_id"]) == expected
    assert f"{len(expected)} features of buildings within 1km" in res.output


def test_cli_reports_bad_input(bundled_atlas, monkeypatch):
    from planatlas.cli.main import cli

    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(bundled_atlas.path))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    runner = CliRunner()
    res = runner.invoke(
        cli, ["query", "within", "--layer", "buildings", "--of", "metro_stations", "--distance", "1 mile"]
    )
    assert res.exit_code == 2 and "distance" in res.output
    res = runner.invoke(
        cli,
        [
            "query",
            "within",
            "--layer",
            "buildings",
            "--of",
            "metro_stations",
            "--where",
            "name=无此站",
            "--distance",
            "1km",
        ],
    )
    assert res.exit_code == 4 and "无此站" in res.output
    res = runner.invoke(cli, ["query", "within", "--layer", "nope", "--of", "metro_stations", "--distance", "1km"])
    assert res.exit_code == 4


# -- the Query page's map and downloads (no browser needed) ---------------------------------------------


def test_query_map_escapes_attributes_and_draws_the_ring(threshold_case, tmp_path):
    from planatlas.render.query_map import query_map
    from planatlas.ui.query import result_bytes

    target, station = threshold_case
    target = target.assign(name=["<img src=x onerror=alert(1)>"] * len(target))
    station = station.assign(name=["站<b>1</b>"])
    frame_ = q.within_distance(target, station, distance="1km", target_key="key", reference_key="key")
    rq = q.QueryRequest(kind="within", layer="t", of="s", distance="1km")
    html_text = query_map(q.QueryResult(rq, frame_, station, "embedded"), key="key", ref_key="key").get_root().render()
    assert "<img src=x" not in html_text and "站<b>1</b>" not in html_text
    # HTML-escaped, then JSON-escaped inside the map script (JSON escaping alone would leave "&" out).
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in html_text
    assert "\\u0026lt;b\\u0026gt;1" in html_text
    assert "1000 m" in html_text  # the ring's label
    for fmt in ("csv", "geojson", "gpkg"):
        path = tmp_path / f"r.{fmt}"
        path.write_bytes(result_bytes(frame_, fmt, layer="within"))
        back = pd.read_csv(path) if fmt == "csv" else gpd.read_file(path)
        assert set(back["key"]) == set(frame_["key"])


def test_query_page_answers_like_the_library(bundled_atlas, monkeypatch):
    """The Streamlit Query page (AppTest, no browser): same answer as the library, every kind runs."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(bundled_atlas.path))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)

    def page() -> None:
        from planatlas.settings import get_settings
        from planatlas.store import open_store
        from planatlas.ui.query import render_page

        settings = get_settings()
        render_page(open_store(settings), settings, "en")

    app = AppTest.from_function(page, default_timeout=60).run()
    assert not app.exception
    assert app.multiselect(key="pq_values_metro_stations_name_en").placeholder == "Empty: every feature"
    app.multiselect(key="pq_values_metro_stations_name_en").set_value(["八一广场"]).run()
    assert not app.exception and not app.error
    expected = q.run_query(
        bundled_atlas,
        q.QueryRequest(
            kind="within", layer="buildings", of="metro_stations", where={"name": "八一广场"}, distance="1km"
        ),
    ).frame
    shown = app.dataframe[0].value  # the planner's table: names first, keys behind the expander
    assert list(shown.columns[:2]) == ["Name", "Distance (m)"]
    assert set(shown["Name"]) == set(expected["name"]) and len(expected) > 0
    assert any(f"{len(expected)} results" in m.value for m in app.markdown)
    assert any("within 1 km of Bayi Square station" in h.value for h in app.subheader)  # name_en in English
    for kind in ("nearest", "inside", "intersects", "summarize", "coverage"):
        app.selectbox(key="pq_kind__en").set_value(kind).run()
        assert not app.exception and not app.error, kind
        assert len(app.dataframe) and len(app.dataframe[0].value) > 0, (
            kind,
            [i.value for i in app.info],
            [m.value for m in app.markdown][-6:],
        )
