"""PostgreSQL statements that need no answer ride with the next one: BEGIN, a nested
atomic()'s SAVEPOINT and RELEASE, and ``Compiled.later`` statements. Each test checks what
was sent and that the transaction did what it would have done one statement at a time."""

from __future__ import annotations

import peewee
import pytest
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from resbook_tui import dialects
from resbook_tui.db import open_database
from resbook_tui.dialects.compiled import Compiled

pytestmark = pytest.mark.postgres
T = peewee.Table("t", ("x", "s"))
SET_S = Compiled(lambda p, d: T.update({T.s: p("s")}).where(T.x == p("x")))
ADD = Compiled(lambda p, d: T.insert({T.x: p("x"), T.s: p("s")}))


def later(db: peewee.Database, query: Compiled, **values: object) -> None:
    query.later(db, dialects.of(db), values)


@pytest.fixture
def db(pg_url: str):
    found = open_database(pg_url)
    found.execute_sql("CREATE TABLE t (x int PRIMARY KEY, s text)")
    yield found
    found.close()


@pytest.fixture
def other(pg_url: str):
    found = open_database(pg_url)
    yield found
    found.close()


def _sent(db: peewee.Database) -> list[str]:
    sent: list[str] = []
    db.query_hooks.append(lambda event: sent.append(event.sql))
    return sent


def _rows(db: peewee.Database) -> list[tuple[int, str | None]]:
    return [tuple(r) for r in db.execute_sql("SELECT x, s FROM t ORDER BY x").fetchall()]


def _idle(db: peewee.Database) -> bool:
    return bool(db.connection().info.transaction_status == TRANSACTION_STATUS_IDLE)


def test_a_savepoint_goes_with_the_next_statement_and_still_rolls_back(db, other):
    sent = _sent(db)
    with db.atomic():
        db.execute_sql("INSERT INTO t VALUES (1)")
        with pytest.raises(RuntimeError), db.atomic():
            db.execute_sql("INSERT INTO t VALUES (2)")
            raise RuntimeError
        with db.atomic():
            db.execute_sql("INSERT INTO t VALUES (3)")
    assert sent[0] == "BEGIN; INSERT INTO t VALUES (1)"
    assert sent[1].startswith('SAVEPOINT "s') and sent[1].endswith("; INSERT INTO t VALUES (2)")
    assert sent[2].startswith('ROLLBACK TO SAVEPOINT "s')
    # The RELEASE of the first savepoint's rollback is not sent; the second's goes with COMMIT
    # (dropped: COMMIT releases it).
    assert sent[3].startswith('SAVEPOINT "s') and sent[3].endswith("; INSERT INTO t VALUES (3)")
    assert len(sent) == 4
    assert _rows(other) == [(1, None), (3, None)]
    assert _idle(db)


def test_a_savepoint_nothing_was_sent_after_is_never_sent(db, other):
    sent = _sent(db)
    with db.atomic():
        db.execute_sql("INSERT INTO t VALUES (1)")
        with pytest.raises(RuntimeError), db.atomic():
            raise RuntimeError
        with db.atomic():
            pass
    assert sent == ["BEGIN; INSERT INTO t VALUES (1)"]
    assert _rows(other) == [(1, None)]
    with db.atomic(), db.atomic():
        pass
    assert len(sent) == 1  # nothing sent: no BEGIN, no COMMIT
    assert _idle(db)


def test_a_statement_failing_after_its_savepoint_rolls_back_to_it(db, other):
    with db.atomic():
        db.execute_sql("INSERT INTO t VALUES (1)")
        with pytest.raises(peewee.IntegrityError), db.atomic():
            db.execute_sql("INSERT INTO t VALUES (1)")  # the same key
        db.execute_sql("INSERT INTO t VALUES (2)")
    assert _rows(other) == [(1, None), (2, None)]


def test_a_later_statement_goes_with_commit_and_keeps_its_values(db, other):
    sent = _sent(db)
    text = "100% it's 'quoted' %s %(x)s"
    with db.atomic():
        db.execute_sql("INSERT INTO t VALUES (%s, %s)", (1, "50%"))
        later(db, SET_S, s=text, x=1)
        assert _rows(other) == []
    assert len(sent) == 2
    # Prepared (test_prepared.py): the UPDATE goes as an EXECUTE, with the COMMIT.
    assert sent[1].startswith("EXECUTE rb_") and sent[1].endswith("; COMMIT")
    assert _rows(other) == [(1, text)]
    with db.atomic():
        later(db, ADD, x=2, s="%")
        db.execute_sql("INSERT INTO t VALUES (%s, %s)", (3, "%"))  # it goes with this one
    assert _rows(other) == [(1, text), (2, "%"), (3, "%")]
    assert _idle(db)


def test_a_later_statement_is_dropped_by_a_rollback(db, other):
    with pytest.raises(RuntimeError), db.atomic():
        db.execute_sql("INSERT INTO t VALUES (1)")
        later(db, ADD, x=2, s=None)
        raise RuntimeError
    assert _rows(other) == []
    later(db, ADD, x=3, s=None)  # no transaction: at once
    assert _rows(other) == [(3, None)]
    assert _idle(db)


def test_a_later_statement_failing_at_commit_commits_nothing(db, other):
    with pytest.raises(peewee.IntegrityError), db.atomic():
        db.execute_sql("INSERT INTO t VALUES (1)")
        later(db, ADD, x=1, s=None)  # the same key: fails when it is sent, with COMMIT
    assert _rows(other) == []
    assert _idle(db)
    with db.atomic():
        db.execute_sql("INSERT INTO t VALUES (2)")
    assert _rows(other) == [(2, None)]
