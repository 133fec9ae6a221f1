"""A small HTTP server in the app process: vector tiles and feature details of the atlas, on localhost.

Routes (GET only):

- ``/tiles/<version>/<layer>/<z>/<x>/<y>.pbf``: one MVT tile (``Content-Encoding: gzip`` when stored
  so). ``<version>`` is a tag of the atlas version: a URL never changes content, so tiles are
  cacheable by URL (browser, reverse proxy, CDN in front of N app processes); an old tag gets 404.
- ``/feature/<layer>/<key>``: the feature's attributes as JSON (the store binds the key value), for
  the popup a click opens. The page inserts them as text, never as HTML.

Layer names must be catalogue layers of the atlas; z/x/y must be integers of a valid tile.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pandas as pd

from planatlas.errors import PlanAtlasError
from planatlas.store.base import LayerStore
from planatlas.store.gpkg import GeoPackageStore
from planatlas.tiles.source import TileSource, tile_source

__all__ = ["TileServer", "version_tag"]

_TILE = re.compile(r"^/tiles/([0-9a-f]{12})/([A-Za-z0-9_]{1,63})/([0-9]{1,2})/([0-9]{1,8})/([0-9]{1,8})\.pbf$")
_FEATURE = re.compile(r"^/feature/([A-Za-z0-9_]{1,63})/([^/]{1,200})$")
#: Tiles are immutable under their versioned URL.
_TILE_CACHE = "public, max-age=31536000, immutable"


def version_tag(store: LayerStore) -> str:
    """A short tag of the atlas version (location + build time): part of every tile URL."""
    return hashlib.sha256(store.cache_key().encode("utf-8")).hexdigest()[:12]


def _plain(value: Any) -> str | None:  # noqa: ANN401 - any cell of a frame
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return str(value)


class TileServer:
    """Serve ``store``'s tiles and feature details on ``host:port`` from a daemon thread (port 0: a free one)."""

    def __init__(self, store: LayerStore, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.store = store
        self.source: TileSource = tile_source(store)
        self._sources: dict[str, TileSource] = {version_tag(store): self.source}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ANN401 - stdlib signature
                """Quiet: one line per tile would flood the app's log."""

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="planatlas-tiles", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> TileServer:
        self.thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        for source in self._sources.values():
            source.close()

    def current_source(self) -> tuple[str, TileSource]:
        """The tag and tile source of the atlas as it is now (a rebuild gets a new tag)."""
        tag = version_tag(self.store)
        source = self._sources.get(tag)
        if source is None:
            source = self._sources[tag] = tile_source(self.store)
        return tag, source

    def tile_url(self, layer: str) -> str:
        """The URL template of ``layer``'s tiles for Leaflet (``{z}/{x}/{y}``)."""
        tag, _ = self.current_source()
        return f"{self.url}/tiles/{tag}/{layer}/{{z}}/{{x}}/{{y}}.pbf"

    def feature_url(self, layer: str) -> str:
        """The URL prefix of ``layer``'s feature details (append the URL-encoded key)."""
        return f"{self.url}/feature/{layer}/"

    # -- requests --------------------------------------------------------------------------------
    def handle(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.split("?", 1)[0]
        try:
            if m := _TILE.match(path):
                self._tile(req, m.group(1), m.group(2), int(m.group(3)), int(m.group(4)), int(m.group(5)))
            elif m := _FEATURE.match(path):
                self._feature(req, m.group(1), unquote(m.group(2)))
            else:
                self._send(req, 404, b"not found", "text/plain")
        except (PlanAtlasError, ValueError, LookupError) as exc:
            self._send(req, 404, str(exc).encode("utf-8"), "text/plain; charset=utf-8")

    def _known(self, layer: str) -> None:
        if layer not in self.store.layers():
            msg = f"unknown layer {layer!r}"
            raise LookupError(msg)

    def _tile(self, req: BaseHTTPRequestHandler, tag: str, layer: str, z: int, x: int, y: int) -> None:
        current, source = self.current_source()
        self._known(layer)
        if tag != current or not (0 <= x < 2**z and 0 <= y < 2**z):
            self._send(req, 404, b"no such tile", "text/plain")
            return
        tile = source.tile(layer, z, x, y)
        data = b"" if tile is None else tile.data
        headers = {"Cache-Control": _TILE_CACHE}
        if tile is not None and tile.gzipped:
            headers["Content-Encoding"] = "gzip"
        self._send(req, 200, data, "application/vnd.mapbox-vector-tile", headers)

    def _feature(self, req: BaseHTTPRequestHandler, layer: str, key: str) -> None:
        self._known(layer)
        spec = self.store.spec(layer)
        if isinstance(self.store, GeoPackageStore):
            rows = self.store.read_key(layer, key)  # one row by id, not the whole layer
        else:
            rows = self.store.read(layer, where={spec.key: key})  # PostGIS binds it in SQL
        if not len(rows):
            self._send(req, 404, b"no such feature", "text/plain")
            return
        record = rows.drop(columns="geometry", errors="ignore").iloc[0].to_dict()
        body = {str(k): _plain(v) for k, v in record.items()}
        data = json.dumps({"layer": layer, "key": spec.key, "properties": body}, ensure_ascii=False).encode("utf-8")
        self._send(req, 200, data, "application/json; charset=utf-8", {"Cache-Control": "no-cache"})

    @staticmethod
    def _send(
        req: BaseHTTPRequestHandler, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        req.send_response(status)
        req.send_header("Content-Type", ctype)
        req.send_header("Content-Length", str(len(data)))
        req.send_header("Access-Control-Allow-Origin", "*")
        req.send_header("Timing-Allow-Origin", "*")  # the page may measure what its tiles cost
        for name, value in (headers or {}).items():
            req.send_header(name, value)
        req.end_headers()
        req.wfile.write(data)
