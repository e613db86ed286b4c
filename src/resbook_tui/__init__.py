"""resbook: resource bookings for a tour company (TUI, CLI and Python API)."""

__version__ = "0.1.0"

__all__ = ["__version__"]
