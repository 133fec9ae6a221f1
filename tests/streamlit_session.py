"""The app served on loopback, and browserless sessions speaking Streamlit's own websocket protocol.

A session here is what a browser tab is to the server, without the browser: it connects to
``/_stcore/stream``, asks for a script run with the page's query string (a ``BackMsg`` carrying
``rerun_script``, as the frontend sends on load) and reads the ``ForwardMsg``s until the run's
``script_finished``. Exception elements, error alerts, a compile error or a page-not-found among
them are the app's errors: the page view did not complete. The load test and ``bench/bench_load.py``
share this module, so the server's cost can be measured apart from any browser's.

Every wait is bounded: a server that does not answer in ``timeout`` seconds fails with its log tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"


# ---- the app server ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AppServer:
    """A running ``streamlit run app.py``: its base URL and process id (the root of its process tree)."""

    url: str
    pid: int

    @property
    def stream_url(self) -> str:
        """The websocket every session of the app talks through."""
        return self.url.replace("http://", "ws://", 1) + "/_stcore/stream"


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve_app(
    atlas_path: Path,
    log_path: Path,
    *,
    timeout: float = 90.0,
    env: Mapping[str, str] | None = None,
    options: Mapping[str, str] | None = None,
) -> Iterator[AppServer]:
    """Start ``streamlit run app.py`` on a free loopback port with ``atlas_path``; stop it on exit.

    It runs in the repository with its ``.streamlit/config.toml`` (usage statistics off), as the
    README's command does, so callers check the shipped configuration. ``env`` adds to the
    environment (e.g. ``PYTHONPATH`` for a work tree); ``options`` adds Streamlit options (the
    load bench shortens ``server.disconnectedSessionTTL`` to see closed sessions reaped).
    """
    port = free_port()
    environ = {
        **os.environ,
        "PLANATLAS_ATLAS_PATH": str(atlas_path),
        "PLANATLAS_DATABASE_URL": "",
        "PYTHONWARNINGS": "ignore",
        **(env or {}),  # last: a caller may point the app at PostGIS (PLANATLAS_DATABASE_URL)
    }
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--browser.serverAddress", "127.0.0.1",
        *(f"--{name}={value}" for name, value in (options or {}).items()),
    ]  # fmt: skip
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=environ, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(proc, url, log_path, timeout)
            yield AppServer(url, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    health = f"{url}/_stcore/health"  # a fixed http://127.0.0.1 URL, no user input
    while True:
        if proc.poll() is not None:
            msg = f"streamlit exited with {proc.returncode}: {log_path.read_text()[-2000:]}"
            raise RuntimeError(msg)
        with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=2) as r:  # noqa: S310
            if r.status == 200:
                return
        if time.monotonic() > deadline:
            msg = f"streamlit did not answer within {timeout:.0f} s: {log_path.read_text()[-2000:]}"
            raise RuntimeError(msg)
        # poll again shortly; return at once if the server exits (checked at the top)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.3)


# ---- one session -------------------------------------------------------------------------------
@dataclass
class PageView:
    """One script run as the client saw it: how long, how much, what it drew and the app's errors in it."""

    query: str
    seconds: float = 0.0
    messages: int = 0
    bytes_received: int = 0
    finished: bool = False
    errors: list[str] = field(default_factory=list)
    #: element types drawn (``markdown``, ``component_instance`` for the map …) and how many of each
    elements: Counter[str] = field(default_factory=Counter)
    #: each custom component drawn (e.g. ``streamlit_folium.st_folium``) -> the JSON arguments it was given
    components: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """The script finished and showed no exception, error alert or missing page."""
        return self.finished and not self.errors


class ProtocolSession:
    """One browserless session of the app (``async with``; closed by the client on exit).

    Parameters
    ----------
    server
        The app to connect to.
    timeout
        Seconds allowed for the connection and for each page view.
    """

    def __init__(self, server: AppServer, *, timeout: float = 60.0) -> None:
        self.server = server
        self.timeout = timeout
        self._ws: Any = None

    async def __aenter__(self) -> ProtocolSession:
        from websockets.asyncio.client import connect  # websockets comes with streamlit
        from websockets.typing import Subprotocol

        # "streamlit" is the subprotocol the frontend asks for; no Origin header, as a non-browser client
        self._ws = await connect(
            self.server.stream_url, subprotocols=[Subprotocol("streamlit")], max_size=None, open_timeout=self.timeout
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the websocket, as a browser tab does when it closes (the server then ends the session)."""
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def view(self, query: str = "") -> PageView:
        """Run the app's script with ``query`` as the page's query string; read until it finishes.

        Returns
        -------
        The page view; ``finished`` is false when the run did not finish within ``timeout``.
        """
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_script_hash = ""
        from websockets.exceptions import ConnectionClosed

        view = PageView(query)
        t0 = time.perf_counter()
        try:
            await self._ws.send(msg.SerializeToString())
            await asyncio.wait_for(self._read_run(view), self.timeout)
        except TimeoutError:
            view.errors.append(f"script not finished within {self.timeout:g} s")
        except ConnectionClosed as exc:
            view.errors.append(f"the server closed the session: {exc}")
        view.seconds = time.perf_counter() - t0
        return view

    async def _read_run(self, view: PageView) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        while True:
            data = await self._ws.recv()
            fmsg = ForwardMsg()
            fmsg.ParseFromString(data)
            view.messages += 1
            view.bytes_received += len(data)
            view.errors.extend(app_errors(fmsg))
            if fmsg.WhichOneof("type") == "delta" and fmsg.delta.WhichOneof("type") == "new_element":
                element = fmsg.delta.new_element
                view.elements[str(element.WhichOneof("type"))] += 1
                if element.WhichOneof("type") == "component_instance":
                    view.components[element.component_instance.component_name] = element.component_instance.json_args
            if fmsg.WhichOneof("type") == "script_finished":
                status = fmsg.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    view.elements.clear()  # the app asked for another run: the page is the next run's
                    view.components.clear()
                    continue
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    view.errors.append("script finished with a compile error")
                view.finished = True
                return


def app_errors(msg: Any) -> list[str]:
    """What in one ``ForwardMsg`` is the app failing: an exception, an error alert, a missing page."""
    from streamlit.proto.Alert_pb2 import Alert

    kind = msg.WhichOneof("type")
    if kind == "page_not_found":
        return [f"page not found: {msg.page_not_found.page_name!r}"]
    if kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
        exc = msg.session_event.script_compilation_exception
        return [f"compile error {exc.type}: {exc.message}"]
    if kind != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return []
    element = msg.delta.new_element
    which = element.WhichOneof("type")
    if which == "exception" and not element.exception.is_warning:
        return [f"exception {element.exception.type}: {element.exception.message}"]
    if which == "alert" and element.alert.format == Alert.ERROR:
        return [f"error shown: {element.alert.body}"]
    return []


async def view_pages(server: AppServer, queries: list[str], *, timeout: float = 60.0) -> list[PageView]:
    """Open one session per query at once, view each page, keep all open until all are done, close them."""
    async with contextlib.AsyncExitStack() as sessions:

        async def one(query: str) -> PageView:
            session = await sessions.enter_async_context(ProtocolSession(server, timeout=timeout))
            return await session.view(query)

        return list(await asyncio.gather(*(one(q) for q in queries)))
