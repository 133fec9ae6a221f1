"""A map page on its own (file://, no server) in headless Chromium: hostile attribute values stay
text, and the page loads nothing from the network."""

from __future__ import annotations

import geopandas as gpd
import pytest
from browser_support import (
    console_errors,
    external_requests,
    make_driver,
    require_browser,
    screenshot,
    wait_for,
    wait_map_still,
)
from shapely.geometry import Point, box

from planatlas.maps import get_preset
from planatlas.maps.load import PresetData
from planatlas.render.interactive import build_map

pytestmark = pytest.mark.browser

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
PROV = {"precision": "sourced", "source_file": "000_f23723ccf6c3a3ea.txt", "source_lines": "272"}


@pytest.fixture(scope="module")
def driver():
    require_browser()
    drv = make_driver(width=1000, height=800)
    yield drv
    drv.quit()


def test_hostile_attribute_is_shown_as_text_and_never_runs(driver, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    streets = gpd.GeoDataFrame(
        [{"street_id": "s", "name": "南浦街道", "zones": HOSTILE, "key_industries": "商贸", **PROV}],
        geometry=[box(115.88, 28.64, 115.90, 28.66)],
        crs=4490,
    )
    zones = gpd.GeoDataFrame(
        [{"zone_id": "digital_economy", "name": "数字经济发展引领区", "kind": "zone", **PROV}],
        geometry=[box(115.88, 28.64, 115.90, 28.66)],
        crs=4490,
    )
    clusters = gpd.GeoDataFrame(
        [{"cluster_id": "c", "name": HOSTILE, "cluster_type": "商业综合体", "location_basis": HOSTILE, **PROV}],
        geometry=[Point(115.89, 28.65)],
        crs=4490,
    )
    districts = gpd.GeoDataFrame(
        [{"district_id": "xihu", "name": "西湖区", **PROV}], geometry=[box(115.87, 28.63, 115.91, 28.67)], crs=4490
    )
    frames = {"streets": streets, "zones": zones, "clusters": clusters, "districts": districts}
    page = tmp_path / "map.html"
    page.write_text(
        build_map(
            PresetData(
                preset=get_preset("one-belt-four-zones"),
                frames=frames,
                keys={"clusters": "cluster_id"},
                field_titles={},
            )
        )
        .get_root()
        .render(),
        encoding="utf-8",
    )
    driver.get(page.as_uri())
    wait_for(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "path.pa-l-clusters"), what="the marker")
    wait_map_still(driver, "map_pa0000")  # element ids are stable: the map is map_pa0000
    marker = driver.find_elements(By.CSS_SELECTOR, "path.pa-l-clusters")[0]
    ActionChains(driver).move_to_element(marker).pause(0.3).click().perform()
    popup = wait_for(
        driver,
        lambda: driver.execute_script(
            "var p = document.querySelector('.leaflet-popup-content'); return p && p.innerText"
        ),
        what="the popup",
    )
    assert "<script>window.__pwned = 1</script>" in popup  # shown literally, as text
    assert driver.execute_script("return window.__pwned === undefined")
    assert (
        driver.execute_script(
            "return document.querySelectorAll('.leaflet-popup-content img, .leaflet-tooltip img').length"
        )
        == 0
    )
    tooltip = driver.execute_script("var t = document.querySelector('.leaflet-tooltip'); return t && t.innerText")
    assert tooltip is None or "<img" in tooltip or "南浦" in tooltip
    screenshot(driver, "hostile-popup")
    assert external_requests(driver) == []
    assert console_errors(driver) == []
