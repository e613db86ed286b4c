"""The operator TUI (Textual). It reaches the database only through the Booking facade."""

from .app import ResbookApp

__all__ = ["ResbookApp"]
