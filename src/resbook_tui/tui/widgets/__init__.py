"""Widgets of the operator TUI: line-API tables and grids that render only what is visible."""
