"""Encoder states of whole recordings: 30 s clips encoded separately, concatenated, each
clip cut to its valid frames (the paper's long-speech input), with a disk cache.

The file is streamed: only `batch_size` clips of audio and their states are in memory at a
time; with the cache on, states go straight to disk and come back memory-mapped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..audio import SAMPLE_RATE, probe, stream
from ..audio.decode import PathLike, close_iterator
from ..models.cache import cache_dir
from ..progress import Progress, ProgressCallback
from .cache import FeatureCache, cache_key
from .whisper import CLIP_SAMPLES, CLIP_SECONDS, WhisperStateEncoder


@dataclass(frozen=True)
class EncodedAudio:
    """States (frames, d) float32 of a recording at `frame_rate` frames/s; frame i covers
    [i / frame_rate, (i + 1) / frame_rate) s. clip_frames: frames of each 30 s clip."""

    states: np.ndarray
    frame_rate: float
    clip_frames: tuple[int, ...]
    num_samples: int
    model: str
    options: dict[str, Any] = field(default_factory=dict)
    audio_sha256: str | None = None

    @property
    def duration(self) -> float:
        return self.num_samples / SAMPLE_RATE

    @property
    def frames(self) -> int:
        return int(self.states.shape[0])

    def to_tensor(self, device: str | torch.device = "cpu") -> torch.Tensor:
        """The states as a (frames, d) float32 tensor of its own (a cache hit is a read-only
        memory map, which torch must not share)."""
        return torch.tensor(np.asarray(self.states), dtype=torch.float32, device=device)


def iter_clip_states(encoder: WhisperStateEncoder, blocks: Iterable[np.ndarray]
                     ) -> Iterator[tuple[int, np.ndarray]]:
    """(samples, states) per clip of `blocks` (each block one clip of <= 30 s), encoding
    encoder.options.batch_size clips per call."""
    batch: list[np.ndarray] = []
    for block in blocks:
        batch.append(block)
        if len(batch) == encoder.options.batch_size:
            yield from zip((len(b) for b in batch), encoder.encode_clips(batch))
            batch = []
    if batch:
        yield from zip((len(b) for b in batch), encoder.encode_clips(batch))


def _result(encoder: WhisperStateEncoder, states: np.ndarray, clip_frames: list[int],
            num_samples: int, sha: str | None) -> EncodedAudio:
    return EncodedAudio(states, encoder.frame_rate, tuple(clip_frames), num_samples,
                        encoder.model_key, encoder.options.key_fields(), sha)


def encode_samples(encoder: WhisperStateEncoder, samples: np.ndarray) -> EncodedAudio:
    """States of float32 mono 16 kHz samples already in memory (no cache)."""
    clips = [samples[i:i + CLIP_SAMPLES] for i in range(0, len(samples), CLIP_SAMPLES)]
    parts, frames = [], []
    for _, s in iter_clip_states(encoder, clips):
        parts.append(s)
        frames.append(len(s))
    states = np.concatenate(parts) if parts else np.zeros((0, encoder.dim), np.float32)
    return _result(encoder, states, frames, len(samples), None)


def encode_file(encoder: WhisperStateEncoder, path: PathLike, *,
                progress: ProgressCallback | None = None) -> EncodedAudio:
    """States of a recording of any length, from the cache when this audio (by sha256) was
    encoded before with the same model and options."""
    rec = probe(path)
    opts = encoder.options
    cache = FeatureCache(Path(opts.cache_dir) if opts.cache_dir else cache_dir() / "features")
    key = cache_key(rec.sha256 or "", encoder.model_key, opts.key_fields())
    if opts.cache and rec.sha256:
        hit = cache.load(key)
        if hit is not None:
            states, meta = hit
            return _result(encoder, states, meta["clip_frames"], meta["num_samples"], rec.sha256)

    def report(done: int) -> None:
        if progress is not None:
            progress(Progress(rec.id, done / SAMPLE_RATE, rec.duration, stage="encode"))

    blocks = stream(path, block_seconds=CLIP_SECONDS)
    clip_frames: list[int] = []
    done = 0
    try:
        if opts.cache and rec.sha256:
            with cache.writer(key, encoder.dim) as w:
                for n, s in iter_clip_states(encoder, blocks):
                    w.append(s)
                    clip_frames.append(len(s))
                    done += n
                    report(done)
                entry = w.commit({"clip_frames": clip_frames, "num_samples": done,
                                  "model": encoder.model_key, "options": opts.key_fields(),
                                  "audio_sha256": rec.sha256, "frame_rate": encoder.frame_rate})
            loaded = cache.load(key)
            if loaded is None:
                raise OSError(f"feature cache entry {entry} could not be read back")
            return _result(encoder, loaded[0], clip_frames, done, rec.sha256)
        parts = []
        for n, s in iter_clip_states(encoder, blocks):
            parts.append(s.copy())
            clip_frames.append(len(s))
            done += n
            report(done)
    finally:
        close_iterator(blocks)
    return _result(encoder, np.concatenate(parts), clip_frames, done, rec.sha256)
