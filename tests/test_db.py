from pathlib import Path

import pytest

from resbook_tui.config import ENV_DATABASE_URL, resolve_database_url
from resbook_tui.db import POSTGRESQL, SQLITE, mask_url, open_database, parse_url
from resbook_tui.errors import ConfigError, DatabaseError


def test_mask_url_hides_the_password():
    assert mask_url("postgresql://ana:s3cret@db:5432/rb") == "postgresql://ana:***@db:5432/rb"
    assert mask_url("postgresql://ana@db/rb") == "postgresql://ana@db/rb"
    assert mask_url("sqlite:///x.db") == "sqlite:///x.db"


def test_parse_sqlite_relative_and_absolute():
    assert parse_url("sqlite:///rel/x.db").path == Path("rel/x.db")
    assert parse_url("sqlite:////abs/x.db").path == Path("/abs/x.db")
    assert parse_url("sqlite:///x.db").dialect == SQLITE


def test_parse_postgresql():
    url = parse_url("postgresql://ana:p%40ss@db.example:6543/rb")
    assert (url.dialect, url.host, url.port, url.user, url.password, url.name) == (
        POSTGRESQL,
        "db.example",
        6543,
        "ana",
        "p@ss",
        "rb",
    )


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("mysql://x/y", "unknown database URL scheme 'mysql'"),
        ("nonsense", "unknown database URL scheme"),
        ("postgresql://host:99999/db", "bad port"),
        ("postgresql://host/", "names no database"),
        ("sqlite://", "names no file"),
        ("sqlite://ana:S3cretPW@/tmp/x.db", "names a file, not a user or host"),
        ("sqlite://localhost/tmp/x.db", "names a file, not a user or host"),
        ("sqlite:////tmp/a%00b.db", "file name .* decodes to control characters"),
        ("postgresql://bob:S3cretPW%00x@db/rb", "password .* decodes to control characters"),
        ("postgresql://bob@db/r%1bb", "database name .* decodes to control characters"),
        ("postgresql://bob@db/rb?sslmode=%00", "option .* decodes to control characters"),
    ],
)
def test_bad_urls_are_config_errors(url, fragment):
    with pytest.raises(ConfigError, match=fragment) as refused:
        parse_url(url)
    assert "S3cretPW" not in str(refused.value)  # a password is never repeated


def test_a_percent_escape_is_decoded_once():
    """%2500 is a literal "%00" in the name, not a NUL: decoded twice it was refused."""
    assert parse_url("postgresql://u@h/a%2500b").name == "a%00b"


def test_flag_beats_environment_beats_default(monkeypatch):
    monkeypatch.setenv(ENV_DATABASE_URL, "sqlite:///env.db")
    assert resolve_database_url("sqlite:///flag.db") == "sqlite:///flag.db"
    assert resolve_database_url(None) == "sqlite:///env.db"
    monkeypatch.delenv(ENV_DATABASE_URL)
    assert resolve_database_url(None).endswith("resbook.db")


def test_unwritable_sqlite_path_is_a_database_error(tmp_path):
    with pytest.raises(DatabaseError, match="cannot open"):
        open_database(f"sqlite:///{tmp_path}/no/such/dir/x.db")


def test_unreachable_postgresql_is_a_database_error():
    with pytest.raises(DatabaseError, match="cannot open postgresql://ana:\\*\\*\\*@127.0.0.1:1"):
        open_database("postgresql://ana:secret@127.0.0.1:1/rb")


def test_sqlite_connection_settings(sqlite_url):
    db = open_database(sqlite_url)
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_read_only_sqlite_refuses_writes(sqlite_url):
    open_database(sqlite_url).execute_sql("CREATE TABLE t (x)")
    ro = open_database(sqlite_url, read_only=True)
    with pytest.raises(Exception, match="readonly|read-only|query_only"):
        ro.execute_sql("INSERT INTO t VALUES (1)")


def test_a_dropped_postgres_connection_is_replaced_on_the_next_call(pg_db, pg_url):
    from resbook_tui.booking import Booking

    bk = Booking(pg_db)
    pid = pg_db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    killer = open_database(pg_url)
    killer.execute_sql("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(DatabaseError, match="database error"):
        bk.list_resources()
    assert bk.list_resources() == []  # reconnected by itself
    assert pg_db.execute_sql("SELECT pg_backend_pid()").fetchone()[0] != pid


def _sent(db) -> list[str]:
    """The SQL each round trip sends from now on (peewee's query hooks)."""
    sent: list[str] = []
    db.query_hooks.append(lambda event: sent.append(event.sql))
    return sent


def test_a_postgres_transaction_sends_begin_with_its_first_statement(pg_db, pg_url):
    """BEGIN is not a round trip of its own; a transaction that sends nothing sends no
    COMMIT either, and what the block did is one transaction all the same."""
    pg_db.execute_sql("CREATE TABLE t (x int)")
    sent = _sent(pg_db)
    with pg_db.atomic():
        pass
    assert sent == []
    with pg_db.atomic():
        pg_db.execute_sql("INSERT INTO t VALUES (1)")
        pg_db.execute_sql("INSERT INTO t VALUES (2)")
        other = open_database(pg_url)
        assert other.execute_sql("SELECT count(*) FROM t").fetchone()[0] == 0  # not committed
    assert sent == ["BEGIN; INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)"]
    assert other.execute_sql("SELECT count(*) FROM t").fetchone()[0] == 2
    with pytest.raises(RuntimeError), pg_db.atomic():
        pg_db.execute_sql("INSERT INTO t VALUES (3)")
        raise RuntimeError
    assert other.execute_sql("SELECT count(*) FROM t").fetchone()[0] == 2  # rolled back
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE

    assert pg_db.connection().info.transaction_status == TRANSACTION_STATUS_IDLE  # none open
    other.close()


def test_a_first_transaction_in_a_new_thread_commits(pg_db, pg_url):
    """The thread's connection is opened when its first transaction begins, before the
    BEGIN it defers (connecting later would lose peewee's transaction stack)."""
    import threading

    pg_db.execute_sql("CREATE TABLE t (x int)")
    db = open_database(pg_url, connect=False)
    failed: list[BaseException] = []

    def work() -> None:
        try:
            with db.atomic():
                db.execute_sql("INSERT INTO t VALUES (1)")
        except BaseException as exc:  # recorded and asserted below
            failed.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    assert failed == []
    assert pg_db.execute_sql("SELECT count(*) FROM t").fetchone()[0] == 1


def test_a_file_name_too_long_for_the_file_system_is_one_line(tmp_path):
    with pytest.raises(DatabaseError, match="cannot open .*File name too long"):
        open_database(f"sqlite:///{tmp_path}/{'b' * 300}.db", create=False)
