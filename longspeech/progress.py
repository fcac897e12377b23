"""Progress events: library code reports through a callback, the CLI renders them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    recording_id: str
    seconds_done: float     # audio seconds of this recording processed so far
    total_seconds: float    # duration of this recording
    stage: str = "asr"


ProgressCallback = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """Default callback: library code stays silent."""
