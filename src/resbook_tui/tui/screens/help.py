"""``?``: every key of every screen, built from the bindings themselves so it cannot lie.

In read-only mode the keys that change data are left out, as they are from the footers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from ..app import ResbookApp

EXTRA_GLOBAL = [
    (":", "Command line"),
    ("ctrl+p", "Command palette"),
    ("r", "Refresh"),
]
# Textual's own focus key, which picks the table c, x and + act on (in the day detail, and
# in the Holds screen's customer view).
TABLE_SWITCH = [("tab", "Holds / allocations")]
FORM_KEYS = [
    ("tab", "Next field"),
    ("shift+tab", "Previous field"),
    ("enter", "Submit what you typed"),
    ("ctrl+s", "Submit"),
    ("esc", "Cancel"),
    ("y", "Yes, in a question"),
    ("n  enter", "No: the default"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", key_display="esc"),
        Binding("question_mark", "dismiss", "Close", key_display="?", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="modal-box") as box:
            box.border_title = "Keys"
            box.border_subtitle = "escape closes"
            with Grid(id="help-grid"):
                for title, rows in self.sections():
                    yield Static(section_text(title, rows), classes="help-section")
        yield KeyBar()

    def on_mount(self) -> None:
        self._fit_columns()

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        # Four columns of sections where they fit, two on an 80-column terminal.
        self.query_one("#help-grid", Grid).styles.grid_size_columns = (
            4 if self.app.size.width >= 110 else 2
        )

    def sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        from ..widgets.heatmap_grid import HeatmapGrid
        from ..widgets.keyed_table import KeyedTable
        from .day import DayScreen
        from .heatmap import HeatmapScreen
        from .hold_detail import HoldDetailScreen
        from .holds import HoldsScreen
        from .resources import ResourcesScreen

        app: ResbookApp = self.app  # type: ignore[assignment]
        read_only = app.read_only

        def keys(*owners: type, skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
            rows: list[tuple[str, str]] = []
            seen: set[tuple[str, str]] = set()
            for owner in owners:
                mutating: frozenset[str] = getattr(owner, "MUTATING", frozenset())
                for binding in _own_bindings(owner):
                    action = binding.action.split("(")[0]
                    if action in skip or (binding.key, action) in seen:
                        continue
                    if read_only and action in mutating:
                        continue
                    seen.add((binding.key, action))
                    rows.append((app.get_key_display(binding), binding.description))
            return rows

        skip = frozenset({"command_palette", "command_line"})
        everywhere = keys(type(app), skip=skip) + EXTRA_GLOBAL
        return [
            ("Everywhere", everywhere),
            ("1 Resources", keys(ResourcesScreen)),
            ("2 Heatmap", keys(HeatmapScreen, HeatmapGrid, skip=frozenset({"reload"}))),
            ("Day detail", keys(DayScreen, skip=frozenset({"reload"})) + TABLE_SWITCH),
            ("3 Holds", keys(HoldsScreen, skip=frozenset({"reload"})) + TABLE_SWITCH),
            ("Hold detail", keys(HoldDetailScreen, skip=frozenset({"reload"}))),
            ("Tables", keys(KeyedTable, skip=frozenset({"scroll_left", "scroll_right"}))),
            ("Forms and questions", FORM_KEYS),
        ]


def _own_bindings(owner: type) -> list[Binding]:
    """The bindings a class declares itself (not those it inherits)."""
    found: list[Binding] = []
    for item in owner.__dict__.get("BINDINGS", []):
        if isinstance(item, Binding):
            found.append(item)
        else:
            found.append(Binding(*item))
    return found


def section_text(title: str, rows: list[tuple[str, str]]) -> Text:
    text = Text()
    text.append(f"{title}\n", "bold underline")
    width = max((len(k) for k, _ in rows), default=0)
    for key, description in rows:
        text.append(f"{key:>{width}}", "bold")
        text.append(f"  {description}\n")
    return text
