"""Substring search with LIKE, where everything the user typed is literal text.

``%`` and ``_`` are LIKE's wildcards and ``\\`` is our escape character: all three are
escaped in the pattern, and every clause names the escape character, so a search for
``50%`` or ``a_b`` finds exactly that text on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

ESCAPE = "\\"


def contains(text: str | None) -> str | None:
    """A lower-case LIKE pattern matching ``text`` anywhere; None when there is no text."""
    cleaned = (text or "").strip().lower()
    if not cleaned:
        return None
    for special in (ESCAPE, "%", "_"):  # the escape character first, or it would double
        cleaned = cleaned.replace(special, ESCAPE + special)
    return f"%{cleaned}%"


def like(column: str) -> str:
    """``column`` (lower-cased) LIKE one ``?`` pattern made by ``contains``."""
    return f"lower({column}) LIKE ? ESCAPE '{ESCAPE}'"
