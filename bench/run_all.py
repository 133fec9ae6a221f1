"""City scale end to end, side by side in one run, with ratios (not part of the test run).

Sections (``--only`` picks some; every figure is a median, every ratio compares runs made in the
same loop, alternating, so a burst of load on this shared machine lands on both sides):

``cli``
    ``planatlas query within`` (process start to ``-o`` file written) against the few-line
    GeoPandas scripts over the same atlas GeoPackage: one station (R-tree bbox read + exact
    distance) and all stations (read with Arrow, ``sjoin(dwithin)``, write).
``postgis``
    ``bench/bench_query.py`` at the same sizes: the store's pushed-down ``within_distance``
    against raw ``ST_DWithin``, and features + nearest + distance against ``sjoin``.
``tiles``
    One large layer in headless Chromium: the app's ``?page=atlas&layer=buildings`` drawn from
    vector tiles (navigation to drawn tiles, bytes received, server ms per tile) against a plain
    Folium GeoJSON map of the same footprints (``file://``, navigation to every path drawn).
``export``
    An A4 300 dpi PNG of N footprints through the static renderer's fast path against
    ``GeoDataFrame.plot`` (``bench/bench_export.py``).

Run: ``python bench/run_all.py [--sizes 200000] [--tile-sizes 10000,100000] [--export-sizes 100000]
[--reps 3] [--only cli,tiles]``. Results are also written to ``bench/results/run_all.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "bench"), str(REPO / "tests"), str(REPO / "tests" / "browser")]
RESULTS = REPO / "bench" / "results" / "run_all.json"
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src"), "PYTHONWARNINGS": "ignore"}

SCRIPT_ONE = """
import sys
import geopandas as gpd
atlas, sid, out = sys.argv[1:4]
st = gpd.read_file(atlas, layer="metro_stations", where=f"station_id = '{sid}'").to_crs(4548)
x0, y0, x1, y1 = st.buffer(1000).to_crs(4490).total_bounds
b = gpd.read_file(atlas, layer="buildings", bbox=(x0, y0, x1, y1), use_arrow=True)
hit = b.to_crs(4548).distance(st.geometry.iloc[0]) <= 1000
b[hit.values].to_file(out, layer="result")
"""
SCRIPT_ALL = """
import sys
import geopandas as gpd
atlas, out = sys.argv[1:3]
st = gpd.read_file(atlas, layer="metro_stations").to_crs(4548)
b = gpd.read_file(atlas, layer="buildings", use_arrow=True).to_crs(4548)
gpd.sjoin(b, st, predicate="dwithin", distance=1000).to_crs(4490).to_file(out, layer="result")
"""


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def alternate(runs: dict[str, Callable[[], object]], reps: int) -> dict[str, float]:
    """Median seconds of each run, the runs taken in turn ``reps`` times."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(reps):
        for name, run in runs.items():
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def write_atlas(n: int, path: Path, *, tiles: bool) -> None:
    """N synthetic footprints and 200 stations (bench_query.synthetic) as a planatlas GeoPackage."""
    from bench_query import _meta, synthetic

    from planatlas.store.gpkg import GeoPackageStore

    buildings, stations = synthetic(n)
    meta = _meta()
    meta["built_at"] = f"bench-{n}"
    for name, frame in (("buildings", buildings), ("metro_stations", stations)):
        meta["layers"][name]["count"] = len(frame)
        meta["layers"][name]["bbox"] = [round(float(v), 6) for v in frame.total_bounds]
    GeoPackageStore(path, tiled_above=5000 if tiles else None).write(
        {"buildings": buildings, "metro_stations": stations}, meta
    )


def run(argv: list[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(argv, check=True, capture_output=True, env=env or ENV)  # noqa: S603 - fixed argv


# ---- cli ---------------------------------------------------------------------------------------
def _cli_runs(
    cli: list[str], env: dict[str, str], atlas: Path, one_py: Path, all_py: Path, out: Callable[[str], str]
) -> dict[str, Callable[[], object]]:
    return {
        "cli_one": lambda: run([*cli, "--where", "station_id=s005", "-o", out("c1")], env),
        "script_one": lambda: run([sys.executable, str(one_py), str(atlas), "s005", out("s1")], env),
        "cli_all": lambda: run([*cli, "-o", out("c2")], env),
        "script_all": lambda: run([sys.executable, str(all_py), str(atlas), out("s2")], env),
    }


def bench_cli(sizes: list[int], reps: int, tmp: Path) -> list[dict[str, Any]]:
    rows = []
    one_py, all_py = tmp / "script_one.py", tmp / "script_all.py"
    one_py.write_text(SCRIPT_ONE)
    all_py.write_text(SCRIPT_ALL)
    for n in sizes:
        atlas = tmp / f"cli{n}.gpkg"
        write_atlas(n, atlas, tiles=False)
        env = {**ENV, "PLANATLAS_ATLAS_PATH": str(atlas), "PLANATLAS_DATABASE_URL": ""}
        cli = [sys.executable, "-m", "planatlas.cli.main", "query", "within", "--layer", "buildings"]
        cli += ["--of", "metro_stations", "--distance", "1km", "--limit", "1"]

        def out(name: str) -> str:
            path = tmp / f"{name}.gpkg"
            path.unlink(missing_ok=True)
            return str(path)

        med = alternate(_cli_runs(cli, env, atlas, one_py, all_py, out), reps)
        for what in ("one", "all"):
            cli_s, script_s = med[f"cli_{what}"], med[f"script_{what}"]
            rows.append(
                {
                    "section": "cli",
                    "n": n,
                    "what": "one station" if what == "one" else "all 200 stations",
                    "planatlas_s": cli_s,
                    "baseline_s": script_s,
                    "ratio": cli_s / script_s,
                    "load": load_note(),
                }
            )
    return rows


# ---- tiles -------------------------------------------------------------------------------------
def _received(driver: Any) -> int:
    total = 0
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.loadingFinished":
            total += int(message["params"].get("encodedDataLength", 0))
    return total


_TILES_DRAWN = (
    "var l = window.paTileLayer; if (!l || l._loading) { return 0; } var n = 0;"
    " for (var k in l._vectorTiles) { n += Object.keys(l._vectorTiles[k]._features || {}).length; } return n;"
)


#: Bytes of the tiles the map's frame fetched (the tile server sends Timing-Allow-Origin).
_TILE_BYTES = (
    "return performance.getEntriesByType('resource').filter(function(e) { return e.name.indexOf('/tiles/') >= 0; })"
    ".reduce(function(a, e) { return a + (e.transferSize || e.encodedBodySize || 0); }, 0);"
)


def _tiled_paint(driver: Any, url: str) -> tuple[float, int, int]:
    from browser_support import wait_for
    from selenium.webdriver.common.by import By

    driver.switch_to.default_content()
    t0 = time.perf_counter()
    driver.get(url)
    frame = wait_for(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "iframe")[0], timeout=120, what="map")
    driver.switch_to.frame(frame)
    wait_for(driver, lambda: driver.execute_script(_TILES_DRAWN) > 0, timeout=120, what="tiles drawn")
    elapsed = time.perf_counter() - t0
    drawn = int(driver.execute_script(_TILES_DRAWN))
    tile_bytes = int(driver.execute_script(_TILE_BYTES))
    driver.switch_to.default_content()
    return elapsed, drawn, tile_bytes


def _folium_paint(driver: Any, html_path: Path, n: int) -> float:
    from browser_support import wait_for

    t0 = time.perf_counter()
    driver.get(html_path.as_uri())
    wait_for(
        driver,
        lambda: driver.execute_script("return document.querySelectorAll('path.leaflet-interactive').length") >= n,
        timeout=600,
        what="GeoJSON drawn",
    )
    return time.perf_counter() - t0


def _folium_map(n: int, path: Path) -> None:
    import folium
    import numpy as np
    import shapely
    from bench_query import synthetic

    from planatlas.render.leaflet import use_package_assets

    buildings, _ = synthetic(n)
    geoms = shapely.transform(np.asarray(buildings.geometry.values), lambda c: np.round(c, 6))
    features = [{"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": {}} for g in geoms]
    m = folium.Map(location=[28.67, 115.9], zoom_start=12, tiles=None)
    use_package_assets(m, None)
    folium.GeoJson({"type": "FeatureCollection", "features": features}).add_to(m)
    m.save(str(path))


def _ms_per_tile(atlas: Path, samples: int = 40) -> float:
    import math
    import urllib.request

    from planatlas.store.gpkg import GeoPackageStore
    from planatlas.tiles.server import TileServer

    server = TileServer(GeoPackageStore(atlas)).start()
    try:
        template = server.tile_url("buildings")
        n = 2**14
        x0 = int((115.85 + 180) / 360 * n)
        y0 = int((1 - math.asinh(math.tan(math.radians(28.70))) / math.pi) / 2 * n)
        times = []
        for i in range(samples):
            url = template.format(z=14, x=x0 + i % 8, y=y0 + i // 8)
            t0 = time.perf_counter()
            with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310 - loopback
                r.read()
            times.append(time.perf_counter() - t0)
        return 1000 * statistics.median(times)
    finally:
        server.close()


def bench_tiles(sizes: list[int], reps: int, tmp: Path, folium_max: int = 200_000) -> list[dict[str, Any]]:
    from browser_support import external_requests, make_driver

    from streamlit_session import serve_app

    rows = []
    for n in sizes:
        atlas = tmp / f"tiles{n}.gpkg"
        t0 = time.perf_counter()
        write_atlas(n, atlas, tiles=True)
        build_s = time.perf_counter() - t0
        html_path = tmp / f"folium{n}.html"
        # Folium above ~200k features: hundreds of MB of HTML and minutes in the browser (PERF_NOTES).
        folium_too = n <= folium_max
        if folium_too:
            _folium_map(n, html_path)
        with serve_app(atlas, tmp / f"app{n}.log", env={"PYTHONPATH": str(REPO / "src")}) as server:
            driver = make_driver()
            try:
                page = server.url + "/?page=atlas&layer=buildings&lang=en"
                _tiled_paint(driver, page)  # cold: the app's first run and caches
                _received(driver)
                tiled, folium_s, received, drawn = [], [], [], 0
                for _ in range(reps):
                    seconds, drawn, tile_bytes = _tiled_paint(driver, page)
                    tiled.append(seconds)
                    received.append(_received(driver) + tile_bytes)
                    if folium_too:
                        folium_s.append(_folium_paint(driver, html_path, n))
                        _received(driver)
                external = external_requests(driver)
            finally:
                driver.quit()
        row = {
            "section": "tiles",
            "n": n,
            "what": "navigation -> drawn map",
            "planatlas_s": statistics.median(tiled),
            "baseline_s": statistics.median(folium_s) if folium_s else float("nan"),
            "ratio": statistics.median(tiled) / statistics.median(folium_s) if folium_s else float("nan"),
            "tiled_mb": statistics.median(received) / 1e6,
            "folium_html_mb": html_path.stat().st_size / 1e6 if folium_too else float("nan"),
            "features_drawn_first_view": drawn,
            "ms_per_tile_z14": _ms_per_tile(atlas),
            "atlas_and_tiles_build_s": build_s,
            "external_requests": len(external),
            "load": load_note(),
        }
        rows.append(row)
    return rows


# ---- export and postgis ------------------------------------------------------------------------
def bench_export(sizes: list[int], reps: int, tmp: Path) -> list[dict[str, Any]]:
    from bench_export import bench_fast_path

    rows = []
    for n in sizes:
        res = bench_fast_path(n, tmp, reps)
        fast, slow = (v for k, v in res.items() if not k.startswith("ratio"))
        rows.append(
            {
                "section": "export",
                "n": n,
                "what": "A4 300 dpi PNG",
                "planatlas_s": fast,
                "baseline_s": slow,
                "ratio": fast / slow,
                "load": load_note(),
            }
        )
    return rows


def bench_postgis(sizes: list[int]) -> list[dict[str, Any]]:
    import bench_query

    rows: list[dict[str, Any]] = []
    with _cluster() as url:
        if url is None:
            print("PostgreSQL + PostGIS binaries not found: no PostGIS section")
            return rows
        for n in sizes:
            bench_query.bench_size(n, url, rows)
    bench_query.print_table(rows)
    return [{"section": "postgis", **r, "load": load_note()} for r in rows]


@contextlib.contextmanager
def _cluster() -> Iterator[str | None]:
    from conftest_postgis import TemporaryCluster, find_pg_bin

    pg_bin = find_pg_bin()
    if pg_bin is None:
        yield None
        return
    cluster = TemporaryCluster(pg_bin).start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def print_rows(rows: list[dict[str, Any]]) -> None:
    print(f"\n{'section':8} {'n':>9}  {'what':26} {'planatlas':>10} {'baseline':>10} {'ratio':>6}  extra")
    for r in rows:
        if r["section"] == "postgis":
            continue
        extra = {k: v for k, v in r.items() if k not in {"section", "n", "what", "planatlas_s", "baseline_s", "ratio"}}
        shown = ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in extra.items())
        print(
            f"{r['section']:8} {r['n']:>9,}  {r['what']:26} {r['planatlas_s']:>9.2f}s {r['baseline_s']:>9.2f}s"
            f" {r['ratio']:>5.2f}x  {shown}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200000", help="footprints for the cli and postgis sections")
    parser.add_argument("--tile-sizes", default="10000,100000", help="footprints for the tiles section")
    parser.add_argument("--export-sizes", default="100000", help="footprints for the export section")
    parser.add_argument(
        "--folium-max", type=int, default=200_000, help="largest size also drawn as plain Folium GeoJSON"
    )
    parser.add_argument("--reps", type=int, default=3, help="alternating runs per measurement")
    parser.add_argument("--only", default="cli,postgis,tiles,export", help="sections to run")
    args = parser.parse_args(argv)

    def ints(text: str) -> list[int]:
        return [int(s.replace("_", "")) for s in text.split(",") if s.strip()]

    only = set(args.only.split(","))
    rows: list[dict[str, Any]] = []
    print(f"start: {load_note()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="planatlas-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if "cli" in only:
            rows += bench_cli(ints(args.sizes), args.reps, tmp)
        if "tiles" in only:
            rows += bench_tiles(ints(args.tile_sizes), args.reps, tmp, args.folium_max)
        if "export" in only:
            rows += bench_export(ints(args.export_sizes), args.reps, tmp)
        if "postgis" in only:
            rows += bench_postgis(ints(args.sizes))
    print_rows(rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS}; end: {load_note()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
