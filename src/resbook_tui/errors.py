"""Errors that every layer may raise and every interface knows how to print.

The exit codes are part of the CLI contract (README, "Exit codes"):
0 done, 1 refused by a rule or drift found, 2 invalid input, 3 database problem.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_INVALID = 2
EXIT_DATABASE = 3


class ResbookError(Exception):
    """Base of every error resbook reports to a person as one line."""

    exit_code = EXIT_REFUSED
    code = "refused"


class DatabaseError(ResbookError):
    """The database cannot be reached, refused us, or has no resbook schema."""

    exit_code = EXIT_DATABASE
    code = "database_error"


class ConfigError(ResbookError):
    """A setting (such as the database URL) is malformed."""

    exit_code = EXIT_DATABASE
    code = "config_error"
