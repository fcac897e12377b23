"""Give every word of a transcript a speaker, and split segments where the speaker changes.

A word takes the speaker whose turns overlap it the most; a word in a gap between turns (or
a zero-length word) takes the nearest turn's speaker. Segments whose words change speaker are
cut at each change, so a segment always has one speaker.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
from pyannote.core import Annotation

from ..types import Segment, SpeakerTurn, Transcript, Word, round_time


def annotation_to_turns(annotation: Annotation) -> list[SpeakerTurn]:
    """Turns in time order (ties by speaker), times rounded to the millisecond."""
    turns = [SpeakerTurn(round_time(s.start), round_time(s.end), str(label))
             for s, _, label in annotation.itertracks(yield_label=True)]
    return sorted(turns, key=lambda t: (t.start, t.end, t.speaker))


def speakers_in_order(turns: list[SpeakerTurn]) -> list[str]:
    """Speaker ids in order of first appearance."""
    seen: dict[str, None] = {}
    for t in sorted(turns, key=lambda t: (t.start, t.speaker)):
        seen.setdefault(t.speaker, None)
    return list(seen)


class _TurnIndex:
    """Finds the turns overlapping a time span, and the nearest turn, in O(log n) + hits."""

    def __init__(self, turns: list[SpeakerTurn]):
        self.turns = sorted(turns, key=lambda t: (t.start, t.end))
        self.starts = [t.start for t in self.turns]
        ends = np.array([t.end for t in self.turns], np.float64)
        self.max_end = np.maximum.accumulate(ends).tolist() if len(ends) else []
        self.by_end = sorted(range(len(self.turns)), key=lambda i: self.turns[i].end)
        self.ends_sorted = [self.turns[i].end for i in self.by_end]

    def speaker(self, start: float, end: float) -> str | None:
        if not self.turns:
            return None
        hi = bisect.bisect_right(self.starts, end)            # turns starting by `end`
        lo = bisect.bisect_right(self.max_end, start)         # before lo every turn ends <= start
        share: dict[str, float] = {}
        for t in self.turns[lo:hi]:
            ov = min(end, t.end) - max(start, t.start)
            if ov > 0 or (ov == 0 and start == end and t.start <= start <= t.end):
                share[t.speaker] = share.get(t.speaker, 0.0) + max(ov, 0.0)
        if share:
            best = max(share.values())
            return min(spk for spk, v in share.items() if v == best)  # ties: lowest id
        return self._nearest(start, end)

    def _nearest(self, start: float, end: float) -> str:
        mid = (start + end) / 2
        cands = []
        j = bisect.bisect_right(self.ends_sorted, mid) - 1      # last turn ending before mid
        if j >= 0:
            t = self.turns[self.by_end[j]]
            cands.append((start - t.end, 0, t.speaker))
        k = bisect.bisect_left(self.starts, mid)                 # first turn starting after mid
        if k < len(self.turns):
            t = self.turns[k]
            cands.append((t.start - end, 1, t.speaker))
        return min(cands)[2]


def _join(words: list[Word], spaced: bool) -> str:
    if spaced:
        return "".join(w.word for w in words).strip()
    return " ".join(w.word.strip() for w in words if w.word.strip())


def _split(seg: Segment, index: _TurnIndex, spaced: bool) -> list[Segment]:
    if not seg.words:
        return [replace(seg, speaker=index.speaker(seg.start, seg.end))]
    words = [replace(w, speaker=index.speaker(w.start, w.end)) for w in seg.words]
    groups: list[list[Word]] = [[words[0]]]
    for w in words[1:]:
        if w.speaker == groups[-1][-1].speaker:
            groups[-1].append(w)
        else:
            groups.append([w])
    if len(groups) == 1:
        return [replace(seg, words=words, speaker=words[0].speaker)]
    out = []
    for i, g in enumerate(groups):
        start = seg.start if i == 0 else g[0].start
        end = seg.end if i == len(groups) - 1 else g[-1].end
        out.append(replace(seg, start=round_time(start), end=round_time(max(end, start)),
                           text=_join(g, spaced), words=g, speaker=g[0].speaker))
    return out


def attribute_speakers(transcript: Transcript, annotation: Annotation, *,
                       diarizer: Mapping[str, Any] | None = None) -> Transcript:
    """A copy of `transcript` with speakers on words and segments, turns and speaker list.

    `diarizer` (e.g. a backend's describe()) is recorded in provenance["diarization"] with
    the speaker count. An empty annotation gives no speakers and leaves words unlabelled.
    """
    turns = annotation_to_turns(annotation)
    index = _TurnIndex(turns)
    spaced = any(w.word[:1].isspace() for s in transcript.segments for w in s.words)
    segments = [piece for seg in transcript.segments for piece in _split(seg, index, spaced)]
    speakers = speakers_in_order(turns)
    provenance = dict(transcript.provenance)
    provenance["diarization"] = {**dict(diarizer or {}), "num_speakers": len(speakers)}
    return replace(transcript, segments=segments, speakers=speakers, turns=turns,
                   provenance=provenance)
