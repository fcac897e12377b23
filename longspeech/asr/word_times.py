"""Word-time correction shared by both engines: a calibrated shift, then snapping to silences.

Why: both engines time words by dynamic time warping over the alignment heads'
cross-attention. Those heads attend to a word a little after it is spoken, so starts and ends
lag the audio by a roughly constant amount per model; and a word next to a pause often
reaches into the silence (a chunk's first word starts at the chunk's padded start, a
phrase's last word ends late). The shift removes the lag; the snapping moves a boundary that
lies in a silence to the speech edge next to it, so no word starts or ends in silence and none
stretches over a pause.

Calibration (benchmarks/word_times.py --no-correction: tiny.en, the default chunking; results
in benchmarks/results/word_times_raw.json): median lag, predicted minus true, of the raw times:

    data                                        words  engine        start   end
    synthetic, 3 Flite + 2 espeak voices, 6 min   734  ct2           +0.079  +0.089
    same recordings                               687  transformers  +0.088  +0.089
    synthetic BLAB items (3 recordings, 45 min) 6,020  ct2           +0.087  +0.088
    real speech (LibriVox, ARCTIC, praat clips)    88  ct2           +0.100  +0.100
    same clips                                     85  transformers  +0.108  +0.108

The lag is the same on both TTS families and on real speech (whose references are forced
alignments shipped with the clips), so it is a property of the model's attention, not of the
synthetic voices. Models without a measured calibration get no shift, only the snapping.

With the correction (benchmarks/results/word_times.json) the median offsets are within 0.03 s
and the share of words with start and end both within 0.2 s rises, ct2 / transformers:
synthetic 75.7 -> 88.7 % / 74.4 -> 90.1 %, real speech 75.0 -> 93.2 % / 72.9 -> 92.9 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..types import Word

SAMPLE_RATE = 16000
_FRAME = 160  # 10 ms energy frames


@dataclass(frozen=True)
class WordTimeCalibration:
    """Seconds added to every word start and end (negative: the raw times are late)."""

    start: float = 0.0
    end: float = 0.0


# Medians measured as in the module docstring, rounded to 10 ms (the DTW step is 20 ms).
CALIBRATIONS: dict[str, WordTimeCalibration] = {
    "tiny.en": WordTimeCalibration(start=-0.08, end=-0.09),
}


def calibration(model: str) -> WordTimeCalibration:
    """The calibration of an embedded model; no shift for a model that was not measured."""
    return CALIBRATIONS.get(model, WordTimeCalibration())


@dataclass(frozen=True)
class SnapOptions:
    """min_silence: shortest energy dip counted as a pause (longer than stop closures inside
    words, shorter than the pauses between phrases). max_snap: farthest a boundary moves onto
    a silence edge it does not already lie in. A 10 ms frame is silent when its level is below
    floor + range_fraction * (loud - floor) dB or below loud - drop_db, where loud and floor
    are the chunk's 95th and 5th percentile frame levels; a chunk with less than 10 dB between
    them (no pauses, or noise as loud as speech) gets no snapping."""

    min_silence: float = 0.15
    max_snap: float = 0.3
    range_fraction: float = 0.25
    drop_db: float = 45.0


def silences(samples: np.ndarray, opts: SnapOptions = SnapOptions()) -> list[tuple[float, float]]:
    """Pauses in a chunk's audio: (start, end) seconds from its first sample, each at least
    opts.min_silence long, from 10 ms frame energies relative to the chunk's own levels."""
    n = len(samples) // _FRAME
    if n < 2:
        return []
    x = np.asarray(samples[: n * _FRAME], dtype=np.float64).reshape(n, _FRAME)
    db = 10 * np.log10(np.mean(x * x, axis=1) + 1e-12)
    loud, floor = np.percentile(db, 95), np.percentile(db, 5)
    if loud - floor < 10:  # no contrast: all speech or all noise; nothing to snap to
        return []
    quiet = db < max(floor + opts.range_fraction * (loud - floor), loud - opts.drop_db)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    frame_s = _FRAME / SAMPLE_RATE
    return [(a * frame_s, b * frame_s) for a, b in zip(edges[::2], edges[1::2])
            if (b - a) * frame_s >= opts.min_silence]


def snap_to_silences(times: list[list[float]], pauses: Sequence[tuple[float, float]],
                     max_snap: float) -> None:
    """Move word boundaries (in place, [start, end] pairs in time order) onto pause edges.

    Words are split around each pause by their midpoints: the words before it end no later
    than the pause starts and the words after it start no earlier than it ends; the last word
    before and the first word after also move onto the pause's edge when within max_snap of
    it. A boundary is never moved past its word's other boundary."""
    if not times:
        return
    mids = np.array([(s + e) / 2 for s, e in times])
    for a, b in pauses:
        centre = (a + b) / 2
        k = int(np.searchsorted(mids, centre))  # words [0, k) before, [k, n) after
        for i in range(k - 1, -1, -1):
            s, e = times[i]
            if e <= a - max_snap:
                break
            if e > a or i == k - 1:
                times[i][1] = max(s, a)
        for i in range(k, len(times)):
            s, e = times[i]
            if s >= b + max_snap:
                break
            if s < b or i == k:
                times[i][0] = min(e, b)


def correct_word_times(words: Sequence[Word], samples: np.ndarray | None, chunk_start: float,
                       cal: WordTimeCalibration, opts: SnapOptions = SnapOptions()) -> list[Word]:
    """Words with the calibration shift applied and boundaries snapped to the pauses of the
    chunk's audio (samples: the chunk, 16 kHz, starting at chunk_start). Keeps order; the
    caller clamps to the chunk and makes times non-decreasing."""
    times = [[w.start - chunk_start + cal.start, w.end - chunk_start + cal.end] for w in words]
    for t in times:
        t[1] = max(t[0], t[1])
    if samples is not None and len(samples):
        snap_to_silences(times, silences(samples, opts), opts.max_snap)
    return [Word(w.word, chunk_start + s, chunk_start + e, w.probability, w.speaker)
            for w, (s, e) in zip(words, times)]
