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
    """Every engine gives the same kind of output: segments with absolute times and timed
    words. A `sequential` engine decodes each chunk with the text before it: the caller hands
    it chunks in order with `context`, the texts of the recording's chunks before them
    (engines that are not sequential ignore it)."""

    multilingual: bool
    sequential: bool

    def provenance(self) -> dict[str, Any]: ...

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]: ...

    def transcribe_batch(self, chunks: Sequence[ChunkAudio], language: str,
                         context: Sequence[str] = ()) -> list[list[Segment]]:
        ...
