"""Dense polygon layers on paper: only what the page shows, one compound path per style, same picture."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pytest
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

import planatlas.render.layers as layers_module
from planatlas.render.dense import DENSE_ABOVE, compound_path, in_view
from planatlas.render.layers import MapLayer, draw_layer, rgba_array

N = DENSE_ABOVE + 5000


def _footprints(n: int, seed: int = 2) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 20_000, n), rng.uniform(0, 10_000, n)  # the right half lies outside the view
    w, h = rng.uniform(10, 60, n), rng.uniform(10, 60, n)
    return gpd.GeoDataFrame({"kind": rng.integers(0, 3, n)}, geometry=shapely.box(x, y, x + w, y + h), crs="EPSG:4548")


def _layer(frame: gpd.GeoDataFrame, *, outlines: bool = True, one_colour: bool = False) -> MapLayer:
    kinds = np.zeros(len(frame), dtype=int) if one_colour else frame["kind"].to_numpy()
    colors = np.array(["#e69f00", "#56b4e9", "#009e73"])[kinds]
    return MapLayer(
        name="f",
        title="f",
        frame=frame,
        kind="polygon",
        facecolors=rgba_array(list(colors), len(frame)),
        edgecolors=rgba_array("#333333", len(frame)) if outlines else None,
        linewidth=0.2,
    )


def _render(layer: MapLayer) -> tuple[np.ndarray, Figure]:
    fig = Figure(figsize=(4, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10_000)
    ax.set_ylim(0, 10_000)
    ax.set_axis_off()
    draw_layer(ax, layer)
    buf = io.BytesIO()
    fig.savefig(buf, format="rgba", dpi=100)
    return np.frombuffer(buf.getvalue(), dtype=np.uint8).reshape(400, 400, 4), fig


def test_the_dense_path_draws_the_same_picture_as_one_path_per_feature(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(_render(_layer(_footprints(N)))[1].axes[0].collections[0].get_paths()) == 3  # one per colour
    # One colour, no outlines (under a pixel they are left out on purpose; styles stack by colour):
    layer = _layer(_footprints(N), outlines=False, one_colour=True)
    dense, fig = _render(layer)
    monkeypatch.setattr(layers_module, "DENSE_ABOVE", 10**9)
    per_feature, fig = _render(layer)
    assert len(fig.axes[0].collections[0].get_paths()) == N
    # Footprints of ~1.4 px are all edge: one path per feature snaps them to the pixel grid, the
    # compound path antialiases them; the ink laid down (coverage x colour) is the same.
    ink_dense = (255 - dense[..., :3].astype(float)).sum()
    ink_per_feature = (255 - per_feature[..., :3].astype(float)).sum()
    assert np.any(per_feature[..., :3] < 250, axis=-1).mean() > 0.1
    assert abs(ink_dense / ink_per_feature - 1) < 0.1
    # Where the picture is dark in one, it is not blank in the other.
    assert ((per_feature[..., :3].max(axis=-1) < 128) & (dense[..., :3].min(axis=-1) == 255)).mean() < 0.005


def test_outlines_are_stroked_only_where_features_span_pixels() -> None:
    layer = _layer(_footprints(N))
    _, fig = _render(layer)  # 25 m a pixel: footprints of 10-60 m span ~1.4 px
    assert (fig.axes[0].collections[0].get_linewidths() == 0).all()
    big = _footprints(N)
    big["geometry"] = big.geometry.scale(8, 8)  # now ~11 px
    _, fig = _render(_layer(big))
    assert (fig.axes[0].collections[0].get_linewidths() > 0).all()


def test_features_outside_the_view_are_not_built() -> None:
    frame = _footprints(N)
    layer = _layer(frame)
    _, fig = _render(layer)
    ax = fig.axes[0]
    vertices = sum(len(p.vertices) for p in ax.collections[0].get_paths())
    visible = in_view(ax, np.asarray(frame.geometry.values))
    assert 0.4 < visible.mean() < 0.6
    assert vertices == 5 * int(visible.sum())


def test_a_hole_stays_a_hole_in_a_compound_path() -> None:
    donut = shapely.box(0, 0, 10, 10).difference(shapely.box(3, 3, 7, 7))
    fig = Figure(figsize=(1, 1), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.set_axis_off()
    coll = PathCollection([compound_path(np.array([donut], dtype=object))], facecolors="black")
    coll.set_transform(ax.transData)
    ax.add_collection(coll)
    buf = io.BytesIO()
    fig.savefig(buf, format="rgba", dpi=100)
    img = np.frombuffer(buf.getvalue(), dtype=np.uint8).reshape(100, 100, 4)
    assert img[50, 50, :3].min() == 255  # the hole
    assert img[10, 10, :3].max() == 0  # the ring


def test_overlapping_footprints_wound_either_way_fill_their_overlap() -> None:
    clockwise = shapely.Polygon([(0, 0), (0, 6), (6, 6), (6, 0)])
    counter = shapely.box(4, 4, 10, 10)
    fig = Figure(figsize=(1, 1), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.set_axis_off()
    coll = PathCollection([compound_path(np.array([clockwise, counter], dtype=object))], facecolors="black")
    coll.set_transform(ax.transData)
    ax.add_collection(coll)
    buf = io.BytesIO()
    fig.savefig(buf, format="rgba", dpi=100)
    img = np.frombuffer(buf.getvalue(), dtype=np.uint8).reshape(100, 100, 4)
    assert img[50, 50, :3].max() == 0  # the overlap (5, 5) is filled, not cancelled out
    assert img[90, 10, :3].max() == 0 and img[10, 90, :3].max() == 0
