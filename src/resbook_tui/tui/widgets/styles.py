"""Component styles for widgets drawn with the line API, right in every theme.

``get_component_rich_style(name, partial=True)`` gives only what a component class sets,
which is what line-API widgets need to layer styles (row, then cursor, then role). But a
colour given as ``auto`` (Textual's ``$text``, ``$text-muted``) is resolved there without
its background and comes out white, so the light theme showed white text on light grey.
The full style resolves it properly; this takes the colours from it.
"""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


def component_style(widget: Widget, name: str) -> Style:
    """The style a component class sets (only that), with its colours fully resolved."""
    rules = widget.get_component_styles(name)
    partial = widget.get_component_rich_style(name, partial=True)
    full = widget.get_component_rich_style(name, partial=False)
    color = full.color if rules.has_rule("color") else None
    bgcolor = full.bgcolor if rules.has_rule("background") else None
    return partial + Style(color=color, bgcolor=bgcolor)
