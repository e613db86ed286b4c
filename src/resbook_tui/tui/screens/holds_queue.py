"""The Holds screen's queue: a window of it read from the database, with its count, and
kept current by reading only the holds other connections changed.

The queue is never read whole: the table knows how many holds the filter matches and
holds a page of them (``PAGE``) around what is in view; scrolling past it asks for the
next page (``KeyedTable.RowsNeeded``). A change committed elsewhere costs a read of the
holds it names and the count; the page is read again only when one of them shows in it.
A hold someone else closed keeps its row, with its new status, until ``r`` or until its
page is left.
"""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual.widgets import Static

from ...booking import Booking
from ...booking.records import Hold
from ...text import visible
from ..format import plural
from ..live import ChangeSet
from ..widgets.keyed_table import KeyedTable
from ..widgets.title import set_title
from .base import Query
from .hold_actions import HoldActions
from .holds_data import (
    ACTIVE_COLUMNS,
    OTHER_COLUMNS,
    PAGE,
    Window,
    hold_row,
    load_change,
    load_reread,
    load_window,
    queue_order,
)

ACTIVE = "ACTIVE"


class QueueView(HoldActions):
    """The queue half of the Holds screen (HoldsScreen is the class to use)."""

    status: str | None
    customer: str | None
    typed: str
    _holds: list[Hold]
    _total: int
    _offset: int
    _shown: dict[str, Hold]
    _closed_holds: dict[int, Hold]
    _changed: set[int]
    _reread: bool

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#holds", KeyedTable)

    def queue_query(self) -> Query:
        app = self.rb
        status, text, offset = self.status, self.typed.strip(), self._offset
        known = frozenset(app.resource_names)

        def window(bk: Booking) -> Window:
            loaded = load_window(bk, status=status, text=text, offset=offset, known=known)
            return replace(loaded, clock_offset=app.sample_clock(bk))

        return window, self._window_loaded

    def live_update(self, changes: ChangeSet) -> None:
        """Collect what changed; the next live load reads those holds by id (and the page
        only if they show in it), not the queue."""
        self._reread = self._reread or changes.everything or "hold" in changes.unnamed
        self._changed |= changes.hold_ids
        if self._reread or self._changed:
            self.refresh_live()

    def live_query(self) -> Query | None:
        reread, changed = self._reread, frozenset(self._changed)
        self._reread, self._changed = False, set()
        if self.customer is not None:
            return self.query_data()
        status, text, offset, app = self.status, self.typed.strip(), self._offset, self.rb
        shown = frozenset(h.id for h in self._holds)
        known = frozenset(app.resource_names)
        if reread:

            def again(bk: Booking) -> Window:
                return load_reread(
                    bk, status=status, text=text, offset=offset, shown=shown, known=known
                )

            return again, self._window_changed
        span = (self._holds[0], self._holds[-1]) if self._holds else None

        def change(bk: Booking) -> Window | None:
            return load_change(
                bk,
                status=status,
                text=text,
                offset=offset,
                changed=changed,
                shown=shown,
                span=span,
                known_resources=known,
            )

        return change, self._window_changed

    def _current(self, window: Window) -> bool:
        return (
            self.customer is None
            and window.status == self.status
            and window.text == self.typed.strip()
        )

    def _window_loaded(self, window: Window) -> None:
        if not self._current(window):
            return
        self.rb.note_clock(window.clock_offset)
        if window.resources is not None:
            self.rb.remember_resources(window.resources)
        self._total, self._offset, self._holds = window.total, window.offset, window.holds
        self._closed_holds.clear()
        self._show_queue()

    def _window_changed(self, window: Window | None) -> None:
        if window is None or not self._current(window):
            return
        if window.resources is not None:
            self.rb.remember_resources(window.resources)
        own, shown = self.rb.own_holds, {h.id: h for h in self._holds}
        for hold in window.changed:  # someone else closed a hold on screen: keep its row
            if self.status != ACTIVE or hold.id not in shown or hold.id in own:
                continue
            if hold.status != ACTIVE:
                self._closed_holds[hold.id] = hold
        self._total = window.total
        if window.holds or not window.total:
            self._holds, self._offset = window.holds, window.offset
        self._show_queue()

    def on_keyed_table_rows_needed(self, message: KeyedTable.RowsNeeded) -> None:
        """Scrolled or moved past the loaded window: load the page around it."""
        if message.table is not self.table or self.customer is not None:
            return
        self._offset = max(message.first - PAGE // 4, 0)
        self._closed_holds.clear()  # kept in place only while their window is shown
        self.reload()

    def _show_queue(self) -> None:
        text = self.typed.strip()
        closed = list(self._closed_holds.values())
        rows = sorted([*self._holds, *closed], key=lambda h: queue_order(self.status, h))
        columns = ACTIVE_COLUMNS if self.status == ACTIVE else OTHER_COLUMNS
        if self.table.columns != columns:
            self.table.set_columns(columns)
        names = self.rb.resource_names
        self._shown = {str(h.id): h for h in rows}
        self.table.sync_window(
            ((str(h.id), hold_row(h, names, columns)) for h in rows),
            total=self._total + len(closed),
            offset=self._offset,
        )
        self.refresh_bindings()
        what = (self.status or "all").lower()
        self.table.empty_text = (
            f"No {what} holds." if not text else f"No {what} hold matches {visible(text)!r}."
        )
        title = Text()
        title.append(f" {(self.status or 'All').title()} holds", "bold")
        title.append(f" · {plural(self._total, 'hold')}")
        if text:
            title.append(" matching ")
            title.append(repr(visible(text)), "bold")
        elif self.status == ACTIVE:
            title.append(" · soonest expiry first", "dim")
        if closed:
            title.append(f" · {len(closed)} closed meanwhile (r clears)", "italic")
        title.append("  s: status", "dim")
        set_title(self.query_one("#holds-title", Static), title)
