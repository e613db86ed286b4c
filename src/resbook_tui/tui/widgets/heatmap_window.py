"""Which cells the heatmap has loaded, and asking for the visible window when it has not.

The grid never reads the database: when the visible window (with a margin) has cells it
has not seen, it posts one ``WindowNeeded`` and the screen answers with ``set_cells``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from textual.scroll_view import ScrollView

from ...booking.records import Cell
from .heatmap_messages import WindowNeeded
from .heatmap_paint import CELL_W, HEADER_H, LABEL_W, GridRow


class WindowLoading(ScrollView):
    """The loading half of the heatmap grid."""

    origin: date
    days: int
    _rows: list[GridRow]
    _cells: dict[tuple[int, date], Cell]
    _known: set[tuple[int, date]]
    _version: int
    _last_request: tuple[tuple[int, ...], date, date] | None
    cursor_day: int
    _ahead: int  # the last vertical move: 1 down, -1 up, 0 none (read ahead that way)

    @property
    def cursor_date(self) -> date:
        return self.origin + timedelta(self.cursor_day)

    def _visible_days(self) -> int:
        return max((self.scrollable_content_region.width - LABEL_W) // CELL_W, 1)

    def _visible_rows(self) -> int:
        # The horizontal scrollbar takes the bottom line: a row under it is out of sight.
        return max(self.scrollable_content_region.height - HEADER_H, 1)

    def _first_day(self) -> int:
        return int(self.scroll_x) // CELL_W

    def _first_row(self) -> int:
        return int(self.scroll_y)

    def _post_cursor(self) -> None:
        raise NotImplementedError

    def set_cells(
        self, cells: Iterable[Cell], resource_ids: Sequence[int], date_from: date, date_to: date
    ) -> None:
        """Take the answer to a WindowNeeded: every (resource, date) of it is now known."""
        span = [date_from + timedelta(n) for n in range((date_to - date_from).days + 1)]
        for rid in resource_ids:
            for day in span:
                key = (rid, day)
                self._known.add(key)
                self._cells.pop(key, None)
        for cell in cells:
            self._cells[(cell.resource_id, cell.date)] = cell
        self._version += 1
        self._last_request = None
        self.refresh()
        self._post_cursor()
        self._check_window()

    def invalidate(self) -> None:
        """Forget what is loaded (keeping it on screen until fresh values arrive); what
        is off screen is read again when next in view, not ahead of it."""
        self._known.clear()
        self._ahead = 0
        self._version += 1
        self._last_request = None
        self._check_window()

    def forget(self, resource_ids: Iterable[int]) -> None:
        """Mark what is loaded for these resources stale, fetching nothing now: their
        cells are fetched afresh when next in view (old values stay on screen until then)."""
        ids = set(resource_ids)
        if ids:
            self._known = {key for key in self._known if key[0] not in ids}
            self._last_request = None

    def visible_window(self) -> tuple[list[int], date, date]:
        first_row = self._first_row()
        rows = self._rows[first_row : first_row + self._visible_rows()]
        ids = [row.resource.id for row in rows if row.resource is not None]
        first = self.origin + timedelta(self._first_day())
        # Scrolled to the end, the view shows the blank column past the window's last
        # day: not a day to load.
        shown = min(self._visible_days(), self.days - self._first_day())
        last = first + timedelta(max(shown, 1) - 1)
        return ids, first, last

    def window_loaded(self) -> bool:
        ids, first, last = self.visible_window()
        days = [first + timedelta(n) for n in range((last - first).days + 1)]
        return all((rid, day) in self._known for rid in ids for day in days)

    def _missing(self, rows: tuple[int, int], first: date, last: date) -> tuple[int, ...]:
        """The resources of rows [a, b) with a cell between ``first`` and ``last`` not
        loaded (rows already loaded are not asked for again)."""
        days = [first + timedelta(n) for n in range((last - first).days + 1)]
        known = self._known
        return tuple(
            row.resource.id
            for row in self._rows[max(rows[0], 0) : max(rows[1], 0)]
            if row.resource is not None and not all((row.resource.id, day) in known for day in days)
        )

    def _check_window(self) -> None:
        """Ask for what is not loaded of the visible window with a margin (half a screen
        above and below, a week before, two after); once that is there, read one screen
        ahead in the direction the cursor last moved, so that the next page is drawn from
        memory while its own next page loads."""
        if not self.is_mounted or not self._rows or self.size.width == 0:
            return
        top, height = self._first_row(), self._visible_rows()
        margin = height // 2
        first = self.origin + timedelta(max(self._first_day() - 7, 0))
        last = self.origin + timedelta(
            min(self._first_day() + self._visible_days() + 14, self.days) - 1
        )
        rows = (top - margin, top + height + margin)
        if self.window_loaded():
            if not self._ahead:
                return
            # The margin too: a short scroll moves it past rows never read.
            rows = (
                (top - margin, rows[1] + height)
                if self._ahead > 0
                else (top - margin - height, rows[1])
            )
        ids = self._missing(rows, first, last)
        request = (ids, first, last)
        if not ids or request == self._last_request:
            return
        self._last_request = request
        self.post_message(WindowNeeded(ids, first, last))
