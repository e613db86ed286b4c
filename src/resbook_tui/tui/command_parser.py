"""What the ``:`` command line accepts: one line of text in, one typed command out.

Pure and synchronous (no Textual), so every rule is tested directly. A line is a command
word and its argument, or a day offset such as ``+7``. A command word may be shortened to
any prefix that names one command only (``sw`` is sweep; ``h`` could be help, hold or
holds, so it is refused); statuses and themes may be shortened the same way. Anything
else raises ``CommandError`` with one line that names the problem and echoes the text
safely (control characters escaped, long text cut).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ..booking.records import HOLD_STATUSES
from ..text import control_characters, has_control_characters, visible
from .resource_match import Resource, match_resource, ranked_names

MAX_HOLD_ID = 2**63 - 1  # the hold id column is a BIGINT
MAX_DAYS_AWAY = 3660  # about ten years either side of today
MAX_LENGTH = 200
SHOWN_LENGTH = 30  # at most this much of the operator's text is echoed in an error

STATUSES = (*(status.lower() for status in HOLD_STATUSES), "all")
THEMES = {"dark": "textual-dark", "light": "textual-light"}


class CommandError(ValueError):
    """A line the command line refuses; ``str(error)`` is one line saying why."""


# ---- the commands ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShowHold:
    """``hold N``: the hold's detail."""

    hold_id: int


@dataclass(frozen=True)
class ShowHolds:
    """``holds STATUS``: the Holds screen filtered to one status (None: every status)."""

    status: str | None  # "ACTIVE", "CONFIRMED", "RELEASED", "EXPIRED", or None for all


@dataclass(frozen=True)
class FindEmail:
    """``email TEXT``: holds whose customer email contains the text (any case)."""

    text: str


@dataclass(frozen=True)
class GoToDate:
    """``date D``, ``today``, ``+N``, ``-N``: the heatmap at that day."""

    day: date


@dataclass(frozen=True)
class ShowResource:
    """``res NAME``: that resource on the heatmap. ``note`` is non-empty when the name
    matched several resources and this one was picked; show it to the operator."""

    resource_id: int
    name: str
    note: str = ""


@dataclass(frozen=True)
class Sweep:
    """``sweep``: expire overdue holds now."""


@dataclass(frozen=True)
class SetTheme:
    """``theme light|dark``."""

    theme: str  # "textual-light" or "textual-dark"


@dataclass(frozen=True)
class ShowHelp:
    """``help``: the keys screen."""


@dataclass(frozen=True)
class Quit:
    """``quit`` or ``q``."""


Command = (
    ShowHold | ShowHolds | FindEmail | GoToDate | ShowResource | Sweep | SetTheme | ShowHelp | Quit
)


# ---- the command words ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    today: date
    resources: Sequence[Resource]


@dataclass(frozen=True)
class Verb:
    word: str
    usage: str  # as listed after "try:"
    summary: str  # what it does, for the hint line
    parse: Callable[[str, _Context], Command]
    takes_argument: bool = True


def _no_argument(word: str, command: Command) -> Callable[[str, _Context], Command]:
    def parse(argument: str, _context: _Context) -> Command:
        if argument:
            raise CommandError(f"{word} takes no argument, not {_shown(argument)}")
        return command

    return parse


def _bare(word: str, summary: str, command: Command) -> Verb:
    """A command that takes no argument."""
    return Verb(word, word, summary, _no_argument(word, command), takes_argument=False)


def _hold(argument: str, _context: _Context) -> Command:
    if not argument:
        raise CommandError("hold needs a hold number: hold N")
    if len(argument.split()) > 1:
        raise CommandError(f"hold takes one number, not {_shown(argument)}")
    number = argument.removeprefix("#")
    return ShowHold(_whole_number(number, low=1, high=MAX_HOLD_ID, what="hold number"))


def _holds(argument: str, _context: _Context) -> Command:
    if not argument:
        return ShowHolds("ACTIVE")  # the Holds screen's own default
    status = _pick(argument, STATUSES, what="status")
    return ShowHolds(None if status == "all" else status.upper())


def _email(argument: str, _context: _Context) -> Command:
    if not argument:
        raise CommandError("email needs some text to look for: email TEXT")
    if any(character.isspace() for character in argument):
        raise CommandError(f"an email has no spaces: {_shown(argument)}")
    return FindEmail(argument)


def _date(argument: str, context: _Context) -> Command:
    if not argument:
        raise CommandError("date needs a day: date YYYY-MM-DD")
    if _is_offset(argument):
        return _offset(argument, context)
    if argument.casefold() == "today":
        return GoToDate(context.today)
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", argument):
        raise CommandError(f"date needs YYYY-MM-DD, not {_shown(argument)}")
    try:
        day = date.fromisoformat(argument)
    except ValueError:
        raise CommandError(f"no such date: {argument}") from None
    if abs((day - context.today).days) > MAX_DAYS_AWAY:
        raise CommandError(f"{argument} is more than {MAX_DAYS_AWAY} days from today")
    return GoToDate(day)


def _today(argument: str, context: _Context) -> Command:
    if argument:
        raise CommandError(f"today takes no argument, not {_shown(argument)}")
    return GoToDate(context.today)


def _offset(word: str, context: _Context) -> Command:
    days = _whole_number(word, low=-MAX_DAYS_AWAY, high=MAX_DAYS_AWAY, what="days from today")
    return GoToDate(context.today + timedelta(days))


def _resource(argument: str, context: _Context) -> Command:
    if not argument:
        raise CommandError("res needs a resource name: res NAME")
    found = match_resource(argument, context.resources)
    if found is None:
        raise CommandError(f"no resource matches {_shown(argument)}")
    return ShowResource(found.resource_id, found.name, found.note)


def _theme(argument: str, _context: _Context) -> Command:
    if not argument:
        raise CommandError("theme needs light or dark")
    folded = argument.casefold()
    for theme in THEMES.values():
        if folded == theme:  # the full name also works: theme textual-light
            return SetTheme(theme)
    return SetTheme(THEMES[_pick(argument, tuple(THEMES), what="theme")])


VERBS = (
    Verb("hold", "hold N", "open hold N", _hold),
    Verb("holds", "holds STATUS", f"list holds: {', '.join(STATUSES)}", _holds),
    Verb("email", "email TEXT", "holds whose email contains TEXT", _email),
    Verb("date", "date D", "heatmap at day D (YYYY-MM-DD)", _date),
    Verb("today", "today", "heatmap at today", _today, takes_argument=False),
    Verb("res", "res NAME", "a resource on the heatmap (prefix or fuzzy)", _resource),
    _bare("sweep", "expire overdue holds now", Sweep()),
    Verb("theme", "theme", "theme light or theme dark", _theme),
    _bare("help", "every key", ShowHelp()),
    _bare("quit", "leave resbook (also q)", Quit()),
)
_BY_WORD = {verb.word: verb for verb in VERBS}
_ALIASES = {"q": "quit"}
OFFSET_USAGE = ("+N", "days from today (+7, -1)")


def _try_list() -> str:
    """Every command's usage, with +N beside today, where it belongs by meaning."""
    usages: list[str] = []
    for verb in VERBS:
        usages.append(verb.usage)
        if verb.word == "today":
            usages.append(OFFSET_USAGE[0])
    return "try: " + ", ".join(usages)


TRY = _try_list()


# ---- parsing --------------------------------------------------------------------------------


def parse_command(text: str, *, today: date, resources: Sequence[Resource] = ()) -> Command:
    """The command ``text`` names. ``today`` anchors ``today`` and ``+N``; ``resources`` are
    the (id, name) pairs ``res`` matches against. Raises ``CommandError`` (one line)."""
    if has_control_characters(text):
        found = ", ".join(control_characters(text))
        raise CommandError(f"control characters are not allowed in a command: {found}")
    line = text.strip().removeprefix(":").strip()
    if not line:
        raise CommandError(f"type a command ({TRY})")
    if len(line) > MAX_LENGTH:
        raise CommandError(f"a command is at most {MAX_LENGTH} characters")
    word, argument = split_line(line)
    context = _Context(today, resources)
    if _is_offset(word):
        if argument:
            raise CommandError(f"{_shown(word)} takes no argument, not {_shown(argument)}")
        return _offset(word, context)
    return find_verb(word).parse(argument, context)


def split_line(line: str) -> tuple[str, str]:
    """(command word, the rest with its outer spaces removed)."""
    parts = line.strip().split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def find_verb(word: str) -> Verb:
    """The command ``word`` names exactly or as a unique prefix; else ``CommandError``."""
    folded = word.casefold()
    folded = _ALIASES.get(folded, folded)
    if folded in _BY_WORD:
        return _BY_WORD[folded]
    found = [verb.word for verb in VERBS if verb.word.startswith(folded)]
    if len(found) == 1:
        return _BY_WORD[found[0]]
    if found:
        raise CommandError(f"ambiguous command {_shown(word)}: {', '.join(found)}")
    raise CommandError(f"unknown command {_shown(word)}: tab lists the commands")


def _pick(text: str, options: Sequence[str], *, what: str) -> str:
    """The option ``text`` names exactly or as a unique prefix (any case)."""
    folded = text.casefold()
    if folded in options:
        return folded
    found = [option for option in options if option.startswith(folded)]
    if len(found) == 1:
        return found[0]
    if found:
        raise CommandError(f"ambiguous {what} {_shown(text)}: {', '.join(found)}")
    raise CommandError(f"unknown {what} {_shown(text)} (try: {', '.join(options)})")


def _is_offset(word: str) -> bool:
    return re.fullmatch(r"[+-][0-9]+", word) is not None


def _whole_number(text: str, *, low: int, high: int, what: str) -> int:
    limits = f"{what} must be a whole number from {low} to {high}"
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise CommandError(f"{limits}, not {_shown(text)}")
    # Compare lengths first: int() of thousands of digits is slow, or refused outright.
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > len(str(max(abs(low), abs(high)))):
        raise CommandError(f"{limits}, not {_shown(text)}")
    value = int(text)
    if not low <= value <= high:
        raise CommandError(f"{limits}, not {_shown(text)}")
    return value


def _shown(text: str) -> str:
    """The operator's text, quoted, safe for a terminal and short enough for one line."""
    safe = visible(text)
    if len(safe) > SHOWN_LENGTH:
        safe = safe[: SHOWN_LENGTH - 1] + "…"
    return f"'{safe}'"


# ---- completion -----------------------------------------------------------------------------


def completions(text: str, *, names: Sequence[str] = ()) -> list[str]:
    """Whole lines ``text`` could become, best first (for Tab and the inline suggestion).

    The command word completes to commands it is a prefix of; after ``holds`` the statuses,
    after ``theme`` light and dark, after ``res`` the resource ``names`` that match.
    """
    if has_control_characters(text) or len(text) > MAX_LENGTH:
        return []
    line = text.lstrip()
    word, argument = split_line(line)
    if not line[len(word) :]:  # still typing the word
        folded = word.casefold()
        return [
            verb.word + (" " if verb.takes_argument else "")
            for verb in VERBS
            if verb.word.startswith(folded)
        ]
    try:
        verb = find_verb(word)
    except CommandError:
        return []
    if verb.word == "holds":
        options: Sequence[str] = [s for s in STATUSES if s.startswith(argument.casefold())]
    elif verb.word == "theme":
        options = [t for t in THEMES if t.startswith(argument.casefold())]
    elif verb.word == "res":
        options = ranked_names(argument, names)
    else:
        return []
    return [f"{verb.word} {option}" for option in options]


def hint(text: str) -> str:
    """One line about what is being typed: the command's usage, or every command."""
    word, _argument = split_line(text)
    if not word:
        return TRY
    if _is_offset(word):
        return f"{OFFSET_USAGE[0]}: {OFFSET_USAGE[1]}"
    try:
        verb = find_verb(word)
    except CommandError as error:
        return str(error)
    return f"{verb.usage}: {verb.summary}"
