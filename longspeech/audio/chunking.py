"""Chunk planning: merge speech regions into spans of at most `max_chunk` seconds.

Cuts fall in the silences between regions. A region longer than `max_chunk` is cut evenly
(the VAD has already split long runs at their least speech-like frame, so this is the
fallback for regions from elsewhere). Works in integer milliseconds, so `end - start <=
max_chunk` holds exactly for the returned times.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from ..errors import InvalidOptionError

Span = tuple[float, float]


def _ms(x: float) -> int:
    return int(round(float(x) * 1000))


class ChunkPlanner:
    """Incremental planner: push regions in time order, get finished chunks back.

    Memory is one pending chunk, so a 4-hour recording streams through.
    """

    def __init__(self, max_chunk: float = 30.0, max_gap: float | None = None):
        if not max_chunk >= 0.1:
            raise InvalidOptionError(f"max_chunk must be >= 0.1 s, got {max_chunk}")
        if max_gap is not None and max_gap < 0:
            raise InvalidOptionError(f"max_gap must be >= 0, got {max_gap}")
        self.max_chunk = max_chunk
        self.max_gap = max_gap
        self._max = _ms(max_chunk)
        self._gap = None if max_gap is None else _ms(max_gap)
        self._cur: tuple[int, int] | None = None   # the chunk still growing (ms)
        self._last_start = -math.inf

    @property
    def pending_start(self) -> float | None:
        """Start of the chunk not yet returned (audio before it is no longer needed)."""
        return None if self._cur is None else self._cur[0] / 1000

    def push(self, start: float, end: float) -> list[Span]:
        """Add one speech region; returns the chunks that can no longer grow."""
        s, e = _ms(start), _ms(end)
        if s < 0 or e < s:
            raise ValueError(f"bad speech region ({start}, {end})")
        if s < self._last_start:
            raise ValueError(
                f"speech regions out of order: {start} after {self._last_start / 1000}")
        self._last_start = s
        if e == s:
            return []
        out: list[Span] = []
        if self._cur is not None:
            cs, ce = self._cur
            if e <= ce:                                   # inside the current chunk
                return out
            gap_ok = self._gap is None or s - ce <= self._gap
            if e - cs <= self._max and gap_ok:
                self._cur = (cs, e)
                return out
            if s < ce:                                    # overlaps: cut at the chunk's end
                s = ce
            out.append(self._span(self._cur))
            self._cur = None
        pieces = -(-(e - s) // self._max)               # ceil: even pieces, each <= max
        bounds = [s + (k * (e - s)) // pieces for k in range(pieces + 1)]
        out.extend(self._span(b) for b in zip(bounds[:-2], bounds[1:-1]))
        self._cur = (bounds[-2], bounds[-1])              # the last piece may still merge
        return out

    def finish(self) -> list[Span]:
        """No more regions: returns the last chunk."""
        out = [] if self._cur is None else [self._span(self._cur)]
        self._cur = None
        return out

    @staticmethod
    def _span(c: tuple[int, int]) -> Span:
        return (c[0] / 1000, c[1] / 1000)


def iter_plan(regions: Iterable[Span], *, max_chunk: float = 30.0,
              max_gap: float | None = None) -> Iterator[Span]:
    """Chunks as regions arrive (time order)."""
    planner = ChunkPlanner(max_chunk, max_gap)
    for s, e in regions:
        yield from planner.push(s, e)
    yield from planner.finish()


def plan_chunks(regions: Iterable[Span], *, max_chunk: float = 30.0,
                max_gap: float | None = None) -> list[Span]:
    """Cut and merge speech regions (seconds, time order) into chunks of <= max_chunk.

    Neighbouring regions merge while the merged span stays <= max_chunk (and, if max_gap is
    set, the silence between them is <= max_gap); a region is cut only when it alone is
    longer than max_chunk. Chunks are (start, end) in absolute seconds, increasing.
    """
    return list(iter_plan(regions, max_chunk=max_chunk, max_gap=max_gap))


__all__ = ["ChunkPlanner", "Span", "iter_plan", "plan_chunks"]
