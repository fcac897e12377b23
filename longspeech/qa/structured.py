"""Answers computed from the transcript's data, for questions about its structure.

How many speakers there are, how long one of them talked, who said a phrase, when something
was said, what was said around a moment: a transcript with times and speakers holds these
answers exactly, so they are computed, not generated, and each comes with the segments it
rests on. Any other question returns None and goes to the LLM.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..diarization.count_confidence import AMBIGUOUS_SIMILARITY, SAME_VOICE
from ..types import Segment, Transcript
from .cascade import clock
from .evidence import Evidence
from .retrieval import best_segment


@dataclass(frozen=True)
class Computed:
    text: str
    evidence: list[Evidence]


def _evidence(segs: list[Segment]) -> list[Evidence]:
    return [Evidence(s.start, s.end, s.speaker, " ".join(s.text.split())) for s in segs]


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s} s ({seconds:.0f} s)"


_NO_SPEAKERS = ("The transcript has no speaker labels; transcribe with --diarize to ask "
                "about speakers.")


def _speakers(tr: Transcript) -> list[str]:
    seen: list[str] = []
    for s in tr.segments:
        if s.speaker and s.speaker not in seen and s.text.strip():
            seen.append(s.speaker)
    return seen


def count_doubt(tr: Transcript) -> str:
    """Why the diarizer's speaker count may be off (its provenance says how sure it is), or
    "" when it is sure or did not say."""
    count = (tr.provenance.get("diarization") or {}).get("speaker_count") or {}
    if count.get("confidence") != "low":
        return ""
    merged, closest = count.get("merged_similarity"), count.get("closest_similarity")
    share = count.get("smallest_share")
    if merged is not None and merged < SAME_VOICE:
        why = (f"two voices as alike as {merged:.2f} (cosine) were counted as one speaker, "
               "so there may be one more")
    elif closest is not None and closest > AMBIGUOUS_SIMILARITY:
        why = f"two of the speakers sound nearly alike ({closest:.2f}), so they may be one"
    elif share is not None:
        why = f"one speaker holds only {share:.0%} of the speech, so it may be a stray"
    else:
        return ""
    return f" The speaker count is uncertain: {why}."


def _count(tr: Transcript, _: re.Match) -> Computed:
    names = _speakers(tr)
    if not names:
        return Computed(_NO_SPEAKERS, [])
    firsts = [next(s for s in tr.segments if s.speaker == n and s.text.strip()) for n in names]
    return Computed(f"{len(names)} ({', '.join(names)}).{count_doubt(tr)}", _evidence(firsts))


def _talk_time(tr: Transcript, m: re.Match) -> Computed | None:
    names = _speakers(tr)
    if not names:
        return Computed(_NO_SPEAKERS, [])
    who = m.group("who").strip().strip("?\"'").lower()
    match = [n for n in names if n.lower() == who or n.lower().replace("_", " ") == who]
    if not match:
        return None
    segs = [s for s in tr.segments if s.speaker == match[0] and s.text.strip()]
    total = sum(s.end - s.start for s in segs)
    longest = sorted(sorted(segs, key=lambda s: s.start - s.end)[:2], key=lambda s: s.start)
    return Computed(f"{match[0]} talked for {_duration(total)} in {len(segs)} segment(s)."
                    f"{count_doubt(tr)}", _evidence(longest))


def _said(tr: Transcript, phrase: str) -> Segment | None:
    segs = [s for s in tr.segments if s.text.strip()]
    i = best_segment(segs, phrase)
    return None if i is None else segs[i]


def _who_said(tr: Transcript, m: re.Match) -> Computed:
    seg = _said(tr, m.group("what"))
    if seg is None:
        return Computed("Nothing in the transcript matches that phrase.", [])
    if not seg.speaker:
        return Computed(_NO_SPEAKERS, _evidence([seg]))
    return Computed(f"{seg.speaker}, at {clock(seg.start)}.", _evidence([seg]))


def _when(tr: Transcript, m: re.Match) -> Computed:
    seg = _said(tr, m.group("what"))
    if seg is None:
        return Computed("Nothing in the transcript matches that.", [])
    who = f" ({seg.speaker})" if seg.speaker else ""
    return Computed(f"At {clock(seg.start)}{who}.", _evidence([seg]))


def _around(tr: Transcript, m: re.Match) -> Computed:
    if m.group("min") is not None:
        t = float(m.group("min")) * 60
    else:
        t = int(m.group("mm")) * 60 + int(m.group("ss"))
        if m.group("hh"):
            t += int(m.group("hh")) * 3600
    segs = [s for s in tr.segments if s.text.strip() and s.end >= t - 15 and s.start <= t + 15]
    if not segs:
        return Computed(f"Nothing was said within 15 s of {clock(t)}.", [])
    text = " ".join(f"[{clock(s.start)}]{(' ' + s.speaker + ':') if s.speaker else ''} "
                    f"{' '.join(s.text.split())}" for s in segs)
    return Computed(text, _evidence(segs))


_I = re.IGNORECASE
_RULES: list[tuple[re.Pattern, Callable[[Transcript, re.Match], Computed | None]]] = [
    (re.compile(r"\bhow many (?:different |distinct |unique )?(?:speakers|people|persons|"
                r"voices|participants)\b", _I), _count),
    (re.compile(r"\bhow (?:long|much time|many (?:seconds|minutes))\b.*?\b(?:did|does|has)\s+"
                r"(?P<who>.+?)\s+(?:talk|speak|spend talking|spend speaking)", _I), _talk_time),
    (re.compile(r"^\s*who (?:said|says|mentioned|mentions|asked|asks|brought up|brings up|"
                r"(?:talked|talks|spoke|speaks) (?:about|of)|discussed|discusses)\s+"
                r"(?P<what>.+?)\??\s*$", _I), _who_said),
    # "when" about the recording's moment (said, mentioned...), not a date in its content
    (re.compile(r"^\s*(?:when|at what (?:time|point|moment))\b(?P<what>.*\b(?:say|said|says|"
                r"mention|mentions|mentioned|talk|talks|talked|discuss|discusses|discussed|"
                r"bring|brings|brought|ask|asks|asked)\b.*?)\??\s*$", _I), _when),
    (re.compile(r"\b(?:around|at|near|in)\s+minute\s+(?P<min>\d+(?:\.\d+)?)|"
                r"\b(?:around|at|near)\s+(?:(?P<hh>\d+):)?(?P<mm>\d{1,2}):(?P<ss>\d\d)\b", _I),
     _around),
]


def computed_answer(tr: Transcript, question: str) -> Computed | None:
    """The answer the transcript's data gives to a structural question, else None."""
    for pattern, rule in _RULES:
        m = pattern.search(question)
        if m:
            got = rule(tr, m)
            if got is not None:
                return got
    return None
