"""Which resource an operator means by the name they typed after ``:res``.

Matches are ranked in tiers, best first: the whole name (any case), the start of the name,
the start of a word in it ("cruiser" finds "Land Cruiser 01"), anywhere in it, and last the
letters in order with gaps ("lc01", "kcr"). Within a tier a tighter fuzzy match, then a
shorter name, then the alphabet decides, so the same text always picks the same resource.

Textual's ``fuzzy.Matcher`` is not used: it scores every way the letters can be placed,
which grows combinatorially with a long, repetitive name (a 30-character name and an
8-letter query already take seconds). This scorer makes one pass per name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..text import has_control_characters, visible

Resource = tuple[int, str]  # (id, name)

EXACT, PREFIX, WORD_START, SUBSTRING, LETTERS = range(5)


@dataclass(frozen=True)
class ResourceMatch:
    resource_id: int
    name: str
    note: str  # non-empty when several resources matched and this one was picked


def match_resource(query: str, resources: Iterable[Resource]) -> ResourceMatch | None:
    """The best match for ``query`` among (id, name) pairs, or None if nothing matches."""
    scored = []
    for resource_id, name in resources:
        rank = _rank(query, name)
        if rank is not None:
            scored.append((rank, len(name), _fold(name), resource_id, name))
    if not scored:
        return None
    scored.sort()
    best_tier = scored[0][0][0]
    rivals = sum(1 for entry in scored if entry[0][0] == best_tier)
    _rank_key, _length, _folded, resource_id, name = scored[0]
    note = ""
    if rivals > 1 and best_tier == EXACT:
        note = f"{rivals} resources are named {visible(name)}; showing #{resource_id}"
    elif rivals > 1:
        shown = visible(" ".join(query.split()))
        note = f"{rivals} resources match '{shown}'; showing {visible(name)}"
    return ResourceMatch(resource_id, name, note)


def ranked_names(query: str, names: Sequence[str]) -> list[str]:
    """The distinct ``names`` that match ``query``, best first (all of them, sorted, for an
    empty query). Names holding control characters are left out: they cannot be typed."""
    typeable = [name for name in dict.fromkeys(names) if not has_control_characters(name)]
    if not query.strip():
        return sorted(typeable, key=_fold)
    scored = []
    for name in typeable:
        rank = _rank(query, name)
        if rank is not None:
            scored.append((rank, len(name), _fold(name), name))
    return [entry[-1] for entry in sorted(scored)]


def _fold(text: str) -> str:
    """Case and runs of spaces do not matter."""
    return " ".join(text.split()).casefold()


def _rank(query: str, name: str) -> tuple[int, int] | None:
    """(tier, minus the fuzzy score) for ``name``, lower is better; None: no match."""
    wanted, candidate = _fold(query), _fold(name)
    if not wanted:
        return None
    if candidate == wanted:
        return (EXACT, 0)
    if candidate.startswith(wanted):
        return (PREFIX, 0)
    starts = _word_starts(candidate)
    if any(candidate.startswith(wanted, start) for start in starts):
        return (WORD_START, 0)
    if wanted in candidate:
        return (SUBSTRING, 0)
    score = _letters_score(wanted.replace(" ", ""), candidate, starts)
    return None if score is None else (LETTERS, -score)


def _word_starts(text: str) -> set[int]:
    return {
        index
        for index, character in enumerate(text)
        if character.isalnum() and (index == 0 or not text[index - 1].isalnum())
    }


def _letters_score(wanted: str, candidate: str, starts: set[int]) -> int | None:
    """Every letter of ``wanted`` in order in ``candidate`` (leftmost each time), scored
    2 for a letter at the start of a word and 1 for one right after the previous; None if
    some letter is missing."""
    score = 0
    position = -1
    for letter in wanted:
        found = candidate.find(letter, position + 1)
        if found < 0:
            return None
        if found in starts:
            score += 2
        elif found == position + 1:
            score += 1
        position = found
    return score
