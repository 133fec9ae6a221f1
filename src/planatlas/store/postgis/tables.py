"""The PostGIS store's connection and tables: metadata snapshots, reading layers, replacing the atlas.

Each catalogue layer is a table in schema ``planatlas`` (configurable) named after the layer: the key
column (primary key) and the attribute columns typed from the catalogue; ``geom``, the stored
CGCS2000 geometry, and ``geom_m``, generated as ``ST_Transform(geom, 4548)`` and stored, each with a
GiST index (see :mod:`planatlas.store.postgis.load`). ``planatlas_metadata`` holds the build
metadata and the table layout. Reads are single statements through psycopg on one autocommit
connection per thread, fetched column-wise, without ORM objects on the hot path.
"""

# ruff: noqa: S608 - SQL is assembled only from identifiers checked by ident and quoted by quote;
# every value is a bound parameter.

from __future__ import annotations

import functools
import json
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from planatlas.catalog import LayerSpec
from planatlas.crs import STORAGE_CRS
from planatlas.errors import AtlasNotBuiltError, LayerNotFoundError, PlanAtlasError, PostGISError
from planatlas.store.base import BBox, Columns, LayerFrame, LayerStore, ParsedSpecs, Where, cast_to_spec, check_columns
from planatlas.store.postgis.load import replace_atlas
from planatlas.store.postgis.sql import (
    GEOM,
    METADATA_TABLE,
    fetched_column,
    ident,
    normalize_url,
    qualified,
    quote,
)

#: Seconds a checked copy of the metadata is trusted by queries without asking the server again.
META_MAX_AGE = 2.0

#: Statement parameters: bound by name or by position.
Params = Mapping[str, Any] | Sequence[Any] | None

StoreT = TypeVar("StoreT", bound="PostGISTables")
P = ParamSpec("P")
R = TypeVar("R")


def one_snapshot(method: Callable[Concatenate[StoreT, P], R]) -> Callable[Concatenate[StoreT, P], R]:
    """Run a public call on one snapshot of the metadata (checked at most every META_MAX_AGE s).

    A rebuild in between drops and recreates the tables under the same names, so a recent snapshot
    still queries the new tables; if their columns changed the statement fails, and the call is
    retried once on fresh metadata.
    """

    @functools.wraps(method)
    def wrapper(self: StoreT, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._state.snapshot is not None:
            return method(self, *args, **kwargs)
        try:
            return self._on_snapshot(lambda: method(self, *args, **kwargs), max_age=META_MAX_AGE)
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
            return self._on_snapshot(lambda: method(self, *args, **kwargs), max_age=0.0)

    return wrapper


class _ThreadState(threading.local):
    """Per thread: the metadata a public call is working from, and the read connection."""

    snapshot: dict[str, Any] | None = None
    conn: psycopg.Connection[Any] | None = None


class PostGISTables(LayerStore):
    """An atlas in a PostGIS database: the layer tables and their metadata (the :class:`LayerStore` part).

    Parameters
    ----------
    url
        SQLAlchemy URL, e.g. ``postgresql+psycopg://user@host:5432/db`` (``postgresql://`` also works).
    schema
        Schema holding the atlas tables (created on the first write).
    """

    def __init__(self, url: str, *, schema: str = "planatlas") -> None:
        self.url = normalize_url(url)
        self.schema = ident(schema, "schema")
        # Shown in messages (and part of the cache key): the URL without its password.
        self._shown = f"{type(self).__name__}({make_url(self.url).render_as_string(hide_password=True)!r})"
        self._engine: sa.Engine | None = None
        self._meta_cache: tuple[int, dict[str, Any]] | None = None
        self._meta_checked = 0.0
        self._specs = ParsedSpecs()
        self._state = _ThreadState()
        self._lock = threading.Lock()
        self._readers: list[psycopg.Connection[Any]] = []
        self._engines: list[sa.Engine] = []
        # Close the connections when the store goes away, even if nobody called dispose().
        weakref.finalize(self, _close_all, self._readers, self._engines, self._lock)

    def __repr__(self) -> str:
        return self._shown

    def _cache_key(self, built_at: object) -> str:
        # The schema too: two atlases in one database built in the same second must not share caches.
        return f"{self._shown}[{self.schema}]@{built_at}"

    def cache_key(self) -> str:
        """Where the atlas is (URL without the password, and schema) and when it was built."""
        try:
            built = self.metadata().get("built_at")
        except PlanAtlasError:
            built = None
        return self._cache_key(built)

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (for writing: DDL and COPY in one transaction)."""
        if self._engine is None:
            # JIT compilation costs far more than it saves on these short spatial queries
            # (measured: 245 ms of JIT for a 60 ms join).
            self._engine = sa.create_engine(self.url, connect_args={"options": "-c jit=off"})
            self._engines.append(self._engine)
        return self._engine

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    def dispose(self) -> None:
        """Close every connection this store opened."""
        _close_all(self._readers, self._engines, self._lock)
        self._state = _ThreadState()
        self._engine = None

    def _table(self, name: str) -> str:
        return qualified(self.schema, name)

    # -- the read connection ------------------------------------------------------------------------
    def _reader(self) -> psycopg.Connection[Any]:
        """This thread's read connection: plain psycopg, autocommit (no transaction to roll back)."""
        conn = self._state.conn
        if conn is None or conn.closed:
            url = make_url(self.url).set(drivername="postgresql")
            # JIT off (it costs more than it saves on these statements); sorts of a few hundred
            # thousand pairs stay in memory.
            conn = psycopg.connect(
                url.render_as_string(hide_password=False), autocommit=True, options="-c jit=off -c work_mem=128MB"
            )
            self._state.conn = conn
            with self._lock:
                self._readers.append(conn)
        return conn

    def _on_reader(self, run: Callable[[psycopg.Connection[Any]], R]) -> R:
        """Run on this thread's read connection; a connection the server has dropped is replaced once."""
        try:
            result = run(self._reader())
        except psycopg.OperationalError:
            self._state.conn = None
            result = run(self._reader())
        return result

    def _fetch(self, sql: str, params: Params = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one statement through the driver (no ORM rows) and return column names and rows.

        Reads use one autocommit psycopg connection per thread: no pool checkout, no ping, no
        rollback round trip.
        """

        def run(conn: psycopg.Connection[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                if not cur.description:
                    return [], []
                return [d.name for d in cur.description], cur.fetchall()

        return self._on_reader(run)

    def _fetch_columns(self, sql: str, params: Params, names: Sequence[str]) -> list[list[Any]]:
        """Run an unordered select and fetch its result column-wise, as one row of arrays.

        ``names`` are the select's output columns. Arrays travel in binary and are decoded in C:
        no Python tuple per row (the rows are in no particular order).
        """
        aggs = ", ".join(f"array_agg(q.{quote(n)})" for n in names)

        def run(conn: psycopg.Connection[Any]) -> tuple[Any, ...] | None:
            with conn.cursor(binary=True) as cur:
                cur.execute(f"SELECT {aggs} FROM ({sql}) q", params)
                return cur.fetchone()

        row = self._on_reader(run)
        assert row is not None  # an aggregate without GROUP BY returns exactly one row
        return [col if col is not None else [] for col in row]

    # -- metadata -----------------------------------------------------------------------------------
    def _stamp(self) -> int | None:
        """OID of the metadata table: None before the first build, new after every build."""
        name = f"{quote(self.schema)}.{quote(METADATA_TABLE)}"
        try:
            _, rows = self._fetch("SELECT to_regclass(%s)::oid", [name])
        except Exception as exc:  # the server is unreachable: say so, don't pretend it's empty
            msg = f"cannot reach the PostGIS database at {self!r}: {exc}"
            raise PostGISError(msg) from exc
        return None if rows[0][0] is None else int(rows[0][0])

    def exists(self) -> bool:
        return self._stamp() is not None

    def _meta_rows(self, *, max_age: float = 0.0) -> dict[str, Any]:
        """Metadata and table layout, re-read only when the atlas was rebuilt (one cheap check).

        With ``max_age`` a copy checked less than that many seconds ago is returned unchecked.
        """
        now = time.monotonic()
        if self._meta_cache is not None and now - self._meta_checked < max_age:
            return self._meta_cache[1]
        stamp = self._stamp()
        if stamp is None:
            self._meta_cache = None
            msg = f"no atlas in {self!r} (schema {self.schema!r}); run 'planatlas build --db URL' first"
            raise AtlasNotBuiltError(msg)
        if self._meta_cache is None or self._meta_cache[0] != stamp:
            _, rows = self._fetch(f"SELECT key, value FROM {self._table(METADATA_TABLE)}")
            self._meta_cache = (stamp, {k: json.loads(v) for k, v in rows})
        self._meta_checked = now
        return self._meta_cache[1]

    def _on_snapshot(self, call: Callable[[], R], *, max_age: float) -> R:
        """Run ``call`` with this thread working from one copy of the metadata."""
        self._state.snapshot = self._meta_rows(max_age=max_age)
        try:
            return call()
        finally:
            self._state.snapshot = None

    def _snapshot(self) -> dict[str, Any]:
        return self._state.snapshot or self._meta_rows()

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = self._snapshot()["atlas"]
        return meta

    def layers(self) -> list[str]:
        return list(self.metadata()["layers"])

    def _spec(self, meta: Mapping[str, Any], name: str) -> LayerSpec:
        """The parsed spec of ``name`` (parsed once per build)."""
        atlas = meta["atlas"]
        return self._specs.get(self._cache_key(atlas.get("built_at")), atlas, name)

    @one_snapshot
    def spec(self, name: str) -> LayerSpec:
        return self._spec(self._snapshot(), name)

    def _columns(self, name: str) -> tuple[LayerSpec, list[str], bool]:
        """Spec, attribute columns (table order) and whether the layer has geometry."""
        meta = self._snapshot()
        spec = self._spec(meta, name)
        table = meta["tables"].get(name)
        if table is None:
            msg = f"layer {name!r} has no table in {self!r}"
            raise LayerNotFoundError(msg)
        return spec, list(table["columns"]), bool(table["geometry"])

    # -- reading ------------------------------------------------------------------------------------
    @one_snapshot
    def read(
        self, name: str, *, bbox: BBox | None = None, where: Where | None = None, columns: Columns | None = None
    ) -> LayerFrame:
        """Read a layer (EPSG:4490), optionally within a lon/lat bbox and filtered by equality."""
        spec, all_columns, has_geom = self._columns(name)
        if columns is not None:
            check_columns(spec, columns, "columns")
        wanted = [c for c in (all_columns if columns is None else columns) if c != "geometry"]
        where_sql, params = self._where(spec, all_columns, where, alias="t")
        if bbox is not None and has_geom:
            x0, y0, x1, y1 = (float(v) for v in bbox)
            where_sql.append(f"t.{GEOM} && ST_MakeEnvelope(%(bx0)s, %(by0)s, %(bx1)s, %(by1)s, 4490)")
            params.update(bx0=x0, by0=y0, bx1=x1, by1=y1)
        select = [f"t.{quote(c)}" for c in wanted]
        names = list(wanted)
        if has_geom:
            select.append(f"ST_AsBinary(t.{GEOM}) AS {GEOM}")
            names.append(GEOM)
        if not names:
            msg = f"nothing to read from layer {name!r}: no columns and no geometry"
            raise ValueError(msg)
        sql = f"SELECT {', '.join(select)} FROM {self._table(name)} t"
        if where_sql:
            sql += " WHERE " + " AND ".join(where_sql)
        # Column-wise transfer; rows come in table order (Hilbert order for layers with geometry).
        return frame_from_columns(spec, names, self._fetch_columns(sql, params, names), {})

    def _where(
        self,
        spec: LayerSpec,
        table_columns: Iterable[str],
        where: Mapping[str, Any] | None,
        *,
        alias: str,
        prefix: str = "w",
    ) -> tuple[list[str], dict[str, Any]]:
        """Equality filters as SQL with bound values; the columns must be in the catalogue and the table."""
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if not where:
            return clauses, params
        check_columns(spec, list(where), "filter fields")
        present = set(table_columns)
        for i, (column, value) in enumerate(where.items()):
            if column not in present:
                msg = f"filter field {column!r} is not a column of layer {spec.name!r}"
                raise LayerNotFoundError(msg)
            values = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
            p = f"{prefix}{i}"
            # Compare as text, like the GeoPackage store's filter (a CLI value "3" matches 3).
            clauses.append(f"{alias}.{quote(column)}::text = ANY(%({p})s)")
            params[p] = [str(v) for v in values]
        return clauses, params

    # -- writing ------------------------------------------------------------------------------------
    def write(self, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], metadata: Mapping[str, Any]) -> None:
        """Replace the whole atlas in one transaction (on any error the database is left unchanged)."""
        try:
            replace_atlas(self.engine, self.schema, layers, metadata)
        except (ValueError, PlanAtlasError):
            raise
        except Exception as exc:
            msg = f"loading the atlas into {self!r} failed; the database is unchanged: {exc}"
            raise PostGISError(msg) from exc
        finally:
            self._meta_cache = None


def _close_all(readers: list[psycopg.Connection[Any]], engines: list[sa.Engine], lock: threading.Lock) -> None:
    with lock:
        closing, readers[:] = list(readers), []
        disposing, engines[:] = list(engines), []
    for conn in closing:
        conn.close()
    for engine in disposing:
        engine.dispose()


def frame_from_rows(
    spec: LayerSpec, names: list[str], rows: list[tuple[Any, ...]], extra: Mapping[str, str]
) -> gpd.GeoDataFrame | pd.DataFrame:
    """A frame from fetched rows: declared dtypes, WKB decoded, computed columns typed by ``extra``."""
    # One 2-D object array, then column slices: 4x faster than transposing with zip(*rows).
    table = np.empty((len(rows), len(names)), dtype=object)
    if rows:
        table[:] = rows
    return _frame(spec, names, {n: table[:, i] for i, n in enumerate(names)}, extra)


def frame_from_columns(
    spec: LayerSpec, names: list[str], columns: Sequence[list[Any]], extra: Mapping[str, str]
) -> gpd.GeoDataFrame | pd.DataFrame:
    """A frame from columns fetched as arrays (:meth:`PostGISTables._fetch_columns`); see :func:`frame_from_rows`."""
    by_name = dict(zip(names, columns, strict=True))
    return _frame(spec, names, {n: v if n == GEOM else fetched_column(v) for n, v in by_name.items()}, extra)


def _frame(
    spec: LayerSpec, names: list[str], columns: Mapping[str, Any], extra: Mapping[str, str]
) -> gpd.GeoDataFrame | pd.DataFrame:
    plain = [n for n in names if n != GEOM]
    frame = cast_to_spec(pd.DataFrame({n: columns[n] for n in plain}, columns=plain), spec)
    if GEOM in columns:
        wkb = np.asarray(columns[GEOM], dtype=object)
        frame = gpd.GeoDataFrame(frame, geometry=shapely.from_wkb(wkb), crs=STORAGE_CRS)
    for column, kind in extra.items():
        if column in frame.columns:
            if kind == "int":
                frame[column] = frame[column].astype(np.int64)
            elif kind == "float":
                frame[column] = frame[column].astype(float)
            # Keys ("str") keep the string dtype pandas infers, as the pure functions' do.
    return frame
