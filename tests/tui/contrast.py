"""WCAG contrast of what is actually on screen: every character the compositor draws.

The screen is rendered exactly as an SVG screenshot is (``App.export_screenshot``), into
a recording console, and each visible character's foreground is measured against its
background. Box drawing, block and scrollbar glyphs are decoration, not text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from rich.color import Color
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.app import App
from textual.geometry import Region

AA = 4.5  # WCAG 2.x AA for body text
DECORATION = set("─│┌┐└┘├┤┬┴┼╭╮╰╯═║▔▁▏▕▎▊▌▐█▀▄▅▂▃▆▇░▒▓╱╲ ")


@dataclass(frozen=True)
class Sample:
    text: str
    fg: tuple[int, int, int]
    bg: tuple[int, int, int]
    ratio: float


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _rgb(color: Color | None, default: tuple[int, int, int]) -> tuple[int, int, int]:
    if color is None:
        return default
    triplet = color.get_truecolor()
    return (triplet.red, triplet.green, triplet.blue)


def _recorded(app: App[object]) -> list[Segment]:
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    # What App.export_screenshot renders: the screen over any screens behind it.
    behind = app._background_screens
    console.print(app.screen._compositor.render_update(full=True, screen_stack=behind))
    # Cursor moves between lines are the driver's own control segments, not content.
    return [segment for segment in console._record_buffer if not segment.control]


def drawn_text(app: App[object]) -> str:
    """Every character the compositor sends for the current screen."""
    return "".join(segment.text for segment in _recorded(app))


def samples(app: App[object], region: Region | None = None) -> list[Sample]:
    """Runs of text on the current screen with the contrast they are drawn at (only inside
    ``region`` if given: a dialog's box, not the screen dimmed behind it)."""
    found: list[Sample] = []
    x = y = 0
    for segment in _recorded(app):
        if segment.text == "\n":
            x, y = 0, y + 1
            continue
        start, x = x, x + segment.cell_length
        if region is not None and not (
            region.y <= y < region.bottom and region.x <= start and x <= region.right
        ):
            continue
        text = "".join(ch for ch in segment.text if ch not in DECORATION)
        if not text.strip():
            continue
        style = segment.style or Style()
        fg = _rgb(style.color, (255, 255, 255))
        bg = _rgb(style.bgcolor, (0, 0, 0))
        if style.reverse:
            fg, bg = bg, fg
        found.append(Sample(text.strip(), fg, bg, ratio(fg, bg)))
    return found


def too_faint(app: App[object], region: Region | None = None, minimum: float = AA) -> list[Sample]:
    return [s for s in samples(app, region) if s.ratio < minimum]
