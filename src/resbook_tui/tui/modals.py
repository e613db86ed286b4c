"""Forms, confirmations and one-line prompts, as modal screens.

A form is a list of ``Field``s, each with a parser that turns its text into a value or
raises ``ValueError`` with a short reason. Fields are checked as you type and the reason
shows beside the field; submitting a form with a bad field is refused there, so only
well-formed requests ever reach the engine. A form given ``on_submit`` stays open while
its change runs: the engine's refusal then shows in the form, under the values, so the
operator corrects them instead of typing them again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from ..text import visible
from .parsers import Parser
from .widgets.key_bar import KeyBar

BOX_CHROME = 8  # a form's border, padding and button row, in lines


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    parse: Parser
    value: str = ""
    placeholder: str = ""
    choices: Sequence[str] | None = None  # a fixed list: shown as a Select


# ---- screens --------------------------------------------------------------------------------


class FormBody(VerticalScroll, can_focus=False):
    """A form's fields: scrolls when the terminal is short; focus goes to the fields."""


class FormModal(ModalScreen[dict[str, Any] | None]):
    """A form: dismisses with {field name: parsed value}, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", key_display="esc"),
        Binding("ctrl+s", "submit", "Submit"),
        Binding("tab", "app.focus_next", "Next", show=False),
    ]

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        *,
        submit_label: str = "Save",
        note: str = "",
    ) -> None:
        super().__init__()
        self.form_title = title
        self.fields = list(fields)
        self.submit_label = submit_label
        self.note = note
        # Called with the values instead of dismissing; the caller dismisses on success.
        self.on_submit: Callable[[dict[str, Any]], Any] | None = None
        self.working = False
        self.armed = False  # a bare enter on the untouched form moved to the submit button

    def compose(self) -> ComposeResult:
        with Vertical(id="form", classes="modal-box") as box:
            box.border_title = visible(self.form_title)
            with FormBody(id="form-body"):
                yield from self._compose_body()
            with Horizontal(classes="buttons"):
                yield Button(self.submit_label, variant="primary", id="submit")
                yield Button("Cancel", id="cancel")
        yield KeyBar()

    @property
    def enter_label(self) -> str:
        return self.submit_label

    def _compose_body(self) -> ComposeResult:
        if self.note:
            yield Static(visible(self.note), classes="note", markup=False)
        for field in self.fields:
            with Horizontal(classes="field-row"):
                yield Label(field.label, classes="field-label")
                if field.choices is not None:
                    yield Select(
                        [(c.title(), c) for c in field.choices],
                        value=field.value or field.choices[0],
                        allow_blank=False,
                        id=f"field-{field.name}",
                        classes="field-input",
                    )
                else:
                    yield Input(
                        field.value,
                        placeholder=field.placeholder,
                        id=f"field-{field.name}",
                        classes="field-input",
                    )
                yield Label("", id=f"message-{field.name}", classes="field-message")
        yield Static("", id="form-error", classes="form-error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#form-error").display = False
        self._fit()
        # Toasts from before the form would cover it; what matters now is in the form.
        self.app.clear_notifications()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        # The fields scroll and the buttons stay: on a 24-line terminal a form of four
        # fields with a refusal under them is taller than the screen.
        room = self.app.size.height - BOX_CHROME
        self.query_one("#form-body").styles.max_height = max(room, 3)

    def show_error(self, message: str) -> None:
        """A refusal (or trouble) under the fields; the values stay as typed."""
        box = self.query_one("#form-error", Static)
        box.update(message)
        box.display = bool(message)
        if message:  # under the fields, which scroll on a short screen: bring it into view
            self.call_after_refresh(box.scroll_visible, animate=False)

    def set_working(self, working: bool) -> None:
        self.working = working
        button = self.query_one("#submit", Button)
        button.disabled = working
        button.label = "Working…" if working else self.submit_label

    def _text(self, field: Field) -> str:
        widget = self.query_one(f"#field-{field.name}")
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        assert isinstance(widget, Input)
        return widget.value

    def _check(self, field: Field) -> tuple[bool, Any]:
        """Parse one field and show its verdict beside it."""
        message = self.query_one(f"#message-{field.name}", Label)
        widget = self.query_one(f"#field-{field.name}")
        try:
            value = field.parse(self._text(field))
        except ValueError as exc:
            message.update(f"✗ {exc}")
            message.add_class("-invalid")
            widget.add_class("-invalid")
            return False, None
        message.update("✓")
        message.remove_class("-invalid")
        widget.remove_class("-invalid")
        return True, value

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._edited(event.input.id)

    @on(Select.Changed)
    def _selected(self, event: Select.Changed) -> None:
        self._edited(event.select.id)

    def _edited(self, widget_id: str | None) -> None:
        """A field changed: its verdict beside it, and the refusal of the values as they
        were goes (it no longer says why these would be refused)."""
        if self.query_one("#form-error").display:
            self.show_error("")
        name = (widget_id or "").removeprefix("field-")
        for field in self.fields:
            if field.name == name:
                self._check(field)

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        """Enter submits what the operator typed. In a form left as it opened (every value
        a default), enter moves to the submit button first: two keys that were never
        meant as "do it" (``+`` then ``enter``) cannot change anything."""
        event.stop()
        if self._as_opened() and not self.armed and self._all_valid():
            self.armed = True
            self.query_one("#submit", Button).focus()
            self.show_error(f"Nothing changed yet: enter again to {self.submit_label.lower()}.")
            return
        self.action_submit()

    def _as_opened(self) -> bool:
        """Every field still holds the value the form opened with."""
        opened = {f.name: f.value or (f.choices[0] if f.choices else "") for f in self.fields}
        return all(self._text(field) == opened[field.name] for field in self.fields)

    @on(Button.Pressed, "#submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def _all_valid(self) -> bool:
        return all(self._check(field)[0] for field in self.fields)

    def action_submit(self) -> None:
        values: dict[str, Any] = {}
        first_bad = None
        for field in self.fields:
            ok, value = self._check(field)
            if ok:
                values[field.name] = value
            elif first_bad is None:
                first_bad = field
        if first_bad is not None:
            self.query_one(f"#field-{first_bad.name}").focus()
            return
        if self.on_submit is None:
            self.dismiss(values)
            return
        if self.working:
            return  # one submission at a time
        self.show_error("")
        self.on_submit(values)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """A yes/no question about a change, naming exactly what it acts on.

    The safe answer is the default: the focused button is "Cancel", so ``enter`` alone
    (typed on from a filter, say) cancels. ``y`` or pressing the confirm button confirms;
    ``n`` and ``escape`` cancel; the arrows move between the buttons. The key bar says
    "esc No", not "Cancel": the change asked about may itself be a cancellation.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("escape", "answer(False)", "No", key_display="esc"),
        Binding("n", "answer(False)", "No", show=False),
        Binding("left", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),
    ]

    def __init__(
        self,
        question: str,
        *,
        subject: Sequence[tuple[str, str]] = (),
        confirm_label: str = "Yes",
        keep_label: str = "Cancel",
        title: str = "Confirm",
    ) -> None:
        super().__init__()
        self.question = question
        self.subject = list(subject)
        self.confirm_label = confirm_label
        self.keep_label = keep_label
        self.box_title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box confirm") as box:
            box.border_title = self.box_title
            yield Static(visible(self.question), classes="question", markup=False)
            if self.subject:
                yield Static(subject_text(self.subject), classes="subject")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.keep_label} (n)", id="no")
                yield Button(f"{self.confirm_label} (y)", variant="error", id="yes")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()
        self.app.clear_notifications()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


def subject_text(rows: Sequence[tuple[str, str]]) -> Text:
    """What a confirmation acts on, one labelled line each (stored text made visible)."""
    text = Text()
    width = max(len(label) for label, _ in rows)
    for n, (label, value) in enumerate(rows):
        if n:
            text.append("\n")
        text.append(f"{label:>{width}}  ", "dim")
        text.append(visible(value), "bold")
    return text


def prompt(
    title: str,
    label: str,
    parse: Parser,
    *,
    value: str = "",
    placeholder: str = "",
    submit_label: str = "OK",
) -> FormModal:
    """A one-field form (find holds by email, go to a date, extend by minutes)."""
    return FormModal(
        title, [Field("value", label, parse, value, placeholder)], submit_label=submit_label
    )
