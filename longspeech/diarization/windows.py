"""Speaker embeddings of sliding windows over the speech of a recording, in one streaming pass.

The file is decoded block by block; Silero VAD finds speech regions as it goes and only the
audio of regions not yet embedded is held. What grows with the recording's length is the
result itself: two times and 256 floats per window (about 1.4 MB per hour of speech at the
default 0.75 s hop), and one sound level per 32 ms (0.45 MB per hour) for the turn edges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..audio import SampleQueue, SpeechDetector, VadOptions, probe, stream
from ..audio.decode import close_iterator
from ..types import Recording
from .edges import LEVEL_FRAME, LevelMeter
from .encoder import FRAME_HOP, SAMPLE_RATE, SpeakerEncoder

FRAME_SECONDS = FRAME_HOP / SAMPLE_RATE

# Diarization wants tight speech regions: less padding than ASR chunking uses (0.05 s: on
# eight synthetic 10-minute meetings DER fell from 1.8% at 0.1 s to 1.4%, false alarm
# halving), and shorter silences close a region so that a turn change at a short gap is a
# region edge.
DIARIZATION_VAD = VadOptions(min_silence=0.3, speech_pad=0.05, max_speech=30.0)


@dataclass
class WindowEmbeddings:
    """Embedding windows of a recording. Window i spans [starts[i], ends[i]] s, lies in speech
    region regions[region[i]], and has unit vector vectors[i]."""

    recording: Recording
    regions: np.ndarray      # (r, 2) float64 speech regions, seconds, in time order
    starts: np.ndarray       # (n,) float64
    ends: np.ndarray         # (n,) float64
    region: np.ndarray       # (n,) int64 index into regions
    vectors: np.ndarray      # (n, 256) float32
    # (f,) float32 sound level (dB) of every LEVEL_FRAME samples: where turns fade out
    levels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def level_seconds(self) -> float:
        return LEVEL_FRAME / SAMPLE_RATE


def window_frames(n_frames: int, window: int, hop: int, min_window: int) -> list[tuple[int, int]]:
    """[a, b) mel-frame spans of the windows over a region of n_frames frames.

    Windows of `window` frames every `hop`, the last one flush with the region's end; a
    region shorter than a window is one window of its own length (none below min_window).
    """
    if n_frames < min_window:
        return []
    if n_frames <= window:
        return [(0, n_frames)]
    spans = [(a, a + window) for a in range(0, n_frames - window + 1, hop)]
    if spans[-1][1] < n_frames:
        spans.append((n_frames - window, n_frames))
    return spans


def embed_windows(path: str, encoder: SpeakerEncoder, *, window: float = 1.5,
                  hop: float = 0.75, min_window: float = 0.5, block_seconds: float = 30.0,
                  vad: VadOptions = DIARIZATION_VAD,
                  on_progress: Callable[[float, float], None] | None = None) -> WindowEmbeddings:
    """Decode, detect speech and embed sliding windows, holding only unprocessed audio."""
    rec = probe(path, checksum=False)
    w = max(1, round(window / FRAME_SECONDS))
    h = max(1, round(hop / FRAME_SECONDS))
    mw = max(1, round(min_window / FRAME_SECONDS))
    regions: list[tuple[float, float]] = []
    starts: list[np.ndarray] = []
    region_ix: list[np.ndarray] = []
    vectors: list[np.ndarray] = []
    frame_counts: list[np.ndarray] = []
    buf = SampleQueue()
    det = SpeechDetector(vad)
    meter = LevelMeter()

    def handle(spans: list[tuple[float, float]]) -> None:
        for s, e in spans:
            # a region padded back into samples already released starts where they end
            a = max(round(s * SAMPLE_RATE), buf.start)
            b = min(round(e * SAMPLE_RATE), buf.end)
            samples = buf.slice(a, b)
            if len(samples) == 0:
                continue
            r = len(regions)
            regions.append((a / SAMPLE_RATE, b / SAMPLE_RATE))
            mel = encoder.mel(samples)
            spans_f = window_frames(len(mel), w, h, mw)
            if not spans_f:
                continue
            full = [sp for sp in spans_f if sp[1] - sp[0] == w]
            short = [sp for sp in spans_f if sp[1] - sp[0] != w]
            for group in (full, short):
                if not group:
                    continue
                batch = np.stack([mel[x:y] for x, y in group])
                vectors.append(encoder.embed(batch))
                starts.append(a / SAMPLE_RATE + np.array([x for x, _ in group]) * FRAME_SECONDS)
                frame_counts.append(np.array([y - x for x, y in group]))
                region_ix.append(np.full(len(group), r, np.int64))

    blocks = stream(path, block_seconds=block_seconds)
    done = 0
    try:
        for block in blocks:
            buf.append(block)
            meter.push(block)
            done += len(block)
            handle(det.push(block))
            buf.forget_before(int(det.settled * SAMPLE_RATE))
            if on_progress is not None:
                on_progress(done / SAMPLE_RATE, rec.duration)
        handle(det.finish())
    finally:
        close_iterator(blocks)

    if not starts:
        return WindowEmbeddings(rec, np.asarray(regions, np.float64).reshape(-1, 2),
                                np.zeros(0), np.zeros(0), np.zeros(0, np.int64),
                                np.zeros((0, 256), np.float32), meter.levels())
    # regions arrive in time order and each region's windows in start order: no sort needed
    st = np.concatenate(starts)
    starts.clear()   # free the per-region arrays before the next copies
    en = st + np.concatenate(frame_counts) * FRAME_SECONDS
    ri = np.concatenate(region_ix)
    vec = np.concatenate(vectors)
    vectors.clear()
    ok = np.isfinite(vec).all(axis=1)   # an all-silent window has no direction
    if not ok.all():
        st, en, ri, vec = st[ok], en[ok], ri[ok], vec[ok]
    return WindowEmbeddings(rec, np.asarray(regions, np.float64).reshape(-1, 2), st, en, ri, vec,
                            meter.levels())
