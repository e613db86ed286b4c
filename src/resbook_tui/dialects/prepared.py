"""Server-side prepared statements on PostgreSQL: parsed and planned once a connection.

PostgreSQL spends about a millisecond parsing and planning a hold's multi-CTE statements,
more than it spends running them, and a good part of the shop's hold request (a few
statements of a few tens of microseconds each) goes the same way. Two kinds:

- ``PreparedGroup``: the hand-written hot path (postgresql_sql.py), written with
  ``%(name)s`` parameters and prepared together;
- ``PreparedOnUse``: every ``Compiled`` model query (compiled.py), its rendered text
  prepared on a connection the first time that connection runs it.

A prepared statement belongs to its server session, so a pooler that hands a session's
transactions to other sessions (PgBouncer in transaction mode) cannot sit in between.
"""

from __future__ import annotations

import hashlib
import re
import threading
import weakref
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


_PLACEHOLDER = re.compile(r"%%|%s")


def numbered(sql: str) -> str:
    """psycopg2's ``%s`` placeholders as ``$1``, ``$2``, ... (and ``%%`` as ``%``)."""
    count = 0

    def number(found: re.Match[str]) -> str:
        nonlocal count
        if found[0] == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql)


def statement_name(sql: str) -> str:
    """The name ``sql`` is prepared under, on every connection (pg_stat_activity shows a
    backend running it as ``EXECUTE <name>(...)``)."""
    return "rb_" + hashlib.sha256(sql.encode()).hexdigest()[:24]


class PreparedOnUse:
    """Statements whose text never changes (``Compiled``'s), each prepared on a connection
    the first time that connection runs it, and EXECUTEd from then on: PostgreSQL parses
    and plans it once a connection, not on every run."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._done: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def statement(self, conn: Any, sql: str, count: int) -> str:
        """The EXECUTE of ``sql`` (taking its ``count`` parameters) on ``conn``."""
        name = self._names.get(sql)
        if name is None:
            name = self._names[sql] = statement_name(sql)
        done = self._done.get(conn)
        if done is None:
            with self._lock:
                done = self._done.setdefault(conn, set())
        if name not in done:
            # Straight to the connection, ahead of what waits to be sent (``later``): a
            # prepared statement outlives the transaction it was made in, whatever its end.
            with conn.cursor() as cursor:
                cursor.execute(f"PREPARE {name} AS {numbered(sql)}")
            done.add(name)
        return f"EXECUTE {name}({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"
