"""Loading an atlas into PostGIS: tables declared with GeoAlchemy2, COPY in Hilbert order, GiST, ANALYZE.

:func:`replace_atlas` runs in ONE transaction: DDL is transactional in PostgreSQL, so a failure
leaves the database exactly as it was. Identifiers (tables, columns) come only from the catalogue
and are checked and quoted; every value is bound or copied.
"""

# ruff: noqa: S608 - SQL is assembled only from identifiers checked by ident and quoted by quote.

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
import sqlalchemy as sa
from geoalchemy2 import Geometry

from planatlas.store.postgis.sql import GEOM, GEOM_M, METADATA_TABLE, column_type, copy_values, ident, qualified, quote

#: Per layer: attribute columns in table order, whether it has geometry, and the geometry type.
TableLayout = dict[str, Any]

#: SQLAlchemy column types by the names :func:`~planatlas.store.postgis.sql.column_type` gives.
_SA_TYPES: dict[str, type[sa.types.TypeEngine[Any]]] = {
    "Text": sa.Text,
    "BigInteger": sa.BigInteger,
    "Double": sa.Double,
    "Boolean": sa.Boolean,
}


@dataclass(frozen=True)
class _Layer:
    name: str
    frame: pd.DataFrame
    key: str | None
    geometry_type: str


def replace_atlas(
    engine: sa.Engine, schema: str, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], metadata: Mapping[str, Any]
) -> None:
    """Drop the previous atlas in ``schema`` and load ``layers`` and ``metadata``, in one transaction.

    Rows are loaded in Hilbert order of their geometry so that the heap is spatially clustered
    (nearby features share pages), then the GiST indexes are built and the tables analysed.
    """
    plan = [_plan(name, frame, metadata) for name, frame in layers.items()]
    md = sa.MetaData(schema=schema)
    layout = {layer.name: _declare(md, layer, metadata) for layer in plan}
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
        for name in dict.fromkeys([*_previous_tables(conn, schema), *layout, METADATA_TABLE]):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(schema, name)}")
        md.create_all(conn)
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)  # normalize_url names the psycopg 3 driver
        cur = driver.cursor()
        for layer in plan:
            _load(conn, cur, schema, layer, layout[layer.name])
        table = qualified(schema, METADATA_TABLE)
        conn.exec_driver_sql(f"CREATE TABLE {table} (key text PRIMARY KEY, value text NOT NULL)")
        conn.exec_driver_sql(
            f"INSERT INTO {table} (key, value) VALUES ('atlas', %(atlas)s), ('tables', %(tables)s)",
            {
                "atlas": json.dumps(metadata, ensure_ascii=False, default=str),
                "tables": json.dumps(layout, ensure_ascii=False),
            },
        )


def _plan(name: str, frame: pd.DataFrame, metadata: Mapping[str, Any]) -> _Layer:
    """Check the layer's identifiers and find its key and geometry type in the metadata."""
    ident(name, "layer name")
    info = metadata["layers"][name]
    spec_data = info.get("spec", {})
    gtype = info.get("geometry_type") or spec_data.get("geometry_type") or "None"
    if isinstance(frame, gpd.GeoDataFrame) and gtype == "None":
        gtype = "Geometry"
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    for column in frame.columns:
        if column != geometry:
            ident(str(column), f"column of layer {name!r}")
    return _Layer(name, frame, spec_data.get("key"), gtype)


def _declare(md: sa.MetaData, layer: _Layer, metadata: Mapping[str, Any]) -> TableLayout:
    """Declare the layer's table (key, typed attributes, ``geom`` and the generated ``geom_m``)."""
    frame, gtype = layer.frame, layer.geometry_type
    fields = metadata["layers"][layer.name].get("spec", {}).get("fields", {})
    is_geo = isinstance(frame, gpd.GeoDataFrame)
    attr_cols = [c for c in frame.columns if not (is_geo and c == frame.geometry.name)]
    cols: list[sa.Column[Any]] = []
    for column in attr_cols:
        sql_type = column_type(frame[column], fields.get(column, {}).get("type"))
        cols.append(sa.Column(column, _SA_TYPES[sql_type], primary_key=(column == layer.key)))
    if is_geo:
        declared = gtype.upper() if gtype != "Geometry" else "GEOMETRY"
        cols.append(sa.Column(GEOM, Geometry(declared, srid=4490, spatial_index=False)))
        cols.append(
            sa.Column(
                GEOM_M,
                Geometry(declared, srid=4548, spatial_index=False),
                sa.Computed(f"ST_Transform({GEOM}, 4548)", persisted=True),
            )
        )
    sa.Table(layer.name, md, *cols)
    return {"columns": attr_cols, "geometry": is_geo, "geometry_type": gtype if is_geo else None}


def _previous_tables(conn: sa.Connection, schema: str) -> list[str]:
    """The layer tables of the atlas being replaced (none before the first build)."""
    old = conn.exec_driver_sql(
        "SELECT to_regclass(%(t)s) IS NOT NULL", {"t": f"{quote(schema)}.{quote(METADATA_TABLE)}"}
    ).scalar()
    if not old:
        return []
    row = conn.exec_driver_sql(f"SELECT value FROM {qualified(schema, METADATA_TABLE)} WHERE key = 'tables'").scalar()
    return list(json.loads(row)) if row else []


def _load(conn: sa.Connection, cur: psycopg.Cursor[Any], schema: str, layer: _Layer, layout: TableLayout) -> None:
    """COPY the rows, index the geometry columns and analyse the table."""
    _copy(cur, schema, layer.name, layer.frame, layout)
    table = qualified(schema, layer.name)
    if layout["geometry"]:
        conn.exec_driver_sql(f"CREATE INDEX ON {table} USING gist ({GEOM})")
        conn.exec_driver_sql(f"CREATE INDEX ON {table} USING gist ({GEOM_M})")
    if layer.key is None or layer.key not in layout["columns"]:
        msg = f"layer {layer.name!r}: key column {layer.key!r} missing from the frame"
        raise ValueError(msg)
    conn.exec_driver_sql(f"ANALYZE {table}")


def _copy(cur: psycopg.Cursor[Any], schema: str, name: str, frame: pd.DataFrame, layout: TableLayout) -> None:
    columns = list(layout["columns"])
    data = frame
    if layout["geometry"]:
        geoms = frame.geometry
        if geoms.crs is None or geoms.crs.to_epsg() != 4490:
            msg = f"layer {name!r} should be in EPSG:4490 to be stored, got {geoms.crs}"
            raise ValueError(msg)
        # Hilbert order of the non-empty geometries; empty or missing ones go last.
        present = ~(geoms.isna() | geoms.is_empty).to_numpy()
        rank = np.full(len(frame), np.iinfo(np.int64).max, dtype=np.int64)
        if present.any():
            rank[present] = geoms[present].hilbert_distance().to_numpy()
        data = frame.iloc[np.argsort(rank, kind="stable")]
        wkb = shapely.to_wkb(shapely.set_srid(data.geometry.values, 4490), hex=True, include_srid=True)
    target = ", ".join([quote(c) for c in columns] + ([GEOM] if layout["geometry"] else []))
    values = [copy_values(data[c]) for c in columns]
    if layout["geometry"]:
        values.append(list(wkb))
    with cur.copy(f"COPY {qualified(schema, name)} ({target}) FROM STDIN") as copy:
        for row in zip(*values, strict=True):
            copy.write_row(row)
