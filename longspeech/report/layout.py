"""What the report shows, computed from a Transcript: speaker lanes, turns of lines, colours.

Kept apart from the HTML so that the figures and groupings can be checked without a browser.
A transcript may carry speakers in three places (diarization turns, segment speakers, word
speakers); this module decides once which one a lane, a line and a count come from.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..types import Segment, SpeakerTurn, Transcript

#: Lane name used when a transcript has no speakers at all.
SPEECH_LANE = "speech"

# Tableau 10: distinguishable, print-safe, the same in the HTML and the PNG chart.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")


@dataclass(frozen=True)
class Line:
    """One non-empty segment as shown in the transcript."""

    index: int  # position in transcript.segments
    start: float
    end: float
    text: str
    speaker: str | None


@dataclass(frozen=True)
class TurnGroup:
    """Consecutive lines of one speaker (or of unknown speakers)."""

    speaker: str | None
    lines: tuple[Line, ...]

    @property
    def start(self) -> float:
        return self.lines[0].start

    @property
    def end(self) -> float:
        return max(line.end for line in self.lines)


@dataclass(frozen=True)
class Lane:
    """A speaker's row on the timeline: when that speaker talks."""

    speaker: str
    blocks: tuple[tuple[float, float], ...]
    color: str


def color_for(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def segment_speaker(seg: Segment, turns: list[SpeakerTurn]) -> str | None:
    """The segment's own speaker, else its words' majority speaker, else the turn that
    overlaps it most."""
    if seg.speaker:
        return seg.speaker
    by_word: Counter[str] = Counter()
    for w in seg.words:
        if w.speaker:
            by_word[w.speaker] += max(w.end - w.start, 1e-3)
    if by_word:
        return by_word.most_common(1)[0][0]
    best, best_overlap = None, 0.0
    for t in turns:
        ov = _overlap(seg.start, seg.end, t.start, t.end)
        if ov > best_overlap:
            best, best_overlap = t.speaker, ov
    return best


def lines(tr: Transcript) -> list[Line]:
    """Every segment with text, in transcript order, with its resolved speaker."""
    return [Line(i, s.start, s.end, " ".join(s.text.split()), segment_speaker(s, tr.turns))
            for i, s in enumerate(tr.segments) if s.text.strip()]


def group_turns(tr_lines: list[Line]) -> list[TurnGroup]:
    """Group consecutive lines of the same speaker into one turn."""
    groups: list[TurnGroup] = []
    current: list[Line] = []
    for line in tr_lines:
        if current and line.speaker != current[0].speaker:
            groups.append(TurnGroup(current[0].speaker, tuple(current)))
            current = []
        current.append(line)
    if current:
        groups.append(TurnGroup(current[0].speaker, tuple(current)))
    return groups


def speaker_order(tr: Transcript, tr_lines: list[Line] | None = None) -> list[str]:
    """Declared speakers first (their order), then any other speaker in order of appearance."""
    seen: dict[str, None] = dict.fromkeys(s for s in tr.speakers if s)
    for t in sorted(tr.turns, key=lambda t: (t.start, t.end)):
        seen.setdefault(t.speaker, None)
    for line in tr_lines if tr_lines is not None else lines(tr):
        if line.speaker:
            seen.setdefault(line.speaker, None)
    return list(seen)


def merge_intervals(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of intervals, so overlapping or repeated spans count once."""
    out: list[tuple[float, float]] = []
    for a, b in sorted((a, b) for a, b in spans if b > a):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def lanes(tr: Transcript, tr_lines: list[Line] | None = None) -> list[Lane]:
    """One lane per speaker from diarization turns, else from segment speakers; else one
    lane named "speech" holding every segment."""
    tr_lines = lines(tr) if tr_lines is None else tr_lines
    order = speaker_order(tr, tr_lines)
    spans: dict[str, list[tuple[float, float]]] = {s: [] for s in order}
    if tr.turns:
        for t in tr.turns:
            spans[t.speaker].append((t.start, t.end))
    else:
        for line in tr_lines:
            if line.speaker:
                spans[line.speaker].append((line.start, line.end))
    if not order:
        spans = {SPEECH_LANE: [(line.start, line.end) for line in tr_lines]}
        order = [SPEECH_LANE]
    return [Lane(s, tuple(merge_intervals(spans[s])), color_for(i)) for i, s in enumerate(order)]


def report_duration(tr: Transcript) -> float:
    """The recording's duration, or the last time anything happens when the recording has none."""
    ends = [tr.recording.duration] + [s.end for s in tr.segments] + [t.end for t in tr.turns]
    return max(ends)
