"""What reverting a migration would destroy, counted before anything is reverted.

Each down file says what it loses in its first lines, reviewed with the SQL:

    -- loses: booking_event, resource_allocation.hold_id
    -- loses: nothing (each request's token goes back into ...)

(a table, whose rows go, or a table.column, whose values go). A down file that says
nothing is read for ``DROP TABLE`` and ``DROP COLUMN`` instead, so a new migration is
guarded even before anyone writes the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import peewee
from peewee import SQL, fn

from .. import dialects
from ..errors import EXIT_INVALID, ResbookError

_DECLARED = re.compile(r"^\s*--\s*loses:\s*(?P<what>.*)$", re.IGNORECASE | re.MULTILINE)
_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
_DROP_TABLE = re.compile(
    r"\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<names>[\w\s,\"]+?)\s*(?:CASCADE|RESTRICT)?\s*;",
    re.IGNORECASE,
)
_DROP_COLUMN = re.compile(
    r"\bALTER\s+TABLE\s+(?:ONLY\s+)?\"?(?P<table>\w+)\"?\s+DROP\s+(?:COLUMN\s+)?"
    r"(?:IF\s+EXISTS\s+)?\"?(?P<column>\w+)\"?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Loss:
    """Rows of a table (``column`` None) or non-empty values of a column that would go."""

    table: str
    column: str | None
    rows: int

    def __str__(self) -> str:
        if self.column is None:
            return f"{self.table}: {self.rows} row(s)"
        return f"{self.table}.{self.column}: {self.rows} value(s)"


class DataLossError(ResbookError):
    """Reverting would destroy rows; nothing was reverted (exit 2). ``--force`` proceeds."""

    exit_code = EXIT_INVALID
    code = "would_lose_data"

    def __init__(self, losses: list[Loss]) -> None:
        super().__init__(
            "migrate down would destroy data ("
            + "; ".join(str(loss) for loss in losses)
            + "); nothing was reverted. Back it up, then run again with --force"
        )
        self.losses = losses


def declared_losses(down_sql: str) -> list[str]:
    """The tables and table.columns a down script destroys (see the module docstring)."""
    match = _DECLARED.search(down_sql)
    if match:
        what = match["what"].strip()
        if what.lower().startswith("nothing"):
            return []
        return [n.strip().lower() for n in what.split(",") if _NAME.match(n.strip().lower())]
    found: list[str] = []
    for m in _DROP_TABLE.finditer(down_sql):
        found += [n.strip().strip('"').lower() for n in m["names"].split(",") if n.strip()]
    for m in _DROP_COLUMN.finditer(down_sql):
        if m["column"].lower() not in ("constraint", "index"):
            found.append(f"{m['table'].lower()}.{m['column'].lower()}")
    return list(dict.fromkeys(found))


def count_losses(db: peewee.Database, names: list[str], lock: bool = False) -> list[Loss]:
    """How many rows (or values) each of ``names`` holds now; only the non-empty ones.

    ``lock`` (inside the revert's transaction) first locks the tables so no row can arrive
    between the count and the drop (SQLite's BEGIN IMMEDIATE already keeps writers out).
    """
    tables = set(db.get_tables())
    present = [n for n in names if n.split(".")[0] in tables]
    if lock and present:
        dialects.of(db).lock_tables(db, [n.split(".")[0] for n in present])
    losses: list[Loss] = []
    for name in present:
        table, _, column = name.partition(".")
        source = peewee.Table(table)
        query = source.select(fn.COUNT(SQL("*")))
        if column:
            if column not in {c.name for c in db.get_columns(table)}:
                continue
            query = query.where(peewee.Column(source, column).is_null(False))
        rows = int(query.scalar(db))
        if rows:
            losses.append(Loss(table, column or None, rows))
    return losses
