"""`longspeech ...`: the command line. Each module parses one command's flags and renders
its results with rich; the work is the library's."""

from __future__ import annotations

import sys

from rich.markup import escape

from ..errors import InvalidOptionError, LongspeechError
# Each module registers its commands as it is imported; this order is the help's order.
from . import transcribe, correct, speakers, train, library, ask, evaluate, tools  # noqa: F401
from .app import _quiet_libraries, app, console


def main() -> None:
    _quiet_libraries()
    try:
        app()
    except LongspeechError as e:
        console.print(f"[red]error:[/red] {escape(str(e))}")
        sys.exit(2 if isinstance(e, InvalidOptionError) else 1)


__all__ = ["app", "main"]
