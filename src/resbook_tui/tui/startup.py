"""Opening the TUI's Booking: on a PostgreSQL server that cannot be reached right now the
TUI still opens, in its disconnected state, and retries as it does when the connection
drops mid-session. Everything else that is wrong (no such SQLite file, no resbook schema,
a bad URL) is refused before the screen opens, with its one line and exit code."""

from __future__ import annotations

from ..booking import Booking
from ..db import connect_or_fail, open_database, parse_url
from ..errors import DatabaseError


def open_for_tui(url: str, *, read_only: bool = False) -> Booking:
    if parse_url(url).path is not None:  # a file: it is there now or not at all
        return Booking.connect(url, read_only=read_only)
    db = open_database(url, read_only=read_only, connect=False)
    try:
        connect_or_fail(db)
    except DatabaseError:
        # Unreachable now: open anyway. The listener reports the lost link, the screens
        # say "disconnected - retrying at …", and the schema is checked by every call.
        return Booking(db, check_schema=False)
    db.close()
    return Booking(db)
