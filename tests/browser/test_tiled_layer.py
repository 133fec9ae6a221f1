"""A large layer in real headless Chromium: drawn from the app's vector tiles, offline, clickable."""

from __future__ import annotations

import pytest
from browser_support import (
    console_errors,
    external_requests,
    make_driver,
    require_browser,
    run_app,
    screenshot,
    wait_for,
)
from selenium.webdriver.common.by import By

from planatlas.store.gpkg import GeoPackageStore
from test_postgis import generated_atlas

pytestmark = pytest.mark.browser

N = 12_000  # above tiled_above: the buildings come from tiles
_DRAWN = (
    "var l = window.paTileLayer; if (!l || l._loading) { return 0; } var n = 0;"
    " for (var k in l._vectorTiles) { n += Object.keys(l._vectorTiles[k]._features || {}).length; } return n;"
)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory):
    require_browser()
    layers, meta = generated_atlas(seed=11, n=N)
    for name, frame in layers.items():
        meta["layers"][name]["count"] = len(frame)
        meta["layers"][name]["bbox"] = [float(v) for v in frame.total_bounds]
    path = tmp_path_factory.mktemp("tiled") / "atlas.gpkg"
    GeoPackageStore(path).write(layers, meta)
    with run_app(path, tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


def test_a_large_layer_draws_from_tiles_offline_and_a_click_shows_its_attributes(app_url) -> None:
    driver = make_driver()
    try:
        console_errors(driver)
        external_requests(driver)
        driver.get(app_url + "/?page=atlas&layer=buildings&lang=en")
        frame = wait_for(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "iframe")[0], timeout=90, what="map")
        driver.switch_to.frame(frame)
        wait_for(driver, lambda: driver.execute_script(_DRAWN) > 0, timeout=90, what="tiles drawn")
        # No GeoJSON of the layer in the page: features come only from tiles.
        assert driver.execute_script("return document.querySelectorAll('path.leaflet-interactive').length") == 0
        assert "12,000" in driver.find_element(By.CSS_SELECTOR, ".pa-title").text
        # Zoom to the deepest tiles; a feature drawn there, clicked, shows its attributes looked up by key.
        driver.execute_script("window.paTileLayer._map.setZoom(16, {animate: false});")
        wait_for(driver, lambda: driver.execute_script(_DRAWN) > 0, timeout=60, what="deep tiles drawn")
        target = driver.execute_script(
            "var l = window.paTileLayer;"
            "for (var k in l._vectorTiles) { for (var id in l._vectorTiles[k]._features) { return id; } }"
            "return null;"
        )
        assert target
        # The click as VectorGrid reports it (canvas hit-testing is VectorGrid's own, not tested here).
        driver.execute_script(
            "var l = window.paTileLayer, m = l._map, id = arguments[0];"
            "l.fire('click', {layer: {properties: {building_id: id}}, latlng: m.getCenter()});",
            target,
        )
        popup = wait_for(driver, lambda: driver.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content .pa-popup")[0])
        assert target in popup.text and "floors" in popup.text
        driver.switch_to.default_content()
        screenshot(driver, "tiled-layer")
        assert external_requests(driver) == []
        assert console_errors(driver) == []
    finally:
        driver.quit()
