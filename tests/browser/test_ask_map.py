"""Asking the map in headless Chromium with the network closed (issue 16), in Chinese and in English.

Each interaction is checked against the library's own answer: the permalink opens answered; a
real mouse click near 八一广场 asks around the clicked point; a dragged rectangle asks what is
inside it; a typed name zooms to the place and becomes the reference; the Atlas page's view and
the answer's print page download as PDF files. Waits poll conditions; screenshots of every step
go to ``tests/browser/screenshots/ask-*.png``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import geopandas as gpd
import pytest
from browser_support import (
    console_errors,
    external_requests,
    in_map,
    make_driver,
    require_browser,
    run_app,
    screenshot,
    wait_app_idle,
    wait_for,
    wait_map_still,
)
from shapely.geometry import LineString, box

from planatlas.query import QueryRequest, run_query
from planatlas.query.reference import parse_at

pytestmark = pytest.mark.browser

BAYI = (115.89782695, 28.67851232)  # 八一广场 station as the atlas stores it (metro_stations)
RESULTS = {"zh": "{n} 条结果", "en": "{n} results"}
MATCH_COLOR = "#1f77b4"  # planatlas.maps.style.QUERY_COLORS["match"]


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory):
    from planatlas.build import ensure_atlas
    from planatlas.settings import get_settings

    settings = get_settings(atlas_path=tmp_path_factory.mktemp("atlas") / "atlas.gpkg", database_url=None)
    return settings, ensure_atlas(settings)


@pytest.fixture(scope="module")
def app_url(atlas, tmp_path_factory: pytest.TempPathFactory):
    require_browser()
    settings, _ = atlas
    with run_app(settings.atlas_path, tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(app_url, downloads):
    drv = make_driver(height=1500)
    drv.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    yield drv
    drv.quit()


@pytest.fixture(autouse=True)
def network_and_console_clean(driver):
    """Every test ends with no console error, no request that left localhost and no exception."""
    console_errors(driver)
    external_requests(driver)
    yield
    errors = console_errors(driver)
    outside = external_requests(driver)
    exceptions = driver.execute_script(
        "return Array.from(document.querySelectorAll('[data-testid=stException]')).map(e => e.innerText)"
    )
    assert not outside, f"requests left localhost: {outside[:5]}"
    assert not errors, f"console errors: {[e['message'][:300] for e in errors]}"
    assert not exceptions, f"the app raised: {exceptions}"


# ---- helpers -------------------------------------------------------------------------------------
def open_app(driver: Any, app_url: str, **query: str) -> None:
    qs = "&".join(f"{k}={quote(v, safe=',')}" for k, v in query.items())
    driver.get(f"{app_url}/?{qs}")


def page_text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.TAG_NAME, "body").text)


def table_text(driver: Any) -> str:
    """Text of the result tables (Streamlit draws them on a canvas; its accessible grid holds the text)."""
    script = (
        "return Array.from(document.querySelectorAll('[data-testid=stDataFrame]')).map(e => e.textContent).join(' ')"
    )
    return str(driver.execute_script(script))


def shown_count(driver: Any) -> int | None:
    """The count the answer shows (``<p class="pa-count" data-count=…>``), or None before an answer."""
    value = driver.execute_script(
        "var e = document.querySelector('.pa-count'); return e ? e.getAttribute('data-count') : null;"
    )
    return None if value is None else int(value)


def wait_answer(driver: Any, expected: int, lang: str) -> None:
    """Wait until the page states ``expected`` results in plain text, in ``lang``, and the app is idle."""
    text = RESULTS[lang].format(n=expected)
    wait_for(driver, lambda: shown_count(driver) == expected and text in page_text(driver), timeout=90, what=text)
    wait_app_idle(driver)


def matches_on_map(driver: Any) -> int:
    """Match markers the map draws (circle markers in the match colour; call inside the iframe)."""
    return int(
        driver.execute_script(
            "var n = 0, colour = arguments[0]; window.map_div.eachLayer(function(l) {"
            " if (l instanceof L.CircleMarker && l.options.color === colour) { n++; } }); return n;",
            MATCH_COLOR,
        )
    )


def wait_matches_on_map(driver: Any, expected: int) -> None:
    def drawn() -> bool:
        with in_map(driver):
            return matches_on_map(driver) == expected

    wait_for(driver, drawn, timeout=60, what=f"{expected} matches on the map")


def container_point(driver: Any, lon: float, lat: float) -> tuple[float, float]:
    """Pixel position of a lon/lat in the map container (call inside the iframe)."""
    x, y = driver.execute_script(
        "var p = window.map_div.latLngToContainerPoint([arguments[1], arguments[0]]); return [p.x, p.y];", lon, lat
    )
    return float(x), float(y)


def lonlat_at(driver: Any, x: float, y: float) -> tuple[float, float]:
    lat, lng = driver.execute_script(
        "var p = window.map_div.containerPointToLatLng([arguments[0], arguments[1]]); return [p.lat, p.lng];", x, y
    )
    return float(lng), float(lat)


def offset_from_centre(driver: Any, x: float, y: float) -> tuple[int, int]:
    """Selenium 4 offsets are from the element's centre: the map container's, for a container point."""
    w, h = driver.execute_script("var s = window.map_div.getSize(); return [s.x, s.y];")
    return round(x - w / 2), round(y - h / 2)


def map_container(driver: Any) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, ".leaflet-container")


def expected_within(store: Any, at: str, distance: str = "1km") -> int:
    rq = QueryRequest(kind="within", layer="buildings", of="point", at=parse_at(at), distance=distance)
    return len(run_query(store, rq).frame)


def wait_download(driver: Any, folder: Path, suffix: str, magic: bytes) -> Path:
    """The downloaded file ending in ``suffix`` once complete (Chromium renames it when done)."""

    def done() -> Path | None:
        for path in folder.glob(f"*{suffix}"):
            if path.stat().st_size > 1000 and path.read_bytes()[: len(magic)] == magic:
                return path
        return None

    found: Path = wait_for(driver, done, timeout=120, what=f"a complete {suffix} download in {folder}")
    return found


def click_button(driver: Any, label: str) -> None:
    from selenium.webdriver.common.by import By

    button = wait_for(
        driver,
        lambda: next(b for b in driver.find_elements(By.CSS_SELECTOR, "button") if b.text.strip() == label),
        what=f"the button {label!r}",
    )
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()


# ---- tests ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_permalink_opens_with_the_answer(driver, app_url, atlas, lang):
    """``/?page=query&kind=within&layer=buildings&at=LON,LAT&distance=1km`` opens answered: 8 results."""
    _, store = atlas
    at = f"{BAYI[0]},{BAYI[1]}"
    expected = expected_within(store, at)
    assert expected > 0  # the example (8 when it was written; positions have been refined since)
    open_app(driver, app_url, page="query", kind="within", layer="buildings", at=at, distance="1km", lang=lang)
    wait_answer(driver, expected, lang)
    wait_matches_on_map(driver, expected)
    text = page_text(driver)
    assert ("八一广场站附近的点" if lang == "zh" else "a point near 八一广场 station") in text
    table = wait_for(driver, lambda: table_text(driver), what="the result table")
    assert ("距离（米）" if lang == "zh" else "Distance (m)") in table, table[:300]
    first = run_query(store, QueryRequest(kind="within", layer="buildings", of="p", at=parse_at(at), distance="1km"))
    assert first.frame["name"].iloc[0] in table, table[:300]
    assert "Choose options" not in text
    screenshot(driver, f"ask-1-permalink-{lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_click_near_bayi_square_asks_around_the_point(driver, app_url, atlas, lang):
    """A real mouse click on the map asks "within 1 km" around the clicked point."""
    from selenium.webdriver.common.action_chains import ActionChains

    _, store = atlas
    open_app(driver, app_url, page="query", ref="point", kind="within", layer="buildings", distance="1km", lang=lang)
    wait_for(
        driver, lambda: ("尚未选点" if lang == "zh" else "No point yet") in page_text(driver), what="the empty state"
    )
    wait_app_idle(driver)
    screenshot(driver, f"ask-2a-before-click-{lang}")
    with in_map(driver):
        wait_map_still(driver)
        x, y = container_point(driver, *BAYI)
        dx, dy = offset_from_centre(driver, x, y)
        ActionChains(driver).move_to_element_with_offset(map_container(driver), dx, dy).click().perform()
    wait_for(driver, lambda: shown_count(driver) is not None, timeout=90, what="an answer after the click")
    wait_app_idle(driver)
    at = wait_for(
        driver, lambda: parse_qs(urlparse(driver.current_url).query).get("at", [None])[0], what="at= in the URL"
    )
    clicked = parse_at(at)
    assert abs(clicked.x - BAYI[0]) < 0.001 and abs(clicked.y - BAYI[1]) < 0.001, at
    expected = expected_within(store, at)
    assert expected > 0
    wait_answer(driver, expected, lang)
    wait_matches_on_map(driver, expected)
    screenshot(driver, f"ask-2b-after-click-{lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_draw_a_rectangle_asks_what_is_inside(driver, app_url, atlas, lang):
    """Leaflet.draw's rectangle (vendored, translated) dragged with the mouse asks "inside"."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    _, store = atlas
    open_app(driver, app_url, page="query", ref="area", kind="inside", layer="buildings", lang=lang)
    wait_for(
        driver, lambda: ("尚未绘制范围" if lang == "zh" else "No area yet") in page_text(driver), what="empty state"
    )
    wait_app_idle(driver)
    with in_map(driver):
        wait_map_still(driver)
        tool = driver.find_element(By.CSS_SELECTOR, "a.leaflet-draw-draw-rectangle")
        assert tool.get_attribute("title") == ("画矩形查询" if lang == "zh" else "Draw a rectangle to ask")
        driver.execute_script("window.map_div.setView([arguments[1], arguments[0]], 15, {animate: false});", *BAYI)
        wait_map_still(driver)
        tool.click()
        x0, y0 = container_point(driver, BAYI[0] - 0.008, BAYI[1] + 0.005)
        x1, y1 = container_point(driver, BAYI[0] + 0.008, BAYI[1] - 0.005)
        corner0, corner1 = lonlat_at(driver, x0, y0), lonlat_at(driver, x1, y1)
        start, end = offset_from_centre(driver, x0, y0), offset_from_centre(driver, x1, y1)
        chain = ActionChains(driver).move_to_element_with_offset(map_container(driver), *start).click_and_hold()
        chain.move_by_offset((end[0] - start[0]) // 2, (end[1] - start[1]) // 2)
        chain.move_by_offset(end[0] - start[0] - (end[0] - start[0]) // 2, end[1] - start[1] - (end[1] - start[1]) // 2)
        chain.release().perform()
    wait_for(driver, lambda: shown_count(driver) is not None, timeout=90, what="an answer after drawing")
    wait_app_idle(driver)
    area = box(
        min(corner0[0], corner1[0]),
        min(corner0[1], corner1[1]),
        max(corner0[0], corner1[0]),
        max(corner0[1], corner1[1]),
    )
    expected = len(run_query(store, QueryRequest(kind="inside", layer="buildings", of="area", at=area)).frame)
    assert expected > 0
    # the drawn corners are pixels apart from the computed ones by at most a pixel: allow for a feature on the edge
    count = shown_count(driver)
    assert count is not None and abs(count - expected) <= 1, (count, expected)
    wait_answer(driver, count, lang)
    wait_matches_on_map(driver, count)
    assert ("量测：面积" if lang == "zh" else "Measured: area") in page_text(driver)
    screenshot(driver, f"ask-3-draw-rectangle-{lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_search_a_place_zooms_to_it_and_asks_around_it(driver, app_url, atlas, lang):
    """Typing 八一广场 zooms the map to the station; "ask around this place" answers within 1 km of it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _, store = atlas
    open_app(driver, app_url, page="query", ref="point", kind="within", layer="buildings", distance="1km", lang=lang)
    wait_app_idle(driver)
    field = wait_for(
        driver,
        lambda: next(
            e
            for e in driver.find_elements(By.CSS_SELECTOR, "input[type='text']")
            if e.get_attribute(
                "placeholder",
            )
            and "八一广场" in e.get_attribute("placeholder")
        ),
        what="the place search box",
    )
    field.send_keys("八一广场", Keys.ENTER)

    def zoomed() -> bool:
        with in_map(driver):
            state = driver.execute_script(
                "var m = window.map_div, lon = arguments[0], lat = arguments[1];"
                "if (!m) { return null; } var c = m.getCenter(), hit = false;"
                "m.eachLayer(function(l) { if (l instanceof L.CircleMarker && l.options.color === '#ff7f00') { var p = l.getLatLng();"
                " if (Math.abs(p.lat - lat) < 1e-6 && Math.abs(p.lng - lon) < 1e-6) { hit = true; } } });"
                "return [c.lng, c.lat, m.getZoom(), hit];",
                *BAYI,
            )
        return bool(
            state
            and state[3]
            and abs(state[0] - BAYI[0]) < 0.002
            and abs(state[1] - BAYI[1]) < 0.002
            and state[2] >= 15
        )

    wait_for(driver, zoomed, timeout=90, what="the map zoomed to 八一广场 with a marker")
    wait_app_idle(driver)
    screenshot(driver, f"ask-4a-search-zoom-{lang}")
    click_button(driver, "以此为查询参照" if lang == "zh" else "Ask around this place")
    expected = expected_within(store, f"{BAYI[0]},{BAYI[1]}")
    wait_answer(driver, expected, lang)
    title = "距八一广场站1公里范围内的商务楼宇与产业载体" if lang == "zh" else "within 1 km of 八一广场 station"
    assert title in page_text(driver)
    screenshot(driver, f"ask-4b-search-ask-{lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_print_the_result_and_export_the_atlas_view(driver, app_url, atlas, downloads, lang):
    """The answer's print page and the Atlas page's current view download as PDF files in one click."""
    open_app(
        driver,
        app_url,
        page="query",
        kind="within",
        layer="buildings",
        at=f"{BAYI[0]},{BAYI[1]}",
        distance="1km",
        lang=lang,
    )
    wait_answer(driver, expected_within(atlas[1], f"{BAYI[0]},{BAYI[1]}"), lang)
    for old in downloads.glob("*"):
        old.unlink()
    click_button(driver, "下载打印页（PDF）" if lang == "zh" else "Download the print page (PDF)")
    printed = wait_download(driver, downloads, ".pdf", b"%PDF")
    assert re.search("八一广场" if lang == "zh" else "within_1_km", printed.name), printed.name
    screenshot(driver, f"ask-5a-print-result-{lang}")

    printed.unlink()
    open_app(driver, app_url, page="atlas", preset="one-belt-four-zones", lang=lang)
    wait_app_idle(driver)
    with in_map(driver):
        wait_map_still(driver)
    click_button(driver, "下载 PDF" if lang == "zh" else "Download PDF")
    view = wait_download(driver, downloads, ".pdf", b"%PDF")
    assert view.name == f"one-belt-four-zones_{lang}.pdf"
    screenshot(driver, f"ask-5b-export-view-{lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_click_a_street_on_the_atlas_and_ask_what_is_inside(driver, app_url, atlas, lang):
    """A street or zone clicked on the Atlas page becomes the Query page's zone: "buildings inside it"."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    _, store = atlas
    streets = store.read("streets")
    taoyuan = streets[streets["street_id"] == "taoyuan"].geometry.iloc[0].representative_point()
    open_app(driver, app_url, page="atlas", preset="one-belt-four-zones", lang=lang)
    wait_app_idle(driver)
    with in_map(driver):
        wait_map_still(driver)
        x, y = container_point(driver, taoyuan.x, taoyuan.y)
        ActionChains(driver).move_to_element_with_offset(
            map_container(driver), *offset_from_centre(driver, x, y)
        ).click().perform()
    label = (
        "查询其范围内的商务楼宇与产业载体"
        if lang == "zh"
        else "Commercial buildings, parks and live-streaming bases inside it"
    )
    wait_for(driver, lambda: label in page_text(driver), timeout=60, what="the ask buttons in the details panel")
    wait_app_idle(driver)
    screenshot(driver, f"ask-6a-atlas-street-{lang}")
    click_button(driver, label)
    wait_for(driver, lambda: shown_count(driver) is not None, timeout=90, what="the Query page's answer")
    wait_app_idle(driver)
    params = parse_qs(urlparse(driver.current_url).query)
    assert params["page"] == ["query"] and params["kind"] == ["inside"], params
    sidebar = driver.find_element(By.CSS_SELECTOR, "section[data-testid='stSidebar']")
    checked = [
        e.text
        for e in sidebar.find_elements(By.CSS_SELECTOR, "label")
        if e.find_elements(By.CSS_SELECTOR, "input:checked")
    ]
    assert ("查询" if lang == "zh" else "Query") in checked, checked
    of, field, values = params["of"][0], params["field"][0], params["values"][0].split(",")
    assert of in ("streets", "zones") and len(values) == 1
    rq = QueryRequest(kind="inside", layer="buildings", of=of, where={field: values})
    expected = len(run_query(store, rq).frame)
    assert expected > 0
    wait_answer(driver, expected, lang)
    wait_matches_on_map(driver, expected)
    screenshot(driver, f"ask-6b-atlas-street-asked-{lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_measure_a_distance_with_a_drawn_line(driver, app_url, lang):
    """The line tool measures: the page reports the drawn line's length in EPSG:4548."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    open_app(driver, app_url, page="query", ref="point", kind="within", layer="buildings", distance="1km", lang=lang)
    wait_app_idle(driver)
    with in_map(driver):
        wait_map_still(driver)
        driver.execute_script("window.map_div.setView([arguments[1], arguments[0]], 15, {animate: false});", *BAYI)
        wait_map_still(driver)
        driver.find_element(By.CSS_SELECTOR, "a.leaflet-draw-draw-polyline").click()
        a = container_point(driver, BAYI[0] - 0.005, BAYI[1])
        b = container_point(driver, BAYI[0] + 0.005, BAYI[1])
        ends = [lonlat_at(driver, *a), lonlat_at(driver, *b)]
        container = map_container(driver)
        ActionChains(driver).move_to_element_with_offset(container, *offset_from_centre(driver, *a)).click().perform()
        ActionChains(driver).move_to_element_with_offset(container, *offset_from_centre(driver, *b)).click().perform()
        ActionChains(driver).move_to_element_with_offset(container, *offset_from_centre(driver, *b)).click().perform()
    expected = gpd.GeoSeries([LineString(ends)], crs="EPSG:4490").to_crs("EPSG:4548").length.iloc[0]
    prefix = "量测：线长 " if lang == "zh" else "Measured: line length "
    shown = wait_for(
        driver,
        lambda: next((line for line in page_text(driver).splitlines() if line.startswith(prefix)), None),
        timeout=60,
        what="the measured length",
    )
    found = re.search(r"([\d.]+)\s*(公里|km|米|m)\b", shown)
    assert found is not None, shown
    metres = float(found.group(1)) * (1000 if found.group(2) in ("公里", "km") else 1)
    assert metres == pytest.approx(expected, abs=2), (shown, expected)
    assert shown_count(driver) is None  # a measured line asks nothing
    screenshot(driver, f"ask-7-measure-{lang}")
