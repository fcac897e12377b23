"""Summary figures of a transcript: duration, speakers, talk time and speaking rate.

Talk time is the union of a speaker's spans (diarization turns when present, else the
speaker's segments), so overlapping or duplicated spans are not counted twice. Speaking rate
is words per minute of that talk time, which is what "fast talker" means to a listener.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..types import Transcript
from .layout import SPEECH_LANE, Lane, lanes, merge_intervals, report_duration, segment_speaker


@dataclass(frozen=True)
class SpeakerStats:
    speaker: str
    color: str
    talk_time: float  # seconds
    share: float  # fraction of all speakers' talk time, 0..1
    words: int
    wpm: float | None  # words per minute of talk time; None when the speaker never talks


@dataclass(frozen=True)
class ReportSummary:
    duration: float  # seconds of recording
    speech_time: float  # seconds in which anybody talks
    num_speakers: int  # 0 when the transcript has no speaker labels
    words: int
    wpm: float | None  # words per minute of speech
    wpm_recording: float | None  # words per minute of recording
    speakers: tuple[SpeakerStats, ...]


def _seg_words(tr: Transcript) -> list[tuple[str | None, int]]:
    """(speaker, word count) pieces: word speakers when words carry them, else the segment's."""
    out: list[tuple[str | None, int]] = []
    for seg in tr.segments:
        if not seg.text.strip():
            continue
        spk = segment_speaker(seg, tr.turns)
        if seg.words:
            out.extend((w.speaker or spk, 1) for w in seg.words if w.word.strip())
        else:
            out.append((spk, len(seg.text.split())))
    return out


def _per_minute(words: int, seconds: float) -> float | None:
    return words / (seconds / 60.0) if seconds > 0 else None


def summarize(tr: Transcript, tr_lanes: list[Lane] | None = None) -> ReportSummary:
    tr_lanes = lanes(tr) if tr_lanes is None else tr_lanes
    pieces = _seg_words(tr)
    total_words = sum(n for _, n in pieces)
    speechless = len(tr_lanes) == 1 and tr_lanes[0].speaker == SPEECH_LANE and not any(
        spk for spk, _ in pieces)
    talk = {lane.speaker: sum(b - a for a, b in lane.blocks) for lane in tr_lanes}
    all_talk = sum(talk.values())
    words: dict[str, int] = {lane.speaker: 0 for lane in tr_lanes}
    for spk, n in pieces:
        key = SPEECH_LANE if speechless else spk
        if key in words:
            words[key] += n
    speakers = tuple(
        SpeakerStats(lane.speaker, lane.color, round(talk[lane.speaker], 3),
                     talk[lane.speaker] / all_talk if all_talk > 0 else 0.0,
                     words[lane.speaker], _per_minute(words[lane.speaker], talk[lane.speaker]))
        for lane in tr_lanes)
    speech_time = sum(b - a for a, b in merge_intervals([x for ln in tr_lanes for x in ln.blocks]))
    duration = report_duration(tr)
    return ReportSummary(
        duration=duration,
        speech_time=round(speech_time, 3),
        num_speakers=0 if speechless else len(tr_lanes),
        words=total_words,
        wpm=_per_minute(total_words, speech_time),
        wpm_recording=_per_minute(total_words, duration),
        speakers=speakers,
    )
