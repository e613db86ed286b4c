"""Figures of the season benchmark: each one beside its reference from the same run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Figure:
    part: str
    name: str
    value: float | None
    unit: str  # "ms", "s", "/s", "MB"
    reference: str = ""  # what the reference is
    ref_value: float | None = None  # in the same unit
    target: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.ref_value:
            return None
        return self.value / self.ref_value

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


def shown(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        if value < 1:
            return f"{value:.2f} ms"
        return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:,.2f} s"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:,.2f} {unit}"


def say_figure(f: Figure) -> None:
    """One figure as it is measured (the long form, with the plan or the note)."""
    ref = f" | ref {f.reference}: {shown(f.ref_value, f.unit)}" if f.reference else ""
    ratio = f" | {f.ratio:.2f}x" if f.ratio is not None else ""
    target = f" | target {f.target}" if f.target else ""
    print(f"  {f.name}: {shown(f.value, f.unit)}{ref}{ratio}{target}", flush=True)
    if f.note:
        print(f"      {f.note}", flush=True)


def table(figures: Sequence[Figure], title: str) -> str:
    """The compact table at the end: one line a figure."""
    head = ("part", "figure", "measured", "reference", "ref", "ratio", "target")
    rows = [
        (
            f.part,
            f.name,
            shown(f.value, f.unit),
            f.reference,
            shown(f.ref_value, f.unit) if f.reference else "",
            f"{f.ratio:.2f}x" if f.ratio is not None else "",
            f.target,
        )
        for f in figures
    ]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    right = {2, 4, 5}

    def line(cells: Sequence[str]) -> str:
        out = [
            (c.rjust(w) if i in right else c.ljust(w))
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    return "\n".join([title, line(head), line(["-" * w for w in widths]), *map(line, rows)])


def markdown(figures: Sequence[Figure], title: str) -> str:
    """The same table in Markdown, for a closing note or bench/README.md."""
    lines = [
        f"**{title}**",
        "",
        "| part | figure | measured | reference | ref | ratio | target |",
        "|---|---|--:|---|--:|--:|---|",
    ]
    for f in figures:
        ref = shown(f.ref_value, f.unit) if f.reference else ""
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else ""
        cells = (f.part, f.name.strip(), shown(f.value, f.unit), f.reference, ref, ratio, f.target)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def best_of(runs: int, fn: Callable[[], object]) -> float:
    """Seconds of the fastest of ``runs`` calls."""
    best = float("inf")
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    return best


def median_of(runs: int, fn: Callable[[], object]) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def median_ms(samples: Sequence[float]) -> float | None:
    return statistics.median(samples) * 1000 if samples else None
