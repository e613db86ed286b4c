"""Model queries rendered once and run many times with fresh values.

Peewee builds and renders a query's SQL on every call: for the capacity rule with its two
EXISTS that is a good part of a millisecond, several times what SQLite takes to run it. The
hold path runs a few such statements per date, so it builds each one once per database
class, with named slots where the values go, and binds the values on each run. The SQL is
still the model query's own; nobody writes it by hand. On PostgreSQL the rendered text is
also prepared on each connection that runs it (prepared.py), so the server plans it once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import peewee

SlotMaker = Callable[[str], peewee.Node]


class Clock(Protocol):
    """The part of a dialect a compiled query may use: the database clock, and the
    transaction lock tried as a condition."""

    def now(self) -> peewee.Node: ...

    def today(self) -> peewee.Node: ...

    def plus_minutes(self, moment: peewee.Node, minutes: int | peewee.Node) -> peewee.Node: ...

    def try_serialize_condition(self, key: int | peewee.Node) -> peewee.Node: ...


def touched(clock: Clock, **changes: Any) -> dict[str, Any]:
    """``changes`` with ``updated_at`` set by the same UPDATE, for a row RETURNING reads.

    SQLite's AFTER UPDATE trigger stamps a row only after RETURNING has read it (and skips a
    statement that sets the stamp itself), so the change would answer with the old stamp.
    PostgreSQL's BEFORE trigger stamps it with now() either way."""
    return {**changes, "updated_at": clock.now()}


@dataclass(frozen=True)
class Slot:
    """Where a value goes in a compiled query."""

    name: str


def slot(name: str) -> peewee.Node:
    # converter=False: the value is bound as given at run time, never passed through a
    # field's db_value while the query is rendered.
    return peewee.Value(Slot(name), converter=False)


class Compiled:
    """``build(slot, dialect)`` makes the query; ``run(db, dialect, values)`` binds
    ``values`` by slot name (``dialect`` is ``db``'s: the query may use its clock)."""

    def __init__(self, build: Callable[[SlotMaker, Clock], peewee.Query]) -> None:
        self._build = build
        self._rendered: dict[type[peewee.Database], tuple[str, list[Any]]] = {}

    def sql(self, db: peewee.Database, dialect: Clock) -> tuple[str, list[Any]]:
        kind = type(db)
        if kind not in self._rendered:  # a race renders it twice, to the same text
            sql, params = db.get_sql_context().sql(self._build(slot, dialect)).query()
            self._rendered[kind] = (str(sql), list(params))
        return self._rendered[kind]

    def bind(
        self, db: peewee.Database, dialect: Clock, values: Mapping[str, Any]
    ) -> tuple[str, list[Any]]:
        sql, params = self.sql(db, dialect)
        return sql, [values[p.name] if isinstance(p, Slot) else p for p in params]

    def statement(
        self, db: peewee.Database, dialect: Clock, values: Mapping[str, Any]
    ) -> tuple[str, list[Any]]:
        """What to send: the SQL and its values, or on a database that prepares statements
        (PostgreSQL: ``ResbookPostgresqlDatabase.prepared``), the EXECUTE of its own."""
        sql, bound = self.bind(db, dialect, values)
        prepared = getattr(db, "prepared", None)
        return (sql if prepared is None else prepared(sql, len(bound))), bound

    def run(self, db: peewee.Database, dialect: Clock, values: Mapping[str, Any]) -> Any:
        """The driver's cursor (rows as the driver gives them)."""
        return db.execute_sql(*self.statement(db, dialect, values))

    def later(self, db: peewee.Database, dialect: Clock, values: Mapping[str, Any]) -> None:
        """Run it (nobody reads its answer) by the end of the transaction: on PostgreSQL
        with the transaction's next statement or its COMMIT, a round trip fewer
        (``ResbookPostgresqlDatabase.later``); elsewhere, or outside a transaction, now."""
        sql, bound = self.statement(db, dialect, values)
        defer = getattr(db, "later", None)
        if defer is not None and db.in_transaction():
            defer(sql, bound)
        else:
            db.execute_sql(sql, bound)
