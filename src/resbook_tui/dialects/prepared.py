"""Server-side prepared statements for the PostgreSQL hot path.

PostgreSQL spends about a millisecond parsing and planning a hold's multi-CTE statements,
more than it spends running them. Preparing them once per connection leaves only the
execution; the SQL itself stays written with ``%(name)s`` parameters like the rest.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

import peewee

_PARAM = re.compile(r"%\((\w+)\)s")


def _positional(sql: str, order: list[str]) -> str:
    """``%(name)s`` -> ``$n`` by the name's place in ``order``."""
    return _PARAM.sub(lambda m: f"${order.index(m[1]) + 1}", sql).strip().rstrip(";")


class PreparedGroup:
    """Named statements prepared together on each connection that runs them."""

    def __init__(self, prefix: str, statements: Mapping[str, str]) -> None:
        self._names: dict[str, str] = {}
        self._args: dict[str, list[str]] = {}
        prepares = []
        for key, sql in statements.items():
            name = f"{prefix}_{key}"
            order: list[str] = []
            for param in _PARAM.findall(sql):
                if param not in order:
                    order.append(param)
            body = _positional(sql, order)
            prepares.append(f"PREPARE {name} AS {body}")
            self._names[key] = name
            self._args[key] = order
        self._prepare_sql = ";\n".join(prepares)
        self._ready: set[tuple[int, int]] = set()
        self._lock = threading.Lock()

    def ensure(self, db: peewee.Database) -> None:
        """Prepare on this thread's connection unless it already has them."""
        conn = db.connection()
        key = (id(conn), conn.get_backend_pid())
        with self._lock:
            if key in self._ready:
                return
        db.execute_sql(self._prepare_sql)
        with self._lock:
            self._ready.add(key)

    def sql(self, *keys: str) -> str:
        """One round trip that EXECUTEs these statements in order (named parameters)."""
        return ";\n".join(
            f"EXECUTE {self._names[k]}({', '.join(f'%({a})s' for a in self._args[k])})"
            for k in keys
        )

    def run(self, db: peewee.Database, keys: tuple[str, ...], params: Mapping[str, Any]) -> Any:
        self.ensure(db)
        return db.execute_sql(self.sql(*keys), dict(params))
