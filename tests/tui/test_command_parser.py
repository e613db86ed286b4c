"""The ``:`` command line's parser, completions and resource matching (pure, no app)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from resbook_tui.tui.command_parser import (
    MAX_HOLD_ID,
    TRY,
    CommandError,
    FindEmail,
    GoToDate,
    Quit,
    SetTheme,
    ShowHelp,
    ShowHold,
    ShowHolds,
    ShowResource,
    Sweep,
    completions,
    find_verb,
    hint,
    parse_command,
)
from resbook_tui.tui.resource_match import match_resource, ranked_names

TODAY = date(2030, 1, 7)
FLEET = [
    (11, "Land Cruiser 01"),
    (12, "Land Cruiser 02"),
    (13, "Troop Carrier 01"),
    (14, "Uluru Sunrise"),
    (15, "Kings Canyon Rim"),
    (16, "Alice Nguyen"),
]
NAMES = [name for _id, name in FLEET]
HOLD_RANGE = "hold number must be a whole number from 1 to 9223372036854775807"
STATUS_TRY = "try: active, confirmed, released, expired, all"


def parse(text: str):
    return parse_command(text, today=TODAY, resources=FLEET)


def refused(text: str) -> str:
    with pytest.raises(CommandError) as caught:
        parse(text)
    message = str(caught.value)
    assert "\n" not in message and "\x1b" not in message
    return message


# ---- each command -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("hold 1342", ShowHold(1342)),
        ("hold #1342", ShowHold(1342)),
        ("HOLD 7", ShowHold(7)),
        (":hold 7", ShowHold(7)),
        ("  hold   7  ", ShowHold(7)),
        ("hold 1", ShowHold(1)),
        (f"hold {MAX_HOLD_ID}", ShowHold(MAX_HOLD_ID)),
        ("holds active", ShowHolds("ACTIVE")),
        ("holds confirmed", ShowHolds("CONFIRMED")),
        ("holds released", ShowHolds("RELEASED")),
        ("holds expired", ShowHolds("EXPIRED")),
        ("holds all", ShowHolds(None)),
        ("holds", ShowHolds("ACTIVE")),
        ("holds RELEASED", ShowHolds("RELEASED")),
        ("holds rel", ShowHolds("RELEASED")),
        ("holds c", ShowHolds("CONFIRMED")),
        ("email gita", FindEmail("gita")),
        ("email Gita@Example.COM", FindEmail("Gita@Example.COM")),
        ("date 2030-02-28", GoToDate(date(2030, 2, 28))),
        ("date today", GoToDate(TODAY)),
        ("date +3", GoToDate(date(2030, 1, 10))),
        ("today", GoToDate(TODAY)),
        ("+7", GoToDate(date(2030, 1, 14))),
        ("-1", GoToDate(date(2030, 1, 6))),
        ("+0", GoToDate(TODAY)),
        ("+3660", GoToDate(TODAY + timedelta(3660))),
        ("-3660", GoToDate(TODAY - timedelta(3660))),
        ("res Troop Carrier 01", ShowResource(13, "Troop Carrier 01")),
        ("sweep", Sweep()),
        ("theme light", SetTheme("textual-light")),
        ("theme dark", SetTheme("textual-dark")),
        ("theme L", SetTheme("textual-light")),
        ("theme textual-dark", SetTheme("textual-dark")),
        ("help", ShowHelp()),
        ("quit", Quit()),
        ("q", Quit()),
        ("Q", Quit()),
    ],
)
def test_each_command(text, command):
    assert parse(text) == command


# ---- prefixes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "verb"),
    [
        ("hold", "hold"),  # exact wins over being a prefix of holds
        ("holds", "holds"),
        ("e", "email"),
        ("em", "email"),
        ("d", "date"),
        ("to", "today"),
        ("r", "res"),
        ("s", "sweep"),
        ("sw", "sweep"),
        ("th", "theme"),
        ("he", "help"),  # h is ambiguous, he is not
        ("qu", "quit"),
        ("q", "quit"),
    ],
)
def test_unique_prefixes_name_a_command(word, verb):
    assert find_verb(word).word == verb


def test_a_prefix_works_in_a_whole_line():
    assert parse("sw") == Sweep()
    assert parse("he") == ShowHelp()
    assert parse("to") == GoToDate(TODAY)
    assert parse("th d") == SetTheme("textual-dark")
    assert parse("r kings") == ShowResource(15, "Kings Canyon Rim")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("h 1", "ambiguous command 'h': hold, holds, help"),
        ("ho 1", "ambiguous command 'ho': hold, holds"),
        ("hol 1", "ambiguous command 'hol': hold, holds"),
        ("t", "ambiguous command 't': today, theme"),
        ("holds a", "ambiguous status 'a': active, all"),
    ],
)
def test_ambiguous_prefixes_are_refused_naming_the_candidates(text, named):
    assert refused(text) == named


# ---- errors -------------------------------------------------------------------------------


def test_an_unknown_command_is_named_in_one_short_line():
    message = refused("frob")
    assert message == "unknown command 'frob': tab lists the commands"
    assert len(message) < 78  # one line at 80 columns
    assert refused("frob the widget").startswith("unknown command 'frob': ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", f"type a command ({TRY})"),
        ("   ", f"type a command ({TRY})"),
        (":", f"type a command ({TRY})"),
        ("hold", "hold needs a hold number: hold N"),
        ("hold x", f"{HOLD_RANGE}, not 'x'"),
        ("hold 1 2", "hold takes one number, not '1 2'"),
        ("hold -1", f"{HOLD_RANGE}, not '-1'"),
        ("hold 1.5", f"{HOLD_RANGE}, not '1.5'"),
        ("holds frozen", f"unknown status 'frozen' ({STATUS_TRY})"),
        ("holds active now", f"unknown status 'active now' ({STATUS_TRY})"),
        ("email", "email needs some text to look for: email TEXT"),
        ("email gita x", "an email has no spaces: 'gita x'"),
        ("date", "date needs a day: date YYYY-MM-DD"),
        ("date 2030-1-7", "date needs YYYY-MM-DD, not '2030-1-7'"),
        ("date tomorrow", "date needs YYYY-MM-DD, not 'tomorrow'"),
        ("date 2030-02-30", "no such date: 2030-02-30"),
        ("date 2041-01-01", "2041-01-01 is more than 3660 days from today"),
        ("date 2019-01-01", "2019-01-01 is more than 3660 days from today"),
        ("today please", "today takes no argument, not 'please'"),
        ("+7 days", "'+7' takes no argument, not 'days'"),
        ("sweep now", "sweep takes no argument, not 'now'"),
        ("help me", "help takes no argument, not 'me'"),
        ("quit now", "quit takes no argument, not 'now'"),
        ("res", "res needs a resource name: res NAME"),
        ("res zebra", "no resource matches 'zebra'"),
        ("theme", "theme needs light or dark"),
        ("theme blue", "unknown theme 'blue' (try: dark, light)"),
    ],
)
def test_malformed_commands_are_named_in_one_line(text, message):
    assert refused(text) == message


@pytest.mark.parametrize(
    "text", ["hold 0", "hold 9223372036854775808", "hold " + "9" * 150], ids=["0", "2^63", "long"]
)
def test_hold_ids_are_range_checked(text):
    assert refused(text).startswith("hold number must be a whole number from 1 to ")


@pytest.mark.parametrize(
    "text", ["+3661", "-3661", "+" + "1" * 150, "date +9999"], ids=["+", "-", "long", "date"]
)
def test_day_offsets_are_range_checked(text):
    assert refused(text).startswith("days from today must be a whole number from -3660 to 3660")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("hold 1\x1b[2J", "\\x1b"),
        ("\x07sweep", "\\x07"),
        ("email a\u202eb", "\\u202e"),
        ("res a\x00b\x9b", "\\x00, \\x9b"),
        ("hold\n1", "\\x0a"),
        ("hold\t1", "\\x09"),
    ],
)
def test_control_characters_are_refused_and_shown_escaped(text, shown):
    assert refused(text) == f"control characters are not allowed in a command: {shown}"


def test_echoed_text_is_cut_short_and_safe():
    message = refused("x" * 150)
    assert message.startswith("unknown command '" + "x" * 29 + "…': ")
    assert refused("a" * 201) == "a command is at most 200 characters"


def test_non_ascii_digits_are_not_numbers():
    assert refused("hold １２").startswith("hold number must be a whole number")
    assert refused("+٣").startswith("unknown command")


# ---- resources ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "picked", "note"),
    [
        ("land cruiser 01", 11, ""),  # exact, any case
        ("LAND  CRUISER  02", 12, ""),  # runs of spaces do not matter
        ("troop", 13, ""),  # the only prefix
        ("canyon", 15, ""),  # the start of a word
        ("rise", 14, ""),  # anywhere in the name
        ("lc02", 12, ""),  # letters in order
        ("kcr", 15, ""),
        ("land", 11, "2 resources match 'land'; showing Land Cruiser 01"),
        ("cruiser", 11, "2 resources match 'cruiser'; showing Land Cruiser 01"),
    ],
)
def test_resources_match_exactly_then_by_prefix_then_fuzzily(query, picked, note):
    found = match_resource(query, FLEET)
    assert found is not None
    assert (found.resource_id, found.note) == (picked, note)


def test_an_exact_name_beats_a_longer_name_it_is_the_prefix_of():
    fleet = [(1, "Land Cruiser 010"), (2, "Land Cruiser 01")]
    assert match_resource("land cruiser 01", fleet).resource_id == 2  # type: ignore[union-attr]


def test_a_prefix_beats_a_word_start_and_a_word_start_beats_a_substring():
    fleet = [(1, "Old Rim"), (2, "Rimrock"), (3, "Trim")]
    assert match_resource("rim", fleet).resource_id == 2  # type: ignore[union-attr]
    assert match_resource("rim", fleet[::2]).resource_id == 1  # type: ignore[union-attr]


def test_shared_names_pick_the_lowest_id_and_say_so():
    fleet = [(9, "Bus"), (4, "Bus"), (7, "Bush Walk")]
    found = match_resource("bus", fleet)
    assert found is not None
    assert (found.resource_id, found.note) == (4, "2 resources are named Bus; showing #4")


def test_no_match_and_no_resources_are_refused():
    assert match_resource("zebra", FLEET) is None
    assert match_resource("anything", []) is None
    with pytest.raises(CommandError, match="no resource matches 'Land'"):
        parse_command("res Land", today=TODAY)


def test_a_note_shows_a_name_with_control_characters_escaped():
    found = match_resource("bad", [(1, "Bad\x1b[31m 1"), (2, "Bad\x1b[31m 2")])
    assert found is not None
    assert found.name == "Bad\x1b[31m 1"  # the command carries the real name
    assert "\x1b" not in found.note and "\\x1b" in found.note


def test_fuzzy_matching_stays_fast_on_long_repetitive_names():
    # Textual's fuzzy search tries every placement of the letters; this would not finish.
    fleet = [(1, ("a" * 30 + "x") * 6 + "b")]
    found = match_resource("a" * 40 + "b", fleet)  # not a substring: letters in order
    assert found is not None and found.resource_id == 1
    assert match_resource("a" * 40 + "c", fleet) is None


# ---- completion and hints -----------------------------------------------------------------


def test_completing_the_command_word():
    assert completions("") == [
        "hold ", "holds ", "email ", "date ", "today", "res ", "sweep", "theme ", "help", "quit"
    ]  # fmt: skip
    assert completions("h") == ["hold ", "holds ", "help"]
    assert completions("HO") == ["hold ", "holds "]
    assert completions("sw") == ["sweep"]
    assert completions("frob") == []
    assert completions("+7") == []


def test_completing_arguments():
    assert completions("holds ") == [
        "holds active", "holds confirmed", "holds released", "holds expired", "holds all"
    ]  # fmt: skip
    assert completions("holds re") == ["holds released"]
    assert completions("hol re") == []  # the word is ambiguous: nothing to complete
    assert completions("theme ") == ["theme dark", "theme light"]
    assert completions("th l") == ["theme light"]
    assert completions("hold 1") == []
    assert completions("email g") == []


def test_completing_resource_names_best_first():
    assert completions("res land", names=NAMES) == ["res Land Cruiser 01", "res Land Cruiser 02"]
    assert completions("res kcr", names=NAMES) == ["res Kings Canyon Rim"]
    assert completions("res ", names=NAMES)[0] == "res Alice Nguyen"  # all, alphabetically
    assert completions("res zebra", names=NAMES) == []


def test_names_that_cannot_be_typed_are_not_offered():
    assert ranked_names("bad", ["Bad\x1b 1", "Bad 2", "Bad 2"]) == ["Bad 2"]
    assert completions("hold \x1b") == []


def test_the_hint_describes_what_is_being_typed():
    assert hint("") == TRY
    assert hint("hold") == "hold N: open hold N"
    assert hint("+3") == "+N: days from today (+7, -1)"
    assert hint("h") == "ambiguous command 'h': hold, holds, help"
    assert hint("frob").startswith("unknown command 'frob'")
