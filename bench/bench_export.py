"""Benchmark of the static export (not part of the test run).

1. ``one-belt-four-zones`` as an A4 portrait 300 dpi PNG from the bundled atlas (target < 3 s),
   split into loading the layers, drawing the page and writing the file; PDF and SVG for reference.
2. A 10-page street series (one page per street, A4 landscape, 300 dpi) into one PDF (target < 15 s).
3. The drawing fast path against ``GeoDataFrame.plot`` on a synthetic dense polygon layer
   (``--polygons N`` footprints of 10–60 m in the Xihu extent), as a ratio measured in one run.

Run: ``python bench/bench_export.py [--repeat 3] [--polygons 20000]``. Times are medians in seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(func: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def build_atlas(tmp: Path):  # type: ignore[no-untyped-def]
    from planatlas.build import build_atlas as build
    from planatlas.store.gpkg import GeoPackageStore

    store = GeoPackageStore(tmp / "atlas.gpkg")
    build(REPO / "geodata", store)
    return store


def bench_page(store, out: Path, repeat: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from planatlas import export as exporter
    from planatlas.maps.load import load_preset
    from planatlas.render import write as writer
    from planatlas.render.fonts import find_cjk_font
    from planatlas.render.page import PageSpec
    from planatlas.render.static import render_map

    find_cjk_font()  # font lookup happens once per process; not part of a page
    page = PageSpec(paper="A4", orientation="portrait", dpi=300, lang="zh")
    t_load, data = timed(lambda: load_preset(store, "one-belt-four-zones"), repeat)
    t_draw, fig = timed(lambda: render_map(data, page), repeat)
    t_png, _ = timed(lambda: writer.write_figure(fig, out / "page.png"), repeat)
    t_pdf, _ = timed(lambda: writer.write_figure(fig, out / "page.pdf"), repeat)
    t_svg, _ = timed(lambda: writer.write_figure(fig, out / "page.svg"), repeat)

    def end_to_end() -> None:
        exporter.export_preset(store, "one-belt-four-zones", out / "e2e.png", page=page)

    t_total, _ = timed(end_to_end, repeat)
    return {
        "load layers": t_load,
        "draw page": t_draw,
        "write PNG": t_png,
        "write PDF": t_pdf,
        "write SVG": t_svg,
        "A4 300 dpi PNG end to end (target < 3 s)": t_total,
    }


def bench_series(store, out: Path, repeat: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from planatlas import export as exporter
    from planatlas.render.page import PageSpec

    page = PageSpec(paper="A4", orientation="landscape", dpi=300, lang="zh")
    pages: list[int] = []

    def run() -> None:
        pages.append(exporter.export_series(store, "one-belt-four-zones", out / "streets.pdf", by="streets", page=page))

    t, _ = timed(run, max(1, repeat - 1))
    assert pages[-1] == 10, pages
    return {f"{pages[-1]}-page street series PDF, 300 dpi (target < 15 s)": t}


def synthetic_footprints(n: int, seed: int = 1):  # type: ignore[no-untyped-def]
    """``n`` rectangular footprints of 10–60 m, rotated, in the Xihu extent (EPSG:4548)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    rng = np.random.default_rng(seed)
    x = rng.uniform(383_000, 392_000, n)
    y = rng.uniform(3_170_000, 3_179_000, n)
    w, h = rng.uniform(10, 60, n), rng.uniform(10, 60, n)
    boxes = shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    angle = rng.uniform(0, np.pi / 2, n)
    c, s = np.cos(angle), np.sin(angle)
    coords, index = shapely.get_coordinates(boxes, return_index=True)
    cx, cy = x[index], y[index]
    dx, dy = coords[:, 0] - cx, coords[:, 1] - cy
    rotated = np.column_stack([cx + dx * c[index] - dy * s[index], cy + dx * s[index] + dy * c[index]])
    geoms = shapely.set_coordinates(boxes.copy(), rotated)
    return gpd.GeoDataFrame({"kind": rng.integers(0, 4, n)}, geometry=geoms, crs="EPSG:4548")


def bench_fast_path(n: int, out: Path, repeat: int) -> dict[str, float]:
    import matplotlib
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from planatlas.render.layers import MapLayer, draw_layer, rgba_array
    from planatlas.render.page import PageSpec

    gdf = synthetic_footprints(n)
    palette = np.array(["#e69f00", "#56b4e9", "#009e73", "#cc79a7"])
    colors = palette[gdf["kind"].to_numpy()]
    page = PageSpec(dpi=300)

    def figure() -> tuple[Figure, object]:
        fig = Figure(figsize=page.size_inches, dpi=page.dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.05, 0.05, 0.9, 0.9))
        ax.set_xlim(382_000, 393_000)
        ax.set_ylim(3_169_000, 3_180_000)
        ax.set_aspect("equal")
        return fig, ax

    def fast() -> None:
        fig, ax = figure()
        layer = MapLayer(
            name="footprints",
            title="footprints",
            frame=gdf,
            kind="polygon",
            facecolors=rgba_array(list(colors), len(gdf), alpha=0.8),
            edgecolors=rgba_array("#333333", len(gdf)),
            linewidth=0.2,
        )
        draw_layer(ax, layer)
        fig.savefig(out / "fast.png", dpi=page.dpi)

    def geopandas_plot() -> None:
        fig, ax = figure()
        gdf.plot(ax=ax, color=list(colors), edgecolor="#333333", linewidth=0.2, alpha=0.8)
        fig.savefig(out / "gpd.png", dpi=page.dpi)

    with matplotlib.rc_context({"path.simplify": True}):
        t_fast, _ = timed(fast, repeat)
        t_gpd, _ = timed(geopandas_plot, repeat)
    return {
        f"{n} polygons, PathCollection from shapely arrays, A4 300 dpi PNG": t_fast,
        f"{n} polygons, GeoDataFrame.plot, A4 300 dpi PNG": t_gpd,
        "ratio GeoDataFrame.plot / fast path": t_gpd / t_fast,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--polygons", type=int, default=20_000, help="synthetic dense layer size (0: skip)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        store = build_atlas(tmp)
        results = {}
        results.update(bench_page(store, tmp, args.repeat))
        results.update(bench_series(store, tmp, args.repeat))
        if args.polygons:
            results.update(bench_fast_path(args.polygons, tmp, args.repeat))
    width = max(len(k) for k in results)
    for name, value in results.items():
        unit = "×" if name.startswith("ratio") else " s"
        print(f"{name:<{width}}  {value:7.2f}{unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
