"""``:``, a k9s-style command line: a one-line prompt at the foot of the screen.

``CommandLine`` is a modal screen, so no key typed into it can reach the screen below. It
dismisses with the parsed command (``command_parser``) when ``enter`` runs a line that
parses, or with None on ``escape`` (or ``enter`` on an empty line). A line that does not
parse leaves it open, the reason shown in red above the prompt, for correction.

Keys: ``tab`` completes the command word, a status, a theme or a resource name (again to
cycle when several fit), ``right`` at the end accepts the faded inline suggestion, and
``up``/``down`` walk the history, newest first. Lines that ran are handed to ``remember``
(the app saves them with ``settings.remember_command``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Footer, Input, Static

from ..text import visible
from .command_parser import (
    MAX_LENGTH,
    Command,
    CommandError,
    completions,
    hint,
    parse_command,
)
from .resource_match import Resource

__all__ = [
    "CommandInput",
    "CommandLine",
    "CommandSuggester",
    "HistoryWalk",
    "common_prefix",
    "suggestion_for",
]

CANDIDATES_SHOWN = 160  # characters of a Tab candidate list: two lines at 80 columns


def suggestion_for(value: str, names: Sequence[str]) -> str | None:
    """The first completion that extends ``value`` as typed (the faded inline text)."""
    for candidate in completions(value, names=names):
        extends = candidate[: len(value)].casefold() == value.casefold()
        if extends and candidate[len(value) :].strip():
            return candidate
    return None


def common_prefix(candidates: Sequence[str]) -> str:
    """The longest start every candidate shares (ignoring case), spelled as the first one."""
    if not candidates:
        return ""
    first = candidates[0]
    length = len(first)
    for other in candidates[1:]:
        length = min(length, len(other))
        for index in range(length):
            if first[index].casefold() != other[index].casefold():
                length = index
                break
    return first[:length]


class HistoryWalk:
    """Up and down through earlier lines as a shell does; the line being typed is kept and
    comes back after the newest entry."""

    def __init__(self, entries: Sequence[str]) -> None:
        self.entries = list(entries)  # oldest first
        self.position = len(self.entries)  # == len: at the line being typed
        self.draft = ""

    def older(self, current: str) -> str | None:
        if self.position == 0:
            return None
        if self.position == len(self.entries):
            self.draft = current
        self.position -= 1
        return self.entries[self.position]

    def newer(self) -> str | None:
        if self.position >= len(self.entries):
            return None
        self.position += 1
        if self.position == len(self.entries):
            return self.draft
        return self.entries[self.position]


class CommandSuggester(Suggester):
    """Inline suggestions from the same completions as Tab."""

    def __init__(self, names: Sequence[str]) -> None:
        # No cache: it is keyed by the text alone, and the suggestion is cheap to compute.
        super().__init__(use_cache=False, case_sensitive=True)
        self.names = names

    async def get_suggestion(self, value: str) -> str | None:
        return suggestion_for(value, self.names)


class CommandInput(Input):
    """The prompt's input: its keys are the command line's, so the footer lists them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Run"),
        Binding("tab", "screen.complete", "Complete"),
        # up and down scroll an Input (a ScrollView) unless taken here.
        Binding("up", "screen.older", "History", key_display="↑↓"),
        Binding("down", "screen.newer", "Newer", show=False),
        Binding("escape", "screen.cancel", "Cancel"),
    ]


class CommandLine(ModalScreen[Command | None]):
    """The ``:`` prompt; dismisses with a ``Command``, or None when cancelled."""

    DEFAULT_CSS = """
    CommandLine {
        align: left bottom;
    }
    CommandLine #command-bar {
        dock: bottom;
        margin-bottom: 1;  /* the footer's row: docked widgets on one edge overlap */
        height: auto;
        padding: 0 1;
        background: $panel;
        border-top: solid $primary;
    }
    CommandLine #command-message {
        height: auto;
        max-height: 3;
        color: $foreground;
    }
    CommandLine #command-message.-error {
        color: $text-error;
        text-style: bold;
    }
    CommandLine #command-row {
        height: 1;
    }
    CommandLine #command-prompt {
        width: 2;
        color: $text-primary;
        text-style: bold;
    }
    CommandLine #command-input {
        width: 1fr;
    }
    CommandLine #command-input > .input--suggestion {
        color: $text-muted;  /* faded, yet readable (the default is barely there) */
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def __init__(
        self,
        *,
        today: date,
        resources: Sequence[Resource] = (),
        history: Sequence[str] = (),
        remember: Callable[[str], object] | None = None,
    ) -> None:
        super().__init__()
        self.today = today
        self.resources = list(resources)
        self.names = [name for _id, name in self.resources]
        self.history = HistoryWalk(history)
        self.remember = remember
        self.error = ""  # the refusal on show, "" when none
        self._message_for: str | None = None  # the text the message describes, if pinned
        self._cycle: list[str] = []  # Tab's candidates while cycling through them
        self._cycle_at = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="command-bar"):
            yield Static(hint(""), id="command-message", markup=False)
            with Horizontal(id="command-row"):
                yield Static(":", id="command-prompt")
                yield CommandInput(
                    id="command-input",
                    placeholder="a command: hold 1342, holds released, res land, +7, help",
                    suggester=CommandSuggester(self.names),
                    max_length=MAX_LENGTH,
                    select_on_focus=False,
                    compact=True,
                )
        yield Footer()

    def on_mount(self) -> None:
        self.input.focus()

    @property
    def input(self) -> Input:
        return self.query_one("#command-input", Input)

    @property
    def message(self) -> str:
        """The line above the prompt, as shown."""
        return str(self.query_one("#command-message", Static).content)

    # ---- the message line ----------------------------------------------------------------

    def _show(self, text: str, *, error: bool = False, pinned: bool = False) -> None:
        """Show ``text`` above the prompt; pinned text stays until the line is edited."""
        box = self.query_one("#command-message", Static)
        box.update(text)
        box.set_class(error, "-error")
        self.error = text if error else ""
        self._message_for = self.input.value if pinned else None

    @on(Input.Changed, "#command-input")
    def _edited(self, event: Input.Changed) -> None:
        if event.value != self._message_for:
            self._show(hint(event.value))

    def _set_line(self, text: str) -> None:
        self.input.value = text
        self.input.cursor_position = len(text)

    # ---- keys ----------------------------------------------------------------------------

    @on(Input.Submitted, "#command-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    def action_run(self) -> None:
        text = self.input.value
        if not text.strip():
            self.dismiss(None)
            return
        try:
            command = parse_command(text, today=self.today, resources=self.resources)
        except CommandError as refused:
            self._show(str(refused), error=True, pinned=True)
            return
        if self.remember is not None:
            self.remember(text.strip().removeprefix(":").strip())
        self.dismiss(command)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_complete(self) -> None:
        text = self.input.value
        if self._cycle and text == self._cycle[self._cycle_at]:
            # Tab again on a candidate it put there: the next one.
            self._cycle_at = (self._cycle_at + 1) % len(self._cycle)
            self._set_line(self._cycle[self._cycle_at])
            self._show(self._candidates_text(self._cycle), pinned=True)
            return
        self._cycle = []
        candidates = completions(text, names=self.names)
        if not candidates:
            self._show(f"nothing completes '{visible(text.strip())}'", pinned=True)
            return
        if len(candidates) == 1:
            self._set_line(candidates[0])
            return
        shared = common_prefix(candidates)
        if len(shared) > len(text) and shared.casefold().startswith(text.casefold()):
            self._set_line(shared)
        else:
            self._cycle, self._cycle_at = candidates, 0
            self._set_line(candidates[0])
        self._show(self._candidates_text(candidates), pinned=True)

    def _candidates_text(self, candidates: Sequence[str]) -> str:
        # The words that differ, not the command repeated: "res" is the same on each.
        word = candidates[0].split(" ", 1)[0] + " "
        same_word = all(c.startswith(word) and len(c) > len(word) for c in candidates)
        shown = [visible(c[len(word) :] if same_word else c).strip() for c in candidates]
        text = f"{len(candidates)} fit: " + " · ".join(shown)
        if len(text) > CANDIDATES_SHOWN:
            text = text[: CANDIDATES_SHOWN - 1] + "…"
        return text

    def action_older(self) -> None:
        line = self.history.older(self.input.value)
        if line is not None:
            self._set_line(line)

    def action_newer(self) -> None:
        line = self.history.newer()
        if line is not None:
            self._set_line(line)
