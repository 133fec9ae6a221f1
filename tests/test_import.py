"""planatlas import / restore / remove: a bureau's own files into the atlas, official geometry for the plan's.

Every refusal is checked to leave the atlas byte-identical and the user geodata overlay unchanged.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from planatlas.cli.main import cli
from planatlas.imports.editor import (
    AttemptLimiter,
    check_editor_password,
    editor_configured,
    set_editor_password,
)
from planatlas.imports.replace import match_features, name_forms
from planatlas.store.gpkg import GeoPackageStore

#: A point well inside Xihu District (EPSG:4548 metres), around which test features are drawn.
XIHU_4548 = (390_000.0, 3_169_900.0)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bundled_atlas: GeoPackageStore) -> dict[str, Path]:
    """A copy of the bundled atlas, an empty overlay and config folder, all under ``tmp_path``."""
    atlas = tmp_path / "atlas.gpkg"
    shutil.copy(bundled_atlas.path, atlas)
    paths = {"atlas": atlas, "overlay": tmp_path / "user_geodata", "config": tmp_path / "config", "tmp": tmp_path}
    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(atlas))
    monkeypatch.setenv("PLANATLAS_USER_GEODATA_DIR", str(paths["overlay"]))
    monkeypatch.setenv("PLANATLAS_CONFIG_DIR", str(paths["config"]))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLANATLAS_MAX_IMPORT_BYTES", raising=False)
    return paths


def planatlas(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def footprints(n: int = 200, *, seed: int = 1) -> gpd.GeoDataFrame:
    """``n`` small squares near the middle of Xihu, in EPSG:4548, with Chinese column names."""
    rng = np.random.default_rng(seed)
    x0, y0 = XIHU_4548
    geoms = [
        shapely.box(x - 10, y - 10, x + 10, y + 10) for x, y in rng.uniform(-1500, 1500, (n, 2)) + np.array([x0, y0])
    ]
    return gpd.GeoDataFrame(
        {
            "编号": [f"B{i:04d}" for i in range(n)],
            "用途": rng.choice(["住宅", "商业"], n),
            "层数": rng.integers(1, 30, n),
        },
        geometry=geoms,
        crs="EPSG:4548",
    )


def test_import_restore_remove_a_geopackage(env: dict[str, Path]) -> None:
    path = env["tmp"] / "现状建筑.gpkg"
    footprints().to_file(path, layer="现状建筑")
    code, out = planatlas("import", str(path), "--layer", "footprints", "--key", "编号", "--title-zh", "建筑轮廓")
    assert code == 0, out
    store = GeoPackageStore(env["atlas"])
    frame = store.read("footprints")
    assert len(frame) == 200
    assert set(frame["precision"]) == {"surveyed"}
    assert frame.crs.to_epsg() == 4490
    minx, miny, maxx, maxy = frame.total_bounds
    assert 115.8 < minx < maxx < 116.0 and 28.5 < miny < maxy < 28.8
    spec = store.spec("footprints")
    assert spec.fields[spec.key].title["zh"] == "编号"  # the original column name is the title
    code, out = planatlas("layers")
    row = next(line for line in out.splitlines() if line.startswith("footprints"))
    assert "imported" in row and "现状建筑.gpkg" in row and sha(path)[:12] in row
    # at once in Query (every layer) and Export: its own map over the district outlines
    from planatlas.ui.export import layer_presets

    assert list(layer_presets(store)) == ["layer:footprints"]
    page = env["tmp"] / "footprints.png"
    code, out = planatlas("export", "layer:footprints", "--dpi", "72", "-o", str(page))
    assert code == 0, out
    assert page.stat().st_size > 10_000

    # a new version replaces the imported layer; the previous one comes back with restore
    smaller = env["tmp"] / "v2.gpkg"
    footprints(50, seed=2).to_file(smaller)
    assert planatlas("import", str(smaller), "--layer", "footprints")[0] == 3  # exists: --replace needed
    code, out = planatlas("import", str(smaller), "--layer", "footprints", "--key", "编号", "--replace")
    assert code == 0, out
    assert len(GeoPackageStore(env["atlas"]).read("footprints")) == 50
    assert planatlas("restore", "footprints")[0] == 0
    assert len(GeoPackageStore(env["atlas"]).read("footprints")) == 200

    code, out = planatlas("remove", "footprints")
    assert code == 0, out
    assert "footprints" not in GeoPackageStore(env["atlas"]).layers()
    assert planatlas("remove", "streets")[0] != 0  # a bundled layer stays
    assert planatlas("restore", "footprints")[0] == 0
    assert len(GeoPackageStore(env["atlas"]).read("footprints")) == 200


def official_streets(store: GeoPackageStore, folder: Path) -> Path:
    """The streets as a bureau would send them: EPSG:4548, GBK without .cpg, names in 街道名.

    Boundaries simplified (30 m), 南浦 left out, and one street the plan does not have added.
    """
    streets = store.read("streets").to_crs("EPSG:4548")
    streets = streets.loc[streets["street_id"] != "nanpu"]
    names = [n.removesuffix("街道") if i % 2 else n for i, n in enumerate(streets["name"])]  # 南浦街道 = 南浦
    shapes = gpd.GeoDataFrame({"街道名": names}, geometry=streets.geometry.simplify(30).to_numpy(), crs="EPSG:4548")
    extra = gpd.GeoDataFrame(
        {"街道名": ["外区街道"]},
        geometry=[shapely.box(*XIHU_4548, XIHU_4548[0] + 50, XIHU_4548[1] + 50)],
        crs="EPSG:4548",
    )
    folder.mkdir()
    path = folder / "街道界线.shp"
    gpd.GeoDataFrame(gpd.pd.concat([shapes, extra], ignore_index=True), crs="EPSG:4548").to_file(path, encoding="GBK")
    for cpg in folder.glob("*.cpg"):
        cpg.unlink()
    return path


def test_official_streets_replace_the_schematic_ones(env: dict[str, Path]) -> None:
    store = GeoPackageStore(env["atlas"])
    before = store.read("streets").set_index("street_id")
    zones_before = store.read("zones").set_index("zone_id")
    shp = official_streets(store, env["tmp"] / "official")
    code, out = planatlas("import", str(shp.parent), "--layer", "streets", "--key", "街道名", "--replace")
    assert code == 0, out
    assert "nanpu" in out and "外区街道" in out  # unmatched both ways are reported
    after = GeoPackageStore(env["atlas"]).read("streets").set_index("street_id")
    matched = [s for s in before.index if s != "nanpu"]
    assert set(after.loc[matched, "precision"]) == {"surveyed"}
    assert after.loc["nanpu", "precision"] == "schematic"
    # every plan attribute and citation kept; area measured again on the new geometry
    for column in ("name", "guidance_no", "approach", "key_industries", "source_file", "source_lines"):
        assert after[column].equals(before.loc[after.index, column])
    assert set(after.loc[matched, "official_source"]) == {"official/街道界线.shp"}
    assert not after.loc[matched, "area_km2"].equals(before.loc[matched, "area_km2"])
    # zones re-derived from the new boundaries
    zones_after = GeoPackageStore(env["atlas"]).read("zones").set_index("zone_id")
    assert not zones_after.geometry.geom_equals(zones_before.geometry.loc[zones_after.index]).all()
    code, out = planatlas("info", "streets")
    assert "OFFICIAL geometry" in out and "街道界线.shp" in out
    code, out = planatlas("layers")
    assert "official geometry" in next(line for line in out.splitlines() if line.startswith("streets"))
    # the page notes name the imported file
    from planatlas.maps import load_preset
    from planatlas.maps.frames import prepare_preset_data
    from planatlas.render.layers import resolve_layers
    from planatlas.render.notes import precision_notes

    data = load_preset(GeoPackageStore(env["atlas"]), "one-belt-four-zones", {})
    notes = " ".join(precision_notes(resolve_layers(prepare_preset_data(data), "en"), "en"))
    assert "official geometry" in notes and "街道界线.shp" in notes
    # and restore brings the schematic streets back
    assert planatlas("restore", "streets")[0] == 0
    assert set(GeoPackageStore(env["atlas"]).read("streets")["precision"]) == {"schematic"}


def _truncated(tmp: Path) -> list[str]:
    path = tmp / "cut.gpkg"
    footprints().to_file(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return [str(path), "--layer", "cut"]


def _wrong_crs(tmp: Path) -> list[str]:
    path = tmp / "metres.gpkg"
    footprints().to_file(path)
    return [str(path), "--layer", "metres", "--crs", "EPSG:4490"]


def _duplicate_keys(tmp: Path) -> list[str]:
    frame = footprints()
    frame.loc[5, "编号"] = "B0001"
    path = tmp / "dup.gpkg"
    frame.to_file(path)
    return [str(path), "--layer", "dup", "--key", "编号"]


def _outside_china(tmp: Path) -> list[str]:
    frame = gpd.GeoDataFrame(
        {"name": ["巴黎", "南昌"]}, geometry=[shapely.Point(2.35, 48.85), shapely.Point(115.88, 28.66)], crs="EPSG:4326"
    )
    path = tmp / "abroad.geojson"
    frame.to_file(path)
    return [str(path), "--layer", "abroad"]


def _zip_bomb(tmp: Path) -> list[str]:
    shp = tmp / "parts" / "b.shp"
    shp.parent.mkdir()
    footprints(5).to_file(shp, encoding="UTF-8")
    path = tmp / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for part in shp.parent.iterdir():
            zf.write(part, part.name)
        zf.writestr("padding.bin", b"\0" * (64 * 1024 * 1024))
    return [str(path), "--layer", "bomb"]


def _no_crs(tmp: Path) -> list[str]:
    path = tmp / "points.csv"
    path.write_text("name,lon,lat\n八一广场,115.9036,28.6786\n", encoding="utf-8")
    return [str(path), "--layer", "points"]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_truncated, ["cut.gpkg"]),
        (_wrong_crs, ["metres.gpkg", "EPSG:4548"]),
        (_duplicate_keys, ["dup.gpkg", "feature B0001", "duplicate key"]),
        (_outside_china, ["abroad.geojson", "feature #1", "outside China"]),
        (_zip_bomb, ["bomb.zip", "PLANATLAS_MAX_IMPORT_BYTES"]),
        (_no_crs, ["points.csv", "--crs"]),
    ],
    ids=["truncated", "wrong-crs", "duplicate-keys", "outside-china", "zip-bomb", "no-crs"],
)
def test_a_bad_file_is_refused_and_nothing_changes(
    env: dict[str, Path], monkeypatch: pytest.MonkeyPatch, make, expected: list[str]
) -> None:
    monkeypatch.setenv("PLANATLAS_MAX_IMPORT_BYTES", str(8 * 1024 * 1024))
    args = make(env["tmp"])
    before = sha(env["atlas"])
    code, out = planatlas("import", *args)
    assert code == 3, out
    for text in expected:
        assert text in out
    assert sha(env["atlas"]) == before
    assert not (env["overlay"] / "imports.json").exists()
    assert not list((env["overlay"]).glob("*/*.toml")) if env["overlay"].exists() else True


def test_every_cap_names_its_setting(env: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path = env["tmp"] / "big.gpkg"
    footprints().to_file(path)
    monkeypatch.setenv("PLANATLAS_MAX_IMPORT_BYTES", "1000")
    code, out = planatlas("import", str(path), "--layer", "big")
    assert code == 3
    assert "above the cap of 1000 bytes" in out and "PLANATLAS_MAX_IMPORT_BYTES" in out


def test_the_build_receives_the_cap(tmp_path: Path) -> None:
    from planatlas.build import validate_geodata

    result = validate_geodata(Path(__file__).parents[1] / "geodata", max_bytes=100)
    assert not result.ok
    assert any("PLANATLAS_MAX_IMPORT_BYTES" in p.message for p in result.problems)


def test_names_match_with_and_without_suffix() -> None:
    assert name_forms("南浦街道") & name_forms("南浦")
    assert name_forms("Nanpu Subdistrict") & name_forms("nanpu")
    plan = gpd.pd.DataFrame({"street_id": ["nanpu", "taohua"], "name": ["南浦街道", "桃花街道"]})
    matching = match_features(plan, "street_id", ["南浦", "taohua", "九龙湖"])
    assert matching.pairs == {"nanpu": 0, "taohua": 1}
    assert matching.import_unmatched == ["九龙湖"]
    assert match_features(plan, "street_id", ["南浦", "南浦街道"]).ambiguous == ["南浦", "南浦街道"]


def test_editor_password(tmp_path: Path) -> None:
    assert not editor_configured(tmp_path)
    assert not check_editor_password(tmp_path, "anything")
    path = set_editor_password(tmp_path, "correct horse")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "correct horse" not in path.read_text()
    record = json.loads(path.read_text())
    assert record["scheme"] == "scrypt" and len(record["salt"]) >= 16
    assert check_editor_password(tmp_path, "correct horse")
    assert not check_editor_password(tmp_path, "wrong horse")
    limiter = AttemptLimiter(limit=2, window_s=60)
    assert limiter.wait_s(now=0) == 0
    limiter.failed(now=1)
    limiter.failed(now=2)
    assert limiter.wait_s(now=3) == pytest.approx(58)
    assert limiter.wait_s(now=62) == 0


@pytest.mark.postgis
def test_import_restore_remove_on_postgis(
    env: dict[str, Path], postgis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg
    import sqlalchemy as sa

    from planatlas.store.postgis import PostGISStore

    plain = sa.engine.make_url(postgis_url).set(drivername="postgresql")
    with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS import_test")
        conn.execute("CREATE DATABASE import_test")
    url = sa.engine.make_url(postgis_url).set(database="import_test").render_as_string(hide_password=False)
    monkeypatch.setenv("PLANATLAS_DATABASE_URL", url)
    path = env["tmp"] / "fp.gpkg"
    footprints().to_file(path)
    code, out = planatlas("import", str(path), "--layer", "footprints", "--key", "编号")
    assert code == 0, out
    store = PostGISStore(url)
    try:
        assert len(store.read("footprints")) == 200
        bad = env["tmp"] / "dup.gpkg"
        frame = footprints()
        frame.loc[3, "编号"] = "B0000"
        frame.to_file(bad)
        built = store.metadata()["built_at"]
        assert planatlas("import", str(bad), "--layer", "footprints", "--key", "编号", "--replace")[0] == 3
        assert store.metadata()["built_at"] == built  # the database is as it was
        assert planatlas("remove", "footprints")[0] == 0
        assert "footprints" not in PostGISStore(url).layers()
        assert planatlas("restore", "footprints")[0] == 0
        assert len(PostGISStore(url).read("footprints")) == 200
    finally:
        store.dispose()


def _zip_folder(folder: Path, target: Path, *, keep_folder: bool) -> Path:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(folder.rglob("*")):
            if part.is_file():
                zf.write(part, part.relative_to(folder.parent if keep_folder else folder))
    return target


@pytest.mark.parametrize("kind", ["gdb-folder", "gdb-zip", "shp-zip", "kml"])
def test_the_other_formats_come_in(env: dict[str, Path], kind: str) -> None:
    frame = footprints(30)
    tmp = env["tmp"]
    if kind.startswith("gdb"):
        path = tmp / "测绘.gdb"
        frame.to_file(
            path,
            driver="OpenFileGDB",
            layer="buildings",
            layer_options={"TARGET_ARCGIS_VERSION": "ARCGIS_PRO_3_2_OR_LATER"},
        )
        if kind == "gdb-zip":
            path = _zip_folder(path, tmp / "测绘.gdb.zip", keep_folder=True)
    elif kind == "shp-zip":
        folder = tmp / "shp"
        folder.mkdir()
        frame.to_file(folder / "建筑.shp", encoding="GBK")
        (folder / "建筑.cpg").unlink(missing_ok=True)
        path = _zip_folder(folder, tmp / "建筑.zip", keep_folder=False)
    else:
        path = tmp / "buildings.kml"
        frame.to_crs("EPSG:4326").rename(columns={"编号": "Name"})[["Name", "geometry"]].to_file(path, driver="KML")
    code, out = planatlas("import", str(path), "--layer", "survey", *(("--key", "编号") if kind != "kml" else ()))
    assert code == 0, out
    got = GeoPackageStore(env["atlas"]).read("survey")
    assert len(got) == 30
    if kind == "shp-zip":  # GBK text without .cpg read right
        spec = GeoPackageStore(env["atlas"]).spec("survey")
        titles = {f.title.get("zh") for f in spec.fields.values()}
        assert {"编号", "用途"} <= titles
        assert set(got[next(n for n, f in spec.fields.items() if f.title.get("zh") == "用途")]) <= {"住宅", "商业"}


def test_large_files_are_read_in_batches_with_progress(env: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from planatlas.imports import batched

    monkeypatch.setattr(batched, "BATCH_ABOVE_BYTES", 0)
    monkeypatch.setattr(batched, "BATCH_SIZE", 40)
    path = env["tmp"] / "many.gpkg"
    footprints(100).to_file(path)
    code, out = planatlas("import", str(path), "--layer", "many", "--key", "编号")
    assert code == 0, out
    assert "read 40/100 features" in out and "read 100/100 features" in out
    assert len(GeoPackageStore(env["atlas"]).read("many")) == 100
