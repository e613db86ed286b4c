"""The footer: the keys that work here, fitted to the width, never cut mid-word.

Textual's own Footer lays every key out in a row and an 80-column terminal cuts the row
wherever it ends, so ``? Help`` and ``q Quit`` were the first to go. This bar always
shows those two at the right; the screen's own keys come first on the left, then the
screen switches, and whatever does not fit is left out whole (``?`` lists every key).
A key greyed out (its action unavailable right now) is drawn dim. Clicking a key runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual import events
from textual.app import RenderResult
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input

# Always shown, at the right: help and quit, by whichever key works here (f1 and ctrl+q
# work in forms and text boxes too, where ? and q are typed).
PINNED = {"help": ("help", "help_now"), "quit": ("quit", "quit_now")}
LAST = ("reload", "switch_mode")  # refresh and the screen switches: the first to drop out
SEPARATOR = "  "


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    action: str
    namespace: DOMNode
    enabled: bool

    @property
    def width(self) -> int:
        return cell_len(self.key) + 1 + cell_len(self.label)


def _action_name(action: str) -> str:
    return action.split("(")[0].removeprefix("app.")


def _pinned(item: Item) -> bool:
    return any(_action_name(item.action) in names for names in PINNED.values())


def fit_items(items: list[Item], width: int) -> tuple[list[Item], list[Item]]:
    """(left, right): the pinned keys on the right; on the left, in order, what fits."""
    right = [item for item in items if _pinned(item)]
    others = [item for item in items if item not in right]
    first = [item for item in others if _action_name(item.action) not in LAST]
    last = sorted(
        (item for item in others if _action_name(item.action) in LAST),
        key=lambda item: LAST.index(_action_name(item.action)),
    )
    room = width - sum(item.width + len(SEPARATOR) for item in right) - 1
    left: list[Item] = []
    for item in first + last:
        need = item.width + len(SEPARATOR)
        if need <= room:
            left.append(item)
            room -= need
        elif item in first:
            room = -1  # keep the screen's own keys in order: none after one that is cut
    return left, right


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._spans: list[tuple[int, int, Item]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def items(self) -> list[Item]:
        found: list[Item] = []
        seen: set[str] = set()
        pinned: dict[str, Item] = {}
        for node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            key = self.app.get_key_display(binding)
            item = Item(key, binding.description, binding.action, node, enabled)
            name = _action_name(binding.action)
            group = next((g for g, names in PINNED.items() if name in names), None)
            if group is not None:
                # Help and quit: by their usual key, or, where that one does not work (a
                # text box takes ? and q, a form does not act on them), by f1 or ctrl+q.
                if enabled and (binding.show or group not in pinned):
                    pinned[group] = item
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            found.append(item)
        self._add_app_pinned(pinned)
        focused = self.screen.focused
        if isinstance(focused, Input):
            label = getattr(self.screen, "enter_label", "Apply")
            found.insert(0, Item("⏎", label, "submit", focused, True))
        # The screen's own keys before the app's (active_bindings lists the app's first).
        found.sort(key=lambda item: item.namespace is self.app)
        return found + [pinned[name] for name in PINNED if name in pinned]

    def _add_app_pinned(self, pinned: dict[str, Item]) -> None:
        """A form or a question leaves the app's keys out of its bindings, but the app's
        priority keys (f1, ctrl+q) still work there: show those."""
        app = self.app
        for bindings in app._bindings.key_to_bindings.values():  # noqa: SLF001
            for binding in bindings:
                name = _action_name(binding.action)
                group = next((g for g, names in PINNED.items() if name in names), None)
                if group is None or group in pinned or not binding.priority:
                    continue
                if app.check_action(name, ()):
                    key = app.get_key_display(binding)
                    pinned[group] = Item(key, binding.description, binding.action, app, True)

    def render(self) -> RenderResult:
        left, right = fit_items(self.items(), self.size.width)
        parts: list[tuple[str, str] | str] = [" "]
        self._spans = []
        x = 1
        for n, item in enumerate(left):
            if n:
                parts.append(SEPARATOR)
                x += len(SEPARATOR)
            x = self._append(parts, item, x)
        used = x + sum(item.width + len(SEPARATOR) for item in right)
        gap = max(self.size.width - used, 1)
        parts.append(" " * gap)
        x += gap
        for item in right:
            x = self._append(parts, item, x)
            parts.append(SEPARATOR)
            x += len(SEPARATOR)
        return Content.assemble(*parts)

    def _append(self, parts: list[tuple[str, str] | str], item: Item, x: int) -> int:
        parts.append((item.key, "bold $text-accent" if item.enabled else "$text-disabled"))
        parts.append(" ")
        parts.append((item.label, "$foreground" if item.enabled else "$text-disabled"))
        self._spans.append((x, x + item.width, item))
        return x + item.width

    async def on_click(self, event: events.Click) -> None:
        for start, end, item in self._spans:
            if start <= event.x < end and item.enabled:
                await self.app.run_action(item.action, item.namespace)
                return
