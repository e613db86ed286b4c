"""The settings file: defaults when it is missing or damaged, atomic saves that never raise."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from resbook_tui import config, settings
from resbook_tui.settings import (
    DEFAULT_THEME,
    HISTORY_LIMIT,
    Settings,
    load_settings,
    remember_command,
    remember_theme,
    save_settings,
    update_settings,
)

DEFAULTS = Settings(theme="textual-dark", command_history=())


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "app" / "settings.json"


def write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)


# ---- where ----------------------------------------------------------------------------------


def test_the_file_sits_in_the_same_app_directory_as_the_default_database(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "appdata"))
    assert settings.app_dir() == config.app_dir()
    assert settings.settings_path() == config.app_dir() / "settings.json"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the XDG rule is Linux's")
def test_xdg_config_home_is_honoured(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert settings.settings_path() == tmp_path / "resbook" / "settings.json"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert settings.settings_path() == Path.home() / ".config" / "resbook" / "settings.json"


# ---- loading never fails --------------------------------------------------------------------


def test_a_missing_file_gives_the_defaults(path):
    assert load_settings(path) == DEFAULTS
    assert not path.exists()  # loading does not create it


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"not json at all",
        b"\xff\xfe\x00garbage",  # not UTF-8
        b"[1, 2, 3]",
        b'"textual-light"',
        b"null",
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON parser's recursion
        b"1" * 5000,  # an integer too long to convert
    ],
    ids=["empty", "cut", "text", "bytes", "list", "string", "null", "deep", "long-int"],
)
def test_a_corrupt_file_gives_the_defaults(path, content):
    write(path, content)
    assert load_settings(path) == DEFAULTS


def test_an_unreadable_file_gives_the_defaults(path, monkeypatch):
    write(path, json.dumps({"theme": "textual-light"}))
    # A mode of 000 would not stop root (CI runs as root), so refuse the read itself.
    real_open = Path.open

    def refuse(self: Path, *args: object, **kwargs: object):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", refuse)
    assert load_settings(path) == DEFAULTS


def test_a_directory_where_the_file_should_be_gives_the_defaults(path):
    path.mkdir(parents=True)
    assert load_settings(path) == DEFAULTS


def test_a_huge_file_gives_the_defaults(path):
    write(path, json.dumps({"theme": "textual-light", "pad": "x" * (settings.MAX_FILE_BYTES)}))
    assert load_settings(path) == DEFAULTS


def test_sound_parts_of_a_damaged_document_are_kept(path):
    document = {
        "theme": "solarized",  # unknown: the default
        "command_history": ["hold 3", 42, None, "", "  res land  ", "x\x1b[2J", "y" * 201],
        "unknown_key": True,
    }
    write(path, json.dumps(document))
    assert load_settings(path) == Settings(DEFAULT_THEME, ("hold 3", "res land"))


def test_a_history_that_is_not_a_list_is_dropped_but_the_theme_kept(path):
    write(path, json.dumps({"theme": "textual-light", "command_history": "hold 3"}))
    assert load_settings(path) == Settings("textual-light", ())


def test_an_overlong_history_keeps_the_newest_entries(path):
    entries = [f"hold {n}" for n in range(1, 151)]
    write(path, json.dumps({"command_history": entries}))
    loaded = load_settings(path)
    assert loaded.command_history == tuple(entries[-HISTORY_LIMIT:])


# ---- saving ---------------------------------------------------------------------------------


def test_saving_then_loading_round_trips(path):
    chosen = Settings("textual-light", ("hold 3", "email gita@example.com", "res Ülürü"))
    assert save_settings(chosen, path) is True
    assert load_settings(path) == chosen
    assert json.loads(path.read_text(encoding="utf-8"))["theme"] == "textual-light"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_the_file_is_private_to_its_owner(path):
    # The history can hold customers' email addresses.
    assert save_settings(Settings(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_save_replaces_the_file_whole_and_leaves_no_temporary_file(path):
    assert save_settings(Settings("textual-light", ("hold 1",)), path)
    assert save_settings(Settings("textual-dark", ("hold 2",)), path)
    assert load_settings(path) == Settings("textual-dark", ("hold 2",))
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]


def test_a_failed_save_returns_false_and_keeps_the_old_file(path, monkeypatch):
    assert save_settings(Settings("textual-light"), path)

    def refuse(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(settings.os, "replace", refuse)
    assert save_settings(Settings("textual-dark"), path) is False
    assert load_settings(path).theme == "textual-light"
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]


def test_a_save_where_no_directory_can_be_made_returns_false(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file")
    assert save_settings(Settings(), blocker / "settings.json") is False


def test_a_save_over_a_directory_returns_false(path):
    path.mkdir(parents=True)
    assert save_settings(Settings(), path) is False
    assert path.is_dir()


# ---- changes --------------------------------------------------------------------------------


def test_a_command_goes_to_the_end_of_the_history_once():
    history = Settings(command_history=("hold 1", "res land", "hold 2"))
    assert history.with_command(" res land ").command_history == ("hold 1", "hold 2", "res land")
    assert history.with_command("hold 2").command_history == ("hold 1", "res land", "hold 2")


def test_the_history_keeps_the_last_hundred():
    history = Settings()
    for n in range(1, 131):
        history = history.with_command(f"hold {n}")
    assert len(history.command_history) == HISTORY_LIMIT
    assert history.command_history[0] == "hold 31"
    assert history.command_history[-1] == "hold 130"


def test_lines_that_could_not_be_typed_stay_out_of_the_history():
    for line in ("", "   ", "hold\x1b1", "x" * 201):
        assert Settings().with_command(line).command_history == ()


def test_an_unknown_theme_falls_back_to_the_default():
    assert Settings().with_theme("textual-light").theme == "textual-light"
    assert Settings("textual-light").with_theme("solarized").theme == DEFAULT_THEME


def test_updates_reread_the_file_so_sessions_do_not_wipe_each_other(path):
    # Two TUIs started from the same file; each saves its own change.
    assert remember_command("hold 7", path)  # session A
    assert remember_theme("textual-light", path)  # session B, which never saw hold 7
    assert load_settings(path) == Settings("textual-light", ("hold 7",))


def test_update_settings_reports_a_failed_save(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    updated, saved = update_settings(lambda s: s.with_theme("textual-light"), blocker / "x.json")
    assert updated.theme == "textual-light" and saved is False
    assert remember_command("hold 1", blocker / "x.json") is False
