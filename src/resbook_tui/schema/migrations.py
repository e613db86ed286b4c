"""Raw-SQL migrations: discover the files, apply and revert them, record a checksummed history.

Each migration runs in its own transaction together with its history row, so a failed
migration leaves nothing half-applied. On PostgreSQL a session advisory lock makes two
``resbook migrate up`` started at once take turns; the second then finds nothing to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import peewee

from .. import dialects
from ..db import database_errors, describe, scrubbed
from ..dialects.catalog import HISTORY_TABLE
from ..errors import BusyError, ConfigError, DatabaseError, MigrationError, ResbookError
from ..session import classify
from .losses import DataLossError, Loss, count_losses, declared_losses

__all__ = [
    "ADVISORY_LOCK_KEY",
    "HISTORY_TABLE",
    "DataLossError",
    "DownPlan",
    "Migration",
    "MigrationError",
    "Migrator",
    "load_migrations",
    "migrations_root",
    "require_current_schema",
    "require_migrated",
    "run_script",
]
# Arbitrary but fixed: every resbook process agrees on this advisory lock key.
ADVISORY_LOCK_KEY = 0x7265_7362_6F6F6B  # "resbook"
_FILE_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    up_sql: str
    down_sql: str | None

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.up_sql.encode()).hexdigest()

    @property
    def losses(self) -> list[str]:
        """The tables and table.columns its down script destroys (losses.py)."""
        return declared_losses(self.down_sql or "")


@dataclass(frozen=True)
class DownPlan:
    """What ``down`` would do: the migrations it reverts, newest first, and what goes."""

    migrations: list[Migration]
    losses: list[Loss]
    target: int


@dataclass(frozen=True)
class Applied:
    version: int
    name: str
    checksum: str
    applied_at: str


@dataclass(frozen=True)
class MigrationState:
    version: int
    name: str
    status: str  # applied | pending | modified | missing
    checksum: str
    applied_checksum: str | None
    applied_at: str | None


def migrations_root() -> Path:
    """The folder holding one sub-folder of SQL files per dialect.

    An installed wheel carries them inside the package; a source checkout (editable
    install) keeps them at the top of the repository.
    """
    packaged = Path(str(resources.files("resbook_tui"))) / "migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "migrations"


def load_migrations(dialect_name: str, root: Path | None = None) -> list[Migration]:
    folder = (root or migrations_root()) / dialect_name
    if not folder.is_dir():
        raise MigrationError(f"no migrations folder for {dialect_name} at {folder}")
    ups: dict[int, tuple[str, str]] = {}
    downs: dict[int, str] = {}
    for path in sorted(folder.iterdir()):
        match = _FILE_RE.match(path.name)
        if not match:
            continue
        version, name, direction = int(match[1]), match[2], match[3]
        text = path.read_text(encoding="utf-8")
        if direction == "up":
            ups[version] = (name, text)
        else:
            downs[version] = text
    return [
        Migration(version=v, name=name, up_sql=sql, down_sql=downs.get(v))
        for v, (name, sql) in sorted(ups.items())
    ]


def run_script(db: peewee.Database, script: str) -> None:
    """Run one migration file inside the caller's transaction."""
    dialects.of(db).run_script(db, script)


class _History(peewee.Model):
    """The history table: one row per applied migration. resbook's own bookkeeping, made
    here (not by a migration), so it is no part of the schema verify compares."""

    version = peewee.IntegerField(primary_key=True)
    name = peewee.CharField(max_length=200)
    checksum = peewee.CharField(max_length=64)
    applied_at = peewee.Field()  # read as the driver gives it: shown, never computed with

    class Meta:
        table_name = HISTORY_TABLE


class Migrator:
    """Applies and reverts one database's migrations, keeping the history table true."""

    def __init__(self, db: peewee.Database, root: Path | None = None) -> None:
        self.db = db
        self._dialect = dialects.of(db)
        self.dialect = self._dialect.name
        self.migrations = load_migrations(self.dialect, root)
        self.by_version = {m.version: m for m in self.migrations}

    # ---- history ----------------------------------------------------------------------

    def ensure_history_table(self) -> None:
        with database_errors(self.db):
            self._dialect.create_history_table(self.db, HISTORY_TABLE)

    def history_exists(self) -> bool:
        with database_errors(self.db):
            return HISTORY_TABLE in self.db.get_tables()

    def applied(self) -> list[Applied]:
        if not self.history_exists():
            return []
        h = _History
        query = h.select(h.version, h.name, h.checksum, h.applied_at).order_by(h.version)
        with database_errors(self.db):
            rows = list(query.tuples().execute(self.db))
        return [Applied(int(v), n, c, str(a)) for v, n, c, a in rows]

    def current_version(self) -> int:
        applied = self.applied()
        return applied[-1].version if applied else 0

    def status(self) -> list[MigrationState]:
        applied = {a.version: a for a in self.applied()}
        states: list[MigrationState] = []
        for m in self.migrations:
            a = applied.pop(m.version, None)
            if a is None:
                status = "pending"
            elif a.checksum != m.checksum:
                status = "modified"
            else:
                status = "applied"
            states.append(
                MigrationState(
                    m.version,
                    m.name,
                    status,
                    m.checksum,
                    a.checksum if a else None,
                    a.applied_at if a else None,
                )
            )
        for a in applied.values():  # applied, but its file is gone
            states.append(
                MigrationState(a.version, a.name, "missing", "", a.checksum, a.applied_at)
            )
        return sorted(states, key=lambda s: s.version)

    def check_integrity(self) -> None:
        """Refuse to go on while an applied migration's file was edited or removed."""
        bad = [s for s in self.status() if s.status in ("modified", "missing")]
        if not bad:
            return
        first = bad[0]
        what = (
            "was edited after it was applied"
            if first.status == "modified"
            else ("was applied but its file is missing")
        )
        raise MigrationError(
            f"migration {first.version:04d}_{first.name} {what}; restore the original file "
            "(see `resbook migrate status`) before migrating"
        )

    # ---- applying -----------------------------------------------------------------------

    def up(
        self,
        target: int | None = None,
        on_wait: Callable[[], None] | None = None,
        on_apply: Callable[[Migration], None] | None = None,
    ) -> list[Migration]:
        """Apply every pending migration up to ``target`` (all by default)."""
        if target is not None and target < 0:
            raise ConfigError("--to must be 0 or a migration version")
        with self.exclusive(on_wait):
            self.ensure_history_table()
            self.check_integrity()
            done = {a.version for a in self.applied()}
            applied: list[Migration] = []
            for m in self.migrations:
                if m.version in done or (target is not None and m.version > target):
                    continue
                if on_apply:
                    on_apply(m)
                if self._apply(m):
                    applied.append(m)
            return applied

    def _apply(self, m: Migration) -> bool:
        with database_errors(self.db), self.db.atomic():
            # Another process may have applied it since we looked (SQLite has no advisory lock).
            if _History.select().where(_History.version == m.version).exists(self.db):
                return False
            try:
                run_script(self.db, m.up_sql)
            except peewee.DatabaseError as exc:
                raise self._failure(exc, f"migration {m.version:04d}_{m.name} failed") from None
            _History.insert(
                {_History.version: m.version, _History.name: m.name, _History.checksum: m.checksum}
            ).execute(self.db)
        return True

    def plan_down(self, to: int | None = None) -> DownPlan:
        """The migrations ``down(to)`` would revert and the data that would go with them."""
        applied = self.applied()
        if not applied:
            return DownPlan([], [], 0)
        versions = [a.version for a in applied]
        if to is None:
            # The newest one: back to the version applied before it (numbers may have gaps).
            to = versions[-2] if len(versions) > 1 else 0
        if to < 0:  # a wrong option (exit 2), not a failed migration
            raise ConfigError("--to must be 0 or a migration version")
        if to and to not in versions:
            raise ConfigError(f"version {to} is not applied; see `resbook migrate status`")
        plan: list[Migration] = []
        for a in reversed(applied):
            if a.version <= to:
                break
            m = self.by_version.get(a.version)
            if m is None or m.down_sql is None:
                raise MigrationError(
                    f"migration {a.version:04d}_{a.name} has no down file; cannot revert it"
                )
            plan.append(m)
        names = list(dict.fromkeys(n for m in plan for n in m.losses))
        with database_errors(self.db):
            losses = count_losses(self.db, names)
        return DownPlan(plan, losses, to)

    def down(
        self,
        to: int | None = None,
        on_wait: Callable[[], None] | None = None,
        on_revert: Callable[[Migration], None] | None = None,
        force: bool = False,
    ) -> list[Migration]:
        """Revert the newest migration, or every one above version ``to``.

        Refused with DataLossError (nothing reverted) when that would destroy rows,
        unless ``force``.
        """
        with self.exclusive(on_wait):
            plan = self.plan_down(to)
            if plan.losses and not force:
                raise DataLossError(plan.losses)
            reverted: list[Migration] = []
            for m in plan.migrations:
                if on_revert:
                    on_revert(m)
                self._revert(m, force)
                reverted.append(m)
            if reverted and not self.applied():
                with database_errors(self.db), _History.bind_ctx(self.db):
                    _History.drop_table(safe=True)
            return reverted

    def _failure(self, exc: peewee.DatabaseError, what: str) -> ResbookError:
        error = classify(exc, describe(self.db), lambda text: scrubbed(self.db, text))
        if isinstance(error, BusyError):
            return BusyError(f"{what}: {error}")
        first = scrubbed(self.db, str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        return MigrationError(f"{what} and was rolled back: {first}")

    def _revert(self, m: Migration, force: bool = False) -> None:
        assert m.down_sql is not None
        with database_errors(self.db), self.db.atomic():
            lost = count_losses(self.db, m.losses, lock=True)
            if lost and not force:
                raise DataLossError(lost)  # rows arrived since the plan was made
            try:
                run_script(self.db, m.down_sql)
            except peewee.DatabaseError as exc:
                raise self._failure(exc, f"reverting {m.version:04d}_{m.name} failed") from None
            _History.delete().where(_History.version == m.version).execute(self.db)

    @contextlib.contextmanager
    def exclusive(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the migration lock: a PostgreSQL advisory lock (SQLite relies on BEGIN
        IMMEDIATE), so two ``migrate up`` started at once take turns."""
        held = contextlib.ExitStack()
        with database_errors(self.db):  # taking it may fail; what runs inside reports itself
            held.enter_context(self._dialect.exclusive(self.db, ADVISORY_LOCK_KEY, on_wait))
        with held:
            yield


def require_migrated(db: peewee.Database) -> int:
    """The schema version, or DatabaseError (exit 3) when resbook's schema is not there."""
    version = Migrator(db).current_version()
    if version == 0:
        raise DatabaseError("database has no resbook schema: run `resbook migrate up` first")
    return version


def require_current_schema(db: peewee.Database) -> None:
    """Every migration this resbook knows must be applied (not just the newest: one that
    arrived with a lower number than an applied one must be applied too)."""
    migrator = Migrator(db)
    with database_errors(db):
        applied = {a.version for a in migrator.applied()}
    if not applied:
        raise DatabaseError("database has no resbook schema: run `resbook migrate up` first")
    pending = [m.version for m in migrator.migrations if m.version not in applied]
    if pending:
        raise DatabaseError(
            f"database schema lacks migration {pending[0]:04d} that this resbook needs: "
            "run `resbook migrate up`"
        )
