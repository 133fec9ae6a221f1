"""Headless Chromium for the browser tests: driver with the network closed, app server, waits, checks.

The browser resolves no host but localhost (``--host-resolver-rules``), so anything the pages
try to fetch from a CDN fails; the DevTools performance log then proves no request even tried
to leave localhost, and the console log proves nothing failed.

Tests never sleep a fixed time: every wait here polls a condition (an element, a count, the
Streamlit script state, the Leaflet map's last move) until it holds or a deadline passes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from _ci import skip_unless_available

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("PLANATLAS_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PLANATLAS_CHROMEDRIVER", "/usr/bin/chromedriver")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-error", "devtools", "file"}


def require_browser() -> None:
    """Skip when Chromium/chromedriver/selenium are missing; under CI=true fail instead."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (Path(p).exists() or shutil.which(p))]
    if importlib.util.find_spec("selenium") is None:
        missing.append("selenium (pip install -e '.[test]')")
    if missing:
        skip_unless_available(f"browser tests need {', '.join(missing)}")


def make_driver(*, width: int = 1440, height: int = 950) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-first-run",
        "--disable-features=Translate,OptimizationHints,MediaRouter",
        f"--window-size={width},{height}",
        "--lang=zh-CN",
        # Close the network: no host but localhost resolves.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    return driver


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def run_app(atlas_path: Path, log_path: Path, *, timeout: float = 90.0) -> Iterator[str]:
    """Start ``streamlit run app.py`` on a free localhost port; yield its URL.

    It runs in the repository with its ``.streamlit/config.toml`` (usage statistics off), as the
    README's command does: the tests check the shipped configuration, not test-only flags.
    """
    port = free_port()
    env = {
        **os.environ,
        "PLANATLAS_ATLAS_PATH": str(atlas_path),
        "PLANATLAS_DATABASE_URL": "",
        "PYTHONWARNINGS": "ignore",
    }
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--browser.serverAddress", "127.0.0.1",
    ]  # fmt: skip
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    msg = f"streamlit exited with {proc.returncode}: {log_path.read_text()[-2000:]}"
                    raise RuntimeError(msg)
                health = f"{url}/_stcore/health"  # a fixed http://127.0.0.1 URL, no user input
                with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=2) as r:  # noqa: S310 - fixed local URL
                    if r.status == 200:
                        break
                if time.monotonic() > deadline:
                    msg = f"streamlit did not answer within {timeout:.0f} s: {log_path.read_text()[-2000:]}"
                    raise RuntimeError(msg)
                # poll again shortly; return at once if the server exits (checked at the top)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def wait_for(
    driver: Any, predicate: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.25, what: str = ""
) -> Any:
    """Poll ``predicate`` until it returns something truthy, and return that.

    Exceptions while polling (an element not there yet, a stale element, a frame that is being
    replaced) count as "not yet". On timeout, fail naming ``what`` and the last value seen.
    """
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.wait import WebDriverWait

    seen: dict[str, Any] = {}

    def check(_driver: Any) -> Any:
        seen["last"] = predicate()
        return seen["last"]

    waiter = WebDriverWait(driver, timeout, poll_frequency=interval, ignored_exceptions=(Exception,))
    try:
        return waiter.until(check)
    except TimeoutException as exc:
        msg = f"timed out after {timeout:.0f} s waiting for {what or predicate} (last: {seen.get('last')!r})"
        raise AssertionError(msg) from exc


class _Quiet:
    """True once a condition has held without a break for ``quiet`` seconds (a poll that fails restarts it)."""

    def __init__(self, quiet: float) -> None:
        self.quiet = quiet
        self.since: float | None = None

    def __call__(self, holds: bool) -> bool:
        now = time.monotonic()
        if not holds:
            self.since = None
            return False
        if self.since is None:
            self.since = now
        return now - self.since >= self.quiet


def app_state(driver: Any) -> tuple[str, str]:
    """Streamlit's script run state and connection state, as its app root reports them.

    The script state is ``initial``, ``running``, ``rerunRequested`` … or ``notRunning`` when the
    last run has finished; call in the app's top document.
    """
    script = (
        "var a = document.querySelector('[data-testid=stApp]');"
        "return a ? [a.getAttribute('data-test-script-state'), a.getAttribute('data-test-connection-state')]"
        " : ['', ''];"
    )
    state, connection = driver.execute_script(script)
    return str(state), str(connection)


def wait_app_idle(driver: Any, *, quiet: float = 1.0, timeout: float = 60.0) -> None:
    """Wait until the app's script is not running, connected, and stays so for ``quiet`` seconds.

    A widget or the map component can ask for a follow-up run shortly after a run ends (the map
    reports its view 250 ms after it stops moving); ``quiet`` outlasts that, so a run that the
    previous one caused is seen before this returns.
    """
    settled = _Quiet(quiet)
    seen: dict[str, tuple[str, str]] = {}

    def idle() -> bool:
        seen["state"] = app_state(driver)
        return settled(seen["state"] == ("notRunning", "CONNECTED"))

    try:
        wait_for(driver, idle, timeout=timeout, interval=0.1, what="the app to finish running")
    except AssertionError as exc:
        msg = f"the app did not settle within {timeout:.0f} s (script and connection state: {seen.get('state')})"
        raise AssertionError(msg) from exc


def map_iframe(driver: Any, *, timeout: float = 60.0) -> Any:
    from selenium.webdriver.common.by import By

    return wait_for(
        driver,
        lambda: driver.find_elements(By.CSS_SELECTOR, "iframe[title='streamlit_folium.st_folium']")[0],
        timeout=timeout,
        what="the map iframe",
    )


@contextlib.contextmanager
def in_map(driver: Any) -> Iterator[None]:
    """Run the body inside the map's iframe."""
    driver.switch_to.frame(map_iframe(driver))
    try:
        yield
    finally:
        driver.switch_to.default_content()


def drawn_counts(driver: Any, layer_ids: list[str]) -> dict[str, int]:
    """Number of SVG features drawn per preset layer (call inside the map iframe)."""
    script = (
        "var ids = arguments[0], out = {};"
        "ids.forEach(function(id) { out[id] = document.querySelectorAll('path.pa-l-' + id).length; });"
        "return out;"
    )
    return dict(driver.execute_script(script, layer_ids))


def wait_for_counts(driver: Any, expected: dict[str, int], *, timeout: float = 60.0) -> dict[str, int]:
    """Wait until the map (iframe) draws exactly ``expected`` features per layer."""
    ids = list(expected)
    seen: dict[str, dict[str, int]] = {}

    def check() -> bool:
        with in_map(driver):
            seen["now"] = drawn_counts(driver, ids)
        return seen["now"] == expected

    try:
        wait_for(driver, check, timeout=timeout, what=f"features {expected}")
    except AssertionError as exc:
        msg = f"drawn {seen.get('now')} != expected {expected}"
        raise AssertionError(msg) from exc
    return seen["now"]


_MAP_LAST_MOVE = """
var m = window[arguments[0]];
if (!m || !m.getContainer) { return null; }
if (m.__paLastMove === undefined) {
    m.__paLastMove = performance.now();
    m.on('movestart move moveend zoomstart zoom zoomend viewreset resize', function() {
        m.__paLastMove = performance.now();
    });
}
var c = m.getContainer(), size = m.getSize();
var sized = size.x === c.clientWidth && size.y === c.clientHeight;
var animating = !!(m._animatingZoom || (m._panAnim && m._panAnim._inProgress));
return {since: performance.now() - m.__paLastMove, sized: sized, animating: animating};
"""


def wait_map_still(driver: Any, map_var: str = "map_div", *, quiet: float = 1.2, timeout: float = 15.0) -> None:
    """Wait until the Leaflet map (JS variable ``map_var``) has stopped moving after load.

    The map fits its extent again while its container settles; clicking a marker during that
    would hit whatever is under the old position. "Still" means: Leaflet's size matches its
    container (no resize pending), no pan or zoom animation runs, and no move, zoom, view reset or
    resize event has fired for ``quiet`` seconds (the map's own refits run within about a second).
    Call inside the document holding the map.
    """

    def still() -> bool:
        state = driver.execute_script(_MAP_LAST_MOVE, map_var)
        return bool(state and state["sized"] and not state["animating"] and state["since"] >= quiet * 1000)

    wait_for(driver, still, timeout=timeout, interval=0.1, what=f"the map {map_var} to stop moving")


def console_errors(driver: Any) -> list[dict[str, Any]]:
    """SEVERE console entries since the last call (drains the log)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def external_requests(driver: Any) -> list[str]:
    """URLs requested since the last call that leave localhost (drains the performance log)."""
    out = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") != "Network.requestWillBeSent":
            continue
        url = message["params"]["request"]["url"]
        parsed = urlparse(url)
        if parsed.scheme in LOCAL_SCHEMES:
            continue
        if parsed.hostname in LOCAL_HOSTS:
            continue
        out.append(url)
    return out


def screenshot(driver: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
