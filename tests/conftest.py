"""One ``db`` fixture over both dialects, with migrations applied for real.

SQLite: a file in the test's temp dir. PostgreSQL: one throwaway database per test session
on the server named by RESBOOK_TEST_POSTGRES_URL and one fresh schema per test, reached
through ``search_path`` in the URL so that subprocesses and extra connections see it too.
Without that variable the PostgreSQL half is skipped with a reason; with
RESBOOK_REQUIRE_POSTGRES=1 (as in CI) a missing server fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote, urlsplit, urlunsplit

import peewee
import psycopg2
import pytest

from resbook_tui.db import open_database
from resbook_tui.schema.migrations import Migrator

PG_ENV = "RESBOOK_TEST_POSTGRES_URL"
REQUIRE_ENV = "RESBOOK_REQUIRE_POSTGRES"


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture(autouse=True)
def own_app_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own app directory (settings, screenshots, default database),
    never the real one of whoever runs the tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = os.environ.get(PG_ENV, "").strip()
    required = os.environ.get(REQUIRE_ENV) == "1"
    if not url:
        if required:
            pytest.fail(f"{REQUIRE_ENV}=1 but {PG_ENV} is not set")
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (a server URL); it is not set")
    try:
        psycopg2.connect(url, connect_timeout=5).close()
    except psycopg2.OperationalError as exc:
        if required:
            pytest.fail(f"PostgreSQL at {PG_ENV} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {PG_ENV} is unreachable: {exc}")
    return url


@pytest.fixture(scope="session")
def pg_database_url(pg_server_url: str) -> Iterator[str]:
    """A database of our own for this test session, dropped at the end."""
    name = f"resbook_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = psycopg2.connect(pg_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(pg_server_url, name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def pg_url(pg_database_url: str) -> Iterator[str]:
    """A URL whose connections work in a fresh, empty schema."""
    schema = f"t_{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(pg_database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    options = quote(f"-c search_path={schema}")
    sep = "&" if "?" in pg_database_url else "?"
    try:
        yield f"{pg_database_url}{sep}options={options}"
    finally:
        with conn.cursor() as cur:
            # Every other session on the test database, a test's own lockers included: one
            # that failed holding a lock would otherwise leave DROP SCHEMA waiting for ever.
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # noqa: ANN001
    return f"sqlite:///{tmp_path / 'resbook.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def empty_db(db_url: str) -> Iterator[peewee.Database]:
    """An open, unmigrated database of either dialect."""
    db = open_database(db_url)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def db(empty_db: peewee.Database) -> peewee.Database:
    """A database with every migration applied."""
    Migrator(empty_db).up()
    return empty_db


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[peewee.Database]:
    """A migrated PostgreSQL database, for tests about PostgreSQL alone."""
    db = open_database(pg_url)
    Migrator(db).up()
    try:
        yield db
    finally:
        db.close()
