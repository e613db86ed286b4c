"""Did it commit? The outcome of a change whose connection broke while it was in flight.

Before a change is sent, the call notes the newest audit event id (one cheap read). If
the change then fails with database trouble, nobody knows whether its transaction
committed: the reply may have been lost after the commit. Every change writes its audit
event in its own transaction, so once the database answers again the question is settled
by looking for that event after the noted id: same action, same entity, this session's
actor and the details that make it ours (for a new hold, the idempotency token the TUI
chose). Found: it committed. Not found: it did not. Never a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..booking import Booking
    from ..booking.records import Event


@dataclass(frozen=True)
class Expect:
    """The audit event a change writes when it commits."""

    label: str  # what the operator asked for, e.g. "Release hold #12"
    action: str
    entity: str
    entity_id: int | None = None
    resource_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def matches(self, event: Event, actor: str) -> bool:
        if event.action != self.action or event.entity != self.entity:
            return False
        if self.entity_id is not None and event.entity_id != self.entity_id:
            return False
        if self.resource_id is not None and event.resource_id != self.resource_id:
            return False
        if event.actor != actor:
            return False
        return all(event.details.get(key) == value for key, value in self.details.items())


@dataclass
class Unsure:
    """A change that failed with database trouble after it was sent: outcome unknown."""

    expect: Expect
    after_id: int  # the newest event id before the change was sent
    settled: Callable[[bool], Any] | None = None  # told the outcome once it is known


def newest_event_id(bk: Booking) -> int:
    newest = bk.events(limit=1)
    return newest[-1].id if newest else 0


def find_outcome(bk: Booking, unsure: Unsure) -> Event | None:
    """The change's own event if it committed, else None (asks the database; may raise)."""
    expect = unsure.expect
    events = bk.events(
        action=expect.action,
        entity=expect.entity,
        entity_id=expect.entity_id,
        resource_id=expect.resource_id,
        after_id=unsure.after_id,
        limit=None,
    )
    return next((e for e in events if expect.matches(e, bk.actor)), None)
