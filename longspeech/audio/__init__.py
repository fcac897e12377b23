"""Audio in: streaming decode, Silero VAD, chunk planning, and `iter_chunks` joining them.

`iter_chunks` makes one pass over the file and holds only the audio of the chunk being
planned (at most ~2 * max_chunk + one decode block), whatever the recording's duration.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..types import Chunk
from .chunking import ChunkPlanner, iter_plan, plan_chunks
from .decode import SAMPLE_RATE, PathLike, close_iterator, load, probe, read_span, stream
from .vad import SpeechDetector, VadOptions, detect_speech


@dataclass(frozen=True)
class AudioChunk:
    """A chunk and its samples (float32 mono 16 kHz, from chunk.start to chunk.end)."""

    chunk: Chunk
    samples: np.ndarray


class SampleQueue:
    """The decoded samples still needed, as a queue of blocks with absolute offsets: a
    streaming consumer appends blocks, slices what it needs, and forgets what it is done with."""

    def __init__(self) -> None:
        self._blocks: deque[np.ndarray] = deque()
        self.start = 0          # absolute index of the first held sample
        self.end = 0            # absolute index one past the last held sample

    def append(self, block: np.ndarray) -> None:
        self._blocks.append(block)
        self.end += len(block)

    def forget_before(self, index: int) -> None:
        while self._blocks and self.start + len(self._blocks[0]) <= index:
            self.start += len(self._blocks.popleft())

    def slice(self, a: int, b: int) -> np.ndarray:
        if a < self.start:
            raise AssertionError(f"sample {a} was already released (queue starts {self.start})")
        parts, pos = [], self.start
        for blk in self._blocks:
            lo, hi = max(a, pos), min(b, pos + len(blk))
            if lo < hi:
                parts.append(blk[lo - pos:hi - pos])
            pos += len(blk)
            if pos >= b:
                break
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def iter_chunks(path: PathLike, vad_options: VadOptions | None = None,
                max_chunk: float = 30.0, *, max_gap: float | None = None,
                block_seconds: float = 10.0) -> Iterator[AudioChunk]:
    """Speech chunks of a recording (<= max_chunk s, cut at silences), in time order.

    The VAD's max_speech is capped at max_chunk, which both keeps long speech runs cut at
    their least speech-like point and bounds memory. Bad paths raise here; decode errors
    raise AudioDecodeError from the iterator.
    """
    opts = vad_options or VadOptions()
    if opts.max_speech is None or opts.max_speech > max_chunk:
        opts = replace(opts, max_speech=max_chunk)
    planner = ChunkPlanner(max_chunk, max_gap)
    blocks = stream(path, block_seconds=block_seconds)
    return _chunks(Path(path).stem, blocks, SpeechDetector(opts), planner)


def _chunks(recording_id: str, blocks: Iterator[np.ndarray], det: SpeechDetector,
            planner: ChunkPlanner) -> Iterator[AudioChunk]:
    window = SampleQueue()
    index = 0

    def emit(spans: list[tuple[float, float]]) -> Iterator[AudioChunk]:
        nonlocal index
        for s, e in spans:
            a, b = round(s * SAMPLE_RATE), min(round(e * SAMPLE_RATE), window.end)
            yield AudioChunk(Chunk(recording_id, index, s, e), window.slice(a, b))
            index += 1

    try:
        for block in blocks:
            window.append(block)
            for s, e in det.push(block):
                yield from emit(planner.push(s, e))
            pending = planner.pending_start
            keep = det.settled if pending is None else min(det.settled, pending)
            window.forget_before(int(keep * SAMPLE_RATE))
        for s, e in det.finish():
            yield from emit(planner.push(s, e))
        yield from emit(planner.finish())
    finally:
        close_iterator(blocks)


__all__ = [
    "SAMPLE_RATE",
    "AudioChunk",
    "ChunkPlanner",
    "SampleQueue",
    "SpeechDetector",
    "VadOptions",
    "detect_speech",
    "iter_chunks",
    "iter_plan",
    "load",
    "plan_chunks",
    "probe",
    "read_span",
    "stream",
]
