"""The ``resbook`` command: parse, call the layer below, print a table or JSON."""

from __future__ import annotations

import sys

from .app import app


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("resbook: interrupted\n")
        raise SystemExit(130) from None


__all__ = ["app", "main"]
