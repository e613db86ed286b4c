"""The open connections of one Database, by the thread that opened them.

Peewee gives each thread its own connection. Two things need to see them all:
- another thread stopping what they run (the TUI on quit, ``db.cancel_statements``);
- a new thread that could take over the connection of one that has ended, instead of
  starting a backend of its own. ``resbook serve``'s request threads are anyio's, which
  end after 10 s idle and are started again at the next burst (the TUI's workers run on
  asyncio's default executor, whose threads last). A new PostgreSQL backend costs a few
  milliseconds to start and about 10 ms more on its first hold (its catalogue caches,
  the triggers' PL/pgSQL plans, the hot path's prepared statements), and the connection
  of an ended thread would otherwise stay open here until its thread id was reused. So
  the connections are as many as the threads that ever ran at once, and they stay warm.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class ConnectionRegistry:
    """``stop(conn)`` is the driver's way to stop a running statement (False when the
    connection has nothing to stop)."""

    def __init__(self, stop: Callable[[Any], bool]) -> None:
        self._lock = threading.Lock()
        self._by_thread: dict[int, tuple[threading.Thread, Any]] = {}
        self._stop = stop

    def add(self, conn: Any) -> None:
        with self._lock:
            self._by_thread[threading.get_ident()] = (threading.current_thread(), conn)

    def discard(self, conn: Any) -> None:
        with self._lock:
            for thread_id, (_, known) in list(self._by_thread.items()):
                if known is conn:
                    del self._by_thread[thread_id]

    def threads(self) -> set[int]:
        """The threads that have a connection open (an ended one's until it is taken over)."""
        with self._lock:
            return set(self._by_thread)

    def take_spare(self) -> Any | None:
        """The connection of a thread that has ended, off the registry, for the calling
        thread to check and take over or close (None: there is none)."""
        with self._lock:
            ended = self._ended()
            return self._by_thread.pop(ended[0])[1] if ended else None

    def forget_ended(self) -> None:
        """Let the connections of ended threads go (for a driver whose connections cannot
        change threads, SQLite's: the last reference gone, the driver closes them)."""
        with self._lock:
            for ident in self._ended():
                del self._by_thread[ident]

    def _ended(self) -> list[int]:
        return [ident for ident, (thread, _) in self._by_thread.items() if not thread.is_alive()]

    def cancel(self, thread_id: int | None = None) -> int:
        with self._lock:
            if thread_id is None:
                targets = [conn for _, conn in self._by_thread.values()]
            else:
                found = self._by_thread.get(thread_id)
                targets = [found[1]] if found is not None else []
        asked = 0
        for conn in targets:
            try:
                if not self._stop(conn):
                    continue
            except Exception:  # noqa: BLE001 - a connection closing meanwhile has nothing to stop
                continue
            asked += 1
        return asked
