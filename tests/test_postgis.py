"""PostGIS backend against a real throwaway cluster: storage, atomic loading, parity with the pure queries."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from planatlas import query as q
from planatlas.catalog import parse_layer_spec
from planatlas.errors import AtlasNotBuiltError, LayerNotFoundError, PostGISError
from planatlas.store.postgis import PostGISStore

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def bundled_pg(postgis_url, bundled_build):
    """The bundled atlas loaded into PostGIS (schema ``bundled``) next to its GeoPackage twin."""
    gpkg, result = bundled_build
    store = PostGISStore(postgis_url, schema="bundled")
    store.write(result.layers, result.metadata)
    yield gpkg, store
    store.dispose()


def _layer_meta(name: str, key: str, gtype: str, fields: dict[str, str]) -> dict:
    spec = parse_layer_spec(
        {
            "name": name,
            "title": {"zh": name, "en": name},
            "geometry_type": gtype,
            "key": key,
            "fields": {f: {"type": t} for f, t in fields.items()},
            "geometry": {"source": f"sources/{name}.geojson", "crs": "EPSG:4490"},
        }
    )
    return {"title": {"zh": name, "en": name}, "geometry_type": gtype, "spec": spec.to_dict()}


def generated_atlas(seed: int = 0, n: int = 3000):
    """City-like synthetic layers in the Nanchang extent: mixed footprints, stations, a street grid."""
    rng = np.random.default_rng(seed)
    x0, y0 = 500_000.0, 3_170_000.0
    geoms = []
    for i in range(n):
        x, y = x0 + rng.uniform(0, 6000), y0 + rng.uniform(0, 6000)
        w, h = rng.uniform(10, 60, 2)
        box = shapely.box(x, y, x + w, y + h)
        if i % 3 == 1:
            box = shapely.affinity.rotate(box, rng.uniform(0, 90))
        elif i % 3 == 2:  # concave L-shapes
            box = shapely.Polygon([(x, y), (x + w, y), (x + w, y + 10), (x + 10, y + 10), (x + 10, y + h), (x, y + h)])
        geoms.append(shapely.MultiPolygon([box]))
    buildings = gpd.GeoDataFrame(
        {"building_id": [f"b{i:05d}" for i in range(n)], "floors": rng.integers(1, 40, n)},
        geometry=geoms,
        crs="EPSG:4548",
    ).to_crs("EPSG:4490")
    stations = gpd.GeoDataFrame(
        {"station_id": [f"s{j:02d}" for j in range(12)], "name": [f"站{j}" for j in range(12)]},
        geometry=shapely.points(x0 + rng.uniform(0, 6000, 12), y0 + rng.uniform(0, 6000, 12)),
        crs="EPSG:4548",
    ).to_crs("EPSG:4490")
    streets = gpd.GeoDataFrame(
        {"street_id": [f"z{i}{j}" for i in range(3) for j in range(3)]},
        geometry=[
            shapely.MultiPolygon([shapely.box(x0 + i * 2000, y0 + j * 2000, x0 + (i + 1) * 2000, y0 + (j + 1) * 2000)])
            for i in range(3)
            for j in range(3)
        ],
        crs="EPSG:4548",
    ).to_crs("EPSG:4490")
    layers = {"buildings": buildings, "metro_stations": stations, "streets": streets}
    meta = {
        "planatlas_version": "test",
        "built_at": f"generated-{seed}",
        "layers": {
            "buildings": _layer_meta(
                "buildings", "building_id", "MultiPolygon", {"building_id": "str", "floors": "int"}
            ),
            "metro_stations": _layer_meta(
                "metro_stations", "station_id", "Point", {"station_id": "str", "name": "str"}
            ),
            "streets": _layer_meta("streets", "street_id", "MultiPolygon", {"street_id": "str"}),
        },
    }
    return layers, meta


@pytest.fixture(scope="module")
def generated_pg(postgis_url):
    layers, meta = generated_atlas()
    store = PostGISStore(postgis_url, schema="generated")
    store.write(layers, meta)
    yield layers, store
    store.dispose()


def _text(values: pd.Series) -> list[str]:
    return ["<NA>" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v) for v in values]


def _same(pure: pd.DataFrame, pushed: pd.DataFrame, key: str, columns: list[str]) -> None:
    """Same features, same keys/counts, same distances (to floating-point noise)."""
    assert len(pure) == len(pushed)
    assert set(pure[key]) == set(pushed[key])
    merged = pure.merge(pushed, on=key, suffixes=("_pure", "_pg"))
    for column in columns:
        a, b = merged[f"{column}_pure"], merged[f"{column}_pg"]
        if column == "distance_m" or column.startswith("sum_") or column == "share":
            np.testing.assert_allclose(a.astype(float), b.astype(float), atol=1e-6, rtol=0)
        else:
            assert list(a.astype(str)) == list(b.astype(str)), column


# -- storage ------------------------------------------------------------------------------------------


def test_tables_are_typed_and_indexed(bundled_pg):
    import psycopg

    _, store = bundled_pg
    conninfo = store.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns WHERE f_table_schema = 'bundled'"
        ).fetchall()
        cols = {(t, c): (srid, typ) for t, c, srid, typ in rows}
        assert cols[("metro_stations", "geom")] == (4490, "POINT")
        assert cols[("metro_stations", "geom_m")] == (4548, "POINT")
        assert cols[("streets", "geom")][0] == 4490
        gist = conn.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'bundled' AND indexdef LIKE '%gist%'"
        ).fetchall()
        indexed = {(t, "geom_m" if "geom_m" in d else "geom") for t, d in gist}
        assert ("buildings", "geom") in indexed and ("buildings", "geom_m") in indexed
        generated = conn.execute(
            "SELECT attgenerated FROM pg_attribute WHERE attrelid = 'bundled.buildings'::regclass AND attname = 'geom_m'"
        ).fetchone()
        assert generated == ("s",)  # stored generated column: ST_Transform(geom, 4548)


def test_read_round_trips_the_bundled_atlas(bundled_pg):
    gpkg, store = bundled_pg
    assert store.layers() == gpkg.layers()
    assert store.metadata()["layers"].keys() == gpkg.metadata()["layers"].keys()
    for name in gpkg.layers():
        a, b = gpkg.read(name), store.read(name)
        key = gpkg.spec(name).key
        a = a.sort_values(key, key=lambda s: s.astype(str)).reset_index(drop=True)
        b = b.sort_values(key, key=lambda s: s.astype(str)).reset_index(drop=True)
        assert list(a.columns) == list(b.columns), name
        attrs = [c for c in a.columns if c != "geometry"]
        pd.testing.assert_frame_equal(a[attrs], b[attrs], check_dtype=False, obj=name)
        if isinstance(a, gpd.GeoDataFrame):
            assert b.crs.to_epsg() == 4490
            same = a.geometry.geom_equals_exact(b.geometry, tolerance=1e-12)
            assert (same | (a.geometry.isna() & b.geometry.isna())).all(), name


def test_read_filters(bundled_pg):
    gpkg, store = bundled_pg
    assert list(store.read("metro_stations", where={"name": "八一广场"})["name"]) == ["八一广场"]
    both = store.read("metro_stations", columns=["station_id", "name"])
    assert list(both.columns) == ["station_id", "name", "geometry"]
    bbox = (115.85, 28.65, 115.9, 28.7)
    a, b = gpkg.read("buildings", bbox=bbox), store.read("buildings", bbox=bbox)
    assert set(a["building_id"]) == set(b["building_id"])
    with pytest.raises(LayerNotFoundError):
        store.read("metro_stations", columns=["station_id; DROP TABLE x"])
    with pytest.raises(LayerNotFoundError):
        store.read("no_such_layer")
    # A hostile value is just a value.
    assert len(store.read("metro_stations", where={"name": "x' OR '1'='1"})) == 0
    assert len(store.read("metro_stations")) == len(gpkg.read("metro_stations"))


def test_empty_schema_is_not_an_atlas(postgis_url):
    with PostGISStore(postgis_url, schema="nothing_here") as store:
        assert not store.exists()
        with pytest.raises(AtlasNotBuiltError, match="planatlas build --db"):
            store.metadata()


def test_identifiers_come_only_from_the_catalogue(postgis_url):
    layers, meta = generated_atlas(n=10)
    bad = {'buildings"; DROP SCHEMA public; --': layers["buildings"]}
    with PostGISStore(postgis_url, schema="idents") as store:
        with pytest.raises(ValueError, match="plain identifier"):
            store.write(bad, {"layers": {next(iter(bad)): meta["layers"]["buildings"]}})
        with pytest.raises(ValueError, match="plain identifier"):
            PostGISStore(postgis_url, schema="x; DROP")
        assert not store.exists()


# -- atomic loading -------------------------------------------------------------------------------------


def test_failing_load_leaves_the_database_unchanged(postgis_url, request):
    import psycopg

    layers, meta = generated_atlas(seed=5, n=200)
    store = PostGISStore(postgis_url, schema="atomic")
    request.addfinalizer(store.dispose)
    store.write(layers, meta)
    before_meta = store.metadata()
    before = {name: store.read(name) for name in store.layers()}

    # A new atlas whose last layer breaks the load half-way (a duplicate primary key in COPY).
    new_layers, new_meta = generated_atlas(seed=6, n=300)
    broken = new_layers["streets"].copy()
    broken.loc[1, "street_id"] = broken.loc[0, "street_id"]
    new_layers["streets"] = broken
    new_meta["layers"]["extra"] = new_meta["layers"]["metro_stations"]
    with pytest.raises(PostGISError, match="unchanged"):
        store.write(new_layers, new_meta)

    assert store.metadata() == before_meta
    for name, frame in before.items():
        again = store.read(name)
        pd.testing.assert_frame_equal(frame.drop(columns="geometry"), again.drop(columns="geometry"))
        assert frame.geometry.geom_equals_exact(again.geometry, tolerance=0).all()
    conninfo = store.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'atomic'")}
    assert tables == {"buildings", "metro_stations", "streets", "planatlas_metadata"}

    # And a good load replaces everything, dropping layers that are gone.
    del new_layers["streets"]
    del new_meta["layers"]["streets"]
    new_meta["layers"].pop("extra")
    store.write(new_layers, new_meta)
    assert store.layers() == ["buildings", "metro_stations"]
    assert len(store.read("buildings")) == 300


# -- parity of every query type ------------------------------------------------------------------------


def test_parity_on_generated_data(generated_pg):
    layers, store = generated_pg
    b, s, z = layers["buildings"], layers["metro_stations"], layers["streets"]
    keys = {"target_key": "building_id", "reference_key": "station_id"}

    one = s[s["name"] == "站3"]
    _same(
        q.within_distance(b, one, distance="1km", **keys),
        store.within_distance("buildings", "metro_stations", distance="1km", where={"name": "站3"}),
        "building_id",
        ["nearest_key", "distance_m", "within_count"],
    )
    pure = q.within_distance(b, s, distance=800, **keys)
    assert pure["within_count"].max() > 1  # overlapping rings: the nearest choice matters
    _same(
        pure,
        store.within_distance("buildings", "metro_stations", distance=800),
        "building_id",
        ["nearest_key", "distance_m", "within_count"],
    )
    _same(
        q.within_distance(b, s, distance=800, distances=False, **keys),
        store.within_distance("buildings", "metro_stations", distance=800, distances=False),
        "building_id",
        ["within_count"],
    )
    pp = q.within_distance(b, s, distance=800, pairs=True, **keys)
    pg = store.within_distance("buildings", "metro_stations", distance=800, pairs=True)
    assert sorted(zip(pp["building_id"], pp["ref_key"], strict=True)) == sorted(
        zip(pg["building_id"], pg["ref_key"], strict=True)
    )
    _same(
        q.nearest(b, s, **keys),
        store.nearest("buildings", "metro_stations"),
        "building_id",
        ["nearest_key", "distance_m"],
    )
    _same(
        q.nearest(b, s, max_distance=300, **keys),
        store.nearest("buildings", "metro_stations", max_distance=300),
        "building_id",
        ["nearest_key", "distance_m"],
    )
    # Polygon references (streets): polygon-polygon distances, zero-distance ties broken by key.
    _same(
        q.within_distance(b, z, distance=30, target_key="building_id", reference_key="street_id"),
        store.within_distance("buildings", "streets", distance=30),
        "building_id",
        ["nearest_key", "distance_m", "within_count"],
    )
    for kind in ("inside", "intersects"):
        _same(
            getattr(q, kind)(b, z, zone_key="street_id"),
            getattr(store, kind)("buildings", "streets"),
            "building_id",
            ["zone_key", "zone_count"],
        )
    assert (store.intersects("buildings", "streets")["zone_count"] > 1).any()  # straddlers exist
    _same(
        q.summarize(b, z, value="floors", zone_key="street_id"),
        store.summarize("buildings", "streets", value="floors"),
        "street_id",
        ["count", "sum_floors"],
    )
    pure_cov = q.coverage(b, s, z, distance="600m", zone_key="street_id", **keys)
    pg_cov = store.coverage("buildings", "metro_stations", "streets", distance="600m")
    _same(pure_cov, pg_cov, "zone_key", ["total", "within", "share"])
    _same(
        q.coverage(b, s, z, distance="600m", weight="floors", zone_key="street_id", **keys),
        store.coverage("buildings", "metro_stations", "streets", distance="600m", weight="floors"),
        "zone_key",
        ["total", "within", "share"],
    )


@pytest.mark.parametrize(
    "request_args",
    [
        {
            "kind": "within",
            "layer": "buildings",
            "of": "metro_stations",
            "where": {"name": "八一广场"},
            "distance": "1km",
        },
        {"kind": "within", "layer": "buildings", "of": "metro_stations", "distance": "500m", "pairs": True},
        {"kind": "within", "layer": "hq_enterprises", "of": "metro_stations", "distance": "1.5km"},
        {"kind": "nearest", "layer": "hq_enterprises", "of": "metro_stations"},
        {"kind": "within", "layer": "buildings", "of": "metro_lines", "distance": "300m"},
        {"kind": "nearest", "layer": "attractions", "of": "metro_lines"},
        {"kind": "nearest", "layer": "attractions", "of": "metro_stations", "distance": "800m"},
        {"kind": "inside", "layer": "buildings", "of": "streets", "where": {"street_id": "nanpu"}},
        {"kind": "inside", "layer": "buildings", "of": "streets"},
        {"kind": "intersects", "layer": "metro_lines", "of": "streets"},
        {"kind": "summarize", "layer": "hq_enterprises", "of": "streets"},
        {"kind": "summarize", "layer": "buildings", "of": "zones"},
        {"kind": "coverage", "layer": "buildings", "of": "metro_stations", "by": "streets", "distance": "800m"},
    ],
    ids=lambda a: f"{a['kind']}-{a['layer']}-{a['of']}",
)
def test_parity_on_the_bundled_atlas(bundled_pg, request_args):
    gpkg, store = bundled_pg
    rq = q.QueryRequest(**request_args)
    pure = q.run_query(gpkg, rq)
    pushed = q.run_query(store, rq)
    assert (pure.backend, pushed.backend) == ("embedded", "postgis")
    frame_a, frame_b = pure.frame, pushed.frame
    assert list(frame_a.columns) == list(frame_b.columns)
    assert len(frame_a) == len(frame_b)
    if rq.kind in ("within", "nearest", "inside", "intersects"):
        assert len(frame_a) > 0, "a parity check on an empty answer proves nothing"
    for column in frame_a.columns:
        if column == "geometry":
            same = frame_a.geometry.geom_equals_exact(frame_b.geometry, tolerance=1e-12)
            assert (same | (frame_a.geometry.isna() & frame_b.geometry.isna())).all()
        elif frame_a[column].dtype.kind == "f":
            np.testing.assert_allclose(frame_a[column], frame_b[column], atol=1e-6, rtol=0, err_msg=column)
        elif rq.kind == "within" and not rq.pairs:
            # Equal distances may list tied rows in either order; compare as sets per column.
            assert sorted(_text(frame_a[column])) == sorted(_text(frame_b[column])), column
        else:
            assert _text(frame_a[column]) == _text(frame_b[column]), column


def test_cli_answers_the_same_on_both_backends(bundled_pg, monkeypatch):
    from planatlas.cli.main import cli

    gpkg, store = bundled_pg
    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(gpkg.path))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    args = ["query", "within", "--layer", "buildings", "--of", "metro_stations", "--where", "name=八一广场",
            "--distance", "1km", "--limit", "0"]  # fmt: skip
    runner = CliRunner()
    embedded = runner.invoke(cli, args)
    assert embedded.exit_code == 0, embedded.output
    # `planatlas build --db URL` loads the bundled geodata into the default schema in one transaction.
    built = runner.invoke(cli, ["build", "--db", store.url])
    assert built.exit_code == 0, built.output
    assert "PostGISStore" in built.output
    pushed = runner.invoke(cli, [*args, "--db", store.url])
    assert pushed.exit_code == 0, pushed.output
    assert "[embedded]" in embedded.output and "[postgis]" in pushed.output
    assert embedded.output.replace("[embedded]", "") == pushed.output.replace("[postgis]", "")
    assert "metro_ba_yi_guang_chang" in pushed.output


def test_a_rebuild_by_another_process_is_seen(postgis_url):
    """A long-lived store (the app) keeps answering correctly after someone else rebuilds the atlas."""
    layers, meta = generated_atlas(seed=8, n=100)
    with PostGISStore(postgis_url, schema="rebuilt") as app, PostGISStore(postgis_url, schema="rebuilt") as cli:
        cli.write(layers, meta)
        before = app.within_distance("buildings", "metro_stations", distance=800)
        # The rebuild renames a column and changes the data; the app's metadata snapshot is seconds old.
        new_layers, new_meta = generated_atlas(seed=9, n=150)
        new_layers["buildings"] = new_layers["buildings"].rename(columns={"floors": "storeys"})
        fields = new_meta["layers"]["buildings"]["spec"]["fields"]
        fields["storeys"] = fields.pop("floors")
        cli.write(new_layers, new_meta)
        after = app.within_distance("buildings", "metro_stations", distance=800)
        assert "storeys" in after.columns and "floors" in before.columns
        expected = q.within_distance(
            new_layers["buildings"], new_layers["metro_stations"], distance=800,
            target_key="building_id", reference_key="station_id",
        )  # fmt: skip
        assert set(after["building_id"]) == set(expected["building_id"])
        assert len(app.read("buildings")) == 150
