"""Turn edges that follow speech to where it fades into the recording's background.

The VAD that cuts regions for embedding is tight on purpose (a turn change at a short gap
must be a region edge), so turns end where its probability drops, while a real voice fades
on for a few hundred milliseconds and human references keep the fade. Here a turn grows,
start and end, over the sound around it that stays `margin_db` above the recording's own
background level (the quietest tenth of its frames), never into a neighbouring turn. Clean
synthetic speech ends sharply, so its turns hardly move; a noisy recording's background sets
its own floor, so the noise is not taken for speech.
"""

from __future__ import annotations

import numpy as np
from pyannote.core import Annotation, Segment

LEVEL_FRAME = 512           # samples per level frame (32 ms at 16 kHz)
BACKGROUND_PERCENTILE = 10
MERGE_GAP = 0.3             # louder stretches this close are one


class LevelMeter:
    """Frame levels (dB) of a stream of 16 kHz blocks of any size."""

    def __init__(self) -> None:
        self._carry = np.zeros(0, np.float32)
        self._levels: list[np.ndarray] = []

    def push(self, block: np.ndarray) -> None:
        x = np.concatenate([self._carry, np.asarray(block, np.float32).reshape(-1)])
        n = len(x) // LEVEL_FRAME
        if n:
            frames = x[:n * LEVEL_FRAME].reshape(n, LEVEL_FRAME).astype(np.float64)
            self._levels.append((10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12))
                                .astype(np.float32))
        self._carry = x[n * LEVEL_FRAME:]

    def levels(self) -> np.ndarray:
        return np.concatenate(self._levels) if self._levels else np.zeros(0, np.float32)


def sounding(levels: np.ndarray, frame_seconds: float,
             margin_db: float) -> list[tuple[float, float]]:
    """Stretches (seconds) whose level is margin_db above the background, joined across
    gaps shorter than MERGE_GAP."""
    if len(levels) == 0:
        return []
    on = levels > np.percentile(levels, BACKGROUND_PERCENTILE) + margin_db
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
    out: list[list[float]] = []
    for a, b in zip(edges[::2], edges[1::2]):
        s, e = a * frame_seconds, b * frame_seconds
        if out and s - out[-1][1] < MERGE_GAP:
            out[-1][1] = e
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def follow_speech(ann: Annotation, levels: np.ndarray, frame_seconds: float,
                  margin_db: float) -> Annotation:
    """`ann` with each turn grown over the sounding stretch it starts and ends in, up to
    the neighbouring turns."""
    stretches = sounding(levels, frame_seconds, margin_db)
    turns = sorted((s.start, s.end, label) for s, _, label in ann.itertracks(yield_label=True))
    if not stretches or not turns:
        return ann
    starts = np.array([s for s, _ in stretches])

    def stretch(t: float) -> tuple[float, float] | None:
        k = int(np.searchsorted(starts, t, side="right")) - 1
        return stretches[k] if k >= 0 and stretches[k][1] >= t else None

    out = Annotation(uri=ann.uri)
    before = 0.0        # where the turns before this one end, grown
    for i, (a, b, label) in enumerate(turns):
        after = turns[i + 1][0] if i + 1 < len(turns) else float("inf")
        if (s := stretch(a)) is not None:
            a = min(a, max(s[0], before))
        if (s := stretch(b)) is not None:
            b = max(b, min(s[1], after))
        out[Segment(round(a, 3), round(b, 3))] = label
        before = max(before, b)
    return out
