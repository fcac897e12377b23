"""longspeech: hour-long podcasts and meetings into transcripts with word times and speakers.

The heavy parts (torch, Whisper) load on first use, so `import longspeech` stays quick.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .errors import LongspeechError
from .types import Chunk, Recording, Segment, SpeakerTurn, Transcript, Word, load_transcript

try:
    __version__ = version("longspeech")
except PackageNotFoundError:      # run from a source tree that was never installed
    __version__ = "0.0.0+unknown"


def __getattr__(name: str) -> Any:
    if name in ("transcribe", "transcribe_iter", "ask", "ask_batch", "Library"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'longspeech' has no attribute {name!r}")


__all__ = [
    "Chunk", "LongspeechError", "Recording", "Segment", "SpeakerTurn", "Transcript", "Word",
    "Library", "ask", "ask_batch", "load_transcript", "transcribe", "transcribe_iter",
    "__version__",
]
