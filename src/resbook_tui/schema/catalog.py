"""Read a live schema from the database catalog into one comparable shape.

Each dialect reads its own catalog (PostgreSQL: pg_catalog and its pg_get_*def functions;
SQLite: sqlite_master and PRAGMAs) into the classes of ``dialects/catalog.py``; this adds
the row counts.
"""

from __future__ import annotations

import peewee
from peewee import SQL, fn

from .. import dialects
from ..dialects.catalog import Catalog, ColumnInfo, ObjectInfo, TableInfo, normalise

__all__ = ["Catalog", "ColumnInfo", "ObjectInfo", "TableInfo", "normalise", "read_catalog"]


def read_catalog(db: peewee.Database, count_rows: bool = True) -> Catalog:
    catalog = dialects.of(db).read_catalog(db)
    if count_rows:
        for name, table in catalog.tables.items():
            rows = peewee.Table(name).select(fn.COUNT(SQL("*"))).scalar(db)
            table.rows = int(rows)
    return catalog
