"""The Import page in headless Chromium: wrong editor password refused, upload, a validation error
shown by feature and field, preview, add, and the new layer drawn at ``/?page=atlas&layer=NAME``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from browser_support import (
    console_errors,
    external_requests,
    make_driver,
    require_browser,
    screenshot,
    wait_app_idle,
    wait_for,
    wait_for_counts,
)

from streamlit_session import serve_app

pytestmark = pytest.mark.browser

PASSWORD = "editor-pass-2026"  # noqa: S105 - a throwaway test password
N = 60


def footprints(path: Path, *, duplicate: bool = False) -> Path:
    rng = np.random.default_rng(3)
    xy = rng.uniform(-1200, 1200, (N, 2)) + np.array([390_000.0, 3_169_900.0])  # EPSG:4548, inside Xihu
    ids = [f"B{i:03d}" for i in range(N)]
    if duplicate:
        ids[7] = "B001"
    gpd.GeoDataFrame(
        {"编号": ids, "用途": rng.choice(["住宅", "商业"], N)},
        geometry=[shapely.box(x - 15, y - 15, x + 15, y + 15) for x, y in xy],
        crs="EPSG:4548",
    ).to_file(path)
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from planatlas.build import ensure_atlas
    from planatlas.imports.editor import set_editor_password
    from planatlas.settings import get_settings

    require_browser()
    root = tmp_path_factory.mktemp("import_page")
    settings = get_settings(
        atlas_path=root / "atlas.gpkg",
        database_url=None,
        user_geodata_dir=root / "user_geodata",
        config_dir=root / "config",
    )
    ensure_atlas(settings)
    set_editor_password(settings.config_dir, PASSWORD)
    env = {
        "PLANATLAS_USER_GEODATA_DIR": str(settings.user_geodata_dir),
        "PLANATLAS_CONFIG_DIR": str(settings.config_dir),
    }
    with serve_app(settings.atlas_path, root / "streamlit.log", env=env) as server:
        driver = make_driver()
        try:
            yield {"url": server.url, "driver": driver, "settings": settings, "root": root}
        finally:
            driver.quit()


def _input(driver: Any, label: str) -> Any:
    from selenium.webdriver.common.by import By

    return wait_for(
        driver,
        lambda: next(e for e in driver.find_elements(By.TAG_NAME, "input") if e.get_attribute("aria-label") == label),
        what=f"input {label!r}",
    )


def _button(driver: Any, text: str) -> Any:
    from selenium.webdriver.common.by import By

    return wait_for(
        driver,
        lambda: next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == text),
        what=f"button {text!r}",
    )


def _page_text(driver: Any) -> str:
    return str(driver.execute_script("return document.querySelector('[data-testid=stApp]').innerText"))


def _wait_text(driver: Any, text: str, *, timeout: float = 60.0) -> None:
    wait_for(driver, lambda: text in _page_text(driver), timeout=timeout, what=f"the text {text!r}")


def _atlas_sha(setup: dict[str, Any]) -> str:
    return hashlib.sha256(Path(setup["settings"].atlas_path).read_bytes()).hexdigest()


def _type(driver: Any, label: str, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    field = _input(driver, label)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(text, Keys.TAB)
    wait_app_idle(driver)


def test_import_page_end_to_end(setup: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    driver, root = setup["driver"], setup["root"]
    before = _atlas_sha(setup)
    driver.get(f"{setup['url']}/?page=imports&lang=en")
    wait_app_idle(driver)

    # a wrong password is refused and nothing is written
    _input(driver, "Editor password").send_keys("not-the-password")
    _button(driver, "Unlock").click()
    _wait_text(driver, "Wrong password; nothing was changed.")
    assert _atlas_sha(setup) == before
    screenshot(driver, "import-wrong-password")

    from selenium.webdriver.common.keys import Keys

    field = _input(driver, "Editor password")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(PASSWORD)
    _button(driver, "Unlock").click()
    _wait_text(driver, "Unlocked: you may change the atlas.")
    wait_app_idle(driver)
    upload = wait_for(driver, lambda: driver.find_element(By.CSS_SELECTOR, "input[type='file']"), what="the uploader")

    # a file with a duplicate key: the problem is listed by feature and field, nothing written
    upload.send_keys(str(footprints(root / "footprints.gpkg", duplicate=True)))
    wait_app_idle(driver)
    _type(driver, "Layer name (lower-case letters, digits, '_')", "footprints")
    _type(driver, "Key column (unique per feature; when replacing, the name column)", "编号")
    _button(driver, "Check and preview").click()
    _wait_text(driver, "problem(s) found; nothing was written")
    wait_for(
        driver,
        lambda: (
            "duplicate key"
            in driver.execute_script(
                "return Array.from(document.querySelectorAll('[data-testid=stDataFrame]')).map(e => e.innerText).join(' ')"
            )
            or "duplicate key" in _page_text(driver)
        ),
        what="the duplicate-key problem in the table",
    )
    driver.execute_script("document.querySelector('[data-testid=stTable]').scrollIntoView({block: 'center'})")
    screenshot(driver, "import-validation-error")
    assert _atlas_sha(setup) == before

    # the good file: checked, previewed, written
    driver.find_element(By.CSS_SELECTOR, "[data-testid='stFileChipDeleteBtn'] button").click()
    wait_app_idle(driver)
    upload = wait_for(driver, lambda: driver.find_element(By.CSS_SELECTOR, "input[type='file']"), what="the uploader")
    upload.send_keys(str(footprints(root / "footprints_checked.gpkg")))
    wait_for(
        driver,
        lambda: (
            _input(driver, "Layer name (lower-case letters, digits, '_')").get_attribute("value")
            == "footprints_checked"
        ),
        what="the second file's name as the suggested layer name",
    )
    wait_app_idle(driver)
    _type(driver, "Layer name (lower-case letters, digits, '_')", "footprints")
    _type(driver, "Key column (unique per feature; when replacing, the name column)", "编号")
    _button(driver, "Check and preview").click()
    _wait_text(driver, f"Checked: {N} features")
    wait_for(
        driver,
        lambda: driver.find_elements(By.CSS_SELECTOR, "iframe[title='streamlit_folium.st_folium']"),
        what="the preview map",
    )
    driver.execute_script(
        "document.querySelector(\"iframe[title='streamlit_folium.st_folium']\").scrollIntoView({block: 'center'})"
    )
    screenshot(driver, "import-preview")
    _button(driver, "Write to the atlas").click()
    _wait_text(driver, "Layer footprints written.", timeout=120)
    screenshot(driver, "import-written")
    assert _atlas_sha(setup) != before

    # the layer opens on its own map, over the district outlines
    driver.get(f"{setup['url']}/?page=atlas&layer=footprints&lang=en")
    wait_for_counts(driver, {"footprints": N})
    wait_app_idle(driver)
    screenshot(driver, "import-layer-map")
    assert not console_errors(driver)
    assert not external_requests(driver)
