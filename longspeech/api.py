"""The Python API: transcribe a file in one call, iterate its segments lazily, ask about it,
search and question a job's whole output (Library)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .audio.vad import VadOptions
from .library import Library
from .pipelines.ask import ask, ask_batch, read_items
from .pipelines.transcribe import (get_engine, iter_segments, make_options, transcribe,
                                   transcribe_file)
from .progress import ProgressCallback, no_progress
from .types import Segment


def transcribe_iter(path: str | Path, *, vad: VadOptions | None = None,
                    progress: ProgressCallback = no_progress, **options) -> Iterator[Segment]:
    """Segments of one recording, yielded as soon as their batch of chunks is decoded."""
    opts = make_options(vad, **options)
    return iter_segments(path, get_engine(opts.asr), opts, progress)


__all__ = ["Library", "ask", "ask_batch", "get_engine", "make_options", "read_items",
           "transcribe", "transcribe_file", "transcribe_iter"]
