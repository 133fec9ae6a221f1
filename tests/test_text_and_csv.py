"""Catalogue and data text shown as plain text, CSV cells a spreadsheet will not run, style colours checked."""

from __future__ import annotations

import csv
import io
import re
import string
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from planatlas.catalog import load_catalog
from planatlas.cli.main import cli
from planatlas.cli.options import EXIT_INVALID
from planatlas.errors import CatalogError
from planatlas.io.writers import csv_cell, csv_text, write_frame
from planatlas.maps.style import Category, Style
from planatlas.ui.widgets import html_text, plain_markdown

#: Markdown that would fetch from another host, style text, or typeset a formula if rendered.
PAYLOADS = (
    "![x](http://evil.example/t.png)",
    "[click](javascript:alert(1))",
    "<img src=http://evil.example/t.png>",
    ":red[styled] :material/warning: $x^2$",
    "**bold** _it_ `code` ~~gone~~ # heading\n- item\n1. one\n> quote",
    "line one\n\n![x](http://evil.example/after-blank-line.png)",
    "西湖区 <script>alert('x')</script> &lt;b&gt;",
)
FORMULAS = ('=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")


def _unescape(markdown: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("  \n", "\n")


@pytest.mark.parametrize("text", PAYLOADS)
def test_plain_markdown_leaves_no_markdown_and_shows_the_text_itself(text):
    shown = plain_markdown(text)
    assert _unescape(shown) == text
    unescaped = re.sub(r"\\.", "", shown)
    assert not set(unescaped) & set(string.punctuation)  # every punctuation mark is escaped
    assert not re.search(r"(?<!\\)[!\[\]()<>:$]", shown)


def test_html_text_keeps_a_details_cell_one_html_block():
    """A blank line would end the HTML block and let the Markdown image after it through."""
    cell = html_text(PAYLOADS[5])
    assert "\n" not in cell and cell.count("<br>") == 2
    assert html_text("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture
def hostile_geodata(mini_geodata: Path) -> Path:
    """The mini geodata with a Markdown image in a description and a formula as a site name."""
    toml = mini_geodata / "layers" / "sites.toml"
    desc = 'description = { zh = "![x](http://evil.example/t.png)", en = "![x](http://evil.example/t.png) :red[x]" }\n'
    toml.write_text(desc + toml.read_text(encoding="utf-8"), encoding="utf-8")
    attrs = mini_geodata / "attributes" / "sites.csv"
    text = attrs.read_text(encoding="utf-8").replace("乙站", '"=HYPERLINK(""http://evil.example"",""click"")"')
    attrs.write_text(text, encoding="utf-8")
    return mini_geodata


@pytest.fixture
def hostile_atlas(hostile_geodata: Path, tmp_path: Path):
    from planatlas.build import build_atlas
    from planatlas.store.gpkg import GeoPackageStore

    store = GeoPackageStore(tmp_path / "hostile.gpkg")
    build_atlas(hostile_geodata, store)
    return store


def test_the_data_page_shows_a_layer_description_as_plain_text(hostile_atlas, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(hostile_atlas.path))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)

    def page() -> None:
        from planatlas.settings import get_settings
        from planatlas.store import open_store
        from planatlas.ui.data import render_page

        settings = get_settings()
        render_page(open_store(settings), settings, "en")

    app = AppTest.from_function(page, default_timeout=60).run()
    app.selectbox(key="pa_data_layer").set_value("sites").run()
    assert not app.exception
    captions = [c.value for c in app.caption]
    assert plain_markdown("![x](http://evil.example/t.png) :red[x]") in captions
    assert not any("![" in c or "](" in c or ":red[" in c for c in captions)
    drawn = [m.value for m in app.markdown] + [e.value for e in [*app.error, *app.warning, *app.info]]
    assert not any("![" in m for m in drawn)


def _rows(data: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.lstrip("\ufeff"), newline="")))


@pytest.mark.parametrize("value", FORMULAS)
def test_csv_cell_prefixes_formula_triggers(value):
    assert csv_cell(value) == "'" + value
    assert csv_cell("safe " + value) == "safe " + value
    assert csv_cell(-5) == -5 and csv_cell(None) is None


def test_every_csv_the_product_writes_neutralises_formulas(hostile_atlas, tmp_path):
    """The Data page download, the query download and file writer, and ``dump``: no cell starts a formula."""
    from planatlas.ui.data import layer_csv
    from planatlas.ui.query import result_bytes

    sites = hostile_atlas.read("sites")
    frame = gpd.GeoDataFrame(
        {"name": list(FORMULAS), "n": [-5, 1, 2, 3, 4, 5]}, geometry=[Point(115.9, 28.7)] * 6, crs="EPSG:4490"
    )
    outputs = {
        "data page": layer_csv(sites).decode("utf-8-sig"),
        "query page": result_bytes(frame, "csv", layer="q").decode("utf-8-sig"),
        "write_frame": write_frame(frame, tmp_path / "w.csv").read_text(encoding="utf-8-sig"),
        "csv_text": csv_text(pd.DataFrame({"=cmd": ["@x"], "ok": ["plain"]})),
    }
    for where, data in outputs.items():
        cells = [cell for row in _rows(data) for cell in row]
        risky = [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not _number(c))]
        assert risky == [], where
    data_cells = [c for row in _rows(outputs["data page"]) for c in row]
    assert '\'=HYPERLINK("http://evil.example","click")' in data_cells
    assert _rows(outputs["csv_text"])[0] == ["'=cmd", "ok"]
    assert _rows(outputs["query page"])[1][:2] == ["'" + FORMULAS[0], "-5"]  # numbers stay numbers


def test_no_csv_is_written_around_csv_text():
    """Every CSV goes through ``csv_text``: no other ``to_csv`` or ``csv.writer`` in the product."""
    src = Path(__file__).resolve().parents[1] / "src" / "planatlas"
    writers = src / "io" / "writers.py"
    found = [
        f"{path.relative_to(src.parents[1])}:{n}"
        for path in [*src.rglob("*.py"), src.parents[1] / "app.py"]
        if path != writers
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ".to_csv(" in line or "csv.writer" in line or "csv.DictWriter" in line
    ]
    assert found == []


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_cli_dump_csv_neutralises_formulas(hostile_atlas, tmp_path, monkeypatch):
    monkeypatch.setenv("PLANATLAS_ATLAS_PATH", str(hostile_atlas.path))
    monkeypatch.delenv("PLANATLAS_DATABASE_URL", raising=False)
    out = tmp_path / "sites.csv"
    result = CliRunner().invoke(cli, ["dump", "sites", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    cells = [c for row in _rows(out.read_text(encoding="utf-8-sig")) for c in row]
    assert '\'=HYPERLINK("http://evil.example","click")' in cells


# ---- style colours --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("style", "named"),
    [
        ('color = "red"', "color = 'red'"),
        ('color = "#12345"', "color = '#12345'"),
        ('kind = "categorical"\ncolumn = "area_id"\ncolors = { north = "#ff0000", south = "url(x)" }', "colors.south"),
        ('stroke_color = "#fff\\" onload=\\"alert(1)"', "stroke_color"),
        ('palette = ["#000000", 7]', "palette.1 = 7"),
    ],
)
def test_catalogue_style_colours_are_validated_with_their_place(mini_geodata, style, named):
    toml = mini_geodata / "layers" / "sites.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + f"\n[style]\n{style}\n", encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(mini_geodata)
    message = str(info.value)
    assert message.startswith("layers/sites.toml: layer 'sites' [style] colours should be '#rrggbb'")
    assert named in message
    result = CliRunner().invoke(cli, ["validate", str(mini_geodata)], catch_exceptions=False)
    assert result.exit_code == EXIT_INVALID and "layers/sites.toml" in result.output
    assert "Traceback" not in result.output


def test_bundled_catalogue_styles_pass():
    from planatlas.catalog import is_hex_color

    catalog = load_catalog(Path(__file__).resolve().parents[1] / "geodata")
    colours = [spec.style.get("color", "#000000") for spec in catalog.values()]
    assert colours and all(is_hex_color(c) for c in colours)


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda: Style(color="red"), "style color"),
        (lambda: Style(stroke_color="#ffff"), "style stroke_color"),
        (lambda: Style(palette=("#000000", "blue")), "style palette[1]"),
        (lambda: Category(value="x", color="#12"), "colour of category 'x'"),
    ],
)
def test_preset_style_colours_are_refused_naming_the_attribute(make, named):
    with pytest.raises(ValueError, match=re.escape(named)) as info:
        make()
    assert "should be '#rrggbb'" in str(info.value)
