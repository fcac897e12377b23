"""What an ASR engine is: a loaded Whisper that turns a batch of chunks into segments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from ..types import Chunk, Segment


class ChunkAudio(Protocol):
    chunk: Chunk
    samples: np.ndarray


class Engine(Protocol):
    """Both engines give the same outputs: segments with absolute times and timed words."""

    multilingual: bool

    def provenance(self) -> dict[str, Any]: ...

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]: ...

    def transcribe_batch(self, chunks: Sequence[ChunkAudio], language: str) -> list[list[Segment]]:
        ...
