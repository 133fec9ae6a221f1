"""Benchmark of the interactive maps (not part of the test run).

1. For every preset: time from navigation (``driver.get`` of the app URL with ``?preset=…``) to a
   drawn map (every expected feature is an SVG path in the map iframe), in the real Streamlit app
   in headless Chromium with the network closed; median of ``--repeat`` runs.
2. Payload per preset: the standalone HTML page (assets inline), the map script Streamlit sends
   to the browser on each run, the GeoJSON of the features alone, and the asset links sent with
   the script (inline ``data:`` URIs versus the app's served URLs).
3. ``--synthetic N``: first paint of N synthetic building footprints in a standalone page,
   colour from a feature property in JavaScript (planatlas) versus folium's ``style_function``
   (a per-feature ``switch``), as a ratio measured in one run.

Run: ``python bench/bench_app.py [--repeat 3] [--synthetic 5000]``. Times in seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "browser"), str(REPO / "tests")]  # browser_support and the _ci rule it uses

from browser_support import drawn_counts, in_map, make_driver, run_app  # noqa: E402 - after the sys.path line above


def expected(store, name):  # type: ignore[no-untyped-def]
    from planatlas.maps import load_preset, prepare_preset_data

    prepared = prepare_preset_data(load_preset(store, name))
    return {p.layer.id: len(p.frame) if p.layer.show else 0 for p in prepared}


def time_to_drawn(driver, url: str, want: dict[str, int], timeout: float = 60.0) -> float:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    driver.get("about:blank")
    t0 = time.perf_counter()
    driver.get(url)
    while time.perf_counter() - t0 < timeout:
        if driver.find_elements(By.CSS_SELECTOR, "iframe[title='streamlit_folium.st_folium']"):
            with in_map(driver):
                if drawn_counts(driver, list(want)) == want:
                    return time.perf_counter() - t0
        time.sleep(0.02)
    msg = f"{url}: map not drawn within {timeout} s"
    raise TimeoutError(msg)


def payload(store, name):  # type: ignore[no-untyped-def]
    import streamlit_folium

    from planatlas.maps import load_preset, prepare_preset_data
    from planatlas.render.interactive import build_map, feature_collection

    data = load_preset(store, name)
    t0 = time.perf_counter()
    m = build_map(data)
    html = m.get_root().render()
    t_build = time.perf_counter() - t0
    m2 = build_map(data)
    m2.get_root().render()
    script = streamlit_folium._get_map_string(m2)
    geojson = sum(
        len(json.dumps(feature_collection(p, lang="zh"), ensure_ascii=False).encode())
        for p in prepare_preset_data(data)
    )
    from planatlas.render.assets import map_assets

    inline_js, inline_css = map_assets()
    served_js, served_css = map_assets("../planatlas.ui.atlas.assets")
    return {
        "html_bytes": len(html.encode()),
        "script_bytes": len(script.encode()),
        "geojson_bytes": geojson,
        "asset_links_inline_bytes": sum(len(u) for _, u in (*inline_js, *inline_css)),
        "asset_links_served_bytes": sum(len(u) for _, u in (*served_js, *served_css)),
        "build_s": t_build,
    }


def synthetic(n: int, driver, tmp: Path) -> dict[str, float]:  # type: ignore[no-untyped-def]
    import folium
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import box

    from planatlas.maps.load import PresetData
    from planatlas.maps.presets import Preset, PresetLayer
    from planatlas.maps.style import Category, Style
    from planatlas.render.assets import map_assets
    from planatlas.render.interactive import build_map

    rng = np.random.default_rng(5)
    x = rng.uniform(115.85, 115.93, n)
    y = rng.uniform(28.60, 28.70, n)
    size = rng.uniform(0.0001, 0.0006, n)
    kinds = rng.choice(["a", "b", "c", "d"], n)
    gdf = gpd.GeoDataFrame(
        {
            "bid": [f"b{i}" for i in range(n)],
            "kind": kinds,
            "name": [f"楼{i}" for i in range(n)],
            "precision": "approximate",
        },
        geometry=[box(a, b, a + s, b + s) for a, b, s in zip(x, y, size, strict=True)],
        crs=4490,
    )
    colors = {"a": "#e69f00", "b": "#56b4e9", "c": "#009e73", "d": "#cc79a7"}
    preset = Preset(
        name="synthetic",
        title={"zh": "合成", "en": "synthetic"},
        subtitle={},
        layers=(
            PresetLayer(
                id="b",
                layer="b",
                title={"zh": "楼", "en": "b"},
                style=Style(
                    kind="categorical", column="kind", categories=tuple(Category(k, c) for k, c in colors.items())
                ),
            ),
        ),
    )
    ours = tmp / "ours.html"
    data = PresetData(preset=preset, frames={"b": gdf}, keys={"b": "bid"}, field_titles={})
    ours.write_text(build_map(data).get_root().render(), encoding="utf-8")
    m = folium.Map(location=[28.65, 115.89], zoom_start=13, tiles=None)
    js, css = map_assets()
    m.default_js, m.default_css = js, css
    folium.GeoJson(
        gdf,
        style_function=lambda f: {"fillColor": colors[f["properties"]["kind"]], "color": "#333", "weight": 1},
        popup=folium.GeoJsonPopup(["name"]),
    ).add_to(m)
    theirs = tmp / "style_function.html"
    theirs.write_text(m.get_root().render(), encoding="utf-8")

    def paint(page: Path) -> float:
        driver.get("about:blank")
        t0 = time.perf_counter()
        driver.get(page.as_uri())
        while driver.execute_script("return document.querySelectorAll('path.leaflet-interactive').length") < n:
            time.sleep(0.02)
        return time.perf_counter() - t0

    paint(ours)  # warm the browser (first file:// page load is slower)
    runs = [(paint(ours), paint(theirs)) for _ in range(3)]
    a = statistics.median(r[0] for r in runs)
    b = statistics.median(r[1] for r in runs)
    return {
        "n": n,
        "js_property_s": a,
        "style_function_s": b,
        "ratio": b / a,
        "js_property_bytes": ours.stat().st_size,
        "style_function_bytes": theirs.stat().st_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--synthetic", type=int, default=0, help="N synthetic footprints (0: skip)")
    args = parser.parse_args()

    from planatlas.build import ensure_atlas
    from planatlas.maps import PRESETS
    from planatlas.settings import get_settings

    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        settings = get_settings(atlas_path=tmp / "atlas.gpkg", database_url=None)
        store = ensure_atlas(settings)
        driver = make_driver()
        try:
            with run_app(settings.atlas_path, tmp / "streamlit.log") as url:
                time_to_drawn(driver, f"{url}/?preset=metro", expected(store, "metro"))  # warm caches
                print(
                    f"{'preset':22} {'features':>8} {'drawn s':>8} {'html KB':>8} {'script KB':>9} "
                    f"{'geojson KB':>10} {'build s':>7}"
                )
                for name in PRESETS:
                    want = expected(store, name)
                    times = [time_to_drawn(driver, f"{url}/?preset={name}", want) for _ in range(args.repeat)]
                    size = payload(store, name)
                    row = {"features": sum(want.values()), "drawn_s": statistics.median(times), **size}
                    results[name] = row
                    print(
                        f"{name:22} {row['features']:8d} {row['drawn_s']:8.2f} {size['html_bytes'] / 1024:8.0f} "
                        f"{size['script_bytes'] / 1024:9.0f} {size['geojson_bytes'] / 1024:10.0f} "
                        f"{size['build_s']:7.2f}"
                    )
            if args.synthetic:
                syn = synthetic(args.synthetic, driver, tmp)
                results["synthetic"] = syn
                print(
                    f"synthetic {syn['n']} footprints: JS property {syn['js_property_s']:.2f} s "
                    f"({syn['js_property_bytes'] / 1e6:.1f} MB), style_function {syn['style_function_s']:.2f} s "
                    f"({syn['style_function_bytes'] / 1e6:.1f} MB): {syn['ratio']:.1f}x"
                )
        finally:
            driver.quit()
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_app.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
