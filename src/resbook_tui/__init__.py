"""resbook: resource bookings for a tour company (TUI, CLI and Python API)."""

__version__ = "0.1.0"

from .booking import Booking, BookingError  # noqa: E402

__all__ = ["Booking", "BookingError", "__version__"]
