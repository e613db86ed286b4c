"""PostgreSQL runs every ``Compiled`` statement as a statement prepared once per connection:
parsed and planned the first time a connection runs it, EXECUTEd after that."""

from __future__ import annotations

import gc
import importlib
import pkgutil

import peewee
import pytest

import resbook_tui
from resbook_tui import dialects
from resbook_tui.db import open_database
from resbook_tui.dialects.compiled import Compiled
from resbook_tui.dialects.prepared import numbered

pytestmark = pytest.mark.postgres
T = peewee.Table("t", ("x", "s"))
SET_S = Compiled(lambda p, d: T.update({T.s: p("s")}).where(T.x == p("x")))
GET_S = Compiled(lambda p, d: T.select(T.s).where(T.x == p("x")))


@pytest.fixture
def db(pg_url: str):
    found = open_database(pg_url)
    found.execute_sql("CREATE TABLE t (x int PRIMARY KEY, s text)")
    found.execute_sql("INSERT INTO t VALUES (1, 'one')")
    yield found
    found.close()


def _prepared(db: peewee.Database) -> list[str]:
    """This connection's prepared statements, as PostgreSQL lists them."""
    rows = db.execute_sql("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time")
    return [r[0] for r in rows.fetchall()]


def _get(db: peewee.Database, x: int) -> str | None:
    row = GET_S.run(db, dialects.of(db), {"x": x}).fetchone()
    return None if row is None else str(row[0])


def test_placeholders_are_numbered_and_percent_signs_kept():
    assert numbered("SELECT %s, '50%%', %s") == "SELECT $1, '50%', $2"


def test_a_statement_is_prepared_once_a_connection_and_then_executed(db):
    sent: list[str] = []
    db.query_hooks.append(lambda event: sent.append(event.sql))
    assert _get(db, 1) == "one"
    SET_S.run(db, dialects.of(db), {"s": "uno", "x": 1})
    assert _get(db, 1) == "uno"
    assert _get(db, 2) is None
    assert len(sent) == 4 and all(sql.startswith("EXECUTE rb_") for sql in sent)
    assert len(_prepared(db)) == 2  # GET_S and SET_S, each once


def test_a_statement_prepared_in_a_rolled_back_transaction_stays_prepared(db):
    with pytest.raises(RuntimeError), db.atomic():
        SET_S.run(db, dialects.of(db), {"s": "gone", "x": 1})
        raise RuntimeError
    assert _get(db, 1) == "one"
    SET_S.run(db, dialects.of(db), {"s": "kept", "x": 1})
    assert _get(db, 1) == "kept"
    assert len(_prepared(db)) == 2


def test_a_new_connection_prepares_again(db):
    assert _get(db, 1) == "one"
    db.close()
    assert _prepared(db) == []  # a new session: nothing prepared yet
    assert _get(db, 1) == "one"
    assert len(_prepared(db)) == 1


def _every_compiled() -> list[Compiled]:
    """Every Compiled statement the package makes at import (the hold inserts of up to
    eight rows included), found after importing every module."""
    for module in pkgutil.walk_packages(resbook_tui.__path__, "resbook_tui."):
        importlib.import_module(module.name)
    found = [o for o in gc.get_objects() if isinstance(o, Compiled)]
    return [c for c in found if c._build.__module__.startswith("resbook_tui.")]


def test_every_compiled_statement_of_the_package_prepares(pg_db):
    every = _every_compiled()
    assert len(every) >= 20
    dialect = dialects.of(pg_db)
    with pg_db.atomic():
        for statement in every:
            sql, params = statement.sql(pg_db, dialect)
            assert pg_db.prepared(sql, len(params)).startswith("EXECUTE rb_")
    assert len(_prepared(pg_db)) == len({s.sql(pg_db, dialect)[0] for s in every})
