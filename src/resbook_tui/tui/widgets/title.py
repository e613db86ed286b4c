"""Updating a screen's title line without laying the whole screen out again."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def set_title(widget: Static, content: Text) -> None:
    """Show ``content`` in ``widget``; lay the screen out again only when its height changes.

    Titles carry live counts that move with every change committed elsewhere; a layout of
    the screen for each would cost more than the change itself.
    """
    widget.update(content, layout=False)
    width, height = widget.content_size
    if not width or widget.get_content_height(widget.size, widget.size, width) != height:
        widget.refresh(layout=True)
