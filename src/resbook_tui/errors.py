"""Errors that every layer may raise and every interface knows how to print.

The exit codes are part of the CLI contract (README, "Exit codes"):
0 done, 1 refused by a rule or drift found, 2 invalid input or setting, 3 database
problem, 4 busy (a lock or statement timeout: nothing changed, try again).
"""

from __future__ import annotations

from .text import visible

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_INVALID = 2
EXIT_DATABASE = 3
EXIT_BUSY = 4


class ResbookError(Exception):
    """Base of every error resbook reports to a person as one line.

    The message is kept to one line with control characters made visible, whatever it
    quotes (a caller's input, a stored reason, a driver's message).
    """

    exit_code = EXIT_REFUSED
    code = "refused"

    def __init__(self, message: str = "") -> None:
        text = str(message).encode("utf-8", "backslashreplace").decode("utf-8")
        super().__init__(visible(text))


class DatabaseError(ResbookError):
    """The database cannot be reached, refused us, or has no resbook schema."""

    exit_code = EXIT_DATABASE
    code = "database_error"


class ConfigError(ResbookError):
    """A setting (an environment variable, the database URL) is malformed: exit 2."""

    exit_code = EXIT_INVALID
    code = "config_error"


class BusyError(ResbookError):
    """A lock wait or statement ran past its timeout, or concurrent changes kept
    colliding: the transaction was rolled back whole, so trying again is safe."""

    exit_code = EXIT_BUSY
    code = "busy"


class MigrationError(ResbookError):
    """A migration cannot be applied or reverted as asked (exit 1)."""

    code = "migration_error"
