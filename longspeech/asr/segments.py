"""Turn a chunk's timed words into sentence-sized segments with absolute times."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..types import Chunk, Segment, Word, round_time
from .options import AsrOptions
from .word_times import calibration, correct_word_times

_SENTENCE_END = (".", "?", "!", "。", "？", "！")


def words_to_segments(words: Sequence[Word], chunk_index: int, *, max_seconds: float = 12.0,
                      avg_logprob: float | None = None, no_speech_prob: float | None = None,
                      compression_ratio: float | None = None,
                      temperature: float | None = None) -> list[Segment]:
    """Split at sentence ends, and at the longest pause once a segment exceeds max_seconds."""
    segments: list[Segment] = []
    cur: list[Word] = []

    def flush() -> None:
        if not cur:
            return
        text = "".join(w.word for w in cur).strip()
        segments.append(Segment(
            start=round_time(cur[0].start), end=round_time(cur[-1].end), text=text,
            words=list(cur), chunk_index=chunk_index, avg_logprob=avg_logprob,
            no_speech_prob=no_speech_prob, compression_ratio=compression_ratio,
            temperature=temperature))
        cur.clear()

    for w in words:
        cur.append(w)
        if w.word.strip().endswith(_SENTENCE_END):
            flush()
        elif cur[-1].end - cur[0].start > max_seconds and len(cur) > 2:
            # Cut at the longest pause; among equal pauses the latest, so that the segment
            # flushed is as long as allowed (DTW word times are often contiguous).
            gaps = [cur[i + 1].start - cur[i].end for i in range(len(cur) - 1)]
            cut = max(range(len(gaps)), key=lambda i: (round(gaps[i], 2), i)) + 1
            rest = cur[cut:]
            del cur[cut:]
            flush()
            cur.extend(rest)
    flush()
    return segments


def clean_words(words: Sequence[Word], start: float, end: float) -> list[Word]:
    """Clamp word times into [start, end] of their chunk and make them non-decreasing."""
    out: list[Word] = []
    last = start
    for w in words:
        if not w.word.strip():
            continue
        s = min(max(w.start, last), end)
        e = min(max(w.end, s), end)
        out.append(Word(w.word, round_time(s), round_time(e), round(float(w.probability), 4),
                        w.speaker))
        last = e
    return out


def build_segments(chunk: Chunk, words: Sequence[Word], text: str, opts: AsrOptions,
                   avg_logprob: float, no_speech_prob: float, compression_ratio: float,
                   temperature: float, samples: np.ndarray | None = None) -> list[Segment]:
    """A chunk's decode as segments: sentence-split words, or one segment without word times.

    Both engines come through here, so word times get the same correction (word_times.py:
    calibrated shift, snapping to the pauses in `samples`, the chunk's audio) and the same
    clamping into the chunk."""
    meta = dict(avg_logprob=round(avg_logprob, 4), no_speech_prob=round(no_speech_prob, 4),
                compression_ratio=round(compression_ratio, 4), temperature=temperature)
    if opts.word_time_correction and words:
        words = correct_word_times([w for w in words if w.word.strip()], samples, chunk.start,
                                   calibration(opts.model))
    cleaned = clean_words(words, chunk.start, chunk.end)
    if cleaned:
        return words_to_segments(cleaned, chunk.index, max_seconds=opts.max_segment_seconds,
                                 **meta)
    if not text.strip():
        return []
    return [Segment(start=round_time(chunk.start), end=round_time(chunk.end), text=text.strip(),
                    chunk_index=chunk.index, **meta)]
