"""Tests of the static export: pages, fonts, file formats, series, self-contained HTML, CLI."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from planatlas.errors import MissingFontError
from planatlas.maps import PRESETS, get_preset
from planatlas.maps.load import PresetData
from planatlas.render import fonts
from planatlas.render.fonts import find_cjk_font
from planatlas.render.furniture import format_distance, meridian_convergence, nice_scale_length
from planatlas.render.labels import fit_text, wrap_text
from planatlas.render.layers import map_layer, polygon_paths, resolve_layers
from planatlas.render.notes import merge_line_ranges, precision_notes
from planatlas.render.page import PageSpec
from planatlas.render.series import render_series, series_units
from planatlas.render.static import render_map

SEED = "000_f23723ccf6c3a3ea.txt"
X0, Y0 = 115.87, 28.62


def synthetic_metro() -> dict[str, gpd.GeoDataFrame]:
    """Metro layers for the ``metro`` preset while the atlas has none (small, EPSG:4490)."""
    rng = np.random.default_rng(7)
    n = 8
    stations = gpd.GeoDataFrame(
        {
            "station_id": [f"s{i}" for i in range(n)],
            "name": [f"站{i}" for i in range(n)],
            "lines": ["1"] * n,
            "interchange": [True, False] * (n // 2),
            "precision": ["sourced"] * n,
            "source_file": [SEED] * n,
            "source_lines": ["120"] * n,
        },
        geometry=[Point(X0 + rng.uniform(0, 0.04), Y0 + rng.uniform(0, 0.05)) for _ in range(n)],
        crs="EPSG:4490",
    )
    lines = gpd.GeoDataFrame(
        {
            "line_id": ["1", "2"],
            "name": ["1号线", "2号线"],
            "precision": ["sourced"] * 2,
            "source_file": [SEED] * 2,
            "source_lines": ["120"] * 2,
        },
        geometry=[
            LineString([(X0, Y0 + 0.01), (X0 + 0.05, Y0 + 0.03)]),
            LineString([(X0 + 0.02, Y0), (X0 + 0.025, Y0 + 0.06)]),
        ],
        crs="EPSG:4490",
    )
    return {"metro_stations": stations, "metro_lines": lines}


@pytest.fixture(scope="module")
def frames(bundled_atlas) -> dict[str, pd.DataFrame]:
    """Every layer of the bundled atlas, plus synthetic metro layers if the atlas lacks them."""
    out = {name: bundled_atlas.read(name) for name in bundled_atlas.layers()}
    for name, frame in synthetic_metro().items():
        out.setdefault(name, frame)
    return out


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _data(name: str, frames) -> PresetData:
    """What ``load_preset`` returns, from the fixture's frames (which add synthetic metro layers)."""
    preset = get_preset(name)
    return PresetData(
        preset=preset,
        frames=frames,
        keys={},
        field_titles={},
        params=preset.params_with_defaults(None),
        districts=frames.get("districts"),
    )


def _render(name: str, frames, **page):
    page.setdefault("dpi", 50)
    return render_map(_data(name, frames), PageSpec(**page))


def _png(fig) -> np.ndarray:
    from PIL import Image

    from planatlas.render.write import figure_bytes

    return np.asarray(Image.open(io.BytesIO(figure_bytes(fig, "png"))).convert("RGB"))


def _pdf_reader(data: bytes):
    pypdf = pytest.importorskip("pypdf")
    return pypdf.PdfReader(io.BytesIO(data))


def _pdf_fonts(reader) -> list[dict]:
    """Every font of every page: base name, subtype, descendant subtype and embedded file bytes."""
    fonts = []
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            info = {"base": str(font["/BaseFont"]).lstrip("/"), "subtype": str(font["/Subtype"])}
            for desc in font.get("/DescendantFonts", []):
                desc = desc.get_object()
                info["cid_subtype"] = str(desc["/Subtype"])
                fd = desc["/FontDescriptor"].get_object()
                for key in ("/FontFile2", "/FontFile3", "/FontFile"):
                    if key in fd:
                        info["file_key"] = key
                        info["data"] = fd[key].get_object().get_data()
            fonts.append(info)
    return fonts


def _largest_text(page) -> str:
    """The text set in the largest font on a PDF page (its title)."""
    runs: list[tuple[float, str]] = []
    page.extract_text(visitor_text=lambda text, cm, tm, font, size: runs.append((size, text)))
    biggest = max(size for size, _ in runs)
    return "".join(text for size, text in runs if size == biggest).strip()


# --------------------------------------------------------------------------------------------
# page size, formats, content
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paper", "orientation", "dpi", "expected"),
    [("A4", "portrait", 40, (331, 468)), ("A3", "landscape", 30, (496, 351))],
)
def test_png_size_is_paper_times_dpi(frames, paper, orientation, dpi, expected):
    spec = PageSpec(paper=paper, orientation=orientation, dpi=dpi)
    assert spec.pixel_size == expected
    img = _png(_render("one-belt-four-zones", frames, paper=paper, orientation=orientation, dpi=dpi))
    assert (img.shape[1], img.shape[0]) == expected


def test_png_at_300_dpi_is_a4_to_the_pixel(frames):
    img = _png(_render("one-belt-four-zones", frames, dpi=300))
    assert (img.shape[1], img.shape[0]) == (2480, 3508)  # 210 x 297 mm at 300 dpi


def test_png_is_not_blank_and_shows_the_zone_colours(frames):
    img = _png(_render("one-belt-four-zones", frames, dpi=60))
    non_white = (img < 245).any(axis=2).mean()
    assert non_white > 0.15
    # The 商旅文 zone is #e69f00 at fill opacity 0.45 over the map background (#fbfbf8).
    bg = np.array([0xFB, 0xFB, 0xF8])
    expected = 0.45 * np.array([0xE6, 0x9F, 0x00]) + 0.55 * bg
    close = (np.abs(img.astype(float) - expected) <= 6).all(axis=2)
    assert close.sum() > 500


def test_pdf_has_one_page_a_searchable_title_and_the_page_furniture(frames):
    from planatlas.render.write import figure_bytes

    preset = get_preset("one-belt-four-zones")
    reader = _pdf_reader(figure_bytes(_render("one-belt-four-zones", frames), "pdf"))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in (
        preset.title_in("zh"),
        preset.subtitle_in("zh"),
        "图例",
        "区位",
        "北",
        "km",
        "EPSG:4548",
        "示意",
        "《南昌市西湖区产业高质量发展规划（2022—2025年）》",
        "位置误差 ±",
        "南浦街道",
    ):
        assert expected in text, expected
    w, h = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(w / 72 * 25.4), round(h / 72 * 25.4)) == (210, 297)
    assert reader.metadata.title == preset.title_in("zh")


def test_english_page_has_english_furniture(frames):
    from planatlas.render.write import figure_bytes

    preset = get_preset("one-belt-four-zones")
    fig = _render("one-belt-four-zones", frames, lang="en", orientation="landscape")
    text = _pdf_reader(figure_bytes(fig, "pdf")).pages[0].extract_text()
    for expected in (preset.title_in("en"), "Legend", "Location", "Sources", "Schematic", "N"):
        assert expected in text, expected


def test_pdf_embeds_the_cjk_font_as_a_truetype_subset(frames):
    from planatlas.render.write import figure_bytes

    font = find_cjk_font()
    if font.outlines != "truetype":
        from _ci import skip_unless_available

        skip_unless_available("no TrueType-outline CJK font (apt-get install fonts-wqy-microhei)")
    fonts = _pdf_fonts(_pdf_reader(figure_bytes(_render("one-belt-four-zones", frames), "pdf")))
    assert fonts
    expected = font.family.replace(" ", "")
    for info in fonts:
        # Subset tag (six capitals and '+') then the embedded font's PostScript name.
        assert info["base"].split("+", 1)[1].startswith(expected), info["base"]
        assert info["base"][6] == "+"
        assert info["subtype"] == "/Type0" and info["cid_subtype"] == "/CIDFontType2"
        assert info["file_key"] == "/FontFile2"
        # A TrueType ('\0\1\0\0' or 'true') file in the TrueType slot, never CFF ('OTTO').
        assert info["data"][:4] in (b"\x00\x01\x00\x00", b"true")
        assert len(info["data"]) < 2_000_000  # a subset, not the whole font


def test_svg_parses_with_the_paper_size(frames):
    from planatlas.render.write import figure_bytes

    data = figure_bytes(_render("one-belt-four-zones", frames, paper="A3", orientation="landscape"), "svg")
    root = ET.fromstring(data)  # noqa: S314 - our own renderer's output
    assert root.tag.endswith("svg")
    width, height = (float(root.get(k).removesuffix("pt")) for k in ("width", "height"))
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (420, 297)
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 50


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_preset_renders_in_both_languages(frames, name, lang):
    from planatlas.render.write import figure_bytes

    preset = get_preset(name)
    fig = _render(name, frames, lang=lang, dpi=40)
    text = _pdf_reader(figure_bytes(fig, "pdf")).pages[0].extract_text()
    assert preset.title_in(lang) in text
    assert ("图例" if lang == "zh" else "Legend") in text
    assert "EPSG:4548" in text
    assert figure_bytes(fig, "svg").lstrip().startswith(b"<?xml")


# --------------------------------------------------------------------------------------------
# style, labels, notes, furniture
# --------------------------------------------------------------------------------------------


def test_layer_colours_come_from_the_shared_style(frames):
    from matplotlib.colors import to_rgba

    from planatlas.maps import prepare_preset

    preset = get_preset("one-belt-four-zones")
    prepared = {p.layer.id: p for p in prepare_preset(preset, frames)}
    zones = prepared["zones"]
    layer = map_layer(zones, "zh")
    expected = [to_rgba(c, zones.resolved.style.fill_opacity) for c in zones.resolved.feature_colors(zones.frame)]
    assert np.allclose(layer.facecolors, expected)
    legend = zones.resolved.legend("zh", title=zones.layer.title)
    assert [e.label for e in layer.legend] == [e.label_in("zh") for e in legend]
    assert [to_rgba(e.facecolor)[:3] for e in layer.legend] == [to_rgba(e.color)[:3] for e in legend]


def test_hidden_layers_are_left_out(frames):
    from planatlas.maps import prepare_preset

    prepared = prepare_preset(get_preset("buildings"), frames)
    ids = [layer.name for layer in resolve_layers(prepared, "zh")]
    assert "by_theme" in ids and "by_status" not in ids  # by_status is off by default


def test_labels_do_not_overlap_each_other_or_the_furniture(frames):
    fig = _render("buildings", frames, dpi=72).figure
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_zorder() >= 30 and t.get_gid() != "underlay"]
    assert len(labels) >= 10
    boxes = [t.get_window_extent(renderer) for t in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    frame = ax.get_window_extent(renderer)
    assert all(frame.contains(b.x0, b.y0) and frame.contains(b.x1, b.y1) for b in boxes)


def test_precision_notes_name_schematic_layers_only_when_drawn(frames):
    from planatlas.maps import prepare_preset

    layers = resolve_layers(prepare_preset(get_preset("one-belt-four-zones"), frames), "en")
    notes = precision_notes(layers, "en")
    assert notes[0].startswith("Schematic") and "Streets" in notes[0]
    approx = [layer for layer in layers if set(layer.frame["precision"]) == {"sourced"}]
    assert approx
    assert not any(n.startswith("Schematic") for n in precision_notes(approx, "en"))


@pytest.mark.parametrize(
    ("width", "length", "label"),
    [(4000.0, 1000.0, "1 km"), (3000.0, 500.0, "500 m"), (9000.0, 2000.0, "2 km"), (150.0, 20.0, "20 m")],
)
def test_scale_bar_lengths_are_round(width, length, label):
    assert nice_scale_length(width) == length
    assert format_distance(length) == label
    with pytest.raises(ValueError, match="positive metres"):
        nice_scale_length(0)


def test_scale_bar_on_the_page_is_the_round_length_in_metres(frames):
    from matplotlib_scalebar.scalebar import ScaleBar

    fig = _render("one-belt-four-zones", frames).figure
    ax = fig.axes[0]
    (bar,) = [a for a in ax.artists if isinstance(a, ScaleBar)]
    fig.canvas.draw()
    length = nice_scale_length(ax.get_xlim()[1] - ax.get_xlim()[0])
    assert bar.info.value == length and bar.info.units == "m"
    assert bar.info.length_px == length  # in data units: one unit of the EPSG:4548 axes is a metre
    assert bar.info.scale_text == format_distance(length)


def test_north_arrow_turns_by_the_meridian_convergence():
    from pyproj import Transformer

    # Nanchang (115.9 E, 28.67 N) lies 1.1 degrees west of the zone's central meridian (117 E):
    # grid north is about 1.1 * sin(28.67) = 0.53 degrees east of true north.
    x, y = Transformer.from_crs("EPSG:4490", "EPSG:4548", always_xy=True).transform(115.9, 28.67)
    gamma = meridian_convergence(x, y)
    assert -0.6 < gamma < -0.46


def test_polygons_keep_their_holes():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure
    from shapely.geometry import Polygon

    # Shell and hole wound the same way: matplotlib (non-zero rule) would fill the hole.
    ring = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(4, 4), (6, 4), (6, 6), (4, 6)]])
    paths = polygon_paths([ring, None])
    assert len(paths) == 2 and len(paths[1].vertices) == 0
    fig = Figure(figsize=(1, 1), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.set_axis_off()
    coll = PathCollection(paths, facecolors="black")
    coll.set_transform(ax.transData)
    ax.add_collection(coll)
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())
    assert img[50, 50, 0] == 255  # the hole stays empty
    assert img[90, 10, 0] == 0  # the shell is filled


def test_wrap_and_fit_text():
    lines = wrap_text("西湖区产业高质量发展规划" * 4, 100, 10)
    assert len(lines) == 5 and all(len(line) <= 10 for line in lines)
    assert wrap_text("one two three four", 40, 10)[0] == "one two"
    lines, size, cut = fit_text("字" * 400, width_pt=100, height_pt=60, fontsize=10)
    assert cut and lines[-1].endswith("…") and size < 10
    _, size, cut = fit_text("字" * 20, width_pt=100, height_pt=60, fontsize=10)
    assert (size, cut) == (10, False)


def test_merge_line_ranges():
    assert merge_line_ranges(["268", "266-267;294", "270"]) == "266–268, 270, 294"
    assert merge_line_ranges(["1;3;5;7"], limit=2) == "1, 3, …"


def test_page_spec_rejects_bad_values():
    for kw, match in (
        ({"paper": "A5"}, "paper"),
        ({"orientation": "up"}, "orientation"),
        ({"lang": "fr"}, "lang"),
        ({"dpi": 5}, "dpi"),
    ):
        with pytest.raises(ValueError, match=match):
            PageSpec(**kw)


# --------------------------------------------------------------------------------------------
# fonts
# --------------------------------------------------------------------------------------------


def test_a_font_without_chinese_glyphs_is_a_clear_error():
    from matplotlib import font_manager as fm

    latin = fm.findfont(fm.FontProperties(family="DejaVu Sans"))
    with pytest.raises(MissingFontError, match=r"no Chinese glyphs.*apt-get install"):
        find_cjk_font(latin)


def test_no_cjk_font_installed_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(fonts, "CJK_FAMILIES", ("No Such Font SC",))
    monkeypatch.setattr(fonts, "CJK_FONT_FILES", ())
    monkeypatch.setattr(fonts, "_FONT_CACHE", {})
    with pytest.raises(MissingFontError, match="fonts-wqy-microhei"):
        find_cjk_font()


# --------------------------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------------------------


def test_write_figure_is_atomic_and_checks_the_format(frames, tmp_path, monkeypatch):
    from planatlas.render import write

    fig = _render("one-belt-four-zones", frames, dpi=30)
    target = tmp_path / "map.png"
    write.write_figure(fig, target)
    good = target.read_bytes()
    assert good[:8] == b"\x89PNG\r\n\x1a\n"

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(write, "save_figure", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write.write_figure(fig, target)
    assert target.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["map.png"]
    with pytest.raises(write.ExportError, match="format should be one of png, pdf, svg"):
        write.write_figure(fig, tmp_path / "map.jpg")


def test_series_pdf_has_one_page_per_street(frames, tmp_path):
    from planatlas.render.write import write_pdf_pages

    units = series_units(frames["streets"], key="street_id", lang="zh", text_fields=["approach"])
    assert [u.key for u in units] == sorted(frames["streets"]["street_id"])
    figs = render_series(_data("one-belt-four-zones", frames), units, PageSpec(orientation="landscape", dpi=30))
    count = write_pdf_pages(figs, tmp_path / "streets.pdf")
    reader = _pdf_reader((tmp_path / "streets.pdf").read_bytes())
    assert count == len(reader.pages) == len(frames["streets"]) == 10
    first = units[0]
    text = reader.pages[0].extract_text()
    assert first.name in text and "规划指引" in text and "第 1/10 页" in text
    assert first.paragraphs[0][1][:10] in text.replace("\n", "")


# --------------------------------------------------------------------------------------------
# self-contained HTML
# --------------------------------------------------------------------------------------------


def test_inline_assets_replaces_cdn_and_local_references(tmp_path):
    from planatlas.render.write import inline_assets

    assets = tmp_path / "static"
    (assets / "vendor" / "leaflet" / "images").mkdir(parents=True)
    (assets / "vendor" / "leaflet" / "leaflet.js").write_text("var L = {}; // </script> inside", "utf-8")
    (assets / "vendor" / "leaflet" / "leaflet.css").write_text(".a{background:url(images/x.png)}", "utf-8")
    (assets / "vendor" / "leaflet" / "images" / "x.png").write_bytes(b"\x89PNG")
    html = (
        '<html><head><script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"></script>'
        '<link rel="stylesheet" href="/app/static/vendor/leaflet/leaflet.css"/></head></html>'
    )
    out = inline_assets(html, asset_dirs=[assets])
    assert "cdn.jsdelivr" not in out and "<script src" not in out
    assert "var L = {};" in out and "<\\/script> inside" in out
    assert 'url("data:image/png;base64,' in out


def test_inline_assets_refuses_assets_it_cannot_inline(tmp_path):
    from planatlas.errors import ExportError
    from planatlas.render.write import inline_assets

    html = '<script src="https://example.com/plugin.js"></script>'
    with pytest.raises(ExportError, match=r"plugin\.js"):
        inline_assets(html, asset_dirs=[tmp_path])
    # Relative references may not climb out of the asset directories.
    (tmp_path / "a").mkdir()
    (tmp_path / "secret.js").write_text("x", "utf-8")
    with pytest.raises(ExportError, match=r"secret\.js"):
        inline_assets('<script src="../secret.js"></script>', asset_dirs=[tmp_path / "a"])


# --------------------------------------------------------------------------------------------
# the bundled atlas through the CLI
# --------------------------------------------------------------------------------------------


@pytest.fixture
def atlas_env(bundled_atlas, monkeypatch):
    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(bundled_atlas.path))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    return bundled_atlas


def test_cli_exports_a_page_from_the_bundled_atlas(atlas_env, tmp_path):
    from click.testing import CliRunner

    from planatlas.cli.main import cli

    out = tmp_path / "obfz.pdf"
    result = CliRunner().invoke(
        cli,
        ["export", "one-belt-four-zones", "--dpi", "40", "--lang", "en", "--orientation", "landscape", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    reader = _pdf_reader(out.read_bytes())
    assert len(reader.pages) == 1
    assert get_preset("one-belt-four-zones").title_in("en") in reader.pages[0].extract_text()


def test_cli_series_has_one_page_per_street_of_the_atlas(atlas_env, tmp_path):
    from click.testing import CliRunner

    from planatlas.cli.main import cli

    out = tmp_path / "streets.pdf"
    result = CliRunner().invoke(
        cli, ["export-series", "one-belt-four-zones", "--by", "streets", "--dpi", "30", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    streets = atlas_env.read("streets")
    reader = _pdf_reader(out.read_bytes())
    assert len(reader.pages) == len(streets) == 10
    expected = list(streets.sort_values("street_id")["name"])
    assert [_largest_text(page) for page in reader.pages] == expected


def test_cli_series_by_zones_has_one_page_per_zone(atlas_env, tmp_path):
    from click.testing import CliRunner

    from planatlas.cli.main import cli

    out = tmp_path / "zones.pdf"
    result = CliRunner().invoke(
        cli, ["export-series", "one-belt-four-zones", "--by", "zones", "--lang", "en", "--dpi", "30", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    zones = atlas_env.read("zones")
    zones = zones[zones["kind"] == "zone"].sort_values("zone_id")
    reader = _pdf_reader(out.read_bytes())
    assert [_largest_text(page) for page in reader.pages] == list(zones["name_en"])


def test_cli_rejects_unknown_preset_and_format(atlas_env, tmp_path):
    from click.testing import CliRunner

    from planatlas.cli.main import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["export", "nope", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "preset should be one of" in result.output
    result = runner.invoke(cli, ["export", "metro", "-o", str(tmp_path / "x.gif")])
    assert result.exit_code == 2 and "format should be one of" in result.output
    result = runner.invoke(cli, ["export-series", "metro", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "PDF" in result.output
    result = runner.invoke(cli, ["export", "jiuwang-roads", "--param", "phase=2030", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "phase should be one of 2021, 2022, 2023" in result.output
    assert not (tmp_path / "x.png").exists()
    result = runner.invoke(cli, ["export-series", "jiuwang-roads", "-o", str(tmp_path / "jw.pdf")])
    assert result.exit_code == 1 and "draws nothing inside these series units" in result.output
    assert list(tmp_path.iterdir()) == []


def test_html_export_is_self_contained(atlas_env, tmp_path):
    from click.testing import CliRunner

    from planatlas.cli.main import cli

    out = tmp_path / "map.html"
    result = CliRunner().invoke(cli, ["export", "one-belt-four-zones", "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    import re

    external = [
        src
        for src in re.findall(r"<(?:script|link)[^>]+(?:src|href)=[\"']([^\"']+)", html)
        if not src.startswith("data:")
    ]
    assert external == []
    assert "L.map(" in html or "L.map (" in html
    import json

    # The title control is written by the map's JavaScript as a JSON string (\uXXXX escapes).
    assert json.dumps(get_preset("one-belt-four-zones").title_in("zh"))[1:-1] in html


def test_export_page_offers_the_page_and_the_series(bundled_atlas):
    from streamlit.testing.v1 import AppTest

    script = f"""
from planatlas.settings import get_settings
from planatlas.store.gpkg import GeoPackageStore
from planatlas.ui.export import render_page
render_page(GeoPackageStore({str(bundled_atlas.path)!r}), get_settings(), "en")
"""
    at = AppTest.from_string(script, default_timeout=120)
    at.run()
    assert not at.exception
    at.radio(key="pa_export_fmt").set_value("pdf")
    at.select_slider(key="pa_export_dpi").set_value(72)
    at.button[0].click()
    at.run()
    assert not at.exception and not at.error
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels and labels[0].startswith("Download one-belt-four-zones_A4-portrait_en.pdf")
    at.button[1].click()
    at.run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert any(label.endswith("(10 pages)") for label in labels), labels
