"""The business rules: the only layer that decides what may happen to a booking."""

from .archive import ArchivePreview, ArchiveResult
from .errors import BookingError
from .records import (
    Allocation,
    Blackout,
    BlackoutResult,
    CapacityChange,
    Cell,
    Event,
    Hold,
    Resource,
    SweepResult,
)
from .service import Booking

__all__ = [
    "Allocation",
    "ArchivePreview",
    "ArchiveResult",
    "Blackout",
    "BlackoutResult",
    "Booking",
    "BookingError",
    "CapacityChange",
    "Cell",
    "Event",
    "Hold",
    "Resource",
    "SweepResult",
]
