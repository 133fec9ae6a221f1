"""The Streamlit app in real headless Chromium with the network closed: every preset draws its
features, layers toggle, clicks show plan details, the language switches, the URL is a permalink,
and no request leaves localhost."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote, urlparse

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
    wait_for_counts,
    wait_map_still,
)

from planatlas.maps import PRESETS, get_preset, load_preset, prepare_preset_data

pytestmark = pytest.mark.browser


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
def driver(app_url):
    drv = make_driver()
    yield drv
    drv.quit()


@pytest.fixture(autouse=True)
def network_and_console_clean(driver):
    """Every test ends with no console error and no request that left localhost."""
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


def expected_counts(store: Any, name: str, *, params: dict | None = None, visible: set | None = None) -> dict[str, int]:
    """Features per preset layer the library prepares (what the map must draw)."""
    prepared = prepare_preset_data(load_preset(store, name, params))
    return {
        p.layer.id: (len(p.frame) if (p.layer.id in visible if visible is not None else p.layer.show) else 0)
        for p in prepared
    }


def open_app(driver: Any, app_url: str, **query: str) -> None:
    qs = "&".join(f"{k}={quote(v)}" for k, v in query.items())
    driver.get(f"{app_url}/?{qs}")


def click_sidebar_option(driver: Any, text: str) -> None:
    from selenium.webdriver.common.by import By

    label = wait_for(
        driver,
        lambda: next(
            e
            for e in driver.find_elements(By.CSS_SELECTOR, "section[data-testid='stSidebar'] label")
            if e.text.strip() == text
        ),
        what=f"sidebar option {text!r}",
    )
    label.click()


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_draws_its_features_offline(driver, app_url, atlas, name):
    _, store = atlas
    expected = expected_counts(store, name)
    assert sum(expected.values()) > 0
    open_app(driver, app_url, preset=name, lang="zh")
    drawn = wait_for_counts(driver, expected)
    with in_map(driver):
        legend = driver.execute_script("return document.querySelector('.pa-legend').innerText")
        control = driver.execute_script("return document.querySelector('.leaflet-control-layers').innerText")
        loaded = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    # Leaflet and the map CSS come from the installed package, served by the app itself
    for asset in ("vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "planatlas.css"):
        assert any(u.startswith(app_url) and u.endswith(asset) for u in loaded), (asset, loaded)
    preset = get_preset(name)
    for pl in preset.layers:
        assert pl.title_in("zh") in control
    schematic = any(p.schematic for p in prepare_preset_data(load_preset(store, preset)))
    assert ("示意" in legend) == schematic
    with in_map(driver):
        wait_map_still(driver)  # the resize-fit has settled: the screenshot shows the final view
    screenshot(driver, f"preset-{name}")
    assert drawn == expected


def test_toggle_a_layer_in_the_layer_control(driver, app_url, atlas):
    from selenium.webdriver.common.by import By

    _, store = atlas
    expected = expected_counts(store, "one-belt-four-zones")
    open_app(driver, app_url, preset="one-belt-four-zones", lang="zh")
    wait_for_counts(driver, expected)
    title = get_preset("one-belt-four-zones").layer("zones").title_in("zh")

    def toggle() -> None:
        with in_map(driver):
            label = next(
                e
                for e in driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")
                if e.text.strip().startswith(title)
            )
            label.find_element(By.TAG_NAME, "input").click()

    toggle()
    wait_for_counts(driver, {**expected, "zones": 0})
    # the permalink follows the layer control, without rebuilding the map
    wait_for(
        driver,
        lambda: "zones" not in parse_qs(urlparse(driver.current_url).query).get("layers", ["zones"])[0].split(","),
        what="the URL to drop the hidden layer",
    )
    with in_map(driver):
        driver.execute_script("window.__pa_marker = 1")
    with in_map(driver):
        hidden = driver.execute_script(
            "return document.querySelector('.pa-sec[data-layer=zones]').classList.contains('pa-hidden')"
        )
    assert hidden, "the legend section of a hidden layer should hide"
    screenshot(driver, "toggle-zones-off")
    toggle()
    wait_for_counts(driver, expected)
    wait_for(
        driver,
        lambda: "zones" in parse_qs(urlparse(driver.current_url).query)["layers"][0].split(","),
        what="the URL to list the layer again",
    )
    # The URL is set by the run the toggle caused; a remount would arrive with that run's end or a
    # follow-up run, so look once the app has finished running and stayed idle.
    wait_app_idle(driver)
    with in_map(driver):
        assert driver.execute_script("return window.__pa_marker") == 1, "the map was remounted"


def test_click_a_feature_shows_its_plan_details(driver, app_url, atlas):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    _, store = atlas
    expected = expected_counts(store, "buildings")
    open_app(driver, app_url, preset="buildings", lang="zh")
    wait_for_counts(driver, expected)
    with in_map(driver):
        wait_map_still(driver)
        driver.execute_script("window.__pa_marker = 1")
        points = driver.find_elements(By.CSS_SELECTOR, "path.pa-l-by_theme")
        target = max(points, key=lambda e: e.location["y"])  # a marker well clear of the top controls
        ActionChains(driver).move_to_element(target).click().perform()
        popup = wait_for(
            driver,
            lambda: driver.execute_script(
                "var h = document.querySelector('.leaflet-popup-content h4'); return h && h.innerText"
            ),
            what="the popup",
        )
    names = set(store.read("buildings")["name"])
    assert popup in names
    panel = wait_for(
        driver,
        lambda: (t := driver.find_element(By.CSS_SELECTOR, ".pa-details").text) and popup in t and t,
        what="the details panel",
    )
    assert "来源文件" in panel and "《南昌市西湖区产业高质量发展规划（2022—2025年）》" in panel
    assert "000_f23723ccf6c3a3ea.txt" not in panel and " ±" in panel  # the plan by its title; precision with ±metres
    with in_map(driver):
        assert driver.execute_script("return window.__pa_marker") == 1, "the click remounted the map"
    screenshot(driver, "details-panel")


def test_switch_language_and_permalink(driver, app_url, atlas):
    _, store = atlas
    expected = expected_counts(store, "metro")
    open_app(driver, app_url, preset="metro", lang="zh")
    wait_for_counts(driver, expected)
    click_sidebar_option(driver, "English")

    def english_map() -> bool:
        with in_map(driver):
            text = driver.execute_script("return document.querySelector('.leaflet-control-layers').innerText")
        return "Metro lines" in text and "Stations" in text

    wait_for(driver, english_map, what="English layer names")
    # any follow-up rerun (the map reporting its view once it stops moving) must keep the preset
    with in_map(driver):
        wait_map_still(driver)
    wait_app_idle(driver)
    assert english_map(), "the preset changed after switching language"
    wait_for(driver, lambda: "Basemap" in driver.find_element("css selector", "section[data-testid='stSidebar']").text)
    query = wait_for(driver, lambda: (q := parse_qs(urlparse(driver.current_url).query)).get("lang") == ["en"] and q)
    assert query["preset"] == ["metro"]
    assert set(query["layers"][0].split(",")) == {k for k, v in expected.items() if v}
    screenshot(driver, "metro-en")

    # The permalink restores preset, visible layers, language and view in a fresh session.
    driver.delete_all_cookies()
    open_app(driver, app_url, preset="one-belt-four-zones", lang="en", layers="zones,district", view="28.65,115.88,14")
    wanted = expected_counts(store, "one-belt-four-zones", visible={"zones", "district"})
    wait_for_counts(driver, wanted)
    with in_map(driver):
        zoom = wait_for(driver, lambda: driver.execute_script("return map_div.getZoom()"), what="zoom")
        text = driver.execute_script("return document.querySelector('.leaflet-control-layers').innerText")
    assert zoom == 14
    assert "Four zones (schematic)" in text


def test_jiuwang_phase_filter(driver, app_url, atlas):
    _, store = atlas
    open_app(driver, app_url, preset="jiuwang-roads", lang="zh", phase="2021")
    wait_for_counts(driver, expected_counts(store, "jiuwang-roads", params={"phase": 2021}))
    click_sidebar_option(driver, "2021—2023年")
    full = expected_counts(store, "jiuwang-roads", params={"phase": 2023})
    wait_for_counts(driver, full)
    assert full["roads"] == len(store.read("jiuwang_roads"))


def test_data_page_shows_catalogue_and_reconciliation(driver, app_url):
    from selenium.webdriver.common.by import By

    open_app(driver, app_url, page="data", lang="en")
    wait_for(
        driver,
        lambda: driver.find_elements(
            By.CSS_SELECTOR, "[data-testid='stDataFrame'] canvas, [data-testid='stDataFrame'] table"
        ),
        timeout=60,
        what="the catalogue table",
    )
    main = wait_for(
        driver,
        lambda: (
            (t := driver.find_element(By.CSS_SELECTOR, "section.main, [data-testid='stMain']").text)
            and "Jiuwang roads: plan versus map" in t
            and t
        ),
        timeout=60,
        what="the Data page",
    )
    assert "Layer catalogue" in main and "Attribute table" in main
    assert "Reconciliation unavailable" not in main
    wait_app_idle(driver)  # the run has finished: the screenshot shows the whole page
    screenshot(driver, "data-page")


def test_the_network_guard_sees_an_online_basemap(driver, app_url, atlas):
    """The checks above are not vacuous: an online basemap is seen leaving localhost, and fails."""
    _, store = atlas
    open_app(driver, app_url, preset="hq-by-street", lang="zh", basemap="osm")
    wait_for_counts(driver, expected_counts(store, "hq-by-street"))
    outside = wait_for(driver, lambda: external_requests(driver), what="tile requests")
    assert all("tile.openstreetmap.org" in url for url in outside)
    errors = console_errors(driver)
    assert errors and all("ERR_NAME_NOT_RESOLVED" in e["message"] for e in errors)
    driver.get("about:blank")
    external_requests(driver)
    console_errors(driver)


@pytest.mark.parametrize(("page", "heading"), [("query", "Query"), ("export", "Export")])
def test_query_and_export_pages_render(driver, app_url, page, heading):
    """The pages other modules provide open inside the shell without an error."""
    from selenium.webdriver.common.by import By

    open_app(driver, app_url, page=page, lang="en")
    wait_for(
        driver,
        lambda: driver.find_element(By.CSS_SELECTOR, "section[data-testid='stSidebar']").text,
        what="the sidebar",
    )
    radio = wait_for(
        driver,
        lambda: next(
            e
            for e in driver.find_elements(By.CSS_SELECTOR, "section[data-testid='stSidebar'] label")
            if e.text.strip() == heading
        ),
        what=f"the {heading} page entry",
    )
    assert radio.find_element(By.TAG_NAME, "input").is_selected()
    # let the page's run finish; the autouse check then looks for exceptions and errors
    wait_app_idle(driver)
    screenshot(driver, f"page-{page}")
