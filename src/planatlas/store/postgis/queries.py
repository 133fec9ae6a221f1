"""The PostGIS store: its tables plus the spatial queries pushed down to SQL (:class:`PostGISStore`).

The query methods (``within_distance``, ``nearest``, ``inside``, ``intersects``, ``summarize``,
``coverage``; the :class:`~planatlas.store.base.SpatialQueries` contract) return the same frames as
their pure twins in :mod:`planatlas.query` with the same semantics (true distances in EPSG:4548,
ties by key in code-point order, one zone per feature through ``ST_PointOnSurface`` in EPSG:4548).
Everything runs in SQL on the GiST-indexed ``geom_m``; distances are ``geom_m <-> g`` (PostGIS's
true geometry distance, identical to ``ST_Distance`` and a third of its cost per pair).
"""

# ruff: noqa: S608 - SQL is assembled only from identifiers checked by ident and quoted by quote;
# every value is a bound parameter.

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from planatlas.catalog import LayerSpec
from planatlas.errors import LayerNotFoundError
from planatlas.query.columns import DISTANCE, NEAREST_KEY, OVERALL, REF_KEY, WITHIN_COUNT, ZONE_COUNT, ZONE_KEY
from planatlas.query.distance import parse_distance
from planatlas.store.base import Columns, LayerFrame, SpatialQueries, Where, check_columns
from planatlas.store.postgis.sql import GEOM, GEOM_M, quote
from planatlas.store.postgis.tables import PostGISTables, frame_from_columns, frame_from_rows, one_snapshot


class PostGISStore(PostGISTables, SpatialQueries):
    """An atlas in a PostGIS database that answers the spatial queries in SQL.

    Opened as ``PostGISStore(url, schema="planatlas")``; see :class:`PostGISTables` for the parameters.
    """

    def _select_target(
        self, name: str, columns: Sequence[str] | None, alias: str = "t"
    ) -> tuple[LayerSpec, list[str], list[str]]:
        spec, all_columns, has_geom = self._columns(name)
        if not has_geom:
            msg = f"layer {name!r} has no geometry to query"
            raise LayerNotFoundError(msg)
        if columns is not None:
            check_columns(spec, columns, "columns")
        wanted = [c for c in (all_columns if columns is None else columns) if c != "geometry"]
        if spec.key not in wanted:
            wanted = [spec.key, *wanted]
        select = [f"{alias}.{quote(c)}" for c in wanted]
        names = list(wanted)
        if columns is None or "geometry" in columns:
            select.append(f"ST_AsBinary({alias}.{GEOM}) AS {GEOM}")
            names.append(GEOM)
        return spec, names, select

    def _reference(
        self, name: str, where: Mapping[str, Any] | None, *, prefix: str, skip_empty: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """A sub-select of (rkey, geom_m) for a selection of a layer.

        Empty or missing geometries match no spatial predicate, so only ``nearest`` (which ranks
        distances) needs them filtered out explicitly.
        """
        spec, all_columns, has_geom = self._columns(name)
        if not has_geom:
            msg = f"layer {name!r} has no geometry to query"
            raise LayerNotFoundError(msg)
        clauses, params = self._where(spec, all_columns, where, alias="r", prefix=prefix)
        if skip_empty:
            clauses.append(f"NOT ST_IsEmpty(r.{GEOM_M})")
        sql = f"SELECT r.{quote(spec.key)}::text AS rkey, r.{GEOM_M} AS g FROM {self._table(name)} r"
        if clauses:
            sql += f" WHERE {' AND '.join(clauses)}"
        return sql, params

    @one_snapshot
    def within_distance(
        self,
        target: str,
        reference: str,
        *,
        distance: str | float,
        where: Where | None = None,
        pairs: bool = False,
        distances: bool = True,
        columns: Columns | None = None,
    ) -> LayerFrame:
        """:func:`planatlas.query.within_distance` pushed down: ``ST_DWithin`` on ``geom_m`` with GiST.

        ``where`` selects reference features (equality, as :meth:`read`); ``columns`` limits the target
        columns returned (``[]``: the key only, without geometry). Without distances the answer is
        the SQL join itself, in no particular order; with them, rows are sorted by distance.
        """
        metres = parse_distance(distance)
        spec, names, select = self._select_target(target, columns)
        ref_sql, params = self._reference(reference, where, prefix="r")
        params["d"] = metres
        key = quote(spec.key)
        table = self._table(target)
        if pairs and not distances:
            # The hot path: the raw ST_DWithin join, fetched column-wise (one row of arrays).
            sql = (
                f"SELECT {', '.join(select)}, r.rkey AS {REF_KEY} FROM {table} t "
                f"JOIN ({ref_sql}) r ON ST_DWithin(t.{GEOM_M}, r.g, %(d)s)"
            )
            out = [*names, REF_KEY]
            return frame_from_columns(spec, out, self._fetch_columns(sql, params, out), {REF_KEY: "str"})
        if not distances:
            sql = (
                f"SELECT {', '.join(select)}, m.n AS {WITHIN_COUNT} FROM {table} t JOIN ("
                f"SELECT t.{key} AS tid, count(*) AS n FROM {table} t "
                f"JOIN ({ref_sql}) r ON ST_DWithin(t.{GEOM_M}, r.g, %(d)s) GROUP BY t.{key}"
                f") m ON t.{key} = m.tid"
            )
            out = [*names, WITHIN_COUNT]
            return frame_from_columns(spec, out, self._fetch_columns(sql, params, out), {WITHIN_COUNT: "int"})
        return self._within_distances(spec, names, select, ref_sql, params, pairs=pairs)

    def _within_distances(
        self,
        spec: LayerSpec,
        names: list[str],
        select: list[str],
        ref_sql: str,
        params: dict[str, Any],
        *,
        pairs: bool,
    ) -> LayerFrame:
        """Within with exact distances, all in SQL; rows sorted by distance (ties: fetch order).

        The distance is ``geom_m <-> g``: PostGIS's true 2-D distance between geometries (equal to
        ``ST_Distance``, measured identical here, at a third of its cost per pair). ``OFFSET 0``
        keeps the distance computed before the sort, so the sort carries no geometry; grouping by
        the row's ``ctid`` (stable within the statement) sorts tuple ids instead of key text and
        joins back with a TID scan.
        """
        table = self._table(spec.name)
        join = f"FROM {table} t JOIN ({ref_sql}) r ON ST_DWithin(t.{GEOM_M}, r.g, %(d)s)"
        if pairs:
            sql = f"SELECT {', '.join(select)}, r.rkey AS {REF_KEY}, t.{GEOM_M} <-> r.g AS {DISTANCE} {join}"
            out = [*names, REF_KEY, DISTANCE]
            extra = {REF_KEY: "str", DISTANCE: "float"}
        else:
            sql = (
                f"SELECT {', '.join(select)}, m.rkey AS {NEAREST_KEY}, m.dist AS {DISTANCE}, "
                f"m.n AS {WITHIN_COUNT} FROM {table} t JOIN ("
                f"SELECT DISTINCT ON (p.tc) p.tc, p.rkey, p.dist, count(*) OVER ("
                f'PARTITION BY p.tc ORDER BY p.dist, p.rkey COLLATE "C" '
                f"ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS n "
                f"FROM (SELECT t.ctid AS tc, r.rkey, t.{GEOM_M} <-> r.g AS dist {join} OFFSET 0) p "
                f'ORDER BY p.tc, p.dist, p.rkey COLLATE "C"'
                f") m ON t.ctid = m.tc"
            )
            out = [*names, NEAREST_KEY, DISTANCE, WITHIN_COUNT]
            extra = {NEAREST_KEY: "str", DISTANCE: "float", WITHIN_COUNT: "int"}
        frame = frame_from_columns(spec, out, self._fetch_columns(sql, params, out), extra)
        order = np.argsort(frame[DISTANCE].to_numpy(), kind="stable")
        return frame.iloc[order].reset_index(drop=True)

    @one_snapshot
    def nearest(
        self,
        target: str,
        reference: str,
        *,
        where: Where | None = None,
        max_distance: str | float | None = None,
        columns: Columns | None = None,
    ) -> LayerFrame:
        """:func:`planatlas.query.nearest` in SQL: a lateral KNN join (``<->``, the true distance)."""
        spec, names, select = self._select_target(target, columns)
        ref_sql, params = self._reference(reference, where, prefix="r", skip_empty=True)
        limit = ""
        if max_distance is not None:
            params["d"] = parse_distance(max_distance)
            limit = f"AND ST_DWithin(t.{GEOM_M}, r.g, %(d)s) "
        sql = (
            f"SELECT {', '.join(select)}, n.rkey AS {NEAREST_KEY}, n.dist AS {DISTANCE} "
            f"FROM {self._table(target)} t CROSS JOIN LATERAL ("
            f"SELECT r.rkey, t.{GEOM_M} <-> r.g AS dist FROM ({ref_sql}) r "
            f"WHERE TRUE {limit}"
            f'ORDER BY t.{GEOM_M} <-> r.g, r.rkey COLLATE "C" LIMIT 1) n '
            f"WHERE NOT ST_IsEmpty(t.{GEOM_M})"
        )
        out = [*names, NEAREST_KEY, DISTANCE]
        return frame_from_columns(
            spec, out, self._fetch_columns(sql, params, out), {NEAREST_KEY: "str", DISTANCE: "float"}
        )

    def _zone_matches(
        self, target: str, zones: str, predicate: str, where: Mapping[str, Any] | None, columns: Sequence[str] | None
    ) -> LayerFrame:
        spec, _, select = self._select_target(target, columns)
        zone_sql, params = self._reference(zones, where, prefix="z")
        key = quote(spec.key)
        table = self._table(target)
        sql = (
            f"SELECT {', '.join(select)}, m.rkey AS {ZONE_KEY}, m.n AS {ZONE_COUNT} FROM {table} t JOIN ("
            f"SELECT DISTINCT ON (t.{key}) t.{key} AS tid, r.rkey, count(*) OVER (PARTITION BY t.{key}) AS n "
            f"FROM {table} t JOIN ({zone_sql}) r ON {predicate}(t.{GEOM_M}, r.g) "
            f'ORDER BY t.{key}, r.rkey COLLATE "C") m ON t.{key} = m.tid ORDER BY t.{key}'
        )
        names, rows = self._fetch(sql, params)
        return frame_from_rows(spec, names, rows, {ZONE_KEY: "str", ZONE_COUNT: "int"})

    @one_snapshot
    def inside(
        self, target: str, zones: str, *, where: Where | None = None, columns: Columns | None = None
    ) -> LayerFrame:
        """:func:`planatlas.query.inside` in SQL (``ST_CoveredBy``)."""
        return self._zone_matches(target, zones, "ST_CoveredBy", where, columns)

    @one_snapshot
    def intersects(
        self, target: str, zones: str, *, where: Where | None = None, columns: Columns | None = None
    ) -> LayerFrame:
        """:func:`planatlas.query.intersects` in SQL (``ST_Intersects``)."""
        return self._zone_matches(target, zones, "ST_Intersects", where, columns)

    def _assignment_sql(
        self, target: str, zones: str, where: Mapping[str, Any] | None, value_sql: str
    ) -> tuple[str, dict[str, Any], LayerSpec]:
        """One row per target feature: its key, its zone (or NULL) and a value, by representative point."""
        spec, _, _ = self._columns(target)
        zone_sql, params = self._reference(zones, where, prefix="z")
        key = quote(spec.key)
        sql = (
            f"SELECT t.{key} AS tid, {value_sql} AS v, ("
            f"SELECT r.rkey FROM ({zone_sql}) r WHERE ST_Intersects(ST_PointOnSurface(t.{GEOM_M}), r.g) "
            f'ORDER BY r.rkey COLLATE "C" LIMIT 1) AS zkey FROM {self._table(target)} t'
        )
        return sql, params, spec

    def _value_sql(self, target: str, value: str | None) -> str:
        if value is None:
            return "1"
        spec, all_columns, _ = self._columns(target)
        check_columns(spec, [value], "value column")
        if value not in all_columns:
            msg = f"value column {value!r} is not a column of layer {target!r}"
            raise LayerNotFoundError(msg)
        return f"COALESCE(t.{quote(value)}::double precision, 0)"

    @one_snapshot
    def summarize(self, target: str, zones: str, *, value: str | None = None, where: Where | None = None) -> LayerFrame:
        """:func:`planatlas.query.summarize` in SQL (one zone per feature via ``ST_PointOnSurface``)."""
        zspec, zcolumns, _ = self._columns(zones)
        assign, params, _ = self._assignment_sql(target, zones, where, self._value_sql(target, value))
        zkey = quote(zspec.key)
        zone_where, zparams = self._where(zspec, zcolumns, where, alias="z", prefix="zz")
        params.update(zparams)
        select = [f"z.{quote(c)}" for c in zcolumns] + [f"ST_AsBinary(z.{GEOM}) AS {GEOM}"]
        sums = ", COALESCE(a.s, 0) AS " + quote(f"sum_{value}") if value else ""
        sql = (
            f"SELECT {', '.join(select)}, COALESCE(a.n, 0) AS count{sums} FROM {self._table(zones)} z "
            f"LEFT JOIN (SELECT zkey, count(*) AS n, sum(v) AS s FROM ({assign}) x GROUP BY zkey) a "
            f"ON a.zkey = z.{zkey}::text"
            + (f" WHERE {' AND '.join(zone_where)}" if zone_where else "")
            + f" ORDER BY z.{zkey}"
        )
        names, rows = self._fetch(sql, params)
        extra = {"count": "int", **({f"sum_{value}": "float"} if value else {})}
        return frame_from_rows(zspec, names, rows, extra)

    @one_snapshot
    def coverage(
        self,
        target: str,
        reference: str,
        zones: str,
        *,
        distance: str | float,
        weight: str | None = None,
        where: Where | None = None,
        zone_where: Where | None = None,
    ) -> pd.DataFrame:
        """:func:`planatlas.query.coverage` in SQL."""
        metres = parse_distance(distance)
        zspec, zcolumns, _ = self._columns(zones)
        assign, params, tspec = self._assignment_sql(target, zones, zone_where, self._value_sql(target, weight))
        ref_sql, rparams = self._reference(reference, where, prefix="r")
        params.update(rparams)
        params["d"] = metres
        key = quote(tspec.key)
        zone_filter, zparams = self._where(zspec, zcolumns, zone_where, alias="z", prefix="zz")
        params.update(zparams)
        sql = (
            f"WITH a AS ({assign}), hit AS (SELECT DISTINCT t.{key} AS tid FROM {self._table(target)} t "
            f"JOIN ({ref_sql}) r ON ST_DWithin(t.{GEOM_M}, r.g, %(d)s)) "
            f"SELECT a.zkey, GROUPING(a.zkey) AS g, sum(a.v) AS total, COALESCE(sum(a.v) FILTER (WHERE hit.tid IS NOT NULL), 0) AS within "
            f"FROM a LEFT JOIN hit ON hit.tid = a.tid GROUP BY ROLLUP (a.zkey)"
        )
        _, rows = self._fetch(sql, params)
        zkeys_sql = f"SELECT z.{quote(zspec.key)}::text FROM {self._table(zones)} z"
        if zone_filter:
            zkeys_sql += " WHERE " + " AND ".join(zone_filter)
        zkeys_sql += f" ORDER BY z.{quote(zspec.key)}"
        _, zone_rows = self._fetch(zkeys_sql, zparams)
        by_zone: dict[Any, tuple[float, float]] = {}
        overall = (0.0, 0.0)
        for zkey_value, grand, total, within in rows:
            # ROLLUP's grand total has GROUPING() = 1; features outside every zone group under NULL.
            if grand:
                overall = (float(total or 0), float(within or 0))
            else:
                by_zone[zkey_value] = (float(total or 0), float(within or 0))
        rows_out = [(z, *by_zone.get(z, (0.0, 0.0))) for (z,) in zone_rows]
        rows_out.append((OVERALL, *overall))
        out = pd.DataFrame(rows_out, columns=[ZONE_KEY, "total", "within"])
        out["share"] = np.where(out["total"] > 0, out["within"] / out["total"].where(out["total"] > 0, 1), np.nan)
        if weight is None:
            out["total"] = out["total"].astype(np.int64)
            out["within"] = out["within"].astype(np.int64)
        return out
