"""Load benchmark of the app server (not part of the test run): N concurrent sessions, what each costs.

The bench starts ``streamlit run app.py`` on a free loopback port with a temporary atlas and the
environment ``planatlas app`` gives it (``SERVER_ENV``; yours wins, e.g. ``MALLOC_ARENA_MAX=16``
for glibc's default), and stops it at the end. Sessions are driven without browsers, over
Streamlit's own websocket protocol (``tests/streamlit_session.py``), so the figures are the
server's alone:

- server CPU seconds per page view: ``cpu_times`` of the server's process tree before and after a
  round, divided by the page views completed in it (a page view is one script run);
- time to a complete page (connect → script finished) per session: median, p90, max;
- server RSS before a round, with all its sessions open (growth per active session), right after
  the client closed them, and once they are reaped: the server keeps a closed session for
  ``server.disconnectedSessionTTL`` (120 s in Streamlit, ``--session-ttl`` here) and drops expired
  ones when a session next connects, so the bench waits out the TTL and views one page;
- errors: a run not finished in ``--timeout`` seconds, an exception or an error alert in the page.

The first (cold) view of each preset runs alone before the rounds and is reported apart; the rounds
measure a cached atlas. ``--reruns R`` runs each session's page R more times (a browser's page load
runs the script 3-4 times: the load, streamlit-folium's first value, the map's view reports).
``--browsers K`` adds K headless Chromium sessions at once, a first and a return visit: time to a
drawn map (as ``bench_app.py`` measures it), script runs per page view, the server's CPU per page
view until it is idle again, and the browsers' CPU apart from the server's. Every loop is bounded
in count and time; results go to ``bench/results/bench_load.json``.

Run: ``python bench/bench_load.py [--sessions 1,10,20] [--rounds 2] [--browsers 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
from websockets.exceptions import WebSocketException

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "browser"), str(REPO / "tests"), str(REPO / "bench")]

from streamlit_session import AppServer, PageView, ProtocolSession, serve_app  # noqa: E402

MB = 1024 * 1024
#: RSS within this of its value before a round counts as back down after the sessions close.
RSS_BACK = 5 * MB


# ---- the server's process tree -----------------------------------------------------------------
def tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def rss(pid: int) -> int:
    return sum(p.memory_info().rss for p in tree(pid))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def wait_rss_back(pid: int, target: int, settle: float) -> tuple[int, float]:
    """Poll the server's RSS until it is at most ``target`` or ``settle`` seconds pass: (rss, seconds)."""
    t0 = time.monotonic()
    now = rss(pid)
    while now > target and time.monotonic() - t0 < settle:
        time.sleep(0.5)  # a bench polling the OS, not a test: a short pause between samples
        now = rss(pid)
    return now, time.monotonic() - t0


# ---- one round of protocol sessions ------------------------------------------------------------
async def _round(server: AppServer, queries: list[str], *, timeout: float, reruns: int) -> dict[str, Any]:
    """Open every session at once, view its page (+ ``reruns`` reruns), sample RSS with all open, close."""
    viewed = [0]
    all_viewed, sampled = asyncio.Event(), asyncio.Event()

    def done() -> None:
        viewed[0] += 1
        if viewed[0] == len(queries):
            all_viewed.set()

    async def one(query: str) -> list[PageView]:
        t0 = time.perf_counter()
        views: list[PageView] = []
        counted = False
        try:
            async with ProtocolSession(server, timeout=timeout) as session:
                connect = time.perf_counter() - t0
                first = await session.view(query)
                first.seconds += connect  # time to a complete page counts the connection
                views.append(first)
                views.extend([await session.view(query) for _ in range(reruns)])
                counted = True
                done()
                await sampled.wait()  # stay open until RSS is sampled (set after a bounded wait below)
        except (OSError, TimeoutError, WebSocketException) as exc:
            views.append(PageView(query, seconds=time.perf_counter() - t0, errors=[f"{type(exc).__name__}: {exc}"]))
            if not counted:
                done()
        return views

    tasks = [asyncio.create_task(one(q)) for q in queries]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_viewed.wait(), timeout * (reruns + 2))
    rss_open = rss(server.pid)
    sampled.set()
    per_session = await asyncio.gather(*tasks)
    return {
        "views": [v for vs in per_session for v in vs],
        "rss_open": rss_open,
        "first": [vs[0] for vs in per_session],
    }


def reap_closed_sessions(server: AppServer, ttl: float, timeout: float) -> None:
    """Wait out the server's ``disconnectedSessionTTL``, then view one page: a new session reaps expired ones.

    Streamlit keeps a closed session for reconnection until its TTL passes, and removes expired
    ones only when its session storage is next written (a session connecting or closing).
    """
    time.sleep(ttl + 1)  # the bench waits out the server's TTL: no condition to poll from outside

    async def probe() -> None:
        async with ProtocolSession(server, timeout=timeout) as session:
            await session.view("")

    asyncio.run(probe())


def protocol_round(server: AppServer, queries: list[str], args: argparse.Namespace) -> dict[str, Any]:
    procs = tree(server.pid)
    rss0, cpu0, t0 = rss(server.pid), cpu_seconds(procs), time.perf_counter()
    out = asyncio.run(_round(server, queries, timeout=args.timeout, reruns=args.reruns))
    wall, cpu = time.perf_counter() - t0, cpu_seconds(procs) - cpu0
    rss_closed = rss(server.pid)
    reap_closed_sessions(server, args.session_ttl, args.timeout)
    rss_after, settled_s = wait_rss_back(server.pid, rss0 + RSS_BACK, args.settle)
    views: list[PageView] = out["views"]
    complete = [v for v in views if v.complete]
    firsts = [v.seconds for v in out["first"] if v.complete] or [float("nan")]
    errors = sorted({e for v in views for e in v.errors})
    return {
        "sessions": len(queries),
        "page_views": len(views),
        "complete": len(complete),
        "errors": len(views) - len(complete),
        "error_kinds": errors[:10],
        "server_cpu_s": cpu,
        "cpu_per_view_s": cpu / max(1, len(complete)),
        "server_cores": cpu / wall,
        "page_s_median": statistics.median(firsts),
        "page_s_p90": percentile(firsts, 0.9),
        "page_s_max": max(firsts),
        "rss_before_mb": rss0 / MB,
        "rss_open_mb": out["rss_open"] / MB,
        "rss_per_session_mb": (out["rss_open"] - rss0) / MB / len(queries),
        "rss_closed_mb": rss_closed / MB,
        "rss_reaped_mb": rss_after / MB,
        "settle_s": settled_s,
        "kb_per_view": statistics.mean(v.bytes_received for v in complete) / 1024 if complete else 0.0,
    }


# ---- browsers ----------------------------------------------------------------------------------
def browser_cpu(server: AppServer) -> dict[int, float]:
    """CPU seconds of every process this bench started except the server's (chromedriver, Chromium)."""
    server_pids = {p.pid for p in tree(server.pid)}
    out = {}
    for p in psutil.Process().children(recursive=True):
        if p.pid not in server_pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                t = p.cpu_times()
                out[p.pid] = t.user + t.system
    return out


def wait_server_idle(procs: list[psutil.Process], *, quiet: float = 1.0, limit: float = 20.0) -> None:
    """Wait until the server used under 5 % of a core for ``quiet`` seconds (the map's follow-up runs are done)."""
    t0 = time.monotonic()
    last = cpu_seconds(procs)
    while time.monotonic() - t0 < limit:
        time.sleep(quiet)  # sampling window of a CPU meter, not a wait for a condition we could poll
        now = cpu_seconds(procs)
        if now - last < 0.05 * quiet:
            return
        last = now


def script_runs(driver: Any) -> int:
    """Script runs the page asked for: ``rerun_script`` BackMsgs in the browser's DevTools log."""
    import base64

    from streamlit.proto.BackMsg_pb2 import BackMsg

    runs = 0
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.webSocketFrameSent":
            back = BackMsg()
            with contextlib.suppress(Exception):  # a frame that is not a BackMsg is not a run
                back.ParseFromString(base64.b64decode(message["params"]["response"]["payloadData"]))
            runs += back.WhichOneof("type") == "rerun_script"
    return runs


def browser_round(server: AppServer, store: Any, presets: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    """K headless Chromium sessions at once, each timing navigation → drawn map; CPU split server/browsers.

    Two passes with the same browsers: a first visit (empty browser cache: every script and style
    sheet fetched) and a return visit (Streamlit's hashed assets cached). The server's CPU is
    counted until it is idle again, so the runs the map causes after it is drawn (streamlit-folium's
    first value, view reports) are part of the page view.
    """
    from browser_support import make_driver

    drivers = [make_driver() for _ in presets]
    try:
        return [_browser_pass(server, store, presets, drivers, visit, args) for visit in ("first", "return")]
    finally:
        for d in drivers:
            with contextlib.suppress(Exception):
                d.quit()


def _browser_pass(
    server: AppServer, store: Any, presets: list[str], drivers: list[Any], visit: str, args: argparse.Namespace
) -> dict[str, Any]:
    from bench_app import expected, time_to_drawn

    for d in drivers:
        d.get_log("performance")  # start each DevTools log empty
    server_procs = tree(server.pid)
    wants = {name: expected(store, name) for name in set(presets)}
    times: list[float | None] = [None] * len(presets)
    failures: list[str] = []

    def drive(i: int) -> None:
        url = f"{server.url}/?preset={presets[i]}"
        try:
            times[i] = time_to_drawn(drivers[i], url, wants[presets[i]], args.timeout)
        except Exception as exc:  # a bench reports every failure and goes on
            failures.append(f"{presets[i]}: {type(exc).__name__}: {str(exc)[:200]}")

    browser0, server0, t0 = browser_cpu(server), cpu_seconds(server_procs), time.perf_counter()
    threads = [threading.Thread(target=drive, args=(i,)) for i in range(len(presets))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(args.timeout + 30)
    wait_server_idle(server_procs)
    wall = time.perf_counter() - t0
    server_cpu = cpu_seconds(server_procs) - server0
    # Chromium processes that exited during the pass are missing: the browsers' figure is a floor
    browser_cpu_s = sum(cpu - browser0.get(pid, 0.0) for pid, cpu in browser_cpu(server).items())
    drawn = [t for t in times if t is not None]
    return {
        "visit": visit,
        "browsers": len(presets),
        "drawn": len(drawn),
        "errors": len(presets) - len(drawn),
        "error_kinds": failures[:10],
        "drawn_s_median": statistics.median(drawn) if drawn else float("nan"),
        "drawn_s_p90": percentile(drawn, 0.9) if drawn else float("nan"),
        "drawn_s_max": max(drawn) if drawn else float("nan"),
        "script_runs_per_view": statistics.mean(script_runs(d) for d in drivers),
        "server_cpu_per_view_s": server_cpu / max(1, len(drawn)),
        "server_cores": server_cpu / wall,
        "browser_cores": browser_cpu_s / wall,
    }


# ---- report ------------------------------------------------------------------------------------
ROW = (
    "{sessions:>8} {page_views:>5} {errors:>6} {cpu_per_view_s:>9.3f} {server_cores:>6.2f} {page_s_median:>7.2f} "
    "{page_s_p90:>6.2f} {page_s_max:>6.2f} {rss_before_mb:>7.0f} {rss_per_session_mb:>8.2f} {rss_closed_mb:>7.0f} {rss_reaped_mb:>7.0f}"
)
HEAD = (
    f"{'sessions':>8} {'views':>5} {'errors':>6} {'cpu/view':>9} {'cores':>6} {'median':>7} {'p90':>6} {'max':>6} "
    f"{'rss MB':>7} {'MB/sess':>8} {'closed':>7} {'reaped':>7}"
)

BROWSER_HEAD = (
    f"{'visit':>6} {'browsers':>8} {'errors':>6} {'median':>7} {'p90':>6} {'max':>6} {'runs/view':>9} "
    f"{'srv cpu/view':>12} {'srv cores':>9} {'browser cores':>13}"
)
BROWSER_ROW = (
    "{visit:>6} {browsers:>8} {errors:>6} {drawn_s_median:>7.2f} {drawn_s_p90:>6.2f} {drawn_s_max:>6.2f} "
    "{script_runs_per_view:>9.1f} {server_cpu_per_view_s:>12.3f} {server_cores:>9.2f} {browser_cores:>13.2f}"
)


def cold_views(server: AppServer, presets: list[str], timeout: float) -> dict[str, float]:
    """The first view of each preset, alone: builds the atlas and fills the caches (reported apart)."""

    async def run() -> dict[str, float]:
        out = {}
        for name in presets:
            async with ProtocolSession(server, timeout=timeout) as session:
                view = await session.view(f"preset={name}")
            if not view.complete:
                raise RuntimeError(f"cold view of {name} failed: {view.errors}")
            out[name] = view.seconds
        return out

    return asyncio.run(run())


@contextlib.contextmanager
def app(args: argparse.Namespace, tmp: Path) -> Iterator[AppServer]:
    """The app as ``planatlas app`` serves it (its ``SERVER_ENV``; the caller's environment wins)."""
    from planatlas.cli.serve import SERVER_ENV

    env = {
        **SERVER_ENV,
        **{k: os.environ[k] for k in SERVER_ENV if k in os.environ},
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])),
    }
    options = {"server.disconnectedSessionTTL": str(round(args.session_ttl))}
    with serve_app(tmp / "atlas.gpkg", tmp / "streamlit.log", env=env, options=options, timeout=args.timeout) as server:
        yield server


def main(argv: list[str] | None = None, *, report: Callable[[str], None] = print) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,10,20", help="concurrent sessions per round, comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per session count (max 10)")
    parser.add_argument("--reruns", type=int, default=0, help="extra runs of the page per session (max 10)")
    parser.add_argument("--preset", action="append", help="preset(s) to view (default: all, in turn)")
    parser.add_argument("--timeout", type=float, default=85.0, help="seconds allowed per page view")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds to wait for RSS after reaping")
    parser.add_argument(
        "--session-ttl", type=float, default=5.0, help="server.disconnectedSessionTTL for the run (Streamlit: 120)"
    )
    parser.add_argument("--browsers", type=int, default=0, help="K headless Chromium sessions at once (0: skip)")
    args = parser.parse_args(argv)
    counts = [min(100, max(1, int(n))) for n in args.sessions.split(",")]
    args.rounds, args.reruns = min(10, max(1, args.rounds)), min(10, max(0, args.reruns))

    from planatlas.maps import PRESETS

    presets = args.preset or list(PRESETS)
    results: dict[str, Any] = {"cpu_count": psutil.cpu_count(), "rounds": []}
    with tempfile.TemporaryDirectory() as tmpdir, app(args, Path(tmpdir)) as server:
        results["rss_start_mb"] = rss(server.pid) / MB
        results["cold_s"] = cold_views(server, presets, args.timeout)
        report(f"cold first view per preset (s): {json.dumps(results['cold_s'])}")
        report(HEAD)
        for n in counts:
            for _ in range(args.rounds):
                queries = [f"preset={presets[i % len(presets)]}" for i in range(n)]
                row = protocol_round(server, queries, args)
                results["rounds"].append(row)
                report(ROW.format(**row) + (f"  {row['error_kinds']}" if row["errors"] else ""))
        if args.browsers:
            from planatlas.store.gpkg import GeoPackageStore

            store = GeoPackageStore(Path(tmpdir) / "atlas.gpkg")
            rows = browser_round(server, store, [presets[i % len(presets)] for i in range(args.browsers)], args)
            results["browsers"] = rows
            report(BROWSER_HEAD)
            for row in rows:
                report(BROWSER_ROW.format(**row) + (f"  {row['error_kinds']}" if row["errors"] else ""))
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_load.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
