"""The top bar: where you are, which database (masked URL and dialect), READ-ONLY, the time.

The time comes from the app's injected clock, so snapshots never depend on the real one;
a spinner shows while booking calls are in flight, so a slow database looks busy, not dead.
When the connection is lost a badge says so, with the time of the next attempt.
"""

from __future__ import annotations

from textual.app import RenderResult
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from ...text import visible

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    title: reactive[str] = reactive("")
    busy: reactive[int] = reactive(0)
    link: reactive[str] = reactive("connected")

    def __init__(self, title: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title = title
        self._frame = 0

    def on_mount(self) -> None:
        self.set_interval(1, self.refresh)
        self.watch(self.app, "busy", self._busy_changed, init=True)
        self.watch(self.app, "link", self._link_changed, init=True)
        self.watch(self.app, "retry_at", self._retry_changed, init=False)

    def _retry_changed(self, _retry_at: object) -> None:
        self.refresh()

    def _busy_changed(self, busy: int) -> None:
        self.busy = busy

    def _link_changed(self, link: str) -> None:
        self.link = link

    def link_badge(self) -> tuple[str, str] | None:
        """The connection badge: None while connected."""
        if self.link == "disconnected":
            retry_at = getattr(self.app, "retry_at", None)
            when = f" at {retry_at:%H:%M:%S}" if retry_at is not None else ""
            return (f" disconnected - retrying{when} ", "bold $text on $error")
        if self.link == "connecting":
            return (" connecting… ", "$text-warning")
        return None

    def render(self) -> RenderResult:
        app = self.app
        now = app.clock()  # type: ignore[attr-defined]
        left = Content.assemble(
            (" resbook ", "bold $text-accent"),
            ("▸ ", "$text-muted"),
            (self.title, "bold"),
        )
        busy: list[tuple[str, str] | str] = []
        if self.busy:
            self._frame = (self._frame + 1) % len(SPINNER)
            busy = [(f"{SPINNER[self._frame]} working", "$text-warning"), "  "]
        tail: list[tuple[str, str] | str] = [
            "  ",
            (app.booking.dialect, "$text-secondary"),  # type: ignore[attr-defined]
            "  ",
        ]
        if app.read_only:  # type: ignore[attr-defined]
            tail += [(" READ-ONLY ", "bold $text on $error"), "  "]
        badge = self.link_badge()
        if badge is not None:
            tail += [badge, "  "]
        tail += [(f"{now:%Y-%m-%d %H:%M:%S} UTC ", "bold")]
        fixed = left.cell_length + Content.assemble(*busy, *tail).cell_length + 1
        # A narrow terminal shortens the database URL, never the badge or the time.
        room = max(self.size.width - fixed, 0)
        url = visible(app.booking.description)  # type: ignore[attr-defined]
        if len(url) > room:
            url = (url[: room - 1] + "…") if room > 1 else ""
        right = Content.assemble(*busy, (url, "$text-muted"), *tail)
        gap = max(self.size.width - left.cell_length - right.cell_length, 1)
        return Content.assemble(left, " " * gap, right)
