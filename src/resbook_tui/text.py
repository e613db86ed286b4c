"""Text safety: one rule for what text may be stored, one for how stored text is shown.

Every text field (emails, names, descriptions, order and line-item ids, blackout reasons,
tokens) refuses control characters on the way in (``control_characters``), and every
interface shows stored text through ``visible`` on the way out, so a byte that got in
earlier, or through SQL, never reaches a terminal raw.

"Control characters" here are C0 (U+0000-U+001F), DEL (U+007F), C1 (U+0080-U+009F), the
Unicode line and paragraph separators, and the bidirectional embedding, override and
isolate marks, which can make a terminal show text in an order other than stored.
"""

from __future__ import annotations

import re
import unicodedata

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


# What is never shown raw: the control characters, and lone surrogates, which is how
# Python hands over bytes that are not UTF-8 (a file name, an argument): written out they
# become those bytes again, and 0x9b is a C1 CSI to many terminals.
_UNSHOWN = re.compile(_UNSAFE.pattern[:-1] + "\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8: shown as that byte
        code -= 0xDC00
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def control_characters(text: str) -> list[str]:
    """The distinct control characters in ``text``, escaped for an error message."""
    seen: list[str] = []
    for match in _UNSAFE.finditer(text):
        shown = _escape(match)
        if shown not in seen:
            seen.append(shown)
    return seen


# Format characters (Unicode's Cf) that show as nothing, yet make two texts differ: the
# zero-width space, word joiner, byte order mark, soft hyphen, left-to-right and
# right-to-left marks. Refused in what people tell apart by eye and type to find (emails,
# resource names). The joiners stay in names: emoji sequences and some scripts need them.
_JOINERS = frozenset("\u200c\u200d")


def invisible_characters(text: str, *, joiners: bool = False) -> list[str]:
    """The distinct invisible format characters in ``text``, escaped for an error message
    (``joiners``: the zero-width joiner and non-joiner are allowed)."""
    seen: list[str] = []
    for ch in text:
        if unicodedata.category(ch) != "Cf" or (joiners and ch in _JOINERS):
            continue
        shown = f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"
        if shown not in seen:
            seen.append(shown)
    return seen


def has_control_characters(text: str) -> bool:
    return _UNSAFE.search(text) is not None


def has_foreign_bytes(text: str) -> bool:
    """Whether ``text`` holds bytes that were not UTF-8 (an argument, an environment
    variable, a file name): Python hands them over as lone surrogates, which no database
    driver can send and no terminal should get raw."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def visible(text: str) -> str:
    """``text`` with every control character replaced by its escape (ESC becomes ``\\x1b``),
    and every byte that was not UTF-8 by its own (``\\x9b``)."""
    return _UNSHOWN.sub(_escape, text) if _UNSHOWN.search(text) else text


def json_escaped(text: str) -> str:
    """JSON text with every control character still raw in it (DEL, C1, line separators,
    bidi marks: ``json.dumps`` escapes only C0) written as a ``\\uXXXX`` escape: the same
    string to any parser, and nothing a terminal acts on when the raw answer is shown."""
    if not _UNSHOWN.search(text):
        return text
    return _UNSHOWN.sub(lambda m: f"\\u{ord(m[0]):04x}", text)
