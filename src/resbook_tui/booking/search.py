"""Substring search with LIKE, where everything the user typed is literal text.

``%`` and ``_`` are LIKE's wildcards and ``\\`` is our escape character: all three are
escaped in the pattern, and every clause names the escape character, so a search for
``50%`` or ``a_b`` finds exactly that text on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import peewee
from peewee import SQL, fn

ESCAPE = "\\"


def contains(text: str | None) -> str | None:
    """A lower-case LIKE pattern matching ``text`` anywhere; None when there is no text."""
    cleaned = (text or "").strip().lower()
    if not cleaned:
        return None
    for special in (ESCAPE, "%", "_"):  # the escape character first, or it would double
        cleaned = cleaned.replace(special, ESCAPE + special)
    return f"%{cleaned}%"


def like(column: peewee.Node, pattern: str) -> peewee.ColumnBase:
    """``column`` (lower-cased) LIKE a pattern made by ``contains``. Spelled out, since
    Peewee renders its own LIKE as GLOB on SQLite."""
    return peewee.NodeList(
        (fn.lower(column), SQL("LIKE"), peewee.Value(pattern), SQL(f"ESCAPE '{ESCAPE}'")),
        parens=True,
    )


def matching(column: peewee.Node, text: str | None) -> peewee.ColumnBase | None:
    """``column`` contains ``text`` (any case, wildcards literal); None without text."""
    pattern = contains(text)
    return None if pattern is None else like(column, pattern)
